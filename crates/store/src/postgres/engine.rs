//! [`EngineStore`] on PostgreSQL: the provisioning engine's job states and leases, shadows, exported memberships,
//! cycles, logs and plans (tables `engine_*` of migration `0001_engine.sql`). Shadows and memberships are in
//! [`shadows`], logs in [`logs`]; this module holds jobs, leases, cycles, plans and the batch of
//! [`EngineStore::record`].
//!
//! Every method runs on one pooled connection; a write that changes more than one row runs in one transaction, so
//! a `record` batch (and a job state with its audit entries, [`EngineStore::put_job_audited`], into the directory's
//! `audit_log`) is applied in full or not at all (dropping an unfinished transaction rolls it back). The rules
//! of the contract are decided by single statements: a lease is taken by an upsert whose `WHERE` admits only a
//! free, expired or own lease (the number of rows it changed is the answer), and a target id is claimed by a
//! statement that writes only when no other shadow holds it (see [`shadows::put`]), with the unique constraint
//! behind it for writers racing in other transactions.
//!
//! Errors: a broken rule is [`Failure::Conflict`] and comes out as [`StateError::Conflict`] with its message;
//! everything else is [`StateError::Backend`].

mod logs;
mod shadows;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use roster_directory::ObjectId;
use roster_directory::audit::AuditEntry;
use roster_engine::dry_run::Plan;
use roster_engine::log::{LogEntry, ObjectKind};
use roster_engine::state::{
    Cycle, EngineStore, JobState, Lease, LogQuery, Record, Shadow, ShadowRef, ShadowState, StateError,
};
use tokio_postgres::Row;
use tokio_postgres::types::Json;

use crate::audit_rows::AuditRow;
use crate::corrupt::parse_id;
use crate::engine_rows::{kind_name, origin_name, state_name};
use crate::engine_rows::{parse_kind, parse_origin, parse_state};

use super::{Failure, PgStore, sql_limit, to_millis};

#[async_trait]
impl EngineStore for PgStore {
    async fn job(&self, application: &str) -> Result<JobState, StateError> {
        let work = async {
            let client = self.client().await?;
            let statement = client.prepare_cached("SELECT state FROM engine_jobs WHERE application = $1").await?;
            let Some(row) = client.query_opt(&statement, &[&application]).await? else {
                return Ok(JobState::default());
            };
            // A row that only holds a lease: the job never ran.
            let state: Option<Json<JobState>> = json_column(&row, 0, "the job state")?;
            Ok(state.map(|Json(state)| state).unwrap_or_default())
        };
        work.await.map_err(state_error)
    }

    async fn put_job(&self, application: &str, state: &JobState) -> Result<(), StateError> {
        let work = async {
            let client = self.client().await?;
            write_job(&client, application, state).await
        };
        work.await.map_err(state_error)
    }

    async fn put_job_audited(
        &self,
        application: &str,
        state: &JobState,
        audit: &[AuditEntry],
    ) -> Result<(), StateError> {
        let rows = AuditRow::all(audit).map_err(|error| StateError::Backend(error.to_string()))?;
        let work = async {
            let mut client = self.client().await?;
            let transaction = client.transaction().await?;
            write_job(&transaction, application, state).await?;
            super::directory::audit::append(&transaction, &rows).await?;
            transaction.commit().await?;
            Ok(())
        };
        work.await.map_err(state_error)
    }

    async fn lease(
        &self,
        application: &str,
        owner: &str,
        now: time::OffsetDateTime,
        until: time::OffsetDateTime,
    ) -> Result<bool, StateError> {
        let work = async {
            let (now, until) = (to_millis(now)?, to_millis(until)?);
            let client = self.client().await?;
            // One statement decides and takes: the update happens only when the lease is free, expired or already
            // this owner's, and the number of changed rows says which it was. Two nodes asking at once are
            // serialised by the row lock the upsert takes; the second sees the first's lease.
            let statement = client
                .prepare_cached(
                    "INSERT INTO engine_jobs (application, lease_owner, lease_until) VALUES ($1, $2, $3) \
                     ON CONFLICT (application) DO UPDATE \
                     SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until \
                     WHERE engine_jobs.lease_owner IS NULL OR engine_jobs.lease_owner = excluded.lease_owner \
                     OR engine_jobs.lease_until <= $4",
                )
                .await?;
            let changed = client.execute(&statement, &[&application, &owner, &until, &now]).await?;
            Ok(changed == 1)
        };
        work.await.map_err(state_error)
    }

    async fn release(&self, application: &str, owner: &str) -> Result<(), StateError> {
        let work = async {
            let client = self.client().await?;
            let statement = client
                .prepare_cached(
                    "UPDATE engine_jobs SET lease_owner = NULL, lease_until = NULL \
                     WHERE application = $1 AND lease_owner = $2",
                )
                .await?;
            client.execute(&statement, &[&application, &owner]).await?;
            Ok(())
        };
        work.await.map_err(state_error)
    }

    async fn lease_holder(&self, application: &str) -> Result<Option<Lease>, StateError> {
        let work = async {
            let client = self.client().await?;
            let statement = client
                .prepare_cached("SELECT lease_owner, lease_until FROM engine_jobs WHERE application = $1")
                .await?;
            let row = client.query_opt(&statement, &[&application]).await?;
            let Some(row) = row else { return Ok(None) };
            let (owner, until): (Option<String>, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
            match (owner, until) {
                (Some(owner), Some(until)) => Ok(Some(Lease { owner, until: super::from_millis(until)? })),
                _ => Ok(None),
            }
        };
        work.await.map_err(state_error)
    }

    async fn shadows(
        &self,
        application: &str,
        kind: ObjectKind,
        source_ids: &[ObjectId],
    ) -> Result<Vec<Shadow>, StateError> {
        if source_ids.is_empty() {
            return Ok(Vec::new());
        }
        let work = async {
            let client = self.client().await?;
            shadows::by_source_ids(&client, application, kind, source_ids).await
        };
        work.await.map_err(state_error)
    }

    async fn shadow_refs(
        &self,
        application: &str,
        kind: ObjectKind,
        source_ids: &[ObjectId],
    ) -> Result<Vec<ShadowRef>, StateError> {
        if source_ids.is_empty() {
            return Ok(Vec::new());
        }
        let work = async {
            let client = self.client().await?;
            shadows::refs_by_source_ids(&client, application, kind, source_ids).await
        };
        work.await.map_err(state_error)
    }

    async fn shadows_after(
        &self,
        application: &str,
        kind: ObjectKind,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> Result<Vec<Shadow>, StateError> {
        let work = async {
            let client = self.client().await?;
            shadows::after(&client, application, kind, after, limit).await
        };
        work.await.map_err(state_error)
    }

    async fn shadow_counts(&self, application: &str) -> Result<Vec<(ObjectKind, ShadowState, u64)>, StateError> {
        let work = async {
            let client = self.client().await?;
            shadows::counts(&client, application).await
        };
        work.await.map_err(state_error)
    }

    async fn members(&self, application: &str, group: &ObjectId) -> Result<Vec<ObjectId>, StateError> {
        let work = async {
            let client = self.client().await?;
            shadows::members(&client, application, group).await
        };
        work.await.map_err(state_error)
    }

    async fn record(&self, application: &str, batch: Vec<Record>) -> Result<(), StateError> {
        if batch.is_empty() {
            return Ok(());
        }
        // A log entry of another application is refused before anything is written.
        for record in &batch {
            if let Record::Log(entry) = record {
                logs::check_application(application, entry).map_err(state_error)?;
            }
        }
        let work = async {
            let mut client = self.client().await?;
            let transaction = client.transaction().await?;
            for record in &batch {
                apply(&transaction, application, record).await?;
            }
            transaction.commit().await?;
            Ok(())
        };
        work.await.map_err(state_error)
    }

    async fn put_cycle(&self, application: &str, cycle: &Cycle) -> Result<(), StateError> {
        let work = async {
            let began = to_millis(cycle.began)?;
            let client = self.client().await?;
            let statement = client
                .prepare_cached(
                    "INSERT INTO engine_cycles (application, id, began, body) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (application, id) DO UPDATE SET began = excluded.began, body = excluded.body",
                )
                .await?;
            client.execute(&statement, &[&application, &cycle.id, &began, &Json(cycle)]).await?;
            Ok(())
        };
        work.await.map_err(state_error)
    }

    async fn cycles(&self, application: &str, limit: usize) -> Result<Vec<Cycle>, StateError> {
        let work = async {
            let client = self.client().await?;
            let statement = client
                .prepare_cached(
                    "SELECT body FROM engine_cycles WHERE application = $1 ORDER BY began DESC, id DESC LIMIT $2",
                )
                .await?;
            let rows = client.query(&statement, &[&application, &sql_limit(limit)]).await?;
            rows.iter()
                .map(|row| json_column(row, 0, "a cycle").map(|Json(cycle): Json<Cycle>| cycle))
                .collect::<Result<Vec<_>, Failure>>()
        };
        work.await.map_err(state_error)
    }

    async fn logs(&self, application: &str, query: &LogQuery) -> Result<Vec<LogEntry>, StateError> {
        let work = async {
            let client = self.client().await?;
            logs::query(&client, application, query).await
        };
        work.await.map_err(state_error)
    }

    async fn forget_shadows(&self, application: &str) -> Result<(), StateError> {
        let work = async {
            let mut client = self.client().await?;
            let transaction = client.transaction().await?;
            shadows::forget_all(&transaction, application).await?;
            transaction.commit().await?;
            Ok(())
        };
        work.await.map_err(state_error)
    }

    async fn shadow_for_target(
        &self,
        application: &str,
        kind: ObjectKind,
        target_id: &str,
    ) -> Result<Option<ShadowRef>, StateError> {
        let work = async {
            let client = self.client().await?;
            shadows::by_target(&client, application, kind, target_id).await
        };
        work.await.map_err(state_error)
    }

    async fn put_plan(&self, application: &str, plan: &Plan) -> Result<(), StateError> {
        let work = async {
            let created = to_millis(plan.created)?;
            let client = self.client().await?;
            let statement = client
                .prepare_cached(
                    "INSERT INTO engine_plans (application, id, created, body) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (application, id) DO UPDATE SET body = excluded.body",
                )
                .await?;
            client.execute(&statement, &[&application, &plan.id, &created, &Json(plan)]).await?;
            Ok(())
        };
        work.await.map_err(state_error)
    }

    async fn plan(&self, application: &str, id: &str) -> Result<Option<Plan>, StateError> {
        let work = async {
            let client = self.client().await?;
            let statement =
                client.prepare_cached("SELECT body FROM engine_plans WHERE application = $1 AND id = $2").await?;
            let row = client.query_opt(&statement, &[&application, &id]).await?;
            row.map(|row| json_column(&row, 0, "a plan").map(|Json(plan): Json<Plan>| plan)).transpose()
        };
        work.await.map_err(state_error)
    }

    async fn plan_ids(&self, application: &str, limit: usize) -> Result<Vec<String>, StateError> {
        let work = async {
            let client = self.client().await?;
            let statement = client
                .prepare_cached(
                    "SELECT id FROM engine_plans WHERE application = $1 ORDER BY created DESC, id DESC LIMIT $2",
                )
                .await?;
            let rows = client.query(&statement, &[&application, &sql_limit(limit)]).await?;
            rows.iter().map(|row| row.try_get::<_, String>(0).map_err(Failure::from)).collect::<Result<Vec<_>, _>>()
        };
        work.await.map_err(state_error)
    }
}

/// Replaces an application's job state (keeping its lease).
async fn write_job(client: &impl GenericClient, application: &str, state: &JobState) -> Result<(), Failure> {
    let statement = client
        .prepare_cached(
            "INSERT INTO engine_jobs (application, state) VALUES ($1, $2) \
             ON CONFLICT (application) DO UPDATE SET state = excluded.state",
        )
        .await?;
    client.execute(&statement, &[&application, &Json(state)]).await?;
    Ok(())
}

/// Applies one record inside the batch's transaction.
async fn apply(
    transaction: &deadpool_postgres::Transaction<'_>,
    application: &str,
    record: &Record,
) -> Result<(), Failure> {
    match record {
        Record::PutShadow(shadow) => shadows::put(transaction, application, shadow).await,
        Record::DeleteShadow { kind, source_id } => shadows::delete(transaction, application, *kind, source_id).await,
        Record::Members { group, added, removed } => {
            shadows::change_members(transaction, application, group, added, removed).await
        }
        Record::Log(entry) => logs::append(transaction, application, entry).await,
    }
}

/// The port's error for a failure (see the module documentation).
fn state_error(failure: Failure) -> StateError {
    match failure {
        Failure::Conflict(message) => StateError::Conflict(message),
        other => StateError::Backend(other.to_string()),
    }
}

/// The value of column `index` (a `Json<T>` for a JSON column, decoded into the engine's type).
fn json_column<'row, T: tokio_postgres::types::FromSql<'row>>(
    row: &'row Row,
    index: usize,
    what: &str,
) -> Result<T, Failure> {
    row.try_get(index).map_err(|error| Failure::corrupt(format!("{what}: {error}")))
}

/// The text of column `index`, borrowed from the row.
fn text(row: &Row, index: usize) -> Result<&str, Failure> {
    row.try_get(index).map_err(|error| Failure::corrupt(format!("column {index}: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_stay_conflicts_and_the_rest_are_backend_errors() {
        assert!(matches!(state_error(Failure::Conflict("taken".into())), StateError::Conflict(m) if m == "taken"));
        assert!(matches!(state_error(Failure::Corrupt("bad".into())), StateError::Backend(m) if m == "bad"));
    }
}

//! [`EngineStore`] on SQLite: the provisioning engine's job states and leases, shadows, exported memberships,
//! cycles and logs (tables `engine_*` of migration `0004_engine.sql`). Shadows and memberships are in [`shadows`],
//! logs in [`logs`]; this module holds jobs, leases, cycles and the batch of [`EngineStore::record`].
//!
//! Every write is one job of the writer thread, so one savepoint: a `record` batch is applied in full or not at
//! all, and so is a job state with its audit entries ([`EngineStore::put_job_audited`], into the directory's
//! `audit_log`). Its values are encoded (JSON, names, milliseconds) on the caller's task before it is queued, so
//! that the writer thread, which every write of the process waits on, only binds values and steps cached
//! statements.
//!
//! Errors: the writer and the reader pool answer in [`StoreError`]. A broken rule of the contract (a target id
//! already shadowed) is raised inside the write as [`StoreError::Rejected`] carrying a `uniqueness` SCIM error, so
//! that the writer rolls the job back, and comes out of [`state_error`] as [`StateError::Conflict`] with its
//! message; everything else is [`StateError::Backend`].

mod logs;
mod shadows;

use async_trait::async_trait;
use roster_directory::ObjectId;
use roster_directory::audit::AuditEntry;
use roster_engine::dry_run::Plan;
use roster_engine::log::{LogEntry, ObjectKind};
use roster_engine::state::{
    Cycle, EngineStore, JobState, Lease, LogQuery, Record, Shadow, ShadowRef, ShadowState, StateError,
};
use roster_provider::port::StoreError;
use roster_scim_proto::ScimError;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::audit_rows::AuditRow;
use crate::corrupt::parse_id;
use crate::engine_rows::{kind_name, origin_name, state_name};
use crate::engine_rows::{parse_kind, parse_origin, parse_state};

use super::{Failure, SqliteStore, to_millis};

#[async_trait]
impl EngineStore for SqliteStore {
    async fn job(&self, application: &str) -> Result<JobState, StateError> {
        let application = application.to_owned();
        self.point_read(move |connection| {
            let state = connection
                .prepare_cached("SELECT state FROM engine_jobs WHERE application = ?1")?
                .query_row([&application], |row| row.get::<_, Option<String>>(0))
                .optional()?
                .flatten();
            match state {
                // No row, or a row that only holds a lease: the job never ran.
                None => Ok(JobState::default()),
                Some(json) => serde_json::from_str(&json)
                    .map_err(|error| Failure::corrupt(format!("the job state of {application:?}: {error}"))),
            }
        })
        .await
        .map_err(state_error)
    }

    async fn put_job(&self, application: &str, state: &JobState) -> Result<(), StateError> {
        self.put_job_audited(application, state, &[]).await
    }

    async fn put_job_audited(
        &self,
        application: &str,
        state: &JobState,
        audit: &[AuditEntry],
    ) -> Result<(), StateError> {
        let application = application.to_owned();
        let state = to_json(state, "the job state")?;
        let rows = AuditRow::all(audit).map_err(|error| StateError::Backend(error.to_string()))?;
        self.write(move |connection| {
            connection
                .prepare_cached(
                    "INSERT INTO engine_jobs (application, state) VALUES (?1, ?2) \
                     ON CONFLICT (application) DO UPDATE SET state = excluded.state",
                )?
                .execute(params![application, state])?;
            super::directory::audit::append(connection, &rows)
        })
        .await
        .map_err(state_error)
    }

    async fn lease(
        &self,
        application: &str,
        owner: &str,
        now: time::OffsetDateTime,
        until: time::OffsetDateTime,
    ) -> Result<bool, StateError> {
        let (application, owner) = (application.to_owned(), owner.to_owned());
        let (now, until) = (millis(now)?, millis(until)?);
        self.write(move |connection| {
            // One statement decides and takes: the update happens only when the lease is free, expired or already
            // this owner's, and the number of changed rows says which it was.
            let changed = connection
                .prepare_cached(
                    "INSERT INTO engine_jobs (application, lease_owner, lease_until) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (application) DO UPDATE \
                     SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until \
                     WHERE lease_owner IS NULL OR lease_owner = excluded.lease_owner OR lease_until <= ?4",
                )?
                .execute(params![application, owner, until, now])?;
            Ok(changed == 1)
        })
        .await
        .map_err(state_error)
    }

    async fn release(&self, application: &str, owner: &str) -> Result<(), StateError> {
        let (application, owner) = (application.to_owned(), owner.to_owned());
        self.write(move |connection| {
            connection
                .prepare_cached(
                    "UPDATE engine_jobs SET lease_owner = NULL, lease_until = NULL \
                     WHERE application = ?1 AND lease_owner = ?2",
                )?
                .execute(params![application, owner])?;
            Ok(())
        })
        .await
        .map_err(state_error)
    }

    async fn lease_holder(&self, application: &str) -> Result<Option<Lease>, StateError> {
        let application = application.to_owned();
        self.read(move |connection| {
            let row: Option<(Option<String>, Option<i64>)> = connection
                .prepare_cached("SELECT lease_owner, lease_until FROM engine_jobs WHERE application = ?1")?
                .query_row([application], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?;
            match row {
                Some((Some(owner), Some(until))) => Ok(Some(Lease { owner, until: super::from_millis(until)? })),
                _ => Ok(None),
            }
        })
        .await
        .map_err(state_error)
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
        let application = application.to_owned();
        let ids = to_json(&source_ids.iter().map(ObjectId::as_str).collect::<Vec<_>>(), "the source ids")?;
        let work = move |connection: &mut Connection| shadows::by_source_ids(connection, &application, kind, &ids);
        // A few primary-key lookups are a point read; a thousand are not.
        let answer =
            if source_ids.len() <= POINT_READ_IDS { self.point_read(work).await } else { self.read(work).await };
        answer.map_err(state_error)
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
        let application = application.to_owned();
        let ids = to_json(&source_ids.iter().map(ObjectId::as_str).collect::<Vec<_>>(), "the source ids")?;
        let work = move |connection: &mut Connection| shadows::refs_by_source_ids(connection, &application, kind, &ids);
        let answer =
            if source_ids.len() <= POINT_READ_IDS { self.point_read(work).await } else { self.read(work).await };
        answer.map_err(state_error)
    }

    async fn shadows_after(
        &self,
        application: &str,
        kind: ObjectKind,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> Result<Vec<Shadow>, StateError> {
        let application = application.to_owned();
        let after = after.map(ObjectId::to_string);
        self.read(move |connection| shadows::after(connection, &application, kind, after.as_deref(), limit))
            .await
            .map_err(state_error)
    }

    async fn shadow_counts(&self, application: &str) -> Result<Vec<(ObjectKind, ShadowState, u64)>, StateError> {
        let application = application.to_owned();
        self.read(move |connection| shadows::counts(connection, &application)).await.map_err(state_error)
    }

    async fn shadow_for_target(
        &self,
        application: &str,
        kind: ObjectKind,
        target_id: &str,
    ) -> Result<Option<ShadowRef>, StateError> {
        let (application, target_id) = (application.to_owned(), target_id.to_owned());
        self.point_read(move |connection| shadows::by_target(connection, &application, kind, &target_id))
            .await
            .map_err(state_error)
    }

    async fn put_plan(&self, application: &str, plan: &Plan) -> Result<(), StateError> {
        let (application, id, created) = (application.to_owned(), plan.id.clone(), millis(plan.created)?);
        let body = to_json(plan, "the plan")?;
        self.write(move |connection| {
            connection
                .prepare_cached(
                    "INSERT INTO engine_plans (application, id, created, body) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (application, id) DO UPDATE SET body = excluded.body",
                )?
                .execute(params![application, id, created, body])?;
            Ok(())
        })
        .await
        .map_err(state_error)
    }

    async fn plan(&self, application: &str, id: &str) -> Result<Option<Plan>, StateError> {
        let (application, id) = (application.to_owned(), id.to_owned());
        self.read(move |connection| {
            let body = connection
                .prepare_cached("SELECT body FROM engine_plans WHERE application = ?1 AND id = ?2")?
                .query_row(params![application, id], |row| row.get::<_, String>(0))
                .optional()?;
            body.map(|json| {
                serde_json::from_str(&json).map_err(|error| Failure::corrupt(format!("plan {id:?}: {error}")))
            })
            .transpose()
        })
        .await
        .map_err(state_error)
    }

    async fn plan_ids(&self, application: &str, limit: usize) -> Result<Vec<String>, StateError> {
        let application = application.to_owned();
        self.read(move |connection| {
            let mut statement = connection.prepare_cached(
                "SELECT id FROM engine_plans WHERE application = ?1 ORDER BY created DESC, id DESC LIMIT ?2",
            )?;
            let ids = statement
                .query_map(params![application, sql_limit(limit)], |row| row.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ids)
        })
        .await
        .map_err(state_error)
    }

    async fn members(&self, application: &str, group: &ObjectId) -> Result<Vec<ObjectId>, StateError> {
        let (application, group) = (application.to_owned(), group.clone());
        self.read(move |connection| shadows::members(connection, &application, &group)).await.map_err(state_error)
    }

    async fn record(&self, application: &str, batch: Vec<Record>) -> Result<(), StateError> {
        if batch.is_empty() {
            return Ok(());
        }
        let batch = batch.into_iter().map(|record| Encoded::new(application, record)).collect::<Result<Vec<_>, _>>()?;
        let application = application.to_owned();
        self.write(move |connection| {
            for record in &batch {
                record.apply(connection, &application)?;
            }
            Ok(())
        })
        .await
        .map_err(state_error)
    }

    async fn put_cycle(&self, application: &str, cycle: &Cycle) -> Result<(), StateError> {
        let (application, id) = (application.to_owned(), cycle.id.clone());
        let began = millis(cycle.began)?;
        let body = to_json(cycle, "the cycle")?;
        self.write(move |connection| {
            connection
                .prepare_cached(
                    "INSERT INTO engine_cycles (application, id, began, body) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (application, id) DO UPDATE SET began = excluded.began, body = excluded.body",
                )?
                .execute(params![application, id, began, body])?;
            Ok(())
        })
        .await
        .map_err(state_error)
    }

    async fn cycles(&self, application: &str, limit: usize) -> Result<Vec<Cycle>, StateError> {
        let application = application.to_owned();
        self.read(move |connection| {
            let mut statement = connection.prepare_cached(
                "SELECT body FROM engine_cycles WHERE application = ?1 ORDER BY began DESC, id DESC LIMIT ?2",
            )?;
            let mut rows = statement.query(params![application, sql_limit(limit)])?;
            let mut cycles = Vec::new();
            while let Some(row) = rows.next()? {
                cycles.push(from_json_column(row, 0, "a cycle")?);
            }
            Ok(cycles)
        })
        .await
        .map_err(state_error)
    }

    async fn logs(&self, application: &str, query: &LogQuery) -> Result<Vec<LogEntry>, StateError> {
        let application = application.to_owned();
        let query = logs::Filter::new(query)?;
        self.read(move |connection| logs::query(connection, &application, &query)).await.map_err(state_error)
    }

    async fn forget_shadows(&self, application: &str) -> Result<(), StateError> {
        let application = application.to_owned();
        self.write(move |connection| shadows::forget_all(connection, &application)).await.map_err(state_error)
    }
}

/// Up to this many source ids, [`EngineStore::shadows`] is a point read (see [`SqliteStore::point_read`]).
const POINT_READ_IDS: usize = 16;

/// A record encoded for the writer: everything that costs allocation or formatting is done before it is queued.
enum Encoded {
    PutShadow(shadows::NewShadow),
    DeleteShadow { kind: ObjectKind, source_id: ObjectId },
    Members { group: ObjectId, added: Vec<ObjectId>, removed: Vec<ObjectId> },
    Log(logs::NewEntry),
}

impl Encoded {
    fn new(application: &str, record: Record) -> Result<Encoded, StateError> {
        Ok(match record {
            Record::PutShadow(shadow) => Encoded::PutShadow(shadows::NewShadow::new(shadow)?),
            Record::DeleteShadow { kind, source_id } => Encoded::DeleteShadow { kind, source_id },
            Record::Members { group, added, removed } => Encoded::Members { group, added, removed },
            Record::Log(entry) => Encoded::Log(logs::NewEntry::new(application, *entry)?),
        })
    }

    /// Applies the record inside the write's savepoint.
    fn apply(&self, connection: &Connection, application: &str) -> Result<(), Failure> {
        match self {
            Encoded::PutShadow(shadow) => shadows::put(connection, application, shadow),
            Encoded::DeleteShadow { kind, source_id } => shadows::delete(connection, application, *kind, source_id),
            Encoded::Members { group, added, removed } => {
                shadows::change_members(connection, application, group, added, removed)
            }
            Encoded::Log(entry) => logs::append(connection, application, entry),
        }
    }
}

/// The port's error for a store error (see the module documentation).
fn state_error(error: StoreError) -> StateError {
    match error {
        StoreError::Rejected(refusal) => StateError::Conflict(refusal.detail),
        StoreError::Backend(message) => StateError::Backend(message),
        other => StateError::Backend(other.to_string()),
    }
}

/// A broken rule of the contract, raised inside a write so that the writer rolls the write back.
fn conflict(message: String) -> Failure {
    Failure::Store(StoreError::Rejected(ScimError::uniqueness(message)))
}

/// `value` as JSON text.
fn to_json(value: &impl serde::Serialize, what: &str) -> Result<String, StateError> {
    serde_json::to_string(value).map_err(|error| StateError::Backend(format!("cannot encode {what} as JSON: {error}")))
}

/// Parses the JSON text of column `index` where SQLite holds it, without copying it into a `String` first.
fn from_json_column<T: serde::de::DeserializeOwned>(row: &Row<'_>, index: usize, what: &str) -> Result<T, Failure> {
    let text = row.get_ref(index)?.as_str().map_err(|error| Failure::corrupt(format!("{what}: {error}")))?;
    serde_json::from_str(text).map_err(|error| Failure::corrupt(format!("{what} is not the expected JSON: {error}")))
}

/// The text of column `index`, borrowed from the row.
fn text<'row>(row: &'row Row<'_>, index: usize) -> Result<&'row str, Failure> {
    row.get_ref(index)?.as_str().map_err(|error| Failure::corrupt(format!("column {index}: {error}")))
}

/// Milliseconds since the Unix epoch, as the port's error.
fn millis(at: time::OffsetDateTime) -> Result<i64, StateError> {
    to_millis(at).map_err(|failure| state_error(failure.into_store()))
}

/// A `LIMIT` value: SQLite's integers are signed.
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use rusqlite::params_from_iter;
    use rusqlite::types::Value;

    use super::*;

    /// A fresh store in a temporary directory (kept while the guard lives).
    pub(super) fn store() -> (SqliteStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("roster.db")).unwrap();
        (store, dir)
    }

    /// The plan SQLite picks for a statement, one line per step.
    pub(super) async fn query_plan(store: &SqliteStore, sql: &str, values: Vec<Value>) -> String {
        let sql = format!("EXPLAIN QUERY PLAN {sql}");
        store
            .read(move |connection| {
                let mut statement = connection.prepare(&sql)?;
                let rows = statement.query_map(params_from_iter(values), |row| row.get::<_, String>(3))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?.join("\n"))
            })
            .await
            .unwrap()
    }

    #[test]
    fn contract_refusals_become_conflicts_and_the_rest_backend_errors() {
        let Failure::Store(refusal) = conflict("taken".into()) else { panic!("a store error") };
        assert!(matches!(state_error(refusal), StateError::Conflict(message) if message == "taken"));
        assert!(
            matches!(state_error(StoreError::Backend("disk".into())), StateError::Backend(message) if message == "disk")
        );
        assert!(matches!(state_error(StoreError::NotFound), StateError::Backend(_)));
    }
}

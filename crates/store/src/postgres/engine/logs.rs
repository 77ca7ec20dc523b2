//! Provisioning logs (`engine_logs`): appended by [`super::apply`], read newest first with composable filters.

use std::fmt::Write as _;

use deadpool_postgres::GenericClient;
use roster_engine::log::LogEntry;
use roster_engine::state::LogQuery;
use tokio_postgres::types::{Json, ToSql};

use super::json_column;
use crate::engine_rows::LogUpper;
use crate::postgres::{Failure, sql_limit, to_millis};

/// Refuses an entry recorded for another application than its own.
pub(super) fn check_application(application: &str, entry: &LogEntry) -> Result<(), Failure> {
    if entry.application == application {
        return Ok(());
    }
    Err(Failure::Conflict(format!(
        "log entry {:?} names application {:?} but was recorded for application {application:?}",
        entry.change, entry.application
    )))
}

/// Appends an entry: the columns queries filter on, and the whole entry as JSON.
pub(super) async fn append(client: &impl GenericClient, application: &str, entry: &LogEntry) -> Result<(), Failure> {
    let at = to_millis(entry.at)?;
    let statement = client
        .prepare_cached(
            "INSERT INTO engine_logs (application, at, cycle, change_id, kind, source_id, source_name, target_id, \
             action, status, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &application,
                &at,
                &entry.cycle,
                &entry.change,
                &entry.kind.as_str(),
                &entry.source_id,
                &entry.source_name,
                &entry.target_id,
                &entry.action.as_str(),
                &entry.status.as_str(),
                &Json(entry),
            ],
        )
        .await?;
    Ok(())
}

/// A value bound to a filter's statement.
type Value = Box<dyn ToSql + Sync + Send>;

/// The statement and its values for a query: each filter is a conjunct. `since` and `until` compare Unix
/// milliseconds, the stored precision, so an entry in the same millisecond as either bound is included; of `until`
/// and `before`, only the one that bounds more is a condition (see [`LogUpper`]).
///
/// The order is `at` descending, then `change_id` descending (see [`LogQuery`]): without an identity, the indexes
/// `engine_logs_newest (application, at, change_id)` and `engine_logs_cycle_newest (application, cycle, at,
/// change_id)`, read backwards, give it, and `before` is the row comparison `(at, change_id) < ($, $)`, an index
/// condition of either, so that a page however deep reads only its own entries (and those the other filters pass
/// over).
fn sql(application: &str, query: &LogQuery) -> Result<(String, Vec<Value>), Failure> {
    let mut sql = String::from("SELECT body FROM engine_logs WHERE application = $1");
    let mut values: Vec<Value> = vec![Box::new(application.to_owned())];
    let mut bind = |sql: &mut String, condition: &str, value: Value| {
        values.push(value);
        // Writing to a String cannot fail. `$` is the placeholder of the condition's one value.
        let _ = write!(sql, " AND {}", condition.replace('$', &format!("${}", values.len())));
    };
    if let Some(identity) = &query.identity {
        bind(&mut sql, "(source_id = $ OR target_id = $ OR source_name = $)", Box::new(identity.clone()));
    }
    if let Some(cycle) = &query.cycle {
        bind(&mut sql, "cycle = $", Box::new(cycle.clone()));
    }
    if let Some(status) = query.status {
        bind(&mut sql, "status = $", Box::new(status.as_str()));
    }
    if let Some(action) = query.action {
        bind(&mut sql, "action = $", Box::new(action.as_str()));
    }
    if let Some(since) = query.since {
        bind(&mut sql, "at >= $", Box::new(to_millis(since)?));
    }
    let before = query.before.as_ref().map(|(at, change)| to_millis(*at).map(|at| (at, change.clone()))).transpose()?;
    match LogUpper::new(query.until.map(to_millis).transpose()?, before) {
        Some(LogUpper::Until(until)) => bind(&mut sql, "at <= $", Box::new(until)),
        Some(LogUpper::Before(at, change)) => {
            values.push(Box::new(at));
            values.push(Box::new(change));
            let _ = write!(sql, " AND (at, change_id) < (${}, ${})", values.len() - 1, values.len());
        }
        None => {}
    }
    values.push(Box::new(sql_limit(query.limit)));
    let _ = write!(sql, " ORDER BY at DESC, change_id DESC LIMIT ${}", values.len());
    Ok((sql, values))
}

/// The entries the query selects, newest first. The statement is not cached: up to 128 texts for a rare,
/// admin-driven read.
pub(super) async fn query(
    client: &impl GenericClient,
    application: &str,
    query: &LogQuery,
) -> Result<Vec<LogEntry>, Failure> {
    let (sql, values) = sql(application, query)?;
    let values: Vec<&(dyn ToSql + Sync)> = values.iter().map(|value| value.as_ref() as &(dyn ToSql + Sync)).collect();
    let rows = client.query(&sql, &values).await?;
    rows.iter().map(|row| json_column(row, 0, "a log entry").map(|Json(entry): Json<LogEntry>| entry)).collect()
}

#[cfg(test)]
mod tests {
    use roster_engine::log::{Action, Status};
    use time::OffsetDateTime;

    use super::*;

    #[test]
    fn every_filter_is_a_numbered_conjunct() {
        let query = LogQuery {
            cycle: Some("c1".into()),
            status: Some(Status::Failure),
            action: Some(Action::Update),
            identity: Some("alice".into()),
            since: Some(OffsetDateTime::UNIX_EPOCH),
            until: Some(OffsetDateTime::UNIX_EPOCH + time::Duration::DAY),
            before: Some((OffsetDateTime::UNIX_EPOCH, "change".into())),
            limit: 10,
        };
        let (text, values) = sql("app", &query).unwrap();
        assert_eq!(
            text,
            "SELECT body FROM engine_logs WHERE application = $1 AND (source_id = $2 OR target_id = $2 OR \
             source_name = $2) AND cycle = $3 AND status = $4 AND action = $5 AND at >= $6 AND (at, change_id) < \
             ($7, $8) ORDER BY at DESC, change_id DESC LIMIT $9"
        );
        assert_eq!(values.len(), 9);
        // `until` older than the cursor bounds more.
        let query = LogQuery {
            until: Some(OffsetDateTime::UNIX_EPOCH),
            before: Some((OffsetDateTime::UNIX_EPOCH + time::Duration::DAY, "c".into())),
            ..query
        };
        let (text, _) = sql("app", &query).unwrap();
        assert!(text.ends_with(" AND at >= $6 AND at <= $7 ORDER BY at DESC, change_id DESC LIMIT $8"), "{text}");
        let (text, values) = sql("app", &LogQuery::default()).unwrap();
        assert_eq!(
            text,
            "SELECT body FROM engine_logs WHERE application = $1 ORDER BY at DESC, change_id DESC LIMIT $2"
        );
        assert_eq!(values.len(), 2);
    }
}

//! Provisioning logs (`engine_logs`): appended by [`super::Encoded::apply`], read newest first with composable
//! filters.

use std::fmt::Write as _;

use roster_engine::log::LogEntry;
use roster_engine::state::{LogQuery, StateError};
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};

use super::{from_json_column, millis, sql_limit, to_json};
use crate::engine_rows::LogUpper;
use crate::sqlite::Failure;

/// A log entry encoded for the writer: the columns queries filter on, and the whole entry as JSON.
pub(super) struct NewEntry {
    at: i64,
    cycle: String,
    change: String,
    kind: &'static str,
    source_id: String,
    source_name: Option<String>,
    target_id: Option<String>,
    action: &'static str,
    status: &'static str,
    body: String,
}

impl NewEntry {
    /// Encodes an entry recorded for `application`, which must be the entry's own.
    pub(super) fn new(application: &str, entry: LogEntry) -> Result<NewEntry, StateError> {
        if entry.application != application {
            return Err(StateError::Conflict(format!(
                "log entry {:?} names application {:?} but was recorded for application {application:?}",
                entry.change, entry.application
            )));
        }
        let at = millis(entry.at)?;
        let body = to_json(&entry, "a log entry")?;
        let LogEntry { cycle, change, kind, source_id, source_name, target_id, action, status, .. } = entry;
        Ok(NewEntry {
            at,
            cycle,
            change,
            kind: kind.as_str(),
            source_id,
            source_name,
            target_id,
            action: action.as_str(),
            status: status.as_str(),
            body,
        })
    }
}

/// Appends an entry.
pub(super) fn append(connection: &Connection, application: &str, entry: &NewEntry) -> Result<(), Failure> {
    connection
        .prepare_cached(
            "INSERT INTO engine_logs (application, at, cycle, change_id, kind, source_id, source_name, target_id, \
             action, status, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            application,
            entry.at,
            entry.cycle,
            entry.change,
            entry.kind,
            entry.source_id,
            entry.source_name,
            entry.target_id,
            entry.action,
            entry.status,
            entry.body,
        ])?;
    Ok(())
}

/// A [`LogQuery`] in the database's terms.
#[derive(Debug)]
pub(super) struct Filter {
    cycle: Option<String>,
    status: Option<&'static str>,
    action: Option<&'static str>,
    identity: Option<String>,
    /// Unix milliseconds: `since` compares at the stored precision, so an entry in the same millisecond as `since`
    /// but before it is included.
    since: Option<i64>,
    /// `until` and the cursor `before` (Unix milliseconds), whichever bounds more.
    upper: Option<LogUpper>,
    limit: i64,
}

impl Filter {
    pub(super) fn new(query: &LogQuery) -> Result<Filter, StateError> {
        Ok(Filter {
            cycle: query.cycle.clone(),
            status: query.status.map(|status| status.as_str()),
            action: query.action.map(|action| action.as_str()),
            identity: query.identity.clone(),
            since: query.since.map(millis).transpose()?,
            upper: LogUpper::new(
                query.until.map(millis).transpose()?,
                query.before.as_ref().map(|(at, change)| millis(*at).map(|at| (at, change.clone()))).transpose()?,
            ),
            limit: sql_limit(query.limit),
        })
    }

    /// The statement and its values: each filter is a conjunct.
    ///
    /// The order is `at` descending, then `change_id` descending (see [`LogQuery`]). Every index of the table
    /// ends with `(at, change_id)`, and `before` is the row value `(at, change_id) < (?, ?)`, a range of each, so
    /// that a page however deep reads only its own entries (and those the other filters pass over): without an
    /// identity, `engine_logs_newest (application, at, change_id)` or, for a cycle, `engine_logs_cycle_newest
    /// (application, cycle, at, change_id)` gives the order. An identity is three pages, one from the index of
    /// each of its columns, united (an entry can match on two) and sorted: at most three times `limit` rows.
    /// The indexes are named (`INDEXED BY`): without statistics, SQLite would rather walk the application's
    /// range between `since` and `until`, however wide, than a cycle's or an identity's entries.
    fn sql(&self, application: &str) -> (String, Vec<Value>) {
        let mut values = vec![Value::Text(application.to_owned())];
        if let Some(identity) = &self.identity {
            values.push(Value::Text(identity.clone()));
        }
        let mut conditions = String::new();
        let mut bind = |conditions: &mut String, column: &str, operator: &str, value: Value| {
            values.push(value);
            // Writing to a String cannot fail.
            let _ = write!(conditions, " AND {column} {operator} ?{}", values.len());
        };
        if let Some(cycle) = &self.cycle {
            bind(&mut conditions, "cycle", "=", Value::Text(cycle.clone()));
        }
        if let Some(status) = self.status {
            bind(&mut conditions, "status", "=", Value::Text(status.to_owned()));
        }
        if let Some(action) = self.action {
            bind(&mut conditions, "action", "=", Value::Text(action.to_owned()));
        }
        if let Some(since) = self.since {
            bind(&mut conditions, "at", ">=", Value::Integer(since));
        }
        match &self.upper {
            Some(LogUpper::Until(until)) => bind(&mut conditions, "at", "<=", Value::Integer(*until)),
            Some(LogUpper::Before(at, change)) => {
                values.push(Value::Integer(*at));
                values.push(Value::Text(change.clone()));
                let _ = write!(conditions, " AND (at, change_id) < (?{}, ?{})", values.len() - 1, values.len());
            }
            None => {}
        }
        values.push(Value::Integer(self.limit));
        let limit = values.len();
        let order = format!("ORDER BY at DESC, change_id DESC LIMIT ?{limit}");
        let sql = match (&self.identity, &self.cycle) {
            (Some(_), _) => {
                let branch = |column: &str| {
                    format!(
                        "SELECT * FROM (SELECT seq, at, change_id FROM engine_logs INDEXED BY \
                         engine_logs_{column}_newest WHERE application = ?1 AND {column} = ?2{conditions} {order})"
                    )
                };
                format!(
                    "SELECT engine_logs.body FROM ({} UNION {} UNION {}) AS page JOIN engine_logs USING (seq) \
                     ORDER BY page.at DESC, page.change_id DESC LIMIT ?{limit}",
                    branch("source_id"),
                    branch("target_id"),
                    branch("source_name"),
                )
            }
            (None, Some(_)) => format!(
                "SELECT body FROM engine_logs INDEXED BY engine_logs_cycle_newest WHERE application = ?1{conditions} \
                 {order}"
            ),
            // A status is rare or common; either way its own index reads only the entries it selects.
            (None, None) if self.status.is_some() => format!(
                "SELECT body FROM engine_logs INDEXED BY engine_logs_status_newest WHERE application = ?1{conditions} \
                 {order}"
            ),
            (None, None) => format!("SELECT body FROM engine_logs WHERE application = ?1{conditions} {order}"),
        };
        (sql, values)
    }
}

/// The entries the filter selects, newest first.
pub(super) fn query(connection: &Connection, application: &str, filter: &Filter) -> Result<Vec<LogEntry>, Failure> {
    let (sql, values) = filter.sql(application);
    // Not cached: up to 128 statement texts for a rare, admin-driven read would push the hot statements out of the
    // reader's cache, and parsing is nothing next to the read.
    let mut statement = connection.prepare(&sql)?;
    let mut rows = statement.query(params_from_iter(values))?;
    let mut entries = Vec::new();
    while let Some(row) = rows.next()? {
        entries.push(from_json_column(row, 0, "a log entry")?);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use roster_engine::log::{Action, Status};
    use time::OffsetDateTime;

    use super::*;
    use crate::sqlite::engine::tests::{query_plan, store};

    /// Every filter is answered from an index: never a scan of the table, and no sort where an index gives the
    /// order. The cursor is a range of the index, so a deep page does not walk the entries before it.
    #[tokio::test]
    async fn filters_use_the_indexes() {
        let (store, _dir) = store();
        let before = Some((OffsetDateTime::UNIX_EPOCH, "change".to_owned()));
        let filtered = |cycle: Option<&str>, identity: Option<&str>| LogQuery {
            cycle: cycle.map(str::to_owned),
            status: Some(Status::Failure),
            action: Some(Action::Update),
            identity: identity.map(str::to_owned),
            since: Some(OffsetDateTime::UNIX_EPOCH),
            until: Some(OffsetDateTime::UNIX_EPOCH),
            before: before.clone(),
            limit: 10,
        };
        let identity = &[
            "UNION USING TEMP B-TREE",
            "engine_logs_source_id_newest (application=? AND source_id=? AND",
            "engine_logs_target_id_newest (application=? AND target_id=? AND",
            "engine_logs_source_name_newest (application=? AND source_name=? AND",
        ];
        let cases = [
            (
                LogQuery { limit: 10, ..LogQuery::default() },
                &["USING INDEX engine_logs_newest (application=?)"][..],
                true,
            ),
            (
                LogQuery { before: before.clone(), limit: 10, ..LogQuery::default() },
                &["USING INDEX engine_logs_newest (application=? AND (at,change_id)<(?,?))"],
                true,
            ),
            (
                LogQuery { cycle: Some("c1".into()), before: before.clone(), limit: 10, ..LogQuery::default() },
                &["USING INDEX engine_logs_cycle_newest (application=? AND cycle=? AND (at,change_id)<(?,?))"],
                true,
            ),
            // A status, however rare (the dashboard's failures of the last 24 hours), reads only its entries.
            (filtered(None, None), &["USING INDEX engine_logs_status_newest (application=? AND status=? AND"], true),
            (
                LogQuery {
                    status: Some(Status::Failure),
                    since: Some(OffsetDateTime::UNIX_EPOCH),
                    limit: 10,
                    ..LogQuery::default()
                },
                &["USING INDEX engine_logs_status_newest (application=? AND status=? AND at>?)"],
                true,
            ),
            (
                filtered(Some("c1"), None),
                &["USING INDEX engine_logs_cycle_newest (application=? AND cycle=? AND"],
                true,
            ),
            (filtered(Some("c1"), Some("alice")), identity, false),
            (filtered(None, Some("alice")), identity, false),
        ];
        for (query, indexes, ordered_by_index) in cases {
            let (sql, values) = Filter::new(&query).unwrap().sql("app");
            let plan = query_plan(&store, &sql, values).await;
            for index in indexes {
                assert!(plan.contains(index), "{query:?}: {plan}");
            }
            assert!(!plan.contains("SCAN engine_logs"), "{query:?}: {plan}");
            assert_eq!(!plan.contains("TEMP B-TREE"), ordered_by_index, "{query:?}: {plan}");
        }
    }
}

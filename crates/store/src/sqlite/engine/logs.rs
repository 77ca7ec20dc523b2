//! Provisioning logs (`engine_logs`): appended by [`super::Encoded::apply`], read newest first with composable
//! filters.

use std::fmt::Write as _;

use roster_engine::log::LogEntry;
use roster_engine::state::{LogQuery, StateError};
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};

use super::{from_json_column, millis, sql_limit, to_json};
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
            limit: sql_limit(query.limit),
        })
    }

    /// The statement and its values: each filter is a conjunct. An identity pairs each of its three columns with
    /// the application, and then only there: SQLite answers the disjunction as a union of three index ranges,
    /// but given `application = ?1` on its own as well, it prefers walking all of the application's entries.
    fn sql(&self, application: &str) -> (String, Vec<Value>) {
        let mut sql = String::from("SELECT body FROM engine_logs WHERE ");
        let mut values = vec![Value::Text(application.to_owned())];
        match &self.identity {
            Some(identity) => {
                values.push(Value::Text(identity.clone()));
                sql.push_str(
                    "((application = ?1 AND source_id = ?2) OR (application = ?1 AND target_id = ?2) \
                     OR (application = ?1 AND source_name = ?2))",
                );
            }
            None => sql.push_str("application = ?1"),
        }
        let mut bind = |sql: &mut String, column: &str, operator: &str, value: Value| {
            values.push(value);
            // Writing to a String cannot fail.
            let _ = write!(sql, " AND {column} {operator} ?{}", values.len());
        };
        if let Some(cycle) = &self.cycle {
            bind(&mut sql, "cycle", "=", Value::Text(cycle.clone()));
        }
        if let Some(status) = self.status {
            bind(&mut sql, "status", "=", Value::Text(status.to_owned()));
        }
        if let Some(action) = self.action {
            bind(&mut sql, "action", "=", Value::Text(action.to_owned()));
        }
        if let Some(since) = self.since {
            bind(&mut sql, "at", ">=", Value::Integer(since));
        }
        values.push(Value::Integer(self.limit));
        let _ = write!(sql, " ORDER BY seq DESC LIMIT ?{}", values.len());
        (sql, values)
    }
}

/// The entries the filter selects, newest first.
pub(super) fn query(connection: &Connection, application: &str, filter: &Filter) -> Result<Vec<LogEntry>, Failure> {
    let (sql, values) = filter.sql(application);
    // Not cached: up to 32 statement texts for a rare, admin-driven read would push the hot statements out of the
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
    /// order.
    #[tokio::test]
    async fn filters_use_the_indexes() {
        let (store, _dir) = store();
        let query = |cycle: Option<&str>, identity: Option<&str>| LogQuery {
            cycle: cycle.map(str::to_owned),
            status: Some(Status::Failure),
            action: Some(Action::Update),
            identity: identity.map(str::to_owned),
            since: Some(OffsetDateTime::UNIX_EPOCH),
            limit: 10,
        };
        let cases = [
            (query(None, None), &["USING INDEX engine_logs_application"][..], true),
            (query(Some("c1"), None), &["USING INDEX engine_logs_cycle"], true),
            (
                query(Some("c1"), Some("alice")),
                &["MULTI-INDEX OR", "engine_logs_source_id", "engine_logs_target_id", "engine_logs_source_name"],
                false,
            ),
            (
                query(None, Some("alice")),
                &["MULTI-INDEX OR", "engine_logs_source_id", "engine_logs_target_id", "engine_logs_source_name"],
                false,
            ),
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

//! The audit log on SQLite (table `audit_log` of `0006_audit_and_access.sql`): entries appended in the savepoint
//! of the write that made them, read newest first by `(at, id)` through the index on those columns, and pruned by
//! age. The rows and the query's bounds are the backend-neutral [`crate::audit_rows`].

use roster_directory::audit::AuditEntry;
use rusqlite::{Connection, params};

use crate::audit_rows::{AuditRange, AuditRow, parse_entry};
use crate::sqlite::Failure;

/// Appends entries' rows, in the current savepoint (the engine's audited writes use it too).
pub(in crate::sqlite) fn append(connection: &Connection, rows: &[AuditRow]) -> Result<(), Failure> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut statement = connection.prepare_cached(
        "INSERT INTO audit_log (id, at, correlation_id, activity, category, initiator_id, entry) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for row in rows {
        statement.execute(params![
            row.id,
            row.at,
            row.correlation_id,
            row.activity,
            row.category,
            row.initiator_id,
            row.entry
        ])?;
    }
    Ok(())
}

/// Appends the entries a write made (encoding them here, on the writer).
pub(super) fn append_entries(connection: &Connection, entries: Vec<AuditEntry>) -> Result<(), Failure> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows = entries.into_iter().map(AuditRow::from_entry).collect::<Result<Vec<_>, _>>()?;
    append(connection, &rows)
}

/// The entries in the range, newest first.
pub(super) fn query(connection: &Connection, range: &AuditRange) -> Result<Vec<AuditEntry>, Failure> {
    let mut statement = connection.prepare_cached(
        "SELECT id, entry FROM audit_log WHERE at >= ?1 AND (at, id) < (?2, ?3) ORDER BY at DESC, id DESC LIMIT ?4",
    )?;
    let mut rows = statement.query(params![range.from, range.below_at, range.below_id, range.limit])?;
    let mut entries = Vec::new();
    while let Some(row) = rows.next()? {
        let id = row.get_ref(0)?.as_str().map_err(Failure::corrupt)?;
        let text = row.get_ref(1)?.as_str().map_err(|error| Failure::corrupt(format!("audit entry {id}: {error}")))?;
        entries.push(parse_entry(id, text)?);
    }
    Ok(entries)
}

/// Deletes the entries with `at` below `bound`; answers how many.
pub(super) fn prune(connection: &Connection, bound: i64) -> Result<u64, Failure> {
    let deleted = connection.prepare_cached("DELETE FROM audit_log WHERE at < ?1")?.execute([bound])?;
    u64::try_from(deleted).map_err(Failure::corrupt)
}

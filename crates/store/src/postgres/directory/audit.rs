//! The audit log on PostgreSQL (table `audit_log` of `0004_audit_and_access.sql`): entries appended in the
//! transaction of the write that made them, in statements over arrays, read newest first by `(at, id)` through the
//! index on those columns, and pruned by age. The rows and the query's bounds are the backend-neutral
//! [`crate::audit_rows`].

use deadpool_postgres::GenericClient;
use roster_directory::audit::AuditEntry;

use crate::audit_rows::{AuditRange, AuditRow, parse_entry};
use crate::postgres::Failure;

/// How many entries one statement of [`append`] inserts.
const CHUNK: usize = 5_000;

/// Appends entries' rows in the caller's transaction (the engine's audited writes use it too).
pub(in crate::postgres) async fn append(client: &impl GenericClient, rows: &[AuditRow]) -> Result<(), Failure> {
    if rows.is_empty() {
        return Ok(());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO audit_log (id, at, correlation_id, activity, category, initiator_id, entry) \
             SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])",
        )
        .await?;
    for chunk in rows.chunks(CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|row| row.id.as_str()).collect();
        let ats: Vec<i64> = chunk.iter().map(|row| row.at).collect();
        let correlations: Vec<&str> = chunk.iter().map(|row| row.correlation_id.as_str()).collect();
        let activities: Vec<&str> = chunk.iter().map(|row| row.activity.as_str()).collect();
        let categories: Vec<&str> = chunk.iter().map(|row| row.category).collect();
        let initiators: Vec<&str> = chunk.iter().map(|row| row.initiator_id.as_str()).collect();
        let entries: Vec<&str> = chunk.iter().map(|row| row.entry.as_str()).collect();
        client
            .execute(&statement, &[&ids, &ats, &correlations, &activities, &categories, &initiators, &entries])
            .await?;
    }
    Ok(())
}

/// Appends the entries a write made.
pub(super) async fn append_entries(client: &impl GenericClient, entries: Vec<AuditEntry>) -> Result<(), Failure> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows = entries.into_iter().map(AuditRow::from_entry).collect::<Result<Vec<_>, _>>()?;
    append(client, &rows).await
}

/// The entries in the range, newest first.
pub(super) async fn query(client: &impl GenericClient, range: &AuditRange) -> Result<Vec<AuditEntry>, Failure> {
    let statement = client
        .prepare_cached(
            "SELECT id, entry FROM audit_log WHERE at >= $1 AND (at, id) < ($2, $3) \
             ORDER BY at DESC, id DESC LIMIT $4",
        )
        .await?;
    let rows =
        client.query(&statement, &[&range.from, &range.below_at, &range.below_id.as_str(), &range.limit]).await?;
    rows.iter().map(|row| Ok(parse_entry(row.try_get(0)?, row.try_get(1)?)?)).collect()
}

/// Deletes the entries with `at` below `bound`; answers how many.
pub(super) async fn prune(client: &impl GenericClient, bound: i64) -> Result<u64, Failure> {
    let statement = client.prepare_cached("DELETE FROM audit_log WHERE at < $1").await?;
    Ok(client.execute(&statement, &[&bound]).await?)
}

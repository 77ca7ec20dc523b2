//! Reading and pruning the audit log (`roster audit`, `/auditLogs/directoryAudits`).

use roster_directory::audit::AuditEntry;
use roster_directory::port::AuditQuery;
use time::OffsetDateTime;

use crate::Stores;

/// How long audit entries are kept unless `--audit-retention` says otherwise (Entra keeps 30 days).
pub const DEFAULT_RETENTION: time::Duration = time::Duration::days(30);

/// The entries since `since`, newest first, at most `limit` (0: all).
pub async fn entries(stores: &Stores, since: Option<OffsetDateTime>, limit: usize) -> anyhow::Result<Vec<AuditEntry>> {
    let query = AuditQuery { since, limit, ..AuditQuery::default() };
    Ok(stores.directory.audit(&query).await?)
}

/// One page of entries, by a query.
pub async fn page(stores: &Stores, query: &AuditQuery) -> anyhow::Result<Vec<AuditEntry>> {
    Ok(stores.directory.audit(query).await?)
}

/// Deletes the entries older than `retention`; answers how many.
pub async fn prune(stores: &Stores, retention: time::Duration, now: OffsetDateTime) -> anyhow::Result<u64> {
    Ok(stores.directory.prune_audit(now - retention).await?)
}

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

/// Entries read at once by [`search`].
const SEARCH_BATCH: usize = 500;

/// A page of the entries that `keep` selects: newest first, in the window of `query` (`since`, `until`) from its
/// cursor (`before`), read in batches by keyset until `want` entries are kept or `scan_limit` read (so a filter
/// that matches little costs a bounded read). Answers the kept entries and, when the log may hold more, the cursor
/// to go on from (the last kept entry's, or the last read's when the scan stopped at its limit).
pub async fn search(
    stores: &Stores,
    query: &AuditQuery,
    want: usize,
    scan_limit: usize,
    keep: impl Fn(&AuditEntry) -> bool,
) -> anyhow::Result<(Vec<AuditEntry>, Option<(OffsetDateTime, String)>)> {
    let mut before = query.before.clone();
    let (mut kept, mut scanned) = (Vec::new(), 0usize);
    loop {
        let batch_query = AuditQuery { before: before.clone(), limit: SEARCH_BATCH, ..query.clone() };
        let batch = stores.directory.audit(&batch_query).await?;
        let full = batch.len() == SEARCH_BATCH;
        for entry in batch {
            scanned += 1;
            before = Some((entry.activity_date_time, entry.id.clone()));
            if keep(&entry) {
                kept.push(entry);
                if kept.len() == want {
                    return Ok((kept, before));
                }
            }
            if scanned >= scan_limit {
                return Ok((kept, before));
            }
        }
        if !full {
            return Ok((kept, None));
        }
    }
}

/// Deletes the entries older than `retention`; answers how many.
pub async fn prune(stores: &Stores, retention: time::Duration, now: OffsetDateTime) -> anyhow::Result<u64> {
    Ok(stores.directory.prune_audit(now - retention).await?)
}

/// How often [`run_pruner`] prunes.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Prunes the audit log past its retention, and the portal sessions idle or expired under `sessions`, at start and
/// then every hour, until `shutdown` changes. Several nodes may all prune: the deletes are idempotent.
pub async fn run_pruner(
    stores: Stores,
    retention: time::Duration,
    sessions: crate::sessions::SessionPolicy,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let now = OffsetDateTime::now_utc();
        match prune(&stores, retention, now).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "audit entries past their retention deleted"),
            Err(error) => tracing::warn!(error = %format!("{error:#}"), "could not prune the audit log"),
        }
        match crate::sessions::prune(&stores, now, sessions).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "portal sessions idle or expired deleted"),
            Err(error) => tracing::warn!(error = %format!("{error:#}"), "could not prune the portal sessions"),
        }
        tokio::select! {
            () = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}

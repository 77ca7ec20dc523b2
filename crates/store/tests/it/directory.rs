//! The directory's part of the store suite ([`roster_store::suite::directory`] and [`roster_store::suite::audit`])
//! on SQLite, one fresh database file per test.

use roster_store::suite::directory as suite;

use crate::fresh_store;

#[tokio::test]
async fn import_counts_and_changes() {
    let (store, _dir) = fresh_store();
    suite::import_counts_and_changes(&store).await;
}

#[tokio::test]
async fn import_refusals_are_atomic() {
    let (store, _dir) = fresh_store();
    suite::import_refusals_are_atomic(&store).await;
}

#[tokio::test]
async fn change_log_of_each_write() {
    let (store, _dir) = fresh_store();
    suite::change_log_of_each_write(&store).await;
}

#[tokio::test]
async fn lifecycle() {
    let (store, _dir) = fresh_store();
    suite::lifecycle(&store).await;
}

#[tokio::test]
async fn keyset_paging() {
    let (store, _dir) = fresh_store();
    suite::keyset_paging(&store).await;
}

#[tokio::test]
async fn applications() {
    let (store, _dir) = fresh_store();
    suite::applications(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_import_then_reimport() {
    let (store, _dir) = fresh_store();
    suite::large_import_then_reimport(&store, 20_000).await;
}

#[tokio::test]
async fn audit_of_each_write() {
    let (store, _dir) = fresh_store();
    roster_store::suite::audit::audit_of_each_write(&store).await;
}

#[tokio::test]
async fn import_audit() {
    let (store, _dir) = fresh_store();
    roster_store::suite::audit::import_audit(&store).await;
}

#[tokio::test]
async fn access_round_trip() {
    let (store, _dir) = fresh_store();
    roster_store::suite::audit::access_round_trip(&store).await;
}

#[tokio::test]
async fn portal_sessions() {
    let (store, _dir) = fresh_store();
    roster_store::suite::audit::portal_sessions(&store).await;
}

#[tokio::test]
async fn audit_paging_and_pruning() {
    let (store, _dir) = fresh_store();
    roster_store::suite::audit::audit_paging_and_pruning(&store).await;
}

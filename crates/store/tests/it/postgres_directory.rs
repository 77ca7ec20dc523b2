//! The directory's part of the store suite ([`roster_store::suite::directory`] and [`roster_store::suite::audit`])
//! on PostgreSQL: the same functions
//! as `directory` runs on SQLite, each on a fresh database of the test binary's PostgreSQL server
//! ([`roster_store::suite::postgres::TestServer`]).

use roster_store::suite::directory as suite;
use roster_store::suite::postgres::TestServer;

#[tokio::test]
async fn import_counts_and_changes() {
    suite::import_counts_and_changes(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn import_refusals_are_atomic() {
    suite::import_refusals_are_atomic(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn change_log_of_each_write() {
    suite::change_log_of_each_write(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn lifecycle() {
    suite::lifecycle(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn keyset_paging() {
    suite::keyset_paging(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn applications() {
    suite::applications(&TestServer::shared().store().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_import_then_reimport() {
    suite::large_import_then_reimport(&TestServer::shared().store().await, 20_000).await;
}

#[tokio::test]
async fn audit_of_each_write() {
    roster_store::suite::audit::audit_of_each_write(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn import_audit() {
    roster_store::suite::audit::import_audit(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn access_round_trip() {
    roster_store::suite::audit::access_round_trip(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn portal_sessions() {
    roster_store::suite::audit::portal_sessions(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn audit_paging_and_pruning() {
    roster_store::suite::audit::audit_paging_and_pruning(&TestServer::shared().store().await).await;
}

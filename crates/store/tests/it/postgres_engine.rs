//! The engine's storage port ([`roster_store::suite::engine`]) on PostgreSQL: the same functions as `engine` runs
//! on SQLite, each on a fresh database of the test binary's PostgreSQL server
//! ([`roster_store::suite::postgres::TestServer`]).

use std::sync::Arc;

use roster_store::suite::engine;
use roster_store::suite::postgres::TestServer;

#[tokio::test]
async fn shadows() {
    engine::shadows(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn target_id_conflicts() {
    engine::target_id_conflicts(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn plans() {
    engine::plans(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn record_is_atomic() {
    engine::record_is_atomic(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn members() {
    engine::members(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn leases() {
    engine::leases(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn job_states() {
    engine::job_states(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn job_state_with_audit() {
    let store = TestServer::shared().store().await;
    engine::job_state_with_audit(&store, &store).await;
}

#[tokio::test]
async fn cycles() {
    engine::cycles(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn logs() {
    engine::logs(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn log_pages() {
    engine::log_pages(&TestServer::shared().store().await).await;
}

/// 100,000 entries paged by keyset (a measurement: `cargo test -p roster-store --test it log_page_timings --
/// --ignored --nocapture`).
#[tokio::test]
#[ignore = "a measurement"]
async fn log_page_timings() {
    engine::log_page_timings(&TestServer::shared().store().await, 100_000, 50).await;
}

#[tokio::test]
async fn forget_shadows() {
    engine::forget_shadows(&TestServer::shared().store().await).await;
}

/// Concurrent small batches all land, each on a pooled connection of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_records() {
    let store = TestServer::shared().store().await;
    engine::concurrent_records(Arc::new(store), 2_000, 32).await;
}

//! The engine's storage port ([`roster_store::suite::engine`]) on SQLite, one fresh database file per test, and the
//! record-rate measurement.

use std::sync::Arc;

use roster_store::suite::engine;

use crate::fresh_store;

#[tokio::test]
async fn shadows() {
    let (store, _dir) = fresh_store();
    engine::shadows(&store).await;
}

#[tokio::test]
async fn target_id_conflicts() {
    let (store, _dir) = fresh_store();
    engine::target_id_conflicts(&store).await;
}

#[tokio::test]
async fn plans() {
    let (store, _dir) = fresh_store();
    engine::plans(&store).await;
}

#[tokio::test]
async fn record_is_atomic() {
    let (store, _dir) = fresh_store();
    engine::record_is_atomic(&store).await;
}

#[tokio::test]
async fn members() {
    let (store, _dir) = fresh_store();
    engine::members(&store).await;
}

#[tokio::test]
async fn leases() {
    let (store, _dir) = fresh_store();
    engine::leases(&store).await;
}

#[tokio::test]
async fn job_states() {
    let (store, _dir) = fresh_store();
    engine::job_states(&store).await;
}

#[tokio::test]
async fn job_state_with_audit() {
    let (store, _dir) = fresh_store();
    engine::job_state_with_audit(&store, &store).await;
}

#[tokio::test]
async fn cycles() {
    let (store, _dir) = fresh_store();
    engine::cycles(&store).await;
}

#[tokio::test]
async fn logs() {
    let (store, _dir) = fresh_store();
    engine::logs(&store).await;
}

#[tokio::test]
async fn log_pages() {
    let (store, _dir) = fresh_store();
    engine::log_pages(&store).await;
}

/// 100,000 entries paged by keyset (a measurement: `cargo test -p roster-store --test it log_page_timings --
/// --ignored --nocapture`).
#[tokio::test]
#[ignore = "a measurement"]
async fn log_page_timings() {
    let (store, _dir) = fresh_store();
    engine::log_page_timings(&store, 100_000, 50).await;
}

#[tokio::test]
async fn forget_shadows() {
    let (store, _dir) = fresh_store();
    engine::forget_shadows(&store).await;
}

/// Concurrent small batches all land (a quick check in every run).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_records() {
    let (store, _dir) = fresh_store();
    engine::concurrent_records(Arc::new(store), 2_000, 32).await;
}

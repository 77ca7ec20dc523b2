//! The integration tests of roster-store: the backend-independent suite ([`roster_store::suite`]) on SQLite (the
//! directory's part in `directory`), the SQL/in-memory agreement property, and what is specific to SQLite (files,
//! migrations, versions); the service provider's, the engine's and the directory's suites on PostgreSQL
//! (`postgres_provider` with the agreement property, `postgres_engine`, `postgres_directory`) and what is specific
//! to PostgreSQL (`postgres`).

mod agreement;
mod batches;
mod directory;
mod engine;
mod postgres;
mod postgres_directory;
mod postgres_engine;
mod postgres_provider;
mod sqlite;
mod suite;

use roster_store::SqliteStore;
use tempfile::TempDir;

/// A fresh store in its own temporary directory (kept alive by the returned guard).
#[allow(clippy::expect_used, reason = "a test helper: failing to set up is a test failure")]
pub fn fresh_store() -> (SqliteStore, TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open(&dir.path().join("data").join("roster.db")).expect("open the store");
    (store, dir)
}

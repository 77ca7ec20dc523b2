//! What is specific to the SQLite backend: the file and its directory, migrations, refusing a newer schema,
//! reopening.

use roster_provider::port::{Relations, ResourceKind, ResourceStore, TenantStore};
use roster_store::suite::{enterprise, page_query, simple_user};
use roster_store::{OpenError, SqliteStore};

#[tokio::test]
async fn reopening_keeps_data_and_the_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("deeper").join("roster.db");
    let store = SqliteStore::open(&path).unwrap();
    let octo = enterprise(&store, "octo", "octo").await.id;
    store.create(octo, ResourceKind::User, simple_user("u1", "ann"), Relations::default()).await.unwrap();
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.enterprises().await.unwrap().len(), 1);
    let page = store.query(octo, ResourceKind::User, &page_query(None, 1, 10)).await.unwrap();
    assert_eq!(page.total_results, 1);
    let connection = rusqlite::Connection::open(&path).unwrap();
    let mode: String = connection.query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();
    let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap();
    assert_eq!((mode.as_str(), version), ("wal", 1));
}

#[test]
fn a_newer_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.db");
    drop(SqliteStore::open(&path).unwrap());
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let error = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(error, OpenError::TooNew { found: 99, supported: 1, .. }), "{error:?}");
    assert!(error.to_string().contains("schema version 99"), "{error}");
}

#[test]
fn a_file_that_is_not_a_database_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.db");
    std::fs::write(&path, b"this is not a database, just some text that is long enough to be a header").unwrap();
    assert!(SqliteStore::open(&path).is_err());
}

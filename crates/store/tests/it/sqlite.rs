//! What is specific to the SQLite backend: the file and its directory, migrations, refusing a newer schema,
//! reopening.

use roster_provider::port::{Relations, ResourceKind, ResourceStore, TenantStore};
use roster_provider::tenant::EnterpriseId;
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
    assert_eq!((mode.as_str(), version), ("wal", 10));
}

#[test]
fn a_newer_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.db");
    drop(SqliteStore::open(&path).unwrap());
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let error = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(error, OpenError::TooNew { found: 99, supported: 10, .. }), "{error:?}");
    assert!(error.to_string().contains("schema version 99"), "{error}");
}

#[test]
fn a_file_that_is_not_a_database_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.db");
    std::fs::write(&path, b"this is not a database, just some text that is long enough to be a header").unwrap();
    assert!(SqliteStore::open(&path).is_err());
}

/// A database of schema version 1 with users in it gets its key buckets filled by migration 2, so that deep pages
/// are right after the upgrade.
#[tokio::test]
async fn upgrading_to_key_buckets_counts_the_existing_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.db");
    {
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection.execute_batch(include_str!("../../migrations/sqlite/0001_scim_provider.sql")).unwrap();
        connection.pragma_update(None, "user_version", 1).unwrap();
        connection
            .execute("INSERT INTO scim_enterprises (id, slug, shortcode) VALUES (1, 'octo', 'octo')", [])
            .unwrap();
        connection
            .execute("INSERT INTO scim_enterprises (id, slug, shortcode) VALUES (2, 'acme', 'acme')", [])
            .unwrap();
        // Keys spread over several buckets, with gaps, the two enterprises interleaved.
        let mut insert = connection
            .prepare(
                "INSERT INTO scim_users (pk, enterprise_id, id, user_name, user_name_folded, data, created, \
                 last_modified, version) VALUES (?1, ?2, ?3, ?3, ?3, '{}', 0, 0, 1)",
            )
            .unwrap();
        for pk in (1..5000_i64).filter(|pk| pk % 3 != 0) {
            let enterprise = if pk % 5 == 0 { 2 } else { 1 };
            insert.execute(rusqlite::params![pk, enterprise, format!("u{pk}")]).unwrap();
        }
    }
    let store = SqliteStore::open(&path).unwrap();
    let octo = EnterpriseId(1);
    let all: Vec<String> = (1..5000_i64).filter(|pk| pk % 3 != 0 && pk % 5 != 0).map(|pk| format!("u{pk}")).collect();
    for start_index in [1, 2, 700, 1500, 2600, all.len()] {
        let page = store.query(octo, ResourceKind::User, &page_query(None, start_index, 50)).await.unwrap();
        let ids: Vec<&str> = page.resources.iter().map(|user| user.id.as_str()).collect();
        let expected: Vec<&str> = all.iter().skip(start_index - 1).take(50).map(String::as_str).collect();
        assert_eq!((page.total_results, ids), (all.len(), expected), "start {start_index}");
    }
}

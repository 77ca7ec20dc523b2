//! The store suite on SQLite, one fresh database file per test.

use std::sync::Arc;

use roster_store::suite;

use crate::fresh_store;

#[tokio::test]
async fn tenants_and_tokens() {
    let (store, _dir) = fresh_store();
    suite::tenants_and_tokens(&store).await;
}

#[tokio::test]
async fn create_get_delete() {
    let (store, _dir) = fresh_store();
    suite::create_get_delete(&store, &store).await;
}

#[tokio::test]
async fn uniqueness() {
    let (store, _dir) = fresh_store();
    suite::uniqueness(&store, &store).await;
}

#[tokio::test]
async fn memberships() {
    let (store, _dir) = fresh_store();
    suite::memberships(&store, &store).await;
}

#[tokio::test]
async fn updates() {
    let (store, _dir) = fresh_store();
    suite::updates(&store, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_member_adds() {
    let (store, _dir) = fresh_store();
    suite::concurrent_member_adds(&store, Arc::new(store.clone())).await;
}

#[tokio::test]
async fn pagination() {
    let (store, _dir) = fresh_store();
    suite::pagination(&store, &store).await;
}

#[tokio::test]
async fn sorting() {
    let (store, _dir) = fresh_store();
    suite::sorting(&store, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deep_pages_concatenate_to_the_whole_list() {
    let (store, _dir) = fresh_store();
    suite::paging::deep_pages_concatenate_to_the_whole_list(&store, Arc::new(store.clone())).await;
}

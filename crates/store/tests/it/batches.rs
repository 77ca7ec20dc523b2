//! The mechanisms behind the SQLite store's throughput: group commit (many requests in one transaction, each
//! all-or-nothing on its own) and deep pages found through `scim_key_buckets`.

use std::collections::BTreeSet;

use roster_provider::port::{
    MembershipChange, Relations, ResourceKind, ResourceStore, StoreError, StoredResource, Update, UpdateFn,
};
use roster_provider::tenant::EnterpriseId;
use roster_store::SqliteStore;
use roster_store::suite::{enterprise, new_user, page_query, simple_user};
use serde_json::json;
use tokio::task::JoinSet;

use crate::fresh_store;

const NO_LOAD: Relations = Relations { load: false };

fn ids(resources: &[StoredResource]) -> Vec<String> {
    resources.iter().map(|resource| resource.id.clone()).collect()
}

/// Every resource of the enterprise, in one page.
#[allow(clippy::unwrap_used, reason = "a test helper: a failed query is a test failure")]
async fn everything(store: &SqliteStore, enterprise: EnterpriseId) -> Vec<String> {
    ids(&store.query(enterprise, ResourceKind::User, &page_query(None, 1, 100_000)).await.unwrap().resources)
}

/// Many concurrent creates, two per userName: the writer takes them in batches, and in each pair exactly one wins
/// while the other gets a conflict, without taking anything else of its batch down with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_with_conflicts_each_get_their_own_answer() {
    let (store, _dir) = fresh_store();
    let octo = enterprise(&store, "octo", "octo").await.id;
    let mut creates = JoinSet::new();
    for index in 0..200 {
        let store = store.clone();
        creates.spawn(async move {
            let name = format!("name{}", index / 2);
            let user = new_user(&format!("u{index}"), json!({ "userName": name }), None);
            let result = store.create(octo, ResourceKind::User, user, NO_LOAD).await;
            (index, name, result)
        });
    }
    let mut winners = BTreeSet::new();
    let mut names = BTreeSet::new();
    while let Some(joined) = creates.join_next().await {
        let (index, name, result) = joined.unwrap();
        match result {
            Ok(created) => {
                assert_eq!(created.id, format!("u{index}"));
                assert!(names.insert(name.clone()), "two creates of {name} both succeeded");
                winners.insert(created.id);
            }
            Err(StoreError::Conflict { attribute, value }) => {
                // Which of the pair wins depends on the order of arrival; the conflict names the taken value.
                assert_eq!((attribute, value.as_str()), ("userName", name.as_str()));
            }
            Err(other) => panic!("u{index}: {other:?}"),
        }
    }
    assert_eq!(names.len(), 100, "every name was created exactly once");
    let stored: BTreeSet<String> = everything(&store, octo).await.into_iter().collect();
    assert_eq!(stored, winners);
    let page = store.query(octo, ResourceKind::User, &page_query(None, 1, 1)).await.unwrap();
    assert_eq!(page.total_results, 100);
}

fn set_title(title: &'static str) -> UpdateFn {
    Box::new(move |current: &StoredResource| {
        let mut attributes = current.attributes.clone();
        attributes.insert("title".into(), json!(title));
        Ok(Update {
            attributes,
            login: current.login.clone(),
            members: MembershipChange::Unchanged,
            at: current.last_modified,
        })
    })
}

/// An update closure that panics fails its own request with an error, changes nothing, and leaves the writer
/// serving the requests around it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_panicking_update_closure_fails_only_its_request() {
    let (store, _dir) = fresh_store();
    let octo = enterprise(&store, "octo", "octo").await.id;
    for index in 0..20 {
        store
            .create(octo, ResourceKind::User, simple_user(&format!("u{index}"), &format!("n{index}")), NO_LOAD)
            .await
            .unwrap();
    }
    let mut updates = JoinSet::new();
    for index in 0..20 {
        let store = store.clone();
        updates.spawn(async move {
            let change: UpdateFn = if index % 5 == 0 {
                Box::new(|_: &StoredResource| panic!("a panicking update closure"))
            } else {
                set_title("changed")
            };
            (index, store.update(octo, ResourceKind::User, &format!("u{index}"), false, change, NO_LOAD).await)
        });
    }
    while let Some(joined) = updates.join_next().await {
        let (index, result) = joined.unwrap();
        let stored = store.get(octo, ResourceKind::User, &format!("u{index}"), NO_LOAD).await.unwrap().unwrap();
        if index % 5 == 0 {
            assert!(matches!(&result, Err(StoreError::Backend(message)) if message.contains("panicked")), "{result:?}");
            assert_eq!((stored.version, stored.attributes.get("title")), (1, None));
        } else {
            assert_eq!(result.unwrap().version, 2);
            assert_eq!((stored.version, stored.attributes.get("title")), (2, Some(&json!("changed"))));
        }
    }
    // The writer still works.
    store.create(octo, ResourceKind::User, simple_user("after", "after"), NO_LOAD).await.unwrap();
}

//! Deep pages of unfiltered lists, which both backends answer from counts of keys per bucket rather than by
//! stepping over every row before the page.
#![allow(clippy::expect_used, clippy::unwrap_used, reason = "a test suite: a failure is a panic with a message")]

use std::sync::Arc;

use roster_provider::port::{Relations, ResourceKind, ResourceStore, StoredResource, TenantStore};
use roster_provider::tenant::EnterpriseId;
use tokio::task::JoinSet;

use super::{enterprise, page_query, simple_user};

const NO_LOAD: Relations = Relations { load: false };

fn ids(resources: &[StoredResource]) -> Vec<String> {
    resources.iter().map(|resource| resource.id.clone()).collect()
}

/// Every resource of the enterprise, in one page.
async fn everything(store: &dyn ResourceStore, enterprise: EnterpriseId) -> Vec<String> {
    ids(&store.query(enterprise, ResourceKind::User, &page_query(None, 1, 100_000)).await.unwrap().resources)
}

/// Pages of an unfiltered list, however deep, concatenate to the whole list in order, after deletions have left
/// gaps in the keys (whole buckets of 1,024 keys among them) and with another enterprise's users interleaved.
pub async fn deep_pages_concatenate_to_the_whole_list(tenants: &dyn TenantStore, store: Arc<dyn ResourceStore>) {
    let octo = enterprise(tenants, "octo", "octo").await.id;
    let acme = enterprise(tenants, "acme", "acme").await.id;
    // Three octo users for each acme user, so that both enterprises' keys spread over the same buckets.
    let mut expected = Vec::new();
    for chunk in 0..40 {
        let mut creates = JoinSet::new();
        for index in chunk * 100..(chunk + 1) * 100 {
            let (target, id) = if index % 4 == 3 { (acme, format!("a{index}")) } else { (octo, format!("o{index}")) };
            let store = Arc::clone(&store);
            creates
                .spawn(async move { store.create(target, ResourceKind::User, simple_user(&id, &id), NO_LOAD).await });
        }
        while let Some(joined) = creates.join_next().await {
            joined.unwrap().unwrap();
        }
    }
    // Creation order within each chunk is the order of arrival: take it from the store.
    let before = everything(&*store, octo).await;
    assert_eq!(before.len(), 3000);
    // Gaps: every seventh user, and a run of 1,500 consecutive ones (which empties at least one whole bucket).
    for (position, id) in before.iter().enumerate() {
        if position % 7 == 0 || (700..2200).contains(&position) {
            store.delete(octo, ResourceKind::User, id, Box::new(|_| Ok(()))).await.unwrap();
        } else {
            expected.push(id.clone());
        }
    }
    assert_eq!(everything(&*store, octo).await, expected);
    for count in [100, 37, 1] {
        let mut concatenated = Vec::new();
        let mut start_index = 1;
        loop {
            let page = store.query(octo, ResourceKind::User, &page_query(None, start_index, count)).await.unwrap();
            assert_eq!(page.total_results, expected.len(), "start {start_index}, count {count}");
            if page.resources.is_empty() {
                break;
            }
            assert!(page.resources.len() <= count);
            concatenated.extend(ids(&page.resources));
            start_index += count;
        }
        assert_eq!(concatenated, expected, "pages of {count}");
    }
    for start_index in [expected.len(), expected.len() + 1, expected.len() + 5000] {
        let page = store.query(octo, ResourceKind::User, &page_query(None, start_index, 10)).await.unwrap();
        assert_eq!(page.total_results, expected.len());
        assert_eq!(ids(&page.resources), expected.iter().skip(start_index - 1).take(10).cloned().collect::<Vec<_>>());
    }
    let acme_users = everything(&*store, acme).await;
    let page = store.query(acme, ResourceKind::User, &page_query(None, 901, 100)).await.unwrap();
    assert_eq!((page.total_results, ids(&page.resources)), (1000, acme_users[900..1000].to_vec()));
}

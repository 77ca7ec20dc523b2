//! The service provider's storage ports ([`roster_store::suite`]) on PostgreSQL: the same functions as `suite`
//! runs on SQLite, each on a fresh database of the test binary's PostgreSQL server
//! ([`roster_store::suite::postgres::TestServer`]), and the SQL/in-memory agreement property.

use std::sync::Arc;

use roster_store::suite;
use roster_store::suite::agreement::{check, run};
use roster_store::suite::postgres::TestServer;

#[tokio::test]
async fn tenants_and_tokens() {
    suite::tenants_and_tokens(&TestServer::shared().store().await).await;
}

#[tokio::test]
async fn create_get_delete() {
    let store = TestServer::shared().store().await;
    suite::create_get_delete(&store, &store).await;
}

#[tokio::test]
async fn uniqueness() {
    let store = TestServer::shared().store().await;
    suite::uniqueness(&store, &store).await;
}

#[tokio::test]
async fn memberships() {
    let store = TestServer::shared().store().await;
    suite::memberships(&store, &store).await;
}

#[tokio::test]
async fn updates() {
    let store = TestServer::shared().store().await;
    suite::updates(&store, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_member_adds() {
    let store = TestServer::shared().store().await;
    suite::concurrent_member_adds(&store, Arc::new(store.clone())).await;
}

#[tokio::test]
async fn pagination() {
    let store = TestServer::shared().store().await;
    suite::pagination(&store, &store).await;
}

#[tokio::test]
async fn sorting() {
    let store = TestServer::shared().store().await;
    suite::sorting(&store, &store).await;
}

/// SQL and in-memory evaluation agree on random users and filters (fewer cases than on SQLite: each case is a
/// few hundred statements over the network).
#[test]
fn sql_and_in_memory_evaluation_agree() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let store = runtime.block_on(TestServer::shared().store());
    run(&runtime, &store, &store, 32);
}

/// Fixed cases for what PostgreSQL makes special: values and literals holding U+0000 (which `text` refuses) and
/// `LIKE`'s metacharacters, on the attribute columns and on the id, with every string operator.
#[test]
fn nul_and_like_metacharacters_agree() {
    use roster_scim_proto::filter::Filter;
    use roster_store::suite::agreement::{Probe, SeedUser};

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store = runtime.block_on(TestServer::shared().store());
    let user = |user_name: &str, display_name: Option<&str>, login: Option<&str>| SeedUser {
        display_name: display_name.map(str::to_owned),
        login: login.map(str::to_owned),
        ..SeedUser::named(user_name)
    };
    let users = [
        user("x\u{0}y", Some("A\u{0}"), Some("x\u{0}")),
        user("x", Some("a%b_c"), None),
        user("X\u{0}Z", Some("a"), Some("X")),
        user("", Some(""), Some("")),
    ];
    let mut filters = Vec::new();
    let login = "urn:roster:params:scim:schemas:extension:github:2.0:User:login";
    for path in ["userName", "displayName", login, "id", "externalId"] {
        for op in ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"] {
            for literal in [r"x\u0000", r"\u0000", r"X\u0000Y", "%", "_", "a%", "%b", "u1x\\u0000", "u1", ""] {
                filters.push(format!(r#"{path} {op} "{literal}""#));
            }
        }
    }
    let probes: Vec<Probe> =
        filters.iter().map(|text| Probe { filter: Filter::parse(text).unwrap(), sort: None, page_size: 3 }).collect();
    runtime.block_on(check(&store, &store, 0, &users, &probes)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deep_pages_concatenate_to_the_whole_list() {
    let store = TestServer::shared().store().await;
    suite::paging::deep_pages_concatenate_to_the_whole_list(&store, Arc::new(store.clone())).await;
}

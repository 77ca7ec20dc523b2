//! What goes on the wire: URLs, headers, bodies in both dialects, and how answers are read.

use axum::http::Method;
use roster_scim_client::{Change, Dialect, ErrorKind, Kind, ScimClient};
use serde_json::json;

use crate::support::{LIST_RESPONSE, Reply, Script, TOKEN, assert_no_secret};

#[tokio::test]
async fn requests_carry_the_token_the_media_types_and_the_user_agent() {
    let server = Script::start(vec![Reply::created("u-1"), Reply::empty_list()]).await;
    let client = server.client();
    client.create(Kind::User, &json!({"userName": "mona"})).await.expect("created");
    client.find(Kind::User, "userName", "mona").await.expect("found");
    let received = server.received();
    for request in &received {
        assert_eq!(request.header("authorization"), format!("Bearer {TOKEN}"));
        assert_eq!(request.header("accept"), "application/scim+json, application/json");
        assert!(request.header("user-agent").starts_with("roster/"), "{}", request.header("user-agent"));
    }
    assert_eq!(received[0].header("content-type"), "application/scim+json");
    assert_eq!(received[0].uri, "/scim/v2/enterprises/acme/Users");
    assert_eq!(received[1].header("content-type"), "");
}

#[tokio::test]
async fn find_sends_an_escaped_eq_filter_and_reads_the_list() {
    let user = json!({"id": "u-1", "userName": "a\"b\\c"});
    let server = Script::start(vec![Reply::list(vec![user.clone()]), Reply::empty_list()]).await;
    let client = server.client();
    assert_eq!(client.find(Kind::User, "userName", "a\"b\\c").await.expect("found"), vec![user]);
    assert!(client.find(Kind::Group, "displayName", "Team A").await.expect("found").is_empty());
    let received = server.received();
    assert!(received[0].uri.starts_with("/scim/v2/enterprises/acme/Users?filter="), "{}", received[0].uri);
    assert_eq!(received[0].query("filter").as_deref(), Some(r#"userName eq "a\"b\\c""#));
    assert_eq!(received[0].query("excludedAttributes"), None);
    assert!(received[1].uri.starts_with("/scim/v2/enterprises/acme/Groups?"), "{}", received[1].uri);
    assert_eq!(received[1].query("filter").as_deref(), Some(r#"displayName eq "Team A""#));
    assert_eq!(received[1].query("excludedAttributes").as_deref(), Some("members"));
    // Spaces are %20, never `+`.
    assert!(received[1].uri.contains("Team%20A"), "{}", received[1].uri);
}

#[tokio::test]
async fn answers_that_are_not_scim_lists_are_refused() {
    let html = Reply::Respond {
        status: 200,
        headers: vec![("content-type", "text/html; charset=utf-8".to_owned())],
        body: "<!DOCTYPE html><html><body>Sign in</body></html>".to_owned(),
    };
    let single = Reply::scim(200, json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u-1"}));
    let server = Script::start(vec![html, single]).await;
    let client = server.client();
    let error = client.find(Kind::User, "userName", "x").await.expect_err("HTML");
    assert_eq!(error.code(), "SystemForCrossDomainIdentityManagementBadResponse");
    assert!(error.to_string().contains("got text/html"), "{error}");
    let error = client.find(Kind::User, "userName", "x").await.expect_err("not a list");
    assert_eq!(error.code(), "SystemForCrossDomainIdentityManagementServiceIncompatible");
    assert!(error.to_string().contains("expected a ListResponse"), "{error}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn get_reads_a_resource_or_none_on_404() {
    let group = json!({"id": "g-1", "displayName": "Team"});
    let server = Script::start(vec![
        Reply::scim(200, group.clone()),
        Reply::error(404, None, "no such group"),
        Reply::scim(200, json!({"id": "u-1"})),
    ])
    .await;
    let client = server.client();
    assert_eq!(client.get(Kind::Group, "g-1", None).await.expect("got"), Some(group));
    assert_eq!(client.get(Kind::Group, "g-2", None).await.expect("404 is None"), None);
    assert!(client.get(Kind::User, "u 1/x", Some("userName,active")).await.expect("got").is_some());
    let received = server.received();
    assert_eq!(received[0].uri, "/scim/v2/enterprises/acme/Groups/g-1?excludedAttributes=members");
    assert_eq!(received[2].uri, "/scim/v2/enterprises/acme/Users/u%201%2Fx?attributes=userName%2Cactive");
}

#[tokio::test]
async fn create_needs_a_created_resource_with_an_id() {
    let server = Script::start(vec![
        Reply::scim(200, json!({"id": "u-1", "userName": "mona"})),
        Reply::scim(201, json!({"userName": "mona"})),
        Reply::empty(204),
        Reply::error(409, Some("uniqueness"), "userName mona is taken"),
    ])
    .await;
    let client = server.client();
    let body = json!({"userName": "mona"});
    assert_eq!(client.create(Kind::User, &body).await.expect("200 accepted")["id"], "u-1");
    let error = client.create(Kind::User, &body).await.expect_err("no id");
    assert!(matches!(&error.kind, ErrorKind::Incompatible { reason } if reason.contains("no id")), "{error}");
    let error = client.create(Kind::User, &body).await.expect_err("204");
    assert_eq!(error.code(), "SystemForCrossDomainIdentityManagementServiceIncompatible");
    let error = client.create(Kind::User, &body).await.expect_err("409");
    assert_eq!(
        (error.code(), error.scim_type(), error.detail()),
        ("EntryConflict", Some("uniqueness"), Some("userName mona is taken"))
    );
    assert_eq!(
        error.to_string(),
        "POST /scim/v2/enterprises/acme/Users: HTTP 409 Conflict (scimType uniqueness): userName mona is taken \
         [EntryConflict, 1 attempt]"
    );
}

#[tokio::test]
async fn patch_writes_the_dialect_and_accepts_200_201_and_204() {
    let changes = [
        Change::replace("active", false),
        Change::AddMembers(vec!["u-1".into()]),
        Change::RemoveMembers(vec!["u-2".into(), "u-3".into()]),
    ];
    for (dialect, expected) in [
        (
            Dialect::Rfc,
            json!([
                {"op": "replace", "path": "active", "value": false},
                {"op": "add", "path": "members", "value": [{"value": "u-1"}]},
                {"op": "remove", "path": "members[value eq \"u-2\"]"},
                {"op": "remove", "path": "members[value eq \"u-3\"]"}
            ]),
        ),
        (
            Dialect::EntraLegacy,
            json!([
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Add", "path": "members", "value": [{"value": "u-1"}]},
                {"op": "Remove", "path": "members", "value": [{"value": "u-2"}, {"value": "u-3"}]}
            ]),
        ),
    ] {
        let server =
            Script::start(vec![Reply::empty(204), Reply::scim(200, json!({"id": "g-1"})), Reply::created("g-1")]).await;
        let mut config = server.config();
        config.dialect = dialect;
        let client = ScimClient::new(config).expect("client");
        for _ in 0..3 {
            client.patch(Kind::Group, "g-1", &changes).await.expect("patched");
        }
        client.patch(Kind::Group, "g-1", &[]).await.expect("nothing to send");
        let received = server.received();
        assert_eq!(received.len(), 3, "an empty change list sends nothing");
        let request = &received[0];
        assert_eq!(request.method, Method::PATCH);
        assert_eq!(request.uri, "/scim/v2/enterprises/acme/Groups/g-1");
        assert_eq!(request.header("content-type"), "application/scim+json");
        assert_eq!(
            request.json(),
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": expected}),
            "{dialect:?}"
        );
    }
}

#[tokio::test]
async fn long_member_lists_are_sent_in_several_patches() {
    let server = Script::start(vec![Reply::empty(204); 3]).await;
    let mut config = server.config();
    config.max_members_per_patch = 2;
    let client = ScimClient::new(config).expect("client");
    let ids: Vec<String> = (1..=5).map(|n| format!("u-{n}")).collect();
    client
        .patch(Kind::Group, "g-1", &[Change::replace("displayName", "Team"), Change::AddMembers(ids)])
        .await
        .expect("patched");
    let bodies: Vec<serde_json::Value> = server.received().iter().map(|r| r.json()["Operations"].clone()).collect();
    assert_eq!(
        bodies,
        vec![
            json!([
                {"op": "replace", "path": "displayName", "value": "Team"},
                {"op": "add", "path": "members", "value": [{"value": "u-1"}, {"value": "u-2"}]}
            ]),
            json!([{"op": "add", "path": "members", "value": [{"value": "u-3"}, {"value": "u-4"}]}]),
            json!([{"op": "add", "path": "members", "value": [{"value": "u-5"}]}]),
        ]
    );
}

#[tokio::test]
async fn delete_accepts_204_and_200_and_reports_404_as_invalid_anchor() {
    let server = Script::start(vec![Reply::empty(204), Reply::empty(200), Reply::error(404, None, "gone")]).await;
    let client = server.client();
    client.delete(Kind::User, "u-1").await.expect("204");
    client.delete(Kind::Group, "g-1").await.expect("200");
    let error = client.delete(Kind::User, "u-1").await.expect_err("404");
    assert!(error.is_not_found());
    assert_eq!((error.code(), error.attempts), ("InvalidAnchor", 1));
    assert_no_secret(&format!("{error} {error:?} {client:?}"));
    let stats = client.stats();
    assert_eq!((stats.deletes, stats.requests(), stats.retries), (3, 3, 0));
}

#[tokio::test]
async fn list_response_tolerances() {
    // No schemas, lowercase `resources`, no Resources when empty: all read.
    let server = Script::start(vec![
        Reply::scim(200, json!({"totalResults": 1, "resources": [{"id": "u-1"}]})),
        Reply::scim(200, json!({"schemas": [LIST_RESPONSE], "totalResults": 0})),
    ])
    .await;
    let client = server.client();
    assert_eq!(client.find(Kind::User, "externalId", "E1").await.expect("found").len(), 1);
    assert!(client.find(Kind::User, "externalId", "E2").await.expect("found").is_empty());
}

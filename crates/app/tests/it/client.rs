//! roster's SCIM client (`roster-scim-client`) against roster's own service provider: Test Connection, the user
//! and group lifecycles in both PATCH dialects, the error codes, and filter escaping. (These live here rather than
//! in the client's crate because `roster-app` depends on the client through the engine.)

use roster_scim_client::{Change, ClientConfig, ConnectionProblem, Dialect, Kind, ScimClient};
use serde_json::{Value, json};

use crate::support::{GROUP_URN, TestServer, member_values, sorted, user_body};

/// A client for the test server's enterprise in a dialect.
fn client(server: &TestServer, dialect: Dialect) -> ScimClient {
    let mut config = ClientConfig::new(format!("{}/", server.base), server.token.clone());
    config.dialect = dialect;
    config.max_members_per_patch = 2;
    ScimClient::new(config).expect("client")
}

#[tokio::test]
async fn test_connection_passes_with_the_enterprise_token_and_explains_failures() {
    let server = TestServer::start().await;
    client(&server, Dialect::Rfc).test_connection().await.expect("the connection works");

    let wrong_token = ScimClient::new(ClientConfig::new(server.base.clone(), "not-the-token")).expect("client");
    let problem = wrong_token.test_connection().await.expect_err("refused");
    assert!(matches!(problem, ConnectionProblem::Unauthorized { status: 401, .. }), "{problem:?}");
    assert!(problem.to_string().contains("the target refused the secret token"), "{problem}");

    let not_scim =
        ScimClient::new(ClientConfig::new(format!("{}/nowhere", server.origin), server.token.clone())).expect("client");
    let problem = not_scim.test_connection().await.expect_err("404");
    assert_eq!(problem, ConnectionProblem::NotFound, "{problem}");
}

#[tokio::test]
async fn user_lifecycle_in_both_dialects() {
    let server = TestServer::start().await;
    for (n, dialect) in [Dialect::Rfc, Dialect::EntraLegacy].into_iter().enumerate() {
        let client = client(&server, dialect);
        let external_id = format!("E{n}");
        assert!(client.find(Kind::User, "externalId", &external_id).await.expect("query").is_empty());

        let created = client.create(Kind::User, &user_body(&format!("mona{n}"), &external_id)).await.expect("create");
        let id = created["id"].as_str().expect("id").to_owned();
        let found = client.find(Kind::User, "externalId", &external_id).await.expect("query");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["id"], id.as_str());

        let changes = [
            Change::replace("displayName", "Mona Lisa"),
            Change::replace("name.givenName", "Mona"),
            Change::replace("emails[type eq \"work\"].value", format!("mona{n}@example.org")),
            Change::replace("active", false),
        ];
        client.patch(Kind::User, &id, &changes).await.expect("patch");
        let user = client.get(Kind::User, &id, None).await.expect("get").expect("exists");
        assert_eq!(user["displayName"], "Mona Lisa", "{dialect:?}: {user}");
        assert_eq!(user["name"]["givenName"], "Mona");
        assert_eq!(user["emails"][0]["value"], format!("mona{n}@example.org"));
        assert_eq!(user["active"], json!(false), "{dialect:?}: active is a boolean again");

        client.patch(Kind::User, &id, &[Change::replace("active", true)]).await.expect("enable");
        let user = client.get(Kind::User, &id, Some("active")).await.expect("get").expect("exists");
        assert_eq!(user["active"], json!(true));

        let twin = client.create(Kind::User, &user_body(&format!("mona{n}"), "other")).await.expect_err("twin");
        assert_eq!((twin.status(), twin.code(), twin.attempts), (Some(409), "EntryConflict", 1), "{twin}");

        client.delete(Kind::User, &id).await.expect("delete");
        assert_eq!(client.get(Kind::User, &id, None).await.expect("get"), None);
        let gone = client.delete(Kind::User, &id).await.expect_err("deleted twice");
        assert_eq!((gone.status(), gone.code()), (Some(404), "InvalidAnchor"));
        let gone = client.patch(Kind::User, &id, &[Change::replace("active", false)]).await.expect_err("gone");
        assert_eq!(gone.code(), "InvalidAnchor");
        assert!(!format!("{gone} {gone:?}").contains(&server.token), "the token leaked");
    }
}

#[tokio::test]
async fn group_membership_in_both_dialects_with_member_lists_split_across_patches() {
    let server = TestServer::start().await;
    let mut users = Vec::new();
    for n in 0..5 {
        users.push(server.create_user(&format!("member{n}"), &format!("M{n}")).await);
    }
    for (n, dialect) in [Dialect::Rfc, Dialect::EntraLegacy].into_iter().enumerate() {
        let client = client(&server, dialect);
        let name = format!("Team {n}");
        let body = json!({"schemas": [GROUP_URN], "externalId": format!("G{n}"), "displayName": name});
        let group = client.create(Kind::Group, &body).await.expect("create group");
        let id = group["id"].as_str().expect("id").to_owned();

        // Five members, two per PATCH: three requests.
        let before = client.stats().patches;
        client.patch(Kind::Group, &id, &[Change::AddMembers(users.clone())]).await.expect("add members");
        assert_eq!(client.stats().patches - before, 3);
        let read = client.get(Kind::Group, &id, Some("members")).await.expect("get").expect("exists");
        let all: Vec<&str> = users.iter().map(String::as_str).collect();
        assert_eq!(member_values(&read, "members"), sorted(&all), "{dialect:?}");

        let changes =
            [Change::replace("displayName", format!("{name} renamed")), Change::RemoveMembers(users[..3].to_vec())];
        client.patch(Kind::Group, &id, &changes).await.expect("remove members");
        let read = client.get(Kind::Group, &id, Some("members,displayName")).await.expect("get").expect("exists");
        assert_eq!(member_values(&read, "members"), sorted(&all[3..]), "{dialect:?}");
        assert_eq!(read["displayName"], format!("{name} renamed"));

        let found = client.find(Kind::Group, "displayName", &format!("{name} renamed")).await.expect("query");
        assert_eq!(found.len(), 1);
        assert!(found[0].get("members").is_none(), "queries exclude members: {}", found[0]);
        // Without attributes, a group is read without its members.
        let read: Value = client.get(Kind::Group, &id, None).await.expect("get").expect("exists");
        assert!(read.get("members").is_none(), "{read}");
    }
}

#[tokio::test]
async fn filter_values_with_quotes_and_backslashes_match_exactly() {
    let server = TestServer::start().await;
    roster_app::admin::create_enterprise_with_profile(
        &server.stores,
        &crate::support::actor(),
        "plain",
        "plain",
        roster_app::Profile::Scim,
    )
    .await
    .expect("enterprise");
    let token = roster_app::admin::create_token(&server.stores, &crate::support::actor(), "plain", "test", &[])
        .await
        .expect("token");
    let base = format!("{}/scim/v2/enterprises/plain", server.origin);
    let client = ScimClient::new(ClientConfig::new(base, token)).expect("client");
    let awkward = r#"o"brien\x 'y'"#;
    let body =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": awkward, "externalId": awkward});
    let created = client.create(Kind::User, &body).await.expect("create");
    for attribute in ["userName", "externalId"] {
        let found = client.find(Kind::User, attribute, awkward).await.expect("query");
        assert_eq!(found.len(), 1, "{attribute}");
        assert_eq!(found[0]["id"], created["id"]);
    }
    assert!(client.find(Kind::User, "userName", r#"o"brien\x"#).await.expect("query").is_empty());
}

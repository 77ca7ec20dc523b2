//! GitHub's documented examples for the EMU SCIM API (reference §2.3-2.5, §2.10), replayed over HTTP. Every test
//! reads the result back with a GET.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    ENTERPRISE_URN, GITHUB_URN, GROUP_URN, TestServer, USER_URN, member_values, sorted, strings_at, without_meta,
};

/// GitHub's example create body (OpenAPI).
fn mona_lisa() -> Value {
    json!({
        "schemas": [USER_URN],
        "externalId": "E012345",
        "active": true,
        "userName": "E012345",
        "name": {"formatted": "Ms. Mona Lisa Octocat", "familyName": "Octocat", "givenName": "Mona", "middleName": "Lisa"},
        "displayName": "Mona Lisa",
        "emails": [{"value": "mlisa@example.com", "type": "work", "primary": true}],
        "roles": [{"value": "user", "primary": false}]
    })
}

/// A group body with these members.
fn group_body(display_name: &str, external_id: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
    let mut body = json!({"schemas": [GROUP_URN], "externalId": external_id, "displayName": display_name});
    if !members.is_empty() {
        body["members"] = Value::Array(members);
    }
    body
}

/// The elements of a multi-valued attribute, sorted by `value`.
fn sorted_by_value(resource: &Value, attribute: &str) -> Vec<Value> {
    let mut items = resource[attribute].as_array().cloned().unwrap_or_default();
    items.sort_by(|a, b| a["value"].as_str().cmp(&b["value"].as_str()));
    items
}

#[tokio::test]
async fn create_user_as_documented() {
    let server = TestServer::start().await;
    let created = server.post("/Users", mona_lisa()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert!(!id.is_empty());

    let mut expected = mona_lisa();
    expected["schemas"] = json!([USER_URN, GITHUB_URN]);
    expected["id"] = json!(id);
    expected[GITHUB_URN] = json!({"login": "E012345_acme"});
    assert_eq!(without_meta(&created.body), expected);

    let meta = &created.body["meta"];
    assert_eq!(meta["resourceType"], "User");
    assert!(meta["created"].as_str().is_some_and(|t| t.ends_with('Z')), "{meta}");
    assert!(meta["lastModified"].as_str().is_some_and(|t| t.ends_with('Z')), "{meta}");
    assert_eq!(meta["location"], format!("{}/Users/{id}", server.base));
    assert!(meta["version"].as_str().is_some_and(|v| !v.is_empty()), "{meta}");
    assert_eq!(created.header("location"), meta["location"].as_str());
    assert_eq!(created.header("etag"), meta["version"].as_str());

    assert_eq!(server.fetch(&format!("/Users/{id}")).await, created.body);
}

#[tokio::test]
async fn rename_group_and_add_two_members_at_once() {
    let server = TestServer::start().await;
    let group_id = server.create_group("Staff", "9138790-10932-109120392-12321").await;
    let first = server.create_user("mona@example.com", "E1").await;
    let second = server.create_user("hubot@example.com", "E2").await;
    let path = format!("/Groups/{group_id}");

    let renamed =
        server.patch_ops(&path, json!([{"op": "replace", "path": "displayName", "value": "Employees"}])).await;
    assert_eq!(renamed.status, StatusCode::NO_CONTENT, "{}", renamed.body);
    assert_eq!(server.fetch(&path).await["displayName"], "Employees");

    let added = server
        .patch_ops(&path, json!([{"op": "add", "path": "members", "value": [{"value": first}, {"value": second}]}]))
        .await;
    assert_eq!(added.status, StatusCode::NO_CONTENT, "{}", added.body);
    let group = server.fetch(&path).await;
    let mut expected = vec![
        json!({"value": first, "$ref": format!("{}/Users/{first}", server.base), "display": "mona@example.com display", "type": "User"}),
        json!({"value": second, "$ref": format!("{}/Users/{second}", server.base), "display": "hubot@example.com display", "type": "User"}),
    ];
    expected.sort_by(|a, b| a["value"].as_str().cmp(&b["value"].as_str()));
    assert_eq!(sorted_by_value(&group, "members"), expected);
    assert_eq!(group["displayName"], "Employees");
}

#[tokio::test]
async fn filtered_email_path_with_single_quotes() {
    let server = TestServer::start().await;
    let id = server.create_user_from(mona_lisa()).await;
    let path = format!("/Users/{id}");
    let answer = server
        .patch_ops(
            &path,
            json!([
                {"op": "replace", "path": "emails[type eq 'work'].value", "value": "updatedEmail@microsoft.com"},
                {"op": "replace", "path": "name.familyName", "value": "updatedFamilyName"},
                {"op": "replace", "path": "displayName", "value": "Monalisa Octocat"},
            ]),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let user = server.fetch(&path).await;
    assert_eq!(user["emails"], json!([{"value": "updatedEmail@microsoft.com", "type": "work", "primary": true}]));
    assert_eq!(user["name"]["familyName"], "updatedFamilyName");
    assert_eq!(user["name"]["givenName"], "Mona");
    assert_eq!(user["displayName"], "Monalisa Octocat");
}

#[tokio::test]
async fn suspend_with_path_less_replace_then_reactivate() {
    let server = TestServer::start().await;
    let id = server.create_user_from(mona_lisa()).await;
    let path = format!("/Users/{id}");

    let suspended = server.patch_ops(&path, json!([{"op": "replace", "value": {"active": false}}])).await;
    assert_eq!(suspended.status, StatusCode::OK, "{}", suspended.body);
    let user = server.fetch(&path).await;
    assert_eq!(user["active"], false);
    // A suspended user is still listed (GitHub lists soft-deprovisioned users).
    let list = server.get("/Users").await;
    assert_eq!(list.body["totalResults"], 1, "{}", list.body);
    assert_eq!(list.body["Resources"], json!([user]));

    let reactivated = server.patch_ops(&path, json!([{"op": "replace", "path": "active", "value": true}])).await;
    assert_eq!(reactivated.status, StatusCode::OK, "{}", reactivated.body);
    let user = server.fetch(&path).await;
    assert_eq!(user["active"], true);
    assert_eq!(user[GITHUB_URN]["login"], "E012345_acme");
}

#[tokio::test]
async fn delete_is_permanent_and_frees_the_user_name() {
    let server = TestServer::start().await;
    let old_id = server.create_user_from(mona_lisa()).await;
    let deleted = server.delete(&format!("/Users/{old_id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    server.get(&format!("/Users/{old_id}")).await.assert_error(404, None);
    assert_eq!(server.total("/Users").await, 0);

    let new_id = server.create_user_from(mona_lisa()).await;
    assert_ne!(new_id, old_id);
    let user = server.fetch(&format!("/Users/{new_id}")).await;
    assert_eq!(user["userName"], "E012345");
    assert_eq!(user[GITHUB_URN]["login"], "E012345_acme");
    server.get(&format!("/Users/{old_id}")).await.assert_error(404, None);
    assert_eq!(strings_at(&server.get("/Users").await.body, "id"), vec![new_id]);
}

#[tokio::test]
async fn user_groups_are_listed_and_read_only() {
    let server = TestServer::start().await;
    let user_id = server.create_user("mona@example.com", "E1").await;
    let engineering = server.create_group("Engineering", "G1").await;
    let design = server.create_group("Design", "G2").await;
    let other = server.create_group("Other", "G3").await;
    for group_id in [&engineering, &design] {
        let answer = server
            .patch_ops(
                &format!("/Groups/{group_id}"),
                json!([{"op": "add", "path": "members", "value": [{"value": user_id}]}]),
            )
            .await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    }
    let path = format!("/Users/{user_id}");
    let before = server.fetch(&path).await;
    let mut expected = vec![
        json!({"value": engineering, "$ref": format!("{}/Groups/{engineering}", server.base), "display": "Engineering", "type": "direct"}),
        json!({"value": design, "$ref": format!("{}/Groups/{design}", server.base), "display": "Design", "type": "direct"}),
    ];
    expected.sort_by(|a, b| a["value"].as_str().cmp(&b["value"].as_str()));
    assert_eq!(sorted_by_value(&before, "groups"), expected);

    let refused = server.patch_ops(&path, json!([{"op": "add", "path": "groups", "value": [{"value": other}]}])).await;
    refused.assert_error(400, Some("mutability"));
    assert_eq!(server.fetch(&path).await, before);
    assert_eq!(member_values(&server.fetch(&format!("/Groups/{other}")).await, "members"), Vec::<String>::new());
}

#[tokio::test]
async fn excluded_members_on_group_list_and_get() {
    let server = TestServer::start().await;
    let user_id = server.create_user("mona@example.com", "E1").await;
    let group_id = server.post("/Groups", group_body("Employees", "G1", &[&user_id])).await.body["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let path = format!("/Groups/{group_id}");
    let full = server.fetch(&path).await;
    assert_eq!(member_values(&full, "members"), sorted(&[&user_id]));
    let mut expected = full.clone();
    expected.as_object_mut().expect("object").remove("members");

    let item = server.get_query(&path, &[("excludedAttributes", "members")]).await;
    assert_eq!(item.status, StatusCode::OK, "{}", item.body);
    assert_eq!(item.body, expected);

    let list = server.get_query("/Groups", &[("excludedAttributes", "members")]).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.body["Resources"], json!([expected]));

    let list_full = server.get("/Groups").await;
    assert_eq!(list_full.body["Resources"], json!([full]));

    let filtered =
        server.get_query("/Groups", &[("excludedAttributes", "members"), ("filter", r#"externalId eq "G1""#)]).await;
    assert_eq!(filtered.body["Resources"], json!([expected]), "{}", filtered.body);
}

#[tokio::test]
async fn put_replaces_the_user() {
    let server = TestServer::start().await;
    let mut seed = mona_lisa();
    seed["nickName"] = json!("Monalisa");
    seed["title"] = json!("Chief Octocat");
    seed["phoneNumbers"] = json!([{"value": "+1 555 0100", "type": "work"}]);
    seed[ENTERPRISE_URN] = json!({"employeeNumber": "42"});
    seed["schemas"] = json!([USER_URN, ENTERPRISE_URN]);
    let id = server.create_user_from(seed).await;
    let group_id = server.create_group("Employees", "G1").await;
    let joined = server
        .patch_ops(&format!("/Groups/{group_id}"), json!([{"op": "add", "path": "members", "value": [{"value": id}]}]))
        .await;
    assert_eq!(joined.status, StatusCode::NO_CONTENT, "{}", joined.body);
    let path = format!("/Users/{id}");
    let before = server.fetch(&path).await;
    assert_eq!(before["nickName"], "Monalisa");

    let mut replacement = mona_lisa();
    replacement["displayName"] = json!("Monalisa Octocat");
    let replaced = server.put(&path, replacement.clone()).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    let after = server.fetch(&path).await;
    assert_eq!(replaced.body, after);

    // What was not supplied is gone; the read-only `groups` and the identity stay.
    let mut expected = replacement;
    expected["schemas"] = json!([USER_URN, GITHUB_URN]);
    expected["id"] = json!(id);
    expected["groups"] = json!([{"value": group_id, "$ref": format!("{}/Groups/{group_id}", server.base), "display": "Employees", "type": "direct"}]);
    expected[GITHUB_URN] = json!({"login": "E012345_acme"});
    assert_eq!(without_meta(&after), expected);
    assert_eq!(after["meta"]["created"], before["meta"]["created"]);
    assert_ne!(after["meta"]["version"], before["meta"]["version"]);
}

#[tokio::test]
async fn put_group_without_members_removes_them() {
    let server = TestServer::start().await;
    let first = server.create_user("mona@example.com", "E1").await;
    let second = server.create_user("hubot@example.com", "E2").await;
    let created = server.post("/Groups", group_body("Employees", "G1", &[&first, &second])).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let group_id = created.body["id"].as_str().expect("id").to_owned();
    let path = format!("/Groups/{group_id}");
    assert_eq!(member_values(&server.fetch(&path).await, "members"), sorted(&[&first, &second]));

    let replaced = server.put(&path, group_body("Staff", "G1", &[])).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    let group = server.fetch(&path).await;
    assert_eq!(replaced.body, group);
    assert_eq!(
        without_meta(&group),
        json!({"schemas": [GROUP_URN], "id": group_id, "externalId": "G1", "displayName": "Staff"})
    );
    for user in [&first, &second] {
        assert_eq!(member_values(&server.fetch(&format!("/Users/{user}")).await, "groups"), Vec::<String>::new());
    }
}

#[tokio::test]
async fn deleting_a_user_removes_it_from_its_groups() {
    let server = TestServer::start().await;
    let mona = server.create_user("mona@example.com", "E1").await;
    let hubot = server.create_user("hubot@example.com", "E2").await;
    let created = server.post("/Groups", group_body("Employees", "G1", &[&mona, &hubot])).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let path = format!("/Groups/{}", created.body["id"].as_str().expect("id"));
    let deleted = server.delete(&format!("/Users/{mona}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert_eq!(member_values(&server.fetch(&path).await, "members"), sorted(&[&hubot]));
}

#[tokio::test]
async fn group_patch_answers_the_group_when_attributes_are_asked_for() {
    let server = TestServer::start().await;
    let mona = server.create_user("mona@example.com", "E1").await;
    let group_id = server.create_group("Employees", "G1").await;
    let path = format!("/Groups/{group_id}");
    let add =
        |user: &str| crate::support::patch_body(json!([{"op": "add", "path": "members", "value": [{"value": user}]}]));

    let quiet = server.patch(&path, add(&mona)).await;
    assert_eq!(quiet.status, StatusCode::NO_CONTENT, "{}", quiet.body);
    assert_eq!(quiet.body, Value::Null);

    // Adding a member twice keeps one membership.
    let url =
        reqwest::Url::parse_with_params(&format!("{}{path}", server.base), &[("attributes", "members,displayName")])
            .expect("URL");
    let loud = server.send_as(&server.token, reqwest::Method::PATCH, url.as_str(), Some(add(&mona)), &[]).await;
    assert_eq!(loud.status, StatusCode::OK, "{}", loud.body);
    assert_eq!(member_values(&loud.body, "members"), sorted(&[&mona]));
    assert_eq!(loud.body["displayName"], "Employees");
    assert!(loud.body.get("externalId").is_none(), "{}", loud.body);

    let url = reqwest::Url::parse_with_params(&format!("{}{path}", server.base), &[("excludedAttributes", "members")])
        .expect("URL");
    let renamed = crate::support::patch_body(json!([{"op": "replace", "path": "displayName", "value": "Staff"}]));
    let without_members = server.send_as(&server.token, reqwest::Method::PATCH, url.as_str(), Some(renamed), &[]).await;
    assert_eq!(without_members.status, StatusCode::OK, "{}", without_members.body);
    assert!(without_members.body.get("members").is_none(), "{}", without_members.body);
    assert_eq!(without_members.body["displayName"], "Staff");

    let group = server.fetch(&path).await;
    assert_eq!(member_values(&group, "members"), sorted(&[&mona]));
    assert_eq!(without_meta(&without_members.body), {
        let mut expected = without_meta(&group);
        expected.as_object_mut().expect("object").remove("members");
        expected
    });
}

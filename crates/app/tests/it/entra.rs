//! Golden replays of the requests Microsoft Entra's provisioning service sends (reference §1.7), in its default
//! dialect and in the `aadOptscim062020` one. Every test reads the result back with a GET.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    ENTERPRISE_URN, GITHUB_URN, GROUP_URN, LIST_RESPONSE, TestServer, USER_URN, member_values, sorted, without_meta,
};

const ADSCIM_GROUP: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

/// Entra's create body (use-scim), verbatim but for the values the reference elides.
fn entra_user_body() -> Value {
    json!({
        "schemas": [USER_URN, ENTERPRISE_URN],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee",
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": []
    })
}

/// Entra's create body with the `displayName` EMU requires (the gallery connector maps it), and unique values
/// derived from `n`.
fn entra_emu_user(n: usize) -> Value {
    let mut body = entra_user_body();
    body["userName"] = json!(format!("Test_User_{n}"));
    body["externalId"] = json!(format!("0a21f0f2-0000-0000-0000-{n:012}"));
    body["emails"][0]["value"] = json!(format!("Test_User_{n}@testuser.com"));
    body["displayName"] = json!(format!("Test User {n}"));
    body
}

#[tokio::test]
async fn create_user_body_without_display_name_is_refused_because_emu_requires_it() {
    let server = TestServer::start().await;
    let answer = server.post("/Users", entra_user_body()).await;
    answer.assert_error(400, Some("invalidValue"));
    assert!(answer.body["detail"].as_str().unwrap_or_default().contains("displayName"), "{}", answer.body);
    assert_eq!(server.total("/Users").await, 0);
}

#[tokio::test]
async fn create_user_then_get_by_id() {
    let server = TestServer::start().await;
    let mut body = entra_user_body();
    body["displayName"] = json!("Test User");
    let created = server.post("/Users", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    // The read-only `meta` of the request is ignored, the empty `roles` is unassigned, and the enterprise URN
    // goes because no enterprise attribute is present (RFC 7643 §3).
    let expected = json!({
        "schemas": [USER_URN, GITHUB_URN],
        "id": id,
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee",
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "displayName": "Test User",
        GITHUB_URN: {"login": "Test-User-ab6490ee_acme"},
    });
    assert_eq!(without_meta(&created.body), expected);
    assert_eq!(created.body["meta"]["resourceType"], "User");
    assert_eq!(created.body["meta"]["location"], format!("{}/Users/{id}", server.base));

    let fetched = server.get(&format!("/Users/{id}")).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body, created.body);

    // Entra's documented 404 for an id it no longer finds.
    server.get("/Users/2819c223-7f76-453a-919d-413861904646").await.assert_error(404, None);
}

#[tokio::test]
async fn query_by_user_name_and_external_id() {
    let server = TestServer::start().await;
    let query = async |f: &str| {
        let answer = server.get_query("/Users", &[("filter", f)]).await;
        assert_eq!(answer.status, StatusCode::OK, "{f}: {}", answer.body);
        answer.body
    };

    let none = query(r#"userName eq "Test_User_0""#).await;
    assert_eq!(none["schemas"], json!([LIST_RESPONSE]));
    assert_eq!(none["totalResults"], 0);
    assert_eq!(none["Resources"].as_array().map_or(0, Vec::len), 0, "{none}");

    let id = server.create_user_from(entra_emu_user(0)).await;
    let user = server.fetch(&format!("/Users/{id}")).await;
    for f in [r#"userName eq "Test_User_0""#, r#"externalId eq "0a21f0f2-0000-0000-0000-000000000000""#] {
        let one = query(f).await;
        assert_eq!(one["schemas"], json!([LIST_RESPONSE]), "{f}");
        assert_eq!(one["totalResults"], 1, "{f}");
        assert_eq!(one["startIndex"], 1, "{f}");
        assert_eq!(one["itemsPerPage"], 1, "{f}");
        assert_eq!(one["Resources"], json!([user]), "{f}");
    }
}

/// Creates a user from `seed`, applies `operations`, and checks that the PATCH answers 200 with the stored
/// resource and that each JSON pointer of the stored resource has the expected value (`null` for absent).
async fn check_user_patch(server: &TestServer, case: &str, seed: Value, operations: Value, expected: &[(&str, Value)]) {
    let id = server.create_user_from(seed).await;
    let answer = server.patch_ops(&format!("/Users/{id}"), operations).await;
    assert_eq!(answer.status, StatusCode::OK, "{case}: {}", answer.body);
    let stored = server.fetch(&format!("/Users/{id}")).await;
    assert_eq!(answer.body, stored, "{case}: the PATCH answer is the stored resource");
    for (pointer, want) in expected {
        assert_eq!(stored.pointer(pointer).unwrap_or(&Value::Null), want, "{case}: {pointer} in {stored}");
    }
}

/// JSON pointers into a resource and the values expected there (`null` for absent).
type Expectations<'a> = Vec<(&'a str, Value)>;

#[tokio::test]
async fn user_patches_in_both_dialects() {
    let server = TestServer::start().await;
    let manager_id = server.create_user("manager@contoso.com", "manager").await;
    let manager_ref = format!("{}/Users/{manager_id}", server.base);
    let home_only = {
        let mut body = entra_emu_user(9);
        body["emails"] = json!([{"primary": true, "type": "home", "value": "home9@example.net"}]);
        body
    };
    let enterprise = |attribute: &str| format!("/{ENTERPRISE_URN}/{attribute}");
    let employee_number = enterprise("employeeNumber");
    let login = format!("/{GITHUB_URN}/login");
    let manager = enterprise("manager");
    let cases: Vec<(&str, Value, Value, Expectations)> = vec![
        (
            "multi-valued update: Replace emails[type eq \"work\"].value and name.familyName",
            entra_emu_user(1),
            json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            ]),
            vec![
                ("/emails", json!([{"primary": true, "type": "work", "value": "updatedEmail@microsoft.com"}])),
                (
                    "/name",
                    json!({"formatted": "givenName familyName", "familyName": "updatedFamilyName", "givenName": "givenName"}),
                ),
            ],
        ),
        (
            "single-valued update: Replace userName renames the login",
            entra_emu_user(2),
            json!([{"op": "Replace", "path": "userName", "value": "5b50a1d4@testuser.com"}]),
            vec![("/userName", json!("5b50a1d4@testuser.com")), (login.as_str(), json!("5b50a1d4_acme"))],
        ),
        (
            "disable, default dialect: the string \"False\"",
            entra_emu_user(3),
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
            vec![("/active", json!(false))],
        ),
        (
            "disable, aadOptscim062020: a boolean",
            entra_emu_user(4),
            json!([{"op": "replace", "path": "active", "value": false}]),
            vec![("/active", json!(false))],
        ),
        (
            "replace several, default dialect: one Replace per attribute, URN-qualified extension path",
            entra_emu_user(5),
            json!([
                {"op": "Replace", "path": "externalId", "value": "new-external-5"},
                {"op": "Replace", "path": "displayName", "value": "Babs Jensen"},
                {"op": "Replace", "path": "name.givenName", "value": "Barbara"},
                {"op": "Replace", "path": format!("{ENTERPRISE_URN}:employeeNumber"), "value": "701984"},
            ]),
            vec![
                ("/externalId", json!("new-external-5")),
                ("/displayName", json!("Babs Jensen")),
                ("/name/givenName", json!("Barbara")),
                ("/name/familyName", json!("familyName")),
                (employee_number.as_str(), json!("701984")),
                ("/schemas", json!([USER_URN, ENTERPRISE_URN, GITHUB_URN])),
            ],
        ),
        (
            "replace several, aadOptscim062020: a filtered path plus a path-less replace with dotted and URN keys",
            entra_emu_user(6),
            json!([
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "babs@contoso.com"},
                {"op": "replace", "value": {
                    "displayName": "Babs Jensen",
                    "name.givenName": "Barbara",
                    "name.familyName": "Jensen",
                    format!("{ENTERPRISE_URN}:employeeNumber"): "701984",
                }},
            ]),
            vec![
                ("/emails", json!([{"primary": true, "type": "work", "value": "babs@contoso.com"}])),
                ("/displayName", json!("Babs Jensen")),
                ("/name", json!({"formatted": "givenName familyName", "familyName": "Jensen", "givenName": "Barbara"})),
                (employee_number.as_str(), json!("701984")),
                ("/name.givenName", Value::Null),
                ("/schemas", json!([USER_URN, ENTERPRISE_URN, GITHUB_URN])),
            ],
        ),
        (
            "Add of a single-valued string, default dialect",
            entra_emu_user(7),
            json!([{"op": "Add", "path": "nickName", "value": "Babs"}]),
            vec![("/nickName", json!("Babs"))],
        ),
        (
            "add of a single-valued string, aadOptscim062020",
            entra_emu_user(8),
            json!([{"op": "add", "path": "nickName", "value": "Babs"}]),
            vec![("/nickName", json!("Babs"))],
        ),
        (
            "a filtered-path Add on a missing element creates it",
            home_only,
            json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "work9@contoso.com"}]),
            vec![(
                "/emails",
                json!([
                    {"primary": true, "type": "home", "value": "home9@example.net"},
                    {"type": "work", "value": "work9@contoso.com"},
                ]),
            )],
        ),
        // Entra's `manager` path is unqualified. RFC 7644 §3.10 says clients SHOULD (not MUST) qualify extension
        // attributes, and `manager` exists only in the enterprise extension, so it resolves there unambiguously;
        // the one-element array is a single complex value.
        (
            "manager: Add with an unqualified path and a one-element array",
            entra_emu_user(10),
            json!([{"op": "Add", "path": "manager", "value": [{"$ref": &manager_ref, "value": &manager_id}]}]),
            vec![
                (manager.as_str(), json!({"$ref": &manager_ref, "value": &manager_id})),
                ("/manager", Value::Null),
                ("/schemas", json!([USER_URN, ENTERPRISE_URN, GITHUB_URN])),
            ],
        ),
        (
            "manager: Replace with the qualified path and a bare id",
            entra_emu_user(11),
            json!([{"op": "Replace", "path": format!("{ENTERPRISE_URN}:manager"), "value": &manager_id}]),
            vec![(manager.as_str(), json!({"value": &manager_id})), ("/manager", Value::Null)],
        ),
    ];
    for (case, seed, operations, expected) in cases {
        check_user_patch(&server, case, seed, operations, &expected).await;
    }
}

#[tokio::test]
async fn delete_user() {
    let server = TestServer::start().await;
    let id = server.create_user_from(entra_emu_user(1)).await;
    let deleted = server.delete(&format!("/Users/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(deleted.body, Value::Null);
    server.get(&format!("/Users/{id}")).await.assert_error(404, None);
    server.delete(&format!("/Users/{id}")).await.assert_error(404, None);
    assert_eq!(server.total("/Users").await, 0);
}

/// Entra's group create body.
fn entra_group_body() -> Value {
    json!({
        "schemas": [GROUP_URN, ADSCIM_GROUP],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
        "meta": {"resourceType": "Group"}
    })
}

/// Creates Entra's group and `n_users` users, and returns their ids.
async fn group_and_users(server: &TestServer, n_users: usize) -> (String, Vec<String>) {
    let created = server.post("/Groups", entra_group_body()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let group_id = created.body["id"].as_str().expect("id").to_owned();
    let mut user_ids = Vec::new();
    for n in 0..n_users {
        user_ids.push(server.create_user_from(entra_emu_user(n)).await);
    }
    (group_id, user_ids)
}

/// PATCHes a group the way Entra does and expects 204 with no body.
async fn patch_group_quietly(server: &TestServer, group_id: &str, operations: Value) {
    let answer = server.patch_ops(&format!("/Groups/{group_id}"), operations).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    assert_eq!(answer.body, Value::Null);
}

#[tokio::test]
async fn create_group_without_members_and_get_it() {
    let server = TestServer::start().await;
    let created = server.post("/Groups", entra_group_body()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    let expected = json!({
        "schemas": [GROUP_URN],
        "id": id,
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
    });
    assert_eq!(without_meta(&created.body), expected);
    assert_eq!(created.body["meta"]["resourceType"], "Group");
    assert_eq!(created.body["meta"]["location"], format!("{}/Groups/{id}", server.base));
    assert_eq!(server.fetch(&format!("/Groups/{id}")).await, created.body);
}

#[tokio::test]
async fn get_and_query_groups_without_members() {
    let server = TestServer::start().await;
    let (group_id, users) = group_and_users(&server, 1).await;
    patch_group_quietly(
        &server,
        &group_id,
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": users[0]}]}]),
    )
    .await;
    let full = server.fetch(&format!("/Groups/{group_id}")).await;
    assert_eq!(member_values(&full, "members"), sorted(&[&users[0]]));

    let item = server.get_query(&format!("/Groups/{group_id}"), &[("excludedAttributes", "members")]).await;
    assert_eq!(item.status, StatusCode::OK, "{}", item.body);
    let mut expected = full.clone();
    expected.as_object_mut().expect("object").remove("members");
    assert_eq!(item.body, expected);

    let list = server
        .get_query("/Groups", &[("excludedAttributes", "members"), ("filter", r#"displayName eq "displayName""#)])
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.body["totalResults"], 1);
    assert_eq!(list.body["Resources"], json!([expected]));

    let other = server.get_query("/Groups", &[("filter", r#"displayName eq "otherName""#)]).await;
    assert_eq!(other.body["totalResults"], 0, "{}", other.body);
}

#[tokio::test]
async fn rename_group() {
    let server = TestServer::start().await;
    let (group_id, _) = group_and_users(&server, 0).await;
    patch_group_quietly(
        &server,
        &group_id,
        json!([{"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]),
    )
    .await;
    let group = server.fetch(&format!("/Groups/{group_id}")).await;
    assert_eq!(group["displayName"], "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName");
    assert_eq!(group["externalId"], "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159");
}

#[tokio::test]
async fn add_and_remove_members_in_both_dialects() {
    let server = TestServer::start().await;
    let (group_id, users) = group_and_users(&server, 4).await;
    let path = format!("/Groups/{group_id}");
    for user in &users {
        patch_group_quietly(
            &server,
            &group_id,
            json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": user}]}]),
        )
        .await;
    }
    let all: Vec<&str> = users.iter().map(String::as_str).collect();
    assert_eq!(member_values(&server.fetch(&path).await, "members"), sorted(&all));

    // Default dialect: Remove with path `members` and a value array removes exactly those members.
    patch_group_quietly(
        &server,
        &group_id,
        json!([{"op": "Remove", "path": "members", "value": [{"value": users[1]}]}]),
    )
    .await;
    assert_eq!(member_values(&server.fetch(&path).await, "members"), sorted(&[&users[0], &users[2], &users[3]]));

    // aadOptscim062020: a value filter in the path.
    patch_group_quietly(
        &server,
        &group_id,
        json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", users[2])}]),
    )
    .await;
    assert_eq!(member_values(&server.fetch(&path).await, "members"), sorted(&[&users[0], &users[3]]));

    // Several members in one filter, then a Replace of the whole list.
    patch_group_quietly(
        &server,
        &group_id,
        json!([{"op": "add", "path": "members", "value": [{"value": users[1]}, {"value": users[2]}]}]),
    )
    .await;
    let filter = format!("members[value eq \"{}\" or value eq \"{}\"]", users[0], users[3]);
    patch_group_quietly(&server, &group_id, json!([{"op": "remove", "path": filter}])).await;
    assert_eq!(member_values(&server.fetch(&path).await, "members"), sorted(&[&users[1], &users[2]]));
    patch_group_quietly(
        &server,
        &group_id,
        json!([{"op": "Replace", "path": "members", "value": [{"value": users[0]}]}]),
    )
    .await;
    assert_eq!(member_values(&server.fetch(&path).await, "members"), sorted(&[&users[0]]));

    // The removed users are still there, and no longer list the group.
    let removed = server.fetch(&format!("/Users/{}", users[1])).await;
    assert_eq!(member_values(&removed, "groups"), Vec::<String>::new());
    let kept = server.fetch(&format!("/Users/{}", users[0])).await;
    assert_eq!(member_values(&kept, "groups"), sorted(&[&group_id]));
}

#[tokio::test]
async fn delete_group() {
    let server = TestServer::start().await;
    let (group_id, users) = group_and_users(&server, 1).await;
    patch_group_quietly(&server, &group_id, json!([{"op": "Add", "path": "members", "value": [{"value": users[0]}]}]))
        .await;
    let deleted = server.delete(&format!("/Groups/{group_id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(deleted.body, Value::Null);
    server.get(&format!("/Groups/{group_id}")).await.assert_error(404, None);
    assert_eq!(server.total("/Groups").await, 0);
    // Deleting a group deletes no user, and the member no longer lists it.
    let user = server.fetch(&format!("/Users/{}", users[0])).await;
    assert_eq!(member_values(&user, "groups"), Vec::<String>::new());
}

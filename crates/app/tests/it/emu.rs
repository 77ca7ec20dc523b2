//! GitHub Enterprise Managed Users' rules through HTTP: login normalization with `_shortcode` (reference §2.9),
//! uniqueness (409), required attributes and roles (§2.3, §2.4).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{GITHUB_URN, GROUP_URN, TestServer, login_of, user_body};

/// A filter literal: SCIM filter strings are JSON strings.
fn quoted(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// POSTs a user named `user_name` and checks the derived login, or the 400 `invalidValue` refusal (`None`) that
/// leaves nothing behind.
async fn check_login(server: &TestServer, n: usize, user_name: &str, expected: Option<&str>) {
    let answer = server.post("/Users", user_body(user_name, &format!("ext-{n}"))).await;
    match expected {
        Some(login) => {
            assert_eq!(answer.status, StatusCode::CREATED, "{user_name}: {}", answer.body);
            let id = answer.body["id"].as_str().expect("id");
            let user = server.fetch(&format!("/Users/{id}")).await;
            assert_eq!(login_of(&user), login, "{user_name}");
            assert_eq!(user["userName"], user_name, "{user_name}: the userName itself is kept as sent");
        }
        None => {
            answer.assert_error(400, Some("invalidValue"));
            let filter = format!("userName eq {}", quoted(user_name));
            assert_eq!(server.user_names_matching(&filter).await, Vec::<String>::new(), "{user_name}");
        }
    }
}

#[tokio::test]
async fn login_normalization() {
    let server = TestServer::start().await;
    let longest_ok = "a".repeat(39 - "_acme".len());
    let one_too_long = "b".repeat(40 - "_acme".len());
    let cases: &[(&str, Option<&str>)] = &[
        ("The.Octocat", Some("The-Octocat_acme")),
        ("!The.Octocat", None),
        ("The!!Octocat", None),
        ("mona-cat", Some("mona-cat_acme")),
        (&longest_ok, Some(&format!("{longest_ok}_acme"))),
        (&one_too_long, None),
        ("mona.lisa.the.octocat.from.github.united.states@example.com", None),
        ("bob_example#EXT#fabrikamcom@contoso.com", Some("bob_acme")),
        ("mona_lisa_example.com#EXT#@contoso.com", Some("mona-lisa_acme")),
        ("CONTOSO\\jdoe", Some("jdoe_acme")),
        ("jürgen@example.com", Some("j-rgen_acme")),
        ("ends.with.@example.com", None),
        ("@example.com", None),
    ];
    for (n, (user_name, expected)) in cases.iter().enumerate() {
        check_login(&server, n, user_name, *expected).await;
    }
}

#[tokio::test]
async fn logins_that_collide_are_refused_first_wins() {
    let server = TestServer::start().await;
    let first = server.create_user("bob@contoso.com", "bob-1").await;
    // The UPNs GitHub's documentation lists as colliding with bob@contoso.com.
    let others = [
        "bob@fabrikam.com",
        "bob#EXT#fabrikamcom@contoso.com",
        "bob_example#EXT#fabrikamcom@contoso.com",
        "bob_example.com#EXT#fabrikamcom@contoso.com",
    ];
    for (n, user_name) in others.into_iter().enumerate() {
        server
            .post("/Users", user_body(user_name, &format!("bob-{}", n + 2)))
            .await
            .assert_error(409, Some("uniqueness"));
    }
    assert_eq!(server.user_names_matching(r#"userName sw "bob""#).await, vec!["bob@contoso.com"]);
    assert_eq!(login_of(&server.fetch(&format!("/Users/{first}")).await), "bob_acme");
}

/// POSTs `first` then `second` to `collection` on a fresh server; the second answers `expected` (409 must be
/// `uniqueness` and store nothing).
async fn check_duplicate(case: &str, collection: &str, first: Value, second: Value, expected: u16) {
    let server = TestServer::start().await;
    let created = server.post(collection, first).await;
    assert_eq!(created.status, StatusCode::CREATED, "{case}: {}", created.body);
    let answer = server.post(collection, second).await;
    if expected == 409 {
        answer.assert_error(409, Some("uniqueness"));
        assert_eq!(server.total(collection).await, 1, "{case}");
        let id = created.body["id"].as_str().expect("id");
        assert_eq!(server.fetch(&format!("{collection}/{id}")).await, created.body, "{case}");
    } else {
        assert_eq!(answer.status.as_u16(), expected, "{case}: {}", answer.body);
        assert_eq!(server.total(collection).await, 2, "{case}");
    }
}

fn group(display_name: &str, external_id: &str) -> Value {
    json!({"schemas": [GROUP_URN], "externalId": external_id, "displayName": display_name})
}

#[tokio::test]
async fn duplicates() {
    let cases = [
        (
            "userName differs only in case",
            "/Users",
            user_body("Alice@x.com", "e1"),
            user_body("alice@x.com", "e2"),
            409,
        ),
        ("same externalId", "/Users", user_body("carol@x.com", "e3"), user_body("dave@x.com", "e3"), 409),
        ("user externalId is case-exact", "/Users", user_body("erin@x.com", "E4"), user_body("frank@x.com", "e4"), 201),
        ("same group externalId", "/Groups", group("Eng", "g1"), group("Ops", "g1"), 409),
        (
            "group displayName differs only in case",
            "/Groups",
            group("Engineering", "g2"),
            group("ENGINEERING", "g3"),
            409,
        ),
        ("group externalId is case-exact", "/Groups", group("Sales", "G5"), group("Marketing", "g5"), 201),
    ];
    for (case, collection, first, second, expected) in cases {
        check_duplicate(case, collection, first, second, expected).await;
    }
}

/// POSTs `body` and expects a 400 with `scim_type`, and nothing stored.
async fn check_refused(server: &TestServer, case: &str, collection: &str, body: Value, scim_type: &str) {
    let answer = server.post(collection, body).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{case}: {}", answer.body);
    answer.assert_error(400, Some(scim_type));
    assert_eq!(server.total(collection).await, 0, "{case}");
}

#[tokio::test]
async fn required_attributes() {
    let server = TestServer::start().await;
    let without = |body: Value, attribute: &str| {
        let mut body = body;
        body.as_object_mut().expect("object").remove(attribute);
        body
    };
    let with = |body: Value, attribute: &str, value: Value| {
        let mut body = body;
        body[attribute] = value;
        body
    };
    let user = || user_body("mona@example.com", "E1");
    let cases = [
        ("user without externalId", "/Users", without(user(), "externalId"), "invalidValue"),
        ("user without userName", "/Users", without(user(), "userName"), "invalidValue"),
        ("user without displayName", "/Users", without(user(), "displayName"), "invalidValue"),
        ("user without emails", "/Users", without(user(), "emails"), "invalidValue"),
        ("user without active", "/Users", without(user(), "active"), "invalidValue"),
        ("user with an empty externalId", "/Users", with(user(), "externalId", json!("")), "invalidValue"),
        ("user with a null userName", "/Users", with(user(), "userName", Value::Null), "invalidValue"),
        ("user without schemas", "/Users", without(user(), "schemas"), "invalidSyntax"),
        ("group without externalId", "/Groups", without(group("Eng", "g1"), "externalId"), "invalidValue"),
        ("group without displayName", "/Groups", without(group("Eng", "g1"), "displayName"), "invalidValue"),
    ];
    for (case, collection, body, scim_type) in cases {
        check_refused(&server, case, collection, body, scim_type).await;
    }
}

/// POSTs a user with one role: accepted roles are echoed by GET, others are 400 `invalidValue`.
async fn check_role(server: &TestServer, n: usize, role: &str, accepted: bool) {
    let mut body = user_body(&format!("user{n}@example.com"), &format!("ext-{n}"));
    body["roles"] = json!([{"value": role, "primary": true}]);
    let answer = server.post("/Users", body).await;
    if accepted {
        assert_eq!(answer.status, StatusCode::CREATED, "{role}: {}", answer.body);
        let id = answer.body["id"].as_str().expect("id");
        let user = server.fetch(&format!("/Users/{id}")).await;
        assert_eq!(user["roles"], json!([{"value": role, "primary": true}]), "{role}");
    } else {
        answer.assert_error(400, Some("invalidValue"));
        let filter = format!(r#"userName eq "user{n}@example.com""#);
        assert_eq!(server.user_names_matching(&filter).await, Vec::<String>::new(), "{role}");
    }
}

#[tokio::test]
async fn roles_are_github_roles() {
    let server = TestServer::start().await;
    let cases = [
        ("user", true),
        ("enterprise_owner", true),
        ("billing_manager", true),
        ("guest_collaborator", true),
        ("27d9891d-2c17-4f45-a262-781a0e55c80a", true),
        ("1ebc4a02-e56c-43a6-92a5-02ee09b90824", true),
        ("admin", false),
        ("owner", false),
        ("27d9891d-2c17-4f45-a262-000000000000", false),
    ];
    for (n, (role, accepted)) in cases.into_iter().enumerate() {
        check_role(&server, n, role, accepted).await;
    }

    // A PATCH cannot bring in a role outside the list either.
    let id = server.create_user("mona@example.com", "E1").await;
    let path = format!("/Users/{id}");
    let before = server.fetch(&path).await;
    server
        .patch_ops(&path, json!([{"op": "add", "path": "roles", "value": [{"value": "admin"}]}]))
        .await
        .assert_error(400, Some("invalidValue"));
    assert_eq!(server.fetch(&path).await, before);
}

#[tokio::test]
async fn patching_user_name_renames_the_login() {
    let server = TestServer::start().await;
    let id = server.create_user("mona@example.com", "E1").await;
    let path = format!("/Users/{id}");
    assert_eq!(login_of(&server.fetch(&path).await), "mona_acme");
    let answer =
        server.patch_ops(&path, json!([{"op": "replace", "path": "userName", "value": "mona.lisa@example.com"}])).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let user = server.fetch(&path).await;
    assert_eq!(user["userName"], "mona.lisa@example.com");
    assert_eq!(login_of(&user), "mona-lisa_acme");
    // The old login is free again.
    let reused = server.create_user("mona@fabrikam.com", "E2").await;
    assert_eq!(login_of(&server.fetch(&format!("/Users/{reused}")).await), "mona_acme");
}

#[tokio::test]
async fn a_write_that_would_collide_logins_changes_nothing() {
    let server = TestServer::start().await;
    server.create_user("alpha@example.com", "A").await;
    let beta = server.create_user("beta@example.com", "B").await;
    let path = format!("/Users/{beta}");
    let before = server.fetch(&path).await;

    let patched = server
        .patch_ops(
            &path,
            json!([
                {"op": "replace", "path": "displayName", "value": "Changed"},
                {"op": "replace", "path": "userName", "value": "alpha@other.com"},
            ]),
        )
        .await;
    patched.assert_error(409, Some("uniqueness"));
    assert_eq!(server.fetch(&path).await, before);

    let mut replacement = user_body("alpha@third.com", "B");
    replacement["displayName"] = json!("Changed");
    server.put(&path, replacement).await.assert_error(409, Some("uniqueness"));
    assert_eq!(server.fetch(&path).await, before);
}

/// PATCHes `path` with `operations`, expects a 400 with `scim_type`, and checks that nothing changed.
async fn check_patch_refused(server: &TestServer, case: &str, path: &str, operations: Value, scim_type: &str) {
    let before = server.fetch(path).await;
    let answer = server.patch_ops(path, operations).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{case}: {}", answer.body);
    answer.assert_error(400, Some(scim_type));
    assert_eq!(server.fetch(path).await, before, "{case}");
}

#[tokio::test]
async fn patches_cannot_break_the_rules() {
    let server = TestServer::start().await;
    let id = server.create_user("mona@example.com", "E1").await;
    let user = format!("/Users/{id}");
    let group_id = server.create_group("Engineering", "G1").await;
    let group = format!("/Groups/{group_id}");
    let remove = |path: &str| json!([{"op": "remove", "path": path}]);
    let cases = [
        ("remove userName", user.as_str(), remove("userName"), "mutability"),
        ("remove displayName", user.as_str(), remove("displayName"), "mutability"),
        ("remove emails", user.as_str(), remove("emails"), "mutability"),
        ("remove active", user.as_str(), remove("active"), "mutability"),
        (
            "replace userName with a login GitHub refuses",
            user.as_str(),
            json!([{"op": "replace", "path": "userName", "value": "!mona"}]),
            "invalidValue",
        ),
        (
            "replace the read-only login",
            user.as_str(),
            json!([{"op": "replace", "path": format!("{GITHUB_URN}:login"), "value": "x_acme"}]),
            "mutability",
        ),
        (
            "replace an unknown attribute",
            user.as_str(),
            json!([{"op": "replace", "path": "nosuch", "value": "x"}]),
            "invalidPath",
        ),
        ("remove without a path", user.as_str(), json!([{"op": "remove"}]), "noTarget"),
        ("remove the group's displayName", group.as_str(), remove("displayName"), "mutability"),
        (
            "add a member that does not exist",
            group.as_str(),
            json!([{"op": "add", "path": "members", "value": [{"value": "nobody"}]}]),
            "invalidValue",
        ),
    ];
    for (case, path, operations, scim_type) in cases {
        check_patch_refused(&server, case, path, operations, scim_type).await;
    }
}

#[tokio::test]
async fn writes_that_would_duplicate_are_409_and_change_nothing() {
    let server = TestServer::start().await;
    server.create_user("alice@example.com", "A").await;
    let bob = server.create_user("bob@example.com", "B").await;
    server.create_group("Engineering", "G1").await;
    let sales = server.create_group("Sales", "G2").await;
    let bob_path = format!("/Users/{bob}");
    let sales_path = format!("/Groups/{sales}");
    let replace = |path: &str, value: &str| json!([{"op": "replace", "path": path, "value": value}]);
    let cases = [
        ("userName differing only in case", bob_path.as_str(), replace("userName", "ALICE@example.com")),
        ("another user's externalId", bob_path.as_str(), replace("externalId", "A")),
        ("another group's displayName, other case", sales_path.as_str(), replace("displayName", "engineering")),
        ("another group's externalId", sales_path.as_str(), replace("externalId", "G1")),
    ];
    for (case, path, operations) in cases {
        let before = server.fetch(path).await;
        let answer = server.patch_ops(path, operations).await;
        assert_eq!(answer.status, StatusCode::CONFLICT, "{case}: {}", answer.body);
        answer.assert_error(409, Some("uniqueness"));
        assert_eq!(server.fetch(path).await, before, "{case}");
    }
}

#[tokio::test]
async fn an_email_keeps_its_address() {
    let server = TestServer::start().await;
    let mut body = user_body("ann@example.com", "ann");
    body["emails"] = json!([{"value": "ann@example.com", "type": "work", "primary": true}, {"type": "home"}]);
    server.post("/Users", body).await.assert_error(400, Some("invalidValue"));
    let id = server.create_user("ann@example.com", "ann").await;
    let answer = server
        .patch_ops(&format!("/Users/{id}"), json!([{"op": "remove", "path": "emails[type eq \"work\"].value"}]))
        .await;
    assert_eq!(answer.status.as_u16(), 400, "{}", answer.body);
    let user = server.fetch(&format!("/Users/{id}")).await;
    assert_eq!(user["emails"][0]["value"], "ann@example.com");
}

#[tokio::test]
async fn entra_custom_extension_paths_are_ignored_not_refused() {
    let server = TestServer::start().await;
    let id = server.create_user("cy@example.com", "cy").await;
    let custom = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User";
    let answer = server
        .patch_ops(
            &format!("/Users/{id}"),
            json!([
                {"op": "Add", "path": format!("{custom}:costCenter"), "value": "x"},
                {"op": "Replace", "path": "displayName", "value": "Cy Renamed"},
            ]),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let user = server.fetch(&format!("/Users/{id}")).await;
    assert_eq!(user["displayName"], "Cy Renamed");
    assert!(user.get(custom).is_none(), "{user}");
}

#[tokio::test]
async fn at_most_one_email_is_primary() {
    let server = TestServer::start().await;
    let mut body = user_body("two@example.com", "two");
    body["emails"] = json!([
        {"value": "two@example.com", "type": "work", "primary": true},
        {"value": "two@home.example", "type": "home", "primary": true},
    ]);
    server.post("/Users", body).await.assert_error(400, Some("invalidValue"));
    assert_eq!(server.total("/Users").await, 0);
}

//! RFC 7644 protocol behaviour over HTTP: ETags and preconditions, limits and error statuses, media types,
//! filters, paging, sorting, projection, `/.search`, discovery and concurrent writes.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    Answer, ENTERPRISE_URN, GITHUB_URN, GROUP_URN, LIST_RESPONSE, TestServer, USER_URN, member_values, patch_body,
    sorted, strings_at, user_body,
};

const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

fn rename(display_name: &str) -> Value {
    patch_body(json!([{"op": "replace", "path": "displayName", "value": display_name}]))
}

// ---------------------------------------------------------------------------------------------------------------
// ETags and preconditions (RFC 7644 §3.14).

#[tokio::test]
async fn etags_and_preconditions() {
    let server = TestServer::start().await;
    let id = server.create_user("mona@example.com", "E1").await;
    let path = format!("/Users/{id}");
    let first = server.get(&path).await;
    let etag = first.header("etag").expect("an ETag").to_owned();
    assert_eq!(first.body["meta"]["version"], etag.as_str());

    let not_modified = server.send_with(Method::GET, &path, None, &[("if-none-match", etag.as_str())]).await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    assert_eq!(not_modified.body, Value::Null);
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    let modified = server.send_with(Method::GET, &path, None, &[("if-none-match", "W/\"999999\"")]).await;
    assert_eq!(modified.status, StatusCode::OK);
    assert_eq!(modified.body, first.body);

    let current = server.send_with(Method::PATCH, &path, Some(rename("First")), &[("if-match", etag.as_str())]).await;
    assert_eq!(current.status, StatusCode::OK, "{}", current.body);
    let new_etag = current.header("etag").expect("an ETag").to_owned();
    assert_ne!(new_etag, etag);
    assert_eq!(current.body["meta"]["version"], new_etag.as_str());
    let after_first = server.fetch(&path).await;
    assert_eq!(after_first["displayName"], "First");

    // The first ETag is stale now: every write with it is refused and changes nothing.
    server
        .send_with(Method::PATCH, &path, Some(rename("Second")), &[("if-match", etag.as_str())])
        .await
        .assert_error(412, None);
    let replacement = user_body("mona@example.com", "E1");
    server
        .send_with(Method::PUT, &path, Some(replacement), &[("if-match", etag.as_str())])
        .await
        .assert_error(412, None);
    server.send_with(Method::DELETE, &path, None, &[("if-match", etag.as_str())]).await.assert_error(412, None);
    assert_eq!(server.fetch(&path).await, after_first);

    let any = server.send_with(Method::PATCH, &path, Some(rename("Third")), &[("if-match", "*")]).await;
    assert_eq!(any.status, StatusCode::OK, "{}", any.body);
    let after_third = server.fetch(&path).await;
    assert_eq!(after_third["displayName"], "Third");
    let latest = after_third["meta"]["version"].as_str().expect("version").to_owned();

    let deleted = server.send_with(Method::DELETE, &path, None, &[("if-match", latest.as_str())]).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    server.get(&path).await.assert_error(404, None);
}

#[tokio::test]
async fn group_etags_change_on_quiet_patches() {
    let server = TestServer::start().await;
    let group_id = server.create_group("Engineering", "G1").await;
    let path = format!("/Groups/{group_id}");
    let before = server.get(&path).await;
    let etag = before.header("etag").expect("an ETag").to_owned();
    let patched = server.send_with(Method::PATCH, &path, Some(rename("Eng")), &[("if-match", etag.as_str())]).await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.body);
    let after = server.get(&path).await;
    assert_eq!(after.body["displayName"], "Eng");
    assert_eq!(patched.header("etag"), after.header("etag"));
    assert_ne!(after.header("etag"), Some(etag.as_str()));
    server
        .send_with(Method::PATCH, &path, Some(rename("Stale")), &[("if-match", etag.as_str())])
        .await
        .assert_error(412, None);
    assert_eq!(server.fetch(&path).await["displayName"], "Eng");
}

// ---------------------------------------------------------------------------------------------------------------
// Limits, statuses and media types.

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let server = TestServer::start_with(|config| config.max_body_bytes = 2048).await;
    let mut body = user_body("mona@example.com", "E1");
    body["displayName"] = json!("x".repeat(4096));
    server.post("/Users", body).await.assert_error(413, None);
    assert_eq!(server.total("/Users").await, 0);

    let id = server.create_user("mona@example.com", "E1").await;
    let path = format!("/Users/{id}");
    server.patch(&path, rename(&"y".repeat(4096))).await.assert_error(413, None);
    assert_eq!(server.fetch(&path).await["displayName"], "mona@example.com display");
}

/// Sends a request without body and checks the 405 answer and its `Allow` header (RFC 9110 §15.5.6: MUST).
async fn check_method_not_allowed(server: &TestServer, method: Method, path: &str, allowed: &[&str]) {
    let answer = server.send(method.clone(), path, None).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}: {}", answer.body);
    answer.assert_error(405, None);
    let allow: Vec<String> =
        answer.header("allow").unwrap_or_default().split(',').map(|m| m.trim().to_ascii_uppercase()).collect();
    for method_allowed in allowed {
        assert!(allow.iter().any(|m| m == method_allowed), "{method} {path}: Allow {allow:?} lacks {method_allowed}");
    }
}

#[tokio::test]
async fn methods_not_allowed_are_405() {
    let server = TestServer::start().await;
    let id = server.create_user("mona@example.com", "E1").await;
    let user = format!("/Users/{id}");
    let cases: &[(Method, &str, &[&str])] = &[
        (Method::DELETE, "/Users", &["GET", "POST"]),
        (Method::PUT, "/Users", &["GET", "POST"]),
        (Method::PATCH, "/Users", &["GET", "POST"]),
        (Method::POST, &user, &["GET", "PUT", "PATCH", "DELETE"]),
        (Method::DELETE, "/Groups", &["GET", "POST"]),
        (Method::GET, "/Users/.search", &["POST"]),
        (Method::GET, "/.search", &["POST"]),
        (Method::DELETE, "/ServiceProviderConfig", &["GET"]),
        (Method::POST, "/Schemas", &["GET"]),
    ];
    for (method, path, allowed) in cases {
        check_method_not_allowed(&server, method.clone(), path, allowed).await;
    }
    assert_eq!(server.total("/Users").await, 1);
}

#[tokio::test]
async fn unknown_ids_and_paths_are_404_with_a_scim_body() {
    let server = TestServer::start().await;
    let cases: &[(Method, &str, Option<Value>)] = &[
        (Method::GET, "/Users/00000000-0000-0000-0000-000000000000", None),
        (Method::GET, "/Groups/00000000-0000-0000-0000-000000000000", None),
        (Method::PUT, "/Users/nope", Some(user_body("mona@example.com", "E1"))),
        (Method::PATCH, "/Users/nope", Some(rename("x"))),
        (Method::PATCH, "/Groups/nope", Some(rename("x"))),
        (Method::DELETE, "/Users/nope", None),
        (Method::DELETE, "/Groups/nope", None),
        (Method::GET, "/Nope", None),
        (Method::GET, "/users", None),
        (Method::GET, "/Users/a/b", None),
    ];
    for (method, path, body) in cases {
        let answer = server.send(method.clone(), path, body.clone()).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {path}: {}", answer.body);
        answer.assert_error(404, None);
    }
    let outside =
        server.send_as(&server.token, Method::GET, &format!("{}/scim/v2/Users", server.origin), None, &[]).await;
    outside.assert_error(404, None);
    assert_eq!(server.total("/Users").await, 0);
}

#[tokio::test]
async fn request_media_types() {
    let server = TestServer::start().await;
    let body = |n: usize| user_body(&format!("user{n}@example.com"), &format!("E{n}")).to_string();
    server.send_raw(Method::POST, "/Users", "text/plain", body(1)).await.assert_error(415, None);
    server.send_raw(Method::POST, "/Users", "application/xml", body(2)).await.assert_error(415, None);
    assert_eq!(server.total("/Users").await, 0);

    for (n, content_type) in
        ["application/json", "application/scim+json", "application/scim+json; charset=utf-8"].into_iter().enumerate()
    {
        let answer = server.send_raw(Method::POST, "/Users", content_type, body(n + 10)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{content_type}: {}", answer.body);
    }
    assert_eq!(server.total("/Users").await, 3);

    let id = server.create_user("mona@example.com", "M1").await;
    let path = format!("/Users/{id}");
    server.send_raw(Method::PATCH, &path, "text/plain", rename("Plain").to_string()).await.assert_error(415, None);
    let json_patch = server.send_raw(Method::PATCH, &path, "application/json", rename("Json").to_string()).await;
    assert_eq!(json_patch.status, StatusCode::OK, "{}", json_patch.body);
    assert_eq!(server.fetch(&path).await["displayName"], "Json");
}

#[tokio::test]
async fn invalid_bodies_are_400_invalid_syntax() {
    let server = TestServer::start().await;
    let id = server.create_user("mona@example.com", "E1").await;
    let path = format!("/Users/{id}");
    let before = server.fetch(&path).await;
    let cases: &[(Method, &str, &str)] = &[
        (Method::POST, "/Users", r#"{"schemas":"#),
        (Method::POST, "/Users", "not json"),
        (Method::POST, "/Users", "[]"),
        (
            Method::POST,
            "/Groups",
            r#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "x",}"#,
        ),
        (Method::PATCH, &path, r#"{"Operations": [{"op": "replace""#),
        (Method::PATCH, &path, r#"{"Operations": [{"op": "replace", "path": "displayName", "value": "x"}]}"#),
        (Method::PUT, &path, "{"),
        (Method::POST, "/Users/.search", "{"),
    ];
    for (method, target, body) in cases {
        let answer = server.send_raw(method.clone(), target, "application/scim+json", *body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{method} {target} {body}: {}", answer.body);
        answer.assert_error(400, Some("invalidSyntax"));
    }
    assert_eq!(server.fetch(&path).await, before);
    assert_eq!(server.total("/Users").await, 1);
    assert_eq!(server.total("/Groups").await, 0);
}

#[tokio::test]
async fn every_answer_is_scim_json() {
    let server = TestServer::start().await;
    let id = server.create_user("mona@example.com", "E1").await;
    let user = format!("/Users/{id}");
    let requests: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/Users".into(), None),
        (Method::GET, user.clone(), None),
        (Method::POST, "/Users".into(), Some(user_body("hubot@example.com", "E2"))),
        (Method::PATCH, user.clone(), Some(rename("x"))),
        (Method::PUT, user.clone(), Some(user_body("mona@example.com", "E1"))),
        (Method::POST, "/Users".into(), Some(json!({"schemas": [USER_URN]}))),
        (Method::GET, "/Users/nope".into(), None),
        (Method::GET, "/Nope".into(), None),
        (Method::DELETE, "/Users".into(), None),
        (Method::POST, "/Users/.search".into(), Some(json!({"schemas": [SEARCH_REQUEST]}))),
        (Method::GET, "/ServiceProviderConfig".into(), None),
        (Method::GET, "/Schemas".into(), None),
        (Method::GET, "/ResourceTypes".into(), None),
    ];
    for (method, path, body) in requests {
        let answer = server.send(method.clone(), &path, body).await;
        let content_type = answer.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/scim+json"),
            "{method} {path} ({}): content-type {content_type:?}",
            answer.status
        );
    }
    let unauthenticated = server.send_as("", Method::GET, &format!("{}/Users", server.base), None, &[]).await;
    assert_eq!(unauthenticated.header("content-type"), Some("application/scim+json"));
}

// ---------------------------------------------------------------------------------------------------------------
// Filters (RFC 7644 §3.4.2.2).

/// One seeded user.
struct Person {
    user_name: &'static str,
    external_id: &'static str,
    display_name: &'static str,
    family_name: &'static str,
    emails: Value,
    active: bool,
    title: Option<&'static str>,
    employee_number: Option<&'static str>,
}

impl Person {
    fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [USER_URN, ENTERPRISE_URN],
            "externalId": self.external_id,
            "userName": self.user_name,
            "displayName": self.display_name,
            "name": {"givenName": self.display_name.split(' ').next(), "familyName": self.family_name},
            "emails": self.emails,
            "active": self.active,
        });
        if let Some(title) = self.title {
            body["title"] = json!(title);
        }
        if let Some(number) = self.employee_number {
            body[ENTERPRISE_URN] = json!({"employeeNumber": number});
        }
        body
    }
}

/// Seeds alice, bob, carol and Dave, in that order, and returns their ids.
async fn seed_people(server: &TestServer) -> Vec<String> {
    let people = [
        Person {
            user_name: "alice@example.com",
            external_id: "ext-Alice",
            display_name: "Alice Smith",
            family_name: "Smith",
            emails: json!([{"type": "work", "value": "alice@example.com", "primary": true}]),
            active: true,
            title: Some("Engineer"),
            employee_number: Some("100"),
        },
        Person {
            user_name: "bob@example.org",
            external_id: "ext-bob",
            display_name: "Bob Jones",
            family_name: "Jones",
            emails: json!([{"type": "work", "value": "bob@example.org", "primary": true}]),
            active: false,
            title: Some("Manager"),
            employee_number: None,
        },
        Person {
            user_name: "carol@example.com",
            external_id: "ext-carol",
            display_name: "Carol Smith",
            family_name: "Smith",
            emails: json!([{"type": "home", "value": "carol@home.net", "primary": true}]),
            active: true,
            title: None,
            employee_number: Some("300"),
        },
        Person {
            user_name: "Dave@Contoso.com",
            external_id: "ext-dave",
            display_name: "Dave Brown",
            family_name: "Brown",
            emails: json!([
                {"type": "work", "value": "dave@contoso.com", "primary": true},
                {"type": "home", "value": "dave@example.com"},
            ]),
            active: true,
            title: Some("Director"),
            employee_number: None,
        },
    ];
    let mut ids = Vec::new();
    for person in &people {
        ids.push(server.create_user_from(person.body()).await);
    }
    ids
}

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.org";
const CAROL: &str = "carol@example.com";
const DAVE: &str = "Dave@Contoso.com";

#[tokio::test]
async fn valid_filters_select_exactly() {
    let server = TestServer::start().await;
    let ids = seed_people(&server).await;
    let by_id = format!(r#"id eq "{}""#, ids[0]);
    let cases: &[(&str, &[&str])] = &[
        (r#"userName eq "alice@example.com""#, &[ALICE]),
        (r#"userName eq "ALICE@EXAMPLE.COM""#, &[ALICE]),
        (r#"USERNAME eq "bob@example.org""#, &[BOB]),
        (r#"username EQ "bob@example.org""#, &[BOB]),
        (r#"userName ne "alice@example.com""#, &[BOB, CAROL, DAVE]),
        (r#"userName co "EXAMPLE""#, &[ALICE, BOB, CAROL]),
        (r#"userName sw "dave""#, &[DAVE]),
        (r#"userName ew ".org""#, &[BOB]),
        (r#"userName gt "bob@example.org""#, &[CAROL, DAVE]),
        (r#"userName ge "bob@example.org""#, &[BOB, CAROL, DAVE]),
        (r#"userName lt "bob""#, &[ALICE]),
        (r#"userName le "alice@example.com""#, &[ALICE]),
        ("title pr", &[ALICE, BOB, DAVE]),
        ("not (title pr)", &[CAROL]),
        ("active eq false", &[BOB]),
        (r#"active eq true and title eq "engineer""#, &[ALICE]),
        (r#"userName sw "a" or userName sw "b""#, &[ALICE, BOB]),
        (r#"userName eq "alice@example.com" or userName eq "bob@example.org" and active eq true"#, &[ALICE]),
        (r#"(userName eq "alice@example.com" or userName eq "bob@example.org") and active eq false"#, &[BOB]),
        (r#"not (userName co "example")"#, &[DAVE]),
        (r#"displayName sw "carol" and not (active eq false)"#, &[CAROL]),
        (r#"emails[type eq "work" and value co "@example.com"]"#, &[ALICE]),
        (r#"emails[type eq "home"]"#, &[CAROL, DAVE]),
        (r#"emails.value co "example.com""#, &[ALICE, DAVE]),
        (r#"emails co "contoso""#, &[DAVE]),
        (r#"emails.type eq "work""#, &[ALICE, BOB, DAVE]),
        (r#"name.familyName eq "smith""#, &[ALICE, CAROL]),
        (r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "carol@example.com""#, &[CAROL]),
        (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "300""#, &[CAROL]),
        ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr", &[ALICE, CAROL]),
        (r#"urn:roster:params:scim:schemas:extension:github:2.0:User:login eq "dave_acme""#, &[DAVE]),
        (r#"externalId eq "ext-Alice""#, &[ALICE]),
        (r#"externalId eq "ext-alice""#, &[]),
        (r#"meta.resourceType eq "User""#, &[ALICE, BOB, CAROL, DAVE]),
        (r#"meta.lastModified gt "2000-01-01T00:00:00Z""#, &[ALICE, BOB, CAROL, DAVE]),
        (r#"meta.created lt "2000-01-01T00:00:00Z""#, &[]),
        (&by_id, &[ALICE]),
    ];
    for (filter, expected) in cases {
        assert_eq!(server.user_names_matching(filter).await, sorted(expected), "filter {filter}");
    }
}

#[tokio::test]
async fn group_filters() {
    let server = TestServer::start().await;
    let ids = seed_people(&server).await;
    let engineering = server.create_group("Engineering", "G1").await;
    server.create_group("Sales", "G2").await;
    let added = server
        .patch(
            &format!("/Groups/{engineering}"),
            patch_body(json!([{"op": "add", "path": "members", "value": [{"value": ids[0]}]}])),
        )
        .await;
    assert_eq!(added.status, StatusCode::NO_CONTENT, "{}", added.body);
    let member = format!(r#"members.value eq "{}""#, ids[0]);
    let cases: &[(&str, &[&str])] = &[
        (r#"displayName eq "engineering""#, &["Engineering"]),
        (r#"externalId eq "G2""#, &["Sales"]),
        (r#"externalId eq "g2""#, &[]),
        (&member, &["Engineering"]),
        ("members pr", &["Engineering"]),
        (r#"displayName sw "S" or displayName sw "E""#, &["Engineering", "Sales"]),
    ];
    for (filter, expected) in cases {
        let answer = server.get_query("/Groups", &[("filter", filter)]).await;
        assert_eq!(answer.status, StatusCode::OK, "{filter}: {}", answer.body);
        let mut names = strings_at(&answer.body, "displayName");
        names.sort();
        assert_eq!(names, sorted(expected), "filter {filter}");
    }
}

#[tokio::test]
async fn invalid_filters_are_400_invalid_filter() {
    let server = TestServer::start().await;
    seed_people(&server).await;
    let cases: &[(&str, &str)] = &[
        ("/Users", "userName eq"),
        ("/Users", r#"userName xx "a""#),
        ("/Users", r#"(userName eq "a""#),
        ("/Users", r#"userName eq "a")"#),
        ("/Users", r#"nosuch eq "a""#),
        ("/Users", r#"name.nosuch eq "a""#),
        ("/Users", "active gt true"),
        ("/Users", r#"active eq "yes""#),
        ("/Users", r#"userName eq "unterminated"#),
        ("/Users", r#"emails[type eq "work""#),
        ("/Users", r#"userName eq "a" and"#),
        ("/Users", r#"userName pr "a""#),
        ("/Users", r#"meta.created gt "yesterday""#),
        ("/Groups", r#"userName eq "a""#),
    ];
    for (collection, filter) in cases {
        let answer = server.get_query(collection, &[("filter", filter)]).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{collection} {filter}: {}", answer.body);
        answer.assert_error(400, Some("invalidFilter"));
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Paging and sorting (RFC 7644 §3.4.2.3, §3.4.2.4).

/// GETs `/Users` with these parameters and checks the ListResponse envelope; returns it.
async fn list_page(server: &TestServer, params: &[(&str, &str)], total: u64, start_index: u64) -> Value {
    let answer = server.get_query("/Users", params).await;
    assert_eq!(answer.status, StatusCode::OK, "{params:?}: {}", answer.body);
    let body = answer.body;
    let n_resources = body["Resources"].as_array().map_or(0, Vec::len) as u64;
    assert_eq!(body["schemas"], json!([LIST_RESPONSE]), "{params:?}");
    assert_eq!(body["totalResults"], total, "{params:?}");
    assert_eq!(body["itemsPerPage"], n_resources, "{params:?}");
    assert_eq!(body["startIndex"], start_index, "{params:?}");
    body
}

#[tokio::test]
async fn pages_cover_everything_exactly_once() {
    let server = TestServer::start().await;
    let mut all = Vec::new();
    for n in 0..25 {
        all.push(server.create_user(&format!("user{n:02}@example.com"), &format!("E{n:02}")).await);
    }
    let mut seen = Vec::new();
    let mut page_sizes = Vec::new();
    for start in [1, 8, 15, 22] {
        let start_text = start.to_string();
        let page = list_page(&server, &[("startIndex", &start_text), ("count", "7")], 25, start).await;
        let ids = strings_at(&page, "id");
        page_sizes.push(ids.len());
        seen.extend(ids);
    }
    assert_eq!(page_sizes, [7, 7, 7, 4]);
    let mut seen_sorted = seen.clone();
    seen_sorted.sort();
    seen_sorted.dedup();
    assert_eq!(seen_sorted.len(), 25, "no resource twice: {seen:?}");
    assert_eq!(seen_sorted, sorted(&all.iter().map(String::as_str).collect::<Vec<_>>()));

    // Sorted pages concatenate to the sorted list.
    let mut names = Vec::new();
    for start in ["1", "11", "21"] {
        let page = list_page(
            &server,
            &[("sortBy", "userName"), ("startIndex", start), ("count", "10")],
            25,
            start.parse().expect("n"),
        )
        .await;
        names.extend(strings_at(&page, "userName"));
    }
    let expected: Vec<String> = (0..25).map(|n| format!("user{n:02}@example.com")).collect();
    assert_eq!(names, expected);

    let past_the_end = list_page(&server, &[("startIndex", "26"), ("count", "7")], 25, 26).await;
    assert_eq!(strings_at(&past_the_end, "id"), Vec::<String>::new());
    let zero = list_page(&server, &[("count", "0")], 25, 1).await;
    assert_eq!(zero["itemsPerPage"], 0);
    assert_eq!(strings_at(&zero, "id"), Vec::<String>::new());
    // Out-of-range values are interpreted, not refused (RFC 7644 §3.4.2.4).
    let below_one = list_page(&server, &[("startIndex", "0"), ("count", "3")], 25, 1).await;
    assert_eq!(strings_at(&below_one, "id").len(), 3);
    let negative = list_page(&server, &[("count", "-1")], 25, 1).await;
    assert_eq!(negative["itemsPerPage"], 0);
    let everything = list_page(&server, &[], 25, 1).await;
    assert_eq!(strings_at(&everything, "id").len(), 25);
    server.get_query("/Users", &[("count", "many")]).await.assert_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn count_is_clamped_to_the_advertised_maximum() {
    let server = TestServer::start_with(|config| config.limits.max_page_size = 10).await;
    let config = server.fetch("/ServiceProviderConfig").await;
    assert_eq!(config["filter"]["maxResults"], 10);
    for n in 0..12 {
        server.create_user(&format!("user{n:02}@example.com"), &format!("E{n:02}")).await;
    }
    let clamped = list_page(&server, &[("count", "50")], 12, 1).await;
    assert_eq!(clamped["itemsPerPage"], 10);
    let default = list_page(&server, &[], 12, 1).await;
    assert_eq!(default["itemsPerPage"], 10);
    let rest = list_page(&server, &[("startIndex", "11"), ("count", "50")], 12, 11).await;
    assert_eq!(rest["itemsPerPage"], 2);
}

/// Query parameters, as name-value pairs.
type QueryParams<'a> = &'a [(&'a str, &'a str)];

#[tokio::test]
async fn sorting() {
    let server = TestServer::start().await;
    seed_people(&server).await;
    let cases: &[(QueryParams, &[&str])] = &[
        (&[("sortBy", "userName")], &[ALICE, BOB, CAROL, DAVE]),
        (&[("sortBy", "userName"), ("sortOrder", "ascending")], &[ALICE, BOB, CAROL, DAVE]),
        (&[("sortBy", "userName"), ("sortOrder", "descending")], &[DAVE, CAROL, BOB, ALICE]),
        (&[("sortBy", "USERNAME"), ("sortOrder", "Descending")], &[DAVE, CAROL, BOB, ALICE]),
        // `title` has no column of its own; carol has none, so she is last ascending and first descending.
        (&[("sortBy", "title")], &[DAVE, ALICE, BOB, CAROL]),
        (&[("sortBy", "title"), ("sortOrder", "descending")], &[CAROL, BOB, ALICE, DAVE]),
        (&[("sortBy", "displayName"), ("filter", r#"name.familyName eq "Smith""#)], &[ALICE, CAROL]),
        (
            &[
                ("sortBy", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"),
                ("sortOrder", "descending"),
                ("filter", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr"),
            ],
            &[CAROL, ALICE],
        ),
    ];
    for (params, expected) in cases {
        let answer = server.get_query("/Users", params).await;
        assert_eq!(answer.status, StatusCode::OK, "{params:?}: {}", answer.body);
        assert_eq!(strings_at(&answer.body, "userName"), *expected, "{params:?}");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// attributes and excludedAttributes (RFC 7644 §3.4.2.5, §3.9).

fn keys(resource: &Value) -> Vec<String> {
    let mut keys: Vec<String> = resource.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    keys.sort();
    keys
}

#[tokio::test]
async fn attribute_projection_on_get_and_list() {
    let server = TestServer::start().await;
    let ids = seed_people(&server).await;
    let item = format!("/Users/{}", ids[0]);
    let full = server.fetch(&item).await;
    let all_keys = keys(&full);
    let all_but = |excluded: &[&str]| -> Vec<String> {
        all_keys.iter().filter(|key| !excluded.contains(&key.as_str())).cloned().collect()
    };
    let employee_number = format!("{ENTERPRISE_URN}:employeeNumber");
    let cases: Vec<(&str, &str, Vec<String>)> = vec![
        ("attributes", "userName", sorted(&["id", "schemas", "userName"])),
        ("attributes", "USERNAME", sorted(&["id", "schemas", "userName"])),
        ("attributes", "userName,displayName", sorted(&["displayName", "id", "schemas", "userName"])),
        ("attributes", "name.givenName", sorted(&["id", "name", "schemas"])),
        ("attributes", &employee_number, sorted(&["id", ENTERPRISE_URN, "schemas"])),
        ("attributes", "id", sorted(&["id", "schemas"])),
        ("excludedAttributes", "emails", all_but(&["emails"])),
        ("excludedAttributes", "emails,title,meta", all_but(&["emails", "title", "meta"])),
        ("excludedAttributes", "id,emails", all_but(&["emails"])),
        ("excludedAttributes", GITHUB_URN, all_but(&[GITHUB_URN])),
    ];
    let filter = r#"userName eq "alice@example.com""#;
    for (parameter, value, expected) in &cases {
        let one = server.get_query(&item, &[(parameter, value)]).await;
        assert_eq!(one.status, StatusCode::OK, "{parameter}={value}: {}", one.body);
        assert_eq!(&keys(&one.body), expected, "GET item, {parameter}={value}: {}", one.body);
        assert_eq!(one.body["id"], full["id"]);
        let list = server.get_query("/Users", &[(parameter, value), ("filter", filter)]).await;
        assert_eq!(list.status, StatusCode::OK, "{parameter}={value}: {}", list.body);
        assert_eq!(list.body["Resources"], json!([one.body]), "GET list, {parameter}={value}");
    }
    let given_name = server.get_query(&item, &[("attributes", "name.givenName")]).await;
    assert_eq!(given_name.body["name"], json!({"givenName": "Alice"}));
    let number = server.get_query(&item, &[("attributes", &employee_number)]).await;
    assert_eq!(number.body[ENTERPRISE_URN], json!({"employeeNumber": "100"}));
}

// ---------------------------------------------------------------------------------------------------------------
// POST /.search (RFC 7644 §3.4.3).

async fn search(server: &TestServer, path: &str, request: Value) -> Value {
    let answer = server.post(path, request).await;
    assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
    assert_eq!(answer.body["schemas"], json!([LIST_RESPONSE]));
    answer.body
}

#[tokio::test]
async fn search_requests() {
    let server = TestServer::start().await;
    seed_people(&server).await;
    server.create_group("Engineering", "G1").await;
    server.create_group("Alice Fans", "G2").await;

    let request = |start_index: u64| {
        json!({
            "schemas": [SEARCH_REQUEST],
            "filter": r#"userName sw "a" or userName sw "b""#,
            "sortBy": "userName",
            "attributes": ["userName"],
            "startIndex": start_index,
            "count": 1,
        })
    };
    for (start_index, expected) in [(1, ALICE), (2, BOB)] {
        let page = search(&server, "/Users/.search", request(start_index)).await;
        assert_eq!(page["totalResults"], 2);
        assert_eq!(page["itemsPerPage"], 1);
        assert_eq!(page["startIndex"], start_index);
        let resource = &page["Resources"][0];
        assert_eq!(keys(resource), sorted(&["id", "schemas", "userName"]), "{resource}");
        assert_eq!(resource["userName"], expected);
    }

    let groups = search(
        &server,
        "/Groups/.search",
        json!({"schemas": [SEARCH_REQUEST], "filter": r#"displayName eq "engineering""#}),
    )
    .await;
    assert_eq!(strings_at(&groups, "displayName"), vec!["Engineering"]);

    let everything = search(&server, "/.search", json!({"schemas": [SEARCH_REQUEST]})).await;
    assert_eq!(everything["totalResults"], 6);
    let mut kinds: Vec<String> = everything["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .map(|r| r["meta"]["resourceType"].to_string())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["\"Group\"", "\"Group\"", "\"User\"", "\"User\"", "\"User\"", "\"User\""]);

    let display =
        search(&server, "/.search", json!({"schemas": [SEARCH_REQUEST], "filter": r#"displayName sw "alice""#})).await;
    let mut found: Vec<(String, String)> = display["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .map(|r| {
            (
                r["meta"]["resourceType"].as_str().unwrap_or("?").to_owned(),
                r["displayName"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(found, [("Group".to_owned(), "Alice Fans".to_owned()), ("User".to_owned(), "Alice Smith".to_owned())]);
    assert_eq!(display["totalResults"], 2);

    let users_only =
        search(&server, "/.search", json!({"schemas": [SEARCH_REQUEST], "filter": r#"userName sw "a""#})).await;
    assert_eq!(strings_at(&users_only, "userName"), vec![ALICE]);
    assert_eq!(users_only["totalResults"], 1);

    let paged = search(&server, "/.search", json!({"schemas": [SEARCH_REQUEST], "startIndex": 4, "count": 2})).await;
    assert_eq!(paged["totalResults"], 6);
    assert_eq!(paged["itemsPerPage"], 2);
    assert_eq!(paged["startIndex"], 4);

    server
        .post("/Users/.search", json!({"schemas": [SEARCH_REQUEST], "filter": "userName eq"}))
        .await
        .assert_error(400, Some("invalidFilter"));
}

// ---------------------------------------------------------------------------------------------------------------
// Discovery (RFC 7644 §4, RFC 7643 §5-7).

#[tokio::test]
async fn service_provider_config() {
    let server = TestServer::start().await;
    let config = server.fetch("/ServiceProviderConfig").await;
    assert_eq!(config["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]));
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["filter"]["supported"], true);
    assert_eq!(config["filter"]["maxResults"], roster_provider::Limits::default().max_page_size);
    assert_eq!(config["etag"]["supported"], true);
    assert_eq!(config["sort"]["supported"], true);
    assert_eq!(config["bulk"]["supported"], false);
    assert_eq!(config["changePassword"]["supported"], false);
    let schemes = config["authenticationSchemes"].as_array().expect("authenticationSchemes");
    assert!(!schemes.is_empty());
    assert_eq!(schemes[0]["type"], "oauthbearertoken");
    assert!(schemes.iter().all(|scheme| scheme["name"].is_string() && scheme["description"].is_string()));
    assert_eq!(config["meta"]["resourceType"], "ServiceProviderConfig");
    assert_eq!(config["meta"]["location"], format!("{}/ServiceProviderConfig", server.base));
}

/// The definition of attribute `name` in a schema document.
fn attribute<'a>(schema: &'a Value, name: &str) -> &'a Value {
    schema["attributes"]
        .as_array()
        .and_then(|attributes| attributes.iter().find(|a| a["name"] == name))
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn schemas() {
    let server = TestServer::start().await;
    let list = server.fetch("/Schemas").await;
    assert_eq!(list["schemas"], json!([LIST_RESPONSE]));
    assert_eq!(list["totalResults"], 4);
    assert_eq!(strings_at(&list, "id"), vec![USER_URN, ENTERPRISE_URN, GITHUB_URN, GROUP_URN]);
    for schema in list["Resources"].as_array().expect("Resources") {
        let id = schema["id"].as_str().expect("id");
        assert!(schema["attributes"].as_array().is_some_and(|a| !a.is_empty()), "{id} has attributes");
        assert!(schema["name"].is_string(), "{id} has a name");
        assert_eq!(schema["meta"]["resourceType"], "Schema", "{id}");
        let one = server.get(&format!("/Schemas/{id}")).await;
        assert_eq!(one.status, StatusCode::OK, "{id}: {}", one.body);
        assert_eq!(&one.body, schema, "{id}");
    }
    let user = &list["Resources"][0];
    let user_name = attribute(user, "userName");
    assert_eq!(user_name["required"], true);
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["caseExact"], false);
    for required in ["displayName", "emails", "active"] {
        assert_eq!(attribute(user, required)["required"], true, "{required}");
    }
    assert_eq!(attribute(user, "groups")["mutability"], "readOnly");
    let role_values = &attribute(user, "roles")["subAttributes"];
    let role_value =
        role_values.as_array().and_then(|subs| subs.iter().find(|s| s["name"] == "value")).expect("roles.value");
    assert_eq!(role_value["canonicalValues"][0], "user");
    let login = attribute(&list["Resources"][2], "login");
    assert_eq!(login["mutability"], "readOnly");
    let group = &list["Resources"][3];
    assert_eq!(attribute(group, "displayName")["required"], true);
    assert_eq!(attribute(group, "members")["multiValued"], true);
    assert_eq!(attribute(&list["Resources"][1], "manager")["type"], "complex");

    server.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:Nope").await.assert_error(404, None);
}

#[tokio::test]
async fn resource_types() {
    let server = TestServer::start().await;
    let list = server.fetch("/ResourceTypes").await;
    assert_eq!(list["totalResults"], 2);
    let user = &list["Resources"][0];
    assert_eq!(user["id"], "User");
    assert_eq!(user["name"], "User");
    assert_eq!(user["endpoint"], "/Users");
    assert_eq!(user["schema"], USER_URN);
    assert_eq!(
        user["schemaExtensions"],
        json!([{"schema": ENTERPRISE_URN, "required": false}, {"schema": GITHUB_URN, "required": false}])
    );
    assert_eq!(user["meta"]["location"], format!("{}/ResourceTypes/User", server.base));
    let group = &list["Resources"][1];
    assert_eq!(group["id"], "Group");
    assert_eq!(group["endpoint"], "/Groups");
    assert_eq!(group["schema"], GROUP_URN);
    assert_eq!(group["schemaExtensions"].as_array().map_or(0, Vec::len), 0);

    assert_eq!(&server.fetch("/ResourceTypes/User").await, user);
    assert_eq!(&server.fetch("/ResourceTypes/Group").await, group);
    server.get("/ResourceTypes/Nope").await.assert_error(404, None);
}

// ---------------------------------------------------------------------------------------------------------------
// Concurrent writes: none may be lost.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_member_additions_all_land() {
    let server = Arc::new(TestServer::start().await);
    let group_id = server.create_group("Everyone", "G1").await;
    let mut user_ids = Vec::new();
    for n in 0..50 {
        user_ids.push(server.create_user(&format!("user{n:02}@example.com"), &format!("E{n:02}")).await);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for user_id in user_ids.clone() {
        let server = Arc::clone(&server);
        let path = format!("/Groups/{group_id}");
        tasks.spawn(async move {
            server
                .patch(&path, patch_body(json!([{"op": "add", "path": "members", "value": [{"value": user_id}]}])))
                .await
        });
    }
    let answers: Vec<Answer> = tasks.join_all().await;
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    }
    let group = server.fetch(&format!("/Groups/{group_id}")).await;
    assert_eq!(member_values(&group, "members"), sorted(&user_ids.iter().map(String::as_str).collect::<Vec<_>>()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_patches_of_one_user_all_land() {
    let server = Arc::new(TestServer::start().await);
    let id = server.create_user("mona@example.com", "E1").await;
    let path = format!("/Users/{id}");
    let enterprise = |name: &str| format!("{ENTERPRISE_URN}:{name}");
    let changes: Vec<(String, &str)> = vec![
        ("nickName".into(), "Mona"),
        ("title".into(), "Chief Octocat"),
        ("userType".into(), "Employee"),
        ("preferredLanguage".into(), "en-US"),
        ("locale".into(), "en-GB"),
        ("timezone".into(), "Europe/Paris"),
        ("profileUrl".into(), "https://example.com/mona"),
        ("displayName".into(), "Mona Lisa Octocat"),
        ("name.givenName".into(), "Mona"),
        ("name.familyName".into(), "Octocat"),
        ("name.middleName".into(), "Lisa"),
        ("name.honorificPrefix".into(), "Ms."),
        ("name.honorificSuffix".into(), "III"),
        ("name.formatted".into(), "Ms. Mona Lisa Octocat III"),
        (enterprise("employeeNumber"), "701984"),
        (enterprise("costCenter"), "4130"),
        (enterprise("organization"), "Universal Studios"),
        (enterprise("division"), "Theme Park"),
        (enterprise("department"), "Tour Operations"),
        ("externalId".into(), "E1-renamed"),
    ];
    assert_eq!(changes.len(), 20);
    let mut tasks = tokio::task::JoinSet::new();
    for (attribute, value) in changes.clone() {
        let server = Arc::clone(&server);
        let path = path.clone();
        tasks.spawn(async move {
            server.patch(&path, patch_body(json!([{"op": "replace", "path": attribute, "value": value}]))).await
        });
    }
    for answer in tasks.join_all().await {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    let user = server.fetch(&path).await;
    for (attribute, value) in &changes {
        let pointer = match attribute.strip_prefix(&format!("{ENTERPRISE_URN}:")) {
            Some(name) => format!("/{ENTERPRISE_URN}/{name}"),
            None => format!("/{}", attribute.replace('.', "/")),
        };
        assert_eq!(user.pointer(&pointer), Some(&json!(value)), "{attribute} in {user}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_login_create_one_user() {
    let server = Arc::new(TestServer::start().await);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..10 {
        let server = Arc::clone(&server);
        // Different userNames and externalIds, one login: `mona_acme`.
        tasks.spawn(
            async move { server.post("/Users", user_body(&format!("mona@domain{n}.com"), &format!("E{n}"))).await },
        );
    }
    let mut statuses: Vec<u16> = tasks.join_all().await.iter().map(|answer| answer.status.as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    assert_eq!(server.total("/Users").await, 1);
}

#[tokio::test]
async fn the_core_schema_urn_as_attributes_returns_the_relations() {
    let server = TestServer::start().await;
    let user = server.create_user("rel@example.com", "rel").await;
    let group = server.create_group("Rel", "g-rel").await;
    let added = server
        .patch_ops(&format!("/Groups/{group}"), json!([{"op": "add", "path": "members", "value": [{"value": user}]}]))
        .await;
    assert_eq!(added.status, StatusCode::NO_CONTENT, "{}", added.body);
    let core_group = "urn:ietf:params:scim:schemas:core:2.0:Group";
    let fetched = server.get_query(&format!("/Groups/{group}"), &[("attributes", core_group)]).await;
    assert_eq!(member_values(&fetched.body, "members"), vec![user.clone()], "{}", fetched.body);
    let core_user = "urn:ietf:params:scim:schemas:core:2.0:User";
    let fetched = server.get_query(&format!("/Users/{user}"), &[("attributes", core_user)]).await;
    assert_eq!(member_values(&fetched.body, "groups"), vec![group], "{}", fetched.body);
}

#[tokio::test]
async fn a_plain_scim_enterprise_serves_the_rfc_schemas() {
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
    let token = roster_app::admin::create_token(&server.stores, &crate::support::actor(), "plain", "t", &[])
        .await
        .expect("token");
    let base = format!("{}/scim/v2/enterprises/plain", server.origin);
    let schema = server
        .send_as(&token, Method::GET, &format!("{base}/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"), None, &[])
        .await;
    assert_eq!(schema.status, StatusCode::OK, "{}", schema.body);
    let names: Vec<&str> =
        schema.body["attributes"].as_array().expect("attributes").iter().filter_map(|a| a["name"].as_str()).collect();
    assert!(!names.contains(&"externalId"), "{names:?}");
    let github = server
        .send_as(
            &token,
            Method::GET,
            &format!("{base}/Schemas/urn:roster:params:scim:schemas:extension:github:2.0:User"),
            None,
            &[],
        )
        .await;
    github.assert_error(404, None);
    // Without EMU's rules, a user needs only a userName.
    let created = server
        .send_as(
            &token,
            Method::POST,
            &format!("{base}/Users"),
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a-very-long-user-name-well-over-thirty-nine-characters"})),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
}

#[tokio::test]
async fn a_public_url_shapes_locations_behind_a_proxy() {
    let server = TestServer::start_with(|config| config.public_url = Some("https://scim.example.com/".into())).await;
    let answer = server.post("/Users", crate::support::user_body("pub@example.com", "pub")).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let id = answer.body["id"].as_str().expect("id");
    let location = format!("https://scim.example.com/scim/v2/enterprises/acme/Users/{id}");
    assert_eq!(answer.body["meta"]["location"], location.as_str());
    assert_eq!(answer.header("location"), Some(location.as_str()));
}

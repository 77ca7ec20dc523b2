//! No input makes the server fail: random methods, paths, queries and bodies (random JSON shaped like SCIM, and
//! random bytes) are answered with a SCIM error or a success, never a 5xx, and the server keeps serving.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::TestServer;

/// JSON values biased towards SCIM shapes: known keys, PATCH operations, nested arrays and objects.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("schemas".to_owned()),
        Just("userName".to_owned()),
        Just("externalId".to_owned()),
        Just("displayName".to_owned()),
        Just("emails".to_owned()),
        Just("members".to_owned()),
        Just("active".to_owned()),
        Just("Operations".to_owned()),
        Just("op".to_owned()),
        Just("path".to_owned()),
        Just("value".to_owned()),
        Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_owned()),
        "[a-zA-Z.:$\\[\\] \"]{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        "\\PC{0,16}".prop_map(Value::String),
        Just(json!("urn:ietf:params:scim:api:messages:2.0:PatchOp")),
        Just(json!("urn:ietf:params:scim:schemas:core:2.0:User")),
        Just(json!("emails[type eq \"work\"].value")),
        Just(json!("members[value eq \"x\"]")),
        Just(json!("Replace")),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
struct RandomRequest {
    method: Method,
    path: String,
    body: Option<Vec<u8>>,
}

fn request() -> impl Strategy<Value = RandomRequest> {
    let method = prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::PUT),
        Just(Method::PATCH),
        Just(Method::DELETE),
        Just(Method::OPTIONS),
    ];
    let path = prop_oneof![
        3 => Just("/Users".to_owned()),
        3 => Just("/Groups".to_owned()),
        4 => Just("/Users/{user}".to_owned()),
        4 => Just("/Groups/{group}".to_owned()),
        1 => Just("/Users/.search".to_owned()),
        1 => Just("/.search".to_owned()),
        1 => Just("/Schemas".to_owned()),
        1 => Just("/ResourceTypes/User".to_owned()),
        1 => Just("/ServiceProviderConfig".to_owned()),
        2 => "(/[a-zA-Z0-9%._~-]{0,20}){0,3}",
    ];
    let query = prop_oneof![
        Just(String::new()),
        "\\PC{0,60}".prop_map(|filter| format!("?filter={}", encode(&filter))),
        filter_text().prop_map(|filter| format!("?filter={}", encode(&filter))),
        "[a-zA-Z=&,.%0-9-]{0,40}".prop_map(|raw| format!("?{raw}")),
        (any::<i64>(), any::<i64>()).prop_map(|(start, count)| format!("?startIndex={start}&count={count}")),
        "[a-zA-Z.,:]{0,30}".prop_map(|attrs| format!("?attributes={attrs}&excludedAttributes={attrs}")),
    ];
    let body = prop_oneof![
        1 => Just(None),
        3 => patch_body().prop_map(|value| Some(value.to_string().into_bytes())),
        2 => user_body().prop_map(|value| Some(value.to_string().into_bytes())),
        2 => json_value().prop_map(|value| Some(value.to_string().into_bytes())),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Some),
    ];
    (method, path, query, body).prop_map(|(method, path, query, body)| RandomRequest {
        method,
        path: format!("{path}{query}"),
        body,
    })
}

/// Filters built from real attribute names, operators and literals, valid or nearly so.
fn filter_text() -> impl Strategy<Value = String> {
    let attribute = prop::sample::select(vec![
        "userName",
        "displayName",
        "externalId",
        "emails",
        "emails.value",
        "emails[type eq \"work\"]",
        "active",
        "meta.created",
        "members",
        "name.givenName",
        "title",
        "id",
        "nosuch",
    ]);
    let operator = prop::sample::select(vec!["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr", "xx"]);
    let literal = prop::sample::select(vec!["\"a\"", "\"\"", "true", "1", "null", "\"2020-01-01T00:00:00Z\"", "\"x"]);
    let comparison = (attribute, operator, literal).prop_map(|(a, o, l)| format!("{a} {o} {l}"));
    prop::collection::vec(comparison, 1..4).prop_map(|parts| parts.join(" and not ("))
}

/// PATCH bodies with real and random paths, ops in both cases, and random values.
fn patch_body() -> impl Strategy<Value = Value> {
    let op = prop::sample::select(vec!["add", "replace", "remove", "Add", "Replace", "Remove", "copy"]);
    let path = prop::option::of(prop::sample::select(vec![
        "userName",
        "displayName",
        "active",
        "emails",
        "emails[type eq \"work\"].value",
        "emails[primary eq true]",
        "name.givenName",
        "members",
        "members[value eq \"x\"]",
        "groups",
        "id",
        "meta.created",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "roles",
        "nosuch",
        "emails[",
        "",
    ]));
    let operation = (op, path, prop::option::of(json_value())).prop_map(|(op, path, value)| {
        let mut operation = serde_json::Map::new();
        operation.insert("op".into(), json!(op));
        if let Some(path) = path {
            operation.insert("path".into(), json!(path));
        }
        if let Some(value) = value {
            operation.insert("value".into(), value);
        }
        Value::Object(operation)
    });
    prop::collection::vec(operation, 0..4).prop_map(
        |operations| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations}),
    )
}

/// User bodies that pass EMU's rules, with a random extra attribute.
fn user_body() -> impl Strategy<Value = Value> {
    ("[a-z]{1,10}", json_value()).prop_map(|(name, extra)| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "externalId": name,
            "userName": format!("{name}@example.com"),
            "displayName": name,
            "emails": [{"value": format!("{name}@example.com"), "type": "work", "primary": true}],
            "active": true,
            "title": extra,
        })
    })
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(byte).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[test]
fn random_requests_never_make_the_server_fail() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let server = runtime.block_on(TestServer::start());
    let user = runtime.block_on(server.create_user("seed@example.com", "seed"));
    let group = runtime.block_on(server.create_group("Seeds", "g-seed"));
    let http = reqwest::Client::new();
    // Answers by class, to show that the random requests reach the handlers and not only the router.
    let successes = std::sync::atomic::AtomicUsize::new(0);
    let refusals = std::sync::atomic::AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config { cases: 400, failure_persistence: None, ..Config::default() });
    let result = runner.run(&request(), |request| {
        // Half of the requests aim at the real resources, so PATCH and PUT bodies reach the PATCH engine.
        let path = request
            .path
            .replace("/Users/", &format!("/Users/{user}/"))
            .replace("/Groups/", &format!("/Groups/{group}/"));
        runtime.block_on(async {
            let mut builder =
                http.request(request.method.clone(), format!("{}{path}", server.base)).bearer_auth(&server.token);
            if let Some(body) = request.body.clone() {
                builder = builder.header("content-type", "application/scim+json").body(body);
            }
            let response = builder.send().await.map_err(|error| TestCaseError::fail(format!("{error}")))?;
            let status = response.status();
            let bytes = response.bytes().await.map_err(|error| TestCaseError::fail(format!("{error}")))?;
            prop_assert!(
                status.as_u16() < 500,
                "{} {path}: {status} {}",
                request.method,
                String::from_utf8_lossy(&bytes)
            );
            let class = if status.is_success() { &successes } else { &refusals };
            class.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if status.as_u16() >= 400 {
                let body: Value = serde_json::from_slice(&bytes)
                    .map_err(|_| TestCaseError::fail(format!("{status} without a JSON body for {path}")))?;
                prop_assert_eq!(&body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
                prop_assert_eq!(&body["status"], &json!(status.as_u16().to_string()));
            }
            Ok(())
        })
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    let (successes, refusals) = (successes.into_inner(), refusals.into_inner());
    assert!(successes > 2 && refusals > 2, "{successes} successes, {refusals} refusals");
    let after = runtime.block_on(server.get("/Users"));
    assert_eq!(after.status.as_u16(), 200, "the server still serves after the random requests");
}

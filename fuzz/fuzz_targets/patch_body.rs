//! Fuzzes PATCH bodies: arbitrary bytes that parse as JSON go through `parse_patch` and `apply_patch` on a fixture
//! user. Beyond "never panics", it checks two properties: a failed PATCH leaves the resource unchanged, and a
//! successful one leaves it canonical (core schema first in `schemas`, no `null`, no empty array or object).
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_scim_proto::patch::{apply_patch, parse_patch};
use roster_scim_proto::schema::USER;
use serde_json::{Map, Value, json};

/// Whether a value holds no `null`, empty array or empty object at any depth.
fn is_canonical(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Array(items) => !items.is_empty() && items.iter().all(is_canonical),
        Value::Object(map) => !map.is_empty() && map.values().all(is_canonical),
        _ => true,
    }
}

fn fixture() -> Map<String, Value> {
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "u1", "userName": "bjensen", "displayName": "Babs", "active": true,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "b@work.org", "type": "work", "primary": true}, {"value": "b@home.org", "type": "home"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7", "manager": {"value": "m"}},
        "meta": {"resourceType": "User"},
    });
    match user {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else { return };
    let Ok(ops) = parse_patch(&body, &USER) else { return };
    let before = fixture();
    let mut resource = before.clone();
    match apply_patch(&mut resource, &ops, &USER) {
        Ok(()) => {
            assert_eq!(
                resource.get("schemas").and_then(|schemas| schemas.get(0)),
                Some(&json!("urn:ietf:params:scim:schemas:core:2.0:User"))
            );
            assert!(resource.values().all(is_canonical), "not canonical: {}", Value::Object(resource.clone()));
        }
        Err(_) => assert_eq!(resource, before, "a failed PATCH changed the resource"),
    }
});

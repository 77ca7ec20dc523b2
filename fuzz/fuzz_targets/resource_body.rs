//! Fuzzes POST and PUT bodies: arbitrary bytes that parse as JSON go through `canonicalize` for users and groups,
//! then PUT replacement against a fixture. Beyond "never panics", it checks that canonicalization is idempotent
//! (a canonical resource canonicalizes to itself) and that a PUT keeps the existing `id`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_scim_proto::resource::{apply_put, canonicalize};
use roster_scim_proto::schema::{GROUP, USER};
use serde_json::{Map, Value, json};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else { return };
    for rt in [&USER, &GROUP] {
        let Ok(canonical) = canonicalize(&body, rt) else { continue };
        let again = canonicalize(&Value::Object(canonical.clone()), rt);
        assert_eq!(again.as_ref().ok(), Some(&canonical), "canonicalize is not idempotent");
        let mut existing = Map::new();
        existing.insert("id".into(), json!("fixed-id"));
        existing.insert("schemas".into(), json!([rt.schema.id]));
        if let Ok(replaced) = apply_put(&existing, canonical, rt) {
            assert_eq!(replaced.get("id"), Some(&json!("fixed-id")), "PUT lost the id");
        }
    }
});

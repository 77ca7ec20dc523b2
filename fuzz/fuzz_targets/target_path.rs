//! Fuzzes mapping target paths (`name.givenName`, `emails[type eq "work"].value`, extension URNs): arbitrary text
//! through `TargetPath::parse`. A path that parses must hold what it is given: after `put`, `get` answers the value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_engine::target::TargetPath;
use serde_json::{Map, Value, json};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(path) = TargetPath::parse(text) else { return };
    let mut resource = Map::new();
    let value = json!("fuzz-value");
    path.put(&mut resource, value.clone());
    assert_eq!(path.get(&resource), Some(&value), "path {text:?} in {}", Value::Object(resource.clone()));
    // Twice is the same as once.
    let before = resource.clone();
    path.put(&mut resource, value);
    assert_eq!(resource, before, "path {text:?}");
});

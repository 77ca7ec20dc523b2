//! Fuzzes PATCH paths and attribute paths: arbitrary UTF-8 goes through `PatchPath::parse` and `AttrPath::parse`.
//! Beyond "never panics", a path that parses must print to text that parses back to the same value, and an
//! attribute path must also parse as the PATCH path without a filter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_scim_proto::path::{AttrPath, PatchPath};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(path) = PatchPath::parse(text) {
        let printed = path.to_string();
        assert_eq!(PatchPath::parse(&printed).as_ref(), Ok(&path), "printed: {printed}");
    }
    if let Ok(attr) = AttrPath::parse(text) {
        let printed = attr.to_string();
        assert_eq!(AttrPath::parse(&printed).as_ref(), Ok(&attr), "printed: {printed}");
        let patch = PatchPath::parse(text);
        assert_eq!(patch, Ok(PatchPath { attr, filter: None, sub_attr: None }), "attribute path {text:?}");
    }
});

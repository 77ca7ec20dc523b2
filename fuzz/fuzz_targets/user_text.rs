//! Fuzzes the store's fast reader of a user's JSON text (`roster_directory::user_text`): whatever text it takes, it
//! reads exactly as the general reader (`import::user_from_object`) does; it never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_directory::import::{Position, user_from_object};
use roster_directory::user_text::user_from_text;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(fast) = user_from_text(text) else { return };
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).expect("text the fast reader takes is a JSON object");
    let slow = user_from_object(&object, Position::User(0)).expect("the general reader takes it too");
    assert_eq!(fast, slow, "{text}");
});

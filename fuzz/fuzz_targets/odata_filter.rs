//! Fuzzes the admin API's OData options: arbitrary UTF-8 goes through `Filter::parse`, `parse_query` and
//! `decode_skiptoken`. Beyond "never panics", a filter that parses must print to text that parses back to the same
//! tree; checking it against a capability table and evaluating it against a fixture user (case-insensitively and
//! case-sensitively) must not panic, and `not(...)` of it must give the opposite answer. A skiptoken that decodes
//! must encode to one that decodes again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_admin_api::odata::{self, Capabilities, Filter, MatchOptions, Operator as O};
use serde_json::{Value, json};

const TEXT: &[O] = &[O::Eq, O::Ne, O::Not, O::Ge, O::Le, O::In, O::StartsWith];

const USER: Capabilities<'static> = &[
    ("id", &[O::Eq, O::Ne, O::Not, O::In]),
    ("userPrincipalName", &[O::Eq, O::Ne, O::Not, O::Ge, O::Le, O::In, O::StartsWith, O::EndsWith]),
    ("displayName", TEXT),
    ("mail", TEXT),
    ("accountEnabled", &[O::Eq, O::Ne, O::Not, O::In]),
    ("businessPhones", &[O::Eq, O::Not, O::Any]),
    ("createdDateTime", &[O::Eq, O::Ne, O::Not, O::Ge, O::Le, O::In]),
    ("manager/id", &[O::Eq]),
];

fn fixture() -> Value {
    json!({
        "id": "ec2d0d8a-3c1f-4c32-9d1b-4e0a2f3b5c6d", "userPrincipalName": "Ada@Contoso.com", "displayName": "Ädä O'Brien",
        "mail": null, "accountEnabled": true, "age": 36, "score": -4.5, "createdDateTime": "2026-01-01T00:00:00.5+02:00",
        "businessPhones": ["+1 555 0100", "", null, 7, ["nested"], {"x": "y"}], "otherMails": [],
        "manager": {"id": "m1", "manager": null}, "not": "keyword", "and": {"or": [true]},
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = odata::parse_query(text);
    if let Ok(cursor) = odata::decode_skiptoken(text) {
        let token = odata::encode_skiptoken(&cursor);
        assert!(
            token.len() > odata::MAX_SKIPTOKEN_LENGTH || odata::decode_skiptoken(&token).is_ok(),
            "re-encoded skiptoken {token} does not decode"
        );
    }
    let Ok(filter) = Filter::parse(text) else { return };
    let printed = filter.to_string();
    if printed.chars().count() <= odata::MAX_FILTER_LENGTH {
        assert_eq!(Filter::parse(&printed).as_ref(), Ok(&filter), "printed: {printed}");
    }
    let _ = filter.check(USER, "User");
    let user = fixture();
    for options in [MatchOptions::CASE_INSENSITIVE, MatchOptions::CASE_SENSITIVE] {
        let matched = filter.matches(&user, options);
        let negated = Filter::Not(Box::new(filter.clone()));
        assert_eq!(negated.matches(&user, options), !matched, "not({printed})");
    }
});

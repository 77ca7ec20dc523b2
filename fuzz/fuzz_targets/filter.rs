//! Fuzzes the filter grammar: arbitrary UTF-8 goes through `Filter::parse`. Beyond "never panics", a filter that
//! parses must print to text that parses back to the same tree, and checking it and evaluating it against a
//! fixture user (compiled, one-off, and per element of `emails`) must agree and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_scim_proto::filter::Filter;
use roster_scim_proto::schema::USER;
use serde_json::{Map, Value, json};

fn fixture() -> Map<String, Value> {
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "2819c223", "externalId": "Ext-1", "userName": "BJensen@Example.com", "displayName": "Bäbs Jensen",
        "title": "Tour Guide", "active": true, "userType": "Employee",
        "name": {"givenName": "Barbara", "familyName": "O'Malley"},
        "emails": [{"value": "b@work.org", "type": "work", "primary": true}, {"value": "b@home.org", "type": "home"}],
        "x509Certificates": [{"value": "TUlJRERE"}],
        "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7", "manager": {"value": "m"}},
    });
    match user {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(filter) = Filter::parse(text) else { return };
    let printed = filter.to_string();
    assert_eq!(Filter::parse(&printed).as_ref(), Ok(&filter), "printed: {printed}");

    let user = fixture();
    let one_off = filter.matches(&user, &USER);
    if let Ok(compiled) = filter.compile(&USER) {
        assert_eq!(compiled.matches(&user), one_off, "compiled and one-off disagree on {printed}");
    }
    if let Some(emails) = USER.attribute(None, "emails") {
        for element in user.get("emails").and_then(Value::as_array).into_iter().flatten() {
            let one_off = filter.matches_element(element, emails.def);
            if let Ok(compiled) = filter.compile_element(emails.def) {
                assert_eq!(compiled.matches(element), one_off, "element filters disagree on {printed}");
            }
        }
    }
});

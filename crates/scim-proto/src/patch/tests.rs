//! Table tests for PATCH: RFC 7644 §3.5.2 examples, Entra's two dialects (reference §1.7), GitHub's documented
//! examples (reference §2.5), Okta's path-less replace, and the edge cases of each rule.

// The table helpers take owned JSON so that each case reads as one `json!(...)` line.
#![allow(clippy::needless_pass_by_value)]

use serde_json::{Map, Value, json};

use super::*;
use crate::schema::{GROUP, USER};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const EXT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const U1: &str = "2819c223-7f76-453a-919d-413861904646";
const U2: &str = "902c246b-6245-4190-8e05-00816be7344a";

fn user() -> Value {
    json!({
        "schemas": [CORE], "id": "u1", "userName": "bjensen", "displayName": "Babs", "active": true,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "b@work.org", "type": "work", "primary": true}, {"value": "b@home.org", "type": "home"}],
        "meta": {"resourceType": "User"},
    })
}

fn group() -> Value {
    json!({"schemas": [GROUP_CORE], "id": "g1", "displayName": "Tour Guides", "members": [{"value": U1}, {"value": U2}]})
}

/// A PatchOp body with these operations.
fn body(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

/// Parses and applies `ops` to `fixture`. `expected` is either an error (`"400 scimType: detail"`) or an object of
/// the top-level keys that changed, with `null` for a removed key.
fn check_on(rt: &ResourceType, fixture: &Value, ops: Value, expected: Value) {
    let mut resource = fixture.as_object().cloned().unwrap_or_default();
    let before = resource.clone();
    let result = parse_patch(&body(ops.clone()), rt).and_then(|ops| apply_patch(&mut resource, &ops, rt));
    match (result, expected) {
        (Ok(()), Value::Object(changes)) => {
            let mut wanted = before;
            for (key, value) in changes {
                if value.is_null() {
                    wanted.shift_remove(&key);
                } else {
                    wanted.insert(key, value);
                }
            }
            assert_eq!(Value::Object(resource), Value::Object(wanted), "ops: {ops}");
        }
        (Err(error), Value::String(wanted)) => {
            assert_eq!(error.to_string(), wanted, "ops: {ops}");
            assert_eq!(resource, before, "a failed PATCH must leave the resource unchanged");
        }
        (Ok(()), wanted) => panic!("ops {ops}: expected {wanted}, got {}", Value::Object(resource)),
        (Err(error), wanted) => panic!("ops {ops}: expected {wanted}, got the error {error}"),
    }
}

fn check(ops: Value, expected: Value) {
    check_on(&USER, &user(), ops, expected);
}

fn check_group(ops: Value, expected: Value) {
    check_on(&GROUP, &group(), ops, expected);
}

/// Parses a body and prints each normalized operation as `op path value`.
fn check_parse(body: Value, expected: &[&str]) {
    let actual: Vec<String> = match parse_patch(&body, &USER) {
        Ok(ops) => ops
            .iter()
            .map(|op| match &op.value {
                Some(value) => format!("{} {} {value}", op.op.as_str(), op.path),
                None => format!("{} {}", op.op.as_str(), op.path),
            })
            .collect(),
        Err(error) => vec![error.to_string()],
    };
    assert_eq!(actual, expected, "body: {body}");
}

#[test]
fn body_structure() {
    let op = json!({"op": "add", "path": "nickName", "value": "Babs"});
    check_parse(body(json!([op])), &[r#"add nickName "Babs""#]);
    check_parse(
        json!({"schemas": ["URN:IETF:PARAMS:SCIM:API:MESSAGES:2.0:PATCHOP"], "operations": [op]}),
        &[r#"add nickName "Babs""#],
    );
    check_parse(
        json!({"schemas": "urn:ietf:params:scim:api:messages:2.0:PatchOp", "Operations": [op]}),
        &[r#"add nickName "Babs""#],
    );
    check_parse(body(json!([])), &[]);
    check_parse(
        json!({"Operations": [op]}),
        &["400 invalidSyntax: 'schemas' must list \"urn:ietf:params:scim:api:messages:2.0:PatchOp\""],
    );
    check_parse(
        json!({"schemas": [CORE], "Operations": [op]}),
        &["400 invalidSyntax: 'schemas' must list \"urn:ietf:params:scim:api:messages:2.0:PatchOp\""],
    );
    check_parse(
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}),
        &["400 invalidSyntax: the PATCH body has no 'Operations' array"],
    );
    check_parse(body(json!({"op": "add"})), &["400 invalidSyntax: 'Operations' must be an array"]);
    check_parse(json!([op]), &["400 invalidSyntax: the PATCH body must be a JSON object"]);
    check_parse(body(json!([1])), &["400 invalidSyntax: operation 1: an operation must be an object"]);
    check_parse(body(json!([{"path": "nickName"}])), &["400 invalidSyntax: operation 1: the operation has no 'op'"]);
    check_parse(
        body(json!([op, {"op": "move", "path": "nickName"}])),
        &["400 invalidSyntax: operation 2: 'op' must be \"add\", \"replace\" or \"remove\", got the string \"move\""],
    );
    check_parse(body(json!([{"OP": "ADD", "PATH": "NICKNAME", "VALUE": "Babs"}])), &[r#"add nickName "Babs""#]);
    check_parse(
        body(json!([{"op": "Replace", "path": "nickName"}])),
        &["400 invalidValue: operation 1: a replace operation needs a 'value'"],
    );
    check_parse(
        body(json!([{"op": "add", "path": 3, "value": 1}])),
        &["400 invalidPath: operation 1: 'path' must be a string, got the number 3"],
    );
    check_parse(body(json!([{"op": "add", "path": "", "value": {"nickName": "B"}}])), &[r#"add nickName "B""#]);
}

#[test]
fn normalization() {
    // aadOptscim062020: one path-less replace with plain, dotted and URN-qualified keys.
    check_parse(
        body(json!([{"op": "replace", "value": {"displayName": "D", "name.givenName": "G", "name.familyName": "F",
                                                 format!("{EXT}:employeeNumber"): "42"}}])),
        &[
            r#"replace displayName "D""#,
            r#"replace name.givenName "G""#,
            r#"replace name.familyName "F""#,
            &format!(r#"replace {EXT}:employeeNumber "42""#),
        ],
    );
    // Okta: an extension URN key whose value is an object; case folded to the schema's.
    check_parse(
        body(
            json!([{"op": "replace", "value": {"ACTIVE": "False", EXT.to_lowercase(): {"Department": "R&D"}, "schemas": [CORE]}}]),
        ),
        &["replace active false", &format!(r#"replace {EXT}:department "R&D""#)],
    );
    check_parse(
        body(json!([{"op": "add", "path": EXT, "value": {"costCenter": "4130"}}])),
        &[&format!(r#"add {EXT}:costCenter "4130""#)],
    );
    check_parse(
        body(json!([{"op": "replace", "path": "manager", "value": "m1"}])),
        &[&format!(r#"replace {EXT}:manager {{"value":"m1"}}"#)],
    );
    check_parse(
        body(json!([{"op": "replace", "path": "EMAILS[TYPE eq \"work\"].VALUE", "value": "x"}])),
        &[r#"replace emails[TYPE eq "work"].value "x""#],
    );
    check_parse(
        body(json!([{"op": "replace", "path": format!("{CORE}:userName"), "value": "b"}])),
        &[r#"replace userName "b""#],
    );
    check_parse(body(json!([{"op": "replace", "path": "nickName", "value": null}])), &["remove nickName"]);
    check_parse(body(json!([{"op": "add", "path": "nickName", "value": null}])), &[]);
    check_parse(
        body(
            json!([{"op": "replace", "value": {"id": "x", "meta": {}, "groups": [], "urn:x:y:z": 1, "nickName": "n"}}]),
        ),
        &[r#"replace nickName "n""#],
    );
    check_parse(body(json!([{"op": "remove", "path": "emails", "value": []}])), &[]);
    check_parse(
        body(json!([{"op": "remove", "value": {"nickName": "n"}}])),
        &["400 noTarget: operation 1: a remove operation needs a 'path'"],
    );
    check_parse(
        body(json!([{"op": "replace", "value": "x"}])),
        &["400 invalidValue: operation 1: an add or replace without 'path' needs an object 'value'"],
    );
    check_parse(
        body(json!([{"op": "remove", "path": EXT}])),
        &[
            &format!("remove {EXT}:employeeNumber"),
            &format!("remove {EXT}:costCenter"),
            &format!("remove {EXT}:organization"),
            &format!("remove {EXT}:division"),
            &format!("remove {EXT}:department"),
            &format!("remove {EXT}:manager"),
        ],
    );
}

#[test]
fn path_errors() {
    check_parse(
        body(json!([{"op": "add", "path": "nope", "value": 1}])),
        &["400 invalidPath: operation 1: no attribute 'nope' in the User schema"],
    );
    check_parse(
        body(json!([{"op": "replace", "value": {"nickname": "n", "nope": 1}}])),
        &["400 invalidPath: operation 1: no attribute 'nope' in the User schema"],
    );
    check_parse(
        body(json!([{"op": "add", "path": "name.nope", "value": 1}])),
        &["400 invalidPath: operation 1: no attribute 'name.nope' in the User schema"],
    );
    check_parse(
        body(json!([{"op": "add", "path": "emails[type eq \"work\"].nope", "value": 1}])),
        &["400 invalidPath: operation 1: 'emails' has no sub-attribute 'nope'"],
    );
    check_parse(
        body(json!([{"op": "add", "path": "userName[value eq \"x\"]", "value": 1}])),
        &["400 invalidPath: operation 1: 'userName' is single-valued, so it cannot have a value filter"],
    );
    check_parse(
        body(json!([{"op": "add", "path": "displayName.x", "value": 1}])),
        &["400 invalidPath: operation 1: no attribute 'displayName.x' in the User schema"],
    );
    let unknown_filter = parse_patch(&body(json!([{"op": "remove", "path": "emails[nope eq \"x\"]"}])), &USER);
    assert_eq!(unknown_filter.map_err(|error| error.scim_type), Err(Some(crate::ScimType::InvalidPath)));
    let bad_syntax = parse_patch(&body(json!([{"op": "remove", "path": "emails[type eq]"}])), &USER);
    assert_eq!(bad_syntax.map_err(|error| error.scim_type), Err(Some(crate::ScimType::InvalidPath)));
    check_parse(
        body(json!([{"op": "add", "path": "active", "value": "yes"}])),
        &["400 invalidValue: operation 1: attribute 'active' must be a boolean, got the string \"yes\""],
    );
}

#[test]
fn mutability() {
    check(
        json!([{"op": "replace", "path": "id", "value": "x"}]),
        json!("400 mutability: operation 1: attribute 'id' is read-only"),
    );
    check(
        json!([{"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"}]),
        json!("400 mutability: operation 1: attribute 'meta' is read-only"),
    );
    check(
        json!([{"op": "add", "path": "groups", "value": [{"value": "g"}]}]),
        json!("400 mutability: operation 1: attribute 'groups' is read-only"),
    );
    check(
        json!([{"op": "remove", "path": "userName"}]),
        json!("400 mutability: operation 1 (remove userName): attribute 'userName' is required and cannot be removed"),
    );
    check(
        json!([{"op": "replace", "path": "userName", "value": null}]),
        json!("400 mutability: operation 1 (remove userName): attribute 'userName' is required and cannot be removed"),
    );
    check(json!([{"op": "replace", "value": {"id": "u9", "nickName": "n"}}]), json!({"nickName": "n"}));
    check_group(
        json!([{"op": "replace", "path": format!("members[value eq \"{U1}\"].value"), "value": "other"}]),
        json!(format!(
            "400 mutability: operation 1 (replace members[value eq \"{U1}\"].value): sub-attribute 'value' is immutable and already has a value"
        )),
    );
    check_group(
        json!([{"op": "add", "path": "members[value eq \"x\"].display", "value": "X"}]),
        json!("400 mutability: operation 1: attribute 'display' is read-only"),
    );
    check(json!([{"op": "replace", "path": "password", "value": "s3cret"}]), json!({"password": "s3cret"}));
}

#[test]
fn atomicity() {
    check(
        json!([{"op": "replace", "path": "displayName", "value": "X"}, {"op": "replace", "path": "emails[type eq \"work\" or type eq \"other\"].value", "value": "x"},
               {"op": "remove", "path": "userName"}]),
        json!("400 mutability: operation 3 (remove userName): attribute 'userName' is required and cannot be removed"),
    );
}

#[test]
fn rfc_7644_examples() {
    // §3.5.2.1: add a member (display is read-only and dropped).
    check_group(
        json!([{"op": "add", "path": "members", "value": [{"display": "Babs Jensen", "$ref": "https://example.com/v2/Users/u3", "value": "u3"}]}]),
        json!({"members": [{"value": U1}, {"value": U2}, {"$ref": "https://example.com/v2/Users/u3", "value": "u3"}]}),
    );
    // §3.5.2.1: path-less add of an email and a nickname.
    check(
        json!([{"op": "add", "value": {"emails": [{"value": "babs@jensen.org", "type": "home"}], "nickname": "Babs"}}]),
        json!({"emails": [user()["emails"][0], user()["emails"][1], {"value": "babs@jensen.org", "type": "home"}], "nickName": "Babs"}),
    );
    // §3.5.2.2: remove all members; remove one member; remove the work emails ending in a domain.
    check_group(json!([{"op": "remove", "path": "members"}]), json!({"members": null}));
    check_group(
        json!([{"op": "remove", "path": format!("members[value eq \"{U1}\"]")}]),
        json!({"members": [{"value": U2}]}),
    );
    check(
        json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"work.org\"]"}]),
        json!({"emails": [user()["emails"][1]]}),
    );
    // §3.5.2.2: remove one member and add another, then remove all and add.
    check_group(
        json!([{"op": "remove", "path": format!("members[value eq \"{U1}\"]")}, {"op": "add", "path": "members", "value": [{"display": "James Smith", "value": "u3"}]}]),
        json!({"members": [{"value": U2}, {"value": "u3"}]}),
    );
    check_group(
        json!([{"op": "remove", "path": "members"}, {"op": "add", "path": "members", "value": [{"value": "u3"}]}]),
        json!({"members": [{"value": "u3"}]}),
    );
    // §3.5.2.3: replace all members; replace the work address; replace its street.
    check_group(
        json!([{"op": "replace", "path": "members", "value": [{"display": "Babs Jensen", "value": U1}, {"value": "u3"}]}]),
        json!({"members": [{"value": U1}, {"value": "u3"}]}),
    );
    let address = json!({"type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood", "region": "CA",
                         "postalCode": "91608", "country": "US", "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US", "primary": true});
    let with_address = {
        let mut user = user();
        user["addresses"] = json!([{"type": "work", "streetAddress": "old", "locality": "L"}, {"type": "home", "streetAddress": "h", "primary": true}]);
        user
    };
    check_on(
        &USER,
        &with_address,
        json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": address}]),
        json!({"addresses": [address, {"type": "home", "streetAddress": "h", "primary": false}]}),
    );
    check_on(
        &USER,
        &with_address,
        json!([{"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}]),
        json!({"addresses": [{"type": "work", "streetAddress": "1010 Broadway Ave", "locality": "L"}, {"type": "home", "streetAddress": "h", "primary": true}]}),
    );
    // §3.5.2.3: path-less replace of emails and nickname.
    check(
        json!([{"op": "replace", "value": {"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}], "nickname": "Babs"}}]),
        json!({"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}], "nickName": "Babs"}),
    );
    // §3.5.2.3: replace on a complex attribute merges the given sub-attributes.
    check(
        json!([{"op": "replace", "path": "name", "value": {"givenName": "Babs"}}]),
        json!({"name": {"givenName": "Babs", "familyName": "Jensen"}}),
    );
    // §3.5.2.3: replace of an attribute that does not exist adds it.
    check(json!([{"op": "replace", "path": "title", "value": "Tour Guide"}]), json!({"title": "Tour Guide"}));
}

#[test]
fn entra_default_dialect() {
    // Reference §1.7: capitalised ops, the work email by filter, the family name.
    check(
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
               {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}]),
        json!({"emails": [{"value": "updatedEmail@microsoft.com", "type": "work", "primary": true}, user()["emails"][1]],
               "name": {"givenName": "Barbara", "familyName": "updatedFamilyName"}}),
    );
    check(
        json!([{"op": "Replace", "path": "userName", "value": "5b50@testuser.com"}]),
        json!({"userName": "5b50@testuser.com"}),
    );
    check(json!([{"op": "Replace", "path": "active", "value": "False"}]), json!({"active": false}));
    check(json!([{"op": "Replace", "path": "active", "value": false}]), json!({"active": false}));
    check(json!([{"op": "Add", "path": "nickName", "value": "Babs"}]), json!({"nickName": "Babs"}));
    check(
        json!([{"op": "Replace", "path": "externalId", "value": "e2"}, {"op": "Replace", "path": format!("{EXT}:employeeNumber"), "value": "42"}]),
        json!({"externalId": "e2", EXT: {"employeeNumber": "42"}, "schemas": [CORE, EXT]}),
    );
    check(
        json!([{"op": "Add", "path": "manager", "value": [{"$ref": "http://x/Users/2819", "value": "2819"}]}]),
        json!({EXT: {"manager": {"$ref": "http://x/Users/2819", "value": "2819"}}, "schemas": [CORE, EXT]}),
    );
    check(
        json!([{"op": "Add", "path": format!("{EXT}:manager"), "value": "2819"}]),
        json!({EXT: {"manager": {"value": "2819"}}, "schemas": [CORE, EXT]}),
    );
    // Groups: rename, add members with "$ref": null, remove members by a value array.
    check_group(
        json!([{"op": "Replace", "path": "displayName", "value": "1879db59updatedDisplayName"}]),
        json!({"displayName": "1879db59updatedDisplayName"}),
    );
    check_group(
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]}]),
        json!({"members": [{"value": U1}, {"value": U2}, {"value": "f648f8d5ea4e4cd38e9c"}]}),
    );
    check_group(
        json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": U1}]}]),
        json!({"members": [{"value": U2}]}),
    );
    check_group(json!([{"op": "Remove", "path": "members", "value": [{"value": "u1091"}]}]), json!({}));
    check_group(
        json!([{"op": "Remove", "path": "members", "value": [{"value": U1}, {"value": U2}]}]),
        json!({"members": null}),
    );
    check_group(json!([{"op": "Remove", "path": "members", "value": U2}]), json!({"members": [{"value": U1}]}));
    // The Entra upsert: a filtered path that matches nothing creates the element.
    let no_work = json!({"schemas": [CORE], "userName": "b", "emails": [{"value": "h@x", "type": "home"}]});
    check_on(
        &USER,
        &no_work,
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "x@work"}]),
        json!({"emails": [{"value": "h@x", "type": "home"}, {"type": "work", "value": "x@work"}]}),
    );
    check_on(
        &USER,
        &json!({"schemas": [CORE], "userName": "b"}),
        json!([{"op": "Add", "path": "emails[type eq \"work\" and primary eq true].value", "value": "x@work"}]),
        json!({"emails": [{"type": "work", "primary": true, "value": "x@work"}]}),
    );
    check_on(
        &USER,
        &no_work,
        json!([{"op": "replace", "path": "phoneNumbers[type eq \"mobile\"]", "value": {"value": "+1 555"}}]),
        json!({"phoneNumbers": [{"type": "mobile", "value": "+1 555"}]}),
    );
    check(
        json!([{"op": "Replace", "path": "emails[type ne \"work\" and type ne \"home\"].value", "value": "x"}]),
        json!(
            "400 noTarget: operation 1 (replace emails[type ne \"work\" and type ne \"home\"].value): no element of 'emails' matches the filter, and an element can only be created from a filter of 'eq' comparisons joined by 'and'"
        ),
    );
    check(
        json!([{"op": "Replace", "path": "emails[type eq \"other\" or type eq \"x\"].value", "value": "x"}]),
        json!(
            "400 noTarget: operation 1 (replace emails[type eq \"other\" or type eq \"x\"].value): no element of 'emails' matches the filter, and an element can only be created from a filter of 'eq' comparisons joined by 'and'"
        ),
    );
}

#[test]
fn entra_aad_opt_scim_062020_dialect() {
    check(json!([{"op": "replace", "path": "active", "value": false}]), json!({"active": false}));
    check(json!([{"op": "add", "path": "nickName", "value": "Babs"}]), json!({"nickName": "Babs"}));
    check(
        json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "w@x"},
               {"op": "replace", "value": {"displayName": "D", "name.givenName": "G", "name.familyName": "F", format!("{EXT}:employeeNumber"): "7"}}]),
        json!({"emails": [{"value": "w@x", "type": "work", "primary": true}, user()["emails"][1]], "displayName": "D",
               "name": {"givenName": "G", "familyName": "F"}, EXT: {"employeeNumber": "7"}, "schemas": [CORE, EXT]}),
    );
    check_group(
        json!([{"op": "remove", "path": format!("members[value eq \"{U2}\"]")}]),
        json!({"members": [{"value": U1}]}),
    );
    check_group(json!([{"op": "remove", "path": "members[value eq \"7f4bc1a3-none\"]"}]), json!({}));
}

#[test]
fn github_examples() {
    check_group(
        json!([{"op": "replace", "path": "displayName", "value": "Employees"}]),
        json!({"displayName": "Employees"}),
    );
    check_group(
        json!([{"op": "add", "path": "members", "value": [{"value": "879db59-3bdf-4490-ad68-ab880a2694745"}, {"value": "0db508eb-91e2-46e4-809c-30dcbda0c685"}]}]),
        json!({"members": [{"value": U1}, {"value": U2}, {"value": "879db59-3bdf-4490-ad68-ab880a2694745"}, {"value": "0db508eb-91e2-46e4-809c-30dcbda0c685"}]}),
    );
    check(
        json!([{"op": "replace", "path": "emails[type eq 'work'].value", "value": "updatedEmail@microsoft.com"}, {"op": "replace", "path": "name.familyName", "value": "updatedFamilyName"}]),
        json!({"emails": [{"value": "updatedEmail@microsoft.com", "type": "work", "primary": true}, user()["emails"][1]],
               "name": {"givenName": "Barbara", "familyName": "updatedFamilyName"}}),
    );
    check(
        json!([{"op": "replace", "path": "displayName", "value": "Monalisa Octocat"}]),
        json!({"displayName": "Monalisa Octocat"}),
    );
    check(json!([{"op": "replace", "value": {"active": false}}]), json!({"active": false}));
}

#[test]
fn multi_valued_rules() {
    // Re-adding an existing member succeeds and does not duplicate; neither does a case variant of an email.
    check_group(json!([{"op": "add", "path": "members", "value": [{"value": U1}]}]), json!({}));
    check_group(
        json!([{"op": "add", "path": "members", "value": [{"value": U1, "type": "User"}]}]),
        json!({"members": [{"value": U1, "type": "User"}, {"value": U2}]}),
    );
    check(json!([{"op": "add", "path": "emails", "value": [{"value": "B@HOME.org", "type": "home"}]}]), json!({}));
    // A new primary clears the others.
    check(
        json!([{"op": "add", "path": "emails", "value": {"value": "n@x", "type": "other", "primary": true}}]),
        json!({"emails": [{"value": "b@work.org", "type": "work", "primary": false}, user()["emails"][1], {"value": "n@x", "type": "other", "primary": true}]}),
    );
    check(
        json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]),
        json!({"emails": [{"value": "b@work.org", "type": "work", "primary": false}, {"value": "b@home.org", "type": "home", "primary": true}]}),
    );
    check(
        json!([{"op": "add", "path": "emails", "value": [{"value": "1", "primary": true}, {"value": "2", "primary": true}]}]),
        json!(
            "400 invalidValue: operation 1 (add emails): the value of 'emails' has more than one element with \"primary\": true"
        ),
    );
    // Filtered add merges into the matching element; filtered replace replaces it wholly.
    check(
        json!([{"op": "add", "path": "emails[type eq \"home\"]", "value": {"display": "Home"}}]),
        json!({"emails": [user()["emails"][0], {"value": "b@home.org", "type": "home", "display": "Home"}]}),
    );
    check(
        json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "n@home"}}]),
        json!({"emails": [user()["emails"][0], {"value": "n@home"}]}),
    );
    // Sub-attribute removal on filtered and unfiltered paths; empty elements disappear.
    check(
        json!([{"op": "remove", "path": "emails[type eq \"home\"].type"}]),
        json!({"emails": [user()["emails"][0], {"value": "b@home.org"}]}),
    );
    check(
        json!([{"op": "remove", "path": "emails.primary"}]),
        json!({"emails": [{"value": "b@work.org", "type": "work"}, user()["emails"][1]]}),
    );
    check(
        json!([{"op": "replace", "path": "emails.type", "value": "other"}]),
        json!({"emails": [{"value": "b@work.org", "type": "other", "primary": true}, {"value": "b@home.org", "type": "other"}]}),
    );
    check(json!([{"op": "remove", "path": "emails[type eq \"nope\"]"}]), json!({}));
    check(
        json!([{"op": "remove", "path": "emails[value pr].value"}, {"op": "remove", "path": "emails[type pr]"}]),
        json!({"emails": null}),
    );
    check(json!([{"op": "replace", "path": "emails", "value": []}]), json!({"emails": null}));
    check(json!([{"op": "remove", "path": "emails"}]), json!({"emails": null}));
    check(json!([{"op": "remove", "path": "phoneNumbers.type"}]), json!({}));
    check(
        json!([{"op": "add", "path": "phoneNumbers.type", "value": "work"}]),
        json!("400 noTarget: operation 1 (add phoneNumbers.type): 'phoneNumbers' has no elements to set 'type' on"),
    );
}

#[test]
fn paths_under_unknown_schemas_are_ignored_like_body_keys() {
    let custom = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User";
    check(
        json!([
            {"op": "Add", "path": format!("{custom}:costCenter"), "value": "x"},
            {"op": "Replace", "path": "displayName", "value": "Other"},
        ]),
        json!({"displayName": "Other"}),
    );
    check(json!([{"op": "remove", "path": format!("{custom}:costCenter")}]), json!({}));
    // An unknown attribute of a known schema is still an error.
    check(
        json!([{"op": "add", "path": format!("{EXT}:nosuch"), "value": "x"}]),
        json!(format!("400 invalidPath: operation 1: no attribute '{EXT}:nosuch' in the User schema")),
    );
}

#[test]
fn null_sub_attributes_unassign_only_themselves() {
    check(
        json!([{"op": "replace", "path": "name", "value": {"givenName": null}}]),
        json!({"name": {"familyName": "Jensen"}}),
    );
    check(
        json!([{"op": "replace", "value": {"name": {"givenName": null}}}]),
        json!({"name": {"familyName": "Jensen"}}),
    );
    check(
        json!([{"op": "replace", "path": "name", "value": {"givenName": null, "familyName": "X"}}]),
        json!({"name": {"familyName": "X"}}),
    );
    check(
        json!([{"op": "add", "path": "name", "value": {"givenName": null, "familyName": null}}]),
        json!({"name": null}),
    );
}

#[test]
fn a_filtered_replace_matching_several_elements_leaves_no_repeats() {
    let two_work = json!({
        "schemas": [CORE], "id": "u1", "userName": "bjensen",
        "emails": [{"value": "w1@x", "type": "work", "primary": true}, {"value": "w2@x", "type": "work"}],
    });
    check_on(
        &USER,
        &two_work,
        json!([{"op": "replace", "path": "emails[type eq \"work\"]", "value": {"value": "n@x", "type": "work"}}]),
        json!({"emails": [{"value": "n@x", "type": "work"}]}),
    );
    check_on(
        &USER,
        &two_work,
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "n@x"}]),
        json!({"emails": [{"value": "n@x", "type": "work", "primary": true}]}),
    );
}

#[test]
fn single_valued_rules() {
    check(
        json!([{"op": "add", "path": "name.middleName", "value": "J"}]),
        json!({"name": {"givenName": "Barbara", "familyName": "Jensen", "middleName": "J"}}),
    );
    check(
        json!([{"op": "remove", "path": "name.givenName"}, {"op": "remove", "path": "name.familyName"}]),
        json!({"name": null}),
    );
    check(json!([{"op": "remove", "path": "name"}]), json!({"name": null}));
    check(json!([{"op": "remove", "path": "nickName"}]), json!({}));
    check(
        json!([{"op": "add", "path": "name", "value": {"givenName": "B", "honorificPrefix": "Ms."}}]),
        json!({"name": {"givenName": "B", "familyName": "Jensen", "honorificPrefix": "Ms."}}),
    );
    check(json!([{"op": "add", "path": "displayName", "value": "Other"}]), json!({"displayName": "Other"}));
    check(
        json!([{"op": "add", "path": format!("{EXT}:manager.value"), "value": "m"}]),
        json!({EXT: {"manager": {"value": "m"}}, "schemas": [CORE, EXT]}),
    );
    let with_ext = {
        let mut user = user();
        user["schemas"] = json!([CORE, EXT]);
        user[EXT] = json!({"department": "d", "manager": {"value": "m", "displayName": "M"}});
        user
    };
    check_on(
        &USER,
        &with_ext,
        json!([{"op": "remove", "path": format!("{EXT}:department")}]),
        json!({EXT: {"manager": {"value": "m", "displayName": "M"}}}),
    );
    check_on(&USER, &with_ext, json!([{"op": "remove", "path": EXT}]), json!({EXT: null, "schemas": [CORE]}));
    check_on(
        &USER,
        &with_ext,
        json!([{"op": "replace", "path": EXT, "value": {"department": "e"}}]),
        json!({EXT: {"department": "e", "manager": {"value": "m", "displayName": "M"}}}),
    );
}

#[test]
fn provider_helpers() {
    let ops = parse_patch(
        &body(json!([{"op": "Add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]}, {"op": "remove", "path": "members[value eq \"c\"]"},
                     {"op": "remove", "path": "members[value eq \"c\" or value eq \"d\"]"}])),
        &GROUP,
    )
    .unwrap();
    let summary: Vec<(PatchOpKind, &str, Vec<&str>, Option<&str>)> =
        ops.iter().map(|op| (op.op, op.path.attr.name.as_str(), op.element_values(), op.filter_eq_value())).collect();
    assert_eq!(
        summary,
        [
            (PatchOpKind::Add, "members", vec!["a", "b"], None),
            (PatchOpKind::Remove, "members", vec![], Some("c")),
            (PatchOpKind::Remove, "members", vec![], None),
        ]
    );
}

#[test]
fn result_is_canonical() {
    let mut resource: Map<String, Value> = user().as_object().cloned().unwrap_or_default();
    let ops =
        parse_patch(&body(json!([{"op": "add", "path": format!("{EXT}:department"), "value": "d"}])), &USER).unwrap();
    apply_patch(&mut resource, &ops, &USER).unwrap();
    assert_eq!(resource["schemas"], json!([CORE, EXT]));
    let ops = parse_patch(&body(json!([{"op": "remove", "path": format!("{EXT}:department")}])), &USER).unwrap();
    apply_patch(&mut resource, &ops, &USER).unwrap();
    assert_eq!(Value::Object(resource), user());
}

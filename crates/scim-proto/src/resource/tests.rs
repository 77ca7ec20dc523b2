//! Table tests for request-body canonicalization, required attributes, the single-primary rule and PUT.

// The table helpers take owned JSON so that each case reads as one `json!(...)` line.
#![allow(clippy::needless_pass_by_value)]

use serde_json::{Value, json};

use super::*;
use crate::schema::{GROUP, USER};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const EXT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The outcome of a call, printed as the canonical JSON or as `status scimType: detail`.
fn outcome(result: Result<Map<String, Value>, ScimError>) -> Value {
    match result {
        Ok(map) => Value::Object(map),
        Err(error) => Value::String(error.to_string()),
    }
}

/// Canonicalizes a User body and compares with the expected JSON or error text.
fn check(input: Value, expected: Value) {
    assert_eq!(outcome(canonicalize(&input, &USER)), expected, "input: {input}");
}

/// Canonicalizes a Group body.
fn check_group(input: Value, expected: Value) {
    assert_eq!(outcome(canonicalize(&input, &GROUP)), expected, "input: {input}");
}

#[test]
fn canonical_names_and_placement() {
    check(json!({"schemas": [CORE], "USERNAME": "b"}), json!({"schemas": [CORE], "userName": "b"}));
    check(
        json!({"schemas": [CORE.to_uppercase()], "Name": {"GIVENNAME": "B", "familyname": "J"}}),
        json!({"schemas": [CORE], "name": {"givenName": "B", "familyName": "J"}}),
    );
    check(
        json!({"schemas": [CORE], "Emails": [{"VALUE": "a@x", "Type": "work", "PRIMARY": true}]}),
        json!({"schemas": [CORE], "emails": [{"value": "a@x", "type": "work", "primary": true}]}),
    );
    check(
        json!({"schemas": [CORE], format!("{EXT}:employeeNumber"): "1"}),
        json!({"schemas": [CORE, EXT], EXT: {"employeeNumber": "1"}}),
    );
    check(
        json!({"schemas": [CORE], format!("{}:EmployeeNumber", EXT.to_uppercase()): "1"}),
        json!({"schemas": [CORE, EXT], EXT: {"employeeNumber": "1"}}),
    );
    check(json!({"schemas": [CORE], format!("{CORE}:userName"): "b"}), json!({"schemas": [CORE], "userName": "b"}));
    check(
        json!({"schemas": [CORE, EXT], EXT.to_lowercase(): {"Department": "R&D", "manager": {"value": "m"}}}),
        json!({"schemas": [CORE, EXT], EXT: {"department": "R&D", "manager": {"value": "m"}}}),
    );
    check(json!({"schemas": [CORE], CORE: {"userName": "b"}}), json!({"schemas": [CORE], "userName": "b"}));
    check(json!({"schemas": [CORE, EXT], EXT: {}}), json!({"schemas": [CORE]}));
    check(json!({"schemas": [CORE], "EXTERNALID": "e"}), json!({"schemas": [CORE], "externalId": "e"}));
    check(json!({"schemas": [CORE], "Department": "d"}), json!({"schemas": [CORE, EXT], EXT: {"department": "d"}}));
}

#[test]
fn nulls_read_only_and_unknowns() {
    check(
        json!({"schemas": [CORE], "userName": "b", "nickName": null, "emails": [], "name": {"givenName": null}}),
        json!({"schemas": [CORE], "userName": "b"}),
    );
    check(
        json!({"schemas": [CORE], "id": "x", "meta": {"resourceType": "User"}, "groups": [{"value": "g"}], "userName": "b"}),
        json!({"schemas": [CORE], "userName": "b"}),
    );
    check(json!({"schemas": [CORE], "roles": []}), json!({"schemas": [CORE]}));
    check(
        json!({"schemas": [CORE], "usrName": "b"}),
        json!(format!("400 invalidSyntax: unknown attribute 'usrName' of schema \"{CORE}\"")),
    );
    check(
        json!({"schemas": [CORE], EXT: {"nope": 1}}),
        json!(format!("400 invalidSyntax: unknown attribute 'nope' of schema \"{EXT}\"")),
    );
    check(
        json!({"schemas": [CORE], "urn:ietf:params:scim:schemas:extension:custom:2.0:User:foo": "x", "urn:x:y": {"a": 1}}),
        json!({"schemas": [CORE]}),
    );
    check(
        json!({"schemas": [CORE], "name": {"givenName": "B", "nick": "x"}}),
        json!({"schemas": [CORE], "name": {"givenName": "B"}}),
    );
    check(
        json!({"schemas": [CORE], EXT: "x"}),
        json!(format!("400 invalidSyntax: '{EXT}' must be an object of that schema's attributes")),
    );
    check_group(
        json!({"schemas": [GROUP_CORE, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
               "externalId": "8aa1", "displayName": "d", "meta": {"resourceType": "Group"}}),
        json!({"schemas": [GROUP_CORE], "externalId": "8aa1", "displayName": "d"}),
    );
    check_group(
        json!({"schemas": [GROUP_CORE], "displayName": "d", "members": [{"value": "u1", "display": "U", "$ref": null, "displayName": "x"}]}),
        json!({"schemas": [GROUP_CORE], "displayName": "d", "members": [{"value": "u1"}]}),
    );
}

#[test]
fn schemas_attribute() {
    let missing = json!(format!("400 invalidSyntax: 'schemas' must be an array that lists \"{CORE}\""));
    check(json!({"userName": "b"}), missing.clone());
    check(json!({"schemas": [EXT], "userName": "b"}), missing.clone());
    check(json!({"schemas": 3, "userName": "b"}), missing);
    check(json!({"SCHEMAS": CORE, "userName": "b"}), json!({"schemas": [CORE], "userName": "b"}));
    check(json!({"schemas": [CORE, "urn:unknown", 7], "userName": "b"}), json!({"schemas": [CORE], "userName": "b"}));
    check(json!([1]), json!("400 invalidSyntax: the request body must be a JSON object"));
    check(json!("x"), json!("400 invalidSyntax: the request body must be a JSON object"));
}

#[test]
fn types_and_tolerance() {
    check(json!({"schemas": [CORE], "active": "True"}), json!({"schemas": [CORE], "active": true}));
    check(json!({"schemas": [CORE], "active": "FALSE"}), json!({"schemas": [CORE], "active": false}));
    check(
        json!({"schemas": [CORE], "active": "yes"}),
        json!("400 invalidValue: attribute 'active' must be a boolean, got the string \"yes\""),
    );
    check(
        json!({"schemas": [CORE], "active": 1}),
        json!("400 invalidValue: attribute 'active' must be a boolean, got the number 1"),
    );
    check(
        json!({"schemas": [CORE], "userName": 5}),
        json!("400 invalidValue: attribute 'userName' must be a string, got the number 5"),
    );
    check(json!({"schemas": [CORE], "userName": ["b"]}), json!({"schemas": [CORE], "userName": "b"}));
    check(
        json!({"schemas": [CORE], "userName": ["a", "b"]}),
        json!("400 invalidValue: attribute 'userName' must be a single value, got an array"),
    );
    check(
        json!({"schemas": [CORE], "name": "x"}),
        json!("400 invalidValue: attribute 'name' must be an object, got the string \"x\""),
    );
    check(
        json!({"schemas": [CORE], "emails": {"value": "a@x"}}),
        json!({"schemas": [CORE], "emails": [{"value": "a@x"}]}),
    );
    check(json!({"schemas": [CORE], "emails": "a@x"}), json!({"schemas": [CORE], "emails": [{"value": "a@x"}]}));
    check(
        json!({"schemas": [CORE], "emails": [{"value": "a@x", "primary": "true"}]}),
        json!({"schemas": [CORE], "emails": [{"value": "a@x", "primary": true}]}),
    );
    check(
        json!({"schemas": [CORE], "emails": [{"value": 3}]}),
        json!("400 invalidValue: attribute 'emails.value' must be a string, got the number 3"),
    );
    check(
        json!({"schemas": [CORE], "emails": [[{"value": "a"}]]}),
        json!("400 invalidValue: attribute 'emails' must be a value or an object per element, got an array"),
    );
    check(
        json!({"schemas": [CORE], EXT: {"manager": "m1"}}),
        json!({"schemas": [CORE, EXT], EXT: {"manager": {"value": "m1"}}}),
    );
    check(
        json!({"schemas": [CORE], EXT: {"manager": [{"value": "m1", "$ref": "../Users/m1", "displayName": "M"}]}}),
        json!({"schemas": [CORE, EXT], EXT: {"manager": {"value": "m1", "$ref": "../Users/m1"}}}),
    );
    check_group(
        json!({"schemas": [GROUP_CORE], "displayName": "d", "members": ["u1", "u2"]}),
        json!({"schemas": [GROUP_CORE], "displayName": "d", "members": [{"value": "u1"}, {"value": "u2"}]}),
    );
    check(
        json!({"schemas": [CORE], "x509Certificates": [{"value": "TUlJ"}, {"value": "TUk="}, {"value": "TQ"}]}),
        json!({"schemas": [CORE], "x509Certificates": [{"value": "TUlJ"}, {"value": "TUk="}, {"value": "TQ"}]}),
    );
    check(
        json!({"schemas": [CORE], "x509Certificates": [{"value": "not base64!"}]}),
        json!(
            "400 invalidValue: attribute 'x509Certificates.value' must be a base64 string, got the string \"not base64!\""
        ),
    );
    check(
        json!({"schemas": [CORE], "x509Certificates": [{"value": "T"}]}),
        json!("400 invalidValue: attribute 'x509Certificates.value' must be a base64 string, got the string \"T\""),
    );
    check(
        json!({"schemas": [CORE], "x509Certificates": [{"value": "TQ=a"}]}),
        json!("400 invalidValue: attribute 'x509Certificates.value' must be a base64 string, got the string \"TQ=a\""),
    );
}

#[test]
fn date_times() {
    let doc = |value: Value| json!({"schemas": [CORE], "meta": {"created": value}});
    // `meta` is read-only and dropped before its type is looked at.
    check(doc(json!("nonsense")), json!({"schemas": [CORE]}));
    assert_eq!(
        canonicalize_value(&crate::schema::META_SUB[1], &json!("2011-08-01T18:29:49.793Z")),
        Ok(Some(json!("2011-08-01T18:29:49.793Z")))
    );
    assert_eq!(
        canonicalize_value(&crate::schema::META_SUB[1], &json!("2011-08-01T18:29:49+02:00")),
        Ok(Some(json!("2011-08-01T18:29:49+02:00")))
    );
    assert_eq!(
        canonicalize_value(&crate::schema::META_SUB[1], &json!("2011-08-01")).map_err(|error| error.to_string()),
        Err("400 invalidValue: attribute 'created' must be an RFC 3339 dateTime string, got the string \"2011-08-01\""
            .to_owned())
    );
}

/// Runs a validator on a canonical resource and prints `ok` or the error.
fn check_rule(
    rule: fn(&Map<String, Value>, &ResourceType) -> Result<(), ScimError>,
    rt: &ResourceType,
    input: Value,
    expected: &str,
) {
    let map = input.as_object().cloned().unwrap_or_default();
    let actual = match rule(&map, rt) {
        Ok(()) => "ok".to_owned(),
        Err(error) => error.to_string(),
    };
    assert_eq!(actual, expected, "input: {input}");
}

#[test]
fn required_attributes() {
    let required = validate_required;
    check_rule(required, &USER, json!({"userName": "b"}), "ok");
    check_rule(required, &USER, json!({"displayName": "b"}), "400 invalidValue: attribute 'userName' is required");
    check_rule(required, &GROUP, json!({"displayName": "g"}), "ok");
    check_rule(
        required,
        &GROUP,
        json!({"members": [{"value": "u"}]}),
        "400 invalidValue: attribute 'displayName' is required",
    );
}

#[test]
fn single_primary() {
    let rule = at_most_one_primary;
    check_rule(
        rule,
        &USER,
        json!({"emails": [{"value": "a", "primary": true}, {"value": "b", "primary": false}]}),
        "ok",
    );
    check_rule(
        rule,
        &USER,
        json!({"emails": [{"value": "a", "primary": true}, {"value": "b", "primary": true}]}),
        "400 invalidValue: attribute 'emails' has 2 values with \"primary\": true; at most one may be primary",
    );
    check_rule(
        rule,
        &USER,
        json!({"emails": [{"value": "a", "primary": true}], "phoneNumbers": [{"value": "1", "primary": true}]}),
        "ok",
    );
}

#[test]
fn create() {
    let body = json!({"schemas": [CORE], "userName": "b", "emails": [{"value": "a", "primary": "True"}, {"value": "b", "primary": true}]});
    assert_eq!(
        outcome(prepare_create(&body, &USER)),
        json!("400 invalidValue: attribute 'emails' has 2 values with \"primary\": true; at most one may be primary")
    );
    assert_eq!(
        outcome(prepare_create(&json!({"schemas": [CORE]}), &USER)),
        json!("400 invalidValue: attribute 'userName' is required")
    );
}

/// Applies a PUT of `incoming` (a body) over `existing` (canonical) and compares the result.
fn check_put(rt: &ResourceType, existing: Value, incoming: Value, expected: Value) {
    let existing = existing.as_object().cloned().unwrap_or_default();
    let result = canonicalize(&incoming, rt).and_then(|incoming| apply_put(&existing, incoming, rt));
    assert_eq!(outcome(result), expected, "incoming: {incoming}");
}

#[test]
fn put_replaces() {
    let existing = json!({"schemas": [CORE, EXT], "id": "1", "meta": {"resourceType": "User"}, "userName": "b",
                          "password": "p", "nickName": "n", EXT: {"department": "d"}});
    check_put(
        &USER,
        existing.clone(),
        json!({"schemas": [CORE], "id": "other", "userName": "b2", "title": "t"}),
        json!({"schemas": [CORE], "id": "1", "meta": {"resourceType": "User"}, "userName": "b2", "title": "t", "password": "p"}),
    );
    check_put(
        &USER,
        existing,
        json!({"schemas": [CORE], "userName": "b", "password": "new"}),
        json!({"schemas": [CORE], "id": "1", "meta": {"resourceType": "User"}, "userName": "b", "password": "new"}),
    );
    check_put(
        &USER,
        json!({"id": "1", "userName": "b"}),
        json!({"schemas": [CORE]}),
        json!("400 invalidValue: attribute 'userName' is required"),
    );
}

#[test]
fn put_immutable() {
    const IMMUTABLE_ATTRS: &[AttributeDef] = &[
        AttributeDef::string("displayName").required(),
        AttributeDef::string("badge").mutability(Mutability::Immutable),
    ];
    const SCHEMA: Schema = Schema { id: "urn:test:Thing", name: "Thing", description: "", attributes: IMMUTABLE_ATTRS };
    const THING: ResourceType =
        ResourceType { id: "Thing", endpoint: "/Things", description: "", schema: &SCHEMA, extensions: &[] };
    let schemas = json!(["urn:test:Thing"]);
    check_put(
        &THING,
        json!({"id": "1", "displayName": "a"}),
        json!({"schemas": schemas, "displayName": "a", "badge": "x"}),
        json!({"schemas": schemas, "id": "1", "displayName": "a", "badge": "x"}),
    );
    check_put(
        &THING,
        json!({"id": "1", "displayName": "a", "badge": "x"}),
        json!({"schemas": schemas, "displayName": "b", "badge": "X"}),
        json!({"schemas": schemas, "id": "1", "displayName": "b", "badge": "X"}),
    );
    check_put(
        &THING,
        json!({"id": "1", "displayName": "a", "badge": "x"}),
        json!({"schemas": schemas, "displayName": "b", "badge": "y"}),
        json!("400 mutability: attribute 'badge' is immutable and already has a value"),
    );
    check_put(
        &THING,
        json!({"id": "1", "displayName": "a", "badge": "x"}),
        json!({"schemas": schemas, "displayName": "b"}),
        json!({"schemas": schemas, "id": "1", "displayName": "b", "badge": "x"}),
    );
}

#[test]
fn resolve_paths() {
    let check = |path: &str, expected: &str| {
        let parsed = AttrPath::parse(path).unwrap();
        let actual = match resolve(&USER, &parsed) {
            Some(Resolved::Attribute { attr, sub }) => {
                format!(
                    "{}{}{}",
                    if attr.in_extension { "ext:" } else { "" },
                    attr.def.name,
                    sub.map_or(String::new(), |sub| format!(".{}", sub.name))
                )
            }
            Some(Resolved::Schema { schema, .. }) => format!("schema {}", schema.name),
            None => "none".to_owned(),
        };
        assert_eq!(actual, expected, "path: {path}");
    };
    check("USERNAME", "userName");
    check("name.GIVENNAME", "name.givenName");
    check("name.nope", "none");
    check("nope", "none");
    check("id", "id");
    check(&format!("{CORE}:id"), "id");
    check(&format!("{EXT}:manager.value"), "ext:manager.value");
    check("employeeNumber", "ext:employeeNumber");
    check(EXT, "schema EnterpriseUser");
    check(&EXT.to_lowercase(), "schema EnterpriseUser");
    check("urn:x:y", "none");
}

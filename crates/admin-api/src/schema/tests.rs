//! The schema as data: every template round-trips, edits land where they should, bad bodies name their path, and
//! `parseExpression` parses and evaluates as the engine does.

use rand::SeedableRng;
use rand::rngs::StdRng;
use roster_engine::definition::{Definition, MappingKind};
use roster_engine::templates;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::convert::{from_schema, to_schema};
use super::{operators, parse_expression_response, tree};

fn template(name: &str) -> Definition {
    templates::from_template(name, "octo", "https://scim.example/scim/v2/enterprises/octo").unwrap()
}

fn user_mappings(schema: &mut Value) -> &mut Vec<Value> {
    schema["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"].as_array_mut().unwrap()
}

/// GET then PUT of the same body changes nothing, for every template; the version is a digest of the content.
#[test]
fn every_template_round_trips() {
    for name in ["github-emu", "scim"] {
        let definition = template(name);
        let schema = to_schema(&definition, "job");
        assert_eq!(from_schema(&definition, &schema).unwrap(), definition, "{name}");
        let version = schema["version"].as_str().unwrap();
        assert!(version.starts_with("sha256:"), "{version}");
        assert_eq!(to_schema(&definition, "job")["version"], schema["version"], "the version is stable");
    }
}

/// A mapping edited through the tree or through its expression text, a mapping removed, a flow type and a scoping
/// filter changed: each lands in the definition.
#[test]
fn edits_land_in_the_definition() {
    let definition = template("scim");
    let mut schema = to_schema(&definition, "job");
    let mappings = user_mappings(&mut schema);
    let display = mappings.iter_mut().find(|mapping| mapping["targetAttributeName"] == "displayName").unwrap();
    display["source"] = json!({"expression": "Join(\" \", [givenName], [surname])", "type": "Function"});
    mappings.retain(|mapping| mapping["targetAttributeName"] != "title");
    let object = &mut schema["synchronizationRules"][0]["objectMappings"][0];
    object["flowTypes"] = json!("Add, Update");
    object["scope"]["groups"] = json!([{"name": "Sales", "clauses": [
        {"sourceOperandName": "department", "operatorName": "EQUALS", "targetOperand": {"values": ["Sales"]}}
    ]}]);
    let updated = from_schema(&definition, &schema).unwrap();
    let display = updated.users.mappings.iter().find(|mapping| mapping.target == "displayName").unwrap();
    assert_eq!(display.kind, MappingKind::Expression);
    assert_eq!(display.source.as_deref(), Some("Join(\" \", [givenName], [surname])"));
    assert!(!updated.users.mappings.iter().any(|mapping| mapping.target == "title"));
    assert!(updated.users.actions.create && updated.users.actions.update && !updated.users.actions.delete);
    assert_eq!(updated.users.scoping_filters.len(), 1);
    assert_eq!(updated.users.scoping_filters[0].clauses[0].attribute, "department");
    // What was not touched stays.
    assert_eq!(updated.groups, definition.groups);
    assert_eq!(updated.target, definition.target);

    // A source given as a tree only is stored as the tree's canonical text.
    let mut schema = to_schema(&definition, "job");
    let display =
        user_mappings(&mut schema).iter_mut().find(|mapping| mapping["targetAttributeName"] == "displayName").unwrap();
    display["source"] = json!({"type": "Function", "name": "ToUpper", "parameters": [
        {"key": "source", "value": {"type": "Attribute", "name": "displayName"}}
    ]});
    let updated = from_schema(&definition, &schema).unwrap();
    let display = updated.users.mappings.iter().find(|mapping| mapping.target == "displayName").unwrap();
    assert_eq!(display.kind, MappingKind::Expression);
    let stored = display.source.as_deref().unwrap();
    assert!(stored.starts_with("ToUpper(") && stored.contains("[displayName]"), "{stored}");
}

/// What roster cannot take is refused with the JSON path of the field and what is wrong there.
#[test]
fn bad_bodies_name_their_path() {
    let definition = template("github-emu");
    type Edit = fn(&mut Value);
    let cases: &[(&str, Edit, &str)] = &[
        ("no rules", |schema| schema["synchronizationRules"] = json!([]), "synchronizationRules"),
        ("rules not an array", |schema| schema["synchronizationRules"] = json!({}), "synchronizationRules"),
        (
            "an unknown object",
            |schema| schema["synchronizationRules"][0]["objectMappings"][1]["sourceObjectName"] = json!("Device"),
            "synchronizationRules[0].objectMappings[1].sourceObjectName",
        ),
        (
            "a bad expression",
            |schema| user_mappings(schema)[0]["source"] = json!({"expression": "Join(", "type": "Function"}),
            "synchronizationRules[0].objectMappings[0].attributeMappings[0].source.expression",
        ),
        (
            "an unknown source node type",
            |schema| user_mappings(schema)[0]["source"] = json!({"type": "Macro", "name": "x"}),
            "synchronizationRules[0].objectMappings[0].attributeMappings[0].source.type",
        ),
        (
            "no matching attribute",
            |schema| {
                for mapping in user_mappings(schema) {
                    mapping["matchingPriority"] = json!(0);
                }
            },
            "synchronizationRules[0].objectMappings[0].attributeMappings",
        ),
    ];
    for (name, edit, path) in cases {
        let mut schema = to_schema(&definition, "job");
        edit(&mut schema);
        let error = from_schema(&definition, &schema).expect_err(name);
        assert_eq!(error.path, *path, "{name}: {error}");
        assert!(!error.message.is_empty(), "{name}");
    }
}

fn parse(body: &Value) -> Value {
    let mut rng = StdRng::seed_from_u64(7);
    parse_expression_response(body, OffsetDateTime::UNIX_EPOCH, &mut rng).unwrap()
}

/// An expression is parsed into Graph's tree and, with a test input, evaluated; a syntax error is an answer.
#[test]
fn parse_expression_parses_and_evaluates() {
    let answer = parse(&json!({
        "expression": "Join(\"@\", ToLower([mailNickname]), \"contoso.com\")",
        "testInputObject": {"definition": null, "properties": [{"key": "mailNickname", "value": "Ada"}]},
    }));
    assert_eq!(answer["parsingSucceeded"], true);
    assert_eq!(answer["evaluationSucceeded"], true);
    assert_eq!(answer["evaluationResult"], json!(["ada@contoso.com"]));
    assert_eq!(answer["parsedExpression"]["name"], "Join");
    assert_eq!(answer["parsedExpression"]["type"], "Function");

    let parsed_only = parse(&json!({"expression": "[userPrincipalName]"}));
    assert_eq!(parsed_only["parsingSucceeded"], true);
    assert_eq!(parsed_only["evaluationSucceeded"], false);
    assert_eq!(parsed_only["parsedExpression"]["type"], "Attribute");

    let broken = parse(&json!({"expression": "Join(\"@\", "}));
    assert_eq!(broken["parsingSucceeded"], false);
    assert_eq!(broken["error"]["code"], "InvalidExpression");

    let mut rng = StdRng::seed_from_u64(7);
    let error = parse_expression_response(&json!({"expr": "x"}), OffsetDateTime::UNIX_EPOCH, &mut rng)
        .expect_err("no expression");
    assert_eq!(error.path, "expression");
}

/// Every function the language has is listed with its parameters, and every scoping operator with its shape.
#[test]
fn functions_and_operators_are_listed() {
    let functions = tree::functions();
    let names: Vec<&str> =
        functions["value"].as_array().unwrap().iter().filter_map(|function| function["name"].as_str()).collect();
    for name in ["Append", "Join", "ToLower", "Switch", "IIF", "SingleAppRoleAssignment", "NormalizeDiacritics"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let operators = operators::filter_operators();
    let names: Vec<&str> =
        operators["value"].as_array().unwrap().iter().filter_map(|operator| operator["name"].as_str()).collect();
    for name in ["EQUALS", "NOT EQUALS", "IS NULL", "REGEX MATCH", "Greater_Than"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
}

use std::collections::HashSet;

use super::*;

const BASE: &str = "http://127.0.0.1:8080/api/v1.0";

fn parsed_document() -> Value {
    let text = serde_json::to_string(&document(BASE)).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_document_is_openapi_3_1_served_at_the_base_url() {
    let document = parsed_document();
    assert_eq!(document["openapi"], json!("3.1.0"));
    assert_eq!(document["servers"], json!([{"url": BASE}]));
    assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], json!("bearer"));
    assert_eq!(document["security"], json!([{"bearer": []}]));
}

#[test]
fn every_operation_is_documented_once_with_its_parameters() {
    let document = parsed_document();
    let operations = operations();
    let tags: HashSet<&str> = TAGS.iter().map(|(name, _)| *name).collect();
    let mut ids = HashSet::new();
    for operation in &operations {
        let at = format!("{} {}", operation.method, operation.path);
        assert!(ids.insert(operation.id), "operationId {} twice", operation.id);
        assert!(!operation.id.is_empty() && !operation.summary.is_empty(), "{at}");
        assert!(tags.contains(operation.tag), "{at}: tag {:?} is not among TAGS", operation.tag);
        let documented = &document["paths"][&operation.path][operation.method.as_str().to_ascii_lowercase()];
        assert_eq!(documented["operationId"], json!(operation.id), "{at}");
        let parameters = documented["parameters"].as_array().unwrap();
        let declared: Vec<&str> = parameters
            .iter()
            .filter(|parameter| parameter["in"] == "path")
            .filter_map(|parameter| parameter["name"].as_str())
            .collect();
        assert_eq!(declared, path_parameters(&operation.path), "{at}: the path's parameters, each declared");
        let mut names = HashSet::new();
        for parameter in parameters {
            assert!(names.insert((parameter["in"].clone(), parameter["name"].clone())), "{at}: {parameter} twice");
        }
        let responses = documented["responses"].as_object().unwrap();
        assert!(responses.keys().any(|status| status.starts_with('2')), "{at}: no success response");
        assert!(responses.contains_key("default"), "{at}: no default response");
        assert_eq!(responses.contains_key("401"), !operation.public, "{at}");
        for (status, response) in responses {
            assert!(response["description"].is_string(), "{at} {status}: a response needs a description");
        }
    }
    let count: usize = document["paths"]
        .as_object()
        .map_or(0, |paths| paths.values().map(|methods| methods.as_object().map_or(0, Map::len)).sum());
    assert_eq!(count, operations.len(), "a (path, method) twice");
    assert!(operations.len() >= 55, "{} operations", operations.len());
}

#[test]
fn every_reference_resolves() {
    fn references<'v>(value: &'v Value, found: &mut Vec<&'v str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.push(target);
                }
                map.values().for_each(|value| references(value, found));
            }
            Value::Array(items) => items.iter().for_each(|value| references(value, found)),
            _ => {}
        }
    }
    let document = parsed_document();
    let mut found = Vec::new();
    references(&document, &mut found);
    assert!(!found.is_empty());
    let mut used = HashSet::new();
    for target in found {
        let name = target.strip_prefix("#/components/schemas/").expect("a component reference");
        assert!(document["components"]["schemas"][name].is_object(), "{target} does not resolve");
        used.insert(name);
    }
    for name in document["components"]["schemas"].as_object().unwrap().keys() {
        assert!(used.contains(name.as_str()), "the component {name} is not used");
    }
}

#[test]
fn error_statuses_follow_from_what_an_operation_takes() {
    let statuses = |id: &str| operations().into_iter().find(|operation| operation.id == id).unwrap().error_statuses();
    assert_eq!(statuses("getOpenApiDocument"), Vec::<u16>::new());
    assert_eq!(statuses("listUsers"), [400, 401, 403]);
    assert_eq!(statuses("deleteUser"), [401, 403, 404]);
    assert_eq!(statuses("updateUser"), [400, 401, 403, 404, 413, 415]);
    assert_eq!(statuses("restartSynchronizationJob"), [400, 401, 403, 404, 413]);
    assert_eq!(statuses("provisionOnDemand"), [400, 401, 403, 404, 409, 413, 415, 429, 502]);
}

/// The router takes every row: axum panics on a method routed twice on one path.
#[test]
fn the_router_is_built_from_the_table() {
    let _router = crate::routes();
}

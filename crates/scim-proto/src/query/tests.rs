//! Table tests for list-query parameters, search bodies, list responses and sorting.

// The table helpers take owned JSON so that each case reads as one `json!(...)` line.
#![allow(clippy::needless_pass_by_value)]

use std::cmp::Ordering;

use serde_json::{Value, json};

use super::*;
use crate::schema::{GROUP, USER};

/// A compact summary of a query, or the error.
fn summary(result: Result<ListQuery, ScimError>) -> String {
    match result {
        Ok(query) => {
            let list = |paths: &[AttrPath]| paths.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
            format!(
                "filter={} attributes=[{}] excluded=[{}] sortBy={} order={:?} start={} count={}",
                query.filter.as_ref().map_or("-".to_owned(), ToString::to_string),
                list(&query.attributes),
                list(&query.excluded_attributes),
                query.sort_by.as_ref().map_or("-".to_owned(), ToString::to_string),
                query.sort_order,
                query.start_index,
                query.count.map_or("-".to_owned(), |count| count.to_string()),
            )
        }
        Err(error) => error.to_string(),
    }
}

/// Parses a query string (`key=value&...`, not percent-decoded) and compares the summary.
fn check(query: &str, expected: &str) {
    let pairs = query.split('&').filter(|pair| !pair.is_empty()).map(|pair| pair.split_once('=').unwrap_or((pair, "")));
    assert_eq!(summary(ListQuery::from_params(pairs)), expected, "query: {query}");
}

/// Parses a `/.search` body and compares the summary.
fn check_search(body: Value, expected: &str) {
    assert_eq!(summary(ListQuery::from_search_request(&body)), expected, "body: {body}");
}

const DEFAULTS: &str = "filter=- attributes=[] excluded=[] sortBy=- order=Ascending start=1 count=-";

#[test]
fn query_parameters() {
    check("", DEFAULTS);
    check(
        r#"filter=userName eq "bjensen""#,
        r#"filter=userName eq "bjensen" attributes=[] excluded=[] sortBy=- order=Ascending start=1 count=-"#,
    );
    check("FILTER=", DEFAULTS);
    check(
        "attributes=userName, name.givenName,,emails&excludedAttributes=members",
        "filter=- attributes=[userName,name.givenName,emails] excluded=[members] sortBy=- order=Ascending start=1 count=-",
    );
    check(
        "sortBy=name.familyName&sortOrder=DESCENDING",
        "filter=- attributes=[] excluded=[] sortBy=name.familyName order=Descending start=1 count=-",
    );
    check("startIndex=0&count=-5", "filter=- attributes=[] excluded=[] sortBy=- order=Ascending start=1 count=0");
    check("startindex=-3&Count=10", "filter=- attributes=[] excluded=[] sortBy=- order=Ascending start=1 count=10");
    check("startIndex=21&count=0", "filter=- attributes=[] excluded=[] sortBy=- order=Ascending start=21 count=0");
    check(
        "startIndex=99999999999999999999999999999999999999999999",
        &format!("filter=- attributes=[] excluded=[] sortBy=- order=Ascending start={} count=-", usize::MAX),
    );
    check("unknown=1", DEFAULTS);
    check("count=ten", "400 invalidValue: 'count' must be an integer");
    check("startIndex=1.5", "400 invalidValue: 'startIndex' must be an integer");
    check("sortOrder=up", "400 invalidValue: 'sortOrder' must be \"ascending\" or \"descending\", got \"up\"");
    assert!(summary(ListQuery::from_params([("filter", "userName eqq 1")])).starts_with("400 invalidFilter: "));
    assert!(summary(ListQuery::from_params([("attributes", "a b")])).starts_with("400 invalidPath: "));
}

#[test]
fn search_requests() {
    check_search(json!({"schemas": [crate::SEARCH_REQUEST_SCHEMA]}), DEFAULTS);
    check_search(json!({}), DEFAULTS);
    check_search(
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:searchrequest"], "attributes": ["displayName", "userName"],
               "excludedAttributes": "members", "filter": "displayName sw \"smith\"", "startIndex": 1, "count": 10,
               "sortBy": "userName", "sortOrder": "descending"}),
        r#"filter=displayName sw "smith" attributes=[displayName,userName] excluded=[members] sortBy=userName order=Descending start=1 count=10"#,
    );
    check_search(
        json!({"startIndex": -4, "count": -1}),
        "filter=- attributes=[] excluded=[] sortBy=- order=Ascending start=1 count=0",
    );
    check_search(
        json!({"startIndex": "3"}),
        "filter=- attributes=[] excluded=[] sortBy=- order=Ascending start=3 count=-",
    );
    check_search(json!({"count": 2.5}), "400 invalidValue: 'count' must be an integer");
    check_search(json!({"attributes": [1]}), "400 invalidValue: 'attributes' must be an array of attribute paths");
    check_search(
        json!({"filter": true}),
        "400 invalidValue: 'filter' must be a string, number or array, got the boolean true",
    );
    check_search(
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}),
        "400 invalidSyntax: 'schemas' must list \"urn:ietf:params:scim:api:messages:2.0:SearchRequest\"",
    );
    check_search(json!([]), "400 invalidSyntax: the request body must be a JSON object");
}

#[test]
fn filter_check() {
    let query = ListQuery::from_params([("filter", "nope eq 1")]).unwrap();
    assert_eq!(query.check(&USER).map_err(|error| error.scim_type), Err(Some(crate::ScimType::InvalidFilter)));
    let query = ListQuery::from_params([("filter", r#"displayName eq "x""#)]).unwrap();
    assert_eq!(query.check(&GROUP), Ok(()));
}

#[test]
fn list_response_shape() {
    assert_eq!(
        list_response(7, 3, vec![json!({"id": "a"}), json!({"id": "b"})]),
        json!({"schemas": [crate::LIST_RESPONSE_SCHEMA], "totalResults": 7, "itemsPerPage": 2, "startIndex": 3,
               "Resources": [{"id": "a"}, {"id": "b"}]})
    );
}

/// Compares two User resources by `sort_by` (ascending).
fn check_sort(sort_by: &str, a: Value, b: Value, expected: Ordering) {
    let path = AttrPath::parse(sort_by).unwrap();
    let (a_map, b_map) = (a.as_object().cloned().unwrap_or_default(), b.as_object().cloned().unwrap_or_default());
    assert_eq!(compare_for_sort(&a_map, &b_map, &path, &USER), expected, "sortBy={sort_by} a={a} b={b}");
    assert_eq!(compare_for_sort(&b_map, &a_map, &path, &USER), expected.reverse(), "sortBy={sort_by} (swapped)");
}

#[test]
fn sorting() {
    use Ordering::{Equal, Greater, Less};
    check_sort("userName", json!({"userName": "alice"}), json!({"userName": "Bob"}), Less);
    check_sort("userName", json!({"userName": "ALICE"}), json!({"userName": "alice"}), Equal);
    check_sort("userName", json!({"userName": "z"}), json!({}), Less);
    check_sort("userName", json!({}), json!({}), Equal);
    check_sort("id", json!({"id": "B"}), json!({"id": "a"}), Less);
    check_sort("name.familyName", json!({"name": {"familyName": "a"}}), json!({"name": {"familyName": "b"}}), Less);
    check_sort("name.familyName", json!({"name": {"givenName": "a"}}), json!({"name": {"familyName": "b"}}), Greater);
    check_sort(
        "emails",
        json!({"emails": [{"value": "z@x"}, {"value": "a@x", "primary": true}]}),
        json!({"emails": [{"value": "b@x"}]}),
        Less,
    );
    check_sort(
        "emails.value",
        json!({"emails": [{"value": "c@x"}, {"value": "a@x"}]}),
        json!({"emails": [{"value": "b@x"}]}),
        Greater,
    );
    check_sort("active", json!({"active": false}), json!({"active": true}), Less);
    check_sort(
        "meta.created",
        json!({"meta": {"created": "2020-01-01T01:00:00+02:00"}}),
        json!({"meta": {"created": "2020-01-01T00:00:00Z"}}),
        Less,
    );
    check_sort(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "1"}}),
        json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "2"}}),
        Less,
    );
    check_sort("nope", json!({"userName": "a"}), json!({"userName": "b"}), Equal);
}

#[test]
fn sort_resources_descending_puts_missing_first() {
    let mut resources: Vec<Map<String, Value>> =
        [json!({"id": "1", "userName": "b"}), json!({"id": "2"}), json!({"id": "3", "userName": "a"})]
            .into_iter()
            .filter_map(|value| value.as_object().cloned())
            .collect();
    let path = AttrPath::parse("userName").unwrap();
    sort_resources(&mut resources, &path, SortOrder::Descending, &USER);
    let ids: Vec<&str> = resources.iter().filter_map(|resource| resource["id"].as_str()).collect();
    assert_eq!(ids, ["2", "1", "3"]);
    sort_resources(&mut resources, &path, SortOrder::Ascending, &USER);
    let ids: Vec<&str> = resources.iter().filter_map(|resource| resource["id"].as_str()).collect();
    assert_eq!(ids, ["3", "1", "2"]);
}

//! Every import error, as a table of inputs and exact messages.

use std::path::Path;

use roster_directory::import::{self, Format};

const A: &str = "00000000-0000-4000-8000-000000000001";
const B: &str = "00000000-0000-4000-8000-000000000002";

/// Reads `input` in `format` and returns the error message, or "ok" with the counts.
fn check(format: Format, input: &str, expected: &str) {
    let actual = match import::read(format, input.as_bytes()) {
        Ok(directory) => format!("ok {} users, {} groups", directory.users.len(), directory.groups.len()),
        Err(error) => error.to_string(),
    };
    assert_eq!(actual, expected, "input: {input}");
}

fn json(input: &str, expected: &str) {
    check(Format::Json, &input.replace("$A", A).replace("$B", B), expected);
}

fn jsonl(input: &str, expected: &str) {
    check(Format::Jsonl, &input.replace("$A", A).replace("$B", B), expected);
}

fn csv(input: &str, expected: &str) {
    check(Format::Csv, &input.replace("$A", A).replace("$B", B), expected);
}

#[test]
fn json_errors() {
    json(r#"{"users": [], "groups": []}"#, "ok 0 users, 0 groups");
    json(r#"{}"#, "ok 0 users, 0 groups");
    json(
        r#"{"users": [{"id": "$A", "userPrincipalName": "a@x.com", "objectType": "user"}], "groups": [{"id": "$B", "displayName": "G", "members": ["$A"], "objectType": "group"}]}"#,
        "ok 1 users, 1 groups",
    );
    json(r#"{"users": [}"#, "not valid JSON: expected value at line 1 column 12");
    json(r#"[]"#, r#"the file must hold one JSON object {"users": [...], "groups": [...]}, not a list"#);
    json(
        r#"{"users": [], "people": []}"#,
        r#"unknown top-level key "people"; the supported keys are "users" and "groups""#,
    );
    json(r#"{"users": {}}"#, r#""users" must be a list of objects, not an object"#);
    json(r#"{"users": [1]}"#, "users[0]: expected a JSON object, not a number");
    json(r#"{"users": [{"userPrincipalName": "a@x.com"}]}"#, "users[0]: id is required");
    json(
        r#"{"users": [{"id": "nope", "userPrincipalName": "a@x.com"}]}"#,
        r#"users[0]: id "nope" is not a GUID; expected 8-4-4-4-12 hex digits such as 0a1b2c3d-0000-4000-8000-00000000000a"#,
    );
    json(r#"{"users": [{"id": 5, "userPrincipalName": "a@x.com"}]}"#, "users[0]: id must be a string, not a number");
    json(r#"{"users": [{"id": "$A"}]}"#, "users[0]: userPrincipalName is required");
    json(
        r#"{"users": [{"id": "$A", "userPrincipalName": "bob smith@x.com"}]}"#,
        r#"users[0]: userPrincipalName "bob smith@x.com" contains a space"#,
    );
    json(
        r#"{"users": [{"id": "$A", "userPrincipalName": "a@x.com", "accountEnabled": "yes"}]}"#,
        "users[0]: accountEnabled must be true or false, not a string",
    );
    json(
        r#"{"users": [{"id": "$A", "userPrincipalName": "a@x.com", "department": 3}]}"#,
        "users[0]: department must be a string, not a number",
    );
    json(
        r#"{"users": [{"id": "$A", "userPrincipalName": "a@x.com", "businessPhones": "123"}]}"#,
        "users[0]: businessPhones must be a list of strings, not a string",
    );
    json(
        r#"{"users": [{"id": "$A", "userPrincipalName": "a@x.com", "businessPhones": [1]}]}"#,
        "users[0]: businessPhones must be a list of strings, not a list",
    );
    json(
        r#"{"users": [{"id": "$A", "userPrincipalName": "a@x.com", "manager": "boss"}]}"#,
        r#"users[0]: manager "boss" is not a GUID; expected 8-4-4-4-12 hex digits such as 0a1b2c3d-0000-4000-8000-00000000000a"#,
    );
    json(
        r#"{"users": [{"id": "$A", "userPrincipalName": "a@x.com", "deletedDateTime": "yesterday"}]}"#,
        r#"users[0]: deletedDateTime "yesterday" is not an RFC 3339 date-time such as 2024-05-01T12:00:00Z"#,
    );
    json(
        r#"{"users": [{"id": "$A", "userPrincipalName": "a@x.com", "extension_abc_x": {"a": 1}}]}"#,
        "users[0]: extension_abc_x must be a string, true/false, a number or a list of strings, not an object",
    );
    json(
        r#"{"users": [{"id": "$A", "userPrincipalName": "a@x.com", "extension_abc_x": [1]}]}"#,
        "users[0]: extension_abc_x must be a string, true/false, a number or a list of strings, not a list of non-strings",
    );
    json(
        r#"{"users": [{"id": "$A", "userPrincipalName": "a@x.com", "objectType": "group"}]}"#,
        r#"users[0]: objectType must be "user", not "group""#,
    );
    json(
        r#"{"users": [{"id": "$A", "userPrincipalName": "a@x.com"}, {"id": "$A", "userPrincipalName": "b@x.com"}]}"#,
        "duplicate id 00000000-0000-4000-8000-000000000001: users[0] and users[1]",
    );
    json(
        r#"{"users": [{"id": "$A", "userPrincipalName": "a@x.com"}], "groups": [{"id": "$A", "displayName": "G"}]}"#,
        "duplicate id 00000000-0000-4000-8000-000000000001: users[0] and groups[0]",
    );
    json(r#"{"groups": [{"id": "$B"}]}"#, "groups[0]: displayName is required");
    json(r#"{"groups": [{"id": "$B", "displayName": ""}]}"#, "groups[0]: displayName is required");
    json(
        r#"{"groups": [{"id": "$B", "displayName": "G", "members": ["$A", "x"]}]}"#,
        r#"groups[0]: members[1] "x" is not a GUID; expected 8-4-4-4-12 hex digits such as 0a1b2c3d-0000-4000-8000-00000000000a"#,
    );
    json(
        r#"{"groups": [{"id": "$B", "displayName": "G", "members": "$A"}]}"#,
        "groups[0]: members must be a list of strings, not a string",
    );
    json(
        r#"{"groups": [{"id": "$B", "displayName": "G", "securityEnabled": "true"}]}"#,
        "groups[0]: securityEnabled must be true or false, not a string",
    );
    json(
        r#"{"groups": [{"id": "$B", "displayName": "G", "owner": "me"}]}"#,
        r#"groups[0]: unknown group attribute "owner"; groups have id, displayName, mailNickname, description, securityEnabled and members"#,
    );
}

#[test]
fn jsonl_errors() {
    jsonl(
        "{\"objectType\": \"user\", \"id\": \"$A\", \"userPrincipalName\": \"a@x.com\"}\n\n{\"objectType\": \"group\", \"id\": \"$B\", \"displayName\": \"G\"}\n",
        "ok 1 users, 1 groups",
    );
    jsonl("\n\n{\"objectType\": \"user\",", "line 3: not valid JSON: EOF while parsing a value at line 1 column 22");
    jsonl("[1]", "line 1: expected a JSON object, not a list");
    jsonl(r#"{"id": "$A"}"#, r#"line 1: objectType is missing; add "objectType": "user" or "group""#);
    jsonl(r#"{"objectType": "device"}"#, r#"line 1: objectType must be "user" or "group", not "device""#);
    jsonl(
        "{\"objectType\": \"user\", \"id\": \"$A\", \"userPrincipalName\": \"a@x.com\"}\n{\"objectType\": \"user\", \"id\": \"$B\", \"userPrincipalName\": \"bob smith@x.com\"}",
        r#"line 2: userPrincipalName "bob smith@x.com" contains a space"#,
    );
    jsonl(
        "{\"objectType\": \"user\", \"id\": \"$A\", \"userPrincipalName\": \"a@x.com\"}\n\n{\"objectType\": \"group\", \"id\": \"$A\", \"displayName\": \"G\"}",
        "duplicate id 00000000-0000-4000-8000-000000000001: line 1 and line 3",
    );
}

#[test]
fn csv_errors() {
    csv(
        "id,userPrincipalName,accountEnabled,businessPhones,extension_abc_x\n$A,a@x.com,FALSE,1;2,v\n$B,b@x.com,,,\n",
        "ok 2 users, 0 groups",
    );
    csv("userPrincipalName\na@x.com\n", "line 1: missing column id; the header row needs id and userPrincipalName");
    csv(
        "id,mail\n$A,a@x.com\n",
        "line 1: missing column userPrincipalName; the header row needs id and userPrincipalName",
    );
    csv("id,userPrincipalName,id\n", "line 1: column \"id\" appears twice");
    csv(
        "id,userPrincipalName\n$A,a@x.com,extra\n",
        "line 2: not valid CSV: this record has 3 fields but the header row has 2",
    );
    csv("id,userPrincipalName\n,a@x.com\n", "line 2: id is required");
    csv("id,userPrincipalName\n$A,\n", "line 2: userPrincipalName is required");
    csv(
        "id,userPrincipalName\nx,a@x.com\n",
        r#"line 2: id "x" is not a GUID; expected 8-4-4-4-12 hex digits such as 0a1b2c3d-0000-4000-8000-00000000000a"#,
    );
    csv(
        "id,userPrincipalName\n$A,a@x.com\n\"$B\",\"bob smith@x.com\"\n",
        r#"line 3: userPrincipalName "bob smith@x.com" contains a space"#,
    );
    csv(
        "id,userPrincipalName,accountEnabled\n$A,a@x.com,yes\n",
        r#"line 2: accountEnabled must be true or false, not "yes""#,
    );
    csv(
        "id,userPrincipalName,manager\n$A,a@x.com,boss\n",
        r#"line 2: manager "boss" is not a GUID; expected 8-4-4-4-12 hex digits such as 0a1b2c3d-0000-4000-8000-00000000000a"#,
    );
    csv(
        "id,userPrincipalName,deletedDateTime\n$A,a@x.com,2024-13-01\n",
        r#"line 2: deletedDateTime "2024-13-01" is not an RFC 3339 date-time such as 2024-05-01T12:00:00Z"#,
    );
    csv(
        "id,userPrincipalName,objectType\n$A,a@x.com,group\n",
        r#"line 2: objectType must be "user" (a CSV file holds only users), not "group""#,
    );
    csv(
        "id,userPrincipalName\n$A,a@x.com\n$A,b@x.com\n",
        "duplicate id 00000000-0000-4000-8000-000000000001: line 2 and line 3",
    );
    // A record spanning lines is reported at the line it starts on.
    csv(
        "id,userPrincipalName,displayName\n$A,a@x.com,\"two\nlines\"\n$B,b c@x.com,x\n",
        r#"line 4: userPrincipalName "b c@x.com" contains a space"#,
    );
}

#[test]
fn csv_not_utf8() {
    let mut input = format!("id,userPrincipalName\n{A},a@x.com\n").into_bytes();
    input.extend_from_slice(b"\xff,b@x.com\n");
    let error = import::read_csv(&input[..]).unwrap_err();
    assert_eq!(error.to_string(), "line 3: not valid CSV: the text is not UTF-8");
}

#[test]
fn csv_cells() {
    let input = format!(
        "id,userPrincipalName,accountEnabled,businessPhones,displayName,extension_abc_x\n{A},a@x.com,False, +1 555 ; ;+49 30 ,Zoë,v\n"
    );
    let directory = import::read_csv(input.as_bytes()).unwrap();
    let user = &directory.users[0];
    assert!(!user.account_enabled);
    assert_eq!(user.business_phones, ["+1 555", "+49 30"]);
    assert_eq!(user.display_name.as_deref(), Some("Zoë"));
    assert_eq!(user.mail, None);
    assert_eq!(
        user.extensions().get("extension_abc_x"),
        Some(&roster_directory::ExtensionValue::String("v".to_owned()))
    );
}

fn check_format(path: &str, expected: &str) {
    let actual = match import::format_from_path(Path::new(path)) {
        Ok(format) => format!("{format:?}"),
        Err(error) => error.to_string(),
    };
    assert_eq!(actual, expected, "{path}");
}

#[test]
fn formats_from_paths() {
    check_format("dir/users.json", "Json");
    check_format("users.JSONL", "Jsonl");
    check_format("users.csv", "Csv");
    check_format("users.xlsx", r#"cannot tell the format of "users.xlsx": use a file ending in .json, .jsonl or .csv"#);
    check_format("users", r#"cannot tell the format of "users": use a file ending in .json, .jsonl or .csv"#);
}

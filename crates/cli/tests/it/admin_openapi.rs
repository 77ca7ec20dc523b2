//! The admin API's OpenAPI document, and schemathesis (PyPI) run against the real `roster serve` with it: no
//! response is a server error, every status, content type, header and body is one the document gives, requests the
//! document forbids are refused, a wrong method is 405 with `Allow`, and a request without a valid token is 401.

use std::process::Command;
use std::time::Instant;

use reqwest::Method;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::support::admin::{Api, token};
use crate::support::{Backend, Server, TargetEnterprise, data_dir, python, run_ok};

/// schemathesis's checks. Left out, with their reasons: `positive_data_acceptance`, which wants every request the
/// schemas allow to succeed, and the API checks more than a schema can say (the `$filter` grammar, an opaque
/// `$skiptoken`, a userPrincipalName's rules, ids that name existing objects, a job's one template); and
/// `use_after_free` and `ensure_resource_availability`, which read DELETE as the end of a resource and POST as its
/// creation, where a job's DELETE resets the application's one job and a schema's DELETE brings back the template's
/// mappings (both still there, as in Graph), and where the ids the configuration pins are not those the links infer.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance,negative_data_rejection,\
                      missing_required_header,unsupported_method,allow_header_conformance,ignored_auth";

fn ids(api: &Api, path: &str) -> Vec<String> {
    let (status, body) = api.get(path);
    assert_eq!(status, 200, "{path}: {body}");
    let ids: Vec<String> = body["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["id"].as_str())
        .map(str::to_owned)
        .collect();
    assert!(!ids.is_empty(), "{path}: no ids in {body}");
    ids
}

/// schemathesis's configuration: the objects that operations on one object name, so that they reach it rather than
/// only answering 404. A DELETE gets an object of its own, so that the other operations keep theirs.
fn configuration(api: &Api) -> String {
    let users = ids(api, "/users?$top=3&$select=id");
    let groups = ids(api, "/groups?$top=2&$select=id");
    let (kept, doomed) = (&groups[0], &groups[1]);
    let member = &ids(api, &format!("/groups/{kept}/members?$select=id"))[0];
    let sp = &ids(api, "/servicePrincipals")[0];
    let job = &ids(api, &format!("/servicePrincipals/{sp}/synchronization/jobs"))[0];
    let assigned = &users[2];
    let body = json!({"principalId": assigned, "resourceId": sp, "appRoleId": "00000000-0000-0000-0000-000000000000"});
    let (status, assignment) = api.post(&format!("/servicePrincipals/{sp}/appRoleAssignedTo"), body);
    assert_eq!(status, 201, "{assignment}");
    let (status, token) = api.post("/roster/enterprises/acme/tokens", json!({"name": "revoked by schemathesis"}));
    assert_eq!(status, 201, "{token}");
    let (status, plan) =
        api.send(Method::POST, &format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/plans"), None);
    assert_eq!(status, 201, "{plan}");
    let audit = &ids(api, "/auditLogs/directoryAudits?$top=1")[0];
    let (user, doomed_user) = (&users[0], &users[1]);
    let (token, plan) = (token["id"].as_str().expect("a token id"), plan["id"].as_str().expect("a plan id"));
    // The first entry that sets an operation's parameters is the one it takes.
    format!(
        r#"
[[operations]]
include-operation-id = "deleteUser"
parameters = {{ "path.id" = "{doomed_user}" }}

[[operations]]
include-path-regex = "^/users/\\{{id\\}}"
parameters = {{ "path.id" = "{user}" }}

[[operations]]
include-operation-id = "deleteGroup"
parameters = {{ "path.id" = "{doomed}" }}

[[operations]]
include-path-regex = "^/groups/\\{{id\\}}"
parameters = {{ "path.id" = "{kept}", "path.member" = "{member}" }}

# The stream does not end: it is read up to its first event (the job's state, sent at once).
[[operations]]
include-operation-id = "streamJobEvents"
max-stream-events = 1
parameters = {{ "path.id" = "{sp}", "path.job" = "{job}" }}

[[operations]]
include-path-regex = "^/servicePrincipals/\\{{id\\}}"
parameters = {{ "path.id" = "{sp}", "path.job" = "{job}", "path.template" = "github-emu", "path.assignment" = "{assigned}", "path.plan" = "{plan}" }}

[[operations]]
include-path-regex = "^/applicationTemplates/\\{{id\\}}"
parameters = {{ "path.id" = "github-emu" }}

[[operations]]
include-path-regex = "^/roster/enterprises/\\{{slug\\}}"
parameters = {{ "path.slug" = "acme", "path.token" = "{token}" }}

[[operations]]
include-path-regex = "^/auditLogs/directoryAudits/\\{{id\\}}"
parameters = {{ "path.id" = "{audit}" }}
"#
    )
}

#[test]
fn schemathesis_finds_no_server_error_and_no_response_the_document_does_not_describe() {
    // The application exports to a service provider that answers, so that a plan, a Test Connection or a
    // provisioning on demand reaches it; an unreachable target would answer 502 or 400, rightly, and say nothing
    // about the API.
    let target = TargetEnterprise::start("octo-corp", "octo", "github-emu");
    let data = data_dir(Backend::Sqlite);
    let file = data.path().join("people.json");
    let file = file.to_str().expect("a UTF-8 path");
    let generate = ["directory", "generate", "--users", "30", "--groups", "3", "--members-per-group", "5"];
    run_ok(data.path(), &[&generate[..], &["--out", file]].concat());
    run_ok(data.path(), &["directory", "import", file]);
    let app = ["app", "create", "github", "--template", "github-emu", "--tenant-url", &target.base];
    run_ok(data.path(), &[&app[..], &["--secret-token", &target.token]].concat());
    run_ok(data.path(), &["app", "pause", "github"]);
    run_ok(data.path(), &["enterprise", "create", "acme", "--shortcode", "acme"]);
    let global = token(data.path(), "schemathesis", "global-administrator");
    let server = Server::start(data.path(), &[]);
    let client = Client::new();
    let api = Api::new(&client, &server.origin, &global);

    // The document: OpenAPI 3.1, served with the server's base URL and without a token, every operation with its id.
    let document: Value = client.get(format!("{}/$openapi", api.base)).send().unwrap().json().unwrap();
    assert_eq!(document["openapi"], json!("3.1.0"));
    assert_eq!(document["servers"][0]["url"], json!(api.base), "{}", document["servers"]);
    let operations: Vec<&Value> = document["paths"]
        .as_object()
        .expect("paths")
        .values()
        .filter_map(Value::as_object)
        .flat_map(|m| m.values())
        .collect();
    assert!(operations.len() >= 55, "{} operations", operations.len());
    assert!(operations.iter().all(|operation| operation["operationId"].is_string()));

    // A wrong method: 405 with Graph's body and the methods the path takes.
    let (status, headers, refused) = api.call(Method::PUT, "/users", None);
    assert_eq!(status, 405, "{refused}");
    assert_eq!(refused["error"]["code"], json!("Request_BadRequest"), "{refused}");
    let allow = headers.get("allow").and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow:?}");

    let config = data.path().join("schemathesis.toml");
    std::fs::write(&config, configuration(&api)).expect("write schemathesis.toml");
    let schemathesis = python().with_file_name("schemathesis");
    let started = Instant::now();
    let output = Command::new(&schemathesis)
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("{}/$openapi", api.base))
        .args(["--header", &format!("Authorization: Bearer {global}")])
        .args(["--checks", CHECKS])
        .args(["--max-examples", "40", "--seed", "1", "--request-timeout", "30", "--no-color"])
        // Its example database and reports go in the test's directory, not the source tree.
        .current_dir(data.path())
        .output()
        .unwrap_or_else(|error| panic!("{} runs: {error}", schemathesis.display()));
    let report = String::from_utf8_lossy(&output.stdout);
    let errors = String::from_utf8_lossy(&output.stderr);
    println!("{report}\nschemathesis took {:.0?}", started.elapsed());
    assert!(report.contains("Test cases:"), "schemathesis did not report: {report}\n{errors}");
    assert!(output.status.success(), "schemathesis found failures:\n{report}\n{errors}");
    // Every operation was tested, the events stream too (schemathesis leaves the document's own out of its count).
    let line = |name: &str| report.lines().find_map(|line| line.trim().strip_prefix(name)).unwrap_or_default();
    let tested: usize = line("Tested: ").parse().unwrap_or_default();
    assert_eq!(line("Selected: "), format!("{tested}/{tested}"), "{report}");
    assert!(tested + 1 >= operations.len(), "{tested} of {} operations tested:\n{report}", operations.len());
    drop(server);
}

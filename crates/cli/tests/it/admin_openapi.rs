//! The admin API's OpenAPI document, and schemathesis (PyPI) run against the real `roster serve` with it: no
//! response is a server error, and every status, content type and body is the one the document gives.

use std::process::Command;

use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::support::admin::{Api, token};
use crate::support::{Backend, Server, TargetEnterprise, data_dir, python, run_ok, workspace};

fn first_id(api: &Api, path: &str) -> String {
    let (status, body) = api.get(path);
    assert_eq!(status, 200, "{path}: {body}");
    body["value"][0]["id"].as_str().unwrap_or_else(|| panic!("{path}: no id in {body}")).to_owned()
}

#[test]
fn schemathesis_finds_no_server_error_and_no_response_the_document_does_not_describe() {
    // The application exports to a service provider that answers, so that a plan or a cycle reaches it; an
    // unreachable target would answer 502, rightly, and say nothing about the API.
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

    // The document: OpenAPI 3.1, served with the server's base URL, every operation with its id.
    let (status, document) = api.get("/$openapi");
    assert_eq!(status, 200, "{document}");
    assert_eq!(document["openapi"], json!("3.1.0"));
    assert_eq!(document["servers"][0]["url"], json!(api.base), "{}", document["servers"]);
    let operations: usize =
        document["paths"].as_object().expect("paths").values().filter_map(Value::as_object).map(|m| m.len()).sum();
    assert!(operations >= 55, "{operations} operations");

    // A wrong method: 405 with Graph's body and the methods the path takes.
    let (status, headers, refused) = api.call(reqwest::Method::PUT, "/users", None);
    assert_eq!(status, 405, "{refused}");
    assert_eq!(refused["error"]["code"], json!("Request_BadRequest"), "{refused}");
    let allow = headers.get("allow").and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow:?}");

    let sp = first_id(&api, "/servicePrincipals");
    let ids = [
        ("ROSTER_USER", first_id(&api, "/users?$top=1&$select=id")),
        ("ROSTER_GROUP", first_id(&api, "/groups?$top=1&$select=id")),
        ("ROSTER_JOB", first_id(&api, &format!("/servicePrincipals/{sp}/synchronization/jobs"))),
        ("ROSTER_TEMPLATE", first_id(&api, "/applicationTemplates")),
        ("ROSTER_SP", sp),
    ];
    let schemathesis = python().with_file_name("schemathesis");
    let output = Command::new(&schemathesis)
        .arg("--config-file")
        .arg(workspace().join("tests/conformance/schemathesis.toml"))
        .arg("run")
        .arg(format!("{}/$openapi", api.base))
        .args(["--header", &format!("Authorization: Bearer {global}")])
        .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance"])
        .args(["--max-examples", "20", "--seed", "1", "--request-timeout", "30", "--no-color"])
        // The events stream does not end: it is read by the tests of admin_jobs.rs.
        .args(["--exclude-operation-id", "streamJobEvents"])
        .envs(ids.iter().map(|(name, value)| (name, value)))
        // Its example database and reports go in the test's directory, not the source tree.
        .current_dir(data.path())
        .output()
        .unwrap_or_else(|error| panic!("{} runs: {error}", schemathesis.display()));
    let report = String::from_utf8_lossy(&output.stdout);
    let errors = String::from_utf8_lossy(&output.stderr);
    println!("{report}");
    assert!(report.contains("Test cases:"), "schemathesis did not report: {report}\n{errors}");
    assert!(output.status.success(), "schemathesis found failures:\n{report}\n{errors}");
    assert!(!report.contains("Server error"), "{report}");
    drop(server);
}

//! The engine against a SCIM server nobody here wrote: the Python `scim2-server` from PyPI (pinned in
//! tests/conformance/requirements.txt), with the `scim` template.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::support::{python, run_ok};

const TOKEN: &str = "foreign-target-token";

struct ScimServer {
    child: Child,
    base: String,
}

impl ScimServer {
    fn start() -> ScimServer {
        // scim2-server takes a port, not port 0: take a free one from the kernel and hand it over. It says where
        // it serves once it listens.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let script = python().with_file_name("scim2-server");
        let mut child = Command::new(script)
            .args(["--hostname", "127.0.0.1", "--port", &port.to_string(), "--bearer-token", TOKEN])
            .env("PYTHONUNBUFFERED", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("scim2-server starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines.next().expect("scim2-server printed where it serves").expect("a line");
            if let Some(url) = line.strip_prefix("Serving SCIM on ") {
                break url.trim().trim_end_matches('/').to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        ScimServer { child, base }
    }

    fn list(&self, endpoint: &str) -> Vec<Value> {
        let http = reqwest::blocking::Client::new();
        let body: Value =
            http.get(format!("{}/{endpoint}?count=1000", self.base)).bearer_auth(TOKEN).send().unwrap().json().unwrap();
        body["Resources"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for ScimServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_scim_template_provisions_into_scim2_server() {
    let server = ScimServer::start();
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    let directory = json!({
        "users": [
            {"id": "00000000-0000-4000-8000-000000000001", "userPrincipalName": "ada@contoso.example", "mail": "ada@contoso.example",
             "mailNickname": "ada", "displayName": "Ada Lovelace", "givenName": "Ada", "surname": "Lovelace",
             "jobTitle": "Analyst", "department": "Engineering", "employeeId": "1001", "city": "London", "country": "GB"},
            {"id": "00000000-0000-4000-8000-000000000002", "userPrincipalName": "alan@contoso.example",
             "mailNickname": "alan", "displayName": "Alan Turing", "givenName": "Alan", "surname": "Turing"},
            {"id": "00000000-0000-4000-8000-000000000003", "userPrincipalName": "grace@contoso.example",
             "displayName": "Grace Hopper"},
        ],
        "groups": [{"id": "00000000-0000-4000-8000-0000000000a1", "displayName": "Engineering",
                    "members": ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"]}],
    });
    let file = data.join("directory.json");
    std::fs::write(&file, serde_json::to_vec(&directory).unwrap()).unwrap();
    run_ok(data, &["directory", "import", file.to_str().unwrap()]);
    run_ok(data, &["app", "create", "py", "--template", "scim", "--tenant-url", &server.base, "--secret-token", TOKEN]);
    run_ok(data, &["app", "assign", "py", "--group", "00000000-0000-4000-8000-0000000000a1"]);
    assert!(run_ok(data, &["app", "test-connection", "py"]).starts_with("success"));

    let summary = run_ok(data, &["sync", "py", "--once"]);
    assert!(summary.contains("created 3") && summary.contains("failed 0"), "{summary}");
    let users = server.list("Users");
    assert_eq!(users.len(), 2, "{users:?}");
    let ada = users.iter().find(|user| user["userName"] == "ada@contoso.example").unwrap();
    assert_eq!(ada["externalId"], "ada");
    assert_eq!(ada["title"], "Analyst");
    assert_eq!(ada["active"], true);
    assert_eq!(ada["name"]["familyName"], "Lovelace");
    assert_eq!(ada["emails"][0]["value"], "ada@contoso.example");
    assert_eq!(ada["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"], "Engineering");
    let groups = server.list("Groups");
    assert_eq!(groups.len(), 1);
    let mut members: Vec<&str> =
        groups[0]["members"].as_array().unwrap().iter().filter_map(|member| member["value"].as_str()).collect();
    members.sort_unstable();
    let mut expected: Vec<&str> = users.iter().filter_map(|user| user["id"].as_str()).collect();
    expected.sort_unstable();
    assert_eq!(members, expected);

    // An incremental cycle: a title change and a soft delete.
    let mut changed = directory;
    changed["users"][0]["jobTitle"] = json!("Lead Analyst");
    changed["users"][1]["accountEnabled"] = json!(false);
    std::fs::write(&file, serde_json::to_vec(&changed).unwrap()).unwrap();
    run_ok(data, &["directory", "import", file.to_str().unwrap()]);
    let summary = run_ok(data, &["sync", "py"]);
    assert!(summary.contains("updated 1, disabled 1") && summary.contains("failed 0"), "{summary}");
    let users = server.list("Users");
    let ada = users.iter().find(|user| user["userName"] == "ada@contoso.example").unwrap();
    assert_eq!(ada["title"], "Lead Analyst");
    let alan = users.iter().find(|user| user["userName"] == "alan@contoso.example").unwrap();
    assert_eq!(alan["active"], false);

    // And then nothing to do.
    let summary = run_ok(data, &["sync", "py"]);
    assert!(summary.contains("0 requests"), "{summary}");
}

//! Every change by the admin API and by the command line writes its audit entries, one per object changed, with
//! Entra's activity names, the right initiator and modified properties, and never a secret: a table of changes,
//! each with the entries it must add, against the real `roster serve` and the real binary.

use reqwest::Method;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::support::{Backend, Server, TargetEnterprise, data_dir, run_ok};

/// One change and what it must add to the audit log, newest last.
enum Change {
    /// An admin API request.
    Api(Method, String, Option<Value>),
    /// A command line.
    Cli(Vec<String>),
}

struct Fixture {
    client: Client,
    origin: String,
    token: String,
    data: std::path::PathBuf,
}

impl Fixture {
    fn call(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let url = format!("{}/api/v1.0{path}", self.origin);
        let mut request = self.client.request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().expect("the admin API answers");
        let status = response.status().as_u16();
        let text = response.text().unwrap_or_default();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
    }

    /// Every entry, oldest first.
    fn entries(&self) -> Vec<Value> {
        let text = run_ok(&self.data, &["audit", "--format", "json"]);
        let mut entries: Vec<Value> = serde_json::from_str(&text).expect("JSON");
        entries.reverse();
        entries
    }

    /// Runs a change and answers the entries it added, oldest first.
    fn run(&self, change: &Change) -> (Value, Vec<Value>) {
        let before = self.entries().len();
        let answer = match change {
            Change::Api(method, path, body) => {
                let (status, answer) = self.call(method.clone(), path, body.as_ref());
                assert!((200..300).contains(&status), "{method} {path}: {status} {answer}");
                answer
            }
            Change::Cli(arguments) => {
                let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
                Value::String(run_ok(&self.data, &arguments))
            }
        };
        (answer, self.entries().split_off(before))
    }
}

fn cli(arguments: &[&str]) -> Change {
    Change::Cli(arguments.iter().map(|argument| (*argument).to_owned()).collect())
}

fn properties(entry: &Value) -> Vec<String> {
    entry["targetResources"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|target| target["modifiedProperties"].as_array().cloned().unwrap_or_default())
        .filter_map(|property| property["displayName"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn every_change_writes_its_audit_entries() {
    let target = TargetEnterprise::start("octo-corp", "octo", "github-emu");
    let data = data_dir(Backend::Sqlite);
    let token =
        run_ok(data.path(), &["admin", "token", "create", "--name", "auditor-test", "--role", "global-administrator"])
            .trim()
            .to_owned();
    let server = Server::start(data.path(), &[]);
    let fixture = Fixture { client: Client::new(), origin: server.origin.clone(), token, data: data.path().to_owned() };
    let password = "a password nobody may read 42";

    // Users and groups through the API.
    let (ada, added) = fixture.run(&Change::Api(
        Method::POST,
        "/users".into(),
        Some(json!({
            "displayName": "Ada", "userPrincipalName": "ada@contoso.example", "passwordProfile": {"password": password}
        })),
    ));
    // Entries of the same millisecond come in no particular order.
    let mut names: Vec<&str> = added.iter().filter_map(|entry| entry["activityDisplayName"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Add user", "Reset password"]);
    let add = added.iter().find(|entry| entry["activityDisplayName"] == "Add user").expect("Add user");
    assert!(properties(add).contains(&"userPrincipalName".to_owned()), "{add:?}");
    assert_eq!(added[0]["initiatedBy"]["displayName"], json!("token auditor-test"), "{:?}", added[0]);
    assert_eq!(added[0]["correlationId"], added[1]["correlationId"], "one request, one correlation id");
    let ada = ada["id"].as_str().expect("an id").to_owned();
    let (bob, _) = fixture.run(&Change::Api(
        Method::POST,
        "/users".into(),
        Some(json!({"displayName": "Bob", "userPrincipalName": "bob@contoso.example"})),
    ));
    let bob = bob["id"].as_str().expect("an id").to_owned();
    let (group, _) = fixture.run(&Change::Api(Method::POST, "/groups".into(), Some(json!({
        "displayName": "Staff", "members@odata.bind": [format!("https://graph.microsoft.com/v1.0/directoryObjects/{ada}")]
    }))));
    let group = group["id"].as_str().expect("an id").to_owned();

    let member = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{bob}")});
    let table: Vec<(Change, &[&str], &[&str])> = vec![
        (
            Change::Api(Method::PATCH, format!("/users/{ada}"), Some(json!({"jobTitle": "Analyst"}))),
            &["Update user"],
            &["jobTitle"],
        ),
        (Change::Api(Method::PATCH, format!("/users/{ada}"), Some(json!({"jobTitle": "Analyst"}))), &[], &[]),
        (
            Change::Api(Method::POST, format!("/groups/{group}/members/$ref"), Some(member)),
            &["Add member to group"],
            &[],
        ),
        (
            Change::Api(Method::DELETE, format!("/groups/{group}/members/{bob}/$ref"), None),
            &["Remove member from group"],
            &[],
        ),
        (
            Change::Api(Method::PATCH, format!("/groups/{group}"), Some(json!({"description": "Everyone"}))),
            &["Update group"],
            &["description"],
        ),
        (
            Change::Api(
                Method::POST,
                "/roster/enterprises".into(),
                Some(json!({"slug": "globex", "shortcode": "glbx"})),
            ),
            &["Add enterprise"],
            &[],
        ),
        (
            Change::Api(Method::POST, "/roster/enterprises/globex/tokens".into(), Some(json!({"name": "ci"}))),
            &["Add enterprise token"],
            &[],
        ),
        (cli(&["directory", "user", "disable", &bob]), &["Disable account"], &["accountEnabled"]),
        (cli(&["directory", "user", "disable", &bob]), &[], &[]),
        (cli(&["directory", "user", "enable", &bob]), &["Enable account"], &["accountEnabled"]),
        (cli(&["directory", "user", "delete", &bob]), &["Delete user"], &[]),
        (cli(&["directory", "user", "restore", &bob]), &["Restore user"], &[]),
        (cli(&["directory", "user", "add-role", &bob, "reports-reader"]), &["Add member to role"], &[]),
        (cli(&["directory", "user", "add-role", &bob, "reports-reader"]), &[], &[]),
        (cli(&["directory", "user", "remove-role", &bob, "reports-reader"]), &["Remove member from role"], &[]),
        (cli(&["directory", "group", "add-member", &group, &bob]), &["Add member to group"], &[]),
        (
            cli(&["admin", "token", "create", "--name", "temp", "--role", "reports-reader"]),
            &["Add service principal credentials"],
            &["Role"],
        ),
        (cli(&["admin", "token", "revoke", "temp"]), &["Remove service principal credentials"], &[]),
    ];
    for (change, activities, modified) in &table {
        let (_, added) = fixture.run(change);
        let names: Vec<&str> = added.iter().filter_map(|entry| entry["activityDisplayName"].as_str()).collect();
        let what = match change {
            Change::Api(method, path, _) => format!("{method} {path}"),
            Change::Cli(arguments) => format!("roster {}", arguments.join(" ")),
        };
        assert_eq!(&names, activities, "{what}: {added:?}");
        if let Some(entry) = added.first() {
            let changed = properties(entry);
            for property in *modified {
                assert!(changed.iter().any(|name| name == property), "{what}: no {property} in {changed:?}");
            }
            if matches!(change, Change::Cli(_)) {
                let by = entry["initiatedBy"]["displayName"].as_str().unwrap_or_default();
                assert!(by.starts_with("roster command line"), "{what}: {by}");
            }
        }
    }

    // An application, through Microsoft's sequence.
    let (created, added) = fixture.run(&Change::Api(
        Method::POST,
        "/applicationTemplates/github-emu/instantiate".into(),
        Some(json!({"displayName": "GitHub"})),
    ));
    let mut names: Vec<&str> = added.iter().filter_map(|entry| entry["activityDisplayName"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Add application", "Add service principal"]);
    let sp = created["servicePrincipal"]["id"].as_str().expect("an id").to_owned();
    let (job, added) = fixture.run(&Change::Api(
        Method::POST,
        format!("/servicePrincipals/{sp}/synchronization/jobs"),
        Some(json!({"templateId": "github-emu"})),
    ));
    assert_eq!(added.len(), 1);
    assert_eq!(added[0]["activityDisplayName"], json!("Add provisioning configuration"));
    let jobs = format!("/servicePrincipals/{sp}/synchronization/jobs/{}", job["id"].as_str().expect("a job id"));
    let secrets =
        json!({"value": [{"key": "BaseAddress", "value": target.base}, {"key": "SecretToken", "value": target.token}]});
    let (_, added) = fixture.run(&Change::Api(
        Method::PUT,
        format!("/servicePrincipals/{sp}/synchronization/secrets"),
        Some(secrets),
    ));
    assert_eq!(added.len(), 1, "{added:?}");
    assert_eq!(added[0]["activityDisplayName"], json!("Update provisioning setting or credentials"));
    let changed = properties(&added[0]);
    assert!(
        changed.contains(&"SecretToken".to_owned()) && changed.contains(&"target.tenant_url".to_owned()),
        "{changed:?}"
    );
    let (mut schema, read) = fixture.run(&Change::Api(Method::GET, format!("{jobs}/schema"), None));
    assert!(read.is_empty(), "a read writes nothing: {read:?}");
    let mappings = schema["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
        .as_array_mut()
        .expect("the users' mappings");
    let display = mappings
        .iter_mut()
        .find(|mapping| mapping["targetAttributeName"] == "displayName")
        .expect("a displayName mapping");
    display["source"] = json!({"expression": "ToUpper([displayName])", "type": "Function"});
    let assign = json!({"principalId": ada, "resourceId": sp, "appRoleId": "00000000-0000-0000-0000-000000000000"});
    let app_table: Vec<(Change, &[&str])> = vec![
        (
            Change::Api(Method::POST, format!("/servicePrincipals/{sp}/appRoleAssignedTo"), Some(assign)),
            &["Add app role assignment grant to user"],
        ),
        (
            Change::Api(Method::DELETE, format!("/servicePrincipals/{sp}/appRoleAssignedTo/{ada}"), None),
            &["Remove app role assignment from user"],
        ),
        (Change::Api(Method::POST, format!("{jobs}/start"), None), &["Enable/start provisioning configuration"]),
        (Change::Api(Method::POST, format!("{jobs}/pause"), None), &["Disable/pause provisioning configuration"]),
        (
            Change::Api(Method::POST, format!("{jobs}/restart"), Some(json!({"criteria": {"resetScope": "Full"}}))),
            &["Enable/restart provisioning configuration"],
        ),
        (Change::Api(Method::PUT, format!("{jobs}/schema"), Some(schema)), &["Update attribute mappings or scope"]),
        (Change::Api(Method::DELETE, format!("{jobs}/schema"), None), &["Update attribute mappings or scope"]),
        (Change::Api(Method::DELETE, format!("{jobs}/schema"), None), &[]),
        (Change::Api(Method::DELETE, jobs, None), &["Delete provisioning configuration"]),
        (cli(&["app", "assign", "github", "--group", &group]), &["Add app role assignment to group"]),
        (cli(&["app", "unassign", "github", "--group", &group]), &["Remove app role assignment from group"]),
        (cli(&["app", "restart", "github", "--reset", "escrows"]), &["Enable/restart provisioning configuration"]),
    ];
    for (change, activities) in &app_table {
        let (_, added) = fixture.run(change);
        let names: Vec<&str> = added.iter().filter_map(|entry| entry["activityDisplayName"].as_str()).collect();
        assert_eq!(&names, activities, "{added:?}");
    }
    let restart = fixture.entries().into_iter().rev().find(|entry| {
        entry["activityDisplayName"] == "Enable/restart provisioning configuration"
            && entry["initiatedBy"]["displayName"] == "token auditor-test"
    });
    let details = restart.expect("the API's restart")["additionalDetails"].to_string();
    assert!(details.contains("resetScope") && details.contains("Full"), "{details}");

    // Deletions last.
    let (_, added) = fixture.run(&Change::Api(Method::DELETE, format!("/groups/{group}"), None));
    assert_eq!(
        added.iter().filter_map(|entry| entry["activityDisplayName"].as_str()).collect::<Vec<_>>(),
        ["Hard Delete group"]
    );
    let (_, added) = fixture.run(&cli(&["directory", "user", "delete", &bob, "--hard"]));
    assert_eq!(
        added.iter().filter_map(|entry| entry["activityDisplayName"].as_str()).collect::<Vec<_>>(),
        ["Hard Delete user"]
    );

    // An import writes one entry per object it changed, and none for the others.
    let people = data.path().join("people.json");
    let users = |title: &str| {
        json!({"users": [
            {"id": ada, "userPrincipalName": "ada@contoso.example", "displayName": "Ada", "mailNickname": "ada", "jobTitle": title},
            {"id": "0a1b2c3d-0000-4000-8000-0000000000c1", "userPrincipalName": "c1@contoso.example", "displayName": "C1"},
        ]})
    };
    std::fs::write(&people, users("Analyst").to_string()).expect("write");
    let path = people.to_str().expect("UTF-8").to_owned();
    let (_, added) = fixture.run(&cli(&["directory", "import", &path]));
    assert_eq!(
        added.iter().filter_map(|entry| entry["activityDisplayName"].as_str()).collect::<Vec<_>>(),
        ["Add user"],
        "{added:?}"
    );
    std::fs::write(&people, users("Engineer").to_string()).expect("write");
    let (_, added) = fixture.run(&cli(&["directory", "import", &path]));
    assert_eq!(
        added.iter().filter_map(|entry| entry["activityDisplayName"].as_str()).collect::<Vec<_>>(),
        ["Update user"],
        "{added:?}"
    );
    assert_eq!(properties(&added[0]), ["jobTitle"]);

    // No secret anywhere in the log.
    let everything = run_ok(data.path(), &["audit", "--format", "json"]);
    for secret in [password, target.token.as_str(), fixture.token.as_str(), "$argon2id$"] {
        assert!(!everything.contains(secret), "the audit log shows a secret");
    }
    drop(server);
}

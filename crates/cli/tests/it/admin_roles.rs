//! Every admin API endpoint against every role, as a table: allowed (any answer but 401 and 403), forbidden (403,
//! and nothing changed: the audit log has no new entry), or not found (404: an application owner does not see
//! other applications). Against the real `roster serve`.

use reqwest::Method;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::support::{Backend, Server, TargetEnterprise, data_dir, run_ok};

/// What a role gets from an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Anything but 401 and 403 (and never a 5xx).
    Allowed,
    /// 403 with nothing changed.
    Forbidden,
    /// 404, the application unseen.
    Hidden,
}
use Expect::{Allowed as A, Forbidden as F, Hidden as H};

/// The roles, in the order of each row's expectations.
const ROLES: [&str; 5] = [
    "global-administrator",
    "application-administrator",
    "reports-reader",
    "application-owner:github",
    "application-owner:slack",
];

fn send(
    client: &Client,
    origin: &str,
    token: &str,
    method: &Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, String) {
    let mut request = client.request(method.clone(), format!("{origin}/api/v1.0{path}")).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().expect("the admin API answers");
    let status = response.status().as_u16();
    if path.ends_with("/events") && status == 200 {
        // A stream that does not end: its status is the answer.
        return (status, String::new());
    }
    (status, response.text().unwrap_or_default())
}

#[test]
fn every_endpoint_allows_exactly_the_roles_entra_gives_it() {
    let target = TargetEnterprise::start("octo-corp", "octo", "github-emu");
    let data = data_dir(Backend::Sqlite);
    let file = data.path().join("people.json");
    let file = file.to_str().expect("UTF-8");
    run_ok(
        data.path(),
        &["directory", "generate", "--users", "12", "--groups", "2", "--members-per-group", "4", "--out", file],
    );
    run_ok(data.path(), &["directory", "import", file]);
    run_ok(
        data.path(),
        &[
            "app",
            "create",
            "github",
            "--template",
            "github-emu",
            "--tenant-url",
            &target.base,
            "--secret-token",
            &target.token,
        ],
    );
    run_ok(
        data.path(),
        &[
            "app",
            "create",
            "slack",
            "--template",
            "scim",
            "--tenant-url",
            "http://127.0.0.1:9/scim",
            "--secret-token",
            "x",
        ],
    );
    run_ok(data.path(), &["app", "pause", "github"]);
    run_ok(data.path(), &["app", "pause", "slack"]);
    let tokens: Vec<String> = ROLES
        .iter()
        .enumerate()
        .map(|(index, role)| {
            run_ok(data.path(), &["admin", "token", "create", "--name", &format!("t{index}"), "--role", role])
                .trim()
                .to_owned()
        })
        .collect();
    let server = Server::start(data.path(), &[]);
    let client = Client::new();
    let origin = server.origin.clone();
    let global = tokens[0].clone();
    let get = |path: &str| -> Value {
        let (status, body) = send(&client, &origin, &global, &Method::GET, path, None);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).expect("JSON")
    };
    let users = get("/users?$select=id");
    let user = users["value"][0]["id"].as_str().expect("a user").to_owned();
    let groups = get("/groups?$select=id");
    let group = groups["value"][0]["id"].as_str().expect("a group").to_owned();
    let sps = get("/servicePrincipals?$filter=displayName%20eq%20'github'");
    let sp = sps["value"][0]["id"].as_str().expect("github's service principal").to_owned();
    let jobs = get(&format!("/servicePrincipals/{sp}/synchronization/jobs"));
    let job = jobs["value"][0]["id"].as_str().expect("a job").to_owned();
    let job_path = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}");
    let schema = get(&format!("{job_path}/schema"));
    let rule = schema["synchronizationRules"][0]["id"].as_str().expect("a rule id").to_owned();
    let audit_count = || get("/auditLogs/directoryAudits?$top=1000")["value"].as_array().map_or(0, Vec::len);

    let get_all = [A, A, A, A, A];
    let global_only = [A, F, F, F, F];
    let read_app = [A, A, A, A, H];
    let manage_app = [A, A, F, A, H];
    let rows: Vec<(Method, String, Option<Value>, [Expect; 5])> = vec![
        (Method::GET, "/users".into(), None, get_all),
        (Method::GET, format!("/users/{user}"), None, get_all),
        (
            Method::POST,
            "/users".into(),
            Some(json!({"displayName": "New", "userPrincipalName": "new@contoso.example"})),
            global_only,
        ),
        (Method::PATCH, format!("/users/{user}"), Some(json!({"jobTitle": "Role test"})), global_only),
        (Method::GET, "/groups".into(), None, get_all),
        (Method::GET, format!("/groups/{group}"), None, get_all),
        (Method::GET, format!("/groups/{group}/members"), None, get_all),
        (
            Method::POST,
            "/groups".into(),
            Some(json!({"displayName": "Role test", "mailNickname": "roletest"})),
            global_only,
        ),
        (Method::PATCH, format!("/groups/{group}"), Some(json!({"description": "Role test"})), global_only),
        (
            Method::POST,
            format!("/groups/{group}/members/$ref"),
            Some(json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{user}")})),
            global_only,
        ),
        (Method::DELETE, format!("/groups/{group}/members/{user}/$ref"), None, global_only),
        (Method::GET, "/applicationTemplates".into(), None, get_all),
        (
            Method::POST,
            "/applicationTemplates/scim/instantiate".into(),
            Some(json!({"displayName": "Role test"})),
            [A, A, F, F, F],
        ),
        (Method::GET, "/servicePrincipals".into(), None, get_all),
        (Method::GET, format!("/servicePrincipals/{sp}"), None, read_app),
        (Method::GET, format!("/servicePrincipals/{sp}/appRoleAssignedTo"), None, read_app),
        (
            Method::POST,
            format!("/servicePrincipals/{sp}/appRoleAssignedTo"),
            Some(json!({"principalId": group, "resourceId": sp, "appRoleId": "00000000-0000-0000-0000-000000000000"})),
            manage_app,
        ),
        (Method::DELETE, format!("/servicePrincipals/{sp}/appRoleAssignedTo/{group}"), None, manage_app),
        (Method::GET, format!("/servicePrincipals/{sp}/synchronization/templates"), None, read_app),
        (Method::GET, format!("/servicePrincipals/{sp}/synchronization/jobs"), None, read_app),
        (
            Method::POST,
            format!("/servicePrincipals/{sp}/synchronization/jobs"),
            Some(json!({"templateId": "github-emu"})),
            manage_app,
        ),
        (Method::GET, job_path.clone(), None, read_app),
        (
            Method::POST,
            format!("{job_path}/validateCredentials"),
            Some(json!({"useSavedCredentials": true})),
            manage_app,
        ),
        (
            Method::PUT,
            format!("/servicePrincipals/{sp}/synchronization/secrets"),
            Some(json!({"value": [{"key": "NotificationEmail", "value": "ops@contoso.example"}]})),
            manage_app,
        ),
        (Method::POST, format!("{job_path}/restart"), Some(json!({"criteria": {"resetScope": "Escrows"}})), manage_app),
        (Method::POST, format!("{job_path}/pause"), None, manage_app),
        (Method::GET, format!("{job_path}/schema"), None, read_app),
        (Method::PUT, format!("{job_path}/schema"), Some(schema), manage_app),
        (Method::POST, format!("{job_path}/schema/parseExpression"), Some(json!({"expression": "[mail]"})), read_app),
        (Method::GET, format!("{job_path}/schema/functions"), None, read_app),
        (Method::GET, format!("{job_path}/schema/filterOperators"), None, read_app),
        (Method::GET, format!("/servicePrincipals/{sp}/synchronization/templates/github-emu/schema"), None, read_app),
        (
            Method::POST,
            format!("{job_path}/provisionOnDemand"),
            Some(json!({"parameters": [{"ruleId": rule, "subjects": [{"objectId": user, "objectTypeName": "User"}]}]})),
            manage_app,
        ),
        (Method::POST, format!("{job_path}/plans"), None, manage_app),
        (Method::GET, format!("{job_path}/plans"), None, read_app),
        (Method::GET, format!("{job_path}/events"), None, read_app),
        (Method::GET, "/auditLogs/provisioning".into(), None, get_all),
        (Method::GET, "/auditLogs/directoryAudits".into(), None, [A, F, A, F, F]),
        (Method::GET, "/roster/enterprises".into(), None, global_only),
        (
            Method::POST,
            "/roster/enterprises".into(),
            Some(json!({"slug": "role-test", "shortcode": "rolet"})),
            global_only,
        ),
        (Method::GET, "/roster/enterprises/octo-corp/tokens".into(), None, global_only),
        (Method::POST, "/roster/enterprises/octo-corp/tokens".into(), Some(json!({"name": "role-test"})), global_only),
        (Method::DELETE, "/roster/enterprises/octo-corp/tokens/none".into(), None, global_only),
        (Method::DELETE, job_path, None, manage_app),
        (Method::DELETE, format!("/users/{user}"), None, global_only),
    ];
    for (method, path, body, expected) in &rows {
        // The roles that may not go first, so that an allowed change cannot hide a refused one.
        let mut order: Vec<usize> = (0..ROLES.len()).filter(|&role| expected[role] != A).collect();
        order.extend((0..ROLES.len()).filter(|&role| expected[role] == A));
        for role in order {
            let before = if expected[role] == A { 0 } else { audit_count() };
            let (status, answer) = send(&client, &origin, &tokens[role], method, path, body.as_ref());
            let what = format!("{} {method} {path} -> {status} {answer}", ROLES[role]);
            match expected[role] {
                A => assert!(status != 401 && status != 403 && status < 500, "allowed: {what}"),
                F => {
                    assert_eq!(status, 403, "forbidden: {what}");
                    let error: Value = serde_json::from_str(&answer).expect("a Graph error body");
                    assert_eq!(error["error"]["code"], json!("Authorization_RequestDenied"), "{what}");
                    assert_eq!(audit_count(), before, "a refused request changed something: {what}");
                }
                H => {
                    assert_eq!(status, 404, "hidden: {what}");
                    assert_eq!(audit_count(), before, "a refused request changed something: {what}");
                }
            }
        }
    }
    // Without a token, or with a revoked one: 401.
    let (status, _) = send(&client, &origin, "", &Method::GET, "/users", None);
    assert_eq!(status, 401);
    run_ok(data.path(), &["admin", "token", "revoke", "t2"]);
    let (status, body) = send(&client, &origin, &tokens[2], &Method::GET, "/users", None);
    assert_eq!(status, 401, "{body}");
    drop(server);
}

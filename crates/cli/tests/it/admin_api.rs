//! The admin API end to end: Microsoft's walkthrough of configuring provisioning through Graph (instantiate the
//! template, create the job, validateCredentials, put secrets, assign a group, start, read the job's status and the
//! provisioning logs by jobId), replayed against the real `roster serve` with only the base URL and token changed,
//! into roster's own service provider; then roles, the audit log, and users and groups.

use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

use crate::support::admin::{Api, token};
use crate::support::{Backend, Server, TargetEnterprise, data_dir, run_ok};

#[test]
fn microsofts_provisioning_walkthrough_runs_against_roster() {
    let target = TargetEnterprise::start("octo-corp", "octo", "github-emu");
    let data = data_dir(Backend::Sqlite);
    let directory = data.path().join("people.json");
    let path = directory.to_str().expect("a UTF-8 path");
    run_ok(
        data.path(),
        &[
            "directory",
            "generate",
            "--users",
            "30",
            "--groups",
            "3",
            "--members-per-group",
            "8",
            "--seed",
            "7",
            "--out",
            path,
        ],
    );
    run_ok(data.path(), &["directory", "import", path]);
    let admin_token = token(data.path(), "pipeline", "application-administrator");
    let global_token = token(data.path(), "root", "global-administrator");
    let reader_token = token(data.path(), "auditor", "reports-reader");
    let server = Server::start(data.path(), &[]);
    let client = Client::new();
    let api = |token: &str| Api {
        client: &client,
        base: format!("{}/api/v1.0", server.origin),
        token: token.to_owned(),
        seen: std::cell::RefCell::default(),
    };
    let admin = api(&admin_token);

    // 1a. Find the template.
    let (status, templates) =
        admin.get("/applicationTemplates?$filter=displayName%20eq%20'GitHub%20Enterprise%20Managed%20User'");
    assert_eq!(status, 200, "{templates}");
    assert_eq!(templates["value"].as_array().map(Vec::len), Some(1), "{templates}");
    let template = templates["value"][0]["id"].as_str().expect("a template id").to_owned();
    assert_eq!(templates["value"][0]["supportedProvisioningTypes"], json!(["sync"]));

    // 1b. Instantiate it.
    let (status, created) =
        admin.post(&format!("/applicationTemplates/{template}/instantiate"), json!({"displayName": "GitHub Contoso"}));
    assert_eq!(status, 201, "{created}");
    let sp = created["servicePrincipal"]["id"].as_str().expect("a service principal id").to_owned();
    assert_eq!(created["servicePrincipal"]["appRoleAssignmentRequired"], json!(true));
    assert_eq!(created["application"]["displayName"], json!("GitHub Contoso"));

    // 2a. Its synchronization template; 2b. the job, disabled and not configured.
    let (status, sync_templates) = admin.get(&format!("/servicePrincipals/{sp}/synchronization/templates"));
    assert_eq!(status, 200, "{sync_templates}");
    let sync_template = sync_templates["value"][0]["id"].as_str().expect("a template id").to_owned();
    let (status, job) =
        admin.post(&format!("/servicePrincipals/{sp}/synchronization/jobs"), json!({"templateId": sync_template}));
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["schedule"]["state"], json!("Disabled"));
    assert_eq!(job["status"]["code"], json!("NotConfigured"));
    let job_id = job["id"].as_str().expect("a job id").to_owned();
    let jobs = format!("/servicePrincipals/{sp}/synchronization/jobs/{job_id}");

    // 3a. Test Connection: a wrong token is refused with the reason, nothing is saved; the right one passes.
    let credentials = |secret: &str| json!({"credentials": [{"key": "BaseAddress", "value": target.base}, {"key": "SecretToken", "value": secret}]});
    let (status, refused) = admin.post(&format!("{jobs}/validateCredentials"), credentials("wrong-token"));
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"]["code"], json!("Unauthorized"), "{refused}");
    let (status, _) = admin.post(&format!("{jobs}/validateCredentials"), credentials(&target.token));
    assert_eq!(status, 204);
    assert_eq!(admin.get(&jobs).1["status"]["code"], json!("NotConfigured"));

    // 3b. Save the secrets.
    let secrets = json!({"value": [
        {"key": "BaseAddress", "value": target.base},
        {"key": "SecretToken", "value": target.token},
        {"key": "SyncNotificationSettings", "value": "{\"Enabled\":false,\"DeleteThresholdEnabled\":true,\"DeleteThresholdValue\":400}"},
        {"key": "SyncAll", "value": "false"},
    ]});
    let (status, body) =
        admin.send(reqwest::Method::PUT, &format!("/servicePrincipals/{sp}/synchronization/secrets"), Some(secrets));
    assert_eq!(status, 204, "{body}");
    let (_, job) = admin.get(&jobs);
    assert_eq!(job["schedule"]["state"], json!("Paused"), "{job}");
    assert_eq!(
        job["synchronizationJobSettings"][0],
        json!({"name": "QuarantineTooManyDeletesThreshold", "value": "400"})
    );

    // Assign a group.
    let (_, groups) = admin.get("/groups?$top=1&$select=id,displayName");
    let group = groups["value"][0]["id"].as_str().expect("a group").to_owned();
    let (_, members) = admin.get(&format!("/groups/{group}/members?$select=id"));
    // Users only: a group assignment provisions the group's direct user members (nested groups are not expanded).
    let member_count = members["value"]
        .as_array()
        .map_or(0, |members| members.iter().filter(|member| member["@odata.type"] == "#microsoft.graph.user").count());
    assert!(member_count > 0, "{members}");
    let assignment =
        json!({"principalId": group, "resourceId": sp, "appRoleId": "00000000-0000-0000-0000-000000000000"});
    let (status, assigned) = admin.post(&format!("/servicePrincipals/{sp}/appRoleAssignedTo"), assignment);
    assert_eq!(status, 201, "{assigned}");
    assert_eq!(assigned["principalType"], json!("Group"));

    // 4. Start; 5a. the job runs its initial cycle and reports it.
    let (status, body) = admin.post(&format!("{jobs}/start"), json!({}));
    assert_eq!(status, 204, "{body}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let job = loop {
        let (_, job) = admin.get(&jobs);
        if job["status"]["lastSuccessfulExecution"].is_object() {
            break job;
        }
        assert!(Instant::now() < deadline, "no cycle within 60 s: {job}");
        // A Graph client waits for a cycle by polling the job's status; the deadline above bounds it.
        #[allow(clippy::disallowed_methods)]
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(job["status"]["code"], json!("Active"), "{job}");
    assert_eq!(job["schedule"]["state"], json!("Active"));
    let users_synced = job["status"]["synchronizedEntryCountByType"]
        .as_array()
        .and_then(|counts| counts.iter().find(|count| count["key"] == "User"))
        .and_then(|count| count["value"].as_u64());
    // Disabled members are not created (the generated directory has some).
    let users_synced = users_synced.expect("a user count");
    assert!(users_synced > 0 && users_synced <= member_count as u64, "{job}");

    // 5b. The provisioning logs of the job.
    let (status, logs) = admin.get(&format!("/auditLogs/provisioning?$filter=jobId%20eq%20'{job_id}'&$top=5"));
    assert_eq!(status, 200, "{logs}");
    let entries = logs["value"].as_array().expect("entries");
    assert_eq!(entries.len(), 5, "{logs}");
    assert!(logs["@odata.nextLink"].is_string(), "{logs}");
    let first = &entries[0];
    assert_eq!(first["jobId"], json!(job_id));
    assert!(first["cycleId"].is_string() && first["changeId"].is_string(), "{first}");
    assert_eq!(first["initiatedBy"]["initiatorType"], json!("system"));
    assert_eq!(first["servicePrincipal"]["id"], json!(sp));
    let (_, creates) = admin.get(&format!("/auditLogs/provisioning?$filter=jobId%20eq%20'{job_id}'%20and%20provisioningAction%20eq%20'create'%20and%20sourceIdentity/identityType%20eq%20'User'&$top=999"));
    // sourceIdentity/identityType is not filterable: Graph's rule, and roster's.
    assert_eq!(creates["error"]["code"], json!("Request_UnsupportedQuery"), "{creates}");
    let (_, creates) = admin.get(&format!(
        "/auditLogs/provisioning?$filter=jobId%20eq%20'{job_id}'%20and%20provisioningAction%20eq%20'create'&$top=999"
    ));
    assert!(creates["value"].as_array().map_or(0, Vec::len) as u64 >= users_synced, "{creates}");

    // The target has the group's members.
    let users: Value = client
        .get(format!("{}/Users", target.base))
        .bearer_auth(&target.token)
        .send()
        .and_then(Response::json)
        .expect("the target answers");
    assert_eq!(users["totalResults"].as_u64(), Some(users_synced));

    // Roles: a reports reader reads but changes nothing; an application administrator reads no audit log; no
    // token, no access.
    let reader = api(&reader_token);
    assert_eq!(reader.get(&jobs).0, 200);
    let (status, denied) = reader.post(&format!("{jobs}/pause"), json!({}));
    assert_eq!((status, denied["error"]["code"].clone()), (403, json!("Authorization_RequestDenied")));
    assert_eq!(admin.get("/auditLogs/directoryAudits").0, 403);
    let anonymous = api("");
    assert_eq!(anonymous.get("/users").0, 401);
    assert_eq!(api("roster_at_0000").get("/users").0, 401);

    // The audit log names every change, by the token that made it, and no secret.
    let global = api(&global_token);
    let (status, audits) = global.get("/auditLogs/directoryAudits?$top=999");
    assert_eq!(status, 200, "{audits}");
    let activities: Vec<&str> = audits["value"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|entry| entry["activityDisplayName"].as_str())
        .collect();
    for expected in [
        "Add application",
        "Add service principal",
        "Add provisioning configuration",
        "Update provisioning setting or credentials",
        "Add app role assignment to group",
        "Enable/start provisioning configuration",
        "Add user",
        "Add service principal credentials",
    ] {
        assert!(activities.contains(&expected), "no {expected:?} in {activities:?}");
    }
    let credentials_entry = audits["value"].as_array().and_then(|entries| {
        entries.iter().find(|entry| entry["activityDisplayName"] == "Update provisioning setting or credentials")
    });
    let credentials_entry = credentials_entry.expect("the credentials entry");
    assert_eq!(credentials_entry["initiatedBy"]["app"]["displayName"], json!("token pipeline"));
    let properties = credentials_entry["targetResources"][0]["modifiedProperties"].to_string();
    assert!(properties.contains("SecretToken") && properties.contains("[redacted]"), "{properties}");
    let audit_cli = run_ok(data.path(), &["audit", "--format", "json"]);
    for text in
        [admin.seen.borrow().as_str(), global.seen.borrow().as_str(), reader.seen.borrow().as_str(), audit_cli.as_str()]
    {
        assert!(!text.contains(&target.token), "a secret token was shown");
        assert!(!text.contains(&admin_token) && !text.contains(&global_token), "an admin token was shown");
    }
    drop(server);
}

#[test]
fn users_and_groups_have_graphs_shapes_and_rules() {
    let data = data_dir(Backend::Sqlite);
    let global_token = token(data.path(), "root", "global-administrator");
    let server = Server::start(data.path(), &[]);
    let client = Client::new();
    let api = Api {
        client: &client,
        base: format!("{}/api/v1.0", server.origin),
        token: global_token,
        seen: std::cell::RefCell::default(),
    };

    let (status, ada) = api.post(
        "/users",
        json!({
            "accountEnabled": true, "displayName": "Ada Lovelace", "mailNickname": "ada",
            "userPrincipalName": "ada@contoso.example", "passwordProfile": {"password": "analytical engine 1843"}
        }),
    );
    assert_eq!(status, 201, "{ada}");
    assert!(ada.get("passwordProfile").is_none(), "{ada}");
    let id = ada["id"].as_str().expect("an id").to_owned();
    let (status, again) =
        api.post("/users", json!({"displayName": "Ada 2", "userPrincipalName": "ADA@contoso.example"}));
    assert_eq!(status, 400, "{again}");
    assert!(again["error"]["message"].as_str().is_some_and(|message| message.contains("userPrincipalName")), "{again}");
    assert_eq!(api.post("/users", json!({"displayName": "No UPN"})).0, 400);
    let (status, bad) = api.send(reqwest::Method::POST, "/users", Some(json!("not an object")));
    assert_eq!(status, 400, "{bad}");

    for name in ["Grace Hopper", "Alan Turing", "Barbara Liskov"] {
        let upn = format!("{}@contoso.example", name.split(' ').next().unwrap_or_default().to_lowercase());
        assert_eq!(api.post("/users", json!({"displayName": name, "userPrincipalName": upn})).0, 201);
    }
    let (_, page) = api.get("/users?$top=2&$count=true");
    assert_eq!(page["@odata.count"], json!(4), "{page}");
    assert_eq!(page["value"].as_array().map(Vec::len), Some(2));
    assert!(page["value"][0].get("department").is_none() && page["value"][0].get("surname").is_some(), "{page}");
    let next = page["@odata.nextLink"].as_str().expect("a next link").to_owned();
    let (_, second) = api.get(&next);
    assert_eq!(second["value"].as_array().map(Vec::len), Some(2), "{second}");
    assert!(second.get("@odata.nextLink").is_none() && second.get("@odata.count").is_none(), "{second}");
    let (_, found) = api.get("/users?$filter=startswith(displayName,'a')%20or%20userPrincipalName%20eq%20'grace@contoso.example'&$select=displayName");
    let mut names: Vec<&str> =
        found["value"].as_array().expect("users").iter().filter_map(|user| user["displayName"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Ada Lovelace", "Alan Turing", "Grace Hopper"]);
    let (status, unsupported) = api.get("/users?$filter=aboutMe%20eq%20'x'");
    assert_eq!((status, unsupported["error"]["code"].clone()), (400, json!("Request_UnsupportedQuery")));
    assert_eq!(api.get("/users?$top=1000").0, 400);

    // $orderby, paged: every user once, in the order asked, whatever the page size.
    let sorted = |query: &str| -> Vec<String> {
        let mut names = Vec::new();
        let mut next = Some(format!("/users?{query}&$top=1&$select=displayName"));
        while let Some(url) = next {
            let (status, page) = api.get(&url);
            assert_eq!(status, 200, "{url}: {page}");
            let value = page["value"].as_array().expect("users");
            names.extend(value.iter().filter_map(|user| user["displayName"].as_str().map(str::to_owned)));
            next = page["@odata.nextLink"].as_str().map(str::to_owned);
        }
        names
    };
    let ascending = ["Ada Lovelace", "Alan Turing", "Barbara Liskov", "Grace Hopper"];
    assert_eq!(sorted("$orderby=displayName"), ascending);
    let descending: Vec<&str> = ascending.iter().rev().copied().collect();
    assert_eq!(sorted("$orderby=displayName%20desc"), descending);
    assert_eq!(sorted("$orderby=displayName&$filter=startswith(displayName,'a')"), ["Ada Lovelace", "Alan Turing"]);
    let (status, refused) = api.get("/users?$orderby=businessPhones");
    assert_eq!((status, refused["error"]["code"].clone()), (400, json!("Request_UnsupportedQuery")), "{refused}");
    assert_eq!(api.get("/auditLogs/directoryAudits?$orderby=activityDateTime%20desc&$top=1").0, 200);
    assert_eq!(api.get("/auditLogs/directoryAudits?$orderby=activityDateTime").0, 400);

    let (status, _) = api.send(reqwest::Method::PATCH, &format!("/users/{id}"), Some(json!({"jobTitle": "Analyst"})));
    assert_eq!(status, 204);
    assert_eq!(api.get(&format!("/users/{id}")).1["jobTitle"], json!("Analyst"));
    assert_eq!(api.get("/users/ada@contoso.example").1["id"], json!(id));

    let (status, group) = api.post(
        "/groups",
        json!({
            "displayName": "Engineers", "mailNickname": "engineers", "securityEnabled": true, "mailEnabled": false,
            "members@odata.bind": [format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")]
        }),
    );
    assert_eq!(status, 201, "{group}");
    let group_id = group["id"].as_str().expect("an id").to_owned();
    let reference = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")});
    let (status, duplicate) = api.post(&format!("/groups/{group_id}/members/$ref"), reference);
    assert_eq!(status, 400, "{duplicate}");
    let (_, members) = api.get(&format!("/groups/{group_id}/members"));
    assert_eq!(members["value"][0]["@odata.type"], json!("#microsoft.graph.user"));
    let missing =
        json!({"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/00000000-0000-4000-8000-000000000099"});
    assert_eq!(api.post(&format!("/groups/{group_id}/members/$ref"), missing).0, 404);
    assert_eq!(api.send(reqwest::Method::DELETE, &format!("/groups/{group_id}/members/{id}/$ref"), None).0, 204);
    assert_eq!(api.send(reqwest::Method::DELETE, &format!("/groups/{group_id}/members/{id}/$ref"), None).0, 404);

    assert_eq!(api.send(reqwest::Method::DELETE, &format!("/users/{id}"), None).0, 204);
    let (status, gone) = api.get(&format!("/users/{id}"));
    assert_eq!((status, gone["error"]["code"].clone()), (404, json!("Request_ResourceNotFound")));
    assert_eq!(api.get("/nothing/here").0, 404);

    let (_, audits) = api.get("/auditLogs/directoryAudits?$filter=activityDisplayName%20eq%20'Update%20user'");
    let update = &audits["value"][0];
    assert_eq!(update["targetResources"][0]["modifiedProperties"][0]["displayName"], json!("jobTitle"), "{audits}");
    assert_eq!(update["targetResources"][0]["modifiedProperties"][0]["newValue"], json!("\"Analyst\""));
    drop(server);
}

#[test]
fn the_first_admin_is_made_on_the_command_line_and_every_change_is_audited() {
    let data = data_dir(Backend::Sqlite);
    let mut child = crate::support::roster(data.path())
        .args(["admin", "create", "--upn", "root@contoso.example", "--display-name", "Root", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("roster runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"a long enough secret\n").expect("write the password");
    }
    let output = child.wait_with_output().expect("roster ends");
    assert!(output.status.success());
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("created Global Administrator root@contoso.example"), "{said}");
    let short = crate::support::roster(data.path())
        .args(["admin", "create", "--upn", "two@contoso.example", "--password-stdin"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("roster runs");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("no password on standard input"));

    let created = run_ok(
        data.path(),
        &["admin", "token", "create", "--name", "ci", "--role", "reports-reader", "--expires", "90d"],
    );
    let listed = run_ok(data.path(), &["admin", "token", "list"]);
    assert!(listed.contains("ci\treports-reader"), "{listed}");
    assert!(!listed.contains(created.trim()), "a token list shows no secret");
    run_ok(data.path(), &["admin", "token", "revoke", "ci"]);
    let refused = crate::support::run(data.path(), &["admin", "token", "create", "--name", "x", "--role", "root"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("global-administrator"), "the error lists the roles");

    let audit = run_ok(data.path(), &["audit", "--since", "1h", "--format", "json"]);
    let entries: Vec<Value> = serde_json::from_str(&audit).expect("JSON");
    let activities: Vec<&str> = entries.iter().filter_map(|entry| entry["activityDisplayName"].as_str()).collect();
    for expected in [
        "Add user",
        "Reset password",
        "Add member to role",
        "Add service principal credentials",
        "Remove service principal credentials",
    ] {
        assert!(activities.contains(&expected), "no {expected:?} in {activities:?}");
    }
    assert!(!audit.contains("a long enough secret") && !audit.contains("argon2"), "no password in the audit log");
    let table = run_ok(data.path(), &["audit"]);
    assert!(table.lines().next().is_some_and(|header| header.starts_with("time\tactivity")), "{table}");
}

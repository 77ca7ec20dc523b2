//! The provisioning engine end to end: the real `roster` binary syncs a directory into the real service provider
//! (`roster serve` in another data directory, as a separate company would run it) over loopback, and every
//! expectation is checked by reading the target over SCIM.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::{Backend, Server, TargetEnterprise, data_dir, on_each_backend, run, run_ok};

pub(crate) const U1: &str = "00000000-0000-4000-8000-000000000001";
pub(crate) const U2: &str = "00000000-0000-4000-8000-000000000002";
pub(crate) const U3: &str = "00000000-0000-4000-8000-000000000003";
pub(crate) const U4: &str = "00000000-0000-4000-8000-000000000004";
pub(crate) const U5: &str = "00000000-0000-4000-8000-000000000005";
pub(crate) const U6: &str = "00000000-0000-4000-8000-000000000006";
pub(crate) const ENGINEERING: &str = "00000000-0000-4000-8000-0000000000a1";
pub(crate) const SALES: &str = "00000000-0000-4000-8000-0000000000a2";

pub(crate) fn user(id: &str, login: &str, given: &str, surname: &str, department: &str) -> Value {
    json!({
        "id": id, "userPrincipalName": format!("{login}@contoso.example"), "mail": format!("{login}@contoso.example"),
        "displayName": format!("{given} {surname}"), "givenName": given, "surname": surname, "department": department,
    })
}

pub(crate) fn directory() -> Value {
    json!({
        "users": [
            user(U1, "ada", "Ada", "Lovelace", "Engineering"),
            user(U2, "alan", "Alan", "Turing", "Engineering"),
            user(U3, "grace", "Grace", "Hopper", "Engineering"),
            user(U4, "linus", "Linus", "Pauling", "Sales"),
            user(U5, "marie", "Marie", "Curie", "Sales"),
            user(U6, "niels", "Niels", "Bohr", "Research"),
        ],
        "groups": [
            {"id": ENGINEERING, "displayName": "Engineering", "securityEnabled": true, "members": [U1, U2, U3]},
            {"id": SALES, "displayName": "Sales", "securityEnabled": true, "members": [U4, U5]},
        ],
    })
}

pub(crate) fn import(data: &Path, directory: &Value) {
    let file = data.join("directory.json");
    std::fs::write(&file, serde_json::to_vec(directory).unwrap()).unwrap();
    run_ok(data, &["directory", "import", file.to_str().unwrap()]);
}

/// A SCIM reader of the target.
pub(crate) struct Target {
    pub(crate) base: String,
    pub(crate) token: String,
    pub(crate) http: reqwest::blocking::Client,
}

impl Target {
    pub(crate) fn get(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    pub(crate) fn users(&self) -> Vec<Value> {
        let (status, body) = self.get("/Users?count=1000");
        assert_eq!(status, 200, "{body}");
        body["Resources"].as_array().cloned().unwrap_or_default()
    }

    pub(crate) fn user_by_external_id(&self, id: &str) -> Option<Value> {
        self.users().into_iter().find(|user| user["externalId"] == id)
    }

    pub(crate) fn group(&self, name: &str) -> Option<Value> {
        let (status, body) = self.get("/Groups?count=1000");
        assert_eq!(status, 200, "{body}");
        body["Resources"].as_array().unwrap().iter().find(|group| group["displayName"] == name).cloned()
    }

    pub(crate) fn member_ids(&self, group: &Value) -> Vec<String> {
        let users = self.users();
        let mut ids: Vec<String> = group["members"]
            .as_array()
            .map(|members| {
                members
                    .iter()
                    .filter_map(|member| {
                        let target = member["value"].as_str()?;
                        users.iter().find(|user| user["id"] == target).and_then(|user| user["externalId"].as_str())
                    })
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }
}

/// The last cycle's counters, from `roster status --json`.
pub(crate) fn last_counts(data: &Path, app: &str) -> Value {
    let status: Value = serde_json::from_str(&run_ok(data, &["status", app, "--json"])).unwrap();
    status["job"]["last_cycle"]["counts"].clone()
}

pub(crate) fn sync(data: &Path, app: &str) -> Value {
    run_ok(data, &["sync", app, "--once"]);
    last_counts(data, app)
}

pub(crate) struct Setup {
    pub(crate) _enterprise: TargetEnterprise,
    pub(crate) source: tempfile::TempDir,
    pub(crate) target: Target,
}

/// A target enterprise served by `roster serve`, and a source directory with a github-emu application pointed at
/// it, with the Engineering group and Linus assigned; both on the backend.
pub(crate) fn setup_on(backend: Backend) -> Setup {
    let enterprise = TargetEnterprise::start_on(backend, "octo-corp", "octo", "github-emu");
    let (base, token) = (enterprise.base.clone(), enterprise.token.clone());

    let source = data_dir(backend);
    import(source.path(), &directory());
    run_ok(
        source.path(),
        &["app", "create", "github", "--template", "github-emu", "--tenant-url", &base, "--secret-token", &token],
    );
    run_ok(source.path(), &["app", "assign", "github", "--group", ENGINEERING]);
    run_ok(source.path(), &["app", "assign", "github", "--user", U4, "--role", "enterprise_owner"]);
    let target = Target { base, token, http: reqwest::blocking::Client::new() };
    Setup { _enterprise: enterprise, source, target }
}

fn cycles_keep_the_target_in_step(backend: Backend) {
    let setup = setup_on(backend);
    let (data, target) = (setup.source.path(), &setup.target);
    assert!(run_ok(data, &["app", "test-connection", "github"]).starts_with("success"));

    // Initial cycle: exactly the in-scope users (Engineering's members and Linus), the group and its members.
    let counts = sync(data, "github");
    assert_eq!((counts["created"].as_u64(), counts["failed"].as_u64()), (Some(5), Some(0)), "{counts}");
    let users = target.users();
    let mut external: Vec<&str> = users.iter().filter_map(|user| user["externalId"].as_str()).collect();
    external.sort_unstable();
    assert_eq!(external, vec![U1, U2, U3, U4]);
    let ada = target.user_by_external_id(U1).unwrap();
    assert_eq!(ada["userName"], "ada@contoso.example");
    assert_eq!(ada["displayName"], "Ada Lovelace");
    assert_eq!(ada["name"], json!({"givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace"}));
    assert_eq!(ada["emails"][0]["value"], "ada@contoso.example");
    assert_eq!(ada["active"], true);
    let linus = target.user_by_external_id(U4).unwrap();
    assert_eq!(linus["roles"][0]["value"], "enterprise_owner", "{linus}");
    let engineering = target.group("Engineering").unwrap();
    assert_eq!(engineering["externalId"], ENGINEERING);
    assert_eq!(target.member_ids(&engineering), vec![U1, U2, U3]);
    assert!(target.group("Sales").is_none());

    // Nothing changed: no request at all.
    let counts = sync(data, "github");
    assert_eq!(counts["requests"], 0, "{counts}");

    // Two attribute changes: exactly two PATCHes.
    let mut changed = directory();
    changed["users"][0]["displayName"] = json!("Ada King");
    changed["users"][1]["surname"] = json!("Mathison");
    import(data, &changed);
    let counts = sync(data, "github");
    assert_eq!((counts["updated"].as_u64(), counts["writes"].as_u64()), (Some(2), Some(2)), "{counts}");
    assert_eq!(target.user_by_external_id(U1).unwrap()["displayName"], "Ada King");
    assert_eq!(target.user_by_external_id(U2).unwrap()["name"]["familyName"], "Mathison");

    // Unassign gives a disable.
    run_ok(data, &["app", "unassign", "github", "--user", U4]);
    let counts = sync(data, "github");
    assert_eq!(counts["disabled"], 1, "{counts}");
    assert_eq!(target.user_by_external_id(U4).unwrap()["active"], false);

    // Soft delete gives a disable (and the user leaves the group); restore an enable (and it comes back).
    run_ok(data, &["directory", "user", "delete", U3]);
    let counts = sync(data, "github");
    assert_eq!((counts["disabled"].as_u64(), counts["members_removed"].as_u64()), (Some(1), Some(1)), "{counts}");
    assert_eq!(target.user_by_external_id(U3).unwrap()["active"], false);
    assert_eq!(target.member_ids(&target.group("Engineering").unwrap()), vec![U1, U2]);
    run_ok(data, &["directory", "user", "restore", U3]);
    let counts = sync(data, "github");
    assert_eq!((counts["updated"].as_u64(), counts["members_added"].as_u64()), (Some(1), Some(1)), "{counts}");
    assert_eq!(target.user_by_external_id(U3).unwrap()["active"], true);
    assert_eq!(target.member_ids(&target.group("Engineering").unwrap()), vec![U1, U2, U3]);

    // Hard delete gives a DELETE.
    let alan_id = target.user_by_external_id(U2).unwrap()["id"].as_str().unwrap().to_owned();
    run_ok(data, &["directory", "user", "delete", U2, "--hard"]);
    let counts = sync(data, "github");
    assert_eq!(counts["deleted"], 1, "{counts}");
    assert_eq!(target.get(&format!("/Users/{alan_id}")).0, 404);
    assert_eq!(target.member_ids(&target.group("Engineering").unwrap()), vec![U1, U3]);

    // A group rename, a member added (Niels, who thereby comes into scope) and one removed (Ada).
    let mut renamed = changed.clone();
    renamed["users"].as_array_mut().unwrap().remove(1);
    renamed["groups"][0]["displayName"] = json!("Engineering & Research");
    renamed["groups"][0]["members"] = json!([U3, U6]);
    import(data, &renamed);
    let counts = sync(data, "github");
    assert_eq!(counts["failed"], 0, "{counts}");
    let group = target.group("Engineering & Research").unwrap();
    assert_eq!(target.member_ids(&group), vec![U3, U6]);
    assert_eq!(target.user_by_external_id(U1).unwrap()["active"], false, "Ada left the only assigned group");
    assert_eq!(target.user_by_external_id(U6).unwrap()["active"], true);

    // The logs tell the story, with failures (none) and actions filterable.
    let logs: Value =
        serde_json::from_str(&run_ok(data, &["logs", "github", "--format", "json", "--limit", "500"])).unwrap();
    let actions: Vec<&str> = logs.as_array().unwrap().iter().filter_map(|entry| entry["action"].as_str()).collect();
    for action in ["Create", "Update", "Disable", "Delete"] {
        assert!(actions.contains(&action), "{action} missing from {actions:?}");
    }
    let failures = run_ok(data, &["logs", "github", "--status", "failure", "--format", "csv"]);
    assert_eq!(failures.lines().count(), 1, "only the header: {failures}");
    let disables = run_ok(data, &["logs", "github", "--action", "disable"]);
    assert!(disables.contains("linus@contoso.example"), "{disables}");
}

fn scoping_filters_leave_users_out_and_definitions_round_trip(backend: Backend) {
    let setup = setup_on(backend);
    let (data, target) = (setup.source.path(), &setup.target);
    // Export, add a scoping filter, apply: only Engineering's members who are not named Grace.
    let exported = run_ok(data, &["app", "export", "github"]);
    let filtered = format!(
        "{exported}\n[[users.scoping_filters]]\ntitle = \"not Grace\"\n\
         clauses = [{{ attribute = \"givenName\", operator = \"not_equals\", value = \"Grace\" }}]\n"
    );
    let file = data.join("github.toml");
    std::fs::write(&file, &filtered).unwrap();
    assert_eq!(run_ok(data, &["app", "apply", file.to_str().unwrap()]).trim(), "updated application github");
    let applied = run_ok(data, &["app", "export", "github"]);
    assert!(applied.contains("operator = \"NOT EQUALS\""), "{applied}");
    // The export applies back to itself.
    std::fs::write(&file, &applied).unwrap();
    run_ok(data, &["app", "apply", file.to_str().unwrap()]);
    assert_eq!(run_ok(data, &["app", "export", "github"]), applied);

    let counts = sync(data, "github");
    // Created: Ada, Alan, Linus and the group; skipped: Grace (filtered), Marie, Niels and Sales (not assigned).
    assert_eq!((counts["created"].as_u64(), counts["skipped"].as_u64()), (Some(4), Some(4)), "{counts}");
    assert!(target.user_by_external_id(U3).is_none(), "Grace is left out by the scoping filter");
    let skipped = run_ok(data, &["logs", "github", "--status", "skipped"]);
    assert!(skipped.contains("grace@contoso.example") && skipped.contains("NotEffectivelyEntitled"), "{skipped}");

    // Bad definitions are refused with the reason, and change nothing.
    let broken = applied.replace("NOT EQUALS", "RESEMBLES");
    std::fs::write(&file, broken).unwrap();
    let output = run(data, &["app", "apply", file.to_str().unwrap()]);
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("unknown scoping operator \"RESEMBLES\""), "{error}");
    assert_eq!(run_ok(data, &["app", "export", "github"]), applied);
}

#[test]
fn test_connection_explains_failures() {
    let data = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{closed}/scim/v2/enterprises/x");
    run_ok(
        data.path(),
        &["app", "create", "nowhere", "--template", "scim", "--tenant-url", &url, "--secret-token", "t0ken-value"],
    );
    let output = run(data.path(), &["app", "test-connection", "nowhere"]);
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("unreachable"), "{error}");
    assert!(!error.contains("t0ken-value"));

    let target_data = tempfile::tempdir().unwrap();
    run_ok(target_data.path(), &["enterprise", "create", "octo-corp", "--shortcode", "octo"]);
    let server = Server::start(target_data.path(), &[]);
    let url = format!("{}/scim/v2/enterprises/octo-corp", server.origin);
    run_ok(
        data.path(),
        &["app", "create", "wrong-token", "--template", "github-emu", "--tenant-url", &url, "--secret-token", "nope"],
    );
    let output = run(data.path(), &["app", "test-connection", "wrong-token"]);
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("token"), "{error}");
    // The secret is stored sealed: the database file does not contain it.
    let database = std::fs::read(data.path().join("roster.db")).unwrap();
    assert!(!database.windows(11).any(|window| window == b"t0ken-value"));
}

/// `roster serve --demo`: the demo directory, enterprise, token and application are seeded, and the scheduler
/// provisions the assigned users and groups into the server's own service provider at once.
fn serve_demo_provisions_end_to_end(backend: Backend) {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let data = data_dir(backend);
    let mut child = crate::support::roster(data.path())
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("ROSTER_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let _child = Kill(child);
    let mut out_lines = BufReader::new(stdout).lines();
    let tenant_url = loop {
        let line = out_lines.next().expect("the demo printed its enterprise").unwrap();
        if let Some(rest) = line.strip_prefix("demo enterprise octo-corp (shortcode octo): ") {
            break rest.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in out_lines {});
    // The scheduler logs the end of each cycle: wait for the first one.
    let mut err_lines = BufReader::new(stderr).lines();
    let ended = loop {
        let line = err_lines.next().expect("the initial cycle ended").unwrap();
        if line.contains("provisioning cycle") {
            break line;
        }
    };
    std::thread::spawn(move || for _ in err_lines {});
    assert!(ended.contains("provisioning cycle ended") && ended.contains("Succeeded"), "{ended}");

    let status: Value = serde_json::from_str(&run_ok(data.path(), &["status", "github", "--json"])).unwrap();
    let counts = &status["job"]["last_cycle"]["counts"];
    assert_eq!(status["job"]["status"], "Active");
    assert_eq!(counts["failed"], 0, "{status}");
    let created = counts["created"].as_u64().unwrap();
    assert!(created > 10, "{status}");

    let token = std::fs::read_to_string(data.path().join("demo-token")).unwrap();
    let target = Target { base: tenant_url, token: token.trim().to_owned(), http: reqwest::blocking::Client::new() };
    let (_, groups) = target.get("/Groups?count=100");
    let groups = groups["totalResults"].as_u64().unwrap();
    assert_eq!(groups, 4, "the four assigned groups");
    let users = target.users();
    assert_eq!(users.len() as u64 + groups, created);
    assert!(users.iter().all(|user| user["active"] == true));
    assert!(users.iter().any(|user| user["roles"][0]["value"] == "enterprise_owner"));
}

/// The Entra legacy dialect (capitalised ops, `"False"` strings, member removal by value array), as an app can ask
/// for it; roster's service provider takes it, so the target ends up the same as with the RFC dialect. Turning
/// provisioning off shows as Paused.
fn the_entra_legacy_dialect_and_pausing(backend: Backend) {
    let setup = setup_on(backend);
    let (data, target) = (setup.source.path(), &setup.target);
    let exported = run_ok(data, &["app", "export", "github"]);
    let legacy = exported.replace("dialect = \"rfc\"", "dialect = \"entra-legacy\"");
    assert_ne!(legacy, exported);
    let file = data.join("legacy.toml");
    std::fs::write(&file, &legacy).unwrap();
    run_ok(data, &["app", "apply", file.to_str().unwrap()]);
    sync(data, "github");
    run_ok(data, &["directory", "user", "disable", U1]);
    run_ok(data, &["directory", "group", "remove-member", ENGINEERING, U2]);
    let counts = sync(data, "github");
    assert_eq!((counts["disabled"].as_u64(), counts["members_removed"].as_u64()), (Some(2), Some(2)), "{counts}");
    assert_eq!(target.user_by_external_id(U1).unwrap()["active"], false);
    assert_eq!(target.member_ids(&target.group("Engineering").unwrap()), vec![U3]);

    run_ok(data, &["app", "disable", "github"]);
    let status = run_ok(data, &["status", "github"]);
    assert!(status.contains("Paused") && status.contains("provisioning:  off"), "{status}");
}

/// The accidental-deletion guard: when a cycle's disables and deletes exceed the threshold, none is sent; they are
/// logged as StagedDelete, the job is quarantined (TooManyDeletes) and stays so cycle after cycle, until an admin
/// allows the deletes; then the next cycle sends exactly them.
fn too_many_deletes_are_staged_until_allowed(backend: Backend) {
    let setup = setup_on(backend);
    let (data, target) = (setup.source.path(), &setup.target);
    let exported = run_ok(data, &["app", "export", "github"]);
    assert!(exported.contains("deletion_threshold = 500"), "{exported}");
    let guarded = exported.replace("deletion_threshold = 500", "deletion_threshold = 2");
    let file = data.join("guarded.toml");
    std::fs::write(&file, &guarded).unwrap();
    run_ok(data, &["app", "apply", file.to_str().unwrap()]);
    sync(data, "github");
    assert_eq!(target.users().len(), 4);

    // Unassigning Engineering would disable Ada, Alan and Grace and delete the group: 4 > 2.
    run_ok(data, &["app", "unassign", "github", "--group", ENGINEERING]);
    for _ in 0..2 {
        let output = run(data, &["sync", "github"]);
        assert!(!output.status.success(), "a cycle that stages deletes does not exit 0");
        let counts = last_counts(data, "github");
        assert_eq!((counts["staged"].as_u64(), counts["writes"].as_u64()), (Some(4), Some(0)), "{counts}");
        assert!(target.users().iter().all(|user| user["active"] == true), "nothing was disabled");
        assert!(target.group("Engineering").is_some(), "nothing was deleted");
        let status = run_ok(data, &["status", "github"]);
        assert!(status.contains("Quarantine") && status.contains("TooManyDeletes"), "{status}");
        assert!(status.contains("staged:        3 users, 1 groups"), "{status}");
    }
    let staged = run_ok(data, &["logs", "github", "--action", "StagedDelete", "--format", "json"]);
    let staged: Value = serde_json::from_str(&staged).unwrap();
    assert_eq!(staged.as_array().unwrap().len(), 8, "4 objects in each of 2 cycles");

    assert_eq!(target.member_ids(&target.group("Engineering").unwrap()), vec![U1, U2, U3]);

    assert!(run_ok(data, &["app", "allow-deletes", "github"]).contains("3 staged user and 1 staged group"));
    let counts = sync(data, "github");
    assert_eq!((counts["disabled"].as_u64(), counts["deleted"].as_u64()), (Some(3), Some(1)), "{counts}");
    assert_eq!(counts["staged"], 0);
    assert!(target.group("Engineering").is_none());
    let active: Vec<Value> = target.users().into_iter().filter(|user| user["active"] == true).collect();
    assert_eq!(active.len(), 1, "only Linus, assigned directly, stays active");
    let status = run_ok(data, &["status", "github"]);
    assert!(status.contains("status:        Active") && !status.contains("Quarantine"), "{status}");
    let output = run(data, &["app", "allow-deletes", "github"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("no staged disables or deletes"));
}

/// Staged users stay members of the groups that remain: the guard holds back their membership removals too.
fn staged_disables_keep_group_memberships(backend: Backend) {
    let setup = setup_on(backend);
    let (data, target) = (setup.source.path(), &setup.target);
    let guarded =
        run_ok(data, &["app", "export", "github"]).replace("deletion_threshold = 500", "deletion_threshold = 2");
    let file = data.join("guarded.toml");
    std::fs::write(&file, guarded).unwrap();
    run_ok(data, &["app", "apply", file.to_str().unwrap()]);
    sync(data, "github");
    for user in [U1, U2, U3] {
        run_ok(data, &["directory", "user", "delete", user]);
    }
    let output = run(data, &["sync", "github"]);
    assert!(!output.status.success());
    let counts = last_counts(data, "github");
    assert_eq!((counts["staged"].as_u64(), counts["writes"].as_u64()), (Some(3), Some(0)), "{counts}");
    assert_eq!(target.member_ids(&target.group("Engineering").unwrap()), vec![U1, U2, U3]);

    run_ok(data, &["app", "allow-deletes", "github"]);
    let counts = sync(data, "github");
    assert_eq!((counts["disabled"].as_u64(), counts["members_removed"].as_u64()), (Some(3), Some(3)), "{counts}");
    assert_eq!(target.member_ids(&target.group("Engineering").unwrap()), Vec::<String>::new());
}

/// A target that refuses the token fails the cycle as a whole: no object is touched, the job goes into quarantine
/// with the reason and what to do, and the watermark stays. A new token and a restart recover it.
fn a_refused_token_quarantines_and_a_new_token_with_restart_recovers(backend: Backend) {
    let setup = setup_on(backend);
    let (data, target) = (setup.source.path(), &setup.target);
    run_ok(data, &["app", "set-token", "github", "--secret-token", "roster_pat_not-a-valid-token"]);
    let output = run(data, &["sync", "github"]);
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("401") || error.contains("Unauthorized"), "{error}");
    let status = run_ok(data, &["status", "github"]);
    assert!(status.contains("Quarantine") && status.contains("EncounteredQuarantineException"), "{status}");
    assert!(status.contains("secret token"), "{status}");
    assert!(!status.contains("roster_pat_not-a-valid-token"));
    assert!(target.users().is_empty());
    // The quarantine continues while the cause does.
    assert!(!run(data, &["sync", "github"]).status.success());
    let json: Value = serde_json::from_str(&run_ok(data, &["status", "github", "--json"])).unwrap();
    assert_eq!(json["job"]["quarantine"]["cycles"], 2, "{json}");
    assert!(json["job"]["watermark"].is_null(), "no cycle succeeded, so no watermark");

    run_ok(data, &["app", "set-token", "github", "--secret-token", &target.token]);
    run_ok(data, &["app", "restart", "github"]);
    let counts = sync(data, "github");
    assert_eq!((counts["created"].as_u64(), counts["failed"].as_u64()), (Some(5), Some(0)), "{counts}");
    let status = run_ok(data, &["status", "github"]);
    assert!(status.contains("status:        Active") && !status.contains("quarantine:"), "{status}");
    let output = run(data, &["app", "restart", "github", "--reset", "everything"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown reset scope \"everything\""));
}

/// A failure that a retry cannot fix (GitHub refuses a login longer than 39 characters: 400) is kept in escrow
/// without being retried by every cycle; a change of the object brings it back, and then it succeeds.
fn unfixable_failures_wait_in_escrow_for_a_change(backend: Backend) {
    let setup = setup_on(backend);
    let (data, target) = (setup.source.path(), &setup.target);
    let mut long = directory();
    long["users"][3]["userPrincipalName"] = json!("linus.carl.pauling.the.chemist.of.many.bonds@contoso.example");
    import(data, &long);
    let output = run(data, &["sync", "github"]);
    assert!(!output.status.success(), "a cycle with a failed object does not exit 0");
    let status = run_ok(data, &["status", "github"]);
    assert!(status.contains(&format!("escrow:        User {U4} UnprocessableEntity")), "{status}");
    assert!(status.contains("waits for a change of the object"), "{status}");
    assert!(target.user_by_external_id(U4).is_none());

    // Nothing changed: the escrow is not retried.
    let counts = sync(data, "github");
    assert_eq!(counts["requests"], 0, "{counts}");

    // The object changes: it is evaluated again, and succeeds.
    import(data, &directory());
    let counts = sync(data, "github");
    assert_eq!((counts["created"].as_u64(), counts["failed"].as_u64()), (Some(1), Some(0)), "{counts}");
    assert!(target.user_by_external_id(U4).is_some());
    assert!(!run_ok(data, &["status", "github"]).contains("escrow:"));
}

/// Provision on demand: one user through the steps at once, with its report; an unassigned one is disabled.
fn provision_on_demand_takes_a_group_with_up_to_five_members(backend: Backend) {
    let setup = setup_on(backend);
    let (data, target) = (setup.source.path(), &setup.target);
    const EVERYONE: &str = "00000000-0000-4000-8000-0000000000a3";
    let mut everyone = directory();
    everyone["groups"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": EVERYONE, "displayName": "Everyone", "members": [U1, U2, U3, U4, U5, U6]}));
    import(data, &everyone);
    run_ok(data, &["app", "assign", "github", "--group", EVERYONE]);

    // A group of three: the group, its members, its memberships, and nothing else.
    let report = run_ok(data, &["provision-on-demand", "github", "--group", ENGINEERING]);
    for line in
        ["Group Engineering:", "Action: Create Success (Engineering", "Action: Create Success (ada@contoso.example"]
    {
        assert!(report.contains(line), "{line} missing from:\n{report}");
    }
    assert!(report.contains("members: (none) -> +3"), "{report}");
    let engineering = target.group("Engineering").unwrap();
    assert_eq!(target.member_ids(&engineering), vec![U1, U2, U3]);
    assert_eq!(target.users().len(), 3, "only the group's members");

    // A group of six: the members to provision are chosen, at most five, each a member.
    let output = run(data, &["provision-on-demand", "github", "--group", EVERYONE]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("has 6 members") && stderr.contains("--member"), "{stderr}");
    assert!(target.group("Everyone").is_none(), "a refused request sends nothing");
    let output = run(data, &["provision-on-demand", "github", "--group", ENGINEERING, "--member", U4]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a user member"), "{output:?}");
    run_ok(data, &["provision-on-demand", "github", "--group", EVERYONE, "--member", U5, "--member", U1]);
    let everyone = target.group("Everyone").unwrap();
    assert_eq!(target.member_ids(&everyone), vec![U1, U5], "just the chosen members");
    assert_eq!(target.users().len(), 4, "Marie joined; Alan, Grace, Linus and Niels were not touched again");
    assert!(target.user_by_external_id(U6).is_none());
    let logs: Value = serde_json::from_str(&run_ok(data, &["logs", "github", "--format", "json"])).unwrap();
    assert!(logs.as_array().unwrap().iter().all(|entry| entry["initiator"] == "User"), "{logs:#}");
}

fn provision_on_demand_reports_each_step(backend: Backend) {
    let setup = setup_on(backend);
    let (data, target) = (setup.source.path(), &setup.target);
    let report = run_ok(data, &["provision-on-demand", "github", "--user", U1]);
    for line in [
        "Test connection: Success",
        "Import: Success",
        "Scoping: Success",
        "Matching: Success",
        "Action: Create Success",
    ] {
        assert!(report.contains(line), "{line} missing from:\n{report}");
    }
    assert!(report.contains("userName: (none) -> ada@contoso.example"), "{report}");
    assert_eq!(target.users().len(), 1, "only the one user, nothing else");
    let logs: Value = serde_json::from_str(&run_ok(data, &["logs", "github", "--format", "json"])).unwrap();
    assert_eq!(logs[0]["initiator"], "User");

    // Again: every step is shown, and nothing is sent since the target already matches.
    let report = run_ok(data, &["provision-on-demand", "github", "--user", U1]);
    assert!(report.contains("Export: Skipped - No change: the target already matches"), "{report}");
    assert_eq!(target.users().len(), 1, "{report}");
    run_ok(data, &["app", "unassign", "github", "--group", ENGINEERING]);
    let report = run_ok(data, &["provision-on-demand", "github", "--user", U1]);
    assert!(report.contains("Action: Disable Success"), "{report}");
    assert_eq!(target.user_by_external_id(U1).unwrap()["active"], false);
    let output = run(data, &["provision-on-demand", "github", "--user", "00000000-0000-4000-8000-0000000000ff"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not exist in the directory"));
}

on_each_backend!(
    cycles_keep_the_target_in_step,
    scoping_filters_leave_users_out_and_definitions_round_trip,
    serve_demo_provisions_end_to_end,
    the_entra_legacy_dialect_and_pausing,
    too_many_deletes_are_staged_until_allowed,
    staged_disables_keep_group_memberships,
    a_refused_token_quarantines_and_a_new_token_with_restart_recovers,
    unfixable_failures_wait_in_escrow_for_a_change,
    provision_on_demand_takes_a_group_with_up_to_five_members,
    provision_on_demand_reports_each_step,
);

//! Dry runs end to end: `roster sync NAME --dry-run` plans without one write to the target or to the job's state,
//! `--apply-plan ID` applies exactly the plan, and refuses (sending nothing) when the directory or the target changed
//! in a way that invalidates it.

use std::path::Path;

use serde_json::{Value, json};

use crate::provisioning::{U1, U2, U5, directory, import, last_counts, setup_on};
use crate::support::{Backend, run, run_ok};

/// Runs a dry run and returns the stored plan (JSON) and its review text.
fn dry_run(data: &Path, app: &str) -> (Value, String) {
    let text = run_ok(data, &["sync", app, "--dry-run"]);
    let id = text
        .lines()
        .find_map(|line| line.strip_prefix("Plan "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the review names the plan")
        .to_owned();
    let plan: Value = serde_json::from_str(&run_ok(data, &["sync", app, "--show-plan", &id, "--format", "json"]))
        .expect("the plan as JSON");
    (plan, text)
}

fn operations(plan: &Value, action: &str, kind: &str) -> Vec<Value> {
    plan["operations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|operation| operation["action"] == action && operation["kind"] == kind)
        .cloned()
        .collect()
}

fn a_plan_is_reviewed_then_applied_exactly_and_refused_once_invalid(backend: Backend) {
    let setup = setup_on(backend);
    let (data, target) = (setup.source.path(), &setup.target);

    // The initial cycle as a plan: every write listed, nothing sent, the job untouched.
    let (plan, text) = dry_run(data, "github");
    assert_eq!(operations(&plan, "Create", "User").len(), 4, "{text}");
    assert_eq!(operations(&plan, "Create", "Group").len(), 1, "{text}");
    assert_eq!(operations(&plan, "Update", "Group").len(), 1, "the membership write: {text}");
    assert!(text.contains("+ create User ada@contoso.example"), "{text}");
    assert!(text.contains("    userName: \"ada@contoso.example\""), "{text}");
    assert!(text.contains("members + ada@contoso.example"), "{text}");
    assert_eq!(plan["counts"]["writes"], 0, "{plan}");
    assert!(target.users().is_empty(), "a dry run wrote to the target");
    assert!(target.group("Engineering").is_none());
    let status: Value = serde_json::from_str(&run_ok(data, &["status", "github", "--json"])).unwrap();
    assert_eq!(status["job"]["last_cycle"], Value::Null, "a dry run changed the job: {status}");
    assert!(status["objects"].as_array().unwrap().iter().all(|count| count["count"] == 0), "{status}");

    // Applying it does exactly that.
    let id = plan["id"].as_str().unwrap();
    run_ok(data, &["sync", "github", "--apply-plan", id]);
    let counts = last_counts(data, "github");
    assert_eq!((counts["created"].as_u64(), counts["members_added"].as_u64()), (Some(5), Some(3)), "{counts}");
    assert_eq!(target.users().len(), 4);
    let engineering = target.group("Engineering").unwrap();
    assert_eq!(target.member_ids(&engineering).len(), 3);
    let again = run(data, &["sync", "github", "--apply-plan", id]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("was applied"), "{again:?}");

    // An incremental plan, then the directory changes again before it is applied: refused, nothing sent.
    let mut changed = directory();
    changed["users"][0]["displayName"] = json!("Ada King");
    import(data, &changed);
    let (plan, text) = dry_run(data, "github");
    assert_eq!(plan["operations"].as_array().unwrap().len(), 1, "{text}");
    assert!(text.contains("displayName: \"Ada Lovelace\" -> \"Ada King\""), "{text}");
    changed["users"][1]["surname"] = json!("Mathison");
    import(data, &changed);
    let refused = run(data, &["sync", "github", "--apply-plan", plan["id"].as_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("no longer holds") && stderr.contains("needed now, not planned"), "{stderr}");
    assert!(stderr.contains(U2), "the difference names the object: {stderr}");
    assert_eq!(target.user_by_external_id(U1).unwrap()["displayName"], "Ada Lovelace", "a refused plan wrote");
    // A change that touches nothing in scope does not invalidate a plan.
    let (plan, _) = dry_run(data, "github");
    let mut unrelated = changed.clone();
    unrelated["users"][5]["department"] = json!("Physics"); // Niels is not assigned
    import(data, &unrelated);
    run_ok(data, &["sync", "github", "--apply-plan", plan["id"].as_str().unwrap()]);
    assert_eq!(target.user_by_external_id(U1).unwrap()["displayName"], "Ada King");
    assert_eq!(target.user_by_external_id(U2).unwrap()["name"]["familyName"], "Mathison");

    // The target changes: a plan to create Marie, then someone creates her in the target first. The plan would
    // now take her over instead of creating her: refused.
    run_ok(data, &["app", "assign", "github", "--user", U5]);
    let (plan, text) = dry_run(data, "github");
    assert_eq!(operations(&plan, "Create", "User").len(), 1, "{text}");
    let created = target
        .http
        .post(format!("{}/Users", target.base))
        .bearer_auth(&target.token)
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "marie@contoso.example", "externalId": U5, "active": true, "displayName": "Marie Curie",
            "name": {"givenName": "Marie", "familyName": "Curie"},
            "emails": [{"value": "marie@contoso.example", "type": "work", "primary": true}],
        }))
        .send()
        .unwrap();
    assert_eq!(created.status().as_u16(), 201, "{:?}", created.text());
    let refused = run(data, &["sync", "github", "--apply-plan", plan["id"].as_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("planned, no longer needed"), "{refused:?}");
    let maries = target.users().into_iter().filter(|user| user["externalId"] == U5).count();
    assert_eq!(maries, 1, "nothing was created twice");

    // A paused application (the scheduler runs nothing) is where a plan is best reviewed and applied by hand: the
    // apply runs to its end and the plan is marked applied.
    run_ok(data, &["app", "pause", "github"]);
    let (plan, text) = dry_run(data, "github");
    assert!(!plan["operations"].as_array().unwrap().is_empty(), "taking Marie over: {text}");
    let id = plan["id"].as_str().unwrap();
    run_ok(data, &["sync", "github", "--apply-plan", id]);
    assert_eq!(last_counts(data, "github")["failed"], 0);
    let again = run(data, &["sync", "github", "--apply-plan", id]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("was applied"), "{again:?}");
}

#[test]
fn a_plan_for_ten_thousand_users_is_made_without_a_write_and_applied_exactly() {
    let enterprise = crate::support::TargetEnterprise::start("octo-corp", "octo", "github-emu");
    let token = enterprise.token.clone();
    let target = crate::provisioning::Target {
        base: enterprise.base,
        token: token.clone(),
        http: reqwest::blocking::Client::new(),
    };
    let source = tempfile::tempdir().unwrap();
    let data = source.path();
    let file = data.join("people.jsonl");
    let file = file.to_str().unwrap();
    run_ok(
        data,
        &["directory", "generate", "--users", "10000", "--groups", "20", "--members-per-group", "40", "--out", file],
    );
    run_ok(data, &["directory", "import", file]);
    run_ok(
        data,
        &[
            "app",
            "create",
            "github",
            "--template",
            "github-emu",
            "--tenant-url",
            &target.base,
            "--secret-token",
            &token,
            "--scope",
            "all",
        ],
    );

    // Without GitHub's rate budget: this target is roster's own service provider.
    let definition = data.join("github.toml");
    let exported = run_ok(data, &["app", "export", "github"]);
    std::fs::write(&definition, exported.replace("rate_limit = \"github\"", "rate_limit = \"unlimited\"")).unwrap();
    run_ok(data, &["app", "apply", definition.to_str().unwrap()]);

    let (plan, text) = dry_run(data, "github");
    let user_creates = operations(&plan, "Create", "User").len();
    let group_creates = operations(&plan, "Create", "Group").len();
    let planned_members: usize = operations(&plan, "Update", "Group")
        .iter()
        .map(|operation| operation["members_added"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(user_creates > 9_000, "most generated users are enabled: {}", &text[..300.min(text.len())]);
    assert_eq!(group_creates, 20);
    assert!(planned_members > 0);
    assert_eq!(plan["counts"]["writes"], 0, "the client sent writes");
    let total = |path: &str| target.get(path).1["totalResults"].as_u64();
    assert_eq!((total("/Users?count=1"), total("/Groups?count=1")), (Some(0), Some(0)), "the target was written to");

    run_ok(data, &["sync", "github", "--apply-plan", plan["id"].as_str().unwrap()]);
    let counts = last_counts(data, "github");
    assert_eq!(counts["created"].as_u64(), Some((user_creates + group_creates) as u64), "{counts}");
    assert_eq!(counts["members_added"].as_u64(), Some(planned_members as u64), "{counts}");
    assert_eq!(counts["failed"], 0, "{counts}");
    // The apply's counters are its own, not those of computing the plan again: into an empty target, its only
    // reads are the two that find it empty.
    let reads = counts["requests"].as_u64().unwrap() - counts["writes"].as_u64().unwrap();
    assert_eq!(reads, 2, "{counts}");
    assert_eq!(total("/Users?count=1"), Some(user_creates as u64));
    assert_eq!(total("/Groups?count=1"), Some(20));
    // And the target is in step: the next cycle has nothing to send.
    let (after, _) = dry_run(data, "github");
    assert_eq!(after["operations"], json!([]), "{after}");
}

crate::support::on_each_backend!(a_plan_is_reviewed_then_applied_exactly_and_refused_once_invalid);

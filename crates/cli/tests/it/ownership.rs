//! Ownership end to end: roster never changes a target object it neither created nor matched to a source object,
//! and one target object is never managed for two source objects. Someone else's objects sit in the target next
//! to roster's, some with names that invite a wrong match, through creates, updates, member changes, disables,
//! deletes and a full re-match; `roster app unmanaged` reports them.

use serde_json::{Value, json};

use crate::provisioning::{Target, import, user};
use crate::support::{Backend, TargetEnterprise, run_ok};

const ADA: &str = "00000000-0000-4000-8000-000000000001";
const ALAN: &str = "00000000-0000-4000-8000-000000000002";
const GRACE: &str = "00000000-0000-4000-8000-000000000003";
const PLATFORM: &str = "00000000-0000-4000-8000-0000000000b1";
/// A second directory group with the same display name: the `scim` template matches groups on `displayName`.
const PLATFORM_TWIN: &str = "00000000-0000-4000-8000-0000000000b2";

impl Target {
    fn post(&self, endpoint: &str, body: &Value) -> Value {
        let response =
            self.http.post(format!("{}/{endpoint}", self.base)).bearer_auth(&self.token).json(body).send().unwrap();
        assert_eq!(response.status().as_u16(), 201, "creating someone else's object");
        response.json().unwrap()
    }

    fn patch(&self, path: &str, body: &Value) {
        let response =
            self.http.patch(format!("{}{path}", self.base)).bearer_auth(&self.token).json(body).send().unwrap();
        assert!(matches!(response.status().as_u16(), 200 | 204), "someone else's change: {response:?}");
    }

    /// An object as it is now, to compare with later (its `meta.version` changes with any write).
    fn read(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        body
    }
}

fn directory(platform_twin_members: &[&str]) -> Value {
    json!({
        "users": [
            user(ADA, "ada", "Ada", "Lovelace", "Engineering"),
            user(ALAN, "alan", "Alan", "Turing", "Engineering"),
            user(GRACE, "grace", "Grace", "Hopper", "Engineering"),
        ],
        "groups": [
            {"id": PLATFORM, "displayName": "Platform", "securityEnabled": true, "members": [ADA, ALAN]},
            {"id": PLATFORM_TWIN, "displayName": "Platform", "securityEnabled": true, "members": platform_twin_members},
        ],
    })
}

fn objects_roster_did_not_create_or_match_are_never_changed(backend: Backend) {
    let enterprise = TargetEnterprise::start_on(backend, "acme", "acme", "scim");
    let (base, token) = (enterprise.base.clone(), enterprise.token);
    let target = Target { base: base.clone(), token: token.clone(), http: reqwest::blocking::Client::new() };

    // Someone else's objects: a user without a source, a group without a source whose member is that user.
    let user_schema = "urn:ietf:params:scim:schemas:core:2.0:User";
    let group_schema = "urn:ietf:params:scim:schemas:core:2.0:Group";
    let stranger = target.post("Users", &json!({"schemas": [user_schema], "userName": "stranger@elsewhere.example"}));
    let stranger_id = stranger["id"].as_str().unwrap().to_owned();
    let finance = target.post(
        "Groups",
        &json!({"schemas": [group_schema], "displayName": "Finance", "members": [{"value": stranger_id}]}),
    );
    let finance_id = finance["id"].as_str().unwrap().to_owned();
    let foreign = |target: &Target| {
        (target.read(&format!("/Users/{stranger_id}")), target.read(&format!("/Groups/{finance_id}")))
    };
    let before = foreign(&target);

    // Two directory groups named Platform, both assigned, and the users: the first group to match takes the target
    // group; the second must not touch it.
    let source = crate::support::data_dir(backend);
    let data = source.path();
    import(data, &directory(&[GRACE]));
    run_ok(data, &["app", "create", "acme", "--template", "scim", "--tenant-url", &base, "--secret-token", &token]);
    for group in [PLATFORM, PLATFORM_TWIN] {
        run_ok(data, &["app", "assign", "acme", "--group", group]);
    }
    run_ok(data, &["app", "assign", "acme", "--user", GRACE]);
    let output = crate::support::run(data, &["sync", "acme"]);
    assert!(!output.status.success(), "the duplicate is a failed object: {output:?}");
    let (_, groups) = target.get("/Groups?filter=displayName%20eq%20%22Platform%22");
    assert_eq!(groups["totalResults"], 1, "one target group for the name: {groups}");
    let platform = groups["Resources"][0].clone();
    let owner = platform["externalId"].as_str().unwrap().to_owned();
    assert!(owner == PLATFORM || owner == PLATFORM_TWIN, "{platform}");
    let logs: Value =
        serde_json::from_str(&run_ok(data, &["logs", "acme", "--status", "failure", "--format", "json"])).unwrap();
    let refused: Vec<&Value> =
        logs.as_array().unwrap().iter().filter(|e| e["error_code"] == "DuplicateSourceEntries").collect();
    assert_eq!(refused.len(), 1, "{logs:#}");
    assert_ne!(refused[0]["source_id"], owner.as_str(), "the loser is refused");
    // The target group holds its owner's members only.
    let owner_members = if owner == PLATFORM { vec!["Ada Lovelace", "Alan Turing"] } else { vec!["Grace Hopper"] };
    let first = target.read(&format!("/Groups/{}", platform["id"].as_str().unwrap()));
    let mut names: Vec<&str> =
        first["members"].as_array().unwrap().iter().filter_map(|member| member["display"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, owner_members, "{first}");

    // Someone else adds their user to roster's group; roster's next cycles with member changes keep it.
    let visitor = target.post("Users", &json!({"schemas": [user_schema], "userName": "visitor@elsewhere.example"}));
    let visitor_id = visitor["id"].as_str().unwrap().to_owned();
    target.patch(
        &format!("/Groups/{}", platform["id"].as_str().unwrap()),
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": visitor_id}]}]}),
    );
    let twin_changed = directory(&[GRACE, ADA]);
    import(data, &twin_changed);
    let mut changed = twin_changed;
    changed["groups"][0]["members"] = json!([ADA]);
    changed["groups"][1]["members"] = json!([GRACE, ADA, ALAN]);
    import(data, &changed);
    let _ = crate::support::run(data, &["sync", "acme"]);
    let _ = crate::support::run(data, &["sync", "acme"]);
    let platform_now = target.read(&format!("/Groups/{}", platform["id"].as_str().unwrap()));
    assert_eq!(platform_now["externalId"], owner.as_str(), "the group did not change hands: {platform_now}");
    let member_values: Vec<&str> =
        platform_now["members"].as_array().unwrap().iter().filter_map(|member| member["value"].as_str()).collect();
    assert!(member_values.contains(&visitor_id.as_str()), "someone else's member was removed: {platform_now}");

    // Everything of roster's is disabled, deleted and re-matched from scratch; someone else's objects stay as
    // they were, byte for byte (meta.version included).
    run_ok(data, &["app", "unassign", "acme", "--user", GRACE]);
    let _ = crate::support::run(data, &["sync", "acme"]);
    run_ok(data, &["app", "restart", "acme", "--reset", "full"]);
    let _ = crate::support::run(data, &["sync", "acme"]);
    run_ok(data, &["directory", "group", "delete", PLATFORM_TWIN]);
    let _ = crate::support::run(data, &["sync", "acme"]);
    assert_eq!(foreign(&target), before, "someone else's objects were changed");

    // They are reported as unmanaged, and only they.
    let unmanaged: Value =
        serde_json::from_str(&run_ok(data, &["app", "unmanaged", "acme", "--format", "json"])).unwrap();
    let ids: Vec<&str> = unmanaged.as_array().unwrap().iter().filter_map(|object| object["id"].as_str()).collect();
    assert!(ids.contains(&stranger_id.as_str()) && ids.contains(&finance_id.as_str()), "{unmanaged:#}");
    assert!(ids.contains(&visitor_id.as_str()), "{unmanaged:#}");
    let users = target.users();
    let managed = users.iter().filter(|user| !ids.contains(&user["id"].as_str().unwrap())).count();
    assert_eq!(managed, 3, "roster's users are not reported: {unmanaged:#}");
}

crate::support::on_each_backend!(objects_roster_did_not_create_or_match_are_never_changed);

//! Several `roster serve` nodes on one PostgreSQL database: SCIM requests through different nodes lose no update,
//! and a job whose node dies mid-cycle is finished by another node without a duplicate create.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Value, json};

use crate::provisioning::Target;
use crate::support::fault_proxy::{Fault, FaultProxy, Faults, Rule};
use crate::support::{Backend, Logs, Server, TargetEnterprise, data_dir, run_ok};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// A SCIM client of one enterprise through one node.
struct Node {
    base: String,
    token: String,
    http: reqwest::blocking::Client,
}

impl Node {
    fn send(&self, method: &reqwest::Method, path: &str, body: &Value) -> Value {
        let response = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .unwrap();
        let status = response.status();
        let body: Value = response.json().unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        body
    }

    fn member_ids(&self, group: &str) -> BTreeSet<String> {
        let response = self.http.get(format!("{}/Groups/{group}", self.base)).bearer_auth(&self.token).send().unwrap();
        let group: Value = response.json().unwrap();
        group["members"]
            .as_array()
            .map(|members| members.iter().filter_map(|member| member["value"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

/// Three nodes serve one enterprise. Twelve clients add 120 members to one group, one PATCH per member, spread over
/// the nodes; then they remove every other one the same way. Each PATCH is a read-modify-write of the group on
/// whichever node it reaches: a lost update would lose a member. Every node then reads exactly the members left.
#[test]
fn membership_patches_through_three_nodes_lose_no_member() {
    let data = data_dir(Backend::Postgres);
    run_ok(data.path(), &["enterprise", "create", "acme", "--shortcode", "acme", "--profile", "scim"]);
    let token = run_ok(data.path(), &["token", "create", "--enterprise", "acme"]).trim().to_owned();
    let servers: Vec<Server> = (0..3).map(|_| Server::start(data.path(), &[])).collect();
    let nodes: Vec<Node> = servers
        .iter()
        .map(|server| Node {
            base: format!("{}/scim/v2/enterprises/acme", server.origin),
            token: token.clone(),
            http: reqwest::blocking::Client::new(),
        })
        .collect();

    let users: Vec<String> = (0..120)
        .map(|index| {
            let user = json!({"schemas": [USER_SCHEMA], "userName": format!("user{index}@acme.example")});
            nodes[index % 3].send(&reqwest::Method::POST, "/Users", &user)["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let group = nodes[0].send(
        &reqwest::Method::POST,
        "/Groups",
        &json!({"schemas": [GROUP_SCHEMA], "displayName": "Platform"}),
    );
    let group = group["id"].as_str().unwrap().to_owned();

    let patch_all = |op: &str, ids: &[String]| {
        std::thread::scope(|scope| {
            for (client, chunk) in ids.chunks(10).enumerate() {
                let (nodes, group) = (&nodes, &group);
                scope.spawn(move || {
                    for (index, id) in chunk.iter().enumerate() {
                        let node = &nodes[(client + index) % 3];
                        let operation = match op {
                            "add" => json!({"op": "add", "path": "members", "value": [{"value": id}]}),
                            _ => json!({"op": "remove", "path": format!("members[value eq \"{id}\"]")}),
                        };
                        let patch = json!({"schemas": [PATCH_OP], "Operations": [operation]});
                        node.send(&reqwest::Method::PATCH, &format!("/Groups/{group}"), &patch);
                    }
                });
            }
        });
    };
    patch_all("add", &users);
    let all: BTreeSet<String> = users.iter().cloned().collect();
    for node in &nodes {
        assert_eq!(node.member_ids(&group), all, "every added member, on every node");
    }
    let removed: Vec<String> = users.iter().step_by(2).cloned().collect();
    patch_all("remove", &removed);
    let left: BTreeSet<String> = users.iter().skip(1).step_by(2).cloned().collect();
    for node in &nodes {
        assert_eq!(node.member_ids(&group), left, "exactly the members not removed, on every node");
    }
}

/// Three nodes run one application's provisioning on a shared database, with 3 s leases. The node holding the
/// job is killed in the middle of the initial cycle, with creates in flight (every POST to the target is slowed
/// down). The lease expires, another node takes the job over and finishes the cycle: every source object ends up
/// as exactly one target object, and the target received exactly one POST per object it holds, so not one create
/// was sent twice.
#[test]
fn a_node_killed_mid_cycle_leaves_its_job_to_another_without_duplicate_creates() {
    let target = TargetEnterprise::start("octo-corp", "octo", "github-emu");
    let proxy = FaultProxy::start(&target.server.origin);
    proxy.set(Faults {
        rules: vec![Rule::new(Fault::Slow, 1000).only("POST")],
        // 16 creates in flight at 300 ms each: the 300 users take about 6 s, so the node is surely killed in the
        // middle even on a slow machine.
        slow: Duration::from_millis(300),
        ..Faults::none()
    });
    let path = "/scim/v2/enterprises/octo-corp";
    let reader = Target {
        base: format!("{}{path}", target.server.origin),
        token: target.token.clone(),
        http: reqwest::blocking::Client::new(),
    };

    let data = data_dir(Backend::Postgres);
    let source = data.path();
    let people = source.join("people.jsonl");
    let people = people.to_str().unwrap();
    run_ok(
        source,
        &["directory", "generate", "--users", "300", "--groups", "3", "--members-per-group", "20", "--out", people],
    );
    run_ok(source, &["directory", "import", people]);
    let tenant_url = format!("{}{path}", proxy.origin);
    run_ok(
        source,
        &[
            "app",
            "create",
            "github",
            "--template",
            "github-emu",
            "--tenant-url",
            &tenant_url,
            "--secret-token",
            &target.token,
            "--scope",
            "all",
        ],
    );
    let exported = run_ok(source, &["app", "export", "github"]);
    assert!(exported.contains("rate_limit = \"github\""), "{exported}");
    let file = source.join("github.toml");
    std::fs::write(&file, exported.replacen("rate_limit = \"github\"", "rate_limit = \"unlimited\"", 1)).unwrap();
    run_ok(source, &["app", "apply", file.to_str().unwrap()]);

    // The nodes start; one of them takes the job and begins the initial cycle.
    let logs = Logs::new();
    let mut nodes: BTreeMap<u32, Server> = (0..3)
        .map(|_| {
            let server = Server::start_logged(source, &["--lease", "3s"], &logs);
            (server.pid(), server)
        })
        .collect();
    proxy.wait_until(|counts| counts.forwarded("POST") >= 60);
    let status: Value = serde_json::from_str(&run_ok(source, &["status", "github", "--json"])).unwrap();
    let owner = status["lease"]["owner"].as_str().unwrap_or_else(|| panic!("a node holds the job: {status}"));
    let pid: u32 = owner.split('-').nth(1).and_then(|pid| pid.parse().ok()).unwrap();
    let killed = nodes.remove(&pid).unwrap_or_else(|| panic!("{owner} is one of the nodes"));
    drop(killed);
    let posts_before_takeover = proxy.counts().forwarded("POST");
    assert!(posts_before_takeover < 300, "the cycle was killed in its middle: {posts_before_takeover} creates sent");

    // Another node takes the job over: it closes the dead node's cycle, then runs one to its end.
    let closed = logs.wait_for("closed as interrupted", Duration::from_secs(60)).expect("the dead cycle is closed");
    assert!(closed.contains("github"), "{closed}");
    let ended =
        logs.wait_for("provisioning cycle ended", Duration::from_secs(60)).expect("a surviving node ended a cycle");
    assert!(ended.contains("Succeeded"), "{ended}");
    proxy.wait_idle();

    let status: Value = serde_json::from_str(&run_ok(source, &["status", "github", "--json"])).unwrap();
    let counts = &status["job"]["last_cycle"]["counts"];
    assert_eq!(counts["failed"], 0, "{status}");
    assert_ne!(status["lease"]["owner"].as_str(), Some(owner), "the job moved: {status}");

    // Exactly one target object per source object, and one POST per target object.
    let users = reader.users();
    let mut by_source: BTreeMap<String, usize> = BTreeMap::new();
    for user in &users {
        *by_source.entry(user["externalId"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    assert!(by_source.values().all(|count| *count == 1), "a source user with two target users: {by_source:?}");
    let (_, groups) = reader.get("/Groups?count=100");
    let groups = groups["Resources"].as_array().cloned().unwrap_or_default();
    assert_eq!(groups.len(), 3, "{groups:?}");
    let shadows: u64 = status["objects"].as_array().unwrap().iter().map(|count| count["count"].as_u64().unwrap()).sum();
    assert_eq!(shadows, (users.len() + groups.len()) as u64, "roster tracks each target object: {status}");
    assert_eq!(
        proxy.counts().forwarded("POST"),
        (users.len() + groups.len()) as u64,
        "one create per target object: none was sent twice"
    );
    assert!(users.len() > 250, "most of the 300 generated users are enabled and in scope: {}", users.len());
}

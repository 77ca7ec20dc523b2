//! A job driven through the admin API as an admin scripts it: its schema read, edited (a bad edit refused with the
//! JSON path of what is wrong) and reset; an expression tried with parseExpression; one user provisioned on demand;
//! a plan computed, reviewed and applied, watched on the events stream. And on PostgreSQL with two nodes: the
//! events of a cycle running on one node, read through either.

use std::time::Duration;

use reqwest::Method;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

use crate::support::admin::{Api, Event, Events, token};
use crate::support::{Backend, Logs, Server, TargetEnterprise, data_dir, run_ok};

/// The users on the target: userName → displayName.
fn target_users(client: &Client, target: &TargetEnterprise) -> std::collections::BTreeMap<String, String> {
    let users: Value = client
        .get(format!("{}/Users?count=1000", target.base))
        .bearer_auth(&target.token)
        .send()
        .and_then(Response::json)
        .expect("the target answers");
    users["Resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|user| {
            let name = user["userName"].as_str().unwrap_or_default().to_owned();
            (name, user["displayName"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

/// A directory of `users` generated users in `groups` groups, imported; the app `github` from `template` exporting
/// to `target` with `scope`, paused.
fn directory_and_app(data: &std::path::Path, target: &TargetEnterprise, template: &str, users: &str, groups: &str) {
    let file = data.join("people.json");
    let file = file.to_str().expect("a UTF-8 path");
    let members = "10";
    run_ok(
        data,
        &["directory", "generate", "--users", users, "--groups", groups, "--members-per-group", members, "--out", file],
    );
    run_ok(data, &["directory", "import", file]);
    let scope = if groups == "0" { "all" } else { "assigned" };
    let app = ["app", "create", "github", "--template", template, "--scope", scope, "--tenant-url"];
    run_ok(data, &[&app[..], &[&target.base, "--secret-token", &target.token]].concat());
    run_ok(data, &["app", "pause", "github"]);
}

/// The job path of the only application: `/servicePrincipals/{id}/synchronization/jobs/{jobId}`.
fn job_path(api: &Api) -> String {
    let (_, sps) = api.get("/servicePrincipals");
    let sp = sps["value"][0]["id"].as_str().expect("a service principal").to_owned();
    let (_, jobs) = api.get(&format!("/servicePrincipals/{sp}/synchronization/jobs"));
    let job = jobs["value"][0]["id"].as_str().expect("a job").to_owned();
    format!("/servicePrincipals/{sp}/synchronization/jobs/{job}")
}

fn users_mappings(schema: &mut Value) -> &mut Vec<Value> {
    schema["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
        .as_array_mut()
        .expect("the users' attribute mappings")
}

fn display_name_source(schema: &Value) -> Value {
    let mappings = schema["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"].as_array();
    let mapping = mappings.and_then(|mappings| mappings.iter().find(|m| m["targetAttributeName"] == "displayName"));
    mapping.expect("a displayName mapping")["source"].clone()
}

#[test]
fn a_job_is_scripted_through_its_schema_on_demand_provisioning_plans_and_events() {
    let target = TargetEnterprise::start("octo-corp", "octo", "github-emu");
    let data = data_dir(Backend::Sqlite);
    directory_and_app(data.path(), &target, "github-emu", "40", "3");
    let global = token(data.path(), "root", "global-administrator");
    let server = Server::start(data.path(), &[]);
    let client = Client::new();
    let api = Api::new(&client, &server.origin, &global);
    let job = job_path(&api);
    let sp = job.split('/').nth(2).expect("the service principal").to_owned();

    // A group assigned: its enabled members are in scope.
    let (_, groups) = api.get("/groups?$top=1&$select=id");
    let group = groups["value"][0]["id"].as_str().expect("a group").to_owned();
    let assignment =
        json!({"principalId": group, "resourceId": sp, "appRoleId": "00000000-0000-0000-0000-000000000000"});
    assert_eq!(api.post(&format!("/servicePrincipals/{sp}/appRoleAssignedTo"), assignment).0, 201);
    let (_, members) = api.get(&format!("/groups/{group}/members?$select=id,accountEnabled,displayName"));
    let enabled: Vec<Value> = members["value"]
        .as_array()
        .expect("members")
        .iter()
        .filter(|member| member["@odata.type"] == "#microsoft.graph.user" && member["accountEnabled"] == true)
        .cloned()
        .collect();
    assert!(enabled.len() >= 2, "{members}");

    // The schema: its one rule, and the users' displayName mapped straight.
    let (status, mut schema) = api.get(&format!("{job}/schema"));
    assert_eq!(status, 200, "{schema}");
    let rule = schema["synchronizationRules"][0]["id"].as_str().expect("a rule id").to_owned();
    let original = display_name_source(&schema);
    assert_eq!(original["type"], json!("Attribute"), "{original}");

    // A bad edit is refused with the JSON path of the mistake, and changes nothing.
    let mut bad = schema.clone();
    let broken = users_mappings(&mut bad).iter_mut().find(|m| m["targetAttributeName"] == "displayName");
    broken.expect("the mapping")["source"] = json!({"expression": "ToUpper([displayName]", "type": "Function"});
    let (status, refused) = api.send(Method::PUT, &format!("{job}/schema"), Some(bad));
    assert_eq!(status, 400, "{refused}");
    let message = refused["error"]["message"].as_str().expect("a message");
    assert!(message.contains("synchronizationRules[0].objectMappings[0].attributeMappings["), "{message}");
    assert_eq!(display_name_source(&api.get(&format!("{job}/schema")).1), original);

    // parseExpression tries the edit on a test object before it is saved.
    let parse = json!({
        "expression": "ToUpper([displayName])",
        "testInputObject": {"definition": null, "properties": [{"key": "displayName", "value": "Ada Lovelace"}]},
    });
    let (status, parsed) = api.post(&format!("{job}/schema/parseExpression"), parse);
    assert_eq!(status, 200, "{parsed}");
    assert_eq!(parsed["parsingSucceeded"], json!(true), "{parsed}");
    assert_eq!(parsed["evaluationSucceeded"], json!(true), "{parsed}");
    assert_eq!(parsed["evaluationResult"], json!(["ADA LOVELACE"]), "{parsed}");
    let (_, functions) = api.get(&format!("{job}/schema/functions"));
    let names: Vec<&str> =
        functions["value"].as_array().expect("functions").iter().filter_map(|f| f["name"].as_str()).collect();
    assert!(names.contains(&"ToUpper") && names.contains(&"SingleAppRoleAssignment"), "{names:?}");
    let (_, operators) = api.get(&format!("{job}/schema/filterOperators"));
    assert!(operators.to_string().contains("EQUALS"), "{operators}");

    // The edit saved: displayName upper-cased.
    let mapping = users_mappings(&mut schema).iter_mut().find(|m| m["targetAttributeName"] == "displayName");
    mapping.expect("the mapping")["source"] = json!({"expression": "ToUpper([displayName])", "type": "Function"});
    let (status, body) = api.send(Method::PUT, &format!("{job}/schema"), Some(schema));
    assert_eq!(status, 204, "{body}");
    let saved = display_name_source(&api.get(&format!("{job}/schema")).1);
    assert_eq!((saved["type"].clone(), saved["name"].clone()), (json!("Function"), json!("ToUpper")), "{saved}");

    // One user provisioned on demand, with the edit applied; a second request finds nothing to do.
    let first = &enabled[0];
    let user = first["id"].as_str().expect("an id");
    let on_demand =
        json!({"parameters": [{"ruleId": rule, "subjects": [{"objectId": user, "objectTypeName": "User"}]}]});
    let (status, answer) = api.post(&format!("{job}/provisionOnDemand"), on_demand.clone());
    assert_eq!(status, 200, "{answer}");
    let key: Value = serde_json::from_str(answer["key"].as_str().expect("a key")).expect("JSON key");
    assert_eq!(key["result"], json!("Success"), "{answer}");
    let steps: Value = serde_json::from_str(answer["value"].as_str().expect("a value")).expect("JSON value");
    assert_eq!(steps["action"], json!("Create"), "{steps}");
    let upper = first["displayName"].as_str().expect("a displayName").to_uppercase();
    let on_target = target_users(&client, &target);
    assert_eq!(on_target.len(), 1, "{on_target:?}");
    assert_eq!(on_target.values().next(), Some(&upper), "{on_target:?}");
    let (status, again) = api.post(&format!("{job}/provisionOnDemand"), on_demand);
    assert_eq!(status, 200, "{again}");
    let key: Value = serde_json::from_str(again["key"].as_str().expect("a key")).expect("JSON key");
    assert_eq!(key["result"], json!("Skipped"), "{again}");
    let (status, wrong) = api.post(
        &format!("{job}/provisionOnDemand"),
        json!({"parameters": [{"ruleId": "not-the-rule", "subjects": [{"objectId": user, "objectTypeName": "User"}]}]}),
    );
    assert_eq!((status, wrong["error"]["code"].clone()), (400, json!("BadRequest")), "{wrong}");

    // A plan: the rest of the group's members to create, stored for review.
    let (status, plan) = api.post(&format!("{job}/plans"), json!({}));
    assert_eq!(status, 201, "{plan}");
    let plan_id = plan["id"].as_str().expect("a plan id").to_owned();
    let (status, reviewed) = api.get(&format!("{job}/plans/{plan_id}"));
    assert_eq!(status, 200, "{reviewed}");
    let text = reviewed.to_string();
    for member in &enabled[1..] {
        let name = member["displayName"].as_str().expect("a name").to_uppercase();
        assert!(text.contains(&name), "the plan does not create {name}: {reviewed}");
    }
    assert!(!text.contains(&upper), "the plan creates the user provisioned on demand again: {reviewed}");
    let (_, listed) = api.get(&format!("{job}/plans"));
    assert_eq!(listed["value"][0]["id"], json!(plan_id), "{listed}");

    // Applied, watched on the events stream: the cycle ends, the target has every member, and a second apply of
    // the same plan is refused.
    let events = Events::open(&format!("{}{job}/events", api.base), &global);
    let first_event = events.until("state", Duration::from_secs(10));
    assert_eq!(first_event.len(), 1, "the stream begins with the job's state: {first_event:?}");
    assert_eq!(first_event[0].data["code"], json!("Paused"), "{first_event:?}");
    let (status, body) = api.post(&format!("{job}/plans/{plan_id}/apply"), json!({}));
    assert_eq!(status, 202, "{body}");
    let seen = events.until("cycleEnded", Duration::from_secs(60));
    let ended = &seen.last().expect("the cycle's end").data;
    assert_eq!(ended["state"], json!("Succeeded"), "{seen:?}");
    // The members not yet provisioned, and the group.
    assert_eq!(ended["countExported"].as_u64(), Some(enabled.len() as u64), "{ended}");
    assert_eq!(target_users(&client, &target).len(), enabled.len());
    let (status, refused) = api.post(&format!("{job}/plans/{plan_id}/apply"), json!({}));
    assert_eq!(status, 409, "{refused}");

    // The schema reset to the template's: displayName mapped straight again.
    let (status, _) = api.send(Method::DELETE, &format!("{job}/schema"), None);
    assert_eq!(status, 204);
    assert_eq!(display_name_source(&api.get(&format!("{job}/schema")).1), original);
}

/// Two nodes on one PostgreSQL database. The job is started through one node; whichever node's scheduler takes
/// the lease runs the cycle. The events stream of each node shows the same cycle: its state, its progress as it
/// moves (written to the store by the node that runs it) and its end.
#[test]
fn the_events_of_a_job_running_on_one_node_are_read_through_the_other() {
    // The scim template, without GitHub's rate budget (3 writes a second), so that the cycle's pages of 1,000
    // objects end within seconds.
    let target = TargetEnterprise::start("acme", "acme", "scim");
    let data = data_dir(Backend::Postgres);
    directory_and_app(data.path(), &target, "scim", "3000", "0");
    let global = token(data.path(), "root", "global-administrator");
    let (logs_a, logs_b) = (Logs::new(), Logs::new());
    let node_a = Server::start_logged(data.path(), &[], &logs_a);
    let node_b = Server::start_logged(data.path(), &[], &logs_b);
    let client = Client::new();
    let api_a = Api::new(&client, &node_a.origin, &global);
    let api_b = Api::new(&client, &node_b.origin, &global);
    let job = job_path(&api_a);
    assert_eq!(job_path(&api_b), job);

    let streams = [
        Events::open(&format!("{}{job}/events", api_a.base), &global),
        Events::open(&format!("{}{job}/events", api_b.base), &global),
    ];
    for events in &streams {
        assert_eq!(events.until("state", Duration::from_secs(10))[0].data["code"], json!("Paused"));
    }
    let (status, body) = api_b.post(&format!("{job}/start"), json!({}));
    assert_eq!(status, 204, "{body}");

    let seen: Vec<Vec<Event>> =
        streams.iter().map(|events| events.until("cycleEnded", Duration::from_secs(180))).collect();
    let ran_on_a = logs_a.wait_for("provisioning cycle ended", Duration::from_secs(5)).is_some();
    let ran_on_b = logs_b.wait_for("provisioning cycle ended", Duration::from_secs(1)).is_some();
    assert!(ran_on_a != ran_on_b, "exactly one node ran the cycle (a: {ran_on_a}, b: {ran_on_b})");
    let ended: Vec<&Value> = seen.iter().map(|events| &events.last().expect("an end").data).collect();
    assert_eq!(ended[0], ended[1], "both nodes show the same end");
    assert_eq!(ended[0]["state"], json!("Succeeded"), "{}", ended[0]);
    let cycle = ended[0]["activityIdentifier"].as_str().expect("the cycle's id");
    for (node, events) in ["a", "b"].iter().zip(&seen) {
        let progress: Vec<&Value> =
            events.iter().filter(|event| event.name == "progress").map(|event| &event.data).collect();
        assert!(!progress.is_empty(), "node {node} showed no progress: {events:?}");
        assert!(progress.iter().all(|data| data["activityIdentifier"] == cycle), "{progress:?}");
        let done: Vec<u64> = progress.iter().filter_map(|data| data["objectsDone"].as_u64()).collect();
        assert!(done.windows(2).all(|pair| pair[0] <= pair[1]), "node {node}: progress moves forward: {done:?}");
        assert!(progress.iter().all(|data| data["objectsTotal"].as_u64() >= Some(3000)), "{progress:?}");
    }
    // The job's state after the cycle, on both.
    for events in &streams {
        let after = events.until("state", Duration::from_secs(10));
        assert_eq!(after.last().expect("a state").data["code"], json!("Active"), "{after:?}");
        assert_eq!(after.last().expect("a state").data["lastExecution"], *ended[0], "{after:?}");
    }
}

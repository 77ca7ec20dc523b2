//! `roster directory ...` as a user runs it: generate, import, show, lifecycle, groups, lists, and the refusals.

use std::path::Path;

use serde_json::{Map, Value};

use crate::support::{run, run_ok};

/// The objects of a `.jsonl` file.
fn read_jsonl(path: &Path) -> Vec<Map<String, Value>> {
    let text = std::fs::read_to_string(path).expect("the file is readable");
    text.lines().map(|line| serde_json::from_str(line).expect("a JSON object a line")).collect()
}

fn id_of(object: &Map<String, Value>) -> String {
    object["id"].as_str().expect("an id").to_owned()
}

/// Runs a command that must fail with exit status `code`, and returns its stderr.
#[track_caller]
fn run_err(data: &Path, arguments: &[&str], code: i32) -> String {
    let output = run(data, arguments);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(code), "{arguments:?}: {stderr}");
    assert!(output.stdout.is_empty(), "{arguments:?} printed {:?}", String::from_utf8_lossy(&output.stdout));
    stderr
}

fn show(data: &Path, id: &str) -> Map<String, Value> {
    serde_json::from_str(&run_ok(data, &["directory", "show", id])).expect("show prints a JSON object")
}

#[test]
fn generate_import_show_and_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("d.jsonl");
    let file_arg = file.to_str().unwrap();
    let generate = [
        "directory",
        "generate",
        "--users",
        "50",
        "--groups",
        "5",
        "--members-per-group",
        "10",
        "--seed",
        "3",
        "--out",
        file_arg,
    ];
    let wrote = run_ok(&data, &generate);
    assert!(!data.exists(), "generate only writes the file");
    let objects = read_jsonl(&file);
    assert_eq!(objects.len(), 55);
    let memberships: usize = objects
        .iter()
        .filter_map(|object| object.get("members"))
        .map(|members| members.as_array().unwrap().len())
        .sum();
    assert_eq!(wrote, format!("wrote 50 users and 5 groups with {memberships} memberships to {file_arg}\n"));
    assert!(memberships >= 50, "five groups of ten on average, some nesting another");

    let imported = run_ok(&data, &["directory", "import", file_arg]);
    assert_eq!(
        imported,
        "imported 50 users (50 created, 0 updated, 0 unchanged) and 5 groups (5 created, 0 updated, 0 unchanged)\n"
    );
    let again = run_ok(&data, &["directory", "import", file_arg]);
    assert_eq!(
        again,
        "imported 50 users (0 created, 0 updated, 50 unchanged) and 5 groups (0 created, 0 updated, 5 unchanged)\n"
    );

    // An enabled, not deleted user, shown as the file has it (without the file's objectType).
    let mut user = objects
        .iter()
        .find(|object| object["accountEnabled"] == Value::Bool(true) && !object.contains_key("deletedDateTime"))
        .expect("an enabled user")
        .clone();
    let id = id_of(&user);
    user.shift_remove("objectType");
    assert_eq!(show(&data, &id), user);

    let lifecycle: &[(&[&str], String)] = &[
        (&["disable"], format!("disabled user {id}\n")),
        (&["disable"], format!("user {id} is already disabled\n")),
        (&["enable"], format!("enabled user {id}\n")),
        (&["enable"], format!("user {id} is already enabled\n")),
        (&["delete"], format!("deleted user {id} (soft: `roster directory user restore {id}` brings it back)\n")),
        (&["delete"], format!("user {id} is already deleted\n")),
        (&["restore"], format!("restored user {id}\n")),
    ];
    for (action, expected) in lifecycle {
        let mut arguments = vec!["directory", "user"];
        arguments.extend_from_slice(action);
        arguments.push(&id);
        assert_eq!(&run_ok(&data, &arguments), expected, "{action:?}");
        if action[0] == "delete" {
            assert!(show(&data, &id).contains_key("deletedDateTime"));
        }
    }
    assert_eq!(show(&data, &id), user, "back as imported");
    let error = run_err(&data, &["directory", "user", "restore", &id], 1);
    assert!(error.contains(&format!("user {id} is not deleted; only a soft-deleted user can be restored")), "{error}");

    // Groups: members added and removed by id, lists in both formats.
    let group = objects.iter().find(|object| object["objectType"] == "group").expect("a group");
    let group_id = id_of(group);
    run_ok(&data, &["directory", "group", "add-member", &group_id, &id]);
    assert!(show(&data, &group_id)["members"].as_array().unwrap().contains(&Value::from(id.as_str())));
    let removed = run_ok(&data, &["directory", "group", "remove-member", &group_id, &id]);
    assert_eq!(removed, format!("{id} is not a member of group {group_id}\n"));
    assert!(!show(&data, &group_id)["members"].as_array().unwrap().contains(&Value::from(id.as_str())));

    let table = run_ok(&data, &["directory", "list", "users"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "id\tuserPrincipalName\tdisplayName\tstate");
    assert_eq!(lines.len(), 51);
    let row = lines.iter().find(|line| line.starts_with(&id)).expect("the user is listed");
    assert!(row.ends_with("\tenabled") && row.contains(user["userPrincipalName"].as_str().unwrap()), "{row}");
    let groups: Vec<Value> =
        serde_json::from_str(&run_ok(&data, &["directory", "list", "groups", "--format", "json"])).unwrap();
    assert_eq!(groups.len(), 5);
    assert!(groups.iter().any(|listed| listed["id"] == group_id.as_str()));

    // Deleting for good: gone from show, lists and groups.
    assert_eq!(run_ok(&data, &["directory", "user", "delete", "--hard", &id]), format!("deleted user {id} for good\n"));
    let error = run_err(&data, &["directory", "show", &id], 1);
    assert!(error.contains(&format!("user or group {id} does not exist")), "{error}");
    assert_eq!(run_ok(&data, &["directory", "list", "users"]).lines().count(), 50);
    assert_eq!(run_ok(&data, &["directory", "group", "delete", &group_id]), format!("deleted group {group_id}\n"));
    let groups: Vec<Value> =
        serde_json::from_str(&run_ok(&data, &["directory", "list", "groups", "--format", "json"])).unwrap();
    assert_eq!(groups.len(), 4);

    // Re-importing the file brings both back as new.
    let back = run_ok(&data, &["directory", "import", file_arg]);
    assert!(
        back.starts_with("imported 50 users (1 created, 0 updated, 49 unchanged) and 5 groups (1 created,"),
        "{back}"
    );
}

#[test]
fn directory_refusals_say_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let ann = "0a1b2c3d-0000-4000-8000-00000000000a";
    let unknown = "0a1b2c3d-0000-4000-8000-0000000000ff";
    std::fs::write(
        path("ok.jsonl"),
        format!(
            "{{\"objectType\": \"user\", \"id\": \"{ann}\", \"userPrincipalName\": \"ann@x.example\"}}\n\
             {{\"objectType\": \"group\", \"id\": \"0a1b2c3d-0000-4000-8000-00000000000b\", \"displayName\": \"Staff\", \"members\": [\"{ann}\"]}}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        path("bad.jsonl"),
        format!(
            "{{\"objectType\": \"user\", \"id\": \"{ann}\", \"userPrincipalName\": \"ann@x.example\"}}\n\
             {{\"objectType\": \"user\", \"id\": \"{unknown}\", \"userPrincipalName\": \"bob smith@x.example\"}}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        path("orphan.json"),
        format!(
            "{{\"groups\": [{{\"id\": \"0a1b2c3d-0000-4000-8000-00000000000c\", \"displayName\": \"G\", \"members\": [\"{unknown}\"]}}]}}"
        ),
    )
    .unwrap();
    std::fs::write(path("users.txt"), "").unwrap();
    run_ok(&data, &["directory", "import", &path("ok.jsonl")]);

    let cases: Vec<(Vec<String>, i32, String)> = vec![
        (vec!["import".into(), path("missing.json")], 1, format!("cannot open {}", path("missing.json"))),
        (vec!["import".into(), path("users.txt")], 1, "use a file ending in .json, .jsonl or .csv".into()),
        (
            vec!["import".into(), path("bad.jsonl")],
            1,
            format!("{}: line 2: userPrincipalName \"bob smith@x.example\" contains a space", path("bad.jsonl")),
        ),
        (
            vec!["import".into(), path("orphan.json")],
            1,
            format!(
                "{}: user or group {unknown} (a member of group 0a1b2c3d-0000-4000-8000-00000000000c) does not exist; \
                 nothing was imported",
                path("orphan.json")
            ),
        ),
        (vec!["user".into(), "disable".into(), unknown.into()], 1, format!("user {unknown} does not exist")),
        (
            vec!["user".into(), "delete".into(), "--hard".into(), unknown.into()],
            1,
            format!("user {unknown} does not exist"),
        ),
        (vec!["user".into(), "enable".into(), "ann".into()], 1, "\"ann\" is not a GUID".into()),
        (
            vec!["user".into(), "restore".into(), ann.into()],
            1,
            format!("user {ann} is not deleted; only a soft-deleted user can be restored"),
        ),
        (vec!["user".into(), "disable".into(), ann.into(), "--hard".into()], 2, "unexpected argument '--hard'".into()),
        (vec!["group".into(), "delete".into(), unknown.into()], 1, format!("group {unknown} does not exist")),
        (vec!["group".into(), "delete".into(), ann.into()], 1, format!("group {ann} does not exist")),
        (
            vec!["group".into(), "add-member".into(), "0a1b2c3d-0000-4000-8000-00000000000b".into(), unknown.into()],
            1,
            format!("user or group {unknown} does not exist"),
        ),
        (vec!["show".into(), unknown.into()], 1, format!("user or group {unknown} does not exist")),
        (
            vec![
                "generate".into(),
                "--users".into(),
                "3".into(),
                "--groups".into(),
                "1".into(),
                "--out".into(),
                path("d.csv"),
            ],
            1,
            "a .csv file holds users only".into(),
        ),
    ];
    for (arguments, code, expected) in cases {
        let mut full = vec!["directory"];
        full.extend(arguments.iter().map(String::as_str));
        let stderr = run_err(&data, &full, code);
        assert!(stderr.contains(&expected), "{arguments:?}: {stderr}");
    }
    assert!(!Path::new(&path("d.csv")).exists());
    // Nothing of the refused imports went in.
    let listed = run_ok(&data, &["directory", "list", "users"]);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert_eq!(run_ok(&data, &["directory", "list", "groups"]).lines().count(), 2);
}

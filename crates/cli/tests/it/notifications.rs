//! Notification e-mail end to end: the real `roster` binary syncs into a real `roster serve` (the target) and sends
//! its messages to a real SMTP server, aiosmtpd, started by the test (`tests/smtp/sink.py`), which records each
//! message it accepts. Every change of the job's state arrives once, with its subject and body; a cycle in the same
//! state sends nothing.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Server, TargetEnterprise, python, run_ok, workspace};

const U1: &str = "00000000-0000-4000-8000-000000000001";
const U2: &str = "00000000-0000-4000-8000-000000000002";
const U3: &str = "00000000-0000-4000-8000-000000000003";
const U4: &str = "00000000-0000-4000-8000-000000000004";
const ENGINEERING: &str = "00000000-0000-4000-8000-0000000000a1";
const RECIPIENTS: [&str; 2] = ["ops@contoso.example", "iam@contoso.example"];

/// aiosmtpd on a free loopback port, recording each accepted message in a JSON Lines file before it answers 250.
struct Sink {
    child: Child,
    port: u16,
    file: PathBuf,
    /// One line per message, as the sink accepts it: what waiting for a message waits on.
    arrivals: mpsc::Receiver<String>,
    _dir: tempfile::TempDir,
}

impl Sink {
    fn start() -> Sink {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("messages.jsonl");
        let mut child = Command::new(python())
            .arg(workspace().join("tests/smtp/sink.py"))
            .arg(&file)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP sink starts (aiosmtpd: run scripts/setup-test-deps)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = lines.next().expect("the sink printed its port").unwrap().trim().parse().unwrap();
        let (sender, arrivals) = mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Sink { child, port, file, arrivals, _dir: dir }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message accepted so far. A `roster` command that has exited saw its messages accepted, so they are
    /// all here.
    fn messages(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.file).unwrap_or_default();
        text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
    }

    /// Waits until `count` messages arrived (each arrival is an event on the sink's stdout), at most a minute.
    fn wait_for(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{count} messages expected, {} arrived: {messages:?}", messages.len());
            let _ = self.arrivals.recv_timeout(left);
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `roster` with no mail settings from the environment.
fn roster(data: &Path) -> Command {
    let mut command = crate::support::roster(data);
    command.env_remove("ROSTER_SMTP_URL").env_remove("ROSTER_MAIL_FROM").env_remove("ROSTER_LOG");
    command
}

/// `roster --smtp-url URL sync github`.
fn sync(data: &Path, smtp_url: &str) -> Output {
    roster(data).args(["--smtp-url", smtp_url, "sync", "github"]).output().unwrap()
}

fn user(id: &str, login: &str, given: &str, surname: &str) -> Value {
    json!({
        "id": id, "userPrincipalName": format!("{login}@contoso.example"), "displayName": format!("{given} {surname}"),
        "givenName": given, "surname": surname,
    })
}

fn directory() -> Value {
    json!({
        "users": [
            user(U1, "ada", "Ada", "Lovelace"),
            user(U2, "alan", "Alan", "Turing"),
            user(U3, "grace", "Grace", "Hopper"),
            user(U4, "linus", "Linus", "Pauling"),
        ],
        "groups": [
            {"id": ENGINEERING, "displayName": "Engineering", "securityEnabled": true, "members": [U1, U2, U3]},
        ],
    })
}

fn import(data: &Path, directory: &Value) {
    let file = data.join("directory.json");
    std::fs::write(&file, serde_json::to_vec(directory).unwrap()).unwrap();
    run_ok(data, &["directory", "import", file.to_str().unwrap()]);
}

struct Setup {
    source: tempfile::TempDir,
    _target: TargetEnterprise,
    token: String,
}

/// A target enterprise served by `roster serve`, and a source directory with a github-emu application pointed at
/// it (Engineering and Linus assigned) whose definition says who is told, with `edit` applied to its exported
/// definition.
fn setup(edit: impl Fn(String) -> String) -> Setup {
    let target = TargetEnterprise::start("octo-corp", "octo", "github-emu");
    let (base, token) = (target.base.clone(), target.token.clone());

    let source = tempfile::tempdir().unwrap();
    let data = source.path();
    import(data, &directory());
    run_ok(
        data,
        &["app", "create", "github", "--template", "github-emu", "--tenant-url", &base, "--secret-token", &token],
    );
    run_ok(data, &["app", "assign", "github", "--group", ENGINEERING]);
    run_ok(data, &["app", "assign", "github", "--user", U4]);
    let exported = run_ok(data, &["app", "export", "github"]);
    assert!(exported.contains("[notifications]\nemails = []\nfailure_digest = false\n"), "{exported}");
    let recipients = format!("emails = [\"{}\", \"{}\"]", RECIPIENTS[0], RECIPIENTS[1]);
    let file = data.join("github.toml");
    std::fs::write(&file, edit(exported.replace("emails = []", &recipients))).unwrap();
    run_ok(data, &["app", "apply", file.to_str().unwrap()]);
    let applied = run_ok(data, &["app", "export", "github"]);
    assert!(RECIPIENTS.iter().all(|recipient| applied.contains(recipient)), "the recipients round-trip: {applied}");
    std::fs::write(&file, &applied).unwrap();
    run_ok(data, &["app", "apply", file.to_str().unwrap()]);
    assert_eq!(run_ok(data, &["app", "export", "github"]), applied);
    Setup { source, _target: target, token }
}

#[track_caller]
fn assert_body(message: &Value, expected: &[&str]) {
    let body = message["body"].as_str().unwrap();
    for part in expected {
        assert!(body.contains(part), "{part:?} missing from:\n{body}");
    }
}

/// A refused token: the quarantine is told once, to every recipient, with what happened and what to do; a send
/// the SMTP server never took is tried again after the next cycle; further cycles in the same quarantine send
/// nothing; the recovery is told once.
#[test]
fn a_quarantine_is_told_once_and_its_end_once() {
    let setup = setup(|definition| definition);
    let data = setup.source.path();
    let sink = Sink::start();
    run_ok(data, &["app", "set-token", "github", "--secret-token", "roster_pat_not-a-valid-token"]);

    // No SMTP server configured: nothing is sent, and a warning says what was not.
    let output = roster(data).args(["sync", "github"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no SMTP server is configured"), "{stderr}");

    // No SMTP server answers: the cycle's outcome is unchanged, a warning says so, without the password.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let output = sync(data, &format!("smtp://roster:s3cret-pw@{closed}"));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("401") || stderr.contains("Unauthorized"), "{stderr}");
    assert!(stderr.contains("could not send a notification e-mail"), "{stderr}");
    assert!(!stderr.contains("s3cret-pw"), "{stderr}");
    let status: Value = serde_json::from_str(&run_ok(data, &["status", "github", "--json"])).unwrap();
    assert!(status["job"]["notified"].is_null(), "nothing was told: {status}");

    // The next cycle, with a server that answers, tells it: one message to both recipients.
    let output = roster(data)
        .args(["sync", "github"])
        .env("ROSTER_SMTP_URL", sink.url())
        .env("ROSTER_MAIL_FROM", "roster <roster@contoso.example>")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert_eq!(message["subject"], "roster: github is in quarantine (EncounteredQuarantineException)");
    assert_eq!(message["rcpt_tos"], json!(RECIPIENTS));
    assert_eq!(message["to"], "ops@contoso.example, iam@contoso.example");
    assert_eq!(
        (message["mail_from"].as_str(), message["from"].as_str()),
        (Some("roster@contoso.example"), Some("roster <roster@contoso.example>"))
    );
    assert_body(
        message,
        &[
            "Provisioning of the application github is in quarantine since ",
            "Reason: EncounteredQuarantineException",
            "the target refused the secret token",
            "roster status github",
            "roster logs github --status failure",
            "roster app restart github",
        ],
    );
    assert!(!message["body"].as_str().unwrap().contains("roster_pat_not-a-valid-token"));
    let status = run_ok(data, &["status", "github"]);
    assert!(status.contains("last e-mailed: Quarantine EncounteredQuarantineException since "), "{status}");

    // The same quarantine, cycle after cycle: nothing more.
    for _ in 0..2 {
        assert!(!sync(data, &sink.url()).status.success());
    }
    assert_eq!(sink.messages().len(), 1);

    // A new token and a restart: the next cycle succeeds, and the end of the quarantine is told once.
    run_ok(data, &["app", "set-token", "github", "--secret-token", &setup.token]);
    run_ok(data, &["app", "restart", "github"]);
    let output = sync(data, &sink.url());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let messages = sink.messages();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[1]["subject"], "roster: github is out of quarantine");
    assert_body(&messages[1], &["healthy again", "It was in quarantine (EncounteredQuarantineException)."]);
    assert!(sync(data, &sink.url()).status.success());
    assert_eq!(sink.messages().len(), 2, "healthy again: nothing more");
}

/// The accidental-deletion guard: one message naming the staged users and groups and the allow-deletes command;
/// the next cycles, still staged, send nothing; the deletes allowed and sent, the recovery is told.
#[test]
fn the_deletion_guard_is_told_once() {
    let setup = setup(|definition| definition.replace("deletion_threshold = 500", "deletion_threshold = 2"));
    let data = setup.source.path();
    let sink = Sink::start();
    assert!(sync(data, &sink.url()).status.success());
    assert_eq!(sink.messages().len(), 0, "a healthy job tells nothing");

    // Unassigning Engineering would disable Ada, Alan and Grace and delete the group: 4 > 2.
    run_ok(data, &["app", "unassign", "github", "--group", ENGINEERING]);
    for _ in 0..2 {
        assert!(!sync(data, &sink.url()).status.success());
    }
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(
        messages[0]["subject"],
        "roster: github: the deletion guard held back the disables and deletes of 3 users and 1 group"
    );
    assert_body(
        &messages[0],
        &[
            "4 disables and deletes in one cycle exceed the threshold of 2",
            "TooManyDeletes",
            "roster app allow-deletes github",
            "roster logs github --action StagedDelete",
        ],
    );

    run_ok(data, &["app", "allow-deletes", "github"]);
    assert!(sync(data, &sink.url()).status.success());
    let messages = sink.messages();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[1]["subject"], "roster: github is out of quarantine");
    assert_body(&messages[1], &["It was in quarantine (TooManyDeletes)."]);
}

/// With `failure_digest = true`, a cycle with failed objects sends one digest listing them; a cycle without
/// failures sends none.
#[test]
fn a_failure_digest_lists_the_failed_objects() {
    let setup = setup(|definition| definition.replace("failure_digest = false", "failure_digest = true"));
    let data = setup.source.path();
    let sink = Sink::start();
    // GitHub refuses a login longer than 39 characters.
    let mut long = directory();
    long["users"][3]["userPrincipalName"] = json!("linus.carl.pauling.the.chemist.of.many.bonds@contoso.example");
    import(data, &long);
    assert!(!sync(data, &sink.url()).status.success());
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let subject = messages[0]["subject"].as_str().unwrap();
    assert!(subject.starts_with("roster: github: 1 object failed in the cycle of "), "{subject}");
    let status: Value = serde_json::from_str(&run_ok(data, &["status", "github", "--json"])).unwrap();
    let cycle = status["job"]["last_cycle"]["id"].as_str().unwrap();
    let failure: Value =
        serde_json::from_str(&run_ok(data, &["logs", "github", "--status", "failure", "--format", "json"])).unwrap();
    let code = failure[0]["error_code"].as_str().unwrap();
    assert_body(
        &messages[0],
        &[
            &format!("- User linus.carl.pauling.the.chemist.of.many.bonds@contoso.example: Create failed, {code}: "),
            &format!("roster logs github --status failure --cycle {cycle}"),
            "failure_digest = true",
        ],
    );

    // Nothing failed (the failed object waits for a change): no digest.
    assert!(sync(data, &sink.url()).status.success());
    assert_eq!(sink.messages().len(), 1);
}

/// `roster serve --smtp-url`: the scheduler's cycles tell too.
#[test]
fn the_scheduler_of_serve_tells_too() {
    let setup = setup(|definition| definition);
    let data = setup.source.path();
    let sink = Sink::start();
    run_ok(data, &["app", "set-token", "github", "--secret-token", "roster_pat_not-a-valid-token"]);
    let _source = Server::start(data, &["--smtp-url", &sink.url()]);
    let messages = sink.wait_for(1);
    assert_eq!(messages[0]["subject"], "roster: github is in quarantine (EncounteredQuarantineException)");
    assert_eq!(messages[0]["rcpt_tos"], json!(RECIPIENTS));
}

//! Conformance suites from PyPI run against the real `roster serve`.

use std::process::Command;

use crate::support::{Backend, Server, python, run_ok, workspace};

/// Runs scim2-tester against an enterprise and returns (exit success, stdout).
fn scim2_tester(server: &Server, slug: &str, token: &str) -> (bool, String) {
    let script = workspace().join("tests/conformance/run_scim2_tester.py");
    let output = Command::new(python())
        .arg(script)
        .arg(format!("{}/scim/v2/enterprises/{slug}", server.origin))
        .arg(token)
        .output()
        .expect("scim2-tester runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.contains("scim2-tester: "), "scim2-tester did not report: {stdout}\n{stderr}");
    (output.status.success(), stdout)
}

fn failures(report: &str) -> Vec<&str> {
    report.lines().filter(|line| line.starts_with("[ERROR]") || line.starts_with("[CRITICAL]")).collect()
}

/// A plain-RFC enterprise passes scim2-tester with no failure at all.
fn scim2_tester_passes_on_the_rfc_profile(backend: Backend) {
    let data = crate::support::data_dir(backend);
    run_ok(data.path(), &["enterprise", "create", "plain", "--shortcode", "plain", "--profile", "scim"]);
    let token = run_ok(data.path(), &["token", "create", "--enterprise", "plain"]);
    let server = Server::start(data.path(), &[]);
    let (success, report) = scim2_tester(&server, "plain", token.trim());
    println!("{report}");
    assert!(success && failures(&report).is_empty(), "{report}");
    assert!(report.contains(" 0 failed"), "{report}");
}

/// A GitHub EMU enterprise differs from plain RFC only where GitHub does: scim2-tester's user names are random
/// UUIDs, whose logins (36 characters plus `_shortcode`) exceed GitHub's 39-character limit, and are refused
/// with 400 like GitHub refuses them. Every other check passes.
#[test]
fn scim2_tester_on_the_emu_profile_fails_only_on_githubs_login_length() {
    let data = tempfile::tempdir().unwrap();
    run_ok(data.path(), &["enterprise", "create", "octo-corp", "--shortcode", "octo"]);
    let token = run_ok(data.path(), &["token", "create", "--enterprise", "octo-corp"]);
    let server = Server::start(data.path(), &[]);
    let (_, report) = scim2_tester(&server, "octo-corp", token.trim());
    println!("{report}");
    let failed = failures(&report);
    let unexpected: Vec<&&str> =
        failed.iter().filter(|line| !line.contains("longer than 39 characters with the shortcode")).collect();
    assert!(unexpected.is_empty(), "{report}");
    assert!(report.lines().filter(|line| line.starts_with("[SUCCESS]")).count() >= 25, "{report}");
}

crate::support::on_each_backend!(scim2_tester_passes_on_the_rfc_profile);

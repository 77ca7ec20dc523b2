//! The command-line contract: what the commands print and how they fail.

use crate::support::{run, run_ok};

#[test]
fn token_create_prints_the_token_alone() {
    let data = tempfile::tempdir().unwrap();
    let created = run_ok(data.path(), &["enterprise", "create", "octo-corp", "--shortcode", "octo"]);
    assert!(created.contains("octo-corp"), "{created}");
    let token = run_ok(data.path(), &["token", "create", "--enterprise", "octo-corp"]);
    let lines: Vec<&str> = token.lines().collect();
    assert_eq!(lines.len(), 1, "{token:?}");
    assert!(lines[0].starts_with("roster_pat_") && lines[0].len() == "roster_pat_".len() + 40, "{token:?}");
    let listed = run_ok(data.path(), &["token", "list", "--enterprise", "octo-corp"]);
    assert!(listed.contains("scim:enterprise") && listed.contains("active"), "{listed}");
    assert!(!listed.contains(lines[0]), "token list must never show a secret");
}

#[test]
fn refusals_say_what_to_fix_and_exit_non_zero() {
    let data = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["enterprise", "create", "Bad_Slug", "--shortcode", "octo"], "invalid enterprise slug"),
        (&["enterprise", "create", "octo", "--shortcode", "x"], "invalid shortcode"),
        (&["enterprise", "create", "octo", "--shortcode", "octo", "--profile", "okta"], "unknown profile"),
        (&["token", "create", "--enterprise", "nowhere"], "roster enterprise create nowhere"),
        (
            &["--database", "postgres://roster:s3cret@127.0.0.1:1/x", "enterprise", "list"],
            "could not open the PostgreSQL database postgres://roster:***@127.0.0.1:1/x",
        ),
        (&["--database", "mysql://localhost/x", "enterprise", "list"], "use sqlite://FILE or postgres://"),
    ];
    for (arguments, message) in cases {
        let output = run(data.path(), arguments);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{arguments:?}: {stderr}");
        assert!(stderr.contains(message), "{arguments:?}: {stderr}");
        assert!(!stderr.contains("s3cret"), "a database password is never printed: {stderr}");
    }
    run_ok(data.path(), &["enterprise", "create", "octo", "--shortcode", "octo"]);
    let output = run(data.path(), &["enterprise", "create", "octo", "--shortcode", "octo2"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("slug \"octo\" is already in use"));
    let output = run(data.path(), &["token", "create", "--enterprise", "octo", "--scope", "repo"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown token scope"));
}

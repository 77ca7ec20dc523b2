//! An application's dry-run plans against a real target (roster's own SCIM service provider, served on a port of
//! its own over the same store): Run a dry run, review its diff, Apply exactly this plan, a stale plan refused in
//! place; and the Audit logs: filters, keyset pages, the detail pane. A reader may look at both and change nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed step is a test failure with its message")]

use std::time::Duration;

use axum::http::StatusCode;
use roster_directory::audit::{AuditEntry, Category, ModifiedProperty, TargetResource};
use roster_directory::port::{Assignment, PrincipalKind};
use roster_provider::port::{Relations, ResourceKind, ResourceQuery};
use roster_service::admin;

mod support;

use support::*;

/// Serves roster's SCIM service provider over the portal's store on a port of its own, with an enterprise `acme`
/// (plain SCIM); points the application `github` at it through the Provisioning page. Answers the token's secret.
async fn serve_target(portal: &Portal, cookie: &str, csrf: &str) -> String {
    let provider = portal.stores.provider(roster_provider::Limits::default());
    let state = roster_scim_server::ServerState { provider, public_url: None, max_body_bytes: 1 << 20 };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, roster_scim_server::router(state)).await });
    admin::create_enterprise_with_profile(&portal.stores, &cli(), "acme", "acme", admin::Profile::Scim).await.unwrap();
    let secret = admin::create_token(&portal.stores, &cli(), "acme", "github", &[]).await.unwrap();
    let url = format!("http://{address}/scim/v2/enterprises/acme");
    let form = [
        ("csrf", csrf),
        ("action", "save"),
        ("tenant_url", url.as_str()),
        ("secret_token", secret.as_str()),
        ("threshold", "500"),
        ("scope", "assigned"),
    ];
    let answer = portal.post("/applications/github/provisioning", Some(cookie), "same-origin", &form).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(!answer.body.contains("failed Test Connection"), "{}", answer.body);
    secret
}

/// Runs a dry run through the page: it answers at once with the plans page, which shows the run started and then
/// links its plan; answers the plan's path.
async fn dry_run(portal: &Portal, cookie: &str, csrf: &str) -> String {
    let list = follow_dry_run(portal, cookie, csrf).await;
    let link = list
        .split("href=\"")
        .find(|rest| rest.contains("id=\"review-plan\""))
        .map(|rest| rest.split('"').next().unwrap());
    let location = link.unwrap_or_else(|| panic!("the dry run links its plan: {list}")).to_owned();
    assert!(location.starts_with("/applications/github/plans/"), "{location}");
    location
}

/// Starts a dry run and reads the plans page until it has ended; that page.
async fn follow_dry_run(portal: &Portal, cookie: &str, csrf: &str) -> String {
    let answer = portal.post("/applications/github/plans", Some(cookie), "same-origin", &[("csrf", csrf)]).await;
    assert_eq!((answer.status, answer.header("location")), (StatusCode::SEE_OTHER, "/applications/github/plans"));
    // A target that refuses connections is retried with backoff before the run gives up: up to a minute.
    for _ in 0..1200 {
        let list = portal.get("/applications/github/plans", Some(cookie)).await;
        assert!(list.body.contains("id=\"dry-run-status\""), "the page shows the run: {}", list.body);
        if !list.body.contains("hx-trigger=\"every 1s\"") {
            return list.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the dry run did not end in a minute");
}

/// The users of `acme` in the target.
async fn target_users(portal: &Portal) -> usize {
    let enterprise = admin::enterprise(&portal.stores, "acme").await.unwrap();
    let query = ResourceQuery {
        filter: None,
        sort_by: None,
        descending: false,
        start_index: 1,
        count: 100,
        relations: Relations::default(),
    };
    portal.stores.resources.query(enterprise.id, ResourceKind::User, &query).await.unwrap().total_results
}

/// Adds a directory user assigned to `github`.
async fn add_assigned_user(portal: &Portal, n: u128, upn: &str) {
    let user = roster_directory::User::new(
        roster_directory::ObjectId::from_u128(n),
        roster_directory::UserPrincipalName::parse(upn).unwrap(),
    );
    let directory = roster_directory::Directory { users: vec![user.clone()], groups: Vec::new() };
    portal.stores.directory.import(directory, &cli()).await.unwrap();
    let assignment = Assignment { principal: user.id().clone(), kind: PrincipalKind::User, role: None };
    portal.stores.directory.assign("github", assignment, &cli()).await.unwrap();
}

#[tokio::test]
async fn a_dry_run_is_reviewed_then_applied_exactly_and_a_stale_plan_is_refused_in_place() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    // Against the harness's unreachable target, the dry run fails in place with what to do.
    let failed = follow_dry_run(&portal, &cookie, &csrf).await;
    assert!(failed.contains("id=\"dry-run-error\"") && failed.contains("Test Connection"), "{failed}");
    assert!(portal.stores.engine.plan_ids("github", 10).await.unwrap().is_empty());

    let secret = serve_target(&portal, &cookie, &csrf).await;
    let list = portal.get("/applications/github/plans", Some(&cookie)).await;
    assert!(list.body.contains("id=\"no-plans\"") && list.body.contains("Run a dry run"), "{}", list.body);
    assert!(list.body.contains("Dry run failed"), "the last run stays on the page: {}", list.body);
    assert!(list.body.contains(">Dry run</a>"), "the application's menu links it");
    let stale = dry_run(&portal, &cookie, &csrf).await;
    let review = portal.get(&stale, Some(&cookie)).await;
    assert_eq!(review.status, StatusCode::OK);
    assert!(review.body.contains("1 creates, 0 updates, 0 disables, 0 deletes"), "{}", review.body);
    assert!(review.body.contains(">Create<") && review.body.contains("mallory@contoso.example"), "{}", review.body);
    assert!(review.body.contains("<code>userName</code>"), "modified properties: {}", review.body);
    assert!(review.body.contains("Apply exactly this plan") && !review.body.contains(MARKUP));
    assert!(!review.body.contains(&secret), "the target's token is never shown");
    let list = portal.get("/applications/github/plans", Some(&cookie)).await;
    assert!(list.body.contains("Not applied") && list.body.contains(&stale), "{}", list.body);

    // The directory changes: the plan no longer holds, and its apply is refused in place, nothing sent.
    add_assigned_user(&portal, 8, "eve@contoso.example").await;
    let refused = portal.post(&format!("{stale}/apply"), Some(&cookie), "same-origin", &[("csrf", &csrf)]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("role=\"alert\"") && refused.body.contains("no longer holds"), "{}", refused.body);
    assert!(refused.body.contains("Nothing was sent"), "{}", refused.body);
    assert_eq!(target_users(&portal).await, 0);

    // A new plan, applied exactly: the Overview follows its cycle.
    let fresh = dry_run(&portal, &cookie, &csrf).await;
    let review = portal.get(&fresh, Some(&cookie)).await;
    assert!(review.body.contains("2 creates") && review.body.contains("eve@contoso.example"), "{}", review.body);
    let started = portal.post(&format!("{fresh}/apply"), Some(&cookie), "same-origin", &[("csrf", &csrf)]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    assert_eq!(started.header("location"), "/applications/github/overview?done=plan-applying");
    let overview = portal.get(started.header("location"), Some(&cookie)).await;
    assert!(overview.body.contains("The plan is being applied"), "{}", overview.body);
    let id = fresh.rsplit('/').next().unwrap();
    let mut applied = None;
    for _ in 0..400 {
        applied = portal.stores.engine.plan("github", id).await.unwrap().and_then(|plan| plan.applied);
        if applied.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(applied.is_some(), "the plan was applied");
    assert_eq!(target_users(&portal).await, 2);
    let review = portal.get(&fresh, Some(&cookie)).await;
    assert!(!review.body.contains("Apply exactly this plan"), "a plan applies once: {}", review.body);
    let again = portal.post(&format!("{fresh}/apply"), Some(&cookie), "same-origin", &[("csrf", &csrf)]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("was applied at"), "{}", again.body);
    // The apply authenticated with the enterprise's token: its last use shows.
    let tokens = portal.get("/service-provider/acme", Some(&cookie)).await;
    assert!(!tokens.body.contains(">Never<"), "{}", tokens.body);

    // The audit log has the apply; nothing to write now.
    let audit = portal.get("/audit?activity=restart&category=ProvisioningManagement", Some(&cookie)).await;
    assert!(audit.body.contains("Enable/restart provisioning configuration"), "{}", audit.body);
    let nothing = dry_run(&portal, &cookie, &csrf).await;
    let review = portal.get(&nothing, Some(&cookie)).await;
    assert!(review.body.contains("id=\"no-operations\""), "{}", review.body);

    // Addresses that name nothing.
    assert_eq!(portal.get("/applications/github/plans/nope", Some(&cookie)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(portal.get(&format!("{fresh}?start=500"), Some(&cookie)).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(portal.get("/applications/nope/plans", Some(&cookie)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_reader_reviews_plans_and_cannot_run_or_apply_them_nor_can_a_form_without_its_token() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    serve_target(&portal, &cookie, &csrf).await;
    let plan = dry_run(&portal, &cookie, &csrf).await;
    let (reader, reader_csrf) = portal.sign_in("rita@contoso.example").await;
    for path in ["/applications/github/plans", plan.as_str(), "/audit"] {
        let answer = portal.get(path, Some(&reader)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(answer.body.matches("method=\"post\"").count(), 1, "only the sign-out form on {path}");
        assert!(!answer.body.contains("Apply exactly this plan") && !answer.body.contains(">Run a dry run<"));
    }
    let apply = format!("{plan}/apply");
    for path in ["/applications/github/plans", apply.as_str()] {
        let answer = portal.post(path, Some(&reader), "same-origin", &[("csrf", &reader_csrf)]).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}");
        let answer = portal.post(path, Some(&cookie), "same-origin", &[]).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path} without the CSRF token");
        assert!(answer.body.contains("CsrfCheckFailed"));
    }
    assert_eq!(portal.stores.engine.plan_ids("github", 10).await.unwrap().len(), 1, "no new plan");
    let id = plan.rsplit('/').next().unwrap();
    assert!(portal.stores.engine.plan("github", id).await.unwrap().unwrap().applied.is_none());
    assert_eq!(target_users(&portal).await, 0, "nothing applied");
}

/// An audit entry of a test, `n` milliseconds after a fixed time.
fn entry(n: i64, activity: &str, result: &str) -> AuditEntry {
    let at = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap() + time::Duration::milliseconds(n);
    let actor = roster_directory::audit::Actor::new(roster_directory::audit::Initiator::command_line("ops"), at);
    let target =
        TargetResource::new("User", format!("user-{n}"), format!("User {n}")).with_properties(vec![ModifiedProperty {
            display_name: "jobTitle".into(),
            old_value: Some("\"Engineer\"".into()),
            new_value: Some(format!("\"{MARKUP}\"")),
        }]);
    let mut entry =
        AuditEntry::new(&actor, activity, Category::UserManagement, "Update", target).with_detail("n", n.to_string());
    entry.result = result.to_owned();
    entry
}

#[tokio::test]
async fn the_audit_log_filters_and_pages_on_the_server_and_shows_an_entrys_details() {
    let portal = portal().await;
    let (cookie, _) = portal.sign_in("ada@contoso.example").await;
    let entries: Vec<AuditEntry> = (0..120)
        .map(|n| {
            entry(n, if n % 2 == 0 { "Update user" } else { "Delete user" }, if n == 7 { "failure" } else { "success" })
        })
        .collect();
    portal.stores.directory.append_audit(&entries).await.unwrap();

    let page = portal.get("/audit?activity=add", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("href=\"/audit\" aria-current=\"page\""), "the nav section is current");
    assert!(page.body.contains("Add application") && page.body.contains("Add user"), "the harness's own entries");
    assert!(page.body.contains("&#60;img src=x onerror=alert(1)&#62;"), "mallory's entry: {}", page.body);
    assert!(!page.body.contains(MARKUP), "values are shown as text");

    // The test's entries, a page at a time, by the Next link; no entry twice, none lost.
    let rows = |body: &str| -> Vec<String> {
        body.split("<a href=\"/audit?")
            .skip(1)
            .map(|link| link.split('"').next().unwrap().replace("&#38;", "&"))
            .filter(|link| link.contains("entry="))
            .collect()
    };
    let window = "period=custom&from=2027-01-15&to=2027-01-15";
    let mut seen = Vec::new();
    let mut next = Some(format!("/audit?{window}&activity=user"));
    while let Some(path) = next {
        let answer = portal.get(&path, Some(&cookie)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        let links = rows(&answer.body);
        assert!(links.len() <= 50);
        seen.extend(links);
        next = answer
            .body
            .split("rel=\"next\"")
            .next()
            .and_then(|head| head.rsplit("<a href=\"").next())
            .filter(|_| answer.body.contains("rel=\"next\""))
            .map(|link| link.split('"').next().unwrap().replace("&#38;", "&"));
    }
    assert_eq!(seen.len(), 120, "every entry once");
    let ids: std::collections::BTreeSet<&str> = seen.iter().filter_map(|link| link.split("entry=").nth(1)).collect();
    assert_eq!(ids.len(), 120);

    // Filters: activity, status, initiator, target, category; each narrows on the server.
    let count = |body: &str| rows(body).len();
    let cases = [
        ("activity=delete+user", 50, "Delete user"),
        ("result=failure", 1, "Failure"),
        ("initiator=ops&activity=update", 50, "roster command line (ops)"),
        ("target=user-119", 1, "User 119"),
        ("category=RoleManagement", 0, "No audit entries match"),
    ];
    for (filter, expected, shown) in cases {
        let answer = portal.get(&format!("/audit?{window}&{filter}"), Some(&cookie)).await;
        assert_eq!(answer.status, StatusCode::OK, "{filter}");
        assert_eq!(count(&answer.body), expected, "{filter}: {}", answer.body);
        assert!(answer.body.contains(shown), "{filter}: {}", answer.body);
    }

    // The detail pane: the activity, the target with its modified properties, the additional details.
    let failure = portal.get(&format!("/audit?{window}&result=failure"), Some(&cookie)).await;
    let link = rows(&failure.body).remove(0);
    let detail = portal.get(&format!("/audit?{link}"), Some(&cookie)).await;
    assert!(detail.body.contains("id=\"detail\"") && detail.body.contains("<code>jobTitle</code>"), "{}", detail.body);
    assert!(detail.body.contains("&#34;Engineer&#34;") && !detail.body.contains(MARKUP), "{}", detail.body);
    assert!(detail.body.contains("roster-cli") && detail.body.contains("<dt>n</dt><dd>7</dd>"), "{}", detail.body);

    // Bad input, in place with what to do.
    let bad = [
        ("period=custom&from=15/01/2027", "YYYY-MM-DD"),
        ("period=custom&from=2027-01-16&to=2027-01-15", "swap"),
        ("period=fortnight", "use 24h, 7d, 30d, all or custom"),
        ("category=Nothing", "No category"),
        ("result=maybe", "success or failure"),
        ("before=yesterday", "Next link"),
    ];
    for (query, message) in bad {
        let answer = portal.get(&format!("/audit?{query}"), Some(&cookie)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(answer.body.contains(message) && answer.body.contains("role=\"alert\""), "{query}: {}", answer.body);
    }
    let missing = portal.get("/audit?entry=00000000-0000-0000-0000-000000000000", Some(&cookie)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

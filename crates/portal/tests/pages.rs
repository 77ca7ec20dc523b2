//! The portal's pages over a real SQLite store, through the router (no browser): signing in and out, the security
//! headers, and the attacks: a forged or cross-site form, a reader that posts, markup in directory values, a secret
//! token looked for in every page, a password guessed too often.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed step is a test failure with its message")]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use roster_service::provisioning;

mod support;

use support::*;

/// Every page a signed-in admin reaches.
const PAGES: &[&str] = &[
    "/",
    "/applications",
    "/applications/new",
    "/applications/github/overview",
    "/applications/github/overview/status",
    "/applications/github/provisioning",
    "/applications/github/mappings/users",
    "/applications/github/mappings/groups",
    "/applications/github/mappings/users/attribute",
    "/applications/github/mappings/users/attribute?target=userName",
    "/applications/github/scoping/users",
    "/applications/github/scoping/groups",
    "/applications/github/expression-builder?expression=Join(%22%20%22%2C%20%5BdisplayName%5D)&user=mallory%40contoso.example",
    "/applications/github/users-and-groups",
    "/applications/github/logs",
    "/applications/github/provision-on-demand",
    "/users",
    "/users?search=mall",
    "/users/deleted",
    "/users/new",
    "/users/import",
    "/users/00000000-0000-0000-0000-000000000007",
    "/users/00000000-0000-0000-0000-000000000007/edit",
    "/groups",
    "/groups/new",
    "/applications/github/plans",
    "/service-provider",
    "/audit",
    "/admins",
    "/admins/tokens",
    "/applications/github/definition",
    "/applications/github/unmanaged",
];

/// The pages only an admin who may change them opens: a reader gets 403.
fn writers_only(path: &str) -> bool {
    ["/new", "/import", "/edit"].iter().any(|end| path.ends_with(end))
        || ["/service-provider", "/admins"].iter().any(|start| path.starts_with(start))
}

#[tokio::test]
async fn signed_out_requests_go_to_sign_in_and_come_back() {
    let portal = portal().await;
    let answer = portal.get("/", None).await;
    assert_eq!((answer.status, answer.header("location")), (StatusCode::SEE_OTHER, "/sign-in"));
    let answer = portal.get("/applications/github/logs?status=Failure", None).await;
    assert_eq!(answer.header("location"), "/sign-in?next=%2Fapplications%2Fgithub%2Flogs%3Fstatus%3DFailure");
    let htmx = Request::get("/applications/github/overview/status").header("hx-request", "true");
    let answer = portal.send(htmx.body(Body::empty()).unwrap()).await;
    assert_eq!(
        (answer.status, answer.header("hx-redirect")),
        (StatusCode::UNAUTHORIZED, "/sign-in?next=%2Fapplications%2Fgithub%2Foverview%2Fstatus")
    );
    for forged in ["roster_session=roster_ps_0000", "roster_session=", "other=1"] {
        assert_eq!(portal.get("/", Some(forged)).await.status, StatusCode::SEE_OTHER, "{forged}");
    }

    let page = portal.get("/sign-in?next=%2Fapplications", None).await;
    assert!(page.body.contains("name=\"next\" value=\"/applications\""), "{}", page.body);
    let form = [("upn", "ada@contoso.example"), ("password", PASSWORD), ("next", "/applications")];
    let answer = portal.post("/sign-in", None, "same-origin", &form).await;
    assert_eq!(answer.header("location"), "/applications");
    let cookie = answer.header("set-cookie");
    for attribute in ["roster_session=roster_ps_", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: not Secure");
    for next in ["//evil.example/", "https://evil.example/", "/\\evil.example"] {
        let form = [("upn", "ada@contoso.example"), ("password", PASSWORD), ("next", next)];
        let answer = portal.post("/sign-in", None, "same-origin", &form).await;
        assert_eq!(answer.header("location"), "/", "{next}");
    }
}

#[tokio::test]
async fn every_page_renders_with_the_security_headers_and_sign_out_ends_the_session() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    for path in PAGES.iter().chain(&["/sign-in", "/no-such-page", "/assets/portal.css", "/assets/htmx.min.js"]) {
        let answer = portal.get(path, Some(&cookie)).await;
        let expected = if *path == "/no-such-page" { StatusCode::NOT_FOUND } else { StatusCode::OK };
        assert_eq!(answer.status, expected, "{path}: {}", answer.body);
        assert_eq!(answer.header("content-security-policy"), roster_portal::CONTENT_SECURITY_POLICY, "{path}");
        assert!(answer.header("content-security-policy").contains("frame-ancestors 'none'"));
        assert_eq!(answer.header("x-content-type-options"), "nosniff", "{path}");
        assert!(
            !answer.body.contains("<script>") && !answer.body.contains(" style=\""),
            "no inline script or style: {path}"
        );
    }
    let css = portal.get("/assets/portal.css", None).await;
    let etag = css.header("etag").to_owned();
    let again = Request::get("/assets/portal.css").header(header::IF_NONE_MATCH, &etag).body(Body::empty()).unwrap();
    assert_eq!(portal.send(again).await.status, StatusCode::NOT_MODIFIED);

    let answer = portal.post("/sign-out", Some(&cookie), "same-origin", &[("csrf", &csrf)]).await;
    assert_eq!(answer.header("location"), "/sign-in?done=signed-out");
    assert!(answer.header("set-cookie").contains("Max-Age=0"));
    assert_eq!(portal.get("/", Some(&cookie)).await.status, StatusCode::SEE_OTHER, "the session ended");
}

#[tokio::test]
async fn a_form_without_the_token_or_from_another_site_is_refused_and_changes_nothing() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    assert!(portal.enabled().await);
    let forged = [
        ("same-origin", vec![]),
        ("same-origin", vec![("csrf", "0000")]),
        ("cross-site", vec![("csrf", csrf.as_str())]),
        ("same-site", vec![("csrf", csrf.as_str())]),
    ];
    for (site, form) in &forged {
        let answer = portal.post("/applications/github/stop", Some(&cookie), site, form).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{site} {form:?}");
        assert!(answer.body.contains("CsrfCheckFailed"), "{}", answer.body);
        assert!(portal.enabled().await, "nothing changed: {site} {form:?}");
    }
    // Without Fetch Metadata, a foreign Origin is refused too.
    let request = Request::post("/applications/github/stop")
        .header(header::COOKIE, &cookie)
        .header(header::ORIGIN, "https://evil.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={csrf}")))
        .unwrap();
    assert_eq!(portal.send(request).await.status, StatusCode::FORBIDDEN);
    assert!(portal.enabled().await);
    // A cross-site sign-in (login CSRF) is refused as well.
    let form = [("upn", "ada@contoso.example"), ("password", PASSWORD)];
    assert_eq!(portal.post("/sign-in", None, "cross-site", &form).await.status, StatusCode::FORBIDDEN);

    let answer = portal.post("/applications/github/stop", Some(&cookie), "same-origin", &[("csrf", &csrf)]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert!(!portal.enabled().await, "the genuine form stops provisioning");
}

#[tokio::test]
async fn a_reports_reader_sees_no_button_that_changes_anything_and_cannot_post() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("rita@contoso.example").await;
    for path in PAGES.iter().filter(|path| !writers_only(path)) {
        let answer = portal.get(path, Some(&cookie)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        let posts = answer.body.matches("method=\"post\"").count();
        assert_eq!(posts, usize::from(!path.ends_with("/status")), "only the sign-out form on {path}");
        assert!(!answer.body.contains("name=\"action\" value=\"save\""), "{path}");
    }
    for path in PAGES.iter().filter(|path| writers_only(path)) {
        assert_eq!(portal.get(path, Some(&cookie)).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let posts: [(&str, Vec<(&str, &str)>); 5] = [
        ("/applications/github/stop", vec![]),
        ("/applications/github/restart", vec![]),
        ("/applications/github/provisioning", vec![("action", "save"), ("tenant_url", "https://evil.example/scim")]),
        (
            "/applications/github/users-and-groups",
            vec![("action", "remove"), ("id", "00000000-0000-0000-0000-000000000007")],
        ),
        ("/applications/new", vec![("template", "scim"), ("name", "other")]),
    ];
    for (path, fields) in posts {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        let answer = portal.post(path, Some(&cookie), "same-origin", &form).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}: {}", answer.body);
    }
    assert!(portal.enabled().await);
    let definition = provisioning::definition(&portal.stores, "github").await.unwrap();
    assert_eq!(definition.target.tenant_url, "http://127.0.0.1:9/scim/v2/enterprises/nowhere");
    assert_eq!(portal.stores.directory.assignments("github").await.unwrap().len(), 1);
}

#[tokio::test]
async fn directory_values_are_shown_as_text_and_the_secret_token_never_appears() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    // A new token through the Provisioning page, saved.
    let form = [
        ("csrf", csrf.as_str()),
        ("action", "save"),
        ("tenant_url", "http://127.0.0.1:9/scim/v2/enterprises/nowhere"),
        ("secret_token", "ghp_a-newer-secret-token-987654"),
        ("threshold", "500"),
        ("scope", "assigned"),
        ("status", "on"),
    ];
    let answer = portal.post("/applications/github/provisioning", Some(&cookie), "same-origin", &form).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains("Saved.") && answer.body.contains("failed Test Connection"), "{}", answer.body);
    let mut seen = vec![answer];
    for path in PAGES {
        seen.push(portal.get(path, Some(&cookie)).await);
    }
    let csv = portal.get("/applications/github/logs?format=csv", Some(&cookie)).await;
    seen.push(csv);
    for answer in &seen {
        for secret in [TOKEN, "ghp_a-newer-secret-token-987654"] {
            assert!(!answer.body.contains(secret), "the secret token appears: {}", answer.body);
        }
        assert!(!answer.body.contains(MARKUP), "markup from the directory is escaped: {}", answer.body);
    }
    let assignments = portal.get("/applications/github/users-and-groups", Some(&cookie)).await;
    assert!(assignments.body.contains("&#60;img src=x onerror=alert(1)&#62;"), "{}", assignments.body);
}

#[tokio::test]
async fn a_guessed_password_is_throttled_even_when_it_is_finally_right() {
    let portal = portal().await;
    for _ in 0..roster_service::throttle::FAILURES {
        let form = [("upn", "ada@contoso.example"), ("password", "not the password")];
        let answer = portal.post("/sign-in", None, "same-origin", &form).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert!(answer.body.contains("id=\"form-error\""));
    }
    let form = [("upn", "ADA@contoso.example"), ("password", PASSWORD)];
    let answer = portal.post("/sign-in", None, "same-origin", &form).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS, "{}", answer.body);
    assert!(answer.header("set-cookie").is_empty());
    // Another account is not throttled by these failures (no address is known here).
    let form = [("upn", "rita@contoso.example"), ("password", PASSWORD)];
    assert_eq!(portal.post("/sign-in", None, "same-origin", &form).await.status, StatusCode::SEE_OTHER);
}

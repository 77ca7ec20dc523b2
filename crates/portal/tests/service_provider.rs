//! The Service provider pages over a real SQLite store: enterprises with their SCIM base URL, Create enterprise,
//! an enterprise's tokens, Create token (its secret on the answer page and on no page after), Revoke confirmed by
//! the token's name; bad input in place, a reader refused, a form without its CSRF token refused.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed step is a test failure with its message")]

use axum::http::StatusCode;
use roster_service::admin;

mod support;

use support::*;

/// Form fields.
type Fields<'a> = &'a [(&'a str, &'a str)];

/// Creates the enterprise `acme` (plain SCIM) through the page.
async fn create_acme(portal: &Portal, cookie: &str, csrf: &str) {
    let form = [("csrf", csrf), ("slug", "acme"), ("shortcode", "acme"), ("profile", "scim")];
    let answer = portal.post("/service-provider", Some(cookie), "same-origin", &form).await;
    assert_eq!((answer.status, answer.header("location")), (StatusCode::SEE_OTHER, "/service-provider/acme"));
}

/// The secret shown on a token's answer page.
fn secret_of(body: &str) -> String {
    let value = body.split("id=\"secret\" value=\"").nth(1).expect("the secret's field");
    value.split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn an_enterprise_is_created_and_listed_with_its_scim_base_url() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let empty = portal.get("/service-provider", Some(&cookie)).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("id=\"no-enterprises\"") && empty.body.contains("Create enterprise"));
    assert!(empty.body.contains("href=\"/service-provider\" aria-current=\"page\""), "the nav section is current");

    create_acme(&portal, &cookie, &csrf).await;
    let list = portal.get("/service-provider", Some(&cookie)).await;
    assert!(list.body.contains("<a href=\"/service-provider/acme\">acme</a>"), "{}", list.body);
    assert!(list.body.contains("<code>http://portal.test/scim/v2/enterprises/acme</code>"), "{}", list.body);
    let page = portal.get("/service-provider/acme", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"no-tokens\"") && page.body.contains(">scim<"), "{}", page.body);
    let enterprise = admin::enterprise(&portal.stores, "acme").await.unwrap();
    assert_eq!(enterprise.profile.as_str(), "scim");

    // Bad input is refused in place, with what was typed kept and what to do.
    let cases: [(Fields, StatusCode, &str); 4] = [
        (&[("slug", "Not A Slug"), ("shortcode", "abc")], StatusCode::BAD_REQUEST, "invalid enterprise slug"),
        (&[("slug", "globex"), ("shortcode", "x")], StatusCode::BAD_REQUEST, "invalid shortcode"),
        (&[("slug", "globex"), ("shortcode", "glbx"), ("profile", "okta")], StatusCode::BAD_REQUEST, "unknown profile"),
        (&[("slug", "acme"), ("shortcode", "other")], StatusCode::CONFLICT, "acme"),
    ];
    for (fields, status, message) in cases {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let answer = portal.post("/service-provider", Some(&cookie), "same-origin", &form).await;
        assert_eq!(answer.status, status, "{fields:?}: {}", answer.body);
        assert!(answer.body.contains("role=\"alert\"") && answer.body.contains(message), "{}", answer.body);
        assert!(answer.body.contains("The enterprise was not created"), "{}", answer.body);
    }
    let answer =
        portal.post("/service-provider", Some(&cookie), "same-origin", &[("csrf", &csrf), ("slug", "Bad!")]).await;
    assert!(answer.body.contains("value=\"Bad!\""), "what was typed is kept: {}", answer.body);
    assert_eq!(admin::enterprises(&portal.stores).await.unwrap().len(), 1);
    assert_eq!(portal.get("/service-provider/nobody", Some(&cookie)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_token_secret_is_shown_on_its_creation_answer_only() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    create_acme(&portal, &cookie, &csrf).await;
    let form = [("csrf", csrf.as_str()), ("name", "github-app"), ("scope", "scim:enterprise")];
    let created = portal.post("/service-provider/acme/tokens", Some(&cookie), "same-origin", &form).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.header("cache-control"), "no-store");
    let secret = secret_of(&created.body);
    assert!(secret.starts_with("roster_pat_") && secret.len() > 40, "{secret}");
    assert!(created.body.contains("it will not be shown again"), "{}", created.body);
    assert!(created.body.contains("http://portal.test/scim/v2/enterprises/acme"), "the Tenant URL to use with it");
    assert_eq!(created.body.matches(&secret).count(), 1, "once, in its field");

    // The token works, and its use is recorded.
    let provider = portal.stores.provider(roster_provider::Limits::default());
    provider.authenticate("acme", Some(&secret)).await.unwrap();

    let mut pages = Vec::new();
    for path in ["/", "/service-provider", "/service-provider/acme", "/audit", "/applications"] {
        let answer = portal.get(path, Some(&cookie)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        pages.push((path.to_owned(), answer));
    }
    let audit = &pages[3].1;
    let link = audit.body.split("<a href=\"/audit?").nth(1).expect("an audit entry").split('"').next().unwrap();
    let detail = portal.get(&format!("/audit?{}", link.replace("&#38;", "&")), Some(&cookie)).await;
    assert!(detail.body.contains("id=\"detail\"") && detail.body.contains("Add enterprise token"), "{}", detail.body);
    assert!(detail.body.contains("<dt>token</dt><dd>github-app</dd>"), "{}", detail.body);
    pages.push(("audit detail".to_owned(), detail));
    for (path, answer) in &pages {
        assert!(!answer.body.contains(&secret), "the secret appears again on {path}");
        assert!(!answer.body.contains(&secret[11..]), "nor any of its body on {path}");
    }
    let tokens = &pages[2].1.body;
    assert!(tokens.contains("<th scope=\"row\">github-app</th>"), "{tokens}");
    assert!(tokens.contains("<code>scim:enterprise</code>") && tokens.contains(">Active<"), "{tokens}");
    assert!(!tokens.contains(">Never<"), "its last use is shown: {tokens}");
    let record = admin::tokens(&portal.stores, "acme").await.unwrap().remove(0);
    assert!(record.last_used.is_some() && record.revoked.is_none());

    // A second token, never used, and one without a name.
    let form = [("csrf", csrf.as_str()), ("name", "spare")];
    assert_eq!(
        portal.post("/service-provider/acme/tokens", Some(&cookie), "same-origin", &form).await.status,
        StatusCode::CREATED
    );
    let page = portal.get("/service-provider/acme", Some(&cookie)).await;
    assert!(page.body.contains(">Never<"), "{}", page.body);
    let form = [("csrf", csrf.as_str()), ("name", "  ")];
    let answer = portal.post("/service-provider/acme/tokens", Some(&cookie), "same-origin", &form).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.body.contains("The token was not created") && answer.body.contains("role=\"alert\""));
    let form = [("csrf", csrf.as_str()), ("name", "x"), ("scope", "write:everything")];
    let answer = portal.post("/service-provider/acme/tokens", Some(&cookie), "same-origin", &form).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.body.contains("unknown token scope"), "{}", answer.body);
    assert_eq!(admin::tokens(&portal.stores, "acme").await.unwrap().len(), 2);
    let form = [("csrf", csrf.as_str()), ("name", "x")];
    let answer = portal.post("/service-provider/nobody/tokens", Some(&cookie), "same-origin", &form).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_token_is_revoked_once_its_name_is_typed_to_confirm() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    create_acme(&portal, &cookie, &csrf).await;
    let form = [("csrf", csrf.as_str()), ("name", MARKUP)];
    let created = portal.post("/service-provider/acme/tokens", Some(&cookie), "same-origin", &form).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert!(!created.body.contains(MARKUP), "a token's name is shown as text: {}", created.body);
    let secret = secret_of(&created.body);
    let id = admin::tokens(&portal.stores, "acme").await.unwrap()[0].id.to_string();
    let path = format!("/service-provider/acme/tokens/{id}/revoke");

    let page = portal.get("/service-provider/acme", Some(&cookie)).await;
    assert!(page.body.contains(&format!("action=\"{path}\"")) && page.body.contains("name=\"confirm\""));
    assert!(!page.body.contains(MARKUP) && page.body.contains("&#60;img src=x onerror=alert(1)&#62;"));
    for confirm in ["", "the wrong name"] {
        let answer = portal.post(&path, Some(&cookie), "same-origin", &[("csrf", &csrf), ("confirm", confirm)]).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{confirm:?}");
        assert!(answer.body.contains("was not revoked") && answer.body.contains("role=\"alert\""), "{}", answer.body);
    }
    assert!(!admin::tokens(&portal.stores, "acme").await.unwrap()[0].is_revoked());

    let answer = portal.post(&path, Some(&cookie), "same-origin", &[("csrf", &csrf), ("confirm", MARKUP)]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert!(answer.header("location").starts_with("/service-provider/acme?revoked="));
    let page = portal.get(answer.header("location"), Some(&cookie)).await;
    assert!(page.body.contains("role=\"status\"") && page.body.contains("was revoked"), "{}", page.body);
    assert!(page.body.contains(">Revoked<") && !page.body.contains(&format!("action=\"{path}\"")), "{}", page.body);
    assert!(!page.body.contains(MARKUP));
    assert!(admin::tokens(&portal.stores, "acme").await.unwrap()[0].is_revoked());
    let provider = portal.stores.provider(roster_provider::Limits::default());
    assert!(provider.authenticate("acme", Some(&secret)).await.is_err(), "a revoked token is refused");

    let again = portal.post(&path, Some(&cookie), "same-origin", &[("csrf", &csrf), ("confirm", MARKUP)]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    for missing in ["/service-provider/acme/tokens/999/revoke", "/service-provider/acme/tokens/x/revoke"] {
        let answer = portal.post(missing, Some(&cookie), "same-origin", &[("csrf", &csrf), ("confirm", "x")]).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{missing}");
    }
}

#[tokio::test]
async fn a_reader_or_a_form_without_its_token_changes_nothing() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    create_acme(&portal, &cookie, &csrf).await;
    let secret = admin::create_token(&portal.stores, &cli(), "acme", "ci", &[]).await.unwrap();
    let id = admin::tokens(&portal.stores, "acme").await.unwrap()[0].id.to_string();
    let revoke = format!("/service-provider/acme/tokens/{id}/revoke");
    let posts: [(&str, Vec<(&str, &str)>); 3] = [
        ("/service-provider", vec![("slug", "globex"), ("shortcode", "glbx")]),
        ("/service-provider/acme/tokens", vec![("name", "stolen")]),
        (&revoke, vec![("confirm", "ci")]),
    ];
    // Without the CSRF token, or from another site.
    for (path, fields) in &posts {
        let answer = portal.post(path, Some(&cookie), "same-origin", fields).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}");
        assert!(answer.body.contains("CsrfCheckFailed"));
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields.iter().copied());
        assert_eq!(portal.post(path, Some(&cookie), "cross-site", &form).await.status, StatusCode::FORBIDDEN);
    }
    // A Reports Reader sees neither the pages nor the link, and cannot post.
    let (reader, reader_csrf) = portal.sign_in("rita@contoso.example").await;
    for path in ["/service-provider", "/service-provider/acme"] {
        let answer = portal.get(path, Some(&reader)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}");
        assert!(answer.body.contains("Global Administrator"), "{}", answer.body);
    }
    let dashboard = portal.get("/", Some(&reader)).await;
    assert_eq!(dashboard.body.matches("method=\"post\"").count(), 1, "only the sign-out form");
    for (path, fields) in &posts {
        let mut form = vec![("csrf", reader_csrf.as_str())];
        form.extend(fields.iter().copied());
        let answer = portal.post(path, Some(&reader), "same-origin", &form).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}: {}", answer.body);
        assert!(!answer.body.contains(&secret));
    }
    assert_eq!(admin::enterprises(&portal.stores).await.unwrap().len(), 1);
    let tokens = admin::tokens(&portal.stores, "acme").await.unwrap();
    assert_eq!((tokens.len(), tokens[0].is_revoked()), (1, false), "nothing changed");
}

//! The Admins pages over a real SQLite store, through the router: the directory users with roles, Create admin,
//! Add role and Remove role (your own last Global Administrator role refused with the reason); the admin API
//! tokens: Create (the secret on its answer page only), the list (never a secret), Revoke after a confirmation.
//! A reader gets 403 and no link; a form without the CSRF token changes nothing; markup is shown as text.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed step is a test failure with its message")]

use axum::http::StatusCode;
use roster_directory::access::Role;
use roster_service::access;
use time::OffsetDateTime;

mod support;

use support::*;

const MALLORY: &str = "00000000-0000-0000-0000-000000000007";

async fn roles_of(portal: &Portal, upn: &str) -> Vec<Role> {
    let user = portal.stores.directory.user_by_upn(upn).await.unwrap().expect("the user exists");
    portal.stores.directory.roles(user.id()).await.unwrap()
}

fn form<'a>(csrf: &'a str, fields: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    form
}

/// Whether a page shows a token secret (or the start of one): `roster_at_` and a hex digit.
fn shows_a_secret(body: &str) -> bool {
    body.match_indices("roster_at_")
        .any(|(at, _)| body[at + "roster_at_".len()..].chars().next().is_some_and(|next| next.is_ascii_hexdigit()))
}

/// The secret of a token's answer page.
fn secret_of(body: &str) -> String {
    let field = body.find("id=\"secret\"").expect("the secret's field on its answer page");
    let start = field + body[field..].find("roster_at_").expect("the secret in its field");
    body[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

#[tokio::test]
async fn admins_are_listed_created_given_roles_and_stripped_of_them() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let dashboard = portal.get("/", Some(&cookie)).await;
    assert!(dashboard.body.contains("href=\"/admins\""), "the nav links to Admins");

    let page = portal.get("/admins", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("ada@contoso.example") && page.body.contains("Global Administrator"));
    assert!(page.body.contains("rita@contoso.example") && page.body.contains("Reports Reader"));
    assert!(!page.body.contains("mallory@contoso.example"), "a user without a role is not an admin");
    assert!(page.body.contains("(you)"));

    // Create admin, with a role other than Global Administrator.
    let fields = [
        ("action", "create"),
        ("upn", "grace@contoso.example"),
        ("display_name", "Grace"),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
        ("role", "application-owner:github"),
    ];
    let answer = portal.post("/admins", Some(&cookie), "same-origin", &form(&csrf, &fields)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.header("location"), "/admins?done=created&who=grace%40contoso.example");
    assert_eq!(roles_of(&portal, "grace@contoso.example").await, [Role::ApplicationOwner("github".to_owned())]);
    let page = portal.get(answer.header("location"), Some(&cookie)).await;
    assert!(page.body.contains("Created the admin grace@contoso.example"), "{}", page.body);
    assert!(page.body.contains("Application Owner of github"));
    // The new admin signs in.
    portal.sign_in("grace@contoso.example").await;

    // Add role by user principal name, to a user who had none; then on the row; then Remove role.
    let fields = [("action", "add"), ("user", "mallory@contoso.example"), ("role", "reports-reader")];
    let answer = portal.post("/admins", Some(&cookie), "same-origin", &form(&csrf, &fields)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(roles_of(&portal, "mallory@contoso.example").await, [Role::ReportsReader]);
    let fields = [("action", "add"), ("id", MALLORY), ("role", "application-administrator")];
    let answer = portal.post("/admins", Some(&cookie), "same-origin", &form(&csrf, &fields)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(
        roles_of(&portal, "mallory@contoso.example").await,
        [Role::ApplicationAdministrator, Role::ReportsReader]
    );
    let fields = [("action", "remove"), ("id", MALLORY), ("role", "reports-reader")];
    let answer = portal.post("/admins", Some(&cookie), "same-origin", &form(&csrf, &fields)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(roles_of(&portal, "mallory@contoso.example").await, [Role::ApplicationAdministrator]);
    let page = portal.get("/admins", Some(&cookie)).await;
    assert!(page.body.contains("aria-label=\"Remove Application Administrator from mallory@contoso.example\""));
    assert!(!page.body.contains(MARKUP), "markup display names are escaped");
    assert!(page.body.contains("&#60;img src=x onerror=alert(1)&#62;"), "{}", page.body);
}

#[tokio::test]
async fn bad_input_is_refused_in_place_and_nothing_is_created() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let create = |upn: &'static str, password: &'static str, confirm: &'static str, role: &'static str| {
        vec![
            ("action", "create"),
            ("upn", upn),
            ("display_name", MARKUP),
            ("password", password),
            ("confirm", confirm),
            ("role", role),
        ]
    };
    let cases = [
        (create("grace@contoso.example", PASSWORD, "another password!", "reports-reader"), 400, "do not match"),
        (create("grace@contoso.example", "short", "short", "reports-reader"), 400, "at least 12 characters"),
        (create("grace@contoso.example", PASSWORD, PASSWORD, "root"), 400, "unknown role"),
        (create("grace@contoso.example", PASSWORD, PASSWORD, "application-owner:nope"), 404, "does not exist"),
        (create("not an upn", PASSWORD, PASSWORD, "reports-reader"), 400, ""),
        (create("rita@contoso.example", PASSWORD, PASSWORD, "reports-reader"), 409, "exists already"),
    ];
    for (fields, status, message) in cases {
        let answer = portal.post("/admins", Some(&cookie), "same-origin", &form(&csrf, &fields)).await;
        assert_eq!(answer.status.as_u16(), status, "{fields:?}: {}", answer.body);
        assert!(answer.body.contains("id=\"form-error\""), "{}", answer.body);
        assert!(answer.body.contains(message), "{message}: {}", answer.body);
        assert!(!answer.body.contains(MARKUP), "the display name sent back is escaped");
        assert!(!answer.body.contains(PASSWORD), "passwords are never sent back");
    }
    assert!(portal.stores.directory.user_by_upn("grace@contoso.example").await.unwrap().is_none());

    let fields = [("action", "add"), ("user", "nobody@contoso.example"), ("role", "reports-reader")];
    let answer = portal.post("/admins", Some(&cookie), "same-origin", &form(&csrf, &fields)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("No directory user is") && answer.body.contains("value=\"nobody@contoso.example\""));
    let fields = [("action", "add"), ("user", "mallory@contoso.example"), ("role", "superuser")];
    let answer = portal.post("/admins", Some(&cookie), "same-origin", &form(&csrf, &fields)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(roles_of(&portal, "mallory@contoso.example").await.is_empty());
    let answer = portal.post("/admins", Some(&cookie), "same-origin", &form(&csrf, &[("action", "promote")])).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_last_global_administrator_cannot_take_their_own_role() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let ada = portal.stores.directory.user_by_upn("ada@contoso.example").await.unwrap().unwrap();
    let fields = [("action", "remove"), ("id", ada.id().as_str()), ("role", "global-administrator")];
    let answer = portal.post("/admins", Some(&cookie), "same-origin", &form(&csrf, &fields)).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    assert!(answer.body.contains("you are the last Global Administrator"), "{}", answer.body);
    assert!(answer.body.contains("role=\"alert\""));
    assert_eq!(roles_of(&portal, "ada@contoso.example").await, [Role::GlobalAdministrator]);

    // With another Global Administrator, Ada may step down, and the page is closed to her at once.
    let fields = [("action", "add"), ("user", "rita@contoso.example"), ("role", "global-administrator")];
    assert_eq!(portal.post("/admins", Some(&cookie), "same-origin", &form(&csrf, &fields)).await.status, 303);
    let fields = [("action", "remove"), ("id", ada.id().as_str()), ("role", "global-administrator")];
    let answer = portal.post("/admins", Some(&cookie), "same-origin", &form(&csrf, &fields)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert!(roles_of(&portal, "ada@contoso.example").await.is_empty());
}

#[tokio::test]
async fn a_token_secret_is_shown_once_and_a_revoke_is_confirmed_first() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let page = portal.get("/admins/tokens", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No admin API tokens."));

    let fields = [("action", "create"), ("name", "ci-deploy"), ("role", "reports-reader"), ("expires", "90")];
    let answer = portal.post("/admins/tokens", Some(&cookie), "same-origin", &form(&csrf, &fields)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains("Copy the token now"), "{}", answer.body);
    let secret = secret_of(&answer.body);
    assert_eq!(secret.len(), "roster_at_".len() + 64, "{secret}");
    let principal = access::authenticate_token(&portal.stores, &secret, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(principal.expect("the token works").roles, [Role::ReportsReader]);
    let token = access::tokens(&portal.stores).await.unwrap().remove(0);
    let days = (token.expires.unwrap() - token.created).whole_days();
    assert_eq!(days, 90);

    // Never again: not on the list, nor anywhere else.
    for path in ["/admins/tokens", "/admins", "/", "/applications/github/overview"] {
        let page = portal.get(path, Some(&cookie)).await;
        assert!(!page.body.contains(&secret), "{path} shows the secret");
    }
    let list = portal.get("/admins/tokens", Some(&cookie)).await;
    assert!(list.body.contains("ci-deploy") && list.body.contains("Reports Reader"), "{}", list.body);
    assert!(!shows_a_secret(&list.body), "not even a part of a secret: {}", list.body);

    // Revoke asks first, then revokes.
    let fields = [("action", "revoke"), ("name", "ci-deploy")];
    let answer = portal.post("/admins/tokens", Some(&cookie), "same-origin", &form(&csrf, &fields)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains("Revoke ci-deploy?") && answer.body.contains("name=\"confirmed\" value=\"on\""));
    assert_eq!(access::tokens(&portal.stores).await.unwrap().len(), 1, "not revoked before confirming");
    let fields = [("action", "revoke"), ("name", "ci-deploy"), ("confirmed", "on")];
    let answer = portal.post("/admins/tokens", Some(&cookie), "same-origin", &form(&csrf, &fields)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.header("location"), "/admins/tokens?done=revoked&name=ci-deploy");
    assert!(access::tokens(&portal.stores).await.unwrap().is_empty());
    assert!(access::authenticate_token(&portal.stores, &secret, OffsetDateTime::now_utc()).await.unwrap().is_none());
    let page = portal.get(answer.header("location"), Some(&cookie)).await;
    assert!(page.body.contains("Revoked ci-deploy"));
    let answer = portal.post("/admins/tokens", Some(&cookie), "same-origin", &form(&csrf, &fields)).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "an unknown token");

    // A token that never expires.
    let fields = [("action", "create"), ("name", "forever"), ("role", "global-administrator"), ("expires", "never")];
    let answer = portal.post("/admins/tokens", Some(&cookie), "same-origin", &form(&csrf, &fields)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains("Never: until revoked"));
    assert_eq!(access::tokens(&portal.stores).await.unwrap()[0].expires, None);
}

/// A Create token form, the status it gets and what its answer says.
type TokenCase = ([(&'static str, &'static str); 4], u16, &'static str);

#[tokio::test]
async fn a_bad_token_form_is_refused_in_place() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let fields = [("action", "create"), ("name", "taken"), ("role", "reports-reader"), ("expires", "30")];
    assert_eq!(portal.post("/admins/tokens", Some(&cookie), "same-origin", &form(&csrf, &fields)).await.status, 200);
    let cases: [TokenCase; 5] = [
        ([("action", "create"), ("name", MARKUP), ("role", "reports-reader"), ("expires", "30")], 400, "use 1 to 64"),
        ([("action", "create"), ("name", "ok"), ("role", "root"), ("expires", "30")], 400, "unknown role"),
        ([("action", "create"), ("name", "ok"), ("role", "reports-reader"), ("expires", "31")], 400, "Expires"),
        ([("action", "create"), ("name", ""), ("role", "reports-reader"), ("expires", "30")], 400, "Enter the token"),
        ([("action", "create"), ("name", "taken"), ("role", "reports-reader"), ("expires", "30")], 409, "taken"),
    ];
    for (fields, status, message) in cases {
        let answer = portal.post("/admins/tokens", Some(&cookie), "same-origin", &form(&csrf, &fields)).await;
        assert_eq!(answer.status.as_u16(), status, "{fields:?}: {}", answer.body);
        assert!(answer.body.contains("id=\"form-error\"") && answer.body.contains(message), "{}", answer.body);
        assert!(!shows_a_secret(&answer.body), "no secret on a refusal");
        assert!(!answer.body.contains(MARKUP), "the name sent back is escaped");
    }
    assert_eq!(access::tokens(&portal.stores).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_reader_gets_403_and_sees_no_link_and_a_form_without_the_token_changes_nothing() {
    let portal = portal().await;
    let (reader, reader_csrf) = portal.sign_in("rita@contoso.example").await;
    let dashboard = portal.get("/", Some(&reader)).await;
    assert!(!dashboard.body.contains("href=\"/admins\""), "no Admins link for a reader");
    for path in ["/admins", "/admins/tokens"] {
        let answer = portal.get(path, Some(&reader)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!answer.body.contains("action=\"/admins"), "no form on {path}");
    }
    let posts: [(&str, Vec<(&str, &str)>); 4] = [
        ("/admins", vec![("action", "add"), ("user", "rita@contoso.example"), ("role", "global-administrator")]),
        ("/admins", vec![("action", "remove"), ("id", MALLORY), ("role", "reports-reader")]),
        ("/admins/tokens", vec![("action", "create"), ("name", "mine"), ("role", "global-administrator")]),
        ("/admins/tokens", vec![("action", "revoke"), ("name", "ci"), ("confirmed", "on")]),
    ];
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let fields = [("action", "create"), ("name", "ci"), ("role", "reports-reader"), ("expires", "30")];
    assert_eq!(portal.post("/admins/tokens", Some(&cookie), "same-origin", &form(&csrf, &fields)).await.status, 200);
    for (path, fields) in &posts {
        let answer = portal.post(path, Some(&reader), "same-origin", &form(&reader_csrf, fields)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path} {fields:?}");
        // Ada's own session, without its CSRF token or from another site.
        let answer = portal.post(path, Some(&cookie), "same-origin", fields).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path} {fields:?}");
        assert!(answer.body.contains("CsrfCheckFailed"));
        let answer = portal.post(path, Some(&cookie), "cross-site", &form(&csrf, fields)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path} {fields:?}");
    }
    let create = [
        ("action", "create"),
        ("upn", "eve@contoso.example"),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
        ("role", "global-administrator"),
    ];
    assert_eq!(portal.post("/admins", Some(&cookie), "same-origin", &create).await.status, 403);
    assert_eq!(portal.post("/admins", Some(&reader), "same-origin", &form(&reader_csrf, &create)).await.status, 403);
    assert!(portal.stores.directory.user_by_upn("eve@contoso.example").await.unwrap().is_none());
    assert_eq!(roles_of(&portal, "rita@contoso.example").await, [Role::ReportsReader]);
    let names: Vec<String> =
        access::tokens(&portal.stores).await.unwrap().into_iter().map(|token| token.name).collect();
    assert_eq!(names, ["ci"], "nothing created or revoked");
}

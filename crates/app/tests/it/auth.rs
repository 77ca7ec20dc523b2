//! Token authentication (401), scopes (403) and tenant isolation (404): reference §2.1, §2.7.

use reqwest::{Method, StatusCode};
use roster_app::admin;
use serde_json::{Value, json};

use crate::support::{Answer, GROUP_URN, TestServer, patch_body, user_body};

/// Sends a GET to `url` with exactly this `Authorization` header (or none).
async fn get_with_authorization(server: &TestServer, url: &str, authorization: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = authorization.map(|value| ("authorization", value)).into_iter().collect();
    server.send_as("", Method::GET, url, None, &headers).await
}

/// Checks the answer to a GET of acme's `/Users` with this `Authorization` header: 200 with a list, or 401 with
/// a SCIM error body and a `WWW-Authenticate` challenge.
async fn check_authorization(server: &TestServer, case: &str, authorization: Option<&str>, expected: u16) {
    let answer = get_with_authorization(server, &format!("{}/Users", server.base), authorization).await;
    assert_eq!(answer.status.as_u16(), expected, "{case}: {}", answer.body);
    if expected == 401 {
        answer.assert_error(401, None);
        let challenge = answer.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Bearer"), "{case}: WWW-Authenticate {challenge:?}");
    } else {
        assert_eq!(answer.body["totalResults"], 0, "{case}: {}", answer.body);
    }
}

#[tokio::test]
async fn authorization_header_forms() {
    let server = TestServer::start().await;
    let token = server.token.clone();
    let (head, last) = token.split_at(token.len() - 1);
    let altered = format!("Bearer {head}{}", if last == "A" { "B" } else { "A" });
    let cases: &[(&str, Option<String>, u16)] = &[
        ("no Authorization header", None, 401),
        ("an unknown token", Some("Bearer roster_pat_0000000000000000000000000000000000000000".into()), 401),
        ("a Basic credential", Some("Basic dXNlcjpwYXNzd29yZA==".into()), 401),
        ("the token without a scheme", Some(token.clone()), 401),
        ("the token with one character changed", Some(altered), 401),
        ("Bearer", Some(format!("Bearer {token}")), 200),
        ("bearer, lowercase", Some(format!("bearer {token}")), 200),
        ("GitHub's `token` scheme", Some(format!("token {token}")), 200),
    ];
    for (case, authorization, expected) in cases {
        check_authorization(&server, case, authorization.as_deref(), *expected).await;
    }
}

#[tokio::test]
async fn a_revoked_token_is_401() {
    let server = TestServer::start().await;
    let second = admin::create_token(&server.stores, &crate::support::actor(), "acme", "ci", &[]).await.expect("token");
    let bearer = format!("Bearer {second}");
    check_authorization(&server, "before revocation", Some(&bearer), 200).await;
    let tokens = admin::tokens(&server.stores, "acme").await.expect("tokens");
    let ci = tokens.iter().find(|record| record.name == "ci").expect("the ci token");
    admin::revoke_token(&server.stores, &crate::support::actor(), "acme", ci.id).await.expect("revoked");
    check_authorization(&server, "after revocation", Some(&bearer), 401).await;
    let own = format!("Bearer {}", server.token);
    check_authorization(&server, "another token of the enterprise", Some(&own), 200).await;
}

#[tokio::test]
async fn scopes() {
    let server = TestServer::start().await;
    let read_only =
        admin::create_token(&server.stores, &crate::support::actor(), "acme", "reader", &["read:enterprise".into()])
            .await
            .expect("token");
    let legacy =
        admin::create_token(&server.stores, &crate::support::actor(), "acme", "legacy", &["admin:enterprise".into()])
            .await
            .expect("token");
    let users = format!("{}/Users", server.base);

    let listed = server.send_as(&read_only, Method::GET, &users, None, &[]).await;
    listed.assert_error(403, None);
    let created =
        server.send_as(&read_only, Method::POST, &users, Some(user_body("mona@example.com", "E1")), &[]).await;
    created.assert_error(403, None);
    assert_eq!(server.total("/Users").await, 0);

    let created = server.send_as(&legacy, Method::POST, &users, Some(user_body("mona@example.com", "E1")), &[]).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let listed = server.send_as(&legacy, Method::GET, &users, None, &[]).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["totalResults"], 1);
}

/// Another enterprise with a user and a group, seen through its own token.
struct Globex {
    base: String,
    token: String,
    user_id: String,
    group_id: String,
}

impl Globex {
    async fn create(server: &TestServer) -> Self {
        admin::create_enterprise(&server.stores, &crate::support::actor(), "globex", "glbx").await.expect("enterprise");
        let token = admin::create_token(&server.stores, &crate::support::actor(), "globex", "globex", &[])
            .await
            .expect("token");
        let base = format!("{}/scim/v2/enterprises/globex", server.origin);
        let user = server
            .send_as(&token, Method::POST, &format!("{base}/Users"), Some(user_body("hank@globex.com", "H1")), &[])
            .await;
        assert_eq!(user.status, StatusCode::CREATED, "{}", user.body);
        let group_body = json!({"schemas": [GROUP_URN], "externalId": "GG1", "displayName": "Globex Staff", "members": [{"value": user.body["id"]}]});
        let group = server.send_as(&token, Method::POST, &format!("{base}/Groups"), Some(group_body), &[]).await;
        assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
        let id = |answer: &Answer| answer.body["id"].as_str().expect("id").to_owned();
        Self { user_id: id(&user), group_id: id(&group), base, token }
    }

    /// Reads one of globex's resources with globex's token.
    async fn fetch(&self, server: &TestServer, path: &str) -> Value {
        let answer = server.send_as(&self.token, Method::GET, &format!("{}{path}", self.base), None, &[]).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        answer.body
    }

    /// Globex's user, group and collection sizes.
    async fn snapshot(&self, server: &TestServer) -> Vec<Value> {
        let mut out = Vec::new();
        for path in [
            format!("/Users/{}", self.user_id),
            format!("/Groups/{}", self.group_id),
            "/Users".into(),
            "/Groups".into(),
        ] {
            out.push(self.fetch(server, &path).await);
        }
        out
    }
}

#[tokio::test]
async fn another_enterprise_is_invisible() {
    let server = TestServer::start().await;
    let globex = Globex::create(&server).await;
    let before = globex.snapshot(&server).await;
    let user = format!("/Users/{}", globex.user_id);
    let group = format!("/Groups/{}", globex.group_id);
    let rename = patch_body(json!([{"op": "replace", "path": "displayName", "value": "Taken over"}]));
    let requests: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/Users".into(), None),
        (Method::GET, user.clone(), None),
        (Method::POST, "/Users".into(), Some(user_body("mallory@acme.com", "M1"))),
        (Method::PUT, user.clone(), Some(user_body("mallory@acme.com", "M1"))),
        (Method::PATCH, user.clone(), Some(rename.clone())),
        (Method::DELETE, user.clone(), None),
        (Method::GET, "/Groups".into(), None),
        (Method::GET, group.clone(), None),
        (Method::PATCH, group.clone(), Some(rename.clone())),
        (Method::DELETE, group.clone(), None),
        (
            Method::POST,
            "/Users/.search".into(),
            Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]})),
        ),
        (Method::GET, "/ServiceProviderConfig".into(), None),
    ];

    // acme's token on globex's URLs: 404, as if globex did not exist.
    for (method, path, body) in &requests {
        let url = format!("{}{path}", globex.base);
        let answer = server.send_as(&server.token, method.clone(), &url, body.clone(), &[]).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "acme token, {method} globex {path}: {}", answer.body);
        answer.assert_error(404, None);
    }
    // acme's token on acme's URLs with globex's ids: 404 too.
    for (method, path, body) in
        requests.iter().filter(|(_, path, _)| path.contains(&globex.user_id) || path.contains(&globex.group_id))
    {
        let answer = server.send(method.clone(), path, body.clone()).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "acme token, {method} acme {path}: {}", answer.body);
        answer.assert_error(404, None);
    }
    assert_eq!(globex.snapshot(&server).await, before);
    assert_eq!(server.total("/Users").await, 0, "nothing was created in acme either");
}

#[tokio::test]
async fn an_unknown_enterprise_is_404() {
    let server = TestServer::start().await;
    for slug in ["nosuch", "NoSuch", "a--b"] {
        let url = format!("{}/scim/v2/enterprises/{slug}/Users", server.origin);
        let answer = server.send_as(&server.token, Method::GET, &url, None, &[]).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{slug}: {}", answer.body);
        answer.assert_error(404, None);
    }
}

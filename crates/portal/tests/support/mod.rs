//! The portal over a real SQLite store, driven through its router: a signed-in admin, a reader, an application
//! `github` and a directory user whose display name is markup.

#![allow(dead_code, reason = "each test file uses part of the harness")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed step is a test failure with its message")]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use roster_directory::audit::{Actor, Initiator};
use roster_directory::port::{Assignment, PrincipalKind};
use roster_engine::definition::Scope;
use roster_portal::PortalState;
use roster_service::secrets::SecretKey;
use roster_service::{Stores, access, provisioning};
use time::OffsetDateTime;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";
pub const ORIGIN: &str = "http://portal.test";
pub const TOKEN: &str = "ghp_the-secret-token-0123456789";
pub const MARKUP: &str = "<img src=x onerror=alert(1)>";

pub struct Portal {
    pub dir: tempfile::TempDir,
    pub stores: Stores,
    pub router: Router,
    pub key: SecretKey,
}

pub fn cli() -> Actor {
    Actor::new(Initiator::command_line("test"), OffsetDateTime::now_utc())
}

pub async fn portal() -> Portal {
    let dir = tempfile::tempdir().unwrap();
    let store = roster_store::SqliteStore::open(&dir.path().join("roster.db")).unwrap();
    let stores = Stores::over(Arc::new(store));
    let key = SecretKey::load(dir.path()).unwrap();
    access::create_admin(&stores, &cli(), "ada@contoso.example", Some(MARKUP), PASSWORD).await.unwrap();
    let reader = access::create_admin(&stores, &cli(), "rita@contoso.example", Some("Rita"), PASSWORD).await.unwrap();
    access::add_role(&stores, &cli(), reader.id().as_str(), "reports-reader").await.unwrap();
    access::remove_role(&stores, &cli(), reader.id().as_str(), "global-administrator").await.unwrap();
    let url = "http://127.0.0.1:9/scim/v2/enterprises/nowhere";
    provisioning::create(&stores, &key, &cli(), "github", "github-emu", url, TOKEN, Scope::Assigned).await.unwrap();
    // A directory user whose display name is markup, assigned to the application.
    let mut user = roster_directory::User::new(
        roster_directory::ObjectId::from_u128(7),
        roster_directory::UserPrincipalName::parse("mallory@contoso.example").unwrap(),
    );
    user.display_name = Some(MARKUP.to_owned());
    let directory = roster_directory::Directory { users: vec![user.clone()], groups: Vec::new() };
    stores.directory.import(directory, &cli()).await.unwrap();
    let assignment = Assignment { principal: user.id().clone(), kind: PrincipalKind::User, role: None };
    stores.directory.assign("github", assignment, &cli()).await.unwrap();
    let router = roster_portal::router(PortalState::new(stores.clone(), key.clone(), ORIGIN));
    Portal { dir, stores, router, key }
}

/// An answer: status, headers, body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default()
    }
}

impl Portal {
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Answer {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    pub async fn post(&self, path: &str, cookie: Option<&str>, site: &str, form: &[(&str, &str)]) -> Answer {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (key, value) in form {
            body.append_pair(key, value);
        }
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", site);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(body.finish())).unwrap()).await
    }

    /// Signs in; the cookie and the page's CSRF token.
    pub async fn sign_in(&self, upn: &str) -> (String, String) {
        let answer = self.post("/sign-in", None, "same-origin", &[("upn", upn), ("password", PASSWORD)]).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        let cookie = answer.header("set-cookie").split(';').next().unwrap().to_owned();
        let page = self.get("/", Some(&cookie)).await;
        let csrf = page.body.split("name=\"csrf\" value=\"").nth(1).expect("a form with a CSRF token");
        (cookie, csrf.split('"').next().unwrap().to_owned())
    }

    pub async fn enabled(&self) -> bool {
        provisioning::definition(&self.stores, "github").await.unwrap().enabled
    }
}

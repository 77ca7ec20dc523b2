//! The test kit: a server per test on port 0 with its own database, an enterprise and a token, and a small
//! client that speaks SCIM JSON.

#![allow(dead_code)]

use reqwest::{Method, StatusCode};
use roster_app::{App, Config, Storage, admin};
use serde_json::Value;

/// A running server with one enterprise `acme` (shortcode `acme`) and a `scim:enterprise` token.
pub struct TestServer {
    /// `http://127.0.0.1:{port}`.
    pub origin: String,
    /// The enterprise's SCIM base URL.
    pub base: String,
    /// The enterprise's token.
    pub token: String,
    /// The stores, to create more enterprises and tokens.
    pub stores: roster_app::Stores,
    http: reqwest::Client,
    _data: tempfile::TempDir,
}

/// An answer: status, headers and the JSON body (`Value::Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts a SCIM error answer with this status and scimType.
    #[track_caller]
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error", "body: {}", self.body);
        assert_eq!(self.body["status"], status.to_string(), "body: {}", self.body);
        match scim_type {
            Some(scim_type) => assert_eq!(self.body["scimType"], scim_type, "body: {}", self.body),
            None => assert!(self.body.get("scimType").is_none(), "body: {}", self.body),
        }
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "body: {}", self.body);
    }
}

impl TestServer {
    /// Starts a server with default limits.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server after adjusting its configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let mut config = Config::new(Storage::sqlite_in(data.path()), "127.0.0.1:0".parse().expect("address"));
        // Tests revoke tokens through the store, behind the server's back: trust no cached token.
        config.limits.token_cache_ttl = std::time::Duration::ZERO;
        adjust(&mut config);
        let app = App::build(config).await.expect("server builds");
        let stores = app.stores().clone();
        let origin = format!("http://{}", app.local_addr());
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        admin::create_enterprise(&stores, &crate::support::actor(), "acme", "acme").await.expect("enterprise");
        let token = admin::create_token(&stores, &crate::support::actor(), "acme", "test", &[]).await.expect("token");
        let base = format!("{origin}/scim/v2/enterprises/acme");
        Self { origin, base, token, stores, http: reqwest::Client::new(), _data: data }
    }

    /// Sends a request relative to the enterprise base (`/Users`...) with the enterprise token.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.send_as(&self.token, method, &format!("{}{path}", self.base), body, &[]).await
    }

    /// Sends a request with extra headers.
    pub async fn send_with(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Answer {
        self.send_as(&self.token, method, &format!("{}{path}", self.base), body, headers).await
    }

    /// Sends a request to an absolute URL with a given token ("" for none).
    pub async fn send_as(
        &self,
        token: &str,
        method: Method,
        url: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.http.request(method, url);
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/scim+json").body(body.to_string());
        }
        answer_of(request.send().await.expect("request sent")).await
    }

    /// Sends raw bytes with a given content type, relative to the enterprise base.
    pub async fn send_raw(&self, method: Method, path: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Answer {
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body.into())
            .send()
            .await
            .expect("request sent");
        answer_of(response).await
    }

    /// GETs a path with query parameters, properly URL-encoded.
    pub async fn get_query(&self, path: &str, params: &[(&str, &str)]) -> Answer {
        let url = reqwest::Url::parse_with_params(&format!("{}{path}", self.base), params).expect("URL");
        self.send_as(&self.token, Method::GET, url.as_str(), None, &[]).await
    }

    /// PATCHes a resource with a PatchOp message made of these operations.
    pub async fn patch_ops(&self, path: &str, operations: Value) -> Answer {
        self.patch(path, patch_body(operations)).await
    }

    /// GETs a resource and asserts 200.
    pub async fn fetch(&self, path: &str) -> Value {
        let answer = self.get(path).await;
        assert_eq!(answer.status, StatusCode::OK, "GET {path}: {}", answer.body);
        answer.body
    }

    /// The `userName`s of the users a filter selects, sorted.
    pub async fn user_names_matching(&self, filter: &str) -> Vec<String> {
        let answer = self.get_query("/Users", &[("filter", filter)]).await;
        assert_eq!(answer.status, StatusCode::OK, "filter {filter}: {}", answer.body);
        let mut names = strings_at(&answer.body, "userName");
        names.sort();
        names
    }

    /// The number of resources of a collection (`/Users` or `/Groups`).
    pub async fn total(&self, collection: &str) -> u64 {
        let answer = self.get_query(collection, &[("count", "0")]).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["totalResults"].as_u64().expect("totalResults")
    }

    /// Creates a user from any body and returns its id.
    pub async fn create_user_from(&self, body: Value) -> String {
        let answer = self.post("/Users", body).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        answer.body["id"].as_str().expect("id").to_owned()
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, None).await
    }

    /// Creates a user from a minimal EMU body and returns its id.
    pub async fn create_user(&self, user_name: &str, external_id: &str) -> String {
        let answer = self.post("/Users", user_body(user_name, external_id)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        answer.body["id"].as_str().expect("id").to_owned()
    }

    /// Creates a group and returns its id.
    pub async fn create_group(&self, display_name: &str, external_id: &str) -> String {
        let answer = self
            .post(
                "/Groups",
                serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "externalId": external_id,
                    "displayName": display_name,
                }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        answer.body["id"].as_str().expect("id").to_owned()
    }
}

/// Reads a response. A body that is not JSON is kept as a string, so that assertions on it show what the server
/// sent.
async fn answer_of(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body read");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Answer { status, headers, body }
}

/// The PatchOp message URN.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The core User schema URN.
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema URN.
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise User extension URN.
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// roster's GitHub extension URN (the read-only `login`).
pub const GITHUB_URN: &str = "urn:roster:params:scim:schemas:extension:github:2.0:User";
/// The ListResponse message URN.
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// A PatchOp message with these operations.
pub fn patch_body(operations: Value) -> Value {
    let mut body = serde_json::json!({"schemas": [PATCH_OP]});
    body["Operations"] = operations;
    body
}

/// The string values of `key` in each element of a list response's `Resources`, in order.
pub fn strings_at(list: &Value, key: &str) -> Vec<String> {
    list["Resources"]
        .as_array()
        .map(|resources| resources.iter().map(|r| r[key].as_str().unwrap_or("<missing>").to_owned()).collect())
        .unwrap_or_default()
}

/// The `value`s of a group's `members` (or a user's `groups`), sorted; empty when the attribute is absent.
pub fn member_values(resource: &Value, attribute: &str) -> Vec<String> {
    let mut values: Vec<String> = resource[attribute]
        .as_array()
        .map(|items| items.iter().map(|m| m["value"].as_str().unwrap_or("<missing>").to_owned()).collect())
        .unwrap_or_default();
    values.sort();
    values
}

/// Sorted owned strings, for comparing sets of ids.
pub fn sorted(ids: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    out.sort();
    out
}

/// A resource without its `meta` (whose timestamps differ from run to run).
pub fn without_meta(resource: &Value) -> Value {
    let mut copy = resource.clone();
    if let Some(object) = copy.as_object_mut() {
        object.remove("meta");
    }
    copy
}

/// The login the server derived for a user.
pub fn login_of(user: &Value) -> &Value {
    &user[GITHUB_URN]["login"]
}

/// A minimal valid EMU user body.
pub fn user_body(user_name: &str, external_id: &str) -> Value {
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "externalId": external_id,
        "userName": user_name,
        "displayName": format!("{user_name} display"),
        "name": {"givenName": "Given", "familyName": "Family"},
        "emails": [{"value": format!("{external_id}@example.com"), "type": "work", "primary": true}],
        "active": true,
    })
}

/// Who acts in the tests' admin operations.
pub fn actor() -> roster_app::Actor {
    roster_app::Actor::new(roster_app::Initiator::system(), time::OffsetDateTime::now_utc())
}

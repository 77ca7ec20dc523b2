//! [`ScimClient`]: the requests, the retry loop and the reading of answers.
//!
//! Every attempt first waits for the rate budget and any hold a server announced (see [`crate::budget`]), then
//! for one of `max_concurrency` permits, and is sent on a shared keep-alive connection pool. Failures that may
//! pass (429, 500, 502, 503, 504, a rate-limit 403, timeouts, refused, reset or dropped connections) are retried
//! up to the [`RetryPolicy`]'s attempts, after the server's `Retry-After` when it sent one (during which every
//! request of the client waits), else after an exponential back-off with full jitter. A rate-limit 403 without
//! any announced wait is retried after 60 s, as GitHub asks for its secondary limits.
//!
//! # Retried writes
//!
//! A POST whose connection dropped, or that timed out, may have been applied by the server before the answer was
//! lost; retrying it may then meet a 409 (`EntryConflict`) or, on a server without uniqueness, create a twin.
//! The client retries all the same. The engine copes by matching before it creates: a 409 on create sends it
//! back to the Match stage (`GET ?filter=externalId eq ...`), which finds the object the lost answer created,
//! and the shadow records its id. PATCH (of absolute values and member sets) and DELETE are idempotent.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use serde_json::Value;
use tokio::sync::Semaphore;
use tracing::{debug, warn};

use crate::budget::Access;
use crate::config::{ClientConfig, ConfigError, Dialect, Kind, Secret};
use crate::connection::ConnectionProblem;
use crate::error::{ClientError, ErrorKind, NotScim, Operation};
use crate::filter::eq_filter;
use crate::patch::{Change, patch_body, split_changes};
use crate::response::{Answer, json_object, list_resources, status_error};
use crate::retry::RetryPolicy;
use crate::stats::{ClientStats, Counters};
use crate::throttle::{Throttle, now};

/// The SCIM media type, sent as the body's `Content-Type`.
const SCIM_JSON: &str = "application/scim+json";
/// The largest answer body read; a longer one is a bad response.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// How long to wait after a rate-limit 403 that announces no wait (GitHub: "wait for at least one minute").
const SECONDARY_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// A SCIM 2.0 client for one target. Cheap to clone: clones share the connection pool, the concurrency limit,
/// the rate budget, the server's holds and the counters.
#[derive(Clone)]
pub struct ScimClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    /// `host:port`, for messages.
    host: String,
    token: Secret,
    dialect: Dialect,
    timeout: Duration,
    retry: RetryPolicy,
    max_members_per_patch: usize,
    permits: Semaphore,
    throttle: Throttle,
    counters: Counters,
}

impl std::fmt::Debug for ScimClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimClient")
            .field("base", &self.inner.base.as_str())
            .field("token", &self.inner.token)
            .field("dialect", &self.inner.dialect)
            .finish_non_exhaustive()
    }
}

/// The HTTP methods the client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Get,
    Post,
    Patch,
    Delete,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }

    fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Patch => Method::PATCH,
            Verb::Delete => Method::DELETE,
        }
    }

    fn access(self) -> Access {
        if self == Verb::Get { Access::Read } else { Access::Write }
    }
}

/// One logical request: what for, and where.
struct Request {
    operation: Operation,
    verb: Verb,
    url: Url,
    body: Option<Vec<u8>>,
}

impl Request {
    /// The URL's path and query, for errors and logs.
    fn path(&self) -> String {
        match self.url.query() {
            Some(query) => format!("{}?{query}", self.url.path()),
            None => self.url.path().to_owned(),
        }
    }

    /// An error about this request after `attempts` attempts.
    fn error(&self, attempts: u32, kind: ErrorKind) -> ClientError {
        ClientError { operation: self.operation, method: self.verb.as_str(), path: self.path(), attempts, kind }
    }
}

impl ScimClient {
    /// A client for a configuration. Fails when the tenant URL is not an absolute `http`/`https` URL, the token
    /// cannot be a header, or the budget has a window that never refills.
    pub fn new(config: ClientConfig) -> Result<ScimClient, ConfigError> {
        let trimmed = config.base_url.trim();
        let base = Url::parse(trimmed)
            .map_err(|error| ConfigError(format!("the tenant URL {trimmed:?} is not a URL: {error}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() || base.host_str().is_none() {
            return Err(ConfigError(format!("the tenant URL {trimmed:?} must be an http:// or https:// URL")));
        }
        if config.token.expose().is_empty() || HeaderValue::from_str(config.token.expose()).is_err() {
            return Err(ConfigError("the secret token is empty or holds characters a header cannot carry".into()));
        }
        config.budget.validate().map_err(ConfigError)?;
        let host = match (base.host_str(), base.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => String::new(),
        };
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/scim+json, application/json"));
        let max_concurrency = config.max_concurrency.max(1);
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.as_str())
            .default_headers(headers)
            .timeout(config.timeout)
            .pool_max_idle_per_host(max_concurrency)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            // A redirect is reported, not followed: the token goes to the tenant URL's host only.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| ConfigError(format!("could not build the HTTP client: {error}")))?;
        let retry = RetryPolicy { max_attempts: config.retry.max_attempts.max(1), ..config.retry };
        Ok(ScimClient {
            inner: Arc::new(Inner {
                http,
                base,
                host,
                token: config.token,
                dialect: config.dialect,
                timeout: config.timeout,
                retry,
                max_members_per_patch: config.max_members_per_patch.max(1),
                permits: Semaphore::new(max_concurrency),
                throttle: Throttle::new(&config.budget, retry.max_server_wait),
                counters: Counters::default(),
            }),
        })
    }

    /// The dialect PATCH bodies are written in.
    pub fn dialect(&self) -> Dialect {
        self.inner.dialect
    }

    /// Queries `{base}/Users?filter=<attribute> eq "<value>"` (for groups with `excludedAttributes=members`) and
    /// returns the resources of the first page (a match on a unique attribute has at most one). The answer must
    /// be a ListResponse.
    pub async fn find(&self, kind: Kind, attribute: &str, value: &str) -> Result<Vec<Value>, ClientError> {
        let mut query = vec![("filter", eq_filter(attribute, value))];
        if kind == Kind::Group {
            query.push(("excludedAttributes", "members".to_owned()));
        }
        let request = self.request(Operation::Find, Verb::Get, &[kind.endpoint()], &query, None);
        let (answer, attempts) = self.send(&request, &self.inner.retry).await?;
        let resources = json_object(&answer).and_then(list_resources).map_err(|kind| request.error(attempts, kind))?;
        Ok(resources.1)
    }

    /// How many resources of a kind the target holds: `GET {base}/Users?count=1` (for groups also
    /// `excludedAttributes=members`), answering the ListResponse's `totalResults`.
    pub async fn total(&self, kind: Kind) -> Result<u64, ClientError> {
        let mut query = vec![("count", "1".to_owned())];
        if kind == Kind::Group {
            query.push(("excludedAttributes", "members".to_owned()));
        }
        let request = self.request(Operation::Find, Verb::Get, &[kind.endpoint()], &query, None);
        let (answer, attempts) = self.send(&request, &self.inner.retry).await?;
        let (total, _) = json_object(&answer).and_then(list_resources).map_err(|kind| request.error(attempts, kind))?;
        Ok(total)
    }

    /// One page of every resource of a kind: `GET {base}/Users?startIndex=<start>&count=<count>&attributes=...`
    /// (`start` is 1-based, as SCIM's). Returns `totalResults` and the page's resources.
    pub async fn page(
        &self,
        kind: Kind,
        start: u64,
        count: u64,
        attributes: &str,
    ) -> Result<(u64, Vec<Value>), ClientError> {
        let query = vec![
            ("startIndex", start.to_string()),
            ("count", count.to_string()),
            ("attributes", attributes.to_owned()),
        ];
        let request = self.request(Operation::Find, Verb::Get, &[kind.endpoint()], &query, None);
        let (answer, attempts) = self.send(&request, &self.inner.retry).await?;
        json_object(&answer).and_then(list_resources).map_err(|kind| request.error(attempts, kind))
    }

    /// Reads `{base}/Users/{id}`; `None` on 404. `attributes` becomes the `attributes` parameter; without it a
    /// group is read with `excludedAttributes=members` (as Entra does: the engine tracks members itself, and a
    /// large group's member list is large).
    pub async fn get(&self, kind: Kind, id: &str, attributes: Option<&str>) -> Result<Option<Value>, ClientError> {
        let query = match (attributes, kind) {
            (Some(attributes), _) => vec![("attributes", attributes.to_owned())],
            (None, Kind::Group) => vec![("excludedAttributes", "members".to_owned())],
            (None, Kind::User) => Vec::new(),
        };
        let request = self.request(Operation::Get, Verb::Get, &[kind.endpoint(), id], &query, None);
        let (answer, attempts) = match self.send(&request, &self.inner.retry).await {
            Ok(sent) => sent,
            Err(error) if error.is_not_found() => return Ok(None),
            Err(error) => return Err(error),
        };
        let object = json_object(&answer).map_err(|kind| request.error(attempts, kind))?;
        Ok(Some(Value::Object(object)))
    }

    /// Creates a resource: `POST {base}/Users` with `body`. Expects 201 (200 is accepted too) and the created
    /// resource with its `id`, which is returned.
    pub async fn create(&self, kind: Kind, body: &Value) -> Result<Value, ClientError> {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let request = self.request(Operation::Create, Verb::Post, &[kind.endpoint()], &[], Some(bytes));
        let (answer, attempts) = self.send(&request, &self.inner.retry).await?;
        if !matches!(answer.status, 200 | 201) {
            let reason = format!("expected 201 Created with the new resource, got {}", answer.status);
            return Err(request.error(attempts, ErrorKind::Incompatible { reason }));
        }
        let object = json_object(&answer).map_err(|kind| request.error(attempts, kind))?;
        if object.get("id").and_then(Value::as_str).is_none_or(str::is_empty) {
            let reason = "the created resource has no id".to_owned();
            return Err(request.error(attempts, ErrorKind::Incompatible { reason }));
        }
        Ok(Value::Object(object))
    }

    /// Changes a resource: `PATCH {base}/Users/{id}` with the changes in the client's dialect. Any 2xx is
    /// success (GitHub answers 200 with the resource or 204; the body is ignored). Member lists longer than
    /// `max_members_per_patch` are sent in several PATCHes, attribute changes in the first; if one fails, the
    /// ones before it stay applied (member changes are idempotent, so the engine retries the whole). No change,
    /// no request.
    pub async fn patch(&self, kind: Kind, id: &str, changes: &[Change]) -> Result<(), ClientError> {
        for batch in split_changes(changes, self.inner.max_members_per_patch) {
            let body = serde_json::to_vec(&patch_body(self.inner.dialect, &batch)).unwrap_or_default();
            let request = self.request(Operation::Patch, Verb::Patch, &[kind.endpoint(), id], &[], Some(body));
            self.send(&request, &self.inner.retry).await?;
        }
        Ok(())
    }

    /// Deletes a resource: `DELETE {base}/Users/{id}`, 204 or 200. A 404 is an error with status 404 (code
    /// `InvalidAnchor`): the caller decides whether "already gone" is success.
    pub async fn delete(&self, kind: Kind, id: &str) -> Result<(), ClientError> {
        let request = self.request(Operation::Delete, Verb::Delete, &[kind.endpoint(), id], &[], None);
        self.send(&request, &self.inner.retry).await?;
        Ok(())
    }

    /// Test Connection: one `GET {base}/Users?filter=userName eq "roster-test-connection-<uuid>"`, without
    /// retries, expecting 200 and an empty ListResponse.
    pub async fn test_connection(&self) -> Result<(), ConnectionProblem> {
        let user_name = format!("roster-test-connection-{}", uuid::Uuid::new_v4());
        let query = [("filter", eq_filter("userName", &user_name))];
        let request = self.request(Operation::TestConnection, Verb::Get, &[Kind::User.endpoint()], &query, None);
        let never = RetryPolicy { max_attempts: 1, ..self.inner.retry };
        let problem = |error: &ClientError| ConnectionProblem::from_error(error, &self.inner.host);
        let (answer, attempts) = self.send(&request, &never).await.map_err(|error| problem(&error))?;
        if answer.status != 200 {
            let reason = format!("HTTP {} instead of 200", answer.status);
            return Err(problem(&request.error(attempts, ErrorKind::Incompatible { reason })));
        }
        let (total, _) =
            json_object(&answer).and_then(list_resources).map_err(|kind| problem(&request.error(attempts, kind)))?;
        if total > 0 {
            return Err(ConnectionProblem::FilterIgnored { total });
        }
        Ok(())
    }

    /// How long the rate budget alone needs, from now, for `gets` reads and `writes` writes (on top of what is
    /// already reserved), or the server's hold if that is longer. Zero without a budget.
    pub fn budget_eta(&self, gets: u64, writes: u64) -> Duration {
        self.inner.throttle.eta(gets, writes)
    }

    /// The counters so far.
    pub fn stats(&self) -> ClientStats {
        self.inner.counters.snapshot()
    }

    /// A request to `base/segments...?query` (each segment percent-encoded, the base's own query kept first).
    fn request(
        &self,
        operation: Operation,
        verb: Verb,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> Request {
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        let mut pairs: Vec<String> = url.query().filter(|q| !q.is_empty()).map(str::to_owned).into_iter().collect();
        pairs.extend(query.iter().map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value))));
        let joined = pairs.join("&");
        url.set_query(if joined.is_empty() { None } else { Some(&joined) });
        Request { operation, verb, url, body }
    }

    /// Sends a request, retrying per `policy`; returns a 2xx answer and the attempts it took.
    async fn send(&self, request: &Request, policy: &RetryPolicy) -> Result<(Answer, u32), ClientError> {
        let inner = &self.inner;
        let mut attempts = 0;
        loop {
            let waited = inner.throttle.admit(request.verb.access()).await;
            let waited = waited.map_err(|wait| request.error(attempts, ErrorKind::HeldBack { wait }))?;
            inner.counters.waited(waited);
            attempts += 1;
            let started = now();
            let outcome = {
                let _permit = inner.permits.acquire().await.ok();
                self.count(request.verb);
                self.attempt(request).await
            };
            let elapsed = now().saturating_duration_since(started);
            let kind = match outcome {
                Ok(answer) if (200..300).contains(&answer.status) => {
                    debug!(
                        method = request.verb.as_str(),
                        path = %request.path(),
                        status = answer.status,
                        ?elapsed,
                        attempts,
                        "SCIM request"
                    );
                    return Ok((answer, attempts));
                }
                Ok(answer) => ErrorKind::Status(Box::new(status_error(&answer))),
                Err(kind) => kind,
            };
            let error = request.error(attempts, kind);
            let delay = self.pace(&error, attempts, policy);
            let Some(delay) = delay.filter(|_| attempts < policy.max_attempts) else {
                debug!(
                    method = request.verb.as_str(),
                    path = %request.path(),
                    code = error.code(),
                    attempts,
                    "SCIM request failed: {}",
                    error.kind
                );
                return Err(error);
            };
            Counters::bump(&inner.counters.retries);
            warn!(
                method = request.verb.as_str(),
                path = %request.path(),
                code = error.code(),
                attempt = attempts,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "SCIM request will be retried: {}",
                error.kind
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// How long to wait before retrying after `error`, and the pacing it imposes on every request: `None` if it is
    /// not retryable. A server's announced wait (`Retry-After`, a rate-limit reset) or a rate limit holds back
    /// every request of the client for the wait, even when this request will not be retried; a wait beyond the
    /// policy's `max_server_wait` is not waited out here (`None`: the request fails now).
    fn pace(&self, error: &ClientError, attempts: u32, policy: &RetryPolicy) -> Option<Duration> {
        if !error.is_retryable() {
            return None;
        }
        let rate_limited = matches!(&error.kind, ErrorKind::Status(status) if status.rate_limited);
        let server_wait = match (error.retry_after(), &error.kind) {
            (Some(wait), _) => Some(wait),
            (None, ErrorKind::Status(status)) if status.status == 403 && rate_limited => Some(SECONDARY_LIMIT_WAIT),
            _ => None,
        };
        let delay = server_wait.unwrap_or_else(|| policy.backoff(attempts, &mut rand::thread_rng()));
        if rate_limited || server_wait.is_some() {
            Counters::bump(&self.inner.counters.server_throttles);
            self.inner.throttle.hold_until(now() + delay);
        }
        if server_wait.is_some_and(|wait| wait > policy.max_server_wait) {
            return None;
        }
        Some(delay)
    }

    /// Counts an attempt.
    fn count(&self, verb: Verb) {
        let counters = &self.inner.counters;
        Counters::bump(match verb {
            Verb::Get => &counters.gets,
            Verb::Post => &counters.posts,
            Verb::Patch => &counters.patches,
            Verb::Delete => &counters.deletes,
        });
    }

    /// One attempt: the answer (any status), or what kept it from coming.
    async fn attempt(&self, request: &Request) -> Result<Answer, ErrorKind> {
        let inner = &self.inner;
        let mut builder = inner
            .http
            .request(request.verb.method(), request.url.clone())
            .bearer_auth(inner.token.expose())
            .timeout(inner.timeout);
        if let Some(body) = &request.body {
            builder = builder.header(CONTENT_TYPE, SCIM_JSON).body(body.clone());
        }
        let mut response = builder.send().await.map_err(|error| transport_error(error, inner.timeout))?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|error| transport_error(error, inner.timeout))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(ErrorKind::BadResponse(Box::new(NotScim {
                    reason: format!("the answer is larger than {MAX_BODY_BYTES} bytes"),
                    content_type: headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned),
                    excerpt: crate::response::excerpt(&body),
                })));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer { status, headers, body })
    }
}

/// Classifies a transport failure: timeout, TLS, connection (refused, DNS), or a connection lost before a
/// complete answer. The message is the error's chain of causes, without the URL.
fn transport_error(error: reqwest::Error, timeout: Duration) -> ErrorKind {
    if error.is_timeout() {
        return ErrorKind::Timeout { after: timeout };
    }
    let is_connect = error.is_connect();
    let cause = causes(&error.without_url());
    let lower = cause.to_ascii_lowercase();
    if ["tls", "certificate", "handshake", "invalidcontenttype", "corrupt message"].iter().any(|w| lower.contains(w)) {
        ErrorKind::Tls { cause }
    } else if is_connect {
        ErrorKind::Connect { cause }
    } else {
        ErrorKind::Protocol { cause }
    }
}

/// An error and its sources, joined with ": ", each message once, without the HTTP stack's generic wrappers
/// ("error sending request", "client error (Connect)") when something more precise follows: `tcp connect error:
/// Connection refused (os error 111)`.
fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(error) = current {
        let text = error.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.retain(|part| !text.contains(part.as_str()));
            parts.push(text);
        }
        current = error.source();
    }
    let generic = |part: &String| part.starts_with("error sending request") || part.starts_with("client error (");
    let precise: Vec<String> = parts.iter().filter(|part| !generic(part)).cloned().collect();
    if precise.is_empty() { parts.join(": ") } else { precise.join(": ") }
}

/// Percent-encodes a query component: everything but RFC 3986's unreserved characters (so a space is `%20`,
/// which every server reads as a space, unlike `+`).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> ScimClient {
        match ScimClient::new(ClientConfig::new(base, "t0ken")) {
            Ok(client) => client,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn urls_join_the_base_the_endpoint_and_the_encoded_query() {
        let query = [("filter", eq_filter("userName", "a b\"c&d/é"))];
        let cases = [
            (
                "http://h:8080/scim/v2/enterprises/octo",
                &["Users"][..],
                &[][..],
                "http://h:8080/scim/v2/enterprises/octo/Users",
            ),
            (
                "http://h:8080/scim/v2/enterprises/octo/",
                &["Users", "a/b c"][..],
                &[][..],
                "http://h:8080/scim/v2/enterprises/octo/Users/a%2Fb%20c",
            ),
            (
                "https://h/scim",
                &["Groups"][..],
                &query[..],
                "https://h/scim/Groups?filter=userName%20eq%20%22a%20b%5C%22c%26d%2F%C3%A9%22",
            ),
            (
                "https://h/scim?aadOptscim062020",
                &["Users"][..],
                &query[..],
                "https://h/scim/Users?aadOptscim062020&filter=userName%20eq%20%22a%20b%5C%22c%26d%2F%C3%A9%22",
            ),
            ("https://h", &["Users"][..], &[][..], "https://h/Users"),
        ];
        for (base, segments, query, expected) in cases {
            let request = client(base).request(Operation::Find, Verb::Get, segments, query, None);
            assert_eq!(request.url.as_str(), expected, "{base}");
        }
    }

    #[test]
    fn configurations_that_cannot_work_are_refused() {
        let refused = |config: ClientConfig| ScimClient::new(config).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refused(ClientConfig::new("octo-corp", "t")).contains("not a URL"));
        assert!(refused(ClientConfig::new("ftp://h/scim", "t")).contains("http://"));
        assert!(refused(ClientConfig::new("http://h/scim", "")).contains("token"));
        assert!(refused(ClientConfig::new("http://h/scim", "bad\ntoken")).contains("token"));
        let mut config = ClientConfig::new("http://h/scim", "t");
        config.budget = crate::Budget::requests_per(0, Duration::from_secs(1));
        assert!(refused(config).contains("budget"));
    }

    #[test]
    fn debug_output_hides_the_token() {
        let shown = format!("{:?}", client("http://h/scim"));
        assert!(!shown.contains("t0ken") && shown.contains("[redacted]"), "{shown}");
    }
}

//! Scripted servers: an axum server on 127.0.0.1:0 that answers each request with the next reply of its script
//! and records what it received, and a raw TCP server that drops connections.

#![allow(dead_code, clippy::needless_pass_by_value, reason = "a test kit: convenient signatures")]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use roster_scim_client::{ClientConfig, RetryPolicy, ScimClient};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The token the tests use; no error or log may show it.
pub const TOKEN: &str = "ghp_TESTSECRET0123456789";

/// The ListResponse URN.
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// One scripted reply.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Answer with this status, headers and body.
    Respond { status: u16, headers: Vec<(&'static str, String)>, body: String },
    /// Wait this long, then answer 200 with an empty ListResponse (the client has usually given up by then).
    Hang(Duration),
}

impl Reply {
    /// A SCIM JSON answer.
    pub fn scim(status: u16, body: Value) -> Self {
        Reply::Respond {
            status,
            headers: vec![("content-type", "application/scim+json".to_owned())],
            body: body.to_string(),
        }
    }

    /// An answer without body.
    pub fn empty(status: u16) -> Self {
        Reply::Respond { status, headers: Vec::new(), body: String::new() }
    }

    /// A SCIM error.
    pub fn error(status: u16, scim_type: Option<&str>, detail: &str) -> Self {
        let mut body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": status.to_string(),
            "detail": detail,
        });
        if let Some(scim_type) = scim_type {
            body["scimType"] = json!(scim_type);
        }
        Self::scim(status, body)
    }

    /// An empty ListResponse.
    pub fn empty_list() -> Self {
        Self::list(vec![])
    }

    /// A ListResponse of these resources.
    pub fn list(resources: Vec<Value>) -> Self {
        Self::scim(
            200,
            json!({
                "schemas": [LIST_RESPONSE],
                "totalResults": resources.len(),
                "Resources": resources,
                "startIndex": 1,
                "itemsPerPage": resources.len(),
            }),
        )
    }

    /// 201 with a created resource of this id.
    pub fn created(id: &str) -> Self {
        Self::scim(201, json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": id}))
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        if let Reply::Respond { headers, .. } = &mut self {
            headers.push((name, value.to_owned()));
        }
        self
    }
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    /// Path and query, as sent.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: String,
    /// When it arrived.
    pub at: Instant,
}

impl Received {
    /// A header's value.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    /// A query parameter, decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.uri.split_once('?')?.1;
        query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then(|| percent_decode(value))
        })
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Decodes `%XX` escapes (and nothing else: `+` stays `+`).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text.get(i + 1..i + 3).and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Default)]
struct Shared {
    /// Replies, each for any method (`None`) or one.
    script: Mutex<VecDeque<(Option<Method>, Reply)>>,
    received: Mutex<Vec<Received>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A scripted server.
pub struct Script {
    /// `http://127.0.0.1:{port}`.
    pub origin: String,
    /// `{origin}/scim/v2/enterprises/acme`.
    pub base: String,
    shared: Arc<Shared>,
}

impl Script {
    /// Starts a server that answers with these replies in order, whatever the method.
    pub async fn start(replies: Vec<Reply>) -> Self {
        Self::start_by_method(replies.into_iter().map(|reply| (None, reply)).collect()).await
    }

    /// Starts a server whose replies may be reserved for one method: a request takes the first reply queued for
    /// its method or for any. When none is left, it answers 500.
    pub async fn start_by_method(replies: Vec<(Option<Method>, Reply)>) -> Self {
        let shared = Arc::new(Shared { script: Mutex::new(replies.into()), ..Shared::default() });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let origin = format!("http://{}", listener.local_addr().expect("address"));
        let router = axum::Router::new().fallback(answer).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { base: format!("{origin}/scim/v2/enterprises/acme"), origin, shared }
    }

    /// What the server received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("lock").clone()
    }

    /// How many requests were being answered at once, at most.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// A client for this server with fast retries.
    pub fn client(&self) -> ScimClient {
        ScimClient::new(self.config()).expect("client")
    }

    /// The configuration [`Script::client`] uses: retries after 10 to 80 ms, a 5 s timeout.
    pub fn config(&self) -> ClientConfig {
        fast_config(&self.base)
    }
}

/// A configuration with fast retries and a 5 s timeout.
pub fn fast_config(base: &str) -> ClientConfig {
    let mut config = ClientConfig::new(base, TOKEN);
    config.retry =
        RetryPolicy { base: Duration::from_millis(10), max: Duration::from_millis(80), ..RetryPolicy::default() };
    config.timeout = Duration::from_secs(5);
    config
}

async fn answer(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let uri = parts.uri.path_and_query().map(|pq| pq.as_str().to_owned()).unwrap_or_default();
    shared.received.lock().expect("lock").push(Received {
        method: parts.method.clone(),
        uri,
        headers: parts.headers.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    });
    let reply = {
        let mut script = shared.script.lock().expect("lock");
        let position = script.iter().position(|(method, _)| method.as_ref().is_none_or(|m| *m == parts.method));
        position.and_then(|position| script.remove(position)).map(|(_, reply)| reply)
    };
    let in_flight = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(in_flight, Ordering::SeqCst);
    let response = match reply {
        Some(Reply::Respond { status, headers, body }) => {
            let mut builder = Response::builder().status(status);
            for (name, value) in headers {
                builder = builder.header(name, value);
            }
            builder.body(Body::from(body)).expect("response")
        }
        Some(Reply::Hang(duration)) => {
            tokio::time::sleep(duration).await;
            let Reply::Respond { status, headers, body } = Reply::empty_list() else { unreachable!() };
            let mut builder = Response::builder().status(status);
            for (name, value) in headers {
                builder = builder.header(name, value);
            }
            builder.body(Body::from(body)).expect("response")
        }
        None => Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .body(Body::from("script exhausted"))
            .expect("response"),
    };
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

/// A raw server that reads each request and then closes the connection without answering, `drops` times, and
/// after that answers every request with `201` and `{"id":"1"}`. Returns its base URL and a counter of
/// connections accepted.
pub async fn dropping_server(drops: usize) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}/scim", listener.local_addr().expect("address"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let n = counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut buffer).await;
                if n < drops {
                    return; // dropped: closed without a word
                }
                let body = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"1"}"#;
                let answer = format!(
                    "HTTP/1.1 201 Created\r\ncontent-type: application/scim+json\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (base, accepted)
}

/// A base URL on a port where nothing listens.
pub async fn refused_base() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{address}/scim")
}

/// Asserts that a text does not show the token.
#[track_caller]
pub fn assert_no_secret(text: &str) {
    assert!(!text.contains(TOKEN) && !text.contains("TESTSECRET"), "the token leaked: {text}");
}

//! A fault-injecting HTTP/1.1 reverse proxy, put by a test between the `roster` binary and a real `roster serve`.
//!
//! It listens on `127.0.0.1:0` and forwards every request to the origin, except that each request first draws a
//! number from a seeded generator and may meet one of the configured [`Fault`]s instead: an error status, a 429
//! with `Retry-After: 1`, a slow answer, an answer held past the client's timeout, or a connection dropped before
//! or after the request reached the server. The faults can be changed at any time ([`FaultProxy::set`]); what
//! was received, what reached the server and which faults were injected is counted ([`FaultProxy::counts`]).
//!
//! The proxy runs on its own tokio runtime, so blocking tests use it as they use a child process. A request that
//! reached the server always runs to its end, even when the client has given up on it (as a server goes on with
//! a request whose client timed out); [`FaultProxy::wait_idle`] waits for those before a test reads the server.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderMap, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// What may happen to a request instead of (or besides) being forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answered with this status and a SCIM error body, not forwarded.
    Status(u16),
    /// Answered `429 Too Many Requests` with `Retry-After: 1`, not forwarded.
    TooManyRequests,
    /// Forwarded after [`Faults::slow`].
    Slow,
    /// Held for [`Faults::hold`] (longer than the client's timeout), then forwarded: the server applies a
    /// request its client gave up on.
    Timeout,
    /// The connection is closed without an answer; the request never reaches the server.
    DropBefore,
    /// The request is forwarded and applied, then the connection is closed without the answer: the case in
    /// which a retried POST could create a twin.
    DropAfter,
    /// Answered `200 OK` with an HTML page, not forwarded: a tenant URL that points at a web site, not at SCIM.
    NotScim,
}

impl Fault {
    /// The fault's name in [`Counts::injected`].
    pub fn name(self) -> String {
        match self {
            Fault::Status(status) => format!("status {status}"),
            Fault::TooManyRequests => "429".to_owned(),
            Fault::Slow => "slow".to_owned(),
            Fault::Timeout => "timeout".to_owned(),
            Fault::DropBefore => "drop before".to_owned(),
            Fault::DropAfter => "drop after".to_owned(),
            Fault::NotScim => "not SCIM".to_owned(),
        }
    }
}

/// A fault and how often it happens, optionally only to one method or to paths that contain some text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The fault.
    pub fault: Fault,
    /// How many requests in 1,000 meet it.
    pub per_mille: u32,
    /// Only requests with this method (`"POST"`), or every request.
    pub method: Option<&'static str>,
    /// Only requests whose path and query contain this (`"filter="`: the matching queries), or every request.
    pub path_contains: Option<&'static str>,
}

impl Rule {
    /// A fault for `per_mille` requests in 1,000 of any method and path.
    pub fn new(fault: Fault, per_mille: u32) -> Rule {
        Rule { fault, per_mille, method: None, path_contains: None }
    }

    /// The same rule, for requests with `method` only.
    pub fn only(self, method: &'static str) -> Rule {
        Rule { method: Some(method), ..self }
    }

    /// The same rule, for requests whose path and query contain `text` only.
    pub fn when_path_contains(self, text: &'static str) -> Rule {
        Rule { path_contains: Some(text), ..self }
    }

    fn applies(&self, method: &str, path: &str) -> bool {
        self.method.is_none_or(|only| only == method) && self.path_contains.is_none_or(|text| path.contains(text))
    }
}

/// The proxy's configuration: the rules (tried in order: a request meets at most one fault, and the rates of the
/// rules that apply to a request add up to at most 1,000), the seed of the generator and the delays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Faults {
    /// The rules.
    pub rules: Vec<Rule>,
    /// The seed the generator restarts from when the faults are set.
    pub seed: u64,
    /// How long a [`Fault::Slow`] request waits before it is forwarded.
    pub slow: Duration,
    /// How long a [`Fault::Timeout`] request is held before it is forwarded.
    pub hold: Duration,
}

impl Faults {
    /// No fault: every request is forwarded at once.
    pub fn none() -> Faults {
        Faults { rules: Vec::new(), seed: 1, slow: Duration::from_millis(300), hold: Duration::from_millis(1500) }
    }

    /// These rules, with the default seed and delays.
    pub fn with(rules: Vec<Rule>) -> Faults {
        Faults { rules, ..Faults::none() }
    }

    /// Every request answered `401 Unauthorized`, as by a target that revoked the token.
    pub fn unauthorized() -> Faults {
        Faults::with(vec![Rule::new(Fault::Status(401), 1000)])
    }
}

/// What the proxy saw, by method and by fault.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests received from the client, by method.
    pub received: BTreeMap<String, u64>,
    /// Requests sent on to the server, by method.
    pub forwarded: BTreeMap<String, u64>,
    /// Faults injected, by `"{fault name} {method}"` (`"drop after POST"`).
    pub injected: BTreeMap<String, u64>,
}

impl Counts {
    /// Requests with this method that reached the server.
    pub fn forwarded(&self, method: &str) -> u64 {
        self.forwarded.get(method).copied().unwrap_or_default()
    }

    /// POST, PATCH and DELETE requests that reached the server.
    pub fn writes_forwarded(&self) -> u64 {
        ["POST", "PATCH", "DELETE"].iter().map(|method| self.forwarded(method)).sum()
    }

    /// Requests of every method that met this fault.
    pub fn injected(&self, fault: Fault) -> u64 {
        let prefix = format!("{} ", fault.name());
        self.injected.iter().filter(|(key, _)| key.starts_with(&prefix)).map(|(_, count)| count).sum()
    }

    /// Adds another count to this one.
    pub fn add(&mut self, other: &Counts) {
        for (mine, theirs) in [
            (&mut self.received, &other.received),
            (&mut self.forwarded, &other.forwarded),
            (&mut self.injected, &other.injected),
        ] {
            for (key, count) in theirs {
                *mine.entry(key.clone()).or_default() += count;
            }
        }
    }
}

/// A running proxy; dropping it stops it.
pub struct FaultProxy {
    /// The proxy's own origin, `http://127.0.0.1:{port}`: use it in place of the server's.
    pub origin: String,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` (`http://127.0.0.1:{port}`), with no fault.
    pub fn start(upstream: &str) -> FaultProxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("the proxy's runtime starts");
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            faults: Mutex::new(Faults::none()),
            rng: Mutex::new(SplitMix64(Faults::none().seed)),
            counts: Mutex::new(Counts::default()),
            in_flight: Mutex::new(0),
            idle: Condvar::new(),
        });
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).expect("the proxy binds");
        let origin = format!("http://{}", listener.local_addr().expect("a local address"));
        runtime.spawn(accept(listener, Arc::clone(&shared)));
        FaultProxy { origin, shared, runtime: Some(runtime) }
    }

    /// Replaces the faults and restarts the generator from their seed.
    pub fn set(&self, faults: Faults) {
        *lock(&self.shared.rng) = SplitMix64(faults.seed);
        *lock(&self.shared.faults) = faults;
    }

    /// The counts since the start or the last [`FaultProxy::reset_counts`].
    pub fn counts(&self) -> Counts {
        lock(&self.shared.counts).clone()
    }

    /// Starts counting from zero.
    pub fn reset_counts(&self) {
        *lock(&self.shared.counts) = Counts::default();
    }

    /// Waits until no request is in the proxy: every held or forwarded request has reached the server and been
    /// answered (or dropped). Panics after 30 s.
    pub fn wait_idle(&self) {
        let in_flight = lock(&self.shared.in_flight);
        let (in_flight, timeout) = self
            .shared
            .idle
            .wait_timeout_while(in_flight, Duration::from_secs(30), |in_flight| *in_flight > 0)
            .unwrap_or_else(PoisonError::into_inner);
        assert!(!timeout.timed_out(), "{} requests still in the proxy after 30 s", *in_flight);
    }
}

impl FaultProxy {
    /// Waits until the counts satisfy `ready` (checked each time a request ends). Panics after 30 s.
    pub fn wait_until(&self, ready: impl Fn(&Counts) -> bool) {
        let in_flight = lock(&self.shared.in_flight);
        let (_in_flight, timeout) = self
            .shared
            .idle
            .wait_timeout_while(in_flight, Duration::from_secs(30), |_| !ready(&lock(&self.shared.counts)))
            .unwrap_or_else(PoisonError::into_inner);
        drop(_in_flight);
        assert!(!timeout.timed_out(), "the proxy's counts did not get there in 30 s: {:?}", self.counts());
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The state the connections share.
struct Shared {
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
    faults: Mutex<Faults>,
    rng: Mutex<SplitMix64>,
    counts: Mutex<Counts>,
    in_flight: Mutex<usize>,
    idle: Condvar,
}

impl Shared {
    /// Counts a received request and draws its fault.
    fn draw(&self, method: &str, path: &str) -> (Option<Fault>, Duration, Duration) {
        let faults = lock(&self.faults);
        let roll = lock(&self.rng).next() % 1000;
        let mut bound = 0;
        let fault = faults
            .rules
            .iter()
            .filter(|rule| rule.applies(method, path))
            .find(|rule| {
                bound += u64::from(rule.per_mille);
                roll < bound
            })
            .map(|rule| rule.fault);
        let mut counts = lock(&self.counts);
        *counts.received.entry(method.to_owned()).or_default() += 1;
        if let Some(fault) = fault {
            *counts.injected.entry(format!("{} {method}", fault.name())).or_default() += 1;
        }
        (fault, faults.slow, faults.hold)
    }

    /// Marks a request as in the proxy until the guard is dropped.
    fn enter(self: &Arc<Self>) -> InFlight {
        *lock(&self.in_flight) += 1;
        InFlight(Arc::clone(self))
    }
}

/// A request in the proxy.
struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut in_flight = lock(&self.0.in_flight);
        *in_flight -= 1;
        // Every end of a request wakes the waiters: `wait_idle` and `wait_until`.
        self.0.idle.notify_all();
    }
}

/// The error that makes hyper close a connection without answering.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the fault proxy")
    }
}

impl std::error::Error for Dropped {}

/// Accepts connections and serves each on its own task.
async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(Arc::clone(&shared), request));
            // A dropped connection ends here with an error, which is the point.
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// One request: draws its fault and acts on it in a task of its own, which runs to its end even when the client
/// goes away.
async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Dropped> {
    let guard = shared.enter();
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|_| Dropped)?.to_bytes();
    let request = Request::from_parts(parts, Full::new(body));
    let path = request.uri().path_and_query().map_or("", |path| path.as_str());
    let (fault, slow, hold) = shared.draw(request.method().as_str(), path);
    let task = tokio::spawn(async move {
        let _guard = guard;
        match fault {
            None => Ok(forward(&shared, request).await),
            Some(Fault::Status(status)) => Ok(error_answer(status, None)),
            Some(Fault::TooManyRequests) => Ok(error_answer(429, Some(1))),
            Some(Fault::NotScim) => {
                let mut page = Response::new(Full::new(Bytes::from_static(b"<html><body>Sign in</body></html>")));
                page.headers_mut().insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
                Ok(page)
            }
            Some(Fault::Slow) => {
                tokio::time::sleep(slow).await;
                Ok(forward(&shared, request).await)
            }
            Some(Fault::Timeout) => {
                tokio::time::sleep(hold).await;
                Ok(forward(&shared, request).await)
            }
            Some(Fault::DropBefore) => Err(Dropped),
            Some(Fault::DropAfter) => {
                forward(&shared, request).await;
                Err(Dropped)
            }
        }
    });
    task.await.unwrap_or(Err(Dropped))
}

/// Sends a request to the server and returns its answer (502 when the server cannot be reached).
async fn forward(shared: &Shared, request: Request<Full<Bytes>>) -> Response<Full<Bytes>> {
    let (mut parts, body) = request.into_parts();
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path_and_query().map_or("/", |path| path.as_str());
    let Ok(uri) = format!("{}{path}", shared.upstream).parse() else {
        return error_answer(502, None);
    };
    parts.uri = uri;
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove(hyper::header::HOST);
    *lock(&shared.counts).forwarded.entry(method).or_default() += 1;
    let Ok(response) = shared.client.request(Request::from_parts(parts, body)).await else {
        return error_answer(502, None);
    };
    let (mut parts, body) = response.into_parts();
    let Ok(body) = body.collect().await else {
        return error_answer(502, None);
    };
    strip_hop_by_hop(&mut parts.headers);
    Response::from_parts(parts, Full::new(body.to_bytes()))
}

/// Removes the headers that describe one connection or one framing, which the proxy sets anew.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in ["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"] {
        headers.remove(name);
    }
}

/// A SCIM error answer, with `Retry-After` when given.
fn error_answer(status: u16, retry_after: Option<u32>) -> Response<Full<Bytes>> {
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": status.to_string(),
        "detail": "injected by the fault proxy",
    });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static("application/scim+json"));
    if let Some(seconds) = retry_after {
        headers.insert(hyper::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// SplitMix64: a small deterministic generator, enough to spread faults over requests reproducibly.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Locks a mutex, through poisoning (a panicked test thread must not hide the counts).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

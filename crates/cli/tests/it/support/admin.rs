//! The admin API (`/api/v1.0`) as its clients call it: a caller with one token, and the tokens made on the command
//! line (`roster admin token create`).

use std::cell::RefCell;
use std::path::Path;

use reqwest::Method;
use reqwest::blocking::{Client, Response};
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::run_ok;

/// A caller of the admin API with one token, that keeps every body it read (to look for secrets in them).
pub struct Api<'a> {
    pub client: &'a Client,
    /// `{origin}/api/v1.0`.
    pub base: String,
    pub token: String,
    pub seen: RefCell<String>,
}

impl<'a> Api<'a> {
    /// A caller of the admin API of the server at `origin` (`http://127.0.0.1:{port}`).
    pub fn new(client: &'a Client, origin: &str, token: &str) -> Api<'a> {
        Api { client, base: format!("{origin}/api/v1.0"), token: token.to_owned(), seen: RefCell::default() }
    }
}

impl Api<'_> {
    /// A request (to a path under the base, or to a whole URL such as a nextLink): the status, the headers and the
    /// JSON body (`null` when empty).
    pub fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, HeaderMap, Value) {
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) };
        let mut request = self.client.request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Response = request.send().expect("the admin API answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().expect("a body");
        self.seen.borrow_mut().push_str(&text);
        let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("a JSON body") };
        (status, headers, value)
    }

    pub fn send(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let (status, _, value) = self.call(method, path, body);
        (status, value)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, None)
    }

    pub fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::POST, path, Some(body))
    }
}

/// An admin API token with a role, made on the command line.
pub fn token(data: &Path, name: &str, role: &str) -> String {
    run_ok(data, &["admin", "token", "create", "--name", name, "--role", role]).trim().to_owned()
}

/// One server-sent event: its `event:` name and its `data:` as JSON.
#[derive(Debug, Clone)]
pub struct Event {
    pub name: String,
    pub data: Value,
}

/// A job's events stream (`GET .../jobs/{jobId}/events`), read on a thread of its own.
pub struct Events {
    receiver: std::sync::mpsc::Receiver<Event>,
}

impl Events {
    /// Opens the stream at `url` (`{origin}/api/v1.0/servicePrincipals/{id}/synchronization/jobs/{jobId}/events`)
    /// and checks its status and content type before returning.
    pub fn open(url: &str, token: &str) -> Events {
        let client = Client::builder().timeout(None).build().expect("a client");
        let response = client.get(url).bearer_auth(token).send().expect("the events stream answers");
        assert_eq!(response.status().as_u16(), 200, "{url}");
        let content_type = response.headers().get(reqwest::header::CONTENT_TYPE).cloned();
        assert_eq!(content_type.as_ref().and_then(|value| value.to_str().ok()), Some("text/event-stream"));
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut name = String::new();
            let mut data = String::new();
            for line in std::io::BufReader::new(response).lines().map_while(Result::ok) {
                if let Some(value) = line.strip_prefix("event:") {
                    value.trim().clone_into(&mut name);
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.trim_start());
                } else if line.is_empty() && !data.is_empty() {
                    let event = Event {
                        name: std::mem::take(&mut name),
                        data: serde_json::from_str(&std::mem::take(&mut data)).expect("JSON data"),
                    };
                    if sender.send(event).is_err() {
                        return;
                    }
                }
            }
        });
        Events { receiver }
    }

    /// The events up to and including the first called `name`, waiting at most `timeout` for it.
    pub fn until(&self, name: &str, timeout: std::time::Duration) -> Vec<Event> {
        let deadline = std::time::Instant::now() + timeout;
        let mut events = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let event = self.receiver.recv_timeout(left).unwrap_or_else(|_| panic!("no {name:?} event: {events:?}"));
            let done = event.name == name;
            events.push(event);
            if done {
                return events;
            }
        }
    }
}

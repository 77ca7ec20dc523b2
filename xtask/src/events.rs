//! The admin API's job events, measured: a job pointed at the server's own SCIM service provider is started with
//! `POST .../start` while `GET .../events` is read; how soon its state, its progress and its end arrive.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// What the events of one cycle showed.
pub(crate) struct Measured {
    /// From `POST .../start` to the `state` event that shows the job running or its first progress.
    pub(crate) first_event: Duration,
    /// `progress` events received.
    pub(crate) progress_events: usize,
    /// The longest gap between two `progress` events.
    pub(crate) longest_gap: Duration,
    /// The cycle's own duration (its `timeEnded` minus `timeBegan`).
    pub(crate) cycle: Duration,
    /// From the cycle's `timeEnded` to the `cycleEnded` event's arrival (one clock: same machine).
    pub(crate) end_to_event: Duration,
}

async fn connect(address: &str) -> anyhow::Result<http1::SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

fn request(
    address: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<String>,
) -> anyhow::Result<Request<Full<Bytes>>> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", address)
        .header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    Ok(request.body(Full::new(Bytes::from(body.unwrap_or_default())))?)
}

/// One request on a connection of its own; the status and body.
pub(crate) async fn call(
    address: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<String>,
) -> anyhow::Result<(StatusCode, Bytes)> {
    let mut sender = connect(address).await?;
    let response = sender.send_request(request(address, token, method, path, body)?).await?;
    let status = response.status();
    Ok((status, response.into_body().collect().await?.to_bytes()))
}

/// Reads a server-sent-event stream, sending each event's name and data with when it arrived.
async fn read_events(
    address: String,
    token: String,
    path: String,
    events: mpsc::UnboundedSender<(Instant, String, String)>,
) -> anyhow::Result<()> {
    let mut sender = connect(&address).await?;
    let response = sender.send_request(request(&address, &token, Method::GET, &path, None)?).await?;
    if !response.status().is_success() {
        bail!("GET {path}: {}", response.status());
    }
    let mut body = response.into_body();
    let mut buffer = String::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else { continue };
        buffer.push_str(&String::from_utf8_lossy(&data));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let (mut name, mut payload) = (String::new(), String::new());
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    value.trim().clone_into(&mut name);
                } else if let Some(value) = line.strip_prefix("data:") {
                    payload.push_str(value.trim_start());
                }
            }
            if !name.is_empty() && events.send((Instant::now(), name, payload)).is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}

fn time_field(data: &serde_json::Value, field: &str) -> anyhow::Result<OffsetDateTime> {
    let text = data[field].as_str().with_context(|| format!("no {field} in {data}"))?;
    Ok(OffsetDateTime::parse(text, &Rfc3339)?)
}

fn duration(from: OffsetDateTime, to: OffsetDateTime) -> Duration {
    Duration::try_from(to - from).unwrap_or(Duration::ZERO)
}

/// Starts the job at `job` (its path below the API's base) and reads its events until its cycle ends.
pub(crate) async fn measure(address: &str, token: &str, base: &str, job: &str) -> anyhow::Result<Measured> {
    let (sender, mut events) = mpsc::unbounded_channel();
    let reader = tokio::spawn(read_events(address.to_owned(), token.to_owned(), format!("{base}{job}/events"), sender));
    let first = tokio::time::timeout(Duration::from_secs(10), events.recv()).await?.context("the stream ended")?;
    if first.1 != "state" {
        bail!("the stream began with {} instead of state", first.1);
    }
    let started = Instant::now();
    let (status, body) = call(address, token, Method::POST, &format!("{base}{job}/start"), None).await?;
    if !status.is_success() {
        bail!("start: {status} {}", String::from_utf8_lossy(&body));
    }
    let (mut first_event, mut progress, mut longest_gap, mut last_progress) = (None, 0, Duration::ZERO, None);
    loop {
        let (at, name, data) =
            tokio::time::timeout(Duration::from_secs(600), events.recv()).await?.context("the stream ended")?;
        let data: serde_json::Value = serde_json::from_str(&data)?;
        match name.as_str() {
            "state" | "progress" if first_event.is_none() => first_event = Some(at - started),
            _ => {}
        }
        if name == "progress" {
            progress += 1;
            if let Some(previous) = last_progress {
                longest_gap = longest_gap.max(at - previous);
            }
            last_progress = Some(at);
        }
        if name == "cycleEnded" {
            let arrived = OffsetDateTime::now_utc() - at.elapsed();
            let ended = time_field(&data, "timeEnded")?;
            reader.abort();
            return Ok(Measured {
                first_event: first_event.unwrap_or(at - started),
                progress_events: progress,
                longest_gap,
                cycle: duration(time_field(&data, "timeBegan")?, ended),
                end_to_event: duration(ended, arrived),
            });
        }
    }
}

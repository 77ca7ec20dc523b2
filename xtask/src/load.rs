//! The whole-system load benchmark: real `roster serve` nodes on a fresh database (SQLite, or PostgreSQL shared by
//! `--nodes N` nodes), driven over loopback by keep-alive HTTP/1.1 connections spread over the nodes. Phases: POST
//! (seeding N users), filtered GET, PATCH, 100-user pages, a large group's membership; after each, the nodes'
//! resident memory is read from /proc.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use rand::Rng;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// Arguments of `cargo xtask load`.
#[derive(clap::Args)]
pub struct LoadArgs {
    /// The roster binary (build it with `cargo build --release -p roster-cli`).
    #[arg(long, default_value = "target/release/roster")]
    roster: PathBuf,
    /// Users to seed.
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds per measured phase (GET, PATCH, page).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The database, as every node sees it.
    #[command(flatten)]
    database: crate::database::DatabaseArgs,
    /// `roster serve` nodes sharing the database (PostgreSQL only beyond 1); connection N goes to node N mod nodes.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
}

pub(crate) struct Phase {
    name: String,
    requests: usize,
    errors: usize,
    elapsed: Duration,
    latencies_us: Vec<u32>,
    rss_kib: u64,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let index = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        f64::from(self.latencies_us[index.min(self.latencies_us.len() - 1)]) / 1000.0
    }
}

/// Runs the benchmark and prints a Markdown table.
pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    if !args.roster.exists() {
        bail!("{} does not exist; build it with `cargo build --release -p roster-cli`", args.roster.display());
    }
    let database = args.database.open().await?;
    if args.nodes == 0 || (args.nodes > 1 && !database.is_shared()) {
        bail!("--nodes {} needs a database the nodes share: use --postgres or --database postgres://...", args.nodes);
    }
    let data = std::env::temp_dir().join(format!("roster-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let roster = |arguments: &[&str]| {
        let mut command = std::process::Command::new(&args.roster);
        database.arguments(&mut command, &data);
        command.args(arguments);
        command
    };
    let status = roster(&["enterprise", "create", "bench", "--shortcode", "bnch"]).status()?;
    if !status.success() {
        bail!("enterprise create failed");
    }
    let output = roster(&["token", "create", "--enterprise", "bench"]).output()?;
    let token = String::from_utf8(output.stdout)?.trim().to_owned();
    let mut servers = Vec::new();
    for _ in 0..args.nodes {
        servers.push(start_server(&args.roster, &data, &database).await?);
    }
    let addresses = servers.iter().map(|(_, address, _)| address.clone()).collect();
    let pids: Vec<u32> = servers.iter().map(|(_, _, pid)| *pid).collect();
    let nodes_rss = |pids: &[u32]| pids.iter().map(|pid| rss_kib(*pid)).sum::<u64>();
    let target = Arc::new(Target { addresses, token, cookie: None, base: "/scim/v2/enterprises/bench".into() });

    let mut phases = Vec::new();
    let ids = Arc::new(std::sync::Mutex::new(vec![String::new(); args.users]));
    let next = Arc::new(AtomicUsize::new(0));
    let users = args.users;
    let seed = {
        let ids = ids.clone();
        drive(&target, args.connections, None, move |_rng| {
            let index = next.fetch_add(1, Ordering::Relaxed);
            (index < users).then(|| {
                let body = json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "externalId": format!("ext-{index}"),
                    "userName": format!("user{index}@bench.example"),
                    "displayName": format!("User {index}"),
                    "name": {"givenName": "User", "familyName": format!("N{index}")},
                    "emails": [{"value": format!("user{index}@bench.example"), "type": "work", "primary": true}],
                    "title": if index.is_multiple_of(2) { "Engineer" } else { "Designer" },
                    "active": true,
                });
                let ids = ids.clone();
                Call {
                    method: Method::POST,
                    path: "/Users".into(),
                    body: Some(body.to_string()),
                    on_answer: Some(Box::new(move |bytes: &[u8]| {
                        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
                            && let Some(id) = value["id"].as_str()
                            && let Ok(mut ids) = ids.lock()
                        {
                            ids[index] = id.to_owned();
                        }
                    })),
                }
            })
        })
        .await?
    };
    phases.push(seed.named("POST /Users (seeding)", nodes_rss(&pids)));

    let ids: Arc<Vec<String>> = Arc::new(ids.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone());
    let deadline = Some(Duration::from_secs(args.seconds));
    let get = drive(&target, args.connections, deadline, move |rng| {
        let index = rng.gen_range(0..users);
        Some(Call::get(format!("/Users?filter=userName%20eq%20%22user{index}%40bench.example%22")))
    })
    .await?;
    phases.push(get.named("GET /Users?filter=userName eq", nodes_rss(&pids)));

    let patch_ids = ids.clone();
    let patch = drive(&target, args.connections, deadline, move |rng| {
        let id = &patch_ids[rng.gen_range(0..patch_ids.len())];
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "title", "value": format!("T{}", rng.gen_range(0..1000))}],
        });
        Some(Call {
            method: Method::PATCH,
            path: format!("/Users/{id}"),
            body: Some(body.to_string()),
            on_answer: None,
        })
    })
    .await?;
    phases.push(patch.named("PATCH /Users/{id}", nodes_rss(&pids)));

    let page = drive(&target, args.connections, deadline, move |rng| {
        let start = rng.gen_range(1..=users.saturating_sub(99).max(1));
        Some(Call::get(format!("/Users?startIndex={start}&count=100")))
    })
    .await?;
    phases.push(page.named("GET /Users 100-user page", nodes_rss(&pids)));

    // A large group: every user but the last thousand, added in PATCHes of 1,000 members (measured as a phase),
    // then single-member PATCHes against it, each adding or removing one of the remaining users.
    let group = create_group(&target).await?;
    let spare = users.min(1000);
    let big = users - spare;
    let batches = Arc::new(AtomicUsize::new(0));
    let fill_ids = ids.clone();
    let fill_group = group.clone();
    let fill = drive(&target, 4, None, move |_rng| {
        let batch = batches.fetch_add(1, Ordering::Relaxed);
        let start = batch * 1000;
        (start < big).then(|| {
            let members: Vec<serde_json::Value> =
                fill_ids[start..(start + 1000).min(big)].iter().map(|id| json!({"value": id})).collect();
            let body = json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": members}],
            });
            Call {
                method: Method::PATCH,
                path: format!("/Groups/{fill_group}"),
                body: Some(body.to_string()),
                on_answer: None,
            }
        })
    })
    .await?;
    phases.push(fill.named("PATCH /Groups/{id} adding 1,000 members", nodes_rss(&pids)));

    let member_ids = ids.clone();
    let one = drive(&target, args.connections, deadline, move |rng| {
        let id = &member_ids[big + rng.gen_range(0..spare.max(1))];
        let op = if rng.gen_bool(0.5) { "add" } else { "remove" };
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": op, "path": "members", "value": [{"value": id}]}],
        });
        Some(Call {
            method: Method::PATCH,
            path: format!("/Groups/{group}"),
            body: Some(body.to_string()),
            on_answer: None,
        })
    })
    .await?;
    phases.push(one.named(format!("PATCH one member of a {big}-member group"), nodes_rss(&pids)));

    let peak: u64 = pids.iter().map(|pid| peak_rss_kib(*pid)).sum();
    for (mut server, _, _) in servers {
        let _ = server.kill().await;
    }
    let _ = std::fs::remove_dir_all(&data);

    println!("{} on {}, {} node(s)\n", args.users, database.describe(), args.nodes);
    print_phases(&phases);
    println!(
        "\npeak RSS, all nodes: {:.1} MiB; {} users; {} connections",
        peak as f64 / 1024.0,
        args.users,
        args.connections
    );
    if phases.iter().any(|phase| phase.errors > 0) {
        bail!("some requests failed");
    }
    Ok(())
}

/// Creates the group the membership phases use and returns its id.
async fn create_group(target: &Arc<Target>) -> anyhow::Result<String> {
    let id = Arc::new(std::sync::Mutex::new(String::new()));
    let slot = id.clone();
    let created = Arc::new(AtomicUsize::new(0));
    let outcome = drive(target, 1, None, move |_rng| {
        (created.fetch_add(1, Ordering::Relaxed) == 0).then(|| {
            let slot = slot.clone();
            Call {
                method: Method::POST,
                path: "/Groups".into(),
                body: Some(
                    json!({
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                        "externalId": "bench-group",
                        "displayName": "Everyone",
                    })
                    .to_string(),
                ),
                on_answer: Some(Box::new(move |bytes: &[u8]| {
                    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
                        && let (Some(id), Ok(mut slot)) = (value["id"].as_str(), slot.lock())
                    {
                        *slot = id.to_owned();
                    }
                })),
            }
        })
    })
    .await?;
    let id = id.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
    if outcome.errors > 0 || id.is_empty() {
        bail!("could not create the benchmark group");
    }
    Ok(id)
}

/// Starts `roster serve` on a free loopback port of `data` and the database; returns the child (killed on drop),
/// its address and its pid.
pub(crate) async fn start_server(
    roster: &Path,
    data: &Path,
    database: &crate::database::Database,
) -> anyhow::Result<(Child, String, u32)> {
    let mut command = std::process::Command::new(roster);
    database.arguments(&mut command, data);
    let mut server = Command::from(command)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("ROSTER_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let address = listening_address(&mut server).await?;
    let pid = server.id().context("server pid")?;
    Ok((server, address, pid))
}

async fn listening_address(server: &mut Child) -> anyhow::Result<String> {
    let stdout = server.stdout.take().context("server stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    while let Some(line) = lines.next_line().await? {
        if let Some(url) = line.strip_prefix("roster listening on http://") {
            let address = url.trim().to_owned();
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Ok(address);
        }
    }
    bail!("the server exited before it listened")
}

pub(crate) fn rss_kib(pid: u32) -> u64 {
    proc_status_kib(pid, "VmRSS:")
}

pub(crate) fn peak_rss_kib(pid: u32) -> u64 {
    proc_status_kib(pid, "VmHWM:")
}

fn proc_status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(key))
                .and_then(|line| line.split_whitespace().nth(1).and_then(|value| value.parse().ok()))
        })
        .unwrap_or(0)
}

pub(crate) struct Target {
    /// The nodes' addresses.
    pub(crate) addresses: Vec<String>,
    /// The bearer token of the API calls, unless `cookie` is given.
    pub(crate) token: String,
    /// A portal session's cookie (`name=value`), sent instead of the token.
    pub(crate) cookie: Option<String>,
    pub(crate) base: String,
}

type OnAnswer = Box<dyn FnOnce(&[u8]) + Send>;

pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) body: Option<String>,
    pub(crate) on_answer: Option<OnAnswer>,
}

impl Call {
    pub(crate) fn get(path: String) -> Self {
        Self { method: Method::GET, path, body: None, on_answer: None }
    }
}

pub(crate) struct Outcome {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    latencies_us: Vec<u32>,
}

impl Outcome {
    pub(crate) fn named(mut self, name: impl Into<String>, rss_kib: u64) -> Phase {
        self.latencies_us.sort_unstable();
        Phase {
            name: name.into(),
            requests: self.requests,
            errors: self.errors,
            elapsed: self.elapsed,
            latencies_us: self.latencies_us,
            rss_kib,
        }
    }
}

/// Runs `connections` workers, each with one keep-alive connection, until `next` returns `None` or the deadline
/// passes.
pub(crate) async fn drive<F>(
    target: &Arc<Target>,
    connections: usize,
    deadline: Option<Duration>,
    next: F,
) -> anyhow::Result<Outcome>
where
    F: Fn(&mut rand::rngs::StdRng) -> Option<Call> + Send + Sync + 'static,
{
    use rand::SeedableRng;
    let next = Arc::new(next);
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..connections {
        let target = target.clone();
        let next = next.clone();
        workers.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(worker as u64);
            let address = &target.addresses[worker % target.addresses.len()];
            let stream = TcpStream::connect(address).await?;
            stream.set_nodelay(true)?;
            let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(connection);
            let mut outcome = Outcome { requests: 0, errors: 0, elapsed: Duration::ZERO, latencies_us: Vec::new() };
            loop {
                if deadline.is_some_and(|limit| started.elapsed() >= limit) {
                    break;
                }
                let Some(call) = next(&mut rng) else { break };
                let mut request = Request::builder()
                    .method(call.method)
                    .uri(format!("{}{}", target.base, call.path))
                    .header("host", address.as_str())
                    .header("user-agent", "roster-load");
                request = match &target.cookie {
                    Some(cookie) => request.header("cookie", cookie.as_str()),
                    None => request.header("authorization", format!("Bearer {}", target.token)),
                };
                if call.body.is_some() {
                    request = request.header("content-type", "application/scim+json");
                }
                let request = request.body(Full::new(Bytes::from(call.body.unwrap_or_default())))?;
                let sent = Instant::now();
                sender.ready().await?;
                let response = sender.send_request(request).await?;
                let status = response.status();
                let bytes = response.into_body().collect().await?.to_bytes();
                outcome.latencies_us.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                outcome.requests += 1;
                if !status.is_success() {
                    outcome.errors += 1;
                    if outcome.errors <= 3 {
                        eprintln!("{status}: {}", String::from_utf8_lossy(&bytes));
                    }
                }
                if let Some(on_answer) = call.on_answer {
                    on_answer(&bytes);
                }
            }
            anyhow::Ok(outcome)
        }));
    }
    let mut total = Outcome { requests: 0, errors: 0, elapsed: Duration::ZERO, latencies_us: Vec::new() };
    for worker in workers {
        let outcome = worker.await??;
        total.requests += outcome.requests;
        total.errors += outcome.errors;
        total.latencies_us.extend(outcome.latencies_us);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// Prints phases as a Markdown table.
pub(crate) fn print_phases(phases: &[Phase]) {
    println!("| phase | requests | errors | req/s | p50 ms | p99 ms | RSS after (MiB, all nodes) |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for phase in phases {
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.1} |",
            phase.name,
            phase.requests,
            phase.errors,
            phase.rate(),
            phase.percentile(0.5),
            phase.percentile(0.99),
            phase.rss_kib as f64 / 1024.0
        );
    }
}

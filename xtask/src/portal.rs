//! The portal benchmark: a directory of N users in G groups imported into a fresh data directory, an application
//! (`scim` template, "sync all") provisioned once into the server's own service provider so that its logs hold an
//! entry per object, and an admin with a password; then `roster serve`'s pages are requested, signed in with a
//! portal session, over keep-alive connections (one by default, so that a request's time is the server's): each
//! page's p50 and p99.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use rand::Rng;
use tokio::net::TcpStream;

use crate::load::{Call, Target, drive, print_phases, rss_kib, start_server};

const PASSWORD: &str = "a benchmark password";
const ADMIN: &str = "bench-admin@contoso.example";

/// Arguments of `cargo xtask portal`.
#[derive(clap::Args)]
pub struct PortalArgs {
    /// The roster binary (build it with `cargo build --release -p roster-cli`).
    #[arg(long, default_value = "target/release/roster")]
    roster: PathBuf,
    /// Users in the directory.
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Groups in the directory.
    #[arg(long, default_value_t = 1_000)]
    groups: usize,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// Seconds per measured page.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
}

/// Runs the benchmark and prints a Markdown table.
pub async fn run(args: PortalArgs) -> anyhow::Result<()> {
    if !args.roster.exists() {
        bail!("{} does not exist; build it with `cargo build --release -p roster-cli`", args.roster.display());
    }
    let database = crate::database::Database::sqlite();
    let data = std::env::temp_dir().join(format!("roster-portal-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data)?;
    let command = || {
        let mut command = std::process::Command::new(&args.roster);
        database.arguments(&mut command, &data);
        command
    };
    let roster = |arguments: &[&str]| -> anyhow::Result<String> {
        let output = command().args(arguments).output()?;
        if !output.status.success() {
            bail!("roster {arguments:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(String::from_utf8(output.stdout)?.trim().to_owned())
    };
    let file = data.join("directory.jsonl");
    let file = file.to_str().context("a UTF-8 path")?.to_owned();
    let (users, groups) = (args.users.to_string(), args.groups.to_string());
    let generate = ["directory", "generate", "--users", &users, "--groups", &groups, "--members-per-group", "100"];
    roster(&[&generate[..], &["--out", &file]].concat())?;
    roster(&["directory", "import", &file])?;
    roster(&["enterprise", "create", "bench", "--shortcode", "bench", "--profile", "scim"])?;
    let scim_token = roster(&["token", "create", "--enterprise", "bench"])?;
    let mut admin = command()
        .args(["admin", "create", "--upn", ADMIN, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    admin.stdin.take().context("stdin")?.write_all(format!("{PASSWORD}\n").as_bytes())?;
    if !admin.wait()?.success() {
        bail!("roster admin create failed");
    }
    let objects: Vec<serde_json::Value> = std::fs::read_to_string(&file)?
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .collect();
    let ids = |kind: &str| -> Vec<String> {
        objects
            .iter()
            .filter(|object| object["objectType"] == kind && object["deletedDateTime"].is_null())
            .filter_map(|object| object["id"].as_str().map(str::to_owned))
            .collect()
    };
    let (user_ids, group_ids) = (Arc::new(ids("user")), Arc::new(ids("group")));
    let upn = objects
        .iter()
        .find(|object| object["objectType"] == "user" && object["accountEnabled"] == true)
        .and_then(|object| object["userPrincipalName"].as_str())
        .context("an enabled user")?
        .to_owned();

    let (mut server, address, pid) = start_server(&args.roster, &data, &database).await?;
    // The logs: one cycle of every object into the server's own service provider.
    let tenant = format!("http://{address}/scim/v2/enterprises/bench");
    let create = ["app", "create", "github", "--template", "scim", "--scope", "all", "--tenant-url", &tenant];
    roster(&[&create[..], &["--secret-token", &scim_token]].concat())?;
    roster(&["app", "pause", "github"])?;
    let cycle = std::time::Instant::now();
    roster(&["sync", "github"])?;
    let cycle = cycle.elapsed();

    let cookie = sign_in(&address).await?;
    let target = Arc::new(Target {
        addresses: vec![address.clone()],
        token: String::new(),
        cookie: Some(cookie),
        base: String::new(),
    });
    let deadline = Some(Duration::from_secs(args.seconds));
    let fetch = |path: String| {
        let target = target.clone();
        async move { page(&target, &path).await }
    };
    // Cursors and ids from the pages themselves: a logs page 50 pages deep, and an entry's details.
    let mut deep = "/applications/github/logs".to_owned();
    for _ in 0..50 {
        let html = fetch(deep.clone()).await?;
        match link_after(&html, "rel=\"next\"") {
            Some(next) => deep = next,
            None => break,
        }
    }
    let html = fetch("/applications/github/logs".to_owned()).await?;
    let detail = first_link_with(&html, "entry=").context("a log entry link")?;

    // Warm-up, not measured: the server's caches, and the WAL checkpoint the import left to do.
    drive(&target, args.connections, Some(Duration::from_secs(3)), |_| Some(Call::get("/users".into()))).await?;
    let fixed: Vec<(&str, String)> = vec![
        ("Dashboard", "/".into()),
        ("Enterprise applications", "/applications".into()),
        ("Overview", "/applications/github/overview".into()),
        ("Overview status (what htmx and SSE refresh)", "/applications/github/overview/status".into()),
        ("Provisioning", "/applications/github/provisioning".into()),
        ("Attribute Mapping (users)", "/applications/github/mappings/users".into()),
        ("Edit attribute", "/applications/github/mappings/users/attribute?target=userName".into()),
        ("Source Object Scope", "/applications/github/scoping/users".into()),
        (
            "Expression builder, tested against a user",
            format!(
                "/applications/github/expression-builder?expression=Join(%22.%22%2C%20%5BgivenName%5D%2C%20%5Bsurname%5D)&user={upn}"
            ),
        ),
        ("Users and groups", "/applications/github/users-and-groups".into()),
        ("Provisioning logs (newest)", "/applications/github/logs".into()),
        ("Provisioning logs, 50 pages deep", deep),
        ("Provisioning logs, status Success", "/applications/github/logs?status=Success".into()),
        ("Provisioning logs, an identity", format!("/applications/github/logs?identity={upn}")),
        ("Provisioning logs, an entry's details", detail),
        ("Provision on demand", "/applications/github/provision-on-demand".into()),
        ("Users (first page)", "/users".into()),
        ("Users, a search", "/users?search=a".into()),
        ("Groups (first page)", "/groups".into()),
        ("Dry-run plans", "/applications/github/plans".into()),
        ("Review your schema", "/applications/github/definition".into()),
        ("Service provider", "/service-provider".into()),
        ("An enterprise and its tokens", "/service-provider/bench".into()),
        ("Audit logs", "/audit".into()),
        ("Admins", "/admins".into()),
        ("Admin API tokens", "/admins/tokens".into()),
    ];
    let mut phases = Vec::new();
    for (name, path) in fixed {
        let outcome = drive(&target, args.connections, deadline, move |_| Some(Call::get(path.clone()))).await?;
        phases.push(outcome.named(name, rss_kib(pid)));
    }
    let users = {
        let user_ids = user_ids.clone();
        drive(&target, args.connections, deadline, move |rng| {
            Some(Call::get(format!("/users/{}", user_ids[rng.gen_range(0..user_ids.len())])))
        })
        .await?
    };
    phases.push(users.named("A user (random)", rss_kib(pid)));
    let groups = {
        let group_ids = group_ids.clone();
        drive(&target, args.connections, deadline, move |rng| {
            Some(Call::get(format!("/groups/{}", group_ids[rng.gen_range(0..group_ids.len())])))
        })
        .await?
    };
    phases.push(groups.named("A group with its members (random)", rss_kib(pid)));

    let _ = server.kill().await;
    let _ = std::fs::remove_dir_all(&data);
    println!(
        "portal, {} users and {} groups on SQLite, the logs of one cycle of every object ({:.1} s), {} connection(s)\n",
        args.users,
        args.groups,
        cycle.as_secs_f64(),
        args.connections
    );
    print_phases(&phases);
    Ok(())
}

/// Signs the benchmark's admin in; the session cookie (`name=value`).
async fn sign_in(address: &str) -> anyhow::Result<String> {
    let stream = TcpStream::connect(address).await?;
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("upn", ADMIN)
        .append_pair("password", PASSWORD)
        .finish();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/sign-in")
        .header("host", address)
        .header("origin", format!("http://{address}"))
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body)))?;
    let response = sender.send_request(request).await?;
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::to_owned);
    let status = response.status();
    let text = response.into_body().collect().await?.to_bytes();
    cookie.with_context(|| format!("sign-in answered {status} without a cookie: {}", String::from_utf8_lossy(&text)))
}

/// A page's HTML, signed in.
async fn page(target: &Target, path: &str) -> anyhow::Result<String> {
    let address = &target.addresses[0];
    let stream = TcpStream::connect(address).await?;
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let request = Request::builder()
        .uri(path)
        .header("host", address.as_str())
        .header("cookie", target.cookie.clone().unwrap_or_default())
        .body(Full::new(Bytes::new()))?;
    let response = sender.send_request(request).await?;
    if !response.status().is_success() {
        bail!("GET {path}: {}", response.status());
    }
    Ok(String::from_utf8_lossy(&response.into_body().collect().await?.to_bytes()).into_owned())
}

/// The `href` of the first link whose tag holds `marker` after its `href`.
fn link_after(html: &str, marker: &str) -> Option<String> {
    let end = html.find(marker)?;
    let start = html[..end].rfind("href=\"")? + "href=\"".len();
    let href = &html[start..];
    Some(unescape(&href[..href.find('"')?]))
}

/// The first `href` that contains `text`.
fn first_link_with(html: &str, text: &str) -> Option<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.contains(text))
        .map(unescape)
}

fn unescape(href: &str) -> String {
    href.replace("&amp;", "&").replace("&#x2f;", "/").replace("&#x2F;", "/").replace("&#43;", "+")
}

//! The admin API benchmark: a directory of N users imported into a fresh data directory, an application, an admin
//! token; then `roster serve` is driven over loopback keep-alive connections: 100-user `/users` pages (the first
//! page, and pages after random positions), a filtered lookup by userPrincipalName, and the job's status.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use rand::Rng;

use crate::events;
use crate::load::{Call, Target, drive, print_phases, rss_kib, start_server};

/// Arguments of `cargo xtask admin`.
#[derive(clap::Args)]
pub struct AdminArgs {
    /// The roster binary (build it with `cargo build --release -p roster-cli`).
    #[arg(long, default_value = "target/release/roster")]
    roster: PathBuf,
    /// Users in the directory.
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds per measured phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

/// Runs the benchmark and prints a Markdown table.
pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    if !args.roster.exists() {
        bail!("{} does not exist; build it with `cargo build --release -p roster-cli`", args.roster.display());
    }
    let database = crate::database::Database::sqlite();
    let data = std::env::temp_dir().join(format!("roster-admin-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data)?;
    let roster = |arguments: &[&str]| -> anyhow::Result<String> {
        let mut command = std::process::Command::new(&args.roster);
        database.arguments(&mut command, &data);
        let output = command.args(arguments).output()?;
        if !output.status.success() {
            bail!("roster {arguments:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(String::from_utf8(output.stdout)?.trim().to_owned())
    };
    let file = data.join("directory.jsonl");
    let file = file.to_str().context("a UTF-8 path")?.to_owned();
    let users = args.users.to_string();
    roster(&[
        "directory",
        "generate",
        "--users",
        &users,
        "--groups",
        "100",
        "--members-per-group",
        "100",
        "--out",
        &file,
    ])?;
    roster(&["directory", "import", &file])?;
    roster(&[
        "app",
        "create",
        "github",
        // The scim template: GitHub's rate budget (3 writes a second) would stretch the events phase's cycle to
        // half an hour.
        "--template",
        "scim",
        "--tenant-url",
        "http://127.0.0.1:9/scim",
        "--secret-token",
        "x",
    ])?;
    roster(&["app", "pause", "github"])?;
    // The job's target for the events phase: the server's own service provider, every group assigned.
    roster(&["enterprise", "create", "bench", "--shortcode", "bench", "--profile", "scim"])?;
    let scim_token = roster(&["token", "create", "--enterprise", "bench"])?;
    let groups: Vec<String> = std::fs::read_to_string(&file)?
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|object| object["objectType"] == "group")
        .filter_map(|object| object["id"].as_str().map(str::to_owned))
        .collect();
    for group in &groups {
        roster(&["app", "assign", "github", "--group", group])?;
    }
    let token = roster(&["admin", "token", "create", "--name", "bench", "--role", "global-administrator"])?;
    let upns: Vec<String> = std::fs::read_to_string(&file)?
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        // Users the generator deleted (soft, with a deletedDateTime) are not found under /users, as on Graph.
        .filter(|object| object["deletedDateTime"].is_null())
        .filter_map(|object| object["userPrincipalName"].as_str().map(str::to_owned))
        .collect();
    let (mut server, address, pid) = start_server(&args.roster, &data, &database).await?;
    let target = Arc::new(Target { addresses: vec![address.clone()], token, cookie: None, base: "/api/v1.0".into() });
    let deadline = Some(Duration::from_secs(args.seconds));

    // Service principal and job ids, from the API itself.
    let sp = Arc::new(std::sync::Mutex::new(String::new()));
    let asked = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let sp = sp.clone();
        drive(&target, 1, None, move |_| {
            if asked.swap(true, std::sync::atomic::Ordering::Relaxed) {
                return None;
            }
            let sp = sp.clone();
            Some(Call {
                on_answer: Some(Box::new(move |bytes: &[u8]| {
                    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
                        && let Some(id) = value["value"][0]["id"].as_str()
                        && let Ok(mut sp) = sp.lock()
                    {
                        id.clone_into(&mut sp);
                    }
                })),
                ..Call::get("/servicePrincipals".into())
            })
        })
        .await?;
    }
    let sp = sp.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
    if sp.is_empty() {
        bail!("no service principal");
    }

    // Warm-up, not measured: the server's caches, and the WAL checkpoint the import left to do.
    drive(&target, args.connections, Some(Duration::from_secs(3)), |_| Some(Call::get("/users?$top=100".into())))
        .await?;
    let mut phases = Vec::new();
    let first = drive(&target, args.connections, deadline, |_| Some(Call::get("/users?$top=100".into()))).await?;
    phases.push(first.named("GET /users?$top=100 (first page)", rss_kib(pid)));
    let selected = drive(&target, args.connections, deadline, |_| {
        Some(Call::get("/users?$top=100&$select=id,displayName,userPrincipalName".into()))
    })
    .await?;
    phases.push(selected.named("GET /users?$top=100&$select=3 properties", rss_kib(pid)));
    let upns = Arc::new(upns);
    let lookups = {
        let upns = upns.clone();
        drive(&target, args.connections, deadline, move |rng| {
            let upn = &upns[rng.gen_range(0..upns.len())];
            // OData doubles a quote inside a string literal (o'brien).
            let literal = upn.replace('\'', "''");
            Some(Call::get(format!("/users?$filter=userPrincipalName%20eq%20'{literal}'")))
        })
        .await?
    };
    phases.push(lookups.named("GET /users?$filter=userPrincipalName eq (an index lookup)", rss_kib(pid)));
    let by_id = {
        let upns = upns.clone();
        drive(&target, args.connections, deadline, move |rng| {
            let upn = &upns[rng.gen_range(0..upns.len())];
            Some(Call::get(format!("/users/{upn}")))
        })
        .await?
    };
    phases.push(by_id.named("GET /users/{userPrincipalName}", rss_kib(pid)));
    let job = format!("/servicePrincipals/{sp}/synchronization/jobs/scim.github");
    let status = drive(&target, args.connections, deadline, move |_| Some(Call::get(job.clone()))).await?;
    phases.push(status.named("GET .../synchronization/jobs/{jobId}", rss_kib(pid)));

    // Events: the job pointed at the server's own SCIM service provider, started, its stream read.
    let sync = format!("/api/v1.0/servicePrincipals/{sp}/synchronization");
    let secrets = serde_json::json!({"value": [
        {"key": "BaseAddress", "value": format!("http://{address}/scim/v2/enterprises/bench")},
        {"key": "SecretToken", "value": scim_token},
    ]});
    let (put, body) = events::call(
        &address,
        &target.token,
        hyper::Method::PUT,
        &format!("{sync}/secrets"),
        Some(secrets.to_string()),
    )
    .await?;
    if !put.is_success() {
        bail!("PUT secrets: {put} {}", String::from_utf8_lossy(&body));
    }
    let measured = events::measure(&address, &target.token, &sync, "/jobs/scim.github").await?;

    let _ = server.kill().await;
    let _ = std::fs::remove_dir_all(&data);
    println!("admin API, {} users on SQLite, {} connections\n", args.users, args.connections);
    print_phases(&phases);
    println!(
        "\nevents of the initial cycle ({} groups assigned): first event {:.0} ms after start; {} progress events, \
         at most {:.0} ms apart; the cycle took {:.1} s; cycleEnded {:.0} ms after its timeEnded",
        groups.len(),
        measured.first_event.as_secs_f64() * 1000.0,
        measured.progress_events,
        measured.longest_gap.as_secs_f64() * 1000.0,
        measured.cycle.as_secs_f64(),
        measured.end_to_event.as_secs_f64() * 1000.0,
    );
    Ok(())
}

//! The whole-engine benchmark: a real `roster serve` (the target, roster's own service provider) and a real
//! `roster sync` (the engine) on another data directory, both on loopback. Phases: an initial cycle of a generated
//! directory (every user and group in scope), an incremental cycle after N users changed, and a cycle with no
//! change. Each `roster sync` is timed from outside; its peak resident memory is sampled from /proc while it runs.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use roster_directory::export::write_jsonl;
use roster_directory::generate::{Directory, GenerateOptions};
use tokio::io::AsyncBufReadExt as _;
use tokio::process::Command;

use crate::load::{peak_rss_kib, start_server};

/// Arguments of `cargo xtask cycle`.
#[derive(clap::Args)]
pub struct CycleArgs {
    /// The roster binary (build it with `cargo build --release -p roster-cli`).
    #[arg(long, default_value = "target/release/roster")]
    roster: PathBuf,
    /// Users in the directory.
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Groups in the directory.
    #[arg(long, default_value_t = 1_000)]
    groups: usize,
    /// Mean members per group.
    #[arg(long, default_value_t = 100)]
    members_per_group: usize,
    /// Users changed before the incremental cycle.
    #[arg(long, default_value_t = 1_000)]
    changes: usize,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// The source's database (directory and engine state); with `--postgres`, the target's is another database of
    /// the same cluster.
    #[command(flatten)]
    database: crate::database::DatabaseArgs,
}

struct Measured {
    name: String,
    elapsed: Duration,
    peak_rss_kib: u64,
    summary: String,
}

/// Runs the benchmark and prints a Markdown table.
pub async fn run(args: CycleArgs) -> anyhow::Result<()> {
    if !args.roster.exists() {
        bail!("{} does not exist; build it with `cargo build --release -p roster-cli`", args.roster.display());
    }
    let root = std::env::temp_dir().join(format!("roster-cycle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (target_data, source_data) = (root.join("target"), root.join("source"));
    let source_database = args.database.open().await?;
    let sqlite = crate::database::Database::sqlite();
    let target_database = source_database.another().await?;
    let target_database = target_database.as_ref().unwrap_or(&sqlite);
    let database_of = |data: &Path| if data == target_data { target_database } else { &source_database };
    let roster = |data: &Path, arguments: &[&str]| {
        let mut command = std::process::Command::new(&args.roster);
        database_of(data).arguments(&mut command, data);
        command.args(arguments);
        command
    };
    let ok = |mut command: std::process::Command, what: &str| -> anyhow::Result<String> {
        let output = command.output().with_context(|| what.to_owned())?;
        if !output.status.success() {
            bail!("{what} failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };

    ok(roster(&target_data, &["enterprise", "create", "bench", "--shortcode", "bnch"]), "enterprise create")?;
    let token =
        ok(roster(&target_data, &["token", "create", "--enterprise", "bench"]), "token create")?.trim().to_owned();
    let (mut server, address, server_pid) = start_server(&args.roster, &target_data, target_database).await?;

    // The directory, and the same directory with `changes` users renamed.
    let options =
        GenerateOptions { users: args.users, groups: args.groups, members_per_group: args.members_per_group, seed: 7 };
    let mut directory = Directory::generate(&options);
    let memberships: usize = directory.groups.iter().map(|group| group.members.len()).sum();
    std::fs::create_dir_all(&source_data)?;
    let initial_file = source_data.join("directory.jsonl");
    write_jsonl(&directory, std::io::BufWriter::new(std::fs::File::create(&initial_file)?))?;
    for user in directory.users.iter_mut().take(args.changes) {
        user.display_name = Some(format!("{} (renamed)", user.display_name.clone().unwrap_or_default()));
    }
    let changed_file = source_data.join("changed.jsonl");
    write_jsonl(&directory, std::io::BufWriter::new(std::fs::File::create(&changed_file)?))?;
    drop(directory);

    let started = Instant::now();
    ok(roster(&source_data, &["directory", "import", path(&initial_file)?]), "directory import")?;
    let import_time = started.elapsed();
    let tenant_url = format!("http://{address}/scim/v2/enterprises/bench");
    ok(
        roster(
            &source_data,
            &[
                "app",
                "create",
                "bench",
                "--template",
                "github-emu",
                "--tenant-url",
                &tenant_url,
                "--secret-token",
                &token,
                "--scope",
                "all",
            ],
        ),
        "app create",
    )?;
    // Roster's own service provider is the target: no GitHub budget; the benchmark's concurrency.
    let exported = ok(roster(&source_data, &["app", "export", "bench"]), "app export")?;
    let definition = exported
        .replace("rate_limit = \"github\"", "rate_limit = \"unlimited\"")
        .replace("concurrency = 16", &format!("concurrency = {}", args.concurrency))
        .replace("members_per_patch = 100", "members_per_patch = 1000");
    let definition_file = source_data.join("bench.toml");
    std::fs::write(&definition_file, definition)?;
    ok(roster(&source_data, &["app", "apply", path(&definition_file)?]), "app apply")?;

    let mut phases = Vec::new();
    let sync =
        |name: String, dry_run: bool| measure(Command::from(roster(&source_data, &["sync", "bench"])), name, dry_run);
    phases.push(sync("dry run of the initial cycle".into(), true).await?);
    phases.push(sync("initial cycle".into(), false).await?);
    ok(roster(&source_data, &["directory", "import", path(&changed_file)?]), "directory import (changes)")?;
    let incremental = format!("incremental, {} changes", args.changes);
    phases.push(sync(format!("dry run of the {incremental}"), true).await?);
    phases.push(sync(incremental, false).await?);
    phases.push(sync("no change".into(), false).await?);

    println!(
        "directory: {} users, {} groups, {memberships} memberships (imported in {:.1} s); concurrency {}; {}",
        args.users,
        args.groups,
        import_time.as_secs_f64(),
        args.concurrency,
        source_database.describe()
    );
    println!();
    println!("| cycle | wall time | engine peak RSS | summary |");
    println!("|---|---|---|---|");
    for phase in &phases {
        println!(
            "| {} | {:.2} s | {} MiB | {} |",
            phase.name,
            phase.elapsed.as_secs_f64(),
            phase.peak_rss_kib / 1024,
            phase.summary.replace('\n', " ")
        );
    }
    println!();
    println!("service provider (target) peak RSS: {} MiB", peak_rss_kib(server_pid) / 1024);
    let _ = server.kill().await;
    let _ = std::fs::remove_dir_all(&root);
    Ok(())
}

fn path(file: &Path) -> anyhow::Result<&str> {
    file.to_str().context("a temporary path is not UTF-8")
}

/// Runs a `roster sync` command (with `--dry-run`: the plan, whose review text is not kept), timing it and
/// sampling its peak resident memory until it exits.
async fn measure(mut command: Command, name: String, dry_run: bool) -> anyhow::Result<Measured> {
    let started = Instant::now();
    // The error, if any, is the end of stderr; the progress lines before it are dropped as they come.
    command.stderr(Stdio::piped());
    if dry_run {
        command.arg("--dry-run").stdout(Stdio::null());
    } else {
        command.stdout(Stdio::piped());
    }
    let mut child = command.spawn()?;
    let stderr = child.stderr.take().context("sync stderr")?;
    let last_lines = tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        let mut last = std::collections::VecDeque::new();
        while let Ok(Some(line)) = lines.next_line().await {
            if last.len() == 20 {
                last.pop_front();
            }
            last.push_back(line);
        }
        Vec::from(last).join("\n")
    });
    let pid = child.id().context("sync pid")?;
    let mut peak = 0;
    let status = loop {
        peak = peak.max(peak_rss_kib(pid));
        tokio::select! {
            status = child.wait() => break status?,
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    };
    let elapsed = started.elapsed();
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        use tokio::io::AsyncReadExt;
        out.read_to_string(&mut stdout).await?;
    }
    if !status.success() {
        let stderr = last_lines.await.unwrap_or_default();
        bail!("roster sync failed in the {name} phase: {stdout}\n{stderr}");
    }
    let summary = stdout.lines().skip(1).map(str::trim).collect::<Vec<_>>().join("; ");
    Ok(Measured { name, elapsed, peak_rss_kib: peak, summary })
}

//! `roster app ...`, `roster sync`, `roster status` and `roster logs`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use roster_app::Stores;
use roster_app::notify::Mailer;
use roster_app::provisioning::{self, DefinitionFormat};
use roster_app::secrets::SecretKey;
use roster_engine::cycle::{Progress, ProgressReport};
use roster_engine::definition::Scope;
use roster_engine::log::{Action, LogEntry, Status};
use roster_engine::state::{Cycle, LogQuery};

#[derive(Subcommand)]
pub enum AppCommand {
    /// Create an application from a template.
    Create {
        /// The application's name.
        name: String,
        /// github-emu (GitHub Enterprise Managed Users) or scim (a generic SCIM 2.0 app).
        #[arg(long)]
        template: String,
        /// The SCIM base URL, e.g. https://api.github.com/scim/v2/enterprises/octo-corp.
        #[arg(long)]
        tenant_url: String,
        /// The bearer token roster sends (stored encrypted). Also read from ROSTER_SECRET_TOKEN.
        #[arg(long, env = "ROSTER_SECRET_TOKEN", hide_env_values = true)]
        secret_token: String,
        /// Who is provisioned: assigned (users and groups assigned to the app) or all.
        #[arg(long, default_value = "assigned")]
        scope: String,
    },
    /// Assign a user or group to an application.
    Assign {
        /// The application.
        name: String,
        #[command(flatten)]
        principal: Principal,
        /// The app role's value (for github-emu: user, enterprise_owner, billing_manager, guest_collaborator).
        #[arg(long)]
        role: Option<String>,
    },
    /// Remove a user's or group's assignment.
    Unassign {
        /// The application.
        name: String,
        #[command(flatten)]
        principal: Principal,
    },
    /// Create or replace an application from a definition file (.toml or .json).
    Apply {
        /// The file.
        file: PathBuf,
    },
    /// Print an application's definition.
    Export {
        /// The application.
        name: String,
        /// toml or json.
        #[arg(long, default_value = "toml")]
        format: String,
    },
    /// List applications.
    List,
    /// Check that the target answers SCIM with the stored token.
    TestConnection {
        /// The application.
        name: String,
    },
    /// Send the disables and deletes the accidental-deletion guard staged (the next cycle sends them).
    AllowDeletes {
        /// The application.
        name: String,
    },
    /// Reset the job (by default: escrows, watermark and quarantine, as Entra's Restart) and run a cycle soon.
    Restart {
        /// The application.
        name: String,
        /// What to reset, comma-separated: escrows, watermark, quarantine, full (also forgets every link to target
        /// objects), force-deletes (sends the staged disables and deletes). Empty: all but full and force-deletes.
        #[arg(long, default_value = "")]
        reset: String,
    },
    /// Replace the secret token roster sends to the target.
    SetToken {
        /// The application.
        name: String,
        /// The new token (also read from ROSTER_SECRET_TOKEN).
        #[arg(long, env = "ROSTER_SECRET_TOKEN", hide_env_values = true)]
        secret_token: String,
    },
    /// List the target's users and groups that roster neither created nor matched: roster never touches them.
    Unmanaged {
        /// The application.
        name: String,
        /// table or json.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Resume provisioning: cycles run again on the interval, the first one at once.
    #[command(visible_alias = "enable")]
    Resume {
        /// The application.
        name: String,
    },
    /// Pause provisioning: no cycle starts, and a running one stops at its next object (the next cycle after
    /// resuming evaluates the same changes again).
    #[command(visible_alias = "disable")]
    Pause {
        /// The application.
        name: String,
    },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct Principal {
    /// A user's object id.
    #[arg(long)]
    user: Option<String>,
    /// A group's object id.
    #[arg(long)]
    group: Option<String>,
}

impl Principal {
    fn id(&self) -> &str {
        self.user.as_deref().or(self.group.as_deref()).unwrap_or_default()
    }

    fn into_app(self) -> provisioning::Principal {
        match (self.user, self.group) {
            (Some(user), _) => provisioning::Principal::User(user),
            (None, group) => provisioning::Principal::Group(group.unwrap_or_default()),
        }
    }
}

pub async fn app(stores: &Stores, key: &SecretKey, command: AppCommand) -> anyhow::Result<()> {
    match command {
        AppCommand::Create { name, template, tenant_url, secret_token, scope } => {
            let scope = parse_scope(&scope)?;
            provisioning::create(stores, key, &crate::actor(), &name, &template, &tenant_url, &secret_token, scope)
                .await?;
            println!(
                "created application {name} from the {template} template; assign users and groups, then run `roster sync {name}`"
            );
        }
        AppCommand::Assign { name, principal, role } => {
            let kind = provisioning::assign(stores, &crate::actor(), &name, principal.id(), role.as_deref()).await?;
            let kind = if kind == roster_directory::port::PrincipalKind::User { "user" } else { "group" };
            println!(
                "assigned {kind} {} to {name}{}",
                principal.id(),
                role.map(|role| format!(" as {role}")).unwrap_or_default()
            );
        }
        AppCommand::Unassign { name, principal } => {
            provisioning::unassign(stores, &crate::actor(), &name, principal.id()).await?;
            println!("unassigned {} from {name}", principal.id());
        }
        AppCommand::Apply { file } => {
            let (name, created) = provisioning::apply_file(stores, key, &crate::actor(), &file).await?;
            println!("{} application {name}", if created { "created" } else { "updated" });
        }
        AppCommand::Export { name, format } => {
            let format = match format.as_str() {
                "toml" => DefinitionFormat::Toml,
                "json" => DefinitionFormat::Json,
                other => bail!("unknown format {other:?}; use toml or json"),
            };
            let definition = provisioning::definition(stores, &name).await?;
            print!("{}", provisioning::print_definition(&definition, format)?);
        }
        AppCommand::List => {
            println!("{:<24} {:<12} {:<8} TENANT URL", "NAME", "TEMPLATE", "ENABLED");
            for definition in provisioning::definitions(stores).await? {
                println!(
                    "{:<24} {:<12} {:<8} {}",
                    definition.name, definition.template, definition.enabled, definition.target.tenant_url
                );
            }
        }
        AppCommand::TestConnection { name } => match provisioning::test_connection(stores, key, &name).await? {
            Ok(()) => println!("success: {name}'s target answered the test query as a SCIM service provider should"),
            Err(problem) => bail!("the connection test of {name} failed: {problem}"),
        },
        AppCommand::AllowDeletes { name } => {
            let (users, groups) = provisioning::allow_deletes(stores, &crate::actor(), &name).await?;
            println!(
                "the next cycle of {name} sends the {users} staged user and {groups} staged group disables and deletes; \
                 run it now with `roster sync {name}` (or let `roster serve` run it)"
            );
        }
        AppCommand::Restart { name, reset } => {
            provisioning::restart(stores, &crate::actor(), &name, provisioning::Reset::parse(&reset)?).await?;
            println!(
                "restarted {name}: the next cycle (now, with `roster sync {name}`, or soon under `roster serve`) starts afresh"
            );
        }
        AppCommand::SetToken { name, secret_token } => {
            provisioning::set_token(stores, key, &crate::actor(), &name, &secret_token).await?;
            println!("stored the new secret token of {name}");
        }
        AppCommand::Unmanaged { name, format } => {
            let found = provisioning::unmanaged(stores, key, &name).await?;
            match format.as_str() {
                "json" => println!("{}", serde_json::to_string_pretty(&found)?),
                "table" => {
                    println!("kind\tid\tname\texternalId");
                    for object in &found {
                        let external = object.external_id.as_deref().unwrap_or("-");
                        let name = object.name.as_deref().unwrap_or("-");
                        println!("{}\t{}\t{name}\t{external}", object.kind, object.id);
                    }
                    eprintln!(
                        "{} objects in the target are not managed by {name}; roster never changes them",
                        found.len()
                    );
                }
                other => bail!("unknown format {other:?}; use table or json"),
            }
        }
        AppCommand::Resume { name } => {
            provisioning::set_enabled(stores, key, &crate::actor(), &name, true).await?;
            println!("provisioning of {name} is on (resumed)");
        }
        AppCommand::Pause { name } => {
            provisioning::set_enabled(stores, key, &crate::actor(), &name, false).await?;
            println!("provisioning of {name} is off (paused); a running cycle stops at its next object");
        }
    }
    Ok(())
}

fn parse_scope(text: &str) -> anyhow::Result<Scope> {
    match text {
        "assigned" => Ok(Scope::Assigned),
        "all" => Ok(Scope::All),
        other => bail!("unknown scope {other:?}; use assigned or all"),
    }
}

/// `roster sync NAME`: one cycle in the foreground, with progress, and a summary.
pub async fn sync(
    stores: &Stores,
    key: &SecretKey,
    mailer: &Mailer,
    name: &str,
    apply_plan: Option<&str>,
) -> anyhow::Result<bool> {
    let owner = format!("cli-{}", std::process::id());
    let progress: Arc<ProgressView> = Arc::new(ProgressView::new());
    let cycle = match apply_plan {
        None => {
            provisioning::sync_once(stores, key, mailer, name, &owner, provisioning::DEFAULT_LEASE, progress.clone())
                .await
        }
        Some(id) => provisioning::apply_plan(stores, key, mailer, name, id, &owner, progress.clone()).await,
    };
    progress.finish();
    let cycle = cycle?;
    print_summary(name, &cycle);
    Ok(cycle.outcome == "Succeeded" && cycle.counts.staged == 0)
}

/// `roster sync NAME --dry-run`: computes and stores the plan, and prints it for review (text or JSON).
pub async fn dry_run(stores: &Stores, key: &SecretKey, name: &str, format: &str) -> anyhow::Result<()> {
    if !matches!(format, "text" | "json") {
        bail!("unknown format {format:?}; use text or json");
    }
    let progress: Arc<ProgressView> = Arc::new(ProgressView::new());
    let plan = provisioning::dry_run(stores, key, name, progress.clone()).await;
    progress.finish();
    print_plan(&plan?, format)
}

/// `roster sync NAME --show-plan ID`: prints a stored plan.
pub async fn show_plan(stores: &Stores, name: &str, id: &str, format: &str) -> anyhow::Result<()> {
    print_plan(&provisioning::plan(stores, name, id).await?, format)
}

fn print_plan(plan: &roster_engine::dry_run::Plan, format: &str) -> anyhow::Result<()> {
    match format {
        "json" => println!("{}", serde_json::to_string_pretty(plan)?),
        "text" => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let written = roster_engine::dry_run::render(plan, &mut out).and_then(|()| out.flush());
            drop(out);
            match written {
                // The reader stopped reading (`| head`): the plan is stored all the same.
                Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                written => written?,
            }
            match plan.applied {
                Some(applied) => println!("\nThis plan was applied at {applied}."),
                None => println!(
                    "\nNothing was sent. Apply exactly this plan with: roster sync {} --apply-plan {}",
                    plan.application, plan.id
                ),
            }
        }
        other => bail!("unknown format {other:?}; use text or json"),
    }
    Ok(())
}

fn print_summary(name: &str, cycle: &Cycle) {
    let counts = &cycle.counts;
    let seconds = cycle.ended.map_or(0.0, |ended| (ended - cycle.began).as_seconds_f64());
    println!("{} cycle of {name}: {} in {seconds:.1} s", cycle.kind.as_str().to_lowercase(), cycle.outcome);
    println!(
        "  created {}, updated {}, disabled {}, deleted {}, unchanged {}, skipped {}, failed {}",
        counts.created,
        counts.updated,
        counts.disabled,
        counts.deleted,
        counts.unchanged,
        counts.skipped,
        counts.failed
    );
    println!(
        "  members added {}, removed {}; {} requests ({} writes)",
        counts.members_added, counts.members_removed, counts.requests, counts.writes
    );
    if counts.failed > 0 {
        println!("  see the failures with: roster logs {name} --status failure");
    }
}

/// A progress bar on a terminal, plain lines (at most one every 2 s) otherwise.
struct ProgressView {
    bar: Option<ProgressBar>,
    last_line: Mutex<Option<Instant>>,
}

impl ProgressView {
    fn new() -> ProgressView {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            let style = ProgressStyle::with_template("{spinner} {msg:<40} [{bar:30}] {pos}/{len} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        ProgressView { bar, last_line: Mutex::new(None) }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for ProgressView {
    fn report(&self, report: &ProgressReport) {
        let counts = &report.counts;
        let budget = report.budget_eta.map(|eta| format!(", rate budget ETA {}", human(eta))).unwrap_or_default();
        let message = format!(
            "{} {}: +{} ~{} -{} !{}{budget}",
            report.kind.as_str(),
            report.phase,
            counts.created,
            counts.updated,
            counts.disabled + counts.deleted,
            counts.failed
        );
        match &self.bar {
            Some(bar) => {
                bar.set_length(report.total);
                bar.set_position(report.done);
                bar.set_message(message);
            }
            None => {
                let mut last = self.last_line.lock().unwrap_or_else(PoisonError::into_inner);
                let due = last.is_none_or(|at| at.elapsed() >= Duration::from_secs(2)) || report.phase == "done";
                if due {
                    *last = Some(Instant::now());
                    let _ = writeln!(std::io::stderr(), "progress: {}/{} {message}", report.done, report.total);
                }
            }
        }
    }
}

fn human(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds >= 3600 {
        format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60)
    } else if seconds >= 60 {
        format!("{}m{:02}s", seconds / 60, seconds % 60)
    } else {
        format!("{seconds}s")
    }
}

/// `roster provision-on-demand NAME --user ID`: the steps, the action and the modified properties.
pub async fn on_demand(
    stores: &Stores,
    key: &SecretKey,
    name: &str,
    principal: Principal,
    members: &[String],
) -> anyhow::Result<()> {
    use roster_engine::cycle::{MAX_GROUP_MEMBERS, OnDemand};
    let principal = principal.into_app();
    let what = match &principal {
        provisioning::Principal::User(id) => format!("user {id}"),
        provisioning::Principal::Group(id) => format!("group {id}"),
    };
    match provisioning::provision_on_demand(stores, key, name, &principal, members).await? {
        OnDemand::ConnectionFailed(problem) => bail!("Test connection failed: {problem}"),
        OnDemand::NotFound => bail!("{what} does not exist in the directory"),
        OnDemand::TooManyMembers(count) => bail!(
            "{what} has {count} members; provision on demand takes at most {MAX_GROUP_MEMBERS}: choose them with \
             --member ID (repeated)"
        ),
        OnDemand::NotAMember(member) => bail!("{member} is not a user member of {what}"),
        OnDemand::GroupsOff => {
            bail!("application {name} does not provision groups (groups.enabled = false in its definition)")
        }
        OnDemand::NothingToDo => {
            println!("Test connection: Success");
            println!("Nothing to send: the {what} is in step with the target, or not assigned and never provisioned.");
            Ok(())
        }
        OnDemand::Done(entries) => {
            println!("Test connection: Success");
            let mut failures = Vec::new();
            for entry in &entries {
                print_on_demand_entry(entry);
                if let (Some(code), Some(reason)) = (&entry.error_code, &entry.error_reason) {
                    failures.push(format!(
                        "{}: {code}: {reason}",
                        entry.source_name.as_deref().unwrap_or(&entry.source_id)
                    ));
                }
            }
            if !failures.is_empty() {
                bail!("{}", failures.join("\n"));
            }
            Ok(())
        }
    }
}

/// One object's steps, action and modified properties, as the provisioning logs show them.
fn print_on_demand_entry(entry: &roster_engine::log::LogEntry) {
    if entry.kind == roster_engine::log::ObjectKind::Group {
        println!("{} {}:", entry.kind.as_str(), entry.source_name.as_deref().unwrap_or(&entry.source_id));
    }
    for step in &entry.steps {
        println!("{}: {} - {}", step.kind.as_str(), step.status.as_str(), step.description);
        for (name, value) in &step.details {
            println!("    {name}: {value}");
        }
    }
    println!(
        "Action: {} {} ({}{})",
        entry.action.as_str(),
        entry.status.as_str(),
        entry.source_name.as_deref().unwrap_or(&entry.source_id),
        entry.target_id.as_deref().map(|id| format!(" -> {id}")).unwrap_or_default()
    );
    for property in &entry.modified {
        println!(
            "    {}: {} -> {}",
            property.name,
            property.old.as_deref().unwrap_or("(none)"),
            property.new.as_deref().unwrap_or("(removed)")
        );
    }
}

/// `roster status NAME`.
pub async fn status(stores: &Stores, name: &str, json: bool) -> anyhow::Result<()> {
    let status = provisioning::status(stores, name).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(());
    }
    let job = &status.job;
    println!("application:   {}", status.application);
    println!("provisioning:  {}", if status.enabled { "on" } else { "off" });
    println!("status:        {}", job.status.as_str());
    if let Some(cycle) = &status.current_cycle {
        println!("current cycle: {} {} since {}", cycle.kind.as_str(), cycle.id, cycle.began);
    }
    if let Some(lease) = &status.lease {
        println!("leased to:     {} until {}", lease.owner, lease.until);
    }
    match &job.last_cycle {
        Some(cycle) => {
            let seconds = cycle.ended.map_or(0.0, |ended| (ended - cycle.began).as_seconds_f64());
            println!(
                "last cycle:    {} {} {} at {} ({seconds:.1} s)",
                cycle.kind.as_str(),
                cycle.outcome,
                cycle.id,
                cycle.began
            );
            let counts = &cycle.counts;
            println!(
                "               created {}, updated {}, disabled {}, deleted {}, failed {}, members +{} -{}",
                counts.created,
                counts.updated,
                counts.disabled,
                counts.deleted,
                counts.failed,
                counts.members_added,
                counts.members_removed
            );
        }
        None => println!("last cycle:    none"),
    }
    for count in &status.objects {
        println!("objects:       {} {} {}", count.count, count.kind, count.state);
    }
    if let Some(at) = job.steady_state_first {
        println!(
            "steady state:  first {at}, last {}",
            job.steady_state_last.map(|at| at.to_string()).unwrap_or_default()
        );
    }
    if let Some(next) = job.next_run {
        println!("next cycle:    {next}");
    }
    if let Some(quarantine) = &job.quarantine {
        println!("quarantine:    {} since {}", quarantine.reason, quarantine.since);
        println!("               {}", quarantine.detail);
    }
    if !job.staged_users.is_empty() || !job.staged_groups.is_empty() {
        let allowed = if job.force_deletes { " (allowed: the next cycle sends them)" } else { "" };
        println!("staged:        {} users, {} groups{allowed}", job.staged_users.len(), job.staged_groups.len());
    }
    for escrow in job.escrows.iter().take(10) {
        let next = match escrow.next_attempt {
            Some(next) => format!("retry after {next}"),
            None => "waits for a change of the object".to_owned(),
        };
        println!(
            "escrow:        {} {} {} (failed {} times since {}); {next}",
            escrow.kind.as_str(),
            escrow.source_id,
            escrow.code,
            escrow.attempts,
            escrow.first_failed
        );
    }
    if job.escrows.len() > 10 {
        println!("escrow:        ... {} in all (roster status --json lists them)", job.escrows.len());
    }
    if let Some(notified) = &job.notified {
        println!("last e-mailed: {notified}");
    }
    Ok(())
}

#[derive(Args)]
pub struct LogArgs {
    /// The application.
    name: String,
    /// success, failure, skipped or warning.
    #[arg(long)]
    status: Option<String>,
    /// Create, Update, Delete, Disable, StagedDelete or Other.
    #[arg(long)]
    action: Option<String>,
    /// Only this cycle.
    #[arg(long)]
    cycle: Option<String>,
    /// Only this source id, target id or name.
    #[arg(long)]
    identity: Option<String>,
    /// At most this many entries, newest first.
    #[arg(long, default_value_t = 100)]
    limit: usize,
    /// table, json or csv.
    #[arg(long, default_value = "table")]
    format: String,
}

/// `roster logs NAME`.
pub async fn logs(stores: &Stores, args: LogArgs) -> anyhow::Result<()> {
    let status = args
        .status
        .as_deref()
        .map(|text| {
            Status::parse(text)
                .ok_or_else(|| anyhow!("unknown status {text:?}; use success, failure, skipped or warning"))
        })
        .transpose()?;
    let action = args
        .action
        .as_deref()
        .map(|text| {
            Action::parse(text).ok_or_else(|| {
                anyhow!("unknown action {text:?}; use Create, Update, Delete, Disable, StagedDelete or Other")
            })
        })
        .transpose()?;
    let query = LogQuery {
        cycle: args.cycle,
        status,
        action,
        identity: args.identity,
        since: None,
        until: None,
        before: None,
        limit: args.limit,
    };
    let entries = provisioning::logs(stores, &args.name, &query).await?;
    match args.format.as_str() {
        "json" => println!("{}", serde_json::to_string_pretty(&entries)?),
        "csv" => roster_app::log_export::write_csv(&entries, std::io::stdout())?,
        "table" => write_table(&entries),
        other => bail!("unknown format {other:?}; use table, json or csv"),
    }
    Ok(())
}

fn write_table(entries: &[LogEntry]) {
    println!("{:<20} {:<6} {:<13} {:<8} {:<36} {:<36} DETAIL", "TIME", "KIND", "ACTION", "STATUS", "SOURCE", "TARGET");
    for entry in entries {
        let time = entry.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let source = entry.source_name.clone().unwrap_or_else(|| entry.source_id.clone());
        let detail = match (&entry.error_code, &entry.error_reason) {
            (Some(code), Some(reason)) => format!("{code}: {reason}"),
            _ => entry.modified.iter().map(|property| property.name.as_str()).collect::<Vec<_>>().join(", "),
        };
        println!(
            "{:<20} {:<6} {:<13} {:<8} {:<36} {:<36} {detail}",
            &time[..time.len().min(19)],
            entry.kind.as_str(),
            entry.action.as_str(),
            entry.status.as_str(),
            source,
            entry.target_id.as_deref().unwrap_or("-"),
        );
    }
}

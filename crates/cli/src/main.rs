//! The `roster` command line: a thin layer over `roster-app`. The directory's commands are in [`directory`].

mod access;
mod directory;
mod provisioning;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use roster_app::Profile;

/// mimalloc: the server allocates many small, short-lived JSON values per request, across threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use roster_app::notify::{MailSettings, Mailer};
use roster_app::{Actor, App, Config, Initiator, Storage, Stores, admin, demo};

/// Who acts when a command changes something: the command line, run by this operating-system user.
pub(crate) fn actor() -> Actor {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".to_owned());
    Actor::new(Initiator::command_line(&user), time::OffsetDateTime::now_utc())
}

#[derive(Parser)]
#[command(name = "roster", version, about = "Self-hosted identity provisioning over SCIM 2.0")]
struct Cli {
    #[command(flatten)]
    storage: StorageArgs,
    #[command(flatten)]
    mail: MailArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct StorageArgs {
    /// The data directory (SQLite database and demo files).
    #[arg(long, global = true, env = "ROSTER_DATA", default_value = "./roster-data")]
    data: PathBuf,
    /// A database URL instead of the data directory's SQLite file: sqlite://path/to/roster.db, or
    /// postgres://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=require] (several nodes may share it; they then need
    /// the same secret key, from ROSTER_SECRET_KEY or a shared data directory).
    #[arg(long, global = true, env = "ROSTER_DATABASE")]
    database: Option<String>,
}

impl StorageArgs {
    fn storage(&self) -> anyhow::Result<Storage> {
        Storage::from_args(&self.data, self.database.as_deref())
    }

    async fn open(&self) -> anyhow::Result<Stores> {
        std::fs::create_dir_all(&self.data)
            .with_context(|| format!("could not create the data directory {}", self.data.display()))?;
        roster_app::open_stores(&self.storage()?).await
    }
}

/// Where notification e-mail goes out: the deployment's SMTP server, for every application (each application's
/// definition names its recipients).
#[derive(Args)]
struct MailArgs {
    /// The SMTP server for notification e-mail: smtp://HOST:PORT (plain, a local relay),
    /// smtp://USER:PASSWORD@HOST:587?tls=required (STARTTLS) or smtps://USER:PASSWORD@HOST:465. None: no e-mail.
    #[arg(long, global = true, env = "ROSTER_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The sender of notification e-mail.
    #[arg(long, global = true, env = "ROSTER_MAIL_FROM", default_value = roster_app::notify::DEFAULT_FROM)]
    mail_from: String,
}

impl MailArgs {
    fn settings(&self) -> MailSettings {
        MailSettings { smtp_url: self.smtp_url.clone(), from: self.mail_from.clone() }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the SCIM service provider and run the provisioning scheduler.
    Serve {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "ROSTER_LISTEN")]
        listen: SocketAddr,
        /// The public base URL, when behind a proxy (used in meta.location and Location headers).
        #[arg(long, env = "ROSTER_PUBLIC_URL")]
        public_url: Option<String>,
        /// Seed a demo enterprise, token, users and group on first start.
        #[arg(long)]
        demo: bool,
        /// How long this node's lease on a provisioning job lasts without renewal (renewed every third of it);
        /// with several nodes on one database, a dead node's jobs move to another node after this long.
        #[arg(long, default_value = "60s", value_parser = parse_lease, env = "ROSTER_LEASE")]
        lease: std::time::Duration,
        /// How long audit entries are kept: 30d, 90d, 12h (pruned every hour).
        #[arg(long, default_value = "30d", value_parser = parse_retention, env = "ROSTER_AUDIT_RETENTION")]
        audit_retention: time::Duration,
        /// How long a portal session lasts without use: 1h, 30m.
        #[arg(long, default_value = "1h", value_parser = parse_session, env = "ROSTER_SESSION_IDLE")]
        session_idle: std::time::Duration,
        /// How long a portal session lasts at most, whatever its use: 12h, 8h.
        #[arg(long, default_value = "12h", value_parser = parse_session, env = "ROSTER_SESSION_LIFETIME")]
        session_lifetime: std::time::Duration,
    },
    /// Manage enterprises (the tenants of the SCIM service provider).
    #[command(subcommand)]
    Enterprise(EnterpriseCommand),
    /// Manage personal access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage admin accounts and admin API tokens.
    #[command(subcommand)]
    Admin(access::AdminCommand),
    /// Show the audit log: who changed what.
    Audit(access::AuditArgs),
    /// Manage the directory: import, generate, users, groups, lists.
    #[command(subcommand)]
    Directory(directory::DirectoryCommand),
    /// Manage applications: create, assign, apply, export, test-connection, enable, disable.
    #[command(subcommand)]
    App(provisioning::AppCommand),
    /// Run one provisioning cycle of an application now, in the foreground, with progress and a summary.
    Sync {
        /// The application.
        name: String,
        /// One cycle, then exit (the default; accepted for scripts that say it).
        #[arg(long)]
        once: bool,
        /// Compute the whole cycle without one write to the target, store it as a plan and print it for review.
        #[arg(long, conflicts_with_all = ["apply_plan", "show_plan"])]
        dry_run: bool,
        /// Apply exactly a stored plan; refused, with nothing sent, when the directory, the target or roster's
        /// state changed so that the plan no longer holds.
        #[arg(long, value_name = "ID", conflicts_with = "show_plan")]
        apply_plan: Option<String>,
        /// Print a stored plan again.
        #[arg(long, value_name = "ID")]
        show_plan: Option<String>,
        /// How to print a plan: text or json.
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Show an application's provisioning job: state, cycles, counts.
    Status {
        /// The application.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show an application's provisioning logs.
    Logs(provisioning::LogArgs),
    /// Provision one user, or one group with up to 5 of its members, now, outside the cycle, and show each step.
    ProvisionOnDemand {
        /// The application.
        name: String,
        /// The user's or group's object id.
        #[command(flatten)]
        principal: provisioning::Principal,
        /// With --group: a member to provision with it (up to 5; without it, every member of a group of at most 5).
        #[arg(long, requires = "group")]
        member: Vec<String>,
    },
}

#[derive(Subcommand)]
enum EnterpriseCommand {
    /// Create an enterprise.
    Create {
        /// The slug, used in /scim/v2/enterprises/{slug}.
        slug: String,
        /// The shortcode appended to every login (3 to 8 letters and digits).
        #[arg(long)]
        shortcode: String,
        /// The rules of its SCIM API: github-emu (GitHub Enterprise Managed Users) or scim (plain RFC 7643/7644).
        #[arg(long, default_value = "github-emu")]
        profile: String,
    },
    /// List enterprises.
    List,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token; prints the token alone on stdout (it is stored hashed and cannot be shown again).
    Create {
        /// The enterprise's slug.
        #[arg(long)]
        enterprise: String,
        /// A scope: scim:enterprise (default), admin:enterprise, read:enterprise. Repeat for several.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// A name to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List an enterprise's tokens.
    List {
        /// The enterprise's slug.
        #[arg(long)]
        enterprise: String,
    },
    /// Revoke a token.
    Revoke {
        /// The enterprise's slug.
        #[arg(long)]
        enterprise: String,
        /// The token's id, as `token list` shows it.
        id: i64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { listen, public_url, demo, lease, audit_retention, session_idle, session_lifetime } => {
            let sessions = roster_app::SessionPolicy { idle: session_idle, absolute: session_lifetime };
            let options = ServeOptions { listen, public_url, demo, lease, audit_retention, sessions };
            serve(&cli.storage, cli.mail.settings(), options).await
        }
        Command::Enterprise(EnterpriseCommand::Create { slug, shortcode, profile }) => {
            let stores = cli.storage.open().await?;
            let profile = Profile::parse(&profile)?;
            let enterprise =
                admin::create_enterprise_with_profile(&stores, &actor(), &slug, &shortcode, profile).await?;
            println!(
                "created enterprise {} (shortcode {}, profile {})",
                enterprise.slug,
                enterprise.shortcode.as_str(),
                enterprise.profile.as_str()
            );
            Ok(())
        }
        Command::Enterprise(EnterpriseCommand::List) => {
            let stores = cli.storage.open().await?;
            for enterprise in admin::enterprises(&stores).await? {
                println!("{}\t{}\t{}", enterprise.slug, enterprise.shortcode.as_str(), enterprise.profile.as_str());
            }
            Ok(())
        }
        Command::Token(TokenCommand::Create { enterprise, scopes, name }) => {
            let stores = cli.storage.open().await?;
            let secret = admin::create_token(&stores, &actor(), &enterprise, &name, &scopes).await?;
            println!("{secret}");
            Ok(())
        }
        Command::Token(TokenCommand::List { enterprise }) => {
            let stores = cli.storage.open().await?;
            println!("id\tname\tscopes\tstate");
            for token in admin::tokens(&stores, &enterprise).await? {
                let scopes: Vec<&str> = token.scopes.iter().map(|scope| scope.as_str()).collect();
                let state = if token.is_revoked() { "revoked" } else { "active" };
                println!("{}\t{}\t{}\t{state}", token.id, token.name, scopes.join(","));
            }
            Ok(())
        }
        Command::Token(TokenCommand::Revoke { enterprise, id }) => {
            let stores = cli.storage.open().await?;
            admin::revoke_token(&stores, &actor(), &enterprise, id).await?;
            println!("revoked token {id} of {enterprise}");
            Ok(())
        }
        Command::Directory(command) => directory::run(&cli.storage, command).await,
        Command::Admin(command) => access::admin(&cli.storage.open().await?, command).await,
        Command::Audit(args) => access::audit(&cli.storage.open().await?, args).await,
        Command::App(command) => {
            let stores = cli.storage.open().await?;
            let key = roster_app::secrets::SecretKey::load(&cli.storage.data)?;
            provisioning::app(&stores, &key, command).await
        }
        Command::Sync { name, once: _, dry_run, apply_plan, show_plan, format } => {
            let stores = cli.storage.open().await?;
            if let Some(id) = show_plan {
                return provisioning::show_plan(&stores, &name, &id, &format).await;
            }
            let key = roster_app::secrets::SecretKey::load(&cli.storage.data)?;
            let mailer = Mailer::new(&cli.mail.settings())?;
            // The app's warnings (a notification e-mail that could not be sent, a lost lease) go to stderr.
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_env("ROSTER_LOG")
                        .unwrap_or_else(|_| "roster_app=warn,roster_service=warn".into()),
                )
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr)
                .init();
            if dry_run {
                return provisioning::dry_run(&stores, &key, &name, &format).await;
            }
            if !provisioning::sync(&stores, &key, &mailer, &name, apply_plan.as_deref()).await? {
                anyhow::bail!("the cycle of {name} ended with failed or staged objects (see above)");
            }
            Ok(())
        }
        Command::Status { name, json } => provisioning::status(&cli.storage.open().await?, &name, json).await,
        Command::Logs(args) => provisioning::logs(&cli.storage.open().await?, args).await,
        Command::ProvisionOnDemand { name, principal, member } => {
            let stores = cli.storage.open().await?;
            let key = roster_app::secrets::SecretKey::load(&cli.storage.data)?;
            provisioning::on_demand(&stores, &key, &name, principal, &member).await
        }
    }
}

/// What `roster serve` was told.
struct ServeOptions {
    listen: SocketAddr,
    public_url: Option<String>,
    demo: bool,
    lease: std::time::Duration,
    audit_retention: time::Duration,
    sessions: roster_app::SessionPolicy,
}

async fn serve(storage: &StorageArgs, mail: MailSettings, options: ServeOptions) -> anyhow::Result<()> {
    let ServeOptions { listen, public_url, demo: with_demo, lease, audit_retention, sessions } = options;
    if sessions.idle > sessions.absolute {
        anyhow::bail!("--session-idle must not be longer than --session-lifetime");
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("ROSTER_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    std::fs::create_dir_all(&storage.data)
        .with_context(|| format!("could not create the data directory {}", storage.data.display()))?;
    let mut config = Config::new(storage.storage()?, listen);
    let public = public_url.clone();
    config.public_url = public_url;
    config.scheduler = Some(storage.data.clone());
    config.mail = mail;
    config.lease = lease;
    config.audit_retention = audit_retention;
    config.sessions = sessions;
    let app = App::build(config).await?;
    let address = app.local_addr();
    println!("roster listening on http://{address}");
    println!("SCIM service provider: http://{address}/scim/v2/enterprises/{{enterprise}}");
    println!("admin API (Microsoft Graph's shapes): http://{address}/api/v1.0 (tokens: `roster admin token create`)");
    let portal =
        public.as_deref().map_or_else(|| format!("http://{address}/"), |url| format!("{}/", url.trim_end_matches('/')));
    println!("admin portal: {portal} (admins: `roster admin create`)");
    if with_demo {
        let seeded = demo::seed(app.stores(), &storage.data, &format!("http://{address}")).await?;
        let data = storage.data.display();
        println!("demo enterprise {} (shortcode {}): {}", demo::SLUG, demo::SHORTCODE, seeded.tenant_url);
        println!("demo token in {}", seeded.token_file.display());
        println!(
            "demo admin: sign in to {portal} as {} with the password in {}",
            demo::ADMIN,
            seeded.admin_password_file.display()
        );
        println!(
            "demo application {} (github-emu template) provisions the demo directory into it; follow it with:",
            demo::APPLICATION
        );
        println!("  roster --data {data} status {}", demo::APPLICATION);
        println!("  roster --data {data} logs {}", demo::APPLICATION);
        println!(
            "  curl -H \"Authorization: Bearer $(cat {})\" {}/Users",
            seeded.token_file.display(),
            seeded.tenant_url
        );
    }
    app.run_until_stopped(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// `--session-idle`, `--session-lifetime`: a duration from a minute to 30 days.
fn parse_session(text: &str) -> Result<std::time::Duration, String> {
    let duration = access::parse_duration(text).map_err(|error| format!("{error:#}"))?;
    if duration < time::Duration::MINUTE || duration > time::Duration::days(30) {
        return Err("give a duration from 1m to 30d, such as 1h or 12h".to_owned());
    }
    std::time::Duration::try_from(duration).map_err(|error| error.to_string())
}

/// `--audit-retention`: a duration of at least an hour.
fn parse_retention(text: &str) -> Result<time::Duration, String> {
    let retention = access::parse_duration(text).map_err(|error| format!("{error:#}"))?;
    if retention < time::Duration::HOUR {
        return Err("keep audit entries for at least 1h".to_owned());
    }
    Ok(retention)
}

/// `--lease`: a duration (`60s`, `2m`) of at least [`roster_app::provisioning::MIN_LEASE`].
fn parse_lease(text: &str) -> Result<std::time::Duration, String> {
    let lease = roster_engine::definition::interval::parse(text)?;
    let min = roster_app::provisioning::MIN_LEASE;
    if lease < min {
        return Err(format!("a lease shorter than {}s leaves no time to renew it", min.as_secs()));
    }
    Ok(lease)
}

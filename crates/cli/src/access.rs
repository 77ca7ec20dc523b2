//! `roster admin ...` (admin accounts and admin API tokens) and `roster audit` (the audit log).

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use roster_app::{Stores, access, audit};
use roster_directory::audit::AuditEntry;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `roster admin ...`.
#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create a directory user who is a Global Administrator, with a password read from standard input: the first
    /// step on a fresh install.
    Create {
        /// The user principal name, e.g. admin@contoso.example.
        #[arg(long)]
        upn: String,
        /// The display name (default: the UPN's local part).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (the only way: never from an argument).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Manage admin API tokens.
    #[command(subcommand)]
    Token(AdminTokenCommand),
}

/// `roster admin token ...`.
#[derive(Subcommand)]
pub enum AdminTokenCommand {
    /// Create an admin API token acting with a role; prints the token alone on stdout (it is stored as a digest
    /// and cannot be shown again).
    Create {
        /// A unique name to recognise and revoke it by.
        #[arg(long)]
        name: String,
        /// global-administrator, application-administrator, reports-reader or application-owner:APPNAME.
        #[arg(long)]
        role: String,
        /// How long it works: 90d, 12h, 30m (default: until revoked).
        #[arg(long)]
        expires: Option<String>,
    },
    /// List admin API tokens (never their secrets).
    List,
    /// Revoke an admin API token by name.
    Revoke {
        /// The token's name.
        name: String,
    },
}

/// `roster audit`.
#[derive(Args)]
pub struct AuditArgs {
    /// Only entries of the last 24h, 7d, 30m, ...
    #[arg(long)]
    since: Option<String>,
    /// table, json or csv.
    #[arg(long, default_value = "table")]
    format: String,
}

/// Reads a password: the first line of standard input, without its line end.
pub fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("could not read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!(
            "no password on standard input: pipe it in, e.g. `printf '%s' \"$PASSWORD\" | roster ... --password-stdin`"
        );
    }
    Ok(password)
}

/// Parses `90d` (days), or what intervals take: `12h`, `30m`, `45s`, `1h30m`.
pub fn parse_duration(text: &str) -> anyhow::Result<time::Duration> {
    if let Some(days) = text.trim().strip_suffix('d') {
        let days: i64 = days.parse().with_context(|| format!("{text:?} is not a duration: use 90d, 12h, 30m"))?;
        if days <= 0 || days > 36_500 {
            bail!("{text:?}: give 1 to 36500 days");
        }
        return Ok(time::Duration::days(days));
    }
    let std = roster_engine::definition::interval::parse(text).map_err(|error| anyhow::anyhow!("{error}"))?;
    time::Duration::try_from(std).with_context(|| format!("{text:?} is too long"))
}

/// Runs `roster admin ...`.
pub async fn admin(stores: &Stores, command: AdminCommand) -> anyhow::Result<()> {
    let actor = crate::actor();
    match command {
        AdminCommand::Create { upn, display_name, password_stdin: _ } => {
            let password = read_password()?;
            let user = access::create_admin(stores, &actor, &upn, display_name.as_deref(), &password).await?;
            println!("created Global Administrator {} (id {})", user.user_principal_name(), user.id());
        }
        AdminCommand::Token(AdminTokenCommand::Create { name, role, expires }) => {
            let lifetime = expires.as_deref().map(parse_duration).transpose()?;
            let secret = access::create_token(stores, &actor, &name, &role, lifetime).await?;
            println!("{secret}");
        }
        AdminCommand::Token(AdminTokenCommand::List) => {
            println!("name\trole\tcreated\texpires");
            for token in access::tokens(stores).await? {
                let expires = token.expires.map_or_else(|| "never".to_owned(), rfc3339);
                println!("{}\t{}\t{}\t{expires}", token.name, token.role.as_key(), rfc3339(token.created));
            }
        }
        AdminCommand::Token(AdminTokenCommand::Revoke { name }) => {
            access::revoke_token(stores, &actor, &name).await?;
            println!("revoked admin token {name}");
        }
    }
    Ok(())
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// Runs `roster audit`.
pub async fn audit(stores: &Stores, args: AuditArgs) -> anyhow::Result<()> {
    let since = args.since.as_deref().map(parse_duration).transpose()?.map(|ago| OffsetDateTime::now_utc() - ago);
    let entries = audit::entries(stores, since, 0).await?;
    match args.format.as_str() {
        "json" => println!("{}", serde_json::to_string_pretty(&entries)?),
        "csv" => write_csv(&entries)?,
        "table" => {
            println!("time\tactivity\tinitiated by\ttarget\tresult");
            for entry in &entries {
                let [time, activity, initiator, target, result, _, _] = row(entry);
                println!("{time}\t{activity}\t{initiator}\t{target}\t{result}");
            }
        }
        other => bail!("unknown format {other:?}; use table, json or csv"),
    }
    Ok(())
}

/// An entry's columns: time, activity, initiator, targets, result, correlation id, modified properties.
fn row(entry: &AuditEntry) -> [String; 7] {
    let targets: Vec<String> = entry
        .target_resources
        .iter()
        .map(|target| {
            let name = target.user_principal_name.as_deref().or(target.display_name.as_deref()).unwrap_or(&target.id);
            format!("{} {name}", target.kind)
        })
        .collect();
    let properties: Vec<String> = entry
        .target_resources
        .iter()
        .flat_map(|target| &target.modified_properties)
        .map(|property| {
            let show = |value: &Option<String>| value.clone().unwrap_or_else(|| "null".to_owned());
            format!("{}: {} -> {}", property.display_name, show(&property.old_value), show(&property.new_value))
        })
        .collect();
    [
        rfc3339(entry.activity_date_time),
        entry.activity_display_name.clone(),
        entry.initiated_by.name().to_owned(),
        targets.join(", "),
        entry.result.clone(),
        entry.correlation_id.clone(),
        properties.join("; "),
    ]
}

fn write_csv(entries: &[AuditEntry]) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(std::io::stdout());
    writer.write_record([
        "time",
        "activity",
        "initiated_by",
        "targets",
        "result",
        "correlation_id",
        "modified_properties",
    ])?;
    for entry in entries {
        writer.write_record(row(entry))?;
    }
    writer.flush()?;
    Ok(())
}

//! `roster directory ...`: import and generate files, users' lifecycle, groups and their members, lists, show.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use roster_app::directory::{self as admin, GenerateOptions, Group, ImportSummary, Lifecycle, User};

use crate::StorageArgs;

/// The directory's commands.
#[derive(Subcommand)]
pub enum DirectoryCommand {
    /// Import users and groups from a .json, .jsonl or .csv file, upserting by id (all or nothing).
    Import {
        /// The file; its extension gives the format.
        file: PathBuf,
    },
    /// Write a synthetic directory to a file (the file only: import it with `roster directory import`).
    Generate {
        /// How many users.
        #[arg(long)]
        users: usize,
        /// How many groups.
        #[arg(long, default_value_t = 0)]
        groups: usize,
        /// The mean number of members of a group (sizes have a long tail).
        #[arg(long, default_value_t = 0)]
        members_per_group: usize,
        /// The seed: the same options and seed always give the same file.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The file to write (.json, .jsonl, or .csv for users only).
        #[arg(long)]
        out: PathBuf,
    },
    /// Disable, enable, delete or restore a user.
    #[command(subcommand)]
    User(UserCommand),
    /// Delete a group, or add or remove its members.
    #[command(subcommand)]
    Group(GroupCommand),
    /// List users or groups.
    List {
        /// What to list.
        what: Listed,
        /// The output format: a tab-separated table, or a JSON list of Graph objects.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Print the Graph JSON of a user or group.
    Show {
        /// The user's or group's id.
        id: String,
    },
}

/// `roster directory user ...`.
#[derive(Subcommand)]
pub enum UserCommand {
    /// Disable a user (accountEnabled false).
    Disable {
        /// The user's id.
        id: String,
    },
    /// Enable a user (accountEnabled true).
    Enable {
        /// The user's id.
        id: String,
    },
    /// Soft-delete a user (it can be restored), or with --hard remove it for good with its memberships and
    /// assignments.
    Delete {
        /// The user's id.
        id: String,
        /// Remove the user for good instead of moving it to the recycle bin.
        #[arg(long)]
        hard: bool,
    },
    /// Restore a soft-deleted user.
    Restore {
        /// The user's id.
        id: String,
    },
    /// Set a user's password, read from standard input (one line); it is stored as an Argon2id hash.
    SetPassword {
        /// The user's id.
        id: String,
        /// Read the password from standard input (the only way: never from an argument).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Give a user a directory role: global-administrator, application-administrator, reports-reader or
    /// application-owner:APPNAME.
    AddRole {
        /// The user's id.
        id: String,
        /// The role.
        role: String,
    },
    /// Take a directory role from a user.
    RemoveRole {
        /// The user's id.
        id: String,
        /// The role.
        role: String,
    },
}

/// `roster directory group ...`.
#[derive(Subcommand)]
pub enum GroupCommand {
    /// Delete a group for good, with its memberships and assignments.
    Delete {
        /// The group's id.
        id: String,
    },
    /// Add a user or group to a group.
    AddMember {
        /// The group's id.
        group: String,
        /// The id of the user or group to add.
        member: String,
    },
    /// Remove a user or group from a group.
    RemoveMember {
        /// The group's id.
        group: String,
        /// The id of the user or group to remove.
        member: String,
    },
}

/// What `roster directory list` lists.
#[derive(Clone, Copy, ValueEnum)]
pub enum Listed {
    /// Users, soft-deleted ones included.
    Users,
    /// Groups.
    Groups,
}

/// How `roster directory list` prints.
#[derive(Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    /// Tab-separated columns with a header row.
    Table,
    /// A JSON list of Graph objects.
    Json,
}

/// Runs a directory command.
pub async fn run(storage: &StorageArgs, command: DirectoryCommand) -> anyhow::Result<()> {
    match command {
        DirectoryCommand::Generate { users, groups, members_per_group, seed, out } => {
            let options = GenerateOptions { users, groups, members_per_group, seed };
            let generated = admin::generate_file(&options, &out)?;
            println!(
                "wrote {} and {} with {} to {}",
                count(generated.users as u64, "user"),
                count(generated.groups as u64, "group"),
                count(generated.memberships as u64, "membership"),
                out.display()
            );
            Ok(())
        }
        DirectoryCommand::Import { file } => {
            let stores = storage.open().await?;
            let summary = admin::import_file(&stores, &crate::actor(), &file).await?;
            println!("{}", import_line(&summary));
            Ok(())
        }
        DirectoryCommand::User(command) => user(storage, command).await,
        DirectoryCommand::Group(command) => group(storage, command).await,
        DirectoryCommand::List { what, format } => {
            let stores = storage.open().await?;
            let mut out = Lines::new();
            let listed = match what {
                Listed::Users => {
                    out.header(format, "id\tuserPrincipalName\tdisplayName\tstate")?;
                    admin::for_each_user(&stores, |user| {
                        out.item(format, || user_row(user), || admin::user_object(user))
                    })
                    .await
                }
                Listed::Groups => {
                    out.header(format, "id\tdisplayName\tmembers")?;
                    admin::for_each_group(&stores, |group| {
                        out.item(format, || group_row(group), || Ok(admin::group_object(group)))
                    })
                    .await
                }
            };
            out.finish(format, listed)
        }
        DirectoryCommand::Show { id } => {
            let stores = storage.open().await?;
            let object = admin::show(&stores, &id).await?;
            println!("{}", serde_json::to_string_pretty(&object)?);
            Ok(())
        }
    }
}

async fn user(storage: &StorageArgs, command: UserCommand) -> anyhow::Result<()> {
    let (id, change) = match command {
        UserCommand::Disable { id } => (id, Lifecycle::Disable),
        UserCommand::Enable { id } => (id, Lifecycle::Enable),
        UserCommand::Delete { id, hard: false } => (id, Lifecycle::SoftDelete),
        UserCommand::Delete { id, hard: true } => (id, Lifecycle::HardDelete),
        UserCommand::Restore { id } => (id, Lifecycle::Restore),
        UserCommand::SetPassword { id, password_stdin: _ } => {
            let password = crate::access::read_password()?;
            let stores = storage.open().await?;
            roster_app::access::set_password(&stores, &crate::actor(), &id, &password).await?;
            println!("set the password of user {id}");
            return Ok(());
        }
        UserCommand::AddRole { id, role } => {
            let stores = storage.open().await?;
            let role = roster_app::access::add_role(&stores, &crate::actor(), &id, &role).await?;
            println!("user {id} is {role}");
            return Ok(());
        }
        UserCommand::RemoveRole { id, role } => {
            let stores = storage.open().await?;
            let role = roster_app::access::remove_role(&stores, &crate::actor(), &id, &role).await?;
            println!("user {id} is no longer {role}");
            return Ok(());
        }
    };
    let stores = storage.open().await?;
    let changed = admin::set_user_lifecycle(&stores, &crate::actor(), &id, change).await?;
    let message = match (change, changed) {
        (Lifecycle::Disable, true) => format!("disabled user {id}"),
        (Lifecycle::Disable, false) => format!("user {id} is already disabled"),
        (Lifecycle::Enable, true) => format!("enabled user {id}"),
        (Lifecycle::Enable, false) => format!("user {id} is already enabled"),
        (Lifecycle::SoftDelete, true) => {
            format!("deleted user {id} (soft: `roster directory user restore {id}` brings it back)")
        }
        (Lifecycle::SoftDelete, false) => format!("user {id} is already deleted"),
        (Lifecycle::Restore, _) => format!("restored user {id}"),
        (Lifecycle::HardDelete, _) => format!("deleted user {id} for good"),
    };
    println!("{message}");
    Ok(())
}

async fn group(storage: &StorageArgs, command: GroupCommand) -> anyhow::Result<()> {
    let stores = storage.open().await?;
    match command {
        GroupCommand::Delete { id } => {
            admin::delete_group(&stores, &crate::actor(), &id).await?;
            println!("deleted group {id}");
        }
        GroupCommand::AddMember { group, member } => {
            admin::add_member(&stores, &crate::actor(), &group, &member).await?;
            println!("{member} is a member of group {group}");
        }
        GroupCommand::RemoveMember { group, member } => {
            admin::remove_member(&stores, &crate::actor(), &group, &member).await?;
            println!("{member} is not a member of group {group}");
        }
    }
    Ok(())
}

/// `imported 3 users (2 created, 1 updated, 0 unchanged) and 1 group (1 created, 0 updated, 0 unchanged)`.
fn import_line(summary: &ImportSummary) -> String {
    let users = summary.users_created + summary.users_updated + summary.users_unchanged;
    let groups = summary.groups_created + summary.groups_updated + summary.groups_unchanged;
    format!(
        "imported {} ({} created, {} updated, {} unchanged) and {} ({} created, {} updated, {} unchanged)",
        count(users, "user"),
        summary.users_created,
        summary.users_updated,
        summary.users_unchanged,
        count(groups, "group"),
        summary.groups_created,
        summary.groups_updated,
        summary.groups_unchanged,
    )
}

/// `1 user`, `2 users`.
fn count(n: u64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

fn user_row(user: &User) -> String {
    let state = if user.deleted_date_time.is_some() {
        "deleted"
    } else if user.account_enabled {
        "enabled"
    } else {
        "disabled"
    };
    let display_name = user.display_name.as_deref().unwrap_or("");
    format!("{}\t{}\t{}\t{state}", user.id(), user.user_principal_name(), cell(display_name))
}

fn group_row(group: &Group) -> String {
    format!("{}\t{}\t{}", group.id(), cell(group.display_name()), group.members.len())
}

/// A table cell: tabs and line breaks would break the columns, so they become spaces.
fn cell(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

/// Buffered standard output for lists, which may be long and may be cut short (`| head`): a closed pipe ends the
/// list quietly instead of failing.
struct Lines {
    out: BufWriter<io::Stdout>,
    first: bool,
}

impl Lines {
    fn new() -> Self {
        Self { out: BufWriter::new(io::stdout()), first: true }
    }

    fn header(&mut self, format: OutputFormat, columns: &str) -> anyhow::Result<()> {
        match format {
            OutputFormat::Table => writeln!(self.out, "{columns}")?,
            OutputFormat::Json => write!(self.out, "[")?,
        }
        Ok(())
    }

    fn item(
        &mut self,
        format: OutputFormat,
        row: impl FnOnce() -> String,
        object: impl FnOnce() -> anyhow::Result<serde_json::Map<String, serde_json::Value>>,
    ) -> anyhow::Result<()> {
        match format {
            OutputFormat::Table => writeln!(self.out, "{}", row())?,
            OutputFormat::Json => {
                let separator = if self.first { "\n" } else { ",\n" };
                write!(self.out, "{separator}{}", serde_json::to_string(&object()?)?)?;
            }
        }
        self.first = false;
        Ok(())
    }

    fn finish(mut self, format: OutputFormat, listed: anyhow::Result<()>) -> anyhow::Result<()> {
        let ended = listed.and_then(|()| {
            if let OutputFormat::Json = format {
                writeln!(self.out, "{}]", if self.first { "" } else { "\n" })?;
            }
            Ok(self.out.flush()?)
        });
        match ended {
            Err(error) if is_broken_pipe(&error) => Ok(()),
            other => other,
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.downcast_ref::<io::Error>().is_some_and(|error| error.kind() == io::ErrorKind::BrokenPipe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_lines() {
        let summary = ImportSummary {
            users_created: 2,
            users_updated: 1,
            users_unchanged: 0,
            groups_created: 1,
            groups_updated: 0,
            groups_unchanged: 0,
        };
        assert_eq!(
            import_line(&summary),
            "imported 3 users (2 created, 1 updated, 0 unchanged) and 1 group (1 created, 0 updated, 0 unchanged)"
        );
        assert_eq!(
            import_line(&ImportSummary { users_unchanged: 1, ..ImportSummary::default() }),
            "imported 1 user (0 created, 0 updated, 1 unchanged) and 0 groups (0 created, 0 updated, 0 unchanged)"
        );
    }
}

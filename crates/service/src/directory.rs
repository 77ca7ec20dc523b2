//! Directory operations behind `roster directory ...`: import and generate files, users' lifecycle, groups and
//! their members, lists and single objects. Each takes ids as typed on a command line and answers with errors
//! that say what to fix.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, anyhow, bail};
use roster_directory::import::{self, Position};
use roster_directory::port::DirectoryError;
use roster_directory::{Directory, export};
use serde_json::{Map, Value, json};

use crate::{Actor, ServiceError, Stores};

pub use roster_directory::import::Format;

pub use roster_directory::generate::GenerateOptions;
pub use roster_directory::port::{ImportSummary, Lifecycle};
pub use roster_directory::{Group, ObjectId, User};

/// How many users or groups a list reads at a time.
const PAGE: usize = 1000;

/// Reads an import file (`.json`, `.jsonl` or `.csv`, by its extension) and upserts its users and groups by id,
/// all or nothing. Errors name the file, and for a file that cannot be read, where in it and what is wrong.
pub async fn import_file(stores: &Stores, actor: &Actor, path: &Path) -> anyhow::Result<ImportSummary> {
    let format = import::format_from_path(path)?;
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let name = path.display().to_string();
    // Parsing 100,000 users is CPU work: off the async runtime.
    let parsed = tokio::task::spawn_blocking(move || import::read(format, BufReader::new(file)))
        .await
        .context("the import task failed")?;
    let directory = parsed.map_err(|error| anyhow!("{name}: {error}"))?;
    stores.directory.import(directory, actor).await.map_err(|error| anyhow!("{name}: {error}; nothing was imported"))
}

/// Reads the text of an import file in `format` (what `roster directory import` reads from a file, pasted) and
/// upserts its users and groups by id, all or nothing. A text that cannot be read is an invalid request whose
/// message says where in it (a line, or an entry of the `.json` lists) and what is wrong; a store that refuses the
/// import (a member that does not exist, a userPrincipalName taken) says so, and nothing is imported.
pub async fn import_text(
    stores: &Stores,
    actor: &Actor,
    format: Format,
    text: String,
) -> anyhow::Result<ImportSummary> {
    let parsed = tokio::task::spawn_blocking(move || import::read(format, text.as_bytes()))
        .await
        .context("the import task failed")?;
    let directory = parsed.map_err(|error| ServiceError::invalid(error.to_string()))?;
    stores
        .directory
        .import(directory, actor)
        .await
        .map_err(|error| anyhow::Error::from(error).context("nothing was imported"))
}

/// A new user of Graph attributes, as `POST /users` takes them: `displayName` and `userPrincipalName` are
/// required, `id` is given here, `mailNickname` defaults to the userPrincipalName's local part, and a
/// userPrincipalName another user has is refused. Written with its audit entry ("Add user").
pub async fn create_user(stores: &Stores, actor: &Actor, mut attributes: Map<String, Value>) -> anyhow::Result<User> {
    for required in ["displayName", "userPrincipalName"] {
        if !has_text(&attributes, required) {
            return Err(ServiceError::invalid(format!("Property '{required}' is required when creating a user.")));
        }
    }
    attributes.insert("id".to_owned(), json!(roster_directory::audit::new_id()));
    let mut user = user_of(&attributes)?;
    if user.mail_nickname.is_none() {
        user.mail_nickname = Some(user.user_principal_name().local_part().to_owned());
    }
    upn_free(stores, &user).await?;
    stores.directory.import(Directory { users: vec![user.clone()], groups: Vec::new() }, actor).await?;
    Ok(user)
}

/// Changes a user (not soft-deleted) as `PATCH /users/{id}` does: each attribute of `changes` replaces the
/// user's (`null` clears it), the result is checked as an import's user is, and a userPrincipalName another user
/// has is refused. Written with its audit entry ("Update user") when anything changed.
pub async fn update_user(
    stores: &Stores,
    actor: &Actor,
    id: &ObjectId,
    changes: Map<String, Value>,
) -> anyhow::Result<User> {
    let existing = stores
        .directory
        .user(id)
        .await?
        .filter(|user| user.deleted_date_time.is_none())
        .ok_or_else(|| DirectoryError::NotFound { kind: "user", id: id.to_string() })?;
    let mut object = user_object(&existing)?;
    for (name, value) in changes {
        if name == "id" {
            return Err(ServiceError::invalid("id is read-only: leave it out"));
        }
        if value.is_null() {
            object.remove(&name);
        } else {
            object.insert(name, value);
        }
    }
    let user = user_of(&object)?;
    upn_free(stores, &user).await?;
    stores.directory.import(Directory { users: vec![user.clone()], groups: Vec::new() }, actor).await?;
    Ok(user)
}

/// A new group of Graph attributes, as `POST /groups` takes them (without members): `displayName` is required,
/// `id` is given here. Written with its audit entry ("Add group").
pub async fn create_group(stores: &Stores, actor: &Actor, mut attributes: Map<String, Value>) -> anyhow::Result<Group> {
    if !has_text(&attributes, "displayName") {
        return Err(ServiceError::invalid("Property 'displayName' is required when creating a group."));
    }
    attributes.insert("id".to_owned(), json!(roster_directory::audit::new_id()));
    let group = import::group_from_object(&attributes, Position::Group(0))
        .map_err(|error| invalid_object(&error, "group 0: "))?;
    stores.directory.import(Directory { users: Vec::new(), groups: vec![group.clone()] }, actor).await?;
    Ok(group)
}

/// Whether the attribute `name` is a string with more than white space.
fn has_text(attributes: &Map<String, Value>, name: &str) -> bool {
    attributes.get(name).and_then(Value::as_str).is_some_and(|text| !text.trim().is_empty())
}

/// A user of its Graph attributes, or an invalid request that says which attribute is wrong.
fn user_of(object: &Map<String, Value>) -> anyhow::Result<User> {
    import::user_from_object(object, Position::User(0)).map_err(|error| invalid_object(&error, "user 0: "))
}

fn invalid_object(error: &import::ImportError, position: &str) -> anyhow::Error {
    let text = error.to_string();
    ServiceError::invalid(text.strip_prefix(position).unwrap_or(&text).to_owned())
}

/// Refuses a userPrincipalName another user (soft-deleted included) has.
async fn upn_free(stores: &Stores, user: &User) -> anyhow::Result<()> {
    if let Some(other) = stores.directory.user_by_upn(user.user_principal_name().as_str()).await?
        && other.id() != user.id()
    {
        return Err(ServiceError::invalid(
            "Another object with the same value for property userPrincipalName already exists.",
        ));
    }
    Ok(())
}

/// What [`generate_file`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generated {
    /// Users written.
    pub users: usize,
    /// Groups written.
    pub groups: usize,
    /// Group members written, over all groups.
    pub memberships: usize,
}

/// Generates a synthetic directory and writes it to `path`, in the format its extension names. A `.csv` file holds
/// users only, so it refuses groups.
pub fn generate_file(options: &GenerateOptions, path: &Path) -> anyhow::Result<Generated> {
    let format = import::format_from_path(path)?;
    if format == Format::Csv && options.groups > 0 {
        bail!("a .csv file holds users only: use --groups 0, or a .json or .jsonl file");
    }
    let directory = Directory::generate(options);
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = BufWriter::new(file);
    match format {
        Format::Json => export::write_json(&directory, &mut writer),
        Format::Jsonl => export::write_jsonl(&directory, &mut writer),
        Format::Csv => export::write_csv(&directory.users, &mut writer),
    }
    .and_then(|()| writer.flush())
    .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Generated {
        users: directory.users.len(),
        groups: directory.groups.len(),
        memberships: directory.groups.iter().map(|group| group.members.len()).sum(),
    })
}

/// Changes a user's lifecycle state; answers whether it changed anything (disabling a disabled user does not).
pub async fn set_user_lifecycle(stores: &Stores, actor: &Actor, id: &str, change: Lifecycle) -> anyhow::Result<bool> {
    let id = parse_id(id)?;
    let user = stores
        .directory
        .user(&id)
        .await?
        .ok_or_else(|| DirectoryError::NotFound { kind: "user", id: id.to_string() })?;
    let deleted = user.deleted_date_time.is_some();
    // The store refuses what is not allowed (restoring a user who is not deleted, enabling a deleted one); this
    // only tells a change from a repeat, for the message.
    let changes = match change {
        Lifecycle::Disable => user.account_enabled || deleted,
        Lifecycle::Enable => !user.account_enabled || deleted,
        Lifecycle::SoftDelete => !deleted,
        Lifecycle::Restore | Lifecycle::HardDelete => true,
    };
    stores.directory.set_lifecycle(&id, change, actor).await?;
    Ok(changes)
}

/// Deletes a group for good, with its memberships and assignments.
pub async fn delete_group(stores: &Stores, actor: &Actor, id: &str) -> anyhow::Result<()> {
    Ok(stores.directory.delete_group(&parse_id(id)?, actor).await?)
}

/// Adds a user or group to a group.
pub async fn add_member(stores: &Stores, actor: &Actor, group: &str, member: &str) -> anyhow::Result<()> {
    Ok(stores.directory.add_member(&parse_id(group)?, &parse_id(member)?, actor).await?)
}

/// Removes a user or group from a group.
pub async fn remove_member(stores: &Stores, actor: &Actor, group: &str, member: &str) -> anyhow::Result<()> {
    Ok(stores.directory.remove_member(&parse_id(group)?, &parse_id(member)?, actor).await?)
}

/// Calls `visit` on every user (soft-deleted included), in id order, a page at a time.
pub async fn for_each_user(stores: &Stores, mut visit: impl FnMut(&User) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let mut after: Option<ObjectId> = None;
    loop {
        let page = stores.directory.users_after(after.as_ref(), PAGE).await?;
        for user in &page {
            visit(user)?;
        }
        match page.last() {
            Some(last) if page.len() == PAGE => after = Some(last.id().clone()),
            _ => return Ok(()),
        }
    }
}

/// Calls `visit` on every group, with its members, in id order, a page at a time.
pub async fn for_each_group(
    stores: &Stores,
    mut visit: impl FnMut(&Group) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut after: Option<ObjectId> = None;
    loop {
        let page = stores.directory.groups_after(after.as_ref(), PAGE).await?;
        for group in &page {
            visit(group)?;
        }
        match page.last() {
            Some(last) if page.len() == PAGE => after = Some(last.id().clone()),
            _ => return Ok(()),
        }
    }
}

/// The Microsoft Graph JSON of the user or group with this id.
pub async fn show(stores: &Stores, id: &str) -> anyhow::Result<Value> {
    let id = parse_id(id)?;
    if let Some(user) = stores.directory.user(&id).await? {
        return Ok(Value::Object(user_object(&user)?));
    }
    if let Some(group) = stores.directory.group(&id).await? {
        return Ok(Value::Object(export::group_to_object(&group)));
    }
    Err(DirectoryError::NotFound { kind: "user or group", id: id.to_string() }.into())
}

/// A user's Graph JSON object.
pub fn user_object(user: &User) -> anyhow::Result<serde_json::Map<String, Value>> {
    export::user_to_object(user).with_context(|| format!("cannot render user {}", user.id()))
}

/// A group's Graph JSON object, with its members.
pub fn group_object(group: &Group) -> serde_json::Map<String, Value> {
    export::group_to_object(group)
}

fn parse_id(text: &str) -> anyhow::Result<ObjectId> {
    Ok(ObjectId::parse(text)?)
}

/// The user with this userPrincipalName, if any.
pub async fn user_by_upn(stores: &Stores, upn: &str) -> anyhow::Result<Option<User>> {
    Ok(stores.directory.user_by_upn(upn).await?)
}

//! The import: every user and group of a file upserted by id in one write, with one change-log entry per created
//! or changed user or group and per added or removed membership, in the same order as on SQLite (users in file
//! order, then groups in file order, then each group's removed and added memberships, by member id), and one
//! audit entry per created or changed user or group (users, then groups, in file order).
//!
//! Users are here, groups and their members in [`groups`].
//!
//! Speed: the JSON of every object is made before the write ([`prepare`]); the write reads what is stored in a
//! few statements over arrays (`= ANY($1)`), compares in memory, and writes only what changed in statements of
//! [`CHUNK`] rows (`unnest`), so that an import is a few dozen round trips whatever its size, and re-importing the
//! same 100,000 users writes nothing. Users go in two steps, so that an import may move a user principal name from
//! one user to another (even swap two): the existing users whose name changes are first parked at their ids
//! (which are no user principal names, having no `@`), then every name is checked and written.

mod groups;

pub(super) use crate::directory_rows::{Prepared, PreparedGroup, PreparedUser};
use std::collections::{HashMap, HashSet};

use deadpool_postgres::GenericClient;
use roster_directory::audit::{self, Actor};
use roster_directory::port::{Changed, DirectoryError, ImportSummary};
use roster_directory::{Directory, ObjectId};

use super::Written;
use super::changes::parse_user;
use crate::postgres::{Failure, to_millis};

/// How many rows one writing statement carries.
const CHUNK: usize = 5_000;

/// What the import found of a user or group.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Found {
    New,
    Unchanged,
    Changed,
}

/// Turns a directory into what the write needs, consuming it. Two users (or two groups) with one id are invalid.
pub(super) fn prepare(directory: Directory) -> Result<Prepared, Failure> {
    let prepared = crate::directory_rows::prepare(directory)?;
    unique_ids("user", prepared.users.iter().map(|user| &user.id))?;
    unique_ids("group", prepared.groups.iter().map(|group| &group.id))?;
    Ok(prepared)
}

fn unique_ids<'a>(kind: &str, ids: impl Iterator<Item = &'a ObjectId>) -> Result<(), Failure> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(DirectoryError::Invalid(format!("the import has {kind} {id} twice")).into());
        }
    }
    Ok(())
}

/// Runs the import inside the write's transaction, pushing its changes and audit entries onto `written`; any error
/// rolls all of it back.
pub(super) async fn import(
    client: &impl GenericClient,
    prepared: &Prepared,
    actor: &Actor,
    written: &mut Written,
) -> Result<ImportSummary, Failure> {
    let at = to_millis(actor.at)?;
    let mut summary = ImportSummary::default();
    import_users(client, &prepared.users, at, actor, written, &mut summary).await?;
    groups::import_groups(client, prepared, at, actor, written, &mut summary).await?;
    Ok(summary)
}

async fn import_users(
    client: &impl GenericClient,
    users: &[PreparedUser],
    at: i64,
    actor: &Actor,
    written: &mut Written,
    summary: &mut ImportSummary,
) -> Result<(), Failure> {
    let ids: Vec<&str> = users.iter().map(|user| user.id.as_str()).collect();
    let statement = client.prepare_cached("SELECT id, upn, data FROM directory_users WHERE id = ANY($1)").await?;
    let mut stored: HashMap<String, (String, String)> = HashMap::with_capacity(users.len());
    for row in client.query(&statement, &[&ids]).await? {
        stored.insert(row.try_get(0)?, (row.try_get(1)?, row.try_get(2)?));
    }
    let found: Vec<Found> = users
        .iter()
        .map(|user| match stored.get(user.id.as_str()) {
            None => Found::New,
            Some((_, data)) if *data == user.json => Found::Unchanged,
            Some(_) => Found::Changed,
        })
        .collect();
    let new: Vec<&str> =
        users.iter().zip(&found).filter(|(_, f)| **f == Found::New).map(|(u, _)| u.id.as_str()).collect();
    let groups = existing(client, "SELECT id FROM directory_groups WHERE id = ANY($1)", &new).await?;
    if let Some(id) = new.iter().find(|id| groups.contains(**id)) {
        return Err(DirectoryError::Conflict(format!("user {id} has the id of an existing group")).into());
    }
    same_upn_in_import(users)?;
    // Park the names that change, so that the names can move between users of this import.
    let parked: Vec<&str> = users
        .iter()
        .filter(|user| stored.get(user.id.as_str()).is_some_and(|(upn, data)| *upn != user.upn && *data != user.json))
        .map(|user| user.id.as_str())
        .collect();
    if !parked.is_empty() {
        let statement = client.prepare_cached("UPDATE directory_users SET upn = id WHERE id = ANY($1)").await?;
        client.execute(&statement, &[&parked]).await?;
    }
    let to_write: Vec<&PreparedUser> =
        users.iter().zip(&found).filter(|(_, f)| **f != Found::Unchanged).map(|(user, _)| user).collect();
    upn_held_elsewhere(client, &to_write).await?;
    let (inserts, updates): (Vec<_>, Vec<_>) =
        users.iter().zip(&found).filter(|(_, f)| **f != Found::Unchanged).partition(|(_, f)| **f == Found::New);
    write_users(
        client,
        "INSERT INTO directory_users (id, upn, account_enabled, deleted, data, created, updated) \
         SELECT id, upn, enabled, deleted, data, $6, $6 \
         FROM unnest($1::text[], $2::text[], $3::bool[], $4::int8[], $5::text[]) AS n(id, upn, enabled, deleted, data)",
        &inserts.iter().map(|(user, _)| *user).collect::<Vec<_>>(),
        at,
    )
    .await?;
    write_users(
        client,
        "UPDATE directory_users u SET upn = n.upn, account_enabled = n.enabled, deleted = n.deleted, data = n.data, \
         updated = $6 \
         FROM unnest($1::text[], $2::text[], $3::bool[], $4::int8[], $5::text[]) AS n(id, upn, enabled, deleted, data) \
         WHERE u.id = n.id",
        &updates.iter().map(|(user, _)| *user).collect::<Vec<_>>(),
        at,
    )
    .await?;
    for (user, found) in users.iter().zip(found) {
        let before = match found {
            Found::New => {
                summary.users_created += 1;
                None
            }
            Found::Changed => {
                summary.users_updated += 1;
                stored.get(user.id.as_str()).map(|(_, data)| parse_user(user.id.as_str(), data)).transpose()?
            }
            Found::Unchanged => {
                summary.users_unchanged += 1;
                continue;
            }
        };
        written.changes.push(Changed::User(user.id.clone()));
        written.audit.extend(audit::user_written(actor, before.as_ref(), &user.user));
    }
    Ok(())
}

/// Two users of the import with one user principal name (in any case) are a conflict.
fn same_upn_in_import(users: &[PreparedUser]) -> Result<(), Failure> {
    let mut holders: HashMap<String, &ObjectId> = HashMap::with_capacity(users.len());
    for user in users {
        if let Some(holder) = holders.insert(user.upn.to_ascii_lowercase(), &user.id) {
            return Err(upn_conflict(&user.id, &user.upn, Some(holder.as_str())));
        }
    }
    Ok(())
}

/// A user principal name to write that a user outside the written ones holds (in any case) is a conflict naming
/// that user: the first such name in file order. Names that move within the import were parked, so they do not
/// count.
async fn upn_held_elsewhere(client: &impl GenericClient, written: &[&PreparedUser]) -> Result<(), Failure> {
    if written.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = written.iter().map(|user| user.id.as_str()).collect();
    let upns: Vec<&str> = written.iter().map(|user| user.upn.as_str()).collect();
    let statement = client
        .prepare_cached(
            "SELECT n.k, u.id FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS n(id, upn, k) \
             JOIN directory_users u ON lower(u.upn) = lower(n.upn COLLATE \"C\") AND u.id <> n.id \
             ORDER BY n.k LIMIT 1",
        )
        .await?;
    let Some(row) = client.query_opt(&statement, &[&ids, &upns]).await? else { return Ok(()) };
    let index: i64 = row.try_get(0)?;
    let holder: &str = row.try_get(1)?;
    let user = usize::try_from(index - 1)
        .ok()
        .and_then(|index| written.get(index))
        .ok_or_else(|| Failure::corrupt(format!("row {index} of a user principal name check")))?;
    Err(upn_conflict(&user.id, &user.upn, Some(holder)))
}

fn upn_conflict(id: &ObjectId, upn: &str, holder: Option<&str>) -> Failure {
    DirectoryError::Conflict(match holder {
        Some(holder) => format!("userPrincipalName {upn} of user {id} is already used by user {holder}"),
        None => format!("userPrincipalName {upn} of user {id} is already in use"),
    })
    .into()
}

/// Runs an insert or update of users over arrays (`$1` to `$5`: ids, names, enabled, deleted, JSON; `$6` the time),
/// [`CHUNK`] users a statement.
async fn write_users(client: &impl GenericClient, sql: &str, users: &[&PreparedUser], at: i64) -> Result<(), Failure> {
    if users.is_empty() {
        return Ok(());
    }
    let statement = client.prepare_cached(sql).await?;
    for chunk in users.chunks(CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|user| user.id.as_str()).collect();
        let upns: Vec<&str> = chunk.iter().map(|user| user.upn.as_str()).collect();
        let enabled: Vec<bool> = chunk.iter().map(|user| user.enabled).collect();
        let deleted: Vec<Option<i64>> = chunk.iter().map(|user| user.deleted).collect();
        let data: Vec<&str> = chunk.iter().map(|user| user.json.as_str()).collect();
        client.execute(&statement, &[&ids, &upns, &enabled, &deleted, &data, &at]).await?;
    }
    Ok(())
}

/// The ids among `ids` that the query (`... WHERE id = ANY($1)`, answering ids) finds.
async fn existing(client: &impl GenericClient, sql: &str, ids: &[&str]) -> Result<HashSet<String>, Failure> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let statement = client.prepare_cached(sql).await?;
    let rows = client.query(&statement, &[&ids]).await?;
    rows.iter().map(|row| row.try_get(0).map_err(Failure::from)).collect()
}

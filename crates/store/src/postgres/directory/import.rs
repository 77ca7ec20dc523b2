//! The import: every user and group of a file upserted by id in one write, with one change-log entry per created
//! or changed user or group and per added or removed membership, in the same order as on SQLite (users in file
//! order, then groups in file order, then each group's removed and added memberships, by member id).
//!
//! Speed: the JSON of every object is made before the write ([`prepare`]); the write reads what is stored in a
//! few statements over arrays (`= ANY($1)`), compares in memory, and writes only what changed in statements of
//! [`CHUNK`] rows (`unnest`), so that an import is a few dozen round trips whatever its size, and re-importing the
//! same 100,000 users writes nothing. Users go in two steps, so that an import may move a user principal name from
//! one user to another (even swap two): the existing users whose name changes are first parked at their ids
//! (which are no user principal names, having no `@`), then every name is checked and written.

use std::collections::{BTreeSet, HashMap, HashSet};

use deadpool_postgres::GenericClient;
use roster_directory::port::{Changed, DirectoryError, ImportSummary};
use roster_directory::{Directory, ObjectId};

use super::changes::{GROUP, USER, group_json, parse_id, user_json};
use crate::postgres::{Failure, to_millis};

/// How many rows one writing statement carries.
const CHUNK: usize = 5_000;

/// A directory made ready for the write: every object's stored JSON and columns.
pub(super) struct Prepared {
    users: Vec<PreparedUser>,
    groups: Vec<PreparedGroup>,
}

struct PreparedUser {
    id: ObjectId,
    upn: String,
    enabled: bool,
    deleted: Option<i64>,
    json: String,
}

struct PreparedGroup {
    id: ObjectId,
    display_name: String,
    json: String,
    /// The members without repeats, in id order.
    members: BTreeSet<ObjectId>,
}

/// What the import found of a user or group.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Found {
    New,
    Unchanged,
    Changed,
}

/// Turns a directory into what the write needs, consuming it. Two users (or two groups) with one id are invalid.
pub(super) fn prepare(directory: Directory) -> Result<Prepared, Failure> {
    let users = directory
        .users
        .iter()
        .map(|user| {
            Ok(PreparedUser {
                id: user.id().clone(),
                upn: user.user_principal_name().as_str().to_owned(),
                enabled: user.account_enabled,
                deleted: user.deleted_date_time.map(to_millis).transpose()?,
                json: user_json(user)?,
            })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let groups = directory
        .groups
        .into_iter()
        .map(|mut group| {
            let members = std::mem::take(&mut group.members).into_iter().collect();
            Ok(PreparedGroup {
                id: group.id().clone(),
                display_name: group.display_name().to_owned(),
                json: group_json(&group)?,
                members,
            })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    unique_ids("user", users.iter().map(|user| &user.id))?;
    unique_ids("group", groups.iter().map(|group| &group.id))?;
    Ok(Prepared { users, groups })
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

/// Runs the import inside the write's transaction, pushing its changes onto `log`; any error rolls all of it back.
pub(super) async fn import(
    client: &impl GenericClient,
    prepared: &Prepared,
    at: i64,
    log: &mut Vec<Changed>,
) -> Result<ImportSummary, Failure> {
    let mut summary = ImportSummary::default();
    import_users(client, &prepared.users, at, log, &mut summary).await?;
    import_groups(client, prepared, at, log, &mut summary).await?;
    Ok(summary)
}

async fn import_users(
    client: &impl GenericClient,
    users: &[PreparedUser],
    at: i64,
    log: &mut Vec<Changed>,
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
    let written: Vec<&PreparedUser> =
        users.iter().zip(&found).filter(|(_, f)| **f != Found::Unchanged).map(|(user, _)| user).collect();
    upn_held_elsewhere(client, &written).await?;
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
        match found {
            Found::New => summary.users_created += 1,
            Found::Changed => summary.users_updated += 1,
            Found::Unchanged => {
                summary.users_unchanged += 1;
                continue;
            }
        }
        log.push(Changed::User(user.id.clone()));
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

async fn import_groups(
    client: &impl GenericClient,
    prepared: &Prepared,
    at: i64,
    log: &mut Vec<Changed>,
    summary: &mut ImportSummary,
) -> Result<(), Failure> {
    let groups = &prepared.groups;
    let ids: Vec<&str> = groups.iter().map(|group| group.id.as_str()).collect();
    let statement = client.prepare_cached("SELECT id, data FROM directory_groups WHERE id = ANY($1)").await?;
    let mut stored: HashMap<String, String> = HashMap::with_capacity(groups.len());
    for row in client.query(&statement, &[&ids]).await? {
        stored.insert(row.try_get(0)?, row.try_get(1)?);
    }
    let found: Vec<Found> = groups
        .iter()
        .map(|group| match stored.get(group.id.as_str()) {
            None => Found::New,
            Some(data) if *data == group.json => Found::Unchanged,
            Some(_) => Found::Changed,
        })
        .collect();
    let new: Vec<&str> =
        groups.iter().zip(&found).filter(|(_, f)| **f == Found::New).map(|(g, _)| g.id.as_str()).collect();
    let users = existing(client, "SELECT id FROM directory_users WHERE id = ANY($1)", &new).await?;
    if let Some(id) = new.iter().find(|id| users.contains(**id)) {
        return Err(DirectoryError::Conflict(format!("group {id} has the id of an existing user")).into());
    }
    // Every group is written before any membership, so that members may name groups later in the file.
    let written = |state: Found| -> Vec<&PreparedGroup> {
        groups.iter().zip(&found).filter(|(_, f)| **f == state).map(|(group, _)| group).collect()
    };
    write_groups(
        client,
        "INSERT INTO directory_groups (id, display_name, data, created, updated) \
         SELECT id, display_name, data, $4, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS n(id, display_name, data)",
        &written(Found::New),
        at,
    )
    .await?;
    write_groups(
        client,
        "UPDATE directory_groups g SET display_name = n.display_name, data = n.data, updated = $4 \
         FROM unnest($1::text[], $2::text[], $3::text[]) AS n(id, display_name, data) WHERE g.id = n.id",
        &written(Found::Changed),
        at,
    )
    .await?;
    for (group, state) in groups.iter().zip(&found) {
        if *state != Found::Unchanged {
            log.push(Changed::Group(group.id.clone()));
        }
    }
    let members_changed = set_members(client, prepared, &found, log).await?;
    for (state, members_changed) in found.into_iter().zip(members_changed) {
        match state {
            Found::New => summary.groups_created += 1,
            Found::Changed => summary.groups_updated += 1,
            Found::Unchanged if members_changed => summary.groups_updated += 1,
            Found::Unchanged => summary.groups_unchanged += 1,
        }
    }
    Ok(())
}

/// Runs an insert or update of groups over arrays (`$1` to `$3`: ids, display names, JSON; `$4` the time).
async fn write_groups(
    client: &impl GenericClient,
    sql: &str,
    groups: &[&PreparedGroup],
    at: i64,
) -> Result<(), Failure> {
    if groups.is_empty() {
        return Ok(());
    }
    let statement = client.prepare_cached(sql).await?;
    for chunk in groups.chunks(CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|group| group.id.as_str()).collect();
        let names: Vec<&str> = chunk.iter().map(|group| group.display_name.as_str()).collect();
        let data: Vec<&str> = chunk.iter().map(|group| group.json.as_str()).collect();
        client.execute(&statement, &[&ids, &names, &data, &at]).await?;
    }
    Ok(())
}

/// Makes every group's stored members exactly the prepared ones, touching only the rows that differ, and logs each
/// removed and added membership (per group in file order: removals, then additions, each by member id). Answers,
/// per group, whether its members changed.
async fn set_members(
    client: &impl GenericClient,
    prepared: &Prepared,
    found: &[Found],
    log: &mut Vec<Changed>,
) -> Result<Vec<bool>, Failure> {
    let groups = &prepared.groups;
    let old: Vec<&str> =
        groups.iter().zip(found).filter(|(_, f)| **f != Found::New).map(|(g, _)| g.id.as_str()).collect();
    let mut stored: HashMap<String, BTreeSet<ObjectId>> = HashMap::new();
    if !old.is_empty() {
        let statement =
            client.prepare_cached("SELECT group_id, member_id FROM directory_members WHERE group_id = ANY($1)").await?;
        for row in client.query(&statement, &[&old]).await? {
            stored.entry(row.try_get(0)?).or_default().insert(parse_id(row.try_get(1)?)?);
        }
    }
    let kinds = member_kinds(client, prepared, &stored).await?;
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    let mut changed = Vec::with_capacity(groups.len());
    for group in groups {
        let before = stored_members(&stored, group);
        let mut any = false;
        for member in before.difference(&group.members) {
            removed.push((group.id.as_str(), member.as_str()));
            log.push(Changed::Membership { group: group.id.clone(), member: member.clone() });
            any = true;
        }
        for member in group.members.difference(before) {
            if *member == group.id {
                return Err(DirectoryError::Invalid(format!("group {member} cannot be a member of itself")).into());
            }
            let kind = kinds.get(member).copied().ok_or_else(|| DirectoryError::NotFound {
                kind: "user or group",
                id: format!("{member} (a member of group {})", group.id),
            })?;
            added.push((group.id.as_str(), member.as_str(), kind));
            log.push(Changed::Membership { group: group.id.clone(), member: member.clone() });
            any = true;
        }
        changed.push(any);
    }
    let statement = client
        .prepare_cached(
            "DELETE FROM directory_members m USING unnest($1::text[], $2::text[]) AS d(group_id, member_id) \
             WHERE m.group_id = d.group_id AND m.member_id = d.member_id",
        )
        .await?;
    for chunk in removed.chunks(CHUNK) {
        let (group_ids, member_ids): (Vec<&str>, Vec<&str>) = chunk.iter().copied().unzip();
        client.execute(&statement, &[&group_ids, &member_ids]).await?;
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO directory_members (group_id, member_id, member_kind) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[])",
        )
        .await?;
    for chunk in added.chunks(CHUNK) {
        let group_ids: Vec<&str> = chunk.iter().map(|row| row.0).collect();
        let member_ids: Vec<&str> = chunk.iter().map(|row| row.1).collect();
        let member_kinds: Vec<&str> = chunk.iter().map(|row| row.2).collect();
        client.execute(&statement, &[&group_ids, &member_ids, &member_kinds]).await?;
    }
    Ok(changed)
}

/// A group's stored members (none for a new group).
fn stored_members<'s>(
    stored: &'s HashMap<String, BTreeSet<ObjectId>>,
    group: &PreparedGroup,
) -> &'s BTreeSet<ObjectId> {
    static NONE: BTreeSet<ObjectId> = BTreeSet::new();
    stored.get(group.id.as_str()).unwrap_or(&NONE)
}

/// The kind (`user` or `group`) of every member the import adds: the imported objects' own, the others' looked up
/// in one statement. A member that exists nowhere is missing from the answer.
async fn member_kinds<'p>(
    client: &impl GenericClient,
    prepared: &'p Prepared,
    stored: &'p HashMap<String, BTreeSet<ObjectId>>,
) -> Result<HashMap<&'p ObjectId, &'static str>, Failure> {
    let mut kinds: HashMap<&ObjectId, &'static str> =
        HashMap::with_capacity(prepared.users.len() + prepared.groups.len());
    kinds.extend(prepared.users.iter().map(|user| (&user.id, USER)));
    kinds.extend(prepared.groups.iter().map(|group| (&group.id, GROUP)));
    let mut others: BTreeSet<&ObjectId> = BTreeSet::new();
    for group in &prepared.groups {
        others.extend(
            group.members.difference(stored_members(stored, group)).filter(|member| !kinds.contains_key(member)),
        );
    }
    if others.is_empty() {
        return Ok(kinds);
    }
    let ids: Vec<&str> = others.iter().map(|id| id.as_str()).collect();
    let statement = client
        .prepare_cached(
            "SELECT id, 'user' FROM directory_users WHERE id = ANY($1) \
             UNION ALL SELECT id, 'group' FROM directory_groups WHERE id = ANY($1)",
        )
        .await?;
    let rows = client.query(&statement, &[&ids]).await?;
    let by_text: HashMap<&str, &'p ObjectId> = others.iter().map(|id| (id.as_str(), *id)).collect();
    for row in &rows {
        let id: &str = row.try_get(0)?;
        let kind = if row.try_get::<_, &str>(1)? == USER { USER } else { GROUP };
        if let Some(id) = by_text.get(id) {
            kinds.insert(id, kind);
        }
    }
    Ok(kinds)
}

//! Users and groups one at a time: lifecycle changes, memberships, deletions, and every read.

use deadpool_postgres::GenericClient;
use roster_directory::audit::{self, Actor, TargetResource};
use roster_directory::port::{Changed, DirectoryError, Lifecycle};
use roster_directory::{Group, ObjectId, User};

use super::Written;
use super::changes::{GROUP, USER, parse_group, parse_id, parse_user, user_json};
use crate::postgres::{Failure, sql_limit, to_millis};

/// A group's members in id order, as a column of the group's row (one statement, one snapshot).
const MEMBERS: &str = "ARRAY(SELECT m.member_id FROM directory_members m WHERE m.group_id = g.id ORDER BY m.member_id)";

/// Changes a user's lifecycle state (see [`roster_directory::port::DirectoryStore::set_lifecycle`]); the rule of
/// which change is allowed is [`crate::directory_rows::lifecycle_next`]. A hard delete removes the user. A change
/// gets its audit entry.
pub(super) async fn set_lifecycle(
    client: &impl GenericClient,
    written: &mut Written,
    id: &ObjectId,
    change: Lifecycle,
    actor: &Actor,
) -> Result<(), Failure> {
    let current = user(client, id).await?.ok_or_else(|| not_found("user", id))?;
    if change == Lifecycle::HardDelete {
        hard_delete_user(client, written, id).await?;
        written.audit.extend(audit::lifecycle_changed(actor, change, &current));
        return Ok(());
    }
    let Some(next) = crate::directory_rows::lifecycle_next(&current, change, actor.at)? else {
        return Ok(());
    };
    let statement = client
        .prepare_cached(
            "UPDATE directory_users SET account_enabled = $2, deleted = $3, data = $4, updated = $5 WHERE id = $1",
        )
        .await?;
    let deleted = next.deleted_date_time.map(to_millis).transpose()?;
    client
        .execute(
            &statement,
            &[&id.as_str(), &next.account_enabled, &deleted, &user_json(&next)?, &to_millis(actor.at)?],
        )
        .await?;
    written.changes.push(Changed::User(id.clone()));
    written.audit.extend(audit::lifecycle_changed(actor, change, &current));
    Ok(())
}

/// Removes a user with its memberships and assignments, logging each. Its password and roles go with its row (the
/// foreign keys of `0004_audit_and_access.sql`).
async fn hard_delete_user(client: &impl GenericClient, written: &mut Written, id: &ObjectId) -> Result<(), Failure> {
    leave_groups(client, written, id).await?;
    drop_assignments(client, written, id).await?;
    let statement = client.prepare_cached("DELETE FROM directory_users WHERE id = $1").await?;
    client.execute(&statement, &[&id.as_str()]).await?;
    written.changes.push(Changed::User(id.clone()));
    Ok(())
}

/// Removes a group for good: its members, its memberships in other groups and its assignments, logging each; one
/// audit entry.
pub(super) async fn delete_group(
    client: &impl GenericClient,
    written: &mut Written,
    id: &ObjectId,
    actor: &Actor,
) -> Result<(), Failure> {
    let group = group_attributes(client, id).await?.ok_or_else(|| not_found("group", id))?;
    let statement =
        client.prepare_cached("DELETE FROM directory_members WHERE group_id = $1 RETURNING member_id").await?;
    for member in sorted_ids(&client.query(&statement, &[&id.as_str()]).await?)? {
        written.changes.push(Changed::Membership { group: id.clone(), member });
    }
    leave_groups(client, written, id).await?;
    drop_assignments(client, written, id).await?;
    let statement = client.prepare_cached("DELETE FROM directory_groups WHERE id = $1").await?;
    client.execute(&statement, &[&id.as_str()]).await?;
    written.changes.push(Changed::Group(id.clone()));
    written.audit.push(audit::group_deleted(actor, &group));
    Ok(())
}

/// Adds a member to a group; a present member changes nothing.
pub(super) async fn add_member(
    client: &impl GenericClient,
    written: &mut Written,
    group: &ObjectId,
    member: &ObjectId,
    actor: &Actor,
) -> Result<(), Failure> {
    let group_object = group_attributes(client, group).await?.ok_or_else(|| not_found("group", group))?;
    let kind = kind_of(client, member).await?.ok_or_else(|| not_found("user or group", member))?;
    if member == group {
        return Err(DirectoryError::Invalid(format!("group {group} cannot be a member of itself")).into());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO directory_members (group_id, member_id, member_kind) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .await?;
    if client.execute(&statement, &[&group.as_str(), &member.as_str(), &kind]).await? == 1 {
        written.changes.push(Changed::Membership { group: group.clone(), member: member.clone() });
        let target = known_target(client, kind, member).await?;
        written.audit.push(audit::membership_changed(actor, &group_object, target, true));
    }
    Ok(())
}

/// Removes a member from a group; an absent member changes nothing.
pub(super) async fn remove_member(
    client: &impl GenericClient,
    written: &mut Written,
    group: &ObjectId,
    member: &ObjectId,
    actor: &Actor,
) -> Result<(), Failure> {
    let group_object = group_attributes(client, group).await?.ok_or_else(|| not_found("group", group))?;
    let statement = client
        .prepare_cached("DELETE FROM directory_members WHERE group_id = $1 AND member_id = $2 RETURNING member_kind")
        .await?;
    if let Some(row) = client.query_opt(&statement, &[&group.as_str(), &member.as_str()]).await? {
        written.changes.push(Changed::Membership { group: group.clone(), member: member.clone() });
        let kind: &str = row.try_get(0)?;
        let target = known_target(client, kind, member).await?;
        written.audit.push(audit::membership_changed(actor, &group_object, target, false));
    }
    Ok(())
}

/// A user, soft-deleted or not.
pub(super) async fn user(client: &impl GenericClient, id: &ObjectId) -> Result<Option<User>, Failure> {
    let statement = client.prepare_cached("SELECT data FROM directory_users WHERE id = $1").await?;
    let Some(row) = client.query_opt(&statement, &[&id.as_str()]).await? else { return Ok(None) };
    Ok(Some(parse_user(id.as_str(), row.try_get(0)?)?))
}

/// The user with this principal name, in any case (the unique index on `lower(upn)`, which under the "C"
/// collation folds ASCII letters only, as SQLite's NOCASE does).
pub(super) async fn user_by_upn(client: &impl GenericClient, upn: &str) -> Result<Option<User>, Failure> {
    let statement = client
        .prepare_cached("SELECT id, data FROM directory_users WHERE lower(upn) = lower($1::text COLLATE \"C\")")
        .await?;
    let Some(row) = client.query_opt(&statement, &[&upn]).await? else { return Ok(None) };
    Ok(Some(parse_user(row.try_get(0)?, row.try_get(1)?)?))
}

/// A group with its members (in id order), in one statement.
pub(super) async fn group(client: &impl GenericClient, id: &ObjectId) -> Result<Option<Group>, Failure> {
    let statement =
        client.prepare_cached(&format!("SELECT g.data, {MEMBERS} FROM directory_groups g WHERE g.id = $1")).await?;
    let Some(row) = client.query_opt(&statement, &[&id.as_str()]).await? else { return Ok(None) };
    let members: Vec<&str> = row.try_get(1)?;
    Ok(Some(parse_group(id.as_str(), row.try_get(0)?, parse_ids(&members)?)?))
}

/// A group's own attributes, without its members (for an audit entry, which names the group).
pub(super) async fn group_attributes(client: &impl GenericClient, id: &ObjectId) -> Result<Option<Group>, Failure> {
    let statement = client.prepare_cached("SELECT data FROM directory_groups WHERE id = $1").await?;
    let Some(row) = client.query_opt(&statement, &[&id.as_str()]).await? else { return Ok(None) };
    Ok(Some(parse_group(id.as_str(), row.try_get(0)?, Vec::new())?))
}

/// A user (`kind` is `user`) or group (`group`) as an audit entry's target; `None` when it does not exist.
pub(super) async fn target(
    client: &impl GenericClient,
    kind: &str,
    id: &ObjectId,
) -> Result<Option<TargetResource>, Failure> {
    Ok(if kind == USER {
        user(client, id).await?.map(|user| TargetResource::user(&user))
    } else {
        group_attributes(client, id).await?.map(|group| TargetResource::group(&group))
    })
}

/// [`target`] of an object the tables name (a member, an assigned principal), which therefore exists; should it
/// not, the target names it by id alone.
pub(super) async fn known_target(
    client: &impl GenericClient,
    kind: &str,
    id: &ObjectId,
) -> Result<TargetResource, Failure> {
    Ok(target(client, kind, id).await?.unwrap_or_else(|| crate::directory_rows::bare_target(kind, id)))
}

/// Up to `limit` users with ids after `after`, in id order.
pub(super) async fn users_after(
    client: &impl GenericClient,
    after: Option<&ObjectId>,
    limit: usize,
) -> Result<Vec<User>, Failure> {
    let statement =
        client.prepare_cached("SELECT id, data FROM directory_users WHERE id > $1 ORDER BY id LIMIT $2").await?;
    let rows = client.query(&statement, &[&after.map_or("", ObjectId::as_str), &sql_limit(limit)]).await?;
    rows.iter().map(|row| Ok(parse_user(row.try_get(0)?, row.try_get(1)?)?)).collect()
}

/// Up to `limit` groups with ids after `after`, in id order, with their members, in one statement.
pub(super) async fn groups_after(
    client: &impl GenericClient,
    after: Option<&ObjectId>,
    limit: usize,
) -> Result<Vec<Group>, Failure> {
    let statement = client
        .prepare_cached(&format!(
            "SELECT g.id, g.data, {MEMBERS} FROM directory_groups g WHERE g.id > $1 ORDER BY g.id LIMIT $2"
        ))
        .await?;
    let rows = client.query(&statement, &[&after.map_or("", ObjectId::as_str), &sql_limit(limit)]).await?;
    rows.iter()
        .map(|row| {
            let members: Vec<&str> = row.try_get(2)?;
            Ok(parse_group(row.try_get(0)?, row.try_get(1)?, parse_ids(&members)?)?)
        })
        .collect()
}

/// How many users and groups there are.
pub(super) async fn counts(client: &impl GenericClient) -> Result<(u64, u64), Failure> {
    let statement = client
        .prepare_cached("SELECT (SELECT count(*) FROM directory_users), (SELECT count(*) FROM directory_groups)")
        .await?;
    let row = client.query_one(&statement, &[]).await?;
    let count = |n: i64| u64::try_from(n).map_err(Failure::corrupt);
    Ok((count(row.try_get(0)?)?, count(row.try_get(1)?)?))
}

/// Whether the id is a user's or a group's (`user` or `group`), or neither's.
pub(super) async fn kind_of(client: &impl GenericClient, id: &ObjectId) -> Result<Option<&'static str>, Failure> {
    if exists(client, USER, id).await? {
        Ok(Some(USER))
    } else if exists(client, GROUP, id).await? {
        Ok(Some(GROUP))
    } else {
        Ok(None)
    }
}

/// Whether a user (`kind` is `user`) or group (`group`) with this id exists.
pub(super) async fn exists(client: &impl GenericClient, kind: &str, id: &ObjectId) -> Result<bool, Failure> {
    let sql = if kind == USER {
        "SELECT 1 FROM directory_users WHERE id = $1"
    } else {
        "SELECT 1 FROM directory_groups WHERE id = $1"
    };
    let statement = client.prepare_cached(sql).await?;
    Ok(client.query_opt(&statement, &[&id.as_str()]).await?.is_some())
}

/// The `NotFound` error of a user (`kind` `user`), group or either.
pub(super) fn not_found(kind: &'static str, id: &ObjectId) -> Failure {
    DirectoryError::NotFound { kind, id: id.to_string() }.into()
}

/// Ids read from the database.
fn parse_ids(texts: &[&str]) -> Result<Vec<ObjectId>, Failure> {
    Ok(texts.iter().map(|text| parse_id(text)).collect::<Result<_, _>>()?)
}

/// The ids in the first column of the rows, in byte order (the order SQLite's store logs them in).
fn sorted_ids(rows: &[tokio_postgres::Row]) -> Result<Vec<ObjectId>, Failure> {
    let mut ids: Vec<String> = rows.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?;
    ids.sort_unstable();
    Ok(ids.iter().map(|id| parse_id(id)).collect::<Result<_, _>>()?)
}

/// Removes a user or group from every group it is a member of, logging each membership (by group id).
async fn leave_groups(client: &impl GenericClient, written: &mut Written, member: &ObjectId) -> Result<(), Failure> {
    let statement =
        client.prepare_cached("DELETE FROM directory_members WHERE member_id = $1 RETURNING group_id").await?;
    for group in sorted_ids(&client.query(&statement, &[&member.as_str()]).await?)? {
        written.changes.push(Changed::Membership { group, member: member.clone() });
    }
    Ok(())
}

/// Removes every assignment of a user or group, logging each (by application name).
async fn drop_assignments(
    client: &impl GenericClient,
    written: &mut Written,
    principal: &ObjectId,
) -> Result<(), Failure> {
    let statement =
        client.prepare_cached("DELETE FROM directory_assignments WHERE principal = $1 RETURNING application").await?;
    let rows = client.query(&statement, &[&principal.as_str()]).await?;
    let mut applications: Vec<String> = rows.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?;
    applications.sort_unstable();
    for application in applications {
        written.changes.push(Changed::Assignment { application, principal: principal.clone() });
    }
    Ok(())
}

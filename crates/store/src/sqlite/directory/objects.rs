//! Users and groups one at a time: lifecycle changes, memberships, deletions, and every read.

use roster_directory::audit::{self, Actor, AuditEntry, TargetResource};
use roster_directory::port::{Changed, DirectoryError, Lifecycle};
use roster_directory::{Group, ObjectId, User};
use rusqlite::{Connection, OptionalExtension, params};

use super::changes::{self, GROUP, USER, parse_group, parse_id, parse_user, user_json};
use super::sql_limit;
use crate::sqlite::{Failure, to_millis};

/// Changes a user's lifecycle state (see [`roster_directory::port::DirectoryStore::set_lifecycle`]); the rule of
/// which change is allowed is [`crate::directory_rows::lifecycle_next`]. A hard delete removes the user. Pushes the
/// audit entry of a change onto `audit`.
pub(super) fn set_lifecycle(
    connection: &Connection,
    id: &ObjectId,
    change: Lifecycle,
    actor: &Actor,
    audit: &mut Vec<AuditEntry>,
) -> Result<(), Failure> {
    let current = user(connection, id)?.ok_or_else(|| not_found("user", id))?;
    if change == Lifecycle::HardDelete {
        hard_delete_user(connection, id)?;
        audit.extend(audit::lifecycle_changed(actor, change, &current));
        return Ok(());
    }
    let Some(next) = crate::directory_rows::lifecycle_next(&current, change, actor.at)? else {
        return Ok(());
    };
    connection
        .prepare_cached(
            "UPDATE directory_users SET account_enabled = ?2, deleted = ?3, data = ?4, updated = ?5 WHERE id = ?1",
        )?
        .execute(params![
            id.as_str(),
            next.account_enabled,
            next.deleted_date_time.map(to_millis).transpose()?,
            user_json(&next)?,
            to_millis(actor.at)?,
        ])?;
    changes::append(connection, &Changed::User(id.clone()))?;
    audit.extend(audit::lifecycle_changed(actor, change, &current));
    Ok(())
}

/// Removes a user with its memberships and assignments, logging each. Its password and roles go with its row (the
/// foreign keys of `0006_audit_and_access.sql`).
fn hard_delete_user(connection: &Connection, id: &ObjectId) -> Result<(), Failure> {
    leave_groups(connection, id)?;
    drop_assignments(connection, id)?;
    connection.prepare_cached("DELETE FROM directory_users WHERE id = ?1")?.execute([id.as_str()])?;
    changes::append(connection, &Changed::User(id.clone()))
}

/// Removes a group for good: its members, its memberships in other groups and its assignments, logging each; one
/// audit entry.
pub(super) fn delete_group(
    connection: &Connection,
    id: &ObjectId,
    actor: &Actor,
    audit: &mut Vec<AuditEntry>,
) -> Result<(), Failure> {
    let group = group_attributes(connection, id)?.ok_or_else(|| not_found("group", id))?;
    for member in members_of(connection, id)? {
        changes::append(connection, &Changed::Membership { group: id.clone(), member })?;
    }
    connection.prepare_cached("DELETE FROM directory_members WHERE group_id = ?1")?.execute([id.as_str()])?;
    leave_groups(connection, id)?;
    drop_assignments(connection, id)?;
    connection.prepare_cached("DELETE FROM directory_groups WHERE id = ?1")?.execute([id.as_str()])?;
    changes::append(connection, &Changed::Group(id.clone()))?;
    audit.push(audit::group_deleted(actor, &group));
    Ok(())
}

/// Adds a member to a group; a present member changes nothing.
pub(super) fn add_member(
    connection: &Connection,
    group: &ObjectId,
    member: &ObjectId,
    actor: &Actor,
    audit: &mut Vec<AuditEntry>,
) -> Result<(), Failure> {
    let group_object = group_attributes(connection, group)?.ok_or_else(|| not_found("group", group))?;
    let kind = kind_of(connection, member)?.ok_or_else(|| not_found("user or group", member))?;
    if member == group {
        return Err(DirectoryError::Invalid(format!("group {group} cannot be a member of itself")).into());
    }
    let added = connection
        .prepare_cached(
            "INSERT INTO directory_members (group_id, member_id, member_kind) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![group.as_str(), member.as_str(), kind])?;
    if added == 0 {
        return Ok(());
    }
    changes::append(connection, &Changed::Membership { group: group.clone(), member: member.clone() })?;
    audit.push(audit::membership_changed(actor, &group_object, known_target(connection, kind, member)?, true));
    Ok(())
}

/// Removes a member from a group; an absent member changes nothing.
pub(super) fn remove_member(
    connection: &Connection,
    group: &ObjectId,
    member: &ObjectId,
    actor: &Actor,
    audit: &mut Vec<AuditEntry>,
) -> Result<(), Failure> {
    let group_object = group_attributes(connection, group)?.ok_or_else(|| not_found("group", group))?;
    let kind: Option<String> = connection
        .prepare_cached("SELECT member_kind FROM directory_members WHERE group_id = ?1 AND member_id = ?2")?
        .query_row(params![group.as_str(), member.as_str()], |row| row.get(0))
        .optional()?;
    let Some(kind) = kind else { return Ok(()) };
    connection
        .prepare_cached("DELETE FROM directory_members WHERE group_id = ?1 AND member_id = ?2")?
        .execute(params![group.as_str(), member.as_str()])?;
    changes::append(connection, &Changed::Membership { group: group.clone(), member: member.clone() })?;
    audit.push(audit::membership_changed(actor, &group_object, known_target(connection, &kind, member)?, false));
    Ok(())
}

/// A user, soft-deleted or not.
pub(super) fn user(connection: &Connection, id: &ObjectId) -> Result<Option<User>, Failure> {
    let mut statement = connection.prepare_cached("SELECT data FROM directory_users WHERE id = ?1")?;
    let mut rows = statement.query([id.as_str()])?;
    let Some(row) = rows.next()? else { return Ok(None) };
    let data = row.get_ref(0)?.as_str().map_err(|error| Failure::corrupt(format!("user {id}: {error}")))?;
    Ok(Some(parse_user(id.as_str(), data)?))
}

/// The user with this principal name, in any case (the `NOCASE` unique index).
pub(super) fn user_by_upn(connection: &Connection, upn: &str) -> Result<Option<User>, Failure> {
    let mut statement = connection.prepare_cached("SELECT id, data FROM directory_users WHERE upn = ?1")?;
    let mut rows = statement.query([upn])?;
    let Some(row) = rows.next()? else { return Ok(None) };
    let id = row.get_ref(0)?.as_str().map_err(Failure::corrupt)?;
    let data = row.get_ref(1)?.as_str().map_err(|error| Failure::corrupt(format!("user {id}: {error}")))?;
    Ok(Some(parse_user(id, data)?))
}

/// A group with its members (in id order). Run inside a read transaction, so that both queries see one state.
pub(super) fn group(connection: &Connection, id: &ObjectId) -> Result<Option<Group>, Failure> {
    let data: Option<String> = connection
        .prepare_cached("SELECT data FROM directory_groups WHERE id = ?1")?
        .query_row([id.as_str()], |row| row.get(0))
        .optional()?;
    let Some(data) = data else { return Ok(None) };
    Ok(Some(parse_group(id.as_str(), &data, members_of(connection, id)?)?))
}

/// A group's own attributes, without its members (for an audit entry, which names the group).
pub(super) fn group_attributes(connection: &Connection, id: &ObjectId) -> Result<Option<Group>, Failure> {
    let data: Option<String> = connection
        .prepare_cached("SELECT data FROM directory_groups WHERE id = ?1")?
        .query_row([id.as_str()], |row| row.get(0))
        .optional()?;
    data.map(|data| Ok(parse_group(id.as_str(), &data, Vec::new())?)).transpose()
}

/// A user (`kind` is `user`) or group (`group`) as an audit entry's target; `None` when it does not exist.
pub(super) fn target(connection: &Connection, kind: &str, id: &ObjectId) -> Result<Option<TargetResource>, Failure> {
    Ok(if kind == USER {
        user(connection, id)?.map(|user| TargetResource::user(&user))
    } else {
        group_attributes(connection, id)?.map(|group| TargetResource::group(&group))
    })
}

/// [`target`] of an object the tables name (a member, an assigned principal), which therefore exists; should it
/// not, the target names it by id alone.
pub(super) fn known_target(connection: &Connection, kind: &str, id: &ObjectId) -> Result<TargetResource, Failure> {
    Ok(target(connection, kind, id)?.unwrap_or_else(|| crate::directory_rows::bare_target(kind, id)))
}

/// Up to `limit` users with ids after `after`, in id order.
pub(super) fn users_after(
    connection: &Connection,
    after: Option<&ObjectId>,
    limit: usize,
) -> Result<Vec<User>, Failure> {
    let mut statement =
        connection.prepare_cached("SELECT id, data FROM directory_users WHERE id > ?1 ORDER BY id LIMIT ?2")?;
    let mut rows = statement.query(params![after.map_or("", ObjectId::as_str), sql_limit(limit)])?;
    let mut users = Vec::new();
    while let Some(row) = rows.next()? {
        let id = row.get_ref(0)?.as_str().map_err(Failure::corrupt)?;
        let data = row.get_ref(1)?.as_str().map_err(|error| Failure::corrupt(format!("user {id}: {error}")))?;
        users.push(parse_user(id, data)?);
    }
    Ok(users)
}

/// Up to `limit` groups with ids after `after`, in id order, with their members: one query for the page, one for
/// all its members (the page's ids are a contiguous range of the members' key). Run inside a read transaction.
pub(super) fn groups_after(
    connection: &Connection,
    after: Option<&ObjectId>,
    limit: usize,
) -> Result<Vec<Group>, Failure> {
    let page: Vec<(String, String)> = connection
        .prepare_cached("SELECT id, data FROM directory_groups WHERE id > ?1 ORDER BY id LIMIT ?2")?
        .query_map(params![after.map_or("", ObjectId::as_str), sql_limit(limit)], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let (Some((first, _)), Some((last, _))) = (page.first(), page.last()) else { return Ok(Vec::new()) };
    // Every group with an id in [first, last] is on the page, so these rows are exactly the page's members.
    let members: Vec<(String, String)> = connection
        .prepare_cached(
            "SELECT group_id, member_id FROM directory_members WHERE group_id BETWEEN ?1 AND ?2 \
             ORDER BY group_id, member_id",
        )?
        .query_map(params![first, last], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut members = members.into_iter().peekable();
    let mut groups = Vec::with_capacity(page.len());
    for (id, data) in page {
        let mut list = Vec::new();
        while let Some((_, member)) = members.next_if(|(group_id, _)| *group_id == id) {
            list.push(parse_id(&member)?);
        }
        groups.push(parse_group(&id, &data, list)?);
    }
    Ok(groups)
}

/// How many users and groups there are.
pub(super) fn counts(connection: &Connection) -> Result<(u64, u64), Failure> {
    let (users, groups): (i64, i64) = connection
        .prepare_cached("SELECT (SELECT count(*) FROM directory_users), (SELECT count(*) FROM directory_groups)")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let count = |n: i64| u64::try_from(n).map_err(Failure::corrupt);
    Ok((count(users)?, count(groups)?))
}

/// Whether the id is a user's or a group's (`user` or `group`), or neither's.
pub(super) fn kind_of(connection: &Connection, id: &ObjectId) -> Result<Option<&'static str>, Failure> {
    if exists(connection, USER, id)? {
        Ok(Some(USER))
    } else if exists(connection, GROUP, id)? {
        Ok(Some(GROUP))
    } else {
        Ok(None)
    }
}

/// Whether a user (`kind` is `user`) or group (`group`) with this id exists.
pub(super) fn exists(connection: &Connection, kind: &str, id: &ObjectId) -> Result<bool, Failure> {
    let sql = if kind == USER {
        "SELECT 1 FROM directory_users WHERE id = ?1"
    } else {
        "SELECT 1 FROM directory_groups WHERE id = ?1"
    };
    Ok(connection.prepare_cached(sql)?.exists([id.as_str()])?)
}

/// The error for user `id`'s principal name `upn`, which another user holds.
pub(super) fn upn_conflict(connection: &Connection, id: &ObjectId, upn: &str) -> Result<Failure, Failure> {
    let holder: Option<String> = connection
        .prepare_cached("SELECT id FROM directory_users WHERE upn = ?1 AND id <> ?2")?
        .query_row(params![upn, id.as_str()], |row| row.get(0))
        .optional()?;
    Ok(DirectoryError::Conflict(match holder {
        Some(holder) => format!("userPrincipalName {upn} of user {id} is already used by user {holder}"),
        None => format!("userPrincipalName {upn} of user {id} is already in use"),
    })
    .into())
}

/// The `NotFound` error of a user (`kind` `user`), group or either.
pub(super) fn not_found(kind: &'static str, id: &ObjectId) -> Failure {
    DirectoryError::NotFound { kind, id: id.to_string() }.into()
}

/// A group's members, in id order.
fn members_of(connection: &Connection, group: &ObjectId) -> Result<Vec<ObjectId>, Failure> {
    let mut statement =
        connection.prepare_cached("SELECT member_id FROM directory_members WHERE group_id = ?1 ORDER BY member_id")?;
    let rows = statement.query_map([group.as_str()], |row| row.get::<_, String>(0))?;
    let mut members = Vec::new();
    for row in rows {
        members.push(parse_id(&row?)?);
    }
    Ok(members)
}

/// Removes a user or group from every group it is a member of, logging each membership.
fn leave_groups(connection: &Connection, member: &ObjectId) -> Result<(), Failure> {
    let groups: Vec<String> = connection
        .prepare_cached("SELECT group_id FROM directory_members WHERE member_id = ?1 ORDER BY group_id")?
        .query_map([member.as_str()], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for group in groups {
        changes::append(connection, &Changed::Membership { group: parse_id(&group)?, member: member.clone() })?;
    }
    connection.prepare_cached("DELETE FROM directory_members WHERE member_id = ?1")?.execute([member.as_str()])?;
    Ok(())
}

/// Removes every assignment of a user or group, logging each.
fn drop_assignments(connection: &Connection, principal: &ObjectId) -> Result<(), Failure> {
    let applications: Vec<String> = connection
        .prepare_cached("SELECT application FROM directory_assignments WHERE principal = ?1 ORDER BY application")?
        .query_map([principal.as_str()], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for application in applications {
        changes::append(connection, &Changed::Assignment { application, principal: principal.clone() })?;
    }
    connection
        .prepare_cached("DELETE FROM directory_assignments WHERE principal = ?1")?
        .execute([principal.as_str()])?;
    Ok(())
}

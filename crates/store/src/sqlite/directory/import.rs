//! The import: every user and group of a file upserted by id in one write, with one change-log entry per created
//! or changed user or group and per added or removed membership.
//!
//! Speed: the JSON of every object is made before the write ([`prepare`]); the write runs cached statements, one
//! lookup per object, and writes only what changed, so that re-importing the same 100,000 users reads them and
//! writes nothing. Users go in two passes, so that an import may move a user principal name from one user to
//! another (even swap two): the first pass looks every user up and parks the changing names of existing users at
//! their ids (which are no user principal names, having no `@`), the second writes.

pub(super) use crate::directory_rows::{Prepared, PreparedGroup, PreparedUser};
use std::collections::{BTreeSet, HashMap};

use roster_directory::ObjectId;
use roster_directory::port::{Changed, DirectoryError, ImportSummary};
use rusqlite::{Connection, OptionalExtension, params};

use super::changes::{self, Appender, GROUP, USER};
use super::objects::{kind_of, upn_conflict};
use crate::sqlite::{Failure, unique_violation};

/// What the first pass found of a user.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Found {
    New,
    Unchanged,
    Changed,
}

/// Runs the import inside the writer's savepoint; any error rolls all of it back.
pub(super) fn import(connection: &Connection, prepared: &Prepared, at: i64) -> Result<ImportSummary, Failure> {
    let mut summary = ImportSummary::default();
    let mut log = Appender::new(connection);
    import_users(connection, &prepared.users, at, &mut log, &mut summary)?;
    import_groups(connection, prepared, at, &mut log, &mut summary)?;
    log.finish()?;
    Ok(summary)
}

fn import_users(
    connection: &Connection,
    users: &[PreparedUser],
    at: i64,
    log: &mut Appender<'_>,
    summary: &mut ImportSummary,
) -> Result<(), Failure> {
    let mut found = Vec::with_capacity(users.len());
    {
        let mut lookup = connection.prepare_cached("SELECT upn, data FROM directory_users WHERE id = ?1")?;
        let mut group_lookup = connection.prepare_cached("SELECT 1 FROM directory_groups WHERE id = ?1")?;
        let mut park = connection.prepare_cached("UPDATE directory_users SET upn = id WHERE id = ?1")?;
        for user in users {
            // The stored JSON is compared where SQLite holds it, without a copy.
            let stored = lookup
                .query_row([user.id.as_str()], |row| {
                    let same_upn = row.get_ref(0)?.as_str().is_ok_and(|upn| upn == user.upn);
                    let same_data = row.get_ref(1)?.as_str().is_ok_and(|data| data == user.json);
                    Ok((same_upn, same_data))
                })
                .optional()?;
            let state = match stored {
                None if group_lookup.exists([user.id.as_str()])? => return Err(same_id_as_group(&user.id)),
                None => Found::New,
                Some((_, true)) => Found::Unchanged,
                Some((same_upn, false)) => {
                    if !same_upn {
                        park.execute([user.id.as_str()])?;
                    }
                    Found::Changed
                }
            };
            found.push(state);
        }
    }
    let mut insert = connection.prepare_cached(
        "INSERT INTO directory_users (id, upn, account_enabled, deleted, data, created, updated) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?;
    let mut update = connection.prepare_cached(
        "UPDATE directory_users SET upn = ?2, account_enabled = ?3, deleted = ?4, data = ?5, updated = ?6 \
         WHERE id = ?1",
    )?;
    for (user, state) in users.iter().zip(found) {
        let values = params![user.id.as_str(), user.upn, user.enabled, user.deleted, user.json, at];
        let written = match state {
            Found::Unchanged => {
                summary.users_unchanged += 1;
                continue;
            }
            Found::New => {
                summary.users_created += 1;
                insert.execute(values)
            }
            Found::Changed => {
                summary.users_updated += 1;
                update.execute(values)
            }
        };
        if let Err(error) = written {
            return Err(match unique_violation(&error) {
                Some(_) => upn_conflict(connection, &user.id, &user.upn)?,
                None => error.into(),
            });
        }
        log.push(Changed::User(user.id.clone()))?;
    }
    Ok(())
}

fn import_groups(
    connection: &Connection,
    prepared: &Prepared,
    at: i64,
    log: &mut Appender<'_>,
    summary: &mut ImportSummary,
) -> Result<(), Failure> {
    // Every group is written before any membership, so that members may name groups later in the file.
    let mut found = Vec::with_capacity(prepared.groups.len());
    {
        let mut lookup = connection.prepare_cached("SELECT data FROM directory_groups WHERE id = ?1")?;
        let mut user_lookup = connection.prepare_cached("SELECT 1 FROM directory_users WHERE id = ?1")?;
        let mut insert = connection.prepare_cached(
            "INSERT INTO directory_groups (id, display_name, data, created, updated) VALUES (?1, ?2, ?3, ?4, ?4)",
        )?;
        let mut update = connection
            .prepare_cached("UPDATE directory_groups SET display_name = ?2, data = ?3, updated = ?4 WHERE id = ?1")?;
        for group in &prepared.groups {
            let stored: Option<String> = lookup.query_row([group.id.as_str()], |row| row.get(0)).optional()?;
            let values = params![group.id.as_str(), group.display_name, group.json, at];
            let state = match stored {
                None => {
                    if user_lookup.exists([group.id.as_str()])? {
                        return Err(same_id_as_user(&group.id));
                    }
                    insert.execute(values)?;
                    Found::New
                }
                Some(data) if data == group.json => Found::Unchanged,
                Some(_) => {
                    update.execute(values)?;
                    Found::Changed
                }
            };
            if state != Found::Unchanged {
                log.push(Changed::Group(group.id.clone()))?;
            }
            found.push(state);
        }
    }
    // The kinds of the imported objects, which spares a lookup for most members.
    let mut imported: HashMap<&ObjectId, &'static str> =
        HashMap::with_capacity(prepared.users.len() + prepared.groups.len());
    imported.extend(prepared.users.iter().map(|user| (&user.id, USER)));
    imported.extend(prepared.groups.iter().map(|group| (&group.id, GROUP)));
    for (group, state) in prepared.groups.iter().zip(found) {
        let members_changed = set_members(connection, group, state == Found::New, &imported, log)?;
        match state {
            Found::New => summary.groups_created += 1,
            Found::Changed => summary.groups_updated += 1,
            Found::Unchanged if members_changed => summary.groups_updated += 1,
            Found::Unchanged => summary.groups_unchanged += 1,
        }
    }
    Ok(())
}

/// Makes the group's stored members exactly the prepared ones, touching only the rows that differ, and logs each
/// added or removed membership. Returns whether anything changed.
fn set_members(
    connection: &Connection,
    group: &PreparedGroup,
    is_new: bool,
    imported: &HashMap<&ObjectId, &'static str>,
    log: &mut Appender<'_>,
) -> Result<bool, Failure> {
    let stored: BTreeSet<ObjectId> = if is_new {
        BTreeSet::new()
    } else {
        let mut statement = connection.prepare_cached("SELECT member_id FROM directory_members WHERE group_id = ?1")?;
        let rows = statement.query_map([group.id.as_str()], |row| row.get::<_, String>(0))?;
        let mut stored = BTreeSet::new();
        for row in rows {
            stored.insert(changes::parse_id(&row?)?);
        }
        stored
    };
    let mut changed = false;
    let mut remove =
        connection.prepare_cached("DELETE FROM directory_members WHERE group_id = ?1 AND member_id = ?2")?;
    for member in stored.difference(&group.members) {
        remove.execute(params![group.id.as_str(), member.as_str()])?;
        log.push(Changed::Membership { group: group.id.clone(), member: member.clone() })?;
        changed = true;
    }
    let mut add = connection
        .prepare_cached("INSERT INTO directory_members (group_id, member_id, member_kind) VALUES (?1, ?2, ?3)")?;
    for member in group.members.difference(&stored) {
        if *member == group.id {
            return Err(DirectoryError::Invalid(format!("group {member} cannot be a member of itself")).into());
        }
        let kind = match imported.get(member) {
            Some(kind) => *kind,
            None => kind_of(connection, member)?.ok_or_else(|| DirectoryError::NotFound {
                kind: "user or group",
                id: format!("{member} (a member of group {})", group.id),
            })?,
        };
        add.execute(params![group.id.as_str(), member.as_str(), kind])?;
        log.push(Changed::Membership { group: group.id.clone(), member: member.clone() })?;
        changed = true;
    }
    Ok(changed)
}

fn same_id_as_group(id: &ObjectId) -> Failure {
    DirectoryError::Conflict(format!("user {id} has the id of an existing group")).into()
}

fn same_id_as_user(id: &ObjectId) -> Failure {
    DirectoryError::Conflict(format!("group {id} has the id of an existing user")).into()
}

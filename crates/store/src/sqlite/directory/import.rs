//! The import: every user and group of a file upserted by id in one write, with one change-log entry per created
//! or changed user or group and per added or removed membership, and one audit entry per created or changed user
//! or group (a group's members are among its attributes there).
//!
//! Speed: the JSON of every object is made before the write ([`prepare`]); the write runs cached statements, one
//! lookup per object, and writes only what changed, so that re-importing the same 100,000 users reads them and
//! writes nothing. Users go in two passes, so that an import may move a user principal name from one user to
//! another (even swap two): the first pass looks every user up and parks the changing names of existing users at
//! their ids (which are no user principal names, having no `@`), the second writes.

pub(super) use crate::directory_rows::{Prepared, PreparedGroup, PreparedUser};
use std::collections::{BTreeSet, HashMap};

use roster_directory::ObjectId;
use roster_directory::audit::{self, Actor, AuditEntry};
use roster_directory::port::{Changed, DirectoryError, ImportSummary};
use rusqlite::{Connection, OptionalExtension, params};

use super::changes::{self, Appender, GROUP, USER, parse_group, parse_user};
use super::objects::{kind_of, upn_conflict};
use crate::sqlite::{Failure, unique_violation};

/// What the first pass found of a user or group.
#[derive(Clone, PartialEq, Eq)]
enum Found {
    New,
    Unchanged,
    /// It changed; its stored JSON before.
    Changed(String),
}

/// Who imports, and the audit entries of what the import changed.
struct Audit<'a> {
    actor: &'a Actor,
    entries: &'a mut Vec<AuditEntry>,
}

/// Runs the import inside the writer's savepoint, pushing its audit entries onto `entries` (users in file order,
/// then groups in file order); any error rolls all of it back.
pub(super) fn import(
    connection: &Connection,
    prepared: &Prepared,
    actor: &Actor,
    entries: &mut Vec<AuditEntry>,
) -> Result<ImportSummary, Failure> {
    let at = crate::sqlite::to_millis(actor.at)?;
    let mut summary = ImportSummary::default();
    let mut log = Appender::new(connection);
    let mut audit = Audit { actor, entries };
    import_users(connection, &prepared.users, at, &mut log, &mut audit, &mut summary)?;
    import_groups(connection, prepared, at, &mut log, &mut audit, &mut summary)?;
    log.finish()?;
    Ok(summary)
}

fn import_users(
    connection: &Connection,
    users: &[PreparedUser],
    at: i64,
    log: &mut Appender<'_>,
    audit: &mut Audit<'_>,
    summary: &mut ImportSummary,
) -> Result<(), Failure> {
    let mut found = Vec::with_capacity(users.len());
    {
        let mut lookup = connection.prepare_cached("SELECT upn, data FROM directory_users WHERE id = ?1")?;
        let mut group_lookup = connection.prepare_cached("SELECT 1 FROM directory_groups WHERE id = ?1")?;
        let mut park = connection.prepare_cached("UPDATE directory_users SET upn = id WHERE id = ?1")?;
        for user in users {
            // The stored JSON is compared where SQLite holds it, and copied only when it differs.
            let stored = lookup
                .query_row([user.id.as_str()], |row| {
                    let same_upn = row.get_ref(0)?.as_str().is_ok_and(|upn| upn == user.upn);
                    let same_data = row.get_ref(1)?.as_str().is_ok_and(|data| data == user.json);
                    let before = if same_data { None } else { Some(row.get::<_, String>(1)?) };
                    Ok((same_upn, before))
                })
                .optional()?;
            let state = match stored {
                None if group_lookup.exists([user.id.as_str()])? => return Err(same_id_as_group(&user.id)),
                None => Found::New,
                Some((_, None)) => Found::Unchanged,
                Some((same_upn, Some(before))) => {
                    if !same_upn {
                        park.execute([user.id.as_str()])?;
                    }
                    Found::Changed(before)
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
        let (written, before) = match state {
            Found::Unchanged => {
                summary.users_unchanged += 1;
                continue;
            }
            Found::New => {
                summary.users_created += 1;
                (insert.execute(values), None)
            }
            Found::Changed(before) => {
                summary.users_updated += 1;
                (update.execute(values), Some(parse_user(user.id.as_str(), &before)?))
            }
        };
        if let Err(error) = written {
            return Err(match unique_violation(&error) {
                Some(_) => upn_conflict(connection, &user.id, &user.upn)?,
                None => error.into(),
            });
        }
        log.push(Changed::User(user.id.clone()))?;
        audit.entries.extend(audit::user_written(audit.actor, before.as_ref(), &user.user));
    }
    Ok(())
}

fn import_groups(
    connection: &Connection,
    prepared: &Prepared,
    at: i64,
    log: &mut Appender<'_>,
    audit: &mut Audit<'_>,
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
                Some(data) => {
                    update.execute(values)?;
                    Found::Changed(data)
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
        let stored = set_members(connection, group, state == Found::New, &imported, log)?;
        let members_changed = stored != group.members;
        let before = match state {
            Found::New => {
                summary.groups_created += 1;
                None
            }
            Found::Changed(data) => {
                summary.groups_updated += 1;
                Some(parse_group(group.id.as_str(), &data, stored.into_iter().collect())?)
            }
            Found::Unchanged if members_changed => {
                summary.groups_updated += 1;
                Some(group.with_members(&stored))
            }
            Found::Unchanged => {
                summary.groups_unchanged += 1;
                continue;
            }
        };
        let after = group.with_members(&group.members);
        audit.entries.extend(audit::group_written(audit.actor, before.as_ref(), &after));
    }
    Ok(())
}

/// Makes the group's stored members exactly the prepared ones, touching only the rows that differ, and logs each
/// added or removed membership. Returns the members stored before.
fn set_members(
    connection: &Connection,
    group: &PreparedGroup,
    is_new: bool,
    imported: &HashMap<&ObjectId, &'static str>,
    log: &mut Appender<'_>,
) -> Result<BTreeSet<ObjectId>, Failure> {
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
    let mut remove =
        connection.prepare_cached("DELETE FROM directory_members WHERE group_id = ?1 AND member_id = ?2")?;
    for member in stored.difference(&group.members) {
        remove.execute(params![group.id.as_str(), member.as_str()])?;
        log.push(Changed::Membership { group: group.id.clone(), member: member.clone() })?;
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
    }
    Ok(stored)
}

fn same_id_as_group(id: &ObjectId) -> Failure {
    DirectoryError::Conflict(format!("user {id} has the id of an existing group")).into()
}

fn same_id_as_user(id: &ObjectId) -> Failure {
    DirectoryError::Conflict(format!("group {id} has the id of an existing user")).into()
}

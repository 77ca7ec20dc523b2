//! [`ResourceStore`] on SQLite: users, groups and memberships. Lists are in [`super::query`].

use std::collections::BTreeSet;

use async_trait::async_trait;
use roster_provider::port::{
    CheckFn, GroupRef, MemberRef, MembershipChange, NewResource, Page, Relations, ResourceKind, ResourceQuery,
    ResourceStore, StoreError, StoredResource, UpdateFn,
};
use roster_provider::tenant::EnterpriseId;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Failure, SqliteStore, foreign_key_violation, in_read_transaction, to_millis, unique_violation};
use crate::columns::{self, Derived, fold};
use crate::provider_rows::{self, Keyed, Loaded, Member, ResourceRow, checked_member};

#[async_trait]
impl ResourceStore for SqliteStore {
    async fn create(
        &self,
        enterprise: EnterpriseId,
        kind: ResourceKind,
        new: NewResource,
        relations: Relations,
    ) -> Result<StoredResource, StoreError> {
        self.write(move |connection| {
            let (stored, members) = provider_rows::created(kind, new)?;
            let pk = insert(connection, enterprise, kind, &stored)?;
            if kind == ResourceKind::Group {
                for id in &members {
                    let member = resolve_member(connection, enterprise, pk, id)?;
                    add_member(connection, pk, member)?;
                }
            }
            let stored = with_relations(connection, kind, pk, stored, relations)?;
            Ok(stored)
        })
        .await
    }

    async fn get(
        &self,
        enterprise: EnterpriseId,
        kind: ResourceKind,
        id: &str,
        relations: Relations,
    ) -> Result<Option<StoredResource>, StoreError> {
        let id = id.to_owned();
        // A group's members may be many; everything else here is a handful of rows.
        let work = move |connection: &mut Connection| {
            if !relations.load {
                return Ok(current(connection, enterprise, kind, &id)?.map(|(_, stored)| stored));
            }
            in_read_transaction(connection, |transaction| {
                let Some((pk, stored)) = current(transaction, enterprise, kind, &id)? else { return Ok(None) };
                Ok(Some(with_relations(transaction, kind, pk, stored, relations)?))
            })
        };
        if kind == ResourceKind::Group && relations.load { self.read(work).await } else { self.point_read(work).await }
    }

    async fn query(
        &self,
        enterprise: EnterpriseId,
        kind: ResourceKind,
        query: &ResourceQuery,
    ) -> Result<Page, StoreError> {
        let point = super::query::is_point_query(kind, query);
        let query = query.clone();
        let work = move |connection: &mut Connection| super::query::query(connection, enterprise, kind, &query);
        if point { self.point_read(work).await } else { self.read(work).await }
    }

    async fn update(
        &self,
        enterprise: EnterpriseId,
        kind: ResourceKind,
        id: &str,
        load_members: bool,
        change: UpdateFn,
        relations: Relations,
    ) -> Result<StoredResource, StoreError> {
        let id = id.to_owned();
        self.write(move |connection| {
            let (pk, mut current) = current(connection, enterprise, kind, &id)?.ok_or(StoreError::NotFound)?;
            if kind == ResourceKind::Group && load_members {
                current.members = Some(members_of(connection, &[pk])?.into_iter().map(|(_, member)| member).collect());
            }
            let update = change(&current).map_err(StoreError::Rejected)?;
            let (stored, members) = provider_rows::updated(kind, &current, update)?;
            let keys_unchanged = Derived::of(kind, &current.attributes, current.login.as_deref())
                .same_keys(&Derived::of(kind, &stored.attributes, stored.login.as_deref()));
            rewrite(connection, kind, pk, &stored, keys_unchanged)?;
            if kind == ResourceKind::Group {
                change_members(connection, enterprise, pk, members)?;
            }
            let stored = with_relations(connection, kind, pk, stored, relations)?;
            Ok(stored)
        })
        .await
    }

    async fn delete(
        &self,
        enterprise: EnterpriseId,
        kind: ResourceKind,
        id: &str,
        check: CheckFn,
    ) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write(move |connection| {
            let (pk, current) = current(connection, enterprise, kind, &id)?.ok_or(StoreError::NotFound)?;
            check(&current).map_err(StoreError::Rejected)?;
            // Memberships go with the row: as a group through the foreign key, as a member through a trigger.
            let sql = match kind {
                ResourceKind::User => "DELETE FROM scim_users WHERE pk = ?1",
                ResourceKind::Group => "DELETE FROM scim_groups WHERE pk = ?1",
            };
            connection.prepare_cached(sql)?.execute([pk])?;
            Ok(())
        })
        .await
    }
}

/// The columns every resource row is read with, in the order [`read_row`] expects.
pub(super) const USER_COLUMNS: &str = "pk, id, data, created, last_modified, version, login";
pub(super) const GROUP_COLUMNS: &str = "pk, id, data, created, last_modified, version, NULL";

/// Reads a row of [`USER_COLUMNS`] or [`GROUP_COLUMNS`] into its key and the resource (without relations). The
/// JSON of `data` is parsed where SQLite holds it, without copying it into a `String` first.
pub(super) fn read_row(row: &Row<'_>) -> Result<Keyed, Failure> {
    let id: String = row.get(1)?;
    let data = row.get_ref(2)?.as_str().map_err(|error| Failure::corrupt(format!("the data of {id:?}: {error}")))?;
    let stored = ResourceRow {
        id,
        data,
        created: row.get(3)?,
        last_modified: row.get(4)?,
        version: row.get(5)?,
        login: row.get(6)?,
    }
    .into_resource()?;
    Ok((row.get(0)?, stored))
}

/// The resource with this id, and its key.
fn current(
    connection: &Connection,
    enterprise: EnterpriseId,
    kind: ResourceKind,
    id: &str,
) -> Result<Option<(i64, StoredResource)>, Failure> {
    let sql = match kind {
        ResourceKind::User => {
            "SELECT pk, id, data, created, last_modified, version, login FROM scim_users \
             WHERE enterprise_id = ?1 AND id = ?2"
        }
        ResourceKind::Group => {
            "SELECT pk, id, data, created, last_modified, version, NULL FROM scim_groups \
             WHERE enterprise_id = ?1 AND id = ?2"
        }
    };
    let mut statement = connection.prepare_cached(sql)?;
    let mut rows = statement.query(params![enterprise.0, id])?;
    rows.next()?.map(read_row).transpose()
}

fn insert(
    connection: &Connection,
    enterprise: EnterpriseId,
    kind: ResourceKind,
    stored: &StoredResource,
) -> Result<i64, Failure> {
    let derived = Derived::of(kind, &stored.attributes, stored.login.as_deref());
    let data = provider_rows::data_json(&stored.attributes)?;
    let created = to_millis(stored.created)?;
    let inserted = match kind {
        ResourceKind::User => connection
            .prepare_cached(
                "INSERT INTO scim_users (enterprise_id, id, user_name, user_name_folded, external_id, display_name, \
                 display_name_folded, login, login_folded, active, data, created, last_modified, version) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)",
            )?
            .execute(params![
                enterprise.0,
                stored.id,
                derived.user_name,
                derived.user_name.map(fold),
                derived.external_id,
                derived.display_name,
                derived.display_name.map(fold),
                derived.login,
                derived.login.map(fold),
                derived.active,
                data,
                created,
                stored.version,
            ]),
        ResourceKind::Group => connection
            .prepare_cached(
                "INSERT INTO scim_groups (enterprise_id, id, external_id, display_name, display_name_folded, data, \
                 created, last_modified, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
            )?
            .execute(params![
                enterprise.0,
                stored.id,
                derived.external_id,
                derived.display_name,
                derived.display_name.map(fold),
                data,
                created,
                stored.version,
            ]),
    };
    match inserted {
        Ok(_) => Ok(connection.last_insert_rowid()),
        Err(error) if foreign_key_violation(&error) => Err(StoreError::NotFound.into()),
        Err(error) => Err(conflict(error, &stored.id, &derived)),
    }
}

/// Writes the new state of a resource. When its indexed columns keep their values (`keys_unchanged`, as in most
/// PATCHes), they are left out of the `UPDATE`, so that SQLite does not rewrite their index entries.
fn rewrite(
    connection: &Connection,
    kind: ResourceKind,
    pk: i64,
    stored: &StoredResource,
    keys_unchanged: bool,
) -> Result<(), Failure> {
    let derived = Derived::of(kind, &stored.attributes, stored.login.as_deref());
    let data = provider_rows::data_json(&stored.attributes)?;
    let last_modified = to_millis(stored.last_modified)?;
    let updated = match kind {
        ResourceKind::User if keys_unchanged => connection
            .prepare_cached(
                "UPDATE scim_users SET active = ?2, data = ?3, last_modified = ?4, version = ?5 WHERE pk = ?1",
            )?
            .execute(params![pk, derived.active, data, last_modified, stored.version]),
        ResourceKind::Group if keys_unchanged => connection
            .prepare_cached("UPDATE scim_groups SET data = ?2, last_modified = ?3, version = ?4 WHERE pk = ?1")?
            .execute(params![pk, data, last_modified, stored.version]),
        ResourceKind::User => connection
            .prepare_cached(
                "UPDATE scim_users SET user_name = ?2, user_name_folded = ?3, external_id = ?4, display_name = ?5, \
                 display_name_folded = ?6, login = ?7, login_folded = ?8, active = ?9, data = ?10, \
                 last_modified = ?11, version = ?12 WHERE pk = ?1",
            )?
            .execute(params![
                pk,
                derived.user_name,
                derived.user_name.map(fold),
                derived.external_id,
                derived.display_name,
                derived.display_name.map(fold),
                derived.login,
                derived.login.map(fold),
                derived.active,
                data,
                last_modified,
                stored.version,
            ]),
        ResourceKind::Group => connection
            .prepare_cached(
                "UPDATE scim_groups SET external_id = ?2, display_name = ?3, display_name_folded = ?4, data = ?5, \
                 last_modified = ?6, version = ?7 WHERE pk = ?1",
            )?
            .execute(params![
                pk,
                derived.external_id,
                derived.display_name,
                derived.display_name.map(fold),
                data,
                last_modified,
                stored.version,
            ]),
    };
    updated.map(drop).map_err(|error| conflict(error, &stored.id, &derived))
}

/// Maps a uniqueness violation to the SCIM attribute and value it concerns.
fn conflict(error: rusqlite::Error, id: &str, derived: &Derived<'_>) -> Failure {
    let column = unique_violation(&error).and_then(|columns| columns.rsplit('.').next());
    match column.and_then(|column| columns::conflict(column, id, derived)) {
        Some(conflict) => conflict.into(),
        None => error.into(),
    }
}

/// The user or group with this id in the enterprise (a user first, should a group share its id), if any.
fn find_member(connection: &Connection, enterprise: EnterpriseId, id: &str) -> Result<Option<Member>, Failure> {
    let found = connection
        .prepare_cached(
            "SELECT 0, pk FROM scim_users WHERE enterprise_id = ?1 AND id = ?2 \
             UNION ALL SELECT 1, pk FROM scim_groups WHERE enterprise_id = ?1 AND id = ?2 LIMIT 1",
        )?
        .query_row(params![enterprise.0, id], |row| Ok(Member { kind: row.get(0)?, pk: row.get(1)? }))
        .optional()?;
    Ok(found)
}

/// The member to add to group `group_pk`: `UnknownMember` when there is none, a refusal when it is the group.
fn resolve_member(
    connection: &Connection,
    enterprise: EnterpriseId,
    group_pk: i64,
    id: &str,
) -> Result<Member, Failure> {
    Ok(checked_member(find_member(connection, enterprise, id)?, group_pk, id)?)
}

fn add_member(connection: &Connection, group_pk: i64, member: Member) -> Result<(), Failure> {
    connection
        .prepare_cached(
            "INSERT OR IGNORE INTO scim_memberships (group_pk, member_kind, member_pk) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![group_pk, member.kind, member.pk])?;
    Ok(())
}

fn remove_member(connection: &Connection, group_pk: i64, member: Member) -> Result<(), Failure> {
    connection
        .prepare_cached("DELETE FROM scim_memberships WHERE group_pk = ?1 AND member_kind = ?2 AND member_pk = ?3")?
        .execute(params![group_pk, member.kind, member.pk])?;
    Ok(())
}

/// Applies a membership change, touching only the rows it names (a `Replace` names all of them).
fn change_members(
    connection: &Connection,
    enterprise: EnterpriseId,
    group_pk: i64,
    change: MembershipChange,
) -> Result<(), Failure> {
    match change {
        MembershipChange::Unchanged => {}
        MembershipChange::Delta { add, remove } => {
            for id in &remove {
                // Removing an absent member, or an id that names nothing, is no error.
                if let Some(member) = find_member(connection, enterprise, id)? {
                    remove_member(connection, group_pk, member)?;
                }
            }
            for id in &add {
                let member = resolve_member(connection, enterprise, group_pk, id)?;
                add_member(connection, group_pk, member)?;
            }
        }
        MembershipChange::Replace(ids) => {
            let wanted = ids
                .iter()
                .map(|id| resolve_member(connection, enterprise, group_pk, id))
                .collect::<Result<BTreeSet<_>, _>>()?;
            let present = connection
                .prepare_cached("SELECT member_kind, member_pk FROM scim_memberships WHERE group_pk = ?1")?
                .query_map([group_pk], |row| Ok(Member { kind: row.get(0)?, pk: row.get(1)? }))?
                .collect::<Result<BTreeSet<_>, _>>()?;
            for member in present.difference(&wanted) {
                remove_member(connection, group_pk, *member)?;
            }
            for member in wanted.difference(&present) {
                add_member(connection, group_pk, *member)?;
            }
        }
    }
    Ok(())
}

/// The resource with its relations loaded when asked (`Some`, possibly empty), else without (`None`).
fn with_relations(
    connection: &Connection,
    kind: ResourceKind,
    pk: i64,
    mut stored: StoredResource,
    relations: Relations,
) -> Result<StoredResource, Failure> {
    if relations.load {
        let mut one = [(pk, stored)];
        load_relations(connection, kind, &mut one)?;
        let [(_, loaded)] = one;
        stored = loaded;
    }
    Ok(stored)
}

/// Loads the relations of several resources (`(pk, resource)` pairs) with one query: a group's members (users
/// first, then groups, each in creation order) or a user's groups (in creation order).
pub(super) fn load_relations(
    connection: &Connection,
    kind: ResourceKind,
    resources: &mut [Keyed],
) -> Result<(), Failure> {
    let pks: Vec<i64> = resources.iter().map(|(pk, _)| *pk).collect();
    let loaded = match kind {
        ResourceKind::Group => Loaded::Members(members_of(connection, &pks)?),
        ResourceKind::User => Loaded::Groups(groups_of(connection, &pks)?),
    };
    provider_rows::attach(resources, loaded);
    Ok(())
}

/// The members of the groups, as `(group_pk, member)` in the order of `group_pks`, then members in order. The
/// group keys travel as one JSON array, so that the statement is the same for every page.
fn members_of(connection: &Connection, group_pks: &[i64]) -> Result<Vec<(i64, MemberRef)>, Failure> {
    // CROSS JOIN: the keys first, each looked up by the primary key (see `groups_of`).
    let sql = "SELECT m.group_pk, m.member_kind, \
                   CASE m.member_kind WHEN 0 THEN u.id ELSE g.id END, \
                   CASE m.member_kind WHEN 0 THEN u.display_name ELSE g.display_name END \
               FROM json_each(?1) AS k \
               CROSS JOIN scim_memberships AS m ON m.group_pk = k.value \
               LEFT JOIN scim_users AS u ON m.member_kind = 0 AND u.pk = m.member_pk \
               LEFT JOIN scim_groups AS g ON m.member_kind = 1 AND g.pk = m.member_pk \
               ORDER BY k.key, m.member_kind, m.member_pk";
    let keys = keys_json(group_pks);
    let mut statement = connection.prepare_cached(sql)?;
    let rows = statement.query_map([keys], |row| {
        let id: Option<String> = row.get(2)?;
        Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, id, row.get::<_, Option<String>>(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (group_pk, member_kind, id, display) = row?;
        let id = id.ok_or_else(|| Failure::corrupt(format!("a member of group {group_pk} does not exist")))?;
        out.push((group_pk, MemberRef { id, kind: provider_rows::member_kind(member_kind), display }));
    }
    Ok(out)
}

/// The groups of the users, as `(user_pk, group)` in the order of `user_pks`, then groups in creation order.
fn groups_of(connection: &Connection, user_pks: &[i64]) -> Result<Vec<(i64, GroupRef)>, Failure> {
    // CROSS JOIN fixes the join order: the keys first, each looked up in the member index. With a plain JOIN the
    // planner scanned every membership and probed the keys, which made a user PATCH in an enterprise with 10,000
    // memberships cost 5 ms.
    let sql = "SELECT m.member_pk, g.id, g.display_name \
               FROM json_each(?1) AS k \
               CROSS JOIN scim_memberships AS m ON m.member_kind = 0 AND m.member_pk = k.value \
               JOIN scim_groups AS g ON g.pk = m.group_pk \
               ORDER BY k.key, m.group_pk";
    let keys = keys_json(user_pks);
    let mut statement = connection.prepare_cached(sql)?;
    let rows = statement
        .query_map([keys], |row| Ok((row.get::<_, i64>(0)?, GroupRef { id: row.get(1)?, display: row.get(2)? })))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

fn keys_json(pks: &[i64]) -> String {
    let mut out = String::with_capacity(pks.len() * 8 + 2);
    out.push('[');
    for (index, pk) in pks.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(&pk.to_string());
    }
    out.push(']');
    out
}

//! Memberships (`scim_memberships`): finding members by id, changing a group's members by rows, and loading the
//! relations of resources (a group's members, a user's groups).
//!
//! Set-based: a change resolves all its ids with one or two statements (a `LATERAL` probe per id) and writes each side with one
//! statement over arrays (`unnest($2::smallint[], $3::bigint[])`), so a PATCH adding thousands of members is a
//! handful of round trips. Members being added are locked `FOR KEY SHARE`: a concurrent delete of one of them
//! (which locks its row `FOR UPDATE`) waits until this transaction commits, then removes the new rows with the
//! member; a delete that came first makes the lookup miss it (`UnknownMember`). Removals take no lock.

use std::collections::{BTreeSet, HashMap};

use deadpool_postgres::GenericClient;
use roster_provider::port::{GroupRef, MemberRef, MembershipChange, ResourceKind};
use roster_provider::tenant::EnterpriseId;

use super::rows::utf8;
use crate::postgres::Failure;
use crate::provider_rows::{self, GROUP_MEMBER, Keyed, Loaded, Member, USER_MEMBER, checked_member};

/// Adds the members (`$2` kinds, `$3` keys) to group `$1`; present ones stay as they are.
const ADD: &str = "INSERT INTO scim_memberships (group_pk, member_kind, member_pk) \
    SELECT $1::bigint, t.kind, t.pk FROM unnest($2::smallint[], $3::bigint[]) AS t(kind, pk) ON CONFLICT DO NOTHING";

/// Removes the members (`$2` kinds, `$3` keys) from group `$1`.
const REMOVE: &str = "DELETE FROM scim_memberships m USING unnest($2::smallint[], $3::bigint[]) AS t(kind, pk) \
    WHERE m.group_pk = $1 AND m.member_kind = t.kind AND m.member_pk = t.pk";

/// Removes every member of group `$1` but these (`$2` kinds, `$3` keys).
const KEEP_ONLY: &str = "DELETE FROM scim_memberships m WHERE m.group_pk = $1 AND NOT EXISTS (\
    SELECT FROM unnest($2::smallint[], $3::bigint[]) AS t(kind, pk) WHERE t.kind = m.member_kind AND t.pk = m.member_pk)";

/// Applies a membership change to group `group_pk`, touching only the rows it names (a `Replace` names all of
/// them). A delta removes first, then adds (an id in both ends up a member), as on SQLite.
pub(super) async fn change(
    client: &impl GenericClient,
    enterprise: EnterpriseId,
    group_pk: i64,
    change: MembershipChange,
) -> Result<(), Failure> {
    match change {
        MembershipChange::Unchanged => {}
        MembershipChange::Delta { add, remove } => {
            if !remove.is_empty() {
                // Removing an absent member, or an id that names nothing, is no error.
                let found = find(client, enterprise, &remove, false).await?;
                let members: BTreeSet<Member> =
                    remove.iter().filter_map(|id| found.get(id.as_str()).copied()).collect();
                write(client, REMOVE, group_pk, &members).await?;
            }
            if !add.is_empty() {
                let members = resolve(client, enterprise, group_pk, &add).await?;
                write(client, ADD, group_pk, &members).await?;
            }
        }
        MembershipChange::Replace(ids) => {
            let wanted = resolve(client, enterprise, group_pk, &ids).await?;
            write(client, KEEP_ONLY, group_pk, &wanted).await?;
            if !wanted.is_empty() {
                write(client, ADD, group_pk, &wanted).await?;
            }
        }
    }
    Ok(())
}

/// The members to add to group `group_pk`, locked `FOR KEY SHARE`: the first id (in order) that names nothing is
/// `UnknownMember`, the group itself a refusal.
async fn resolve(
    client: &impl GenericClient,
    enterprise: EnterpriseId,
    group_pk: i64,
    ids: &[String],
) -> Result<BTreeSet<Member>, Failure> {
    let found = find(client, enterprise, ids, true).await?;
    ids.iter().map(|id| Ok(checked_member(found.get(id.as_str()).copied(), group_pk, id)?)).collect()
}

/// The users and groups of the enterprise with these ids, by id; a user wins should a group share its id. Locked
/// `FOR KEY SHARE` when `lock`.
async fn find<'i>(
    client: &impl GenericClient,
    enterprise: EnterpriseId,
    ids: &'i [String],
    lock: bool,
) -> Result<HashMap<&'i str, Member>, Failure> {
    // No id holds U+0000 (a `text` column cannot), and PostgreSQL refuses it as a parameter.
    let mut missing: Vec<&str> = ids.iter().map(String::as_str).filter(|id| !id.contains('\0')).collect();
    missing.sort_unstable();
    missing.dedup();
    let mut found = HashMap::with_capacity(missing.len());
    let lock = if lock { " FOR KEY SHARE" } else { "" };
    for (table, kind) in [("scim_users", USER_MEMBER), ("scim_groups", GROUP_MEMBER)] {
        if missing.is_empty() {
            break;
        }
        // One probe of the unique index per id, unprepared (see "Lookups by a set of keys" in `crate::postgres`).
        let sql = format!(
            "SELECT r.id, r.pk FROM unnest($2::text[]) AS k (id) CROSS JOIN LATERAL (\
                 SELECT id, pk FROM {table} WHERE enterprise_id = $1 AND id = k.id LIMIT 1{lock}) AS r"
        );
        for row in client.query(sql.as_str(), &[&enterprise.0, &missing]).await? {
            let (id, pk): (&str, i64) = (row.try_get(0)?, row.try_get(1)?);
            if let Ok(index) = missing.binary_search(&id) {
                found.insert(missing[index], Member { kind, pk });
            }
        }
        missing.retain(|id| !found.contains_key(id));
    }
    Ok(found)
}

/// Runs one of [`ADD`], [`REMOVE`], [`KEEP_ONLY`] for group `group_pk` with these members.
async fn write(
    client: &impl GenericClient,
    sql: &str,
    group_pk: i64,
    members: &BTreeSet<Member>,
) -> Result<(), Failure> {
    let kinds = members
        .iter()
        .map(|member| i16::try_from(member.kind).map_err(|_| Failure::corrupt(format!("member kind {}", member.kind))))
        .collect::<Result<Vec<i16>, _>>()?;
    let pks: Vec<i64> = members.iter().map(|member| member.pk).collect();
    let statement = client.prepare_cached(sql).await?;
    client.execute(&statement, &[&group_pk, &kinds, &pks]).await?;
    Ok(())
}

/// Loads the relations of several resources with one statement: a group's members (users first, then groups,
/// each in creation order) or a user's groups (in creation order).
pub(in crate::postgres) async fn load_relations(
    client: &impl GenericClient,
    kind: ResourceKind,
    resources: &mut [Keyed],
) -> Result<(), Failure> {
    let pks: Vec<i64> = resources.iter().map(|(pk, _)| *pk).collect();
    let loaded = match kind {
        ResourceKind::Group => Loaded::Members(members_of(client, &pks).await?),
        ResourceKind::User => Loaded::Groups(groups_of(client, &pks).await?),
    };
    provider_rows::attach(resources, loaded);
    Ok(())
}

/// The members of the groups, as `(group key, member)`, each group's in order.
async fn members_of(client: &impl GenericClient, group_pks: &[i64]) -> Result<Vec<(i64, MemberRef)>, Failure> {
    // Unprepared, as every lookup by a set of keys (see "Lookups by a set of keys" in `crate::postgres`).
    let rows = client
        .query(
            "SELECT m.group_pk, m.member_kind, \
                 CASE m.member_kind WHEN 0 THEN u.id ELSE g.id END, \
                 CASE m.member_kind WHEN 0 THEN u.display_name ELSE g.display_name END \
             FROM scim_memberships m \
             LEFT JOIN scim_users u ON m.member_kind = 0 AND u.pk = m.member_pk \
             LEFT JOIN scim_groups g ON m.member_kind = 1 AND g.pk = m.member_pk \
             WHERE m.group_pk = ANY($1) ORDER BY m.group_pk, m.member_kind, m.member_pk",
            &[&group_pks],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let group_pk: i64 = row.try_get(0)?;
        let member_kind: i16 = row.try_get(1)?;
        let id: Option<String> = row.try_get(2)?;
        let id = id.ok_or_else(|| Failure::corrupt(format!("a member of group {group_pk} does not exist")))?;
        let display: Option<&[u8]> = row.try_get(3)?;
        let display = display.map(|bytes| utf8(bytes, "a displayName")).transpose()?;
        out.push((group_pk, MemberRef { id, kind: provider_rows::member_kind(i64::from(member_kind)), display }));
    }
    Ok(out)
}

/// The groups of the users, as `(user key, group)`, each user's in creation order.
async fn groups_of(client: &impl GenericClient, user_pks: &[i64]) -> Result<Vec<(i64, GroupRef)>, Failure> {
    // One user (a GET, a PATCH): a prepared lookup by the index's prefix, which is safe prepared. Several (a page):
    // unprepared, as every lookup by a set of keys (see "Lookups by a set of keys" in `crate::postgres`).
    let rows = match user_pks {
        [user_pk] => {
            let statement = client
                .prepare_cached(
                    "SELECT m.member_pk, g.id, g.display_name FROM scim_memberships m \
                     JOIN scim_groups g ON g.pk = m.group_pk \
                     WHERE m.member_kind = 0 AND m.member_pk = $1 ORDER BY m.group_pk",
                )
                .await?;
            client.query(&statement, &[user_pk]).await?
        }
        _ => {
            client
                .query(
                    "SELECT m.member_pk, g.id, g.display_name FROM scim_memberships m \
                     JOIN scim_groups g ON g.pk = m.group_pk \
                     WHERE m.member_kind = 0 AND m.member_pk = ANY($1) ORDER BY m.member_pk, m.group_pk",
                    &[&user_pks],
                )
                .await?
        }
    };
    rows.iter()
        .map(|row| {
            let display: Option<&[u8]> = row.try_get(2)?;
            let display = display.map(|bytes| utf8(bytes, "a displayName")).transpose()?;
            Ok((row.try_get(0)?, GroupRef { id: row.try_get(1)?, display }))
        })
        .collect()
}

//! The import's groups: their rows, then their members (written after every group, so that members may name groups
//! later in the file).

use std::collections::{BTreeSet, HashMap};

use deadpool_postgres::GenericClient;
use roster_directory::ObjectId;
use roster_directory::audit::{self, Actor};
use roster_directory::port::{Changed, DirectoryError, ImportSummary};

use super::{CHUNK, Found, Prepared, PreparedGroup, existing};
use crate::postgres::Failure;
use crate::postgres::directory::Written;
use crate::postgres::directory::changes::{GROUP, USER, parse_group, parse_id};

/// Upserts the prepared groups and their members, pushing their changes and audit entries onto `written` and
/// counting them in `summary`.
pub(super) async fn import_groups(
    client: &impl GenericClient,
    prepared: &Prepared,
    at: i64,
    actor: &Actor,
    written: &mut Written,
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
    let in_state = |state: Found| -> Vec<&PreparedGroup> {
        groups.iter().zip(&found).filter(|(_, f)| **f == state).map(|(group, _)| group).collect()
    };
    write_groups(
        client,
        "INSERT INTO directory_groups (id, display_name, data, created, updated) \
         SELECT id, display_name, data, $4, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS n(id, display_name, data)",
        &in_state(Found::New),
        at,
    )
    .await?;
    write_groups(
        client,
        "UPDATE directory_groups g SET display_name = n.display_name, data = n.data, updated = $4 \
         FROM unnest($1::text[], $2::text[], $3::text[]) AS n(id, display_name, data) WHERE g.id = n.id",
        &in_state(Found::Changed),
        at,
    )
    .await?;
    for (group, state) in groups.iter().zip(&found) {
        if *state != Found::Unchanged {
            written.changes.push(Changed::Group(group.id.clone()));
        }
    }
    let members = set_members(client, prepared, &found, &mut written.changes).await?;
    for (group, state) in groups.iter().zip(found) {
        let members_before = stored_members(&members, group);
        let before = match state {
            Found::New => {
                summary.groups_created += 1;
                None
            }
            Found::Changed => {
                summary.groups_updated += 1;
                let before =
                    |data: &String| parse_group(group.id.as_str(), data, members_before.iter().cloned().collect());
                stored.get(group.id.as_str()).map(before).transpose()?
            }
            Found::Unchanged if *members_before != group.members => {
                summary.groups_updated += 1;
                Some(group.with_members(members_before))
            }
            Found::Unchanged => {
                summary.groups_unchanged += 1;
                continue;
            }
        };
        let after = group.with_members(&group.members);
        written.audit.extend(audit::group_written(actor, before.as_ref(), &after));
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
/// removed and added membership (per group in file order: removals, then additions, each by member id). Answers
/// the members stored before, by group id (none for a new group).
async fn set_members(
    client: &impl GenericClient,
    prepared: &Prepared,
    found: &[Found],
    log: &mut Vec<Changed>,
) -> Result<HashMap<String, BTreeSet<ObjectId>>, Failure> {
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
    for group in groups {
        let before = stored_members(&stored, group);
        for member in before.difference(&group.members) {
            removed.push((group.id.as_str(), member.as_str()));
            log.push(Changed::Membership { group: group.id.clone(), member: member.clone() });
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
        }
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
    Ok(stored)
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

//! Shadows (`engine_shadows`) and exported group memberships (`engine_members`).

use roster_directory::ObjectId;
use roster_engine::log::ObjectKind;
use roster_engine::state::{Shadow, ShadowRef, ShadowState};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{
    conflict, from_json_column, kind_name, origin_name, parse_id, parse_kind, parse_origin, parse_state, sql_limit,
    state_name, text, to_json,
};
use crate::sqlite::{Failure, unique_violation};

/// The shadows of a list of source ids (`?3`, a JSON array of strings): one primary-key lookup per id. The columns
/// are those [`read_shadow`] expects.
const BY_SOURCE_IDS: &str = "SELECT kind, source_id, target_id, exported, state, origin FROM engine_shadows \
    WHERE application = ?1 AND kind = ?2 AND source_id IN (SELECT value FROM json_each(?3))";

/// Keyset paging: the shadows after source id `?3`, at most `?4`.
const AFTER: &str = "SELECT kind, source_id, target_id, exported, state, origin FROM engine_shadows \
    WHERE application = ?1 AND kind = ?2 AND source_id > ?3 ORDER BY source_id LIMIT ?4";

/// A shadow encoded for the writer.
pub(super) struct NewShadow {
    shadow: Shadow,
    /// `shadow.exported` as a JSON object.
    exported: String,
}

impl NewShadow {
    pub(super) fn new(shadow: Shadow) -> Result<NewShadow, roster_engine::state::StateError> {
        let exported = to_json(&shadow.exported, "the exported values")?;
        Ok(NewShadow { shadow, exported })
    }
}

/// Creates or replaces a shadow. A target id that another shadow of the application and kind holds is a conflict.
pub(super) fn put(connection: &Connection, application: &str, new: &NewShadow) -> Result<(), Failure> {
    let shadow = &new.shadow;
    let kind = kind_name(shadow.kind);
    let written = connection
        .prepare_cached(
            "INSERT INTO engine_shadows (application, kind, source_id, target_id, exported, state, origin) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (application, kind, source_id) DO UPDATE SET target_id = excluded.target_id, \
             exported = excluded.exported, state = excluded.state, origin = excluded.origin",
        )?
        .execute(params![
            application,
            kind,
            shadow.source_id.as_str(),
            shadow.target_id,
            new.exported,
            state_name(shadow.state),
            origin_name(shadow.origin),
        ]);
    match written {
        Ok(_) => Ok(()),
        Err(error) if unique_violation(&error).is_some_and(|columns| columns.ends_with(".target_id")) => {
            let holder: Option<String> = connection
                .prepare_cached(
                    "SELECT source_id FROM engine_shadows WHERE application = ?1 AND kind = ?2 AND target_id = ?3",
                )?
                .query_row(params![application, kind, shadow.target_id], |row| row.get(0))
                .optional()?;
            Err(conflict(format!(
                "cannot shadow {kind} {source} as target id {target:?} in application {application:?}: that target \
                 object already belongs to the shadow of {kind} {holder}",
                source = shadow.source_id,
                target = shadow.target_id,
                holder = holder.as_deref().unwrap_or("(unknown)"),
            )))
        }
        Err(error) => Err(error.into()),
    }
}

/// Forgets a shadow with its exported memberships: a group's members, and the object's own memberships in groups
/// (the target dropped them with the object).
pub(super) fn delete(
    connection: &Connection,
    application: &str,
    kind: ObjectKind,
    source_id: &ObjectId,
) -> Result<(), Failure> {
    let id = source_id.as_str();
    connection
        .prepare_cached("DELETE FROM engine_shadows WHERE application = ?1 AND kind = ?2 AND source_id = ?3")?
        .execute(params![application, kind_name(kind), id])?;
    if kind == ObjectKind::Group {
        connection
            .prepare_cached("DELETE FROM engine_members WHERE application = ?1 AND group_id = ?2")?
            .execute(params![application, id])?;
    }
    connection
        .prepare_cached("DELETE FROM engine_members WHERE application = ?1 AND member_id = ?2")?
        .execute(params![application, id])?;
    Ok(())
}

/// Applies a membership delta: removals first, then additions (an id in both ends up exported). Removing a member
/// that is not exported, or adding one that is, changes nothing.
pub(super) fn change_members(
    connection: &Connection,
    application: &str,
    group: &ObjectId,
    added: &[ObjectId],
    removed: &[ObjectId],
) -> Result<(), Failure> {
    if !removed.is_empty() {
        let mut statement = connection
            .prepare_cached("DELETE FROM engine_members WHERE application = ?1 AND group_id = ?2 AND member_id = ?3")?;
        for member in removed {
            statement.execute(params![application, group.as_str(), member.as_str()])?;
        }
    }
    if !added.is_empty() {
        let mut statement = connection.prepare_cached(
            "INSERT INTO engine_members (application, group_id, member_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        )?;
        for member in added {
            statement.execute(params![application, group.as_str(), member.as_str()])?;
        }
    }
    Ok(())
}

/// Forgets every shadow and exported membership of an application.
pub(super) fn forget_all(connection: &Connection, application: &str) -> Result<(), Failure> {
    connection.prepare_cached("DELETE FROM engine_members WHERE application = ?1")?.execute([application])?;
    connection.prepare_cached("DELETE FROM engine_shadows WHERE application = ?1")?.execute([application])?;
    Ok(())
}

/// The shadows of the source ids in `ids_json` (a JSON array of strings): one statement, one primary-key lookup
/// per id.
pub(super) fn by_source_ids(
    connection: &Connection,
    application: &str,
    kind: ObjectKind,
    ids_json: &str,
) -> Result<Vec<Shadow>, Failure> {
    let mut statement = connection.prepare_cached(BY_SOURCE_IDS)?;
    let mut rows = statement.query(params![application, kind_name(kind), ids_json])?;
    let mut shadows = Vec::new();
    while let Some(row) = rows.next()? {
        shadows.push(read_shadow(row)?);
    }
    Ok(shadows)
}

/// The identities and states of the shadows of the source ids (a JSON array), without parsing exported values.
pub(super) fn refs_by_source_ids(
    connection: &Connection,
    application: &str,
    kind: ObjectKind,
    ids_json: &str,
) -> Result<Vec<ShadowRef>, Failure> {
    let mut statement = connection.prepare_cached(BY_SOURCE_IDS)?;
    let mut rows = statement.query(params![application, kind_name(kind), ids_json])?;
    let mut refs = Vec::new();
    while let Some(row) = rows.next()? {
        refs.push(ShadowRef {
            source_id: parse_id(text(row, 1)?)?,
            target_id: row.get(2)?,
            state: parse_state(text(row, 4)?)?,
        });
    }
    Ok(refs)
}

/// The shadow that manages a target object, if any.
pub(super) fn by_target(
    connection: &Connection,
    application: &str,
    kind: ObjectKind,
    target_id: &str,
) -> Result<Option<ShadowRef>, Failure> {
    let mut statement = connection.prepare_cached(
        "SELECT source_id, target_id, state FROM engine_shadows \
         WHERE application = ?1 AND kind = ?2 AND target_id = ?3",
    )?;
    let mut rows = statement.query(params![application, kind_name(kind), target_id])?;
    let Some(row) = rows.next()? else { return Ok(None) };
    Ok(Some(ShadowRef {
        source_id: parse_id(text(row, 0)?)?,
        target_id: row.get(1)?,
        state: parse_state(text(row, 2)?)?,
    }))
}

/// Up to `limit` shadows with source ids greater than `after`, in source id order.
pub(super) fn after(
    connection: &Connection,
    application: &str,
    kind: ObjectKind,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<Shadow>, Failure> {
    let mut statement = connection.prepare_cached(AFTER)?;
    // Every source id is greater than the empty string.
    let mut rows = statement.query(params![application, kind_name(kind), after.unwrap_or(""), sql_limit(limit)])?;
    let mut shadows = Vec::new();
    while let Some(row) = rows.next()? {
        shadows.push(read_shadow(row)?);
    }
    Ok(shadows)
}

/// The number of shadows of each kind and state, every pair listed (users first, active first), zeros included.
pub(super) fn counts(
    connection: &Connection,
    application: &str,
) -> Result<Vec<(ObjectKind, ShadowState, u64)>, Failure> {
    let mut counts: Vec<(ObjectKind, ShadowState, u64)> = [ObjectKind::User, ObjectKind::Group]
        .into_iter()
        .flat_map(|kind| [(kind, ShadowState::Active, 0), (kind, ShadowState::Disabled, 0)])
        .collect();
    let mut statement = connection.prepare_cached(
        "SELECT kind, state, count(*) FROM engine_shadows WHERE application = ?1 GROUP BY kind, state",
    )?;
    let mut rows = statement.query([application])?;
    while let Some(row) = rows.next()? {
        let (kind, state) = (parse_kind(text(row, 0)?)?, parse_state(text(row, 1)?)?);
        let count = u64::try_from(row.get::<_, i64>(2)?).map_err(Failure::corrupt)?;
        if let Some(slot) = counts.iter_mut().find(|(k, s, _)| (*k, *s) == (kind, state)) {
            slot.2 = count;
        }
    }
    Ok(counts)
}

/// The exported members of a group, in id order.
pub(super) fn members(connection: &Connection, application: &str, group: &ObjectId) -> Result<Vec<ObjectId>, Failure> {
    let mut statement = connection.prepare_cached(
        "SELECT member_id FROM engine_members WHERE application = ?1 AND group_id = ?2 ORDER BY member_id",
    )?;
    let mut rows = statement.query(params![application, group.as_str()])?;
    let mut members = Vec::new();
    while let Some(row) = rows.next()? {
        members.push(parse_id(text(row, 0)?)?);
    }
    Ok(members)
}

/// Reads a row of the columns of [`BY_SOURCE_IDS`] and [`AFTER`].
fn read_shadow(row: &Row<'_>) -> Result<Shadow, Failure> {
    Ok(Shadow {
        kind: parse_kind(text(row, 0)?)?,
        source_id: parse_id(text(row, 1)?)?,
        target_id: row.get(2)?,
        exported: from_json_column(row, 3, "the exported values of a shadow")?,
        state: parse_state(text(row, 4)?)?,
        origin: parse_origin(text(row, 5)?)?,
    })
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value;

    use super::*;
    use crate::sqlite::engine::tests::{query_plan, store};

    /// Reads by source ids and pages are searches of the primary key, in its order.
    #[tokio::test]
    async fn reads_search_the_primary_key() {
        let (store, _dir) = store();
        let text = |value: &str| Value::Text(value.into());
        let plan = query_plan(&store, BY_SOURCE_IDS, vec![text("app"), text("User"), text("[\"a\",\"b\"]")]).await;
        assert!(
            plan.contains("SEARCH engine_shadows USING PRIMARY KEY (application=? AND kind=? AND source_id=?)"),
            "{plan}"
        );
        let plan = query_plan(&store, AFTER, vec![text("app"), text("User"), text(""), Value::Integer(10)]).await;
        assert!(
            plan.contains("SEARCH engine_shadows USING PRIMARY KEY (application=? AND kind=? AND source_id>?)"),
            "{plan}"
        );
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}

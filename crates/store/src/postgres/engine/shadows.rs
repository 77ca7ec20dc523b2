//! Shadows (`engine_shadows`) and exported group memberships (`engine_members`).

use deadpool_postgres::GenericClient;
use roster_directory::ObjectId;
use roster_engine::log::ObjectKind;
use roster_engine::state::{Shadow, ShadowRef, ShadowState};
use tokio_postgres::Row;
use tokio_postgres::types::Json;

use super::{json_column, kind_name, origin_name, parse_id, parse_kind, parse_origin, parse_state, state_name, text};
use crate::postgres::{Failure, sql_limit, unique_violation};

/// The shadows of a list of source ids (`$3`, a text array): one primary-key lookup per id, which the `LATERAL`
/// subquery with its `LIMIT` imposes (see "Lookups by a set of keys" in `crate::postgres`). The columns are those [`read_shadow`]
/// expects.
const BY_SOURCE_IDS: &str = "SELECT s.kind, s.source_id, s.target_id, s.exported, s.state, s.origin \
    FROM unnest($3::text[]) AS k (id) CROSS JOIN LATERAL (\
        SELECT * FROM engine_shadows WHERE application = $1 AND kind = $2 AND source_id = k.id LIMIT 1) AS s";

/// The references of a list of source ids, as [`BY_SOURCE_IDS`] reads their shadows.
const REFS_BY_SOURCE_IDS: &str = "SELECT s.source_id, s.target_id, s.state \
    FROM unnest($3::text[]) AS k (id) CROSS JOIN LATERAL (\
        SELECT source_id, target_id, state FROM engine_shadows \
        WHERE application = $1 AND kind = $2 AND source_id = k.id LIMIT 1) AS s";

/// Keyset paging: the shadows after source id `$3`, at most `$4`.
const AFTER: &str = "SELECT kind, source_id, target_id, exported, state, origin FROM engine_shadows \
    WHERE application = $1 AND kind = $2 AND source_id > $3 ORDER BY source_id LIMIT $4";

/// Creates or replaces a shadow, in one statement that writes only when no other shadow of the application and
/// kind holds the target id, and answers with that holder when one does (so the batch's transaction is not
/// aborted by a constraint violation before the holder can be named). The same snapshot answers both parts.
const PUT: &str = "WITH holder AS (\
        SELECT source_id FROM engine_shadows \
        WHERE application = $1 AND kind = $2 AND target_id = $4 AND source_id <> $3), \
    written AS (\
        INSERT INTO engine_shadows (application, kind, source_id, target_id, exported, state, origin) \
        SELECT $1::text, $2::text, $3::text, $4::text, $5::jsonb, $6::text, $7::text \
        WHERE NOT EXISTS (SELECT FROM holder) \
        ON CONFLICT (application, kind, source_id) DO UPDATE SET target_id = excluded.target_id, \
        exported = excluded.exported, state = excluded.state, origin = excluded.origin) \
    SELECT source_id FROM holder";

/// Creates or replaces a shadow. A target id that another shadow of the application and kind holds is a conflict
/// naming the holder; a writer in another transaction that claims it at the same time is stopped by the unique
/// constraint `engine_shadows_target`, and is a conflict too.
pub(super) async fn put(client: &impl GenericClient, application: &str, shadow: &Shadow) -> Result<(), Failure> {
    let kind = kind_name(shadow.kind);
    let statement = client.prepare_cached(PUT).await?;
    let written = client
        .query_opt(
            &statement,
            &[
                &application,
                &kind,
                &shadow.source_id.as_str(),
                &shadow.target_id,
                &Json(&shadow.exported),
                &state_name(shadow.state),
                &origin_name(shadow.origin),
            ],
        )
        .await;
    let holder = match written {
        Ok(None) => return Ok(()),
        Ok(Some(row)) => text(&row, 0)?.to_owned(),
        Err(error) if unique_violation(&error) == Some("engine_shadows_target") => {
            "(another shadow, written at the same time)".to_owned()
        }
        Err(error) => return Err(error.into()),
    };
    Err(Failure::Conflict(format!(
        "cannot shadow {kind} {source} as target id {target:?} in application {application:?}: that target object \
         already belongs to the shadow of {kind} {holder}",
        source = shadow.source_id,
        target = shadow.target_id,
    )))
}

/// Forgets a shadow with its exported memberships: a group's members, and the object's own memberships in groups
/// (the target dropped them with the object).
pub(super) async fn delete(
    client: &impl GenericClient,
    application: &str,
    kind: ObjectKind,
    source_id: &ObjectId,
) -> Result<(), Failure> {
    let id = source_id.as_str();
    let statement = client
        .prepare_cached("DELETE FROM engine_shadows WHERE application = $1 AND kind = $2 AND source_id = $3")
        .await?;
    client.execute(&statement, &[&application, &kind_name(kind), &id]).await?;
    if kind == ObjectKind::Group {
        let statement =
            client.prepare_cached("DELETE FROM engine_members WHERE application = $1 AND group_id = $2").await?;
        client.execute(&statement, &[&application, &id]).await?;
    }
    let statement =
        client.prepare_cached("DELETE FROM engine_members WHERE application = $1 AND member_id = $2").await?;
    client.execute(&statement, &[&application, &id]).await?;
    Ok(())
}

/// Applies a membership delta, each side in one statement over an array: removals first, then additions (an id in
/// both ends up exported). Removing a member that is not exported, or adding one that is, changes nothing.
pub(super) async fn change_members(
    client: &impl GenericClient,
    application: &str,
    group: &ObjectId,
    added: &[ObjectId],
    removed: &[ObjectId],
) -> Result<(), Failure> {
    let group = group.as_str();
    if !removed.is_empty() {
        // Unprepared: see "Lookups by a set of keys" in `crate::postgres`.
        client
            .execute(
                "DELETE FROM engine_members WHERE application = $1 AND group_id = $2 AND member_id = ANY($3)",
                &[&application, &group, &id_texts(removed)],
            )
            .await?;
    }
    if !added.is_empty() {
        let statement = client
            .prepare_cached(
                "INSERT INTO engine_members (application, group_id, member_id) \
                 SELECT $1::text, $2::text, unnest($3::text[]) ON CONFLICT DO NOTHING",
            )
            .await?;
        client.execute(&statement, &[&application, &group, &id_texts(added)]).await?;
    }
    Ok(())
}

/// Forgets every shadow and exported membership of an application.
pub(super) async fn forget_all(client: &impl GenericClient, application: &str) -> Result<(), Failure> {
    let statement = client.prepare_cached("DELETE FROM engine_members WHERE application = $1").await?;
    client.execute(&statement, &[&application]).await?;
    let statement = client.prepare_cached("DELETE FROM engine_shadows WHERE application = $1").await?;
    client.execute(&statement, &[&application]).await?;
    Ok(())
}

/// The shadows of these source ids: one statement, one primary-key lookup per id.
pub(super) async fn by_source_ids(
    client: &impl GenericClient,
    application: &str,
    kind: ObjectKind,
    source_ids: &[ObjectId],
) -> Result<Vec<Shadow>, Failure> {
    // Unprepared: see "Lookups by a set of keys" in `crate::postgres`.
    let rows = client.query(BY_SOURCE_IDS, &[&application, &kind_name(kind), &id_texts(source_ids)]).await?;
    rows.iter().map(read_shadow).collect()
}

/// The identities and states of the shadows of these source ids, without decoding exported values.
pub(super) async fn refs_by_source_ids(
    client: &impl GenericClient,
    application: &str,
    kind: ObjectKind,
    source_ids: &[ObjectId],
) -> Result<Vec<ShadowRef>, Failure> {
    // Unprepared: see "Lookups by a set of keys" in `crate::postgres`.
    let rows = client.query(REFS_BY_SOURCE_IDS, &[&application, &kind_name(kind), &id_texts(source_ids)]).await?;
    rows.iter().map(read_ref).collect()
}

/// The shadow that manages a target object, if any.
pub(super) async fn by_target(
    client: &impl GenericClient,
    application: &str,
    kind: ObjectKind,
    target_id: &str,
) -> Result<Option<ShadowRef>, Failure> {
    let statement = client
        .prepare_cached(
            "SELECT source_id, target_id, state FROM engine_shadows \
             WHERE application = $1 AND kind = $2 AND target_id = $3",
        )
        .await?;
    let row = client.query_opt(&statement, &[&application, &kind_name(kind), &target_id]).await?;
    row.as_ref().map(read_ref).transpose()
}

/// Up to `limit` shadows with source ids greater than `after`, in source id order (byte order: the columns are
/// `COLLATE "C"`).
pub(super) async fn after(
    client: &impl GenericClient,
    application: &str,
    kind: ObjectKind,
    after: Option<&ObjectId>,
    limit: usize,
) -> Result<Vec<Shadow>, Failure> {
    let statement = client.prepare_cached(AFTER).await?;
    // Every source id is greater than the empty string.
    let after = after.map_or("", ObjectId::as_str);
    let rows = client.query(&statement, &[&application, &kind_name(kind), &after, &sql_limit(limit)]).await?;
    rows.iter().map(read_shadow).collect()
}

/// The number of shadows of each kind and state, every pair listed (users first, active first), zeros included.
pub(super) async fn counts(
    client: &impl GenericClient,
    application: &str,
) -> Result<Vec<(ObjectKind, ShadowState, u64)>, Failure> {
    let mut counts: Vec<(ObjectKind, ShadowState, u64)> = [ObjectKind::User, ObjectKind::Group]
        .into_iter()
        .flat_map(|kind| [(kind, ShadowState::Active, 0), (kind, ShadowState::Disabled, 0)])
        .collect();
    let statement = client
        .prepare_cached("SELECT kind, state, count(*) FROM engine_shadows WHERE application = $1 GROUP BY kind, state")
        .await?;
    for row in client.query(&statement, &[&application]).await? {
        let (kind, state) = (parse_kind(text(&row, 0)?)?, parse_state(text(&row, 1)?)?);
        let count: i64 = row.try_get(2)?;
        let count = u64::try_from(count).map_err(Failure::corrupt)?;
        if let Some(slot) = counts.iter_mut().find(|(k, s, _)| (*k, *s) == (kind, state)) {
            slot.2 = count;
        }
    }
    Ok(counts)
}

/// The exported members of a group, in id order.
pub(super) async fn members(
    client: &impl GenericClient,
    application: &str,
    group: &ObjectId,
) -> Result<Vec<ObjectId>, Failure> {
    let statement = client
        .prepare_cached(
            "SELECT member_id FROM engine_members WHERE application = $1 AND group_id = $2 ORDER BY member_id",
        )
        .await?;
    let rows = client.query(&statement, &[&application, &group.as_str()]).await?;
    rows.iter().map(|row| Ok(parse_id(text(row, 0)?)?)).collect()
}

/// The ids as the text array a statement binds.
fn id_texts(ids: &[ObjectId]) -> Vec<&str> {
    ids.iter().map(ObjectId::as_str).collect()
}

/// Reads a row of the columns of [`BY_SOURCE_IDS`] and [`AFTER`].
fn read_shadow(row: &Row) -> Result<Shadow, Failure> {
    let Json(exported): Json<_> = json_column(row, 3, "the exported values of a shadow")?;
    Ok(Shadow {
        kind: parse_kind(text(row, 0)?)?,
        source_id: parse_id(text(row, 1)?)?,
        target_id: text(row, 2)?.to_owned(),
        exported,
        state: parse_state(text(row, 4)?)?,
        origin: parse_origin(text(row, 5)?)?,
    })
}

/// Reads a row of `source_id, target_id, state`.
fn read_ref(row: &Row) -> Result<ShadowRef, Failure> {
    Ok(ShadowRef {
        source_id: parse_id(text(row, 0)?)?,
        target_id: text(row, 1)?.to_owned(),
        state: parse_state(text(row, 2)?)?,
    })
}

//! The change log and its lock; the conversions every part of the directory's store shares (kinds by name, ids,
//! users and groups to and from their stored JSON) are re-exported here from the backend-neutral modules.

pub(super) use crate::corrupt::parse_id;
use crate::directory_rows::change_from_row;
pub(super) use crate::directory_rows::{GROUP, USER, kind_name, user_json};
pub(super) use crate::directory_rows::{parse_group, parse_kind, parse_user};
use deadpool_postgres::GenericClient;
use roster_directory::port::{Change, Changed, Seq};

use crate::postgres::{Failure, sql_limit};

/// The key of the change log's advisory lock ("director" in ASCII; the migrations' key is "roster").
const CHANGE_LOG_LOCK: i64 = 0x6469_7265_6374_6f72;

/// How many entries one statement of [`append`] inserts.
const CHUNK: usize = 5_000;

/// Takes the change log's transaction-scoped advisory lock: the first statement of every directory write, held
/// until its commit or rollback. Directory writers wait for each other here, so that the log's sequence numbers
/// are taken and committed in order (see `0002_directory.sql`). Each later statement of the writer (in read
/// committed) sees what the writer before it committed.
pub(super) async fn lock(client: &impl GenericClient) -> Result<(), Failure> {
    let statement = client.prepare_cached("SELECT pg_advisory_xact_lock($1)").await?;
    client.execute(&statement, &[&CHANGE_LOG_LOCK]).await?;
    Ok(())
}

/// Appends the entries, in order: each gets the next sequence number. One statement per [`CHUNK`] entries, which
/// numbers its rows in the order of the arrays (`WITH ORDINALITY ... ORDER BY`).
pub(super) async fn append(client: &impl GenericClient, changes: &[Changed]) -> Result<(), Failure> {
    if changes.is_empty() {
        return Ok(());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO directory_changes (kind, object, related) \
             SELECT kind, object, related FROM unnest($1::text[], $2::text[], $3::text[]) \
             WITH ORDINALITY AS entry(kind, object, related, n) ORDER BY n",
        )
        .await?;
    for chunk in changes.chunks(CHUNK) {
        let mut kinds = Vec::with_capacity(chunk.len());
        let mut objects = Vec::with_capacity(chunk.len());
        let mut related = Vec::with_capacity(chunk.len());
        for change in chunk {
            let (kind, object, other) = columns(change);
            kinds.push(kind);
            objects.push(object);
            related.push(other);
        }
        client.execute(&statement, &[&kinds, &objects, &related]).await?;
    }
    Ok(())
}

/// The `kind`, `object` and `related` columns of an entry.
fn columns(change: &Changed) -> (&'static str, &str, Option<&str>) {
    match change {
        Changed::User(id) => (USER, id.as_str(), None),
        Changed::Group(id) => (GROUP, id.as_str(), None),
        Changed::Membership { group, member } => ("membership", group.as_str(), Some(member.as_str())),
        Changed::Assignment { application, principal } => {
            ("assignment", application.as_str(), Some(principal.as_str()))
        }
        Changed::Application(name) => ("application", name.as_str(), None),
    }
}

/// The sequence number of the latest change, or `Seq(0)`.
pub(super) async fn head(client: &impl GenericClient) -> Result<Seq, Failure> {
    let statement = client.prepare_cached("SELECT coalesce(max(seq), 0) FROM directory_changes").await?;
    Ok(Seq(client.query_one(&statement, &[]).await?.try_get(0)?))
}

/// Up to `limit` changes after `after`, in order.
pub(super) async fn after(client: &impl GenericClient, after: Seq, limit: usize) -> Result<Vec<Change>, Failure> {
    let statement = client
        .prepare_cached("SELECT seq, kind, object, related FROM directory_changes WHERE seq > $1 ORDER BY seq LIMIT $2")
        .await?;
    let rows = client.query(&statement, &[&after.0, &sql_limit(limit)]).await?;
    let mut changes = Vec::with_capacity(rows.len());
    for row in rows {
        let seq: i64 = row.try_get(0)?;
        let kind: &str = row.try_get(1)?;
        let object: String = row.try_get(2)?;
        let related: Option<String> = row.try_get(3)?;
        let object = change_from_row(seq, kind, object, related)?;
        changes.push(Change { seq: Seq(seq), object });
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use roster_directory::port::PrincipalKind;

    use super::*;

    #[test]
    fn kinds_round_trip_and_the_lock_keys_differ() {
        for kind in [PrincipalKind::User, PrincipalKind::Group] {
            assert_eq!(parse_kind(kind_name(kind)).ok(), Some(kind));
        }
        assert_ne!(CHANGE_LOG_LOCK, 0x726f_7374_6572, "not the migrations' key");
    }
}

//! The change log, and the conversions every part of the directory's store shares: kinds by name, ids, and users
//! and groups to and from their stored JSON.

pub(super) use crate::corrupt::parse_id;
use crate::directory_rows::change_from_row;
pub(super) use crate::directory_rows::{GROUP, USER, kind_name, user_json};
pub(super) use crate::directory_rows::{parse_group, parse_kind, parse_user};
use roster_directory::port::{Change, Changed, Seq};
use rusqlite::{Connection, params};

use super::sql_limit;
use crate::sqlite::Failure;

/// How many entries one statement of an [`Appender`] inserts.
const CHUNK: usize = 128;

/// Appends one entry to the change log. It gets the next sequence number (in the order of the appends).
pub(super) fn append(connection: &Connection, change: &Changed) -> Result<(), Failure> {
    let (kind, object, related) = columns(change);
    connection
        .prepare_cached("INSERT INTO directory_changes (kind, object, related) VALUES (?1, ?2, ?3)")?
        .execute(params![kind, object, related])?;
    Ok(())
}

/// Appends many entries, in order, [`CHUNK`] to a statement. Each statement on the log's AUTOINCREMENT table also
/// reads and writes `sqlite_sequence`; for one-row statements that cost as much as the row itself, and an import
/// of 100,000 users and 100,000 memberships appends 200,000 entries.
pub(super) struct Appender<'c> {
    connection: &'c Connection,
    pending: Vec<Changed>,
}

impl<'c> Appender<'c> {
    pub(super) fn new(connection: &'c Connection) -> Self {
        Self { connection, pending: Vec::with_capacity(CHUNK) }
    }

    /// Queues an entry; a full chunk is written at once.
    pub(super) fn push(&mut self, change: Changed) -> Result<(), Failure> {
        self.pending.push(change);
        if self.pending.len() == CHUNK { self.write_pending() } else { Ok(()) }
    }

    /// Writes what is queued. Entries still queued when an appender is dropped are lost: call this last.
    pub(super) fn finish(mut self) -> Result<(), Failure> {
        self.write_pending()
    }

    fn write_pending(&mut self) -> Result<(), Failure> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut sql = String::from("INSERT INTO directory_changes (kind, object, related) VALUES (?, ?, ?)");
        for _ in 1..self.pending.len() {
            sql.push_str(", (?, ?, ?)");
        }
        // At most two statements: the full chunk's and the last, shorter one's.
        let mut statement = self.connection.prepare_cached(&sql)?;
        for (index, change) in self.pending.iter().enumerate() {
            let (kind, object, related) = columns(change);
            statement.raw_bind_parameter(index * 3 + 1, kind)?;
            statement.raw_bind_parameter(index * 3 + 2, object)?;
            statement.raw_bind_parameter(index * 3 + 3, related)?;
        }
        statement.raw_execute()?;
        self.pending.clear();
        Ok(())
    }
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
pub(super) fn head(connection: &mut Connection) -> Result<Seq, Failure> {
    let seq = connection
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM directory_changes")?
        .query_row([], |row| row.get(0))?;
    Ok(Seq(seq))
}

/// Up to `limit` changes after `after`, in order.
pub(super) fn after(connection: &mut Connection, after: Seq, limit: usize) -> Result<Vec<Change>, Failure> {
    let mut statement = connection.prepare_cached(
        "SELECT seq, kind, object, related FROM directory_changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let mut rows = statement.query(params![after.0, sql_limit(limit)])?;
    let mut changes = Vec::new();
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let kind = row.get_ref(1)?.as_str().map_err(|error| Failure::corrupt(format!("change {seq}: {error}")))?;
        let object: String = row.get(2)?;
        let related: Option<String> = row.get(3)?;
        let object = change_from_row(seq, kind, object, related)?;
        changes.push(Change { seq: Seq(seq), object });
    }
    Ok(changes)
}

//! The change log, and the conversions every part of the directory's store shares: kinds by name, ids, and users
//! and groups to and from their stored JSON.

use roster_directory::import::{Position, group_from_object, user_from_object};
use roster_directory::port::{Change, Changed, DirectoryError, PrincipalKind, Seq};
use roster_directory::{Group, ObjectId, User, export};
use rusqlite::{Connection, params};
use serde_json::{Map, Value};

use super::sql_limit;
use crate::sqlite::Failure;

/// A user, as `member_kind` and `kind` columns name it.
pub(super) const USER: &str = "user";
/// A group, as `member_kind` and `kind` columns name it.
pub(super) const GROUP: &str = "group";

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
        let object = match (kind, related) {
            ("user", None) => Changed::User(parse_id(&object)?),
            ("group", None) => Changed::Group(parse_id(&object)?),
            ("membership", Some(member)) => {
                Changed::Membership { group: parse_id(&object)?, member: parse_id(&member)? }
            }
            ("assignment", Some(principal)) => {
                Changed::Assignment { application: object, principal: parse_id(&principal)? }
            }
            ("application", None) => Changed::Application(object),
            (kind, _) => return Err(Failure::corrupt(format!("change {seq} has the unknown kind {kind:?}"))),
        };
        changes.push(Change { seq: Seq(seq), object });
    }
    Ok(changes)
}

/// An id read from the database.
pub(super) fn parse_id(text: &str) -> Result<ObjectId, Failure> {
    ObjectId::parse(text).map_err(Failure::corrupt)
}

/// A principal kind read from the database.
pub(super) fn parse_kind(text: &str) -> Result<PrincipalKind, Failure> {
    match text {
        USER => Ok(PrincipalKind::User),
        GROUP => Ok(PrincipalKind::Group),
        other => Err(Failure::corrupt(format!("unknown principal kind {other:?}"))),
    }
}

/// A principal kind as the database holds it.
pub(super) fn kind_name(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::User => USER,
        PrincipalKind::Group => GROUP,
    }
}

/// A user's stored JSON: its Graph object, always the same text for the same user.
pub(super) fn user_json(user: &User) -> Result<String, Failure> {
    let object = export::user_to_object(user)
        .map_err(|error| DirectoryError::Invalid(format!("user {}: {error}", user.id())))?;
    serde_json::to_string(&object).map_err(|error| Failure::Directory(DirectoryError::Backend(error.to_string())))
}

/// A group's stored JSON: its Graph object without `members`, which have a table of their own.
pub(super) fn group_json(group: &Group) -> Result<String, Failure> {
    let mut object = export::group_to_object(group);
    object.shift_remove("members");
    serde_json::to_string(&object).map_err(|error| Failure::Directory(DirectoryError::Backend(error.to_string())))
}

/// A user from its stored JSON.
pub(super) fn parse_user(id: &str, data: &str) -> Result<User, Failure> {
    let object = parse_object(id, data)?;
    user_from_object(&object, Position::User(0)).map_err(|error| Failure::corrupt(format!("user {id}: {error}")))
}

/// A group from its stored JSON, with these members.
pub(super) fn parse_group(id: &str, data: &str, members: Vec<ObjectId>) -> Result<Group, Failure> {
    let object = parse_object(id, data)?;
    let mut group = group_from_object(&object, Position::Group(0))
        .map_err(|error| Failure::corrupt(format!("group {id}: {error}")))?;
    group.members = members;
    Ok(group)
}

fn parse_object(id: &str, data: &str) -> Result<Map<String, Value>, Failure> {
    serde_json::from_str(data).map_err(|error| Failure::corrupt(format!("the JSON of {id}: {error}")))
}

//! The directory as both backends store it, independent of the database: the rows an import writes (every object's
//! stored JSON and indexed columns, made before the write), the stored JSON of users and groups, and principal
//! kinds by name. The SQLite and PostgreSQL directory modules read and write these; what differs between them is
//! only SQL.

use std::collections::BTreeSet;

use roster_directory::audit::TargetResource;
use roster_directory::import::{Position, group_from_object, user_from_object};
use roster_directory::port::{Changed, DirectoryError, Lifecycle, PrincipalKind};
use roster_directory::{Directory, Group, ObjectId, User, export};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::corrupt::Corrupt;

/// A user, as kinds are named in the change log and the assignments.
pub(crate) const USER: &str = "user";
/// A group, likewise.
pub(crate) const GROUP: &str = "group";

/// A directory made ready for the write: every object's stored JSON and columns.
pub(crate) struct Prepared {
    pub(crate) users: Vec<PreparedUser>,
    pub(crate) groups: Vec<PreparedGroup>,
}

/// A user's row, and the user itself (for its audit entry).
pub(crate) struct PreparedUser {
    pub(crate) id: ObjectId,
    pub(crate) upn: String,
    pub(crate) enabled: bool,
    /// `deletedDateTime` in Unix milliseconds.
    pub(crate) deleted: Option<i64>,
    pub(crate) json: String,
    pub(crate) user: User,
}

/// A group's row and its members.
pub(crate) struct PreparedGroup {
    pub(crate) id: ObjectId,
    pub(crate) display_name: String,
    pub(crate) json: String,
    /// The members without repeats, in id order.
    pub(crate) members: BTreeSet<ObjectId>,
    /// The group without its members (which are [`PreparedGroup::members`]).
    pub(crate) group: Group,
}

impl PreparedGroup {
    /// The group with these members (in id order), as an audit entry shows it.
    pub(crate) fn with_members(&self, members: &BTreeSet<ObjectId>) -> Group {
        let mut group = self.group.clone();
        group.members = members.iter().cloned().collect();
        group
    }
}

/// Turns a directory into what the write needs, consuming it.
pub(crate) fn prepare(directory: Directory) -> Result<Prepared, DirectoryError> {
    let users = directory
        .users
        .into_iter()
        .map(|user| {
            Ok(PreparedUser {
                id: user.id().clone(),
                upn: user.user_principal_name().as_str().to_owned(),
                enabled: user.account_enabled,
                deleted: user.deleted_date_time.map(millis).transpose()?,
                json: user_json(&user)?,
                user,
            })
        })
        .collect::<Result<Vec<_>, DirectoryError>>()?;
    let groups = directory
        .groups
        .into_iter()
        .map(|mut group| {
            let members = std::mem::take(&mut group.members).into_iter().collect();
            Ok(PreparedGroup {
                id: group.id().clone(),
                display_name: group.display_name().to_owned(),
                json: group_json(&group)?,
                members,
                group,
            })
        })
        .collect::<Result<Vec<_>, DirectoryError>>()?;
    Ok(Prepared { users, groups })
}

/// A time as both backends store it: Unix milliseconds (towards the past).
pub(crate) fn millis(at: time::OffsetDateTime) -> Result<i64, DirectoryError> {
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1_000_000))
        .map_err(|_| DirectoryError::Invalid(format!("timestamp {at} is out of range")))
}

/// A user's stored JSON: its Graph object, always the same text for the same user.
pub(crate) fn user_json(user: &User) -> Result<String, DirectoryError> {
    let object = export::user_to_object(user)
        .map_err(|error| DirectoryError::Invalid(format!("user {}: {error}", user.id())))?;
    serde_json::to_string(&object).map_err(|error| DirectoryError::Backend(error.to_string()))
}

/// A group's stored JSON: its Graph object without `members`, which have a table of their own.
pub(crate) fn group_json(group: &Group) -> Result<String, DirectoryError> {
    let mut object = export::group_to_object(group);
    object.shift_remove("members");
    serde_json::to_string(&object).map_err(|error| DirectoryError::Backend(error.to_string()))
}

/// A principal kind as the database holds it.
pub(crate) fn kind_name(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::User => USER,
        PrincipalKind::Group => GROUP,
    }
}

/// A user (`kind` is `user`) or group (`group`) as an audit entry's target, known by its id alone: for an object
/// the tables name but that cannot be read.
pub(crate) fn bare_target(kind: &str, id: &ObjectId) -> TargetResource {
    TargetResource::new(if kind == USER { "User" } else { "Group" }, id.as_str(), id.as_str())
}

/// A principal kind read from the database; `None` for a name it never writes.
pub(crate) fn kind_from_name(text: &str) -> Option<PrincipalKind> {
    match text {
        USER => Some(PrincipalKind::User),
        GROUP => Some(PrincipalKind::Group),
        _ => None,
    }
}

/// A principal kind read from the database.
pub(crate) fn parse_kind(text: &str) -> Result<PrincipalKind, Corrupt> {
    kind_from_name(text).ok_or_else(|| Corrupt(format!("unknown principal kind {text:?}")))
}

/// A change-log row (`seq`, `kind`, `object`, `related`) as the port answers it; an error names what is wrong.
pub(crate) fn change_from_row(
    seq: i64,
    kind: &str,
    object: String,
    related: Option<String>,
) -> Result<Changed, Corrupt> {
    let id = |text: &str| ObjectId::parse(text).map_err(|error| Corrupt(format!("change {seq}: {error}")));
    Ok(match (kind, related) {
        ("user", None) => Changed::User(id(&object)?),
        ("group", None) => Changed::Group(id(&object)?),
        ("membership", Some(member)) => Changed::Membership { group: id(&object)?, member: id(&member)? },
        ("assignment", Some(principal)) => Changed::Assignment { application: object, principal: id(&principal)? },
        ("application", None) => Changed::Application(object),
        (kind, _) => return Err(Corrupt(format!("change {seq} has the unknown kind {kind:?}"))),
    })
}

/// A user from its stored JSON; an error names what is wrong.
pub(crate) fn parse_user(id: &str, data: &str) -> Result<User, Corrupt> {
    if let Some(user) = roster_directory::user_text::user_from_text(data) {
        return Ok(user);
    }
    let object = parse_object(id, data)?;
    user_from_object(&object, Position::User(0)).map_err(|error| Corrupt(format!("user {id}: {error}")))
}

/// A group from its stored JSON, with these members; an error names what is wrong.
pub(crate) fn parse_group(id: &str, data: &str, members: Vec<ObjectId>) -> Result<Group, Corrupt> {
    let object = parse_object(id, data)?;
    let mut group =
        group_from_object(&object, Position::Group(0)).map_err(|error| Corrupt(format!("group {id}: {error}")))?;
    group.members = members;
    Ok(group)
}

fn parse_object(id: &str, data: &str) -> Result<Map<String, Value>, Corrupt> {
    serde_json::from_str(data).map_err(|error| Corrupt(format!("the JSON of {id}: {error}")))
}

/// The user a lifecycle change other than a hard delete makes of `current`, or `None` when it changes nothing. A
/// soft-deleted user can be restored or soft-deleted again (which keeps the first deletion's time), but not
/// disabled or enabled: like Entra's recycle bin, a deleted user's attributes are frozen until it is restored.
/// Times are kept to the millisecond, as both backends store them.
pub(crate) fn lifecycle_next(
    current: &User,
    change: Lifecycle,
    at: OffsetDateTime,
) -> Result<Option<User>, DirectoryError> {
    let id = current.id();
    let mut next = current.clone();
    match change {
        Lifecycle::HardDelete => return Ok(None),
        Lifecycle::Disable | Lifecycle::Enable if current.deleted_date_time.is_some() => {
            return Err(DirectoryError::Invalid(format!(
                "user {id} is deleted; restore it before you {} it",
                if change == Lifecycle::Enable { "enable" } else { "disable" }
            )));
        }
        Lifecycle::Disable => next.account_enabled = false,
        Lifecycle::Enable => next.account_enabled = true,
        Lifecycle::SoftDelete if current.deleted_date_time.is_some() => {}
        Lifecycle::SoftDelete => {
            let millisecond = at.nanosecond() / 1_000_000 * 1_000_000;
            let at = at
                .replace_nanosecond(millisecond)
                .map_err(|error| DirectoryError::Invalid(format!("timestamp {at}: {error}")))?;
            next.deleted_date_time = Some(at);
        }
        Lifecycle::Restore if current.deleted_date_time.is_none() => {
            return Err(DirectoryError::Invalid(format!(
                "user {id} is not deleted; only a soft-deleted user can be restored"
            )));
        }
        Lifecycle::Restore => next.deleted_date_time = None,
    }
    Ok((next != *current).then_some(next))
}

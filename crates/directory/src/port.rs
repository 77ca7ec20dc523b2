//! The storage port of the directory: what the `roster-store` crate implements (SQLite now, PostgreSQL later) and
//! what the command line and the provisioning engine use.
//!
//! Contract for implementations:
//! - every method is atomic: on error nothing is changed;
//! - every write appends to the change log: each changed object gets a [`Change`] with a sequence number greater
//!   than any before it (one sequence shared by all kinds of change), in the same transaction as the write. A
//!   write that changes nothing (an import of an identical user) appends nothing;
//! - reads return the latest committed state; [`DirectoryStore::head`] and the change log agree: no change with a
//!   sequence number at or below a returned head appears later.

use async_trait::async_trait;
use serde_json::Value;
use time::OffsetDateTime;

use crate::model::{Directory, Group, ObjectId, User};

/// A position in the change log. `Seq(0)` is before the first change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Seq(pub i64);

/// One entry of the change log: which object changed. The entry says nothing about how: readers load the object's
/// current state (or learn that it is gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its sequence number.
    pub seq: Seq,
    /// What changed.
    pub object: Changed,
}

/// What a change log entry points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Changed {
    /// A user was created, updated, disabled, enabled, soft-deleted, restored or hard-deleted.
    User(ObjectId),
    /// A group's own attributes changed, or it was created or hard-deleted.
    Group(ObjectId),
    /// `member` was added to or removed from `group`.
    Membership {
        /// The group.
        group: ObjectId,
        /// The user or group that joined or left.
        member: ObjectId,
    },
    /// An assignment of `principal` (a user or group) to `application` was added, changed or removed.
    Assignment {
        /// The application's name.
        application: String,
        /// The assigned user or group.
        principal: ObjectId,
    },
    /// An application's definition (mappings, scoping, settings) changed.
    Application(String),
}

/// A change of a user's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// `accountEnabled = false`.
    Disable,
    /// `accountEnabled = true`.
    Enable,
    /// Sets `deletedDateTime` (the recycle bin).
    SoftDelete,
    /// Clears `deletedDateTime`.
    Restore,
    /// Removes the user, its memberships and its assignments for good.
    HardDelete,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportSummary {
    /// Users that did not exist before.
    pub users_created: u64,
    /// Users that existed and changed.
    pub users_updated: u64,
    /// Users that existed and were identical.
    pub users_unchanged: u64,
    /// Groups that did not exist before.
    pub groups_created: u64,
    /// Groups that existed and changed (attributes or members).
    pub groups_updated: u64,
    /// Groups that existed and were identical.
    pub groups_unchanged: u64,
}

/// Whether a principal is a user or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// A user.
    User,
    /// A group.
    Group,
}

/// A user or group assigned to an application, with an app role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The assigned user or group.
    pub principal: ObjectId,
    /// Whether it is a user or a group.
    pub kind: PrincipalKind,
    /// The app role's `value`, or `None` for the default access role.
    pub role: Option<String>,
}

/// An application as stored: its definition is kept as the JSON the engine reads and writes (the store does not
/// interpret it), and its secret token only encrypted.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationRecord {
    /// The unique name.
    pub name: String,
    /// The definition (see `roster_engine::definition`).
    pub definition: Value,
    /// The secret token, sealed (encrypted and authenticated) by the caller; `None` when not set.
    pub sealed_secret: Option<Vec<u8>>,
    /// When it was created.
    pub created: OffsetDateTime,
    /// When it last changed.
    pub updated: OffsetDateTime,
}

/// A failed directory operation.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The named object does not exist.
    #[error("{kind} {id} does not exist")]
    NotFound {
        /// `user`, `group` or `application`.
        kind: &'static str,
        /// Its id or name.
        id: String,
    },
    /// The operation contradicts the stored state (for example a userPrincipalName that another user has, or a
    /// group id that is a user's id).
    #[error("{0}")]
    Conflict(String),
    /// The operation is not allowed in the object's state (for example restoring a user who is not deleted).
    #[error("{0}")]
    Invalid(String),
    /// The database failed.
    #[error("storage failed: {0}")]
    Backend(String),
}

/// The directory's storage.
#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Upserts every user and group of `directory` by id, in one transaction: a user or group is replaced whole by
    /// the imported one; a group's members become exactly the imported list (members may name users or groups in
    /// the store or in the same import; a member that exists in neither is a [`DirectoryError::NotFound`]).
    async fn import(&self, directory: Directory, at: OffsetDateTime) -> Result<ImportSummary, DirectoryError>;

    /// Changes a user's lifecycle state. Disabling a disabled user (and the like) changes nothing and succeeds;
    /// restoring a user who is not soft-deleted is [`DirectoryError::Invalid`].
    async fn set_lifecycle(&self, user: &ObjectId, change: Lifecycle, at: OffsetDateTime)
    -> Result<(), DirectoryError>;

    /// Removes a group for good, with its memberships (as group and as member) and its assignments.
    async fn delete_group(&self, group: &ObjectId) -> Result<(), DirectoryError>;

    /// Adds `member` (a user or group) to `group`; adding a present member changes nothing.
    async fn add_member(&self, group: &ObjectId, member: &ObjectId) -> Result<(), DirectoryError>;

    /// Removes `member` from `group`; removing an absent member changes nothing.
    async fn remove_member(&self, group: &ObjectId, member: &ObjectId) -> Result<(), DirectoryError>;

    /// A user, soft-deleted or not; `None` when it does not exist (never did, or was hard-deleted).
    async fn user(&self, id: &ObjectId) -> Result<Option<User>, DirectoryError>;

    /// A group with its members; `None` when it does not exist.
    async fn group(&self, id: &ObjectId) -> Result<Option<Group>, DirectoryError>;

    /// Up to `limit` users (soft-deleted included) with ids greater than `after`, in id order: keyset paging.
    async fn users_after(&self, after: Option<&ObjectId>, limit: usize) -> Result<Vec<User>, DirectoryError>;

    /// Up to `limit` groups with their members, with ids greater than `after`, in id order.
    async fn groups_after(&self, after: Option<&ObjectId>, limit: usize) -> Result<Vec<Group>, DirectoryError>;

    /// How many users (soft-deleted included) and groups there are.
    async fn counts(&self) -> Result<(u64, u64), DirectoryError>;

    /// The sequence number of the latest change, or `Seq(0)`.
    async fn head(&self) -> Result<Seq, DirectoryError>;

    /// Up to `limit` changes with sequence numbers greater than `after`, in order.
    async fn changes_after(&self, after: Seq, limit: usize) -> Result<Vec<Change>, DirectoryError>;

    /// Creates an application, or replaces its definition (and its sealed secret when `Some`). Appends
    /// [`Changed::Application`] when the definition changed.
    async fn put_application(
        &self,
        name: &str,
        definition: Value,
        sealed_secret: Option<Vec<u8>>,
        at: OffsetDateTime,
    ) -> Result<(), DirectoryError>;

    /// An application by name.
    async fn application(&self, name: &str) -> Result<Option<ApplicationRecord>, DirectoryError>;

    /// All applications, by name.
    async fn applications(&self) -> Result<Vec<ApplicationRecord>, DirectoryError>;

    /// Assigns a user or group (which must exist) to an application, replacing an earlier assignment of the same
    /// principal (one role per principal and application).
    async fn assign(&self, application: &str, assignment: Assignment) -> Result<(), DirectoryError>;

    /// Removes an assignment; removing an absent one changes nothing.
    async fn unassign(&self, application: &str, principal: &ObjectId) -> Result<(), DirectoryError>;

    /// An application's assignments, by principal id.
    async fn assignments(&self, application: &str) -> Result<Vec<Assignment>, DirectoryError>;
}

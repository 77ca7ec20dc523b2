//! The storage port of the directory: what the `roster-store` crate implements (SQLite now, PostgreSQL later) and
//! what the command line and the provisioning engine use.
//!
//! Contract for implementations:
//! - every method is atomic: on error nothing is changed;
//! - every write appends to the change log: each changed object gets a [`Change`] with a sequence number greater
//!   than any before it (one sequence shared by all kinds of change), in the same transaction as the write. A
//!   write that changes nothing (an import of an identical user) appends nothing;
//! - every write records who did it: it takes an [`Actor`] and writes one [`AuditEntry`] per object it changed
//!   (built by the functions of [`crate::audit`] from the object before and after), in the same transaction as
//!   the change; a write that changes nothing records nothing;
//! - reads return the latest committed state; [`DirectoryStore::head`] and the change log agree: no change with a
//!   sequence number at or below a returned head appears later.

use async_trait::async_trait;
use serde_json::Value;
use time::OffsetDateTime;

use crate::access::{AdminToken, PortalSession, Role};
use crate::audit::{Actor, AuditEntry};
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
    async fn import(&self, directory: Directory, actor: &Actor) -> Result<ImportSummary, DirectoryError>;

    /// Changes a user's lifecycle state. Disabling a disabled user (and the like) changes nothing and succeeds;
    /// restoring a user who is not soft-deleted is [`DirectoryError::Invalid`].
    async fn set_lifecycle(&self, user: &ObjectId, change: Lifecycle, actor: &Actor) -> Result<(), DirectoryError>;

    /// Removes a group for good, with its memberships (as group and as member) and its assignments.
    async fn delete_group(&self, group: &ObjectId, actor: &Actor) -> Result<(), DirectoryError>;

    /// Adds `member` (a user or group) to `group`; adding a present member changes nothing.
    async fn add_member(&self, group: &ObjectId, member: &ObjectId, actor: &Actor) -> Result<(), DirectoryError>;

    /// Removes `member` from `group`; removing an absent member changes nothing.
    async fn remove_member(&self, group: &ObjectId, member: &ObjectId, actor: &Actor) -> Result<(), DirectoryError>;

    /// A user, soft-deleted or not; `None` when it does not exist (never did, or was hard-deleted).
    async fn user(&self, id: &ObjectId) -> Result<Option<User>, DirectoryError>;

    /// The user with this userPrincipalName (compared case-insensitively, as Entra does), soft-deleted or not;
    /// answered from an index.
    async fn user_by_upn(&self, upn: &str) -> Result<Option<User>, DirectoryError>;

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
    /// [`Changed::Application`] when the definition changed. Its audit entry
    /// ([`crate::audit::application_written`]) has the caller's `activity` name.
    async fn put_application(
        &self,
        name: &str,
        definition: Value,
        sealed_secret: Option<Vec<u8>>,
        actor: &Actor,
        activity: &str,
    ) -> Result<(), DirectoryError>;

    /// An application by name.
    async fn application(&self, name: &str) -> Result<Option<ApplicationRecord>, DirectoryError>;

    /// All applications, by name.
    async fn applications(&self) -> Result<Vec<ApplicationRecord>, DirectoryError>;

    /// Assigns a user or group (which must exist) to an application, replacing an earlier assignment of the same
    /// principal (one role per principal and application).
    async fn assign(&self, application: &str, assignment: Assignment, actor: &Actor) -> Result<(), DirectoryError>;

    /// Removes an assignment; removing an absent one changes nothing.
    async fn unassign(&self, application: &str, principal: &ObjectId, actor: &Actor) -> Result<(), DirectoryError>;

    /// An application's assignments, by principal id.
    async fn assignments(&self, application: &str) -> Result<Vec<Assignment>, DirectoryError>;

    /// Sets a user's password, as an Argon2id PHC string made by the caller (the store never sees the password).
    /// Audit: "Reset password", no value shown.
    async fn set_password(&self, user: &ObjectId, password_hash: &str, actor: &Actor) -> Result<(), DirectoryError>;

    /// A user's password hash, if one is set.
    async fn password_hash(&self, user: &ObjectId) -> Result<Option<String>, DirectoryError>;

    /// Gives a user (who must exist) a directory role; giving a held role changes nothing. Audit: "Add member to
    /// role".
    async fn add_role(&self, user: &ObjectId, role: &Role, actor: &Actor) -> Result<(), DirectoryError>;

    /// Takes a role from a user; taking a role not held changes nothing. Audit: "Remove member from role".
    async fn remove_role(&self, user: &ObjectId, role: &Role, actor: &Actor) -> Result<(), DirectoryError>;

    /// A user's roles, in order.
    async fn roles(&self, user: &ObjectId) -> Result<Vec<Role>, DirectoryError>;

    /// Every role assignment, by user id then role.
    async fn role_members(&self) -> Result<Vec<(ObjectId, Role)>, DirectoryError>;

    /// Stores a new admin API token; a name already used is a [`DirectoryError::Conflict`]. Audit: "Add service
    /// principal credentials".
    async fn create_admin_token(&self, token: &AdminToken, actor: &Actor) -> Result<(), DirectoryError>;

    /// Every admin API token, by name (digests included, for the caller to compare).
    async fn admin_tokens(&self) -> Result<Vec<AdminToken>, DirectoryError>;

    /// The admin API token with this digest.
    async fn admin_token_by_digest(&self, digest: &[u8; 32]) -> Result<Option<AdminToken>, DirectoryError>;

    /// Revokes (deletes) an admin API token by name; a missing name is [`DirectoryError::NotFound`]. Audit:
    /// "Remove service principal credentials".
    async fn revoke_admin_token(&self, name: &str, actor: &Actor) -> Result<(), DirectoryError>;

    /// Stores a new portal session; a digest already stored is a [`DirectoryError::Conflict`]. The user must exist.
    async fn create_session(&self, session: &PortalSession) -> Result<(), DirectoryError>;

    /// The portal session with this digest.
    async fn session_by_digest(&self, digest: &[u8; 32]) -> Result<Option<PortalSession>, DirectoryError>;

    /// Records a session's use at `seen`; `false` when there is no such session.
    async fn touch_session(&self, digest: &[u8; 32], seen: OffsetDateTime) -> Result<bool, DirectoryError>;

    /// Ends a session (sign out); `false` when there was none.
    async fn delete_session(&self, digest: &[u8; 32]) -> Result<bool, DirectoryError>;

    /// Ends every session of a user (a password change, a disabled account); how many there were. A user's
    /// sessions also go with the user (a hard delete).
    async fn delete_user_sessions(&self, user: &ObjectId) -> Result<usize, DirectoryError>;

    /// Deletes the sessions unused since `idle_before` or past their absolute expiry at `now`; how many.
    async fn prune_sessions(&self, idle_before: OffsetDateTime, now: OffsetDateTime) -> Result<usize, DirectoryError>;

    /// Writes audit entries on their own (for changes outside this port, such as roster's own service
    /// provider's enterprises and tokens).
    async fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), DirectoryError>;

    /// Audit entries newest first (by time, then id), from `query.since` on, before the cursor, at most
    /// `query.limit`.
    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, DirectoryError>;

    /// Deletes the audit entries older than `before`; answers how many.
    async fn prune_audit(&self, before: OffsetDateTime) -> Result<u64, DirectoryError>;
}

/// Which audit entries to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditQuery {
    /// Only entries at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only entries at or before this time.
    pub until: Option<OffsetDateTime>,
    /// Keyset cursor: only entries strictly before this (time, id), in the newest-first order.
    pub before: Option<(OffsetDateTime, String)>,
    /// At most this many (0: no limit).
    pub limit: usize,
}

//! The engine's storage port: per application, the job's state, the shadows (what roster knows it exported to each
//! target object), the group memberships it exported, the cycles and the provisioning logs. The `roster-store`
//! crate implements it for SQLite (and later PostgreSQL).
//!
//! Contract for implementations:
//! - every method is atomic: on error nothing is changed; [`EngineStore::record`] applies its whole batch in one
//!   transaction, so an export's result, the shadow it changes and its log entry are never seen apart;
//! - shadows are keyed by (application, kind, source id); a target id belongs to at most one shadow of an
//!   application and kind (a second one is [`StateError::Conflict`]);
//! - a lease is held by one owner at a time until it expires; renewing an unexpired lease of another owner fails.

use std::collections::BTreeMap;

use async_trait::async_trait;
use roster_directory::ObjectId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::log::{Action, LogEntry, ObjectKind, Status};

/// How roster came to manage a target object. Roster only ever updates, disables or deletes objects it created
/// or matched to a source object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Origin {
    /// Roster created it.
    Created,
    /// Roster found it by the matching attributes and took it over.
    Matched,
}

/// What roster last left the target object as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ShadowState {
    /// In scope and active.
    Active,
    /// Disabled (`active` set to false) because the source went out of scope, was disabled or soft-deleted.
    Disabled,
}

/// What roster knows about one target object it manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shadow {
    /// User or group.
    pub kind: ObjectKind,
    /// The directory object.
    pub source_id: ObjectId,
    /// The target's SCIM `id`.
    pub target_id: String,
    /// The mapped values last exported, by target attribute path (`name.givenName`, `emails[type eq "work"].value`).
    pub exported: BTreeMap<String, Value>,
    /// Active or disabled.
    pub state: ShadowState,
    /// Created or matched.
    pub origin: Origin,
}

/// The identity and state of a shadow, without its exported values: what membership reconciliation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowRef {
    /// The directory object.
    pub source_id: ObjectId,
    /// The target's SCIM `id`.
    pub target_id: String,
    /// Active or disabled.
    pub state: ShadowState,
}

/// The job's status, as Graph's `synchronizationStatus.code` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum JobStatus {
    /// No cycle has run yet.
    #[default]
    NotRun,
    /// Provisioning is on.
    Active,
    /// Provisioning is off.
    Paused,
    /// Exports fail wholesale; cycles back off.
    Quarantine,
}

impl JobStatus {
    /// The name shown by `roster status`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::NotRun => "NotRun",
            JobStatus::Active => "Active",
            JobStatus::Paused => "Paused",
            JobStatus::Quarantine => "Quarantine",
        }
    }
}

/// Initial (every source object) or incremental (the changes since the watermark).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CycleKind {
    /// Every candidate source object is evaluated.
    Initial,
    /// Only objects changed since the watermark are evaluated.
    Incremental,
}

impl CycleKind {
    /// `Initial` or `Incremental`.
    pub fn as_str(self) -> &'static str {
        match self {
            CycleKind::Initial => "Initial",
            CycleKind::Incremental => "Incremental",
        }
    }
}

/// Counters of one cycle, by what happened to each object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Source objects evaluated.
    pub evaluated: u64,
    /// Objects created in the target.
    pub created: u64,
    /// Objects updated (attributes or members).
    pub updated: u64,
    /// Users disabled.
    pub disabled: u64,
    /// Disables and deletes held back by the accidental-deletion guard.
    #[serde(default)]
    pub staged: u64,
    /// Objects deleted.
    pub deleted: u64,
    /// Objects that needed nothing.
    pub unchanged: u64,
    /// Objects skipped (out of scope and never provisioned, or a missing matching attribute).
    pub skipped: u64,
    /// Objects whose export failed.
    pub failed: u64,
    /// Members added to target groups.
    pub members_added: u64,
    /// Members removed from target groups.
    pub members_removed: u64,
    /// Requests sent to the target.
    pub requests: u64,
    /// Write requests (POST, PATCH, PUT, DELETE) sent to the target.
    pub writes: u64,
    /// While the cycle runs: objects done so far, across phases (the progress a running cycle writes every half
    /// second or so, for the nodes that show it). Zero, and not written, once it ended.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub done: u64,
    /// While the cycle runs: objects to do, across phases (an estimate until the phases have read their
    /// candidates). Zero, and not written, once it ended.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub total: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// A cycle, running or ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cycle {
    /// Its id.
    pub id: String,
    /// Initial or incremental.
    pub kind: CycleKind,
    /// When it began.
    #[serde(with = "time::serde::rfc3339")]
    pub began: OffsetDateTime,
    /// When it ended, `None` while it runs.
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended: Option<OffsetDateTime>,
    /// The directory position it started from, and the one it read up to.
    pub from: i64,
    /// The directory position it read up to (the next watermark when it succeeds).
    pub to: i64,
    /// Its counters so far.
    pub counts: Counts,
    /// `Succeeded`, `EntryLevelErrors` (some objects failed), `Failed` (the cycle stopped), `Paused`, `Running`, or
    /// `Interrupted` (its process died; closed by the next cycle's).
    pub outcome: String,
}

/// The job of an application: what `roster status` shows and what the next cycle starts from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JobState {
    /// The status code.
    pub status: JobStatus,
    /// The directory position the last successful cycle read up to; `None` until an initial cycle succeeded, and
    /// again after a restart or a change of mappings or scoping (so the next cycle is an initial one).
    pub watermark: Option<i64>,
    /// A digest of the mappings and scoping the watermark was reached with; a different digest forces an
    /// initial cycle.
    pub definition_digest: Option<String>,
    /// The last cycle that ended.
    pub last_cycle: Option<Cycle>,
    /// When a cycle first ended with nothing left to do.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub steady_state_first: Option<OffsetDateTime>,
    /// When a cycle last ended with nothing left to do.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub steady_state_last: Option<OffsetDateTime>,
    /// When the next scheduled cycle is due.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub next_run: Option<OffsetDateTime>,
    /// Set by `roster sync` or the admin API to ask the scheduler for a cycle now.
    #[serde(default)]
    pub run_requested: bool,
    /// Objects whose export failed, retried on the definition's schedule (see [`crate::escrow`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escrows: Vec<crate::escrow::Escrow>,
    /// Why the job is in quarantine, while it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<Quarantine>,
    /// Users whose disable or delete the accidental-deletion guard staged, evaluated again by the next cycle.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub staged_users: Vec<String>,
    /// Groups whose delete the guard staged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub staged_groups: Vec<String>,
    /// Set by `roster app allow-deletes`: the next cycle sends the staged disables and deletes, whatever their
    /// number, and clears it.
    #[serde(default)]
    pub force_deletes: bool,
    /// The state of the job the last notification e-mail told of (`Healthy`, a quarantine with its reason and
    /// start, or provisioning turned off), written by roster-app's notifications once the SMTP server accepted the
    /// message: a state already told is not told again. `None` until a message was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified: Option<String>,
}

/// A quarantine: its reason (Graph's `quarantineReason` names) and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantine {
    /// `TooManyDeletes`, ...
    pub reason: String,
    /// What happened, in words.
    pub detail: String,
    /// When it began.
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    /// How many cycles in a row ended in it (the scheduler backs off with it).
    #[serde(default)]
    pub cycles: u32,
}

/// One change to record, as part of a batch applied in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// Creates or replaces a shadow.
    PutShadow(Shadow),
    /// Forgets a shadow (after a delete), with its exported memberships.
    DeleteShadow {
        /// User or group.
        kind: ObjectKind,
        /// The source object.
        source_id: ObjectId,
    },
    /// Changes the exported members of a group shadow (source ids of its members).
    Members {
        /// The group's source id.
        group: ObjectId,
        /// Members now exported.
        added: Vec<ObjectId>,
        /// Members no longer exported.
        removed: Vec<ObjectId>,
    },
    /// Appends a log entry.
    Log(Box<LogEntry>),
}

/// Which log entries to read.
///
/// Entries are read newest first in one total order: by `at` at the stored precision (Unix milliseconds, truncated
/// towards the past) descending, then by change id descending (byte-wise; change ids are unique). Every filter is a
/// conjunct, and the time bounds compare at the stored precision. A page ends where the next one starts: `before`
/// set to the `(at, change)` of a page's last entry reads the entries after it in this order, each exactly once
/// (keyset paging, one indexed query a page however deep).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// Only this cycle.
    pub cycle: Option<String>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only this action.
    pub action: Option<Action>,
    /// Only entries whose source id, target id or source name equals this.
    pub identity: Option<String>,
    /// Only entries at or after this time (in milliseconds: an entry earlier in the same millisecond is included).
    pub since: Option<OffsetDateTime>,
    /// Only entries at or before this time (in milliseconds: an entry later in the same millisecond is included).
    pub until: Option<OffsetDateTime>,
    /// Only entries strictly after this `(at, change id)` position in the order above: older than `at`'s
    /// millisecond, or in that millisecond with a smaller change id. The position need not be an entry's.
    pub before: Option<(OffsetDateTime, String)>,
    /// At most this many, newest first.
    pub limit: usize,
}

/// A failed engine-state operation.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A rule of the contract would be broken (for example a target id already shadowed for another object).
    #[error("{0}")]
    Conflict(String),
    /// The database failed.
    #[error("storage failed: {0}")]
    Backend(String),
}

/// A lease on a job: which node (or command) runs its cycles, until when unless renewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The holder's name: `serve-{pid}-{port}-{random}` for a node of `roster serve`, `cli-{pid}` for `roster sync`,
    /// `admin-{pid}-{nanos}` for an admin command's moment (`restart`, `allow-deletes`).
    pub owner: String,
    /// When the lease expires unless renewed.
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
}

/// The engine's storage.
#[async_trait]
pub trait EngineStore: Send + Sync {
    /// The job state of an application (the default state when it never ran).
    async fn job(&self, application: &str) -> Result<JobState, StateError>;

    /// Replaces the job state.
    async fn put_job(&self, application: &str, state: &JobState) -> Result<(), StateError>;

    /// Replaces the job state for an admin (restart, allow deletes, a cycle asked for), writing `audit` in the same
    /// transaction (the audit table is the directory's, in the same database).
    async fn put_job_audited(
        &self,
        application: &str,
        state: &JobState,
        audit: &[roster_directory::audit::AuditEntry],
    ) -> Result<(), StateError>;

    /// Takes or renews the lease on an application's job for `owner` until `until`. Returns false when another
    /// owner holds an unexpired lease.
    async fn lease(
        &self,
        application: &str,
        owner: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool, StateError>;

    /// Gives the lease up, if `owner` holds it.
    async fn release(&self, application: &str, owner: &str) -> Result<(), StateError>;

    /// Who holds or last held the lease on an application's job, and until when (in the past when it expired);
    /// `None` when nobody does (never taken, or given up).
    async fn lease_holder(&self, application: &str) -> Result<Option<Lease>, StateError>;

    /// The shadows of these source objects (those that have one), in any order.
    async fn shadows(
        &self,
        application: &str,
        kind: ObjectKind,
        source_ids: &[ObjectId],
    ) -> Result<Vec<Shadow>, StateError>;

    /// The identities and states of these source objects' shadows (those that have one), in any order: like
    /// [`EngineStore::shadows`] without the exported values, for reading thousands at a time.
    async fn shadow_refs(
        &self,
        application: &str,
        kind: ObjectKind,
        source_ids: &[ObjectId],
    ) -> Result<Vec<ShadowRef>, StateError>;

    /// Up to `limit` shadows with source ids greater than `after`, in source id order: keyset paging over all of
    /// them (an initial cycle visits the shadows whose source left the directory).
    async fn shadows_after(
        &self,
        application: &str,
        kind: ObjectKind,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> Result<Vec<Shadow>, StateError>;

    /// How many shadows of each kind there are, and how many of them are disabled.
    async fn shadow_counts(&self, application: &str) -> Result<Vec<(ObjectKind, ShadowState, u64)>, StateError>;

    /// The exported members (source ids) of a group shadow.
    async fn members(&self, application: &str, group: &ObjectId) -> Result<Vec<ObjectId>, StateError>;

    /// Applies a batch of records in one transaction.
    async fn record(&self, application: &str, batch: Vec<Record>) -> Result<(), StateError>;

    /// Creates or replaces a cycle (its id is unique per application).
    async fn put_cycle(&self, application: &str, cycle: &Cycle) -> Result<(), StateError>;

    /// The most recent cycles, newest first.
    async fn cycles(&self, application: &str, limit: usize) -> Result<Vec<Cycle>, StateError>;

    /// Log entries, newest first.
    async fn logs(&self, application: &str, query: &LogQuery) -> Result<Vec<LogEntry>, StateError>;

    /// Forgets every shadow and exported membership of an application (a restart with the full reset scope).
    async fn forget_shadows(&self, application: &str) -> Result<(), StateError>;

    /// The shadow that manages this target object, if any (a target id belongs to at most one).
    async fn shadow_for_target(
        &self,
        application: &str,
        kind: ObjectKind,
        target_id: &str,
    ) -> Result<Option<ShadowRef>, StateError>;

    /// Creates or replaces a dry-run plan (its id is unique per application).
    async fn put_plan(&self, application: &str, plan: &crate::dry_run::Plan) -> Result<(), StateError>;

    /// A stored dry-run plan.
    async fn plan(&self, application: &str, id: &str) -> Result<Option<crate::dry_run::Plan>, StateError>;

    /// The ids of an application's stored plans, newest first (by when they were computed), at most `limit`.
    async fn plan_ids(&self, application: &str, limit: usize) -> Result<Vec<String>, StateError>;
}

//! One provisioning cycle of one application (DESIGN.md stages 1 to 8):
//! 1. import: every directory object (initial cycle) or the objects the change log names since the watermark,
//!    plus the objects whose export failed last time (incremental);
//! 2. scope: assignments ([`crate::entitlement`]), scoping filters ([`crate::scoping`]), `IsSoftDeleted`;
//! 3. map ([`crate::mapping`]); 4. match: the shadow, else the matching attributes in precedence order;
//! 5. diff ([`crate::diff`]); 6. plan: users, then groups, then memberships, then disables and deletes;
//! 7. export through the SCIM client, concurrently within its limits; each result is recorded with its shadow
//!    and log entry in one transaction;
//! 8. record: counters, the cycle, the watermark.
//!
//! A cycle with no change since the watermark reads the change log once and sends nothing.

mod members;
mod objects;
mod on_demand;
mod overlay;
mod plan;
mod recorder;
mod writes;

pub use on_demand::{MAX_GROUP_MEMBERS, OnDemand, OnDemandObject, provision_on_demand};

use writes::{Halt, Writes};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use roster_directory::port::{Changed, DirectoryError, DirectoryStore, Seq};
use roster_directory::{Group, ObjectId};
use roster_scim_client::{ClientError, ScimClient};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::definition::{Definition, Scope};
use crate::dry_run::{Allowance, Differences, Note, Operation, Plan, differences, render_operation};
use crate::entitlement::Entitlements;
use crate::log::{Action, Status};
use crate::log::{Initiator, ObjectKind};
use crate::mapping::{Mapper, MappingError};
use crate::scoping::{CompiledScoping, ScopingError};
use crate::state::{Counts, Cycle, CycleKind, EngineStore, JobState, JobStatus, StateError};

/// How many directory objects are read per page, and evaluated and exported as one batch.
const PAGE: usize = 1000;

/// Why a cycle could not run or stopped.
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    /// The definition's mappings do not compile.
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// The definition's scoping filters do not compile.
    #[error(transparent)]
    Scoping(#[from] ScopingError),
    /// The directory could not be read.
    #[error("reading the directory: {0}")]
    Directory(#[from] DirectoryError),
    /// The engine's state could not be read or written.
    #[error("engine state: {0}")]
    State(#[from] StateError),
    /// The target failed in a way that makes every further request pointless (credentials refused, unreachable).
    #[error("the target failed: {0}")]
    Target(ClientError),
    /// Another process holds the job's lease.
    #[error("another roster process is running a cycle of {0}; try again when it has finished")]
    Busy(String),
    /// A dry-run plan cannot be applied (nothing was sent).
    #[error("{0}")]
    PlanRefused(String),
    /// The job's lease was lost while the cycle ran (another node holds it): the cycle stopped before its next
    /// write.
    #[error("lost the lease on {0} while its cycle ran (another roster node holds it): the cycle stopped")]
    LeaseLost(String),
    /// Applying a plan came to a write the plan does not hold: the cycle stopped there without sending it.
    #[error("applying the plan stopped: {0}")]
    OffPlan(String),
}

/// What a cycle reports as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressReport {
    /// Initial or incremental.
    pub kind: CycleKind,
    /// `users`, `groups`, `memberships`, `deprovisioning`, or `done`.
    pub phase: &'static str,
    /// Objects done, across phases.
    pub done: u64,
    /// Objects to do, across phases (an estimate until the phases have read their candidates).
    pub total: u64,
    /// The counters so far.
    pub counts: Counts,
    /// How long the target's rate budget alone needs for what is left, when a budget applies.
    pub budget_eta: Option<Duration>,
}

/// Receives progress reports (a progress bar, plain lines, or nothing).
pub trait Progress: Send + Sync {
    /// Called after each batch and at the end.
    fn report(&self, report: &ProgressReport);
}

/// A progress sink that drops every report.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn report(&self, _: &ProgressReport) {}
}

/// Everything a cycle needs.
#[derive(Clone)]
pub struct Job {
    /// The application's definition.
    pub definition: Arc<Definition>,
    /// The client for its target.
    pub client: ScimClient,
    /// The directory.
    pub directory: Arc<dyn DirectoryStore>,
    /// The engine's state.
    pub state: Arc<dyn EngineStore>,
    /// The current time.
    pub now: fn() -> OffsetDateTime,
    /// Set when provisioning is paused: a running cycle stops at the next object, keeping its watermark, so the
    /// next cycle after resuming picks up where it stopped.
    pub pause: Arc<std::sync::atomic::AtomicBool>,
    /// Set when the job's lease was lost (another node holds it): the cycle stops before its next write, as a
    /// failed cycle, with its watermark kept.
    pub lease_lost: Arc<std::sync::atomic::AtomicBool>,
}

/// The compiled definition and the entitlements of this cycle.
pub(crate) struct Context {
    pub(crate) job: Job,
    pub(crate) application: String,
    pub(crate) cycle: String,
    pub(crate) users: Mapper,
    pub(crate) groups: Mapper,
    pub(crate) user_scoping: CompiledScoping,
    pub(crate) group_scoping: CompiledScoping,
    pub(crate) entitlements: Entitlements,
    /// Groups loaded for entitlement and membership: assigned ones (and nested), or every group with "all".
    pub(crate) group_index: HashMap<ObjectId, Group>,
    pub(crate) counts: Mutex<Counts>,
    pub(crate) done: Mutex<u64>,
    pub(crate) progress: Arc<dyn Progress>,
    pub(crate) kind: CycleKind,
    pub(crate) total: Mutex<u64>,
    /// Objects whose export failed, for the next cycle.
    pub(crate) failures: Mutex<BTreeMap<(ObjectKind, String), crate::escrow::Failure>>,
    /// A failure that stops the cycle.
    pub(crate) fatal: Mutex<Option<ClientError>>,
    /// Whether the target held no user (and no group) when this initial cycle of a job without shadows began:
    /// then nothing can match, and creates need no matching query first (a conflict still falls back to one).
    pub(crate) empty_target: [bool; 2],
    /// Writes shadows and log entries in batches.
    pub(crate) recorder: recorder::Recorder,
    /// Whether an admin allowed this cycle's disables and deletes whatever their number.
    pub(crate) force_deletes: bool,
    /// Objects whose disable or delete the guard staged.
    pub(crate) staged_users: Mutex<BTreeSet<String>>,
    pub(crate) staged_groups: Mutex<BTreeSet<String>>,
    /// The quarantine this cycle ends in (reason, detail).
    pub(crate) quarantine: Mutex<Option<(String, String)>>,
    /// Who started the run, for the log entries.
    pub(crate) initiator: Initiator,
    /// Whether writes are sent, recorded (a dry run) or checked against a plan.
    pub(crate) writes: writes::Writes,
    /// Why the cycle stopped early, other than the target (paused, off the plan).
    pub(crate) halted: Mutex<Option<writes::Halt>>,
    /// Target objects matched in this run, and the source object each belongs to (see `objects::claim`).
    pub(crate) claims: Mutex<HashMap<(ObjectKind, String), ObjectId>>,
    /// Turns to send writes: the target's concurrency (see `writes`).
    pub(crate) sending: tokio::sync::Semaphore,
    /// Where a cycle that sends puts its progress for the engine state (see [`ProgressWrites`]); unset in dry runs
    /// and on demand.
    pub(crate) live: std::sync::OnceLock<tokio::sync::watch::Sender<Counts>>,
}

impl Context {
    pub(crate) fn count(&self, update: impl FnOnce(&mut Counts)) {
        update(&mut self.counts.lock().unwrap_or_else(PoisonError::into_inner));
    }

    pub(crate) fn advance(&self, objects: u64) {
        *self.done.lock().unwrap_or_else(PoisonError::into_inner) += objects;
    }

    pub(crate) fn add_total(&self, objects: u64) {
        *self.total.lock().unwrap_or_else(PoisonError::into_inner) += objects;
    }

    pub(crate) fn report(&self, phase: &'static str) {
        let counts = *self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let done = *self.done.lock().unwrap_or_else(PoisonError::into_inner);
        let total = (*self.total.lock().unwrap_or_else(PoisonError::into_inner)).max(done);
        let done = if phase == "done" { total } else { done };
        let left = total.saturating_sub(done);
        let eta = self.job.client.budget_eta(left, left);
        let budget_eta = (!eta.is_zero()).then_some(eta);
        if let Some(live) = self.live.get() {
            live.send_replace(Counts { done, total, ..counts });
        }
        self.progress.report(&ProgressReport { kind: self.kind, phase, done, total, counts, budget_eta });
    }

    /// Remembers a failure that makes the rest of the cycle pointless.
    pub(crate) fn stop(&self, error: ClientError) {
        let mut fatal = self.fatal.lock().unwrap_or_else(PoisonError::into_inner);
        if fatal.is_none() {
            *fatal = Some(error);
        }
    }

    pub(crate) fn stopped(&self) -> bool {
        self.fatal.lock().unwrap_or_else(PoisonError::into_inner).is_some()
            || self.halted.lock().unwrap_or_else(PoisonError::into_inner).is_some()
            || self.pausing()
    }

    /// Whether the run must stop before its next write: provisioning was paused, or the job's lease was lost (a dry
    /// run, which writes nothing, goes on).
    fn pausing(&self) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        if self.dry() {
            return false;
        }
        if self.job.lease_lost.load(Relaxed) {
            self.halt(writes::Halt::LeaseLost);
            return true;
        }
        let paused = self.job.pause.load(Relaxed);
        if paused {
            self.halt(writes::Halt::Paused);
        }
        paused
    }

    pub(crate) fn staged(&self, kind: ObjectKind, id: &ObjectId) {
        let set = match kind {
            ObjectKind::User => &self.staged_users,
            ObjectKind::Group => &self.staged_groups,
        };
        set.lock().unwrap_or_else(PoisonError::into_inner).insert(id.as_str().to_owned());
    }

    pub(crate) fn quarantine(&self, reason: &str, detail: String) {
        *self.quarantine.lock().unwrap_or_else(PoisonError::into_inner) = Some((reason.to_owned(), detail));
    }

    pub(crate) fn target_was_empty(&self, kind: ObjectKind) -> bool {
        match kind {
            ObjectKind::User => self.empty_target[0],
            ObjectKind::Group => self.empty_target[1],
        }
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        (self.job.now)()
    }

    /// Remembers a failed object for the escrows: a failure a retry may fix (the target or the store failed).
    pub(crate) fn failed(&self, kind: ObjectKind, id: &ObjectId) {
        self.failed_with(kind, id, "InternalError", true);
    }

    /// Remembers a failed object with its error code, and whether a retry may fix it.
    pub(crate) fn failed_with(&self, kind: ObjectKind, id: &ObjectId, code: &str, retryable: bool) {
        let failure = crate::escrow::Failure { code: code.to_owned(), retryable };
        self.failures.lock().unwrap_or_else(PoisonError::into_inner).insert((kind, id.as_str().to_owned()), failure);
    }
}

/// Whether an export error means the whole target is unusable (bad credentials, unreachable), so the cycle stops
/// instead of failing every object the same way.
/// A query that answers 404 means the tenant URL does not point at a SCIM endpoint: every request would fail, and
/// a 404 on an object would wrongly read as "already gone". A query answered with something that is not SCIM (not
/// JSON, or not a `ListResponse`) is a SCIM compliance failure: no object can be matched.
pub(crate) fn is_wholesale(error: &ClientError) -> bool {
    use roster_scim_client::{ErrorKind, Operation};
    let query = matches!(error.operation, Operation::Find | Operation::TestConnection);
    matches!(error.status(), Some(401 | 403)) && error.code() != "TooManyRequests"
        || matches!(error.kind, ErrorKind::Connect { .. } | ErrorKind::Tls { .. })
        || error.status() == Some(404) && query
        || matches!(error.kind, ErrorKind::BadResponse(_) | ErrorKind::Incompatible { .. }) && query
}

/// A digest of what decides the target's state (scope, scoping filters, mappings, roles): when it changes, the
/// next cycle is an initial one, as Entra restarts after a change of mappings or scoping.
pub fn definition_digest(definition: &Definition) -> String {
    let relevant = serde_json::json!({
        "scope": definition.scope,
        "nested": definition.include_nested_members,
        "roles": definition.app_roles,
        "users": definition.users,
        "groups": definition.groups,
    });
    let digest = Sha256::digest(relevant.to_string().as_bytes());
    digest.iter().take(16).map(|byte| format!("{byte:02x}")).collect()
}

/// Runs one cycle: initial when the job has no watermark or the definition changed since, else incremental.
/// Returns the cycle as recorded. The caller holds the job's lease.
pub async fn run_cycle(job: Job, progress: Arc<dyn Progress>) -> Result<Cycle, CycleError> {
    Ok(run(job, progress, Writes::Send).await?.cycle)
}

/// Computes the cycle that [`run_cycle`] would run now, without one write to the target or to roster's state
/// (the target is read: its size, and the matching queries), and returns it as a plan. The caller stores it.
pub async fn dry_run(job: Job, progress: Arc<dyn Progress>) -> Result<Plan, CycleError> {
    let overlay = Arc::new(overlay::Overlay::new(Arc::clone(&job.state)));
    let digest = definition_digest(&job.definition);
    let application = job.definition.name.clone();
    let planning = Job { state: Arc::clone(&overlay) as Arc<dyn EngineStore>, ..job.clone() };
    let ran = run(planning, progress, Writes::Record(Mutex::default())).await?;
    let notes = overlay
        .logs()
        .into_iter()
        .filter(|entry| {
            matches!(entry.status, Status::Failure | Status::Warning) || entry.action == Action::StagedDelete
        })
        .map(|entry| Note {
            kind: entry.kind,
            source_id: entry.source_id,
            source_name: entry.source_name,
            action: entry.action,
            status: entry.status,
            code: entry.error_code,
            reason: entry.error_reason,
        })
        .collect();
    Ok(Plan {
        id: uuid::Uuid::new_v4().to_string(),
        application,
        created: (job.now)(),
        kind: ran.cycle.kind,
        from: ran.cycle.from,
        to: ran.cycle.to,
        definition_digest: digest,
        tenant_url: job.definition.target.tenant_url.clone(),
        counts: ran.cycle.counts,
        operations: ran.operations,
        notes,
        applied: None,
    })
}

/// Applies a stored plan: computes it again and refuses, before any write, when it no longer holds the same
/// writes (the directory, the target or roster's state changed since; see [`check_plan`]); then runs the cycle
/// sending only the plan's writes, and stops at any other. Marks the plan applied. The caller holds the job's lease.
pub async fn apply_plan(job: Job, plan: &Plan, progress: Arc<dyn Progress>) -> Result<Cycle, CycleError> {
    check_plan(job.clone(), plan).await?;
    let ran = run(job.clone(), progress, Writes::Allow(Mutex::new(Allowance::new(&plan.operations)))).await?;
    // A cycle paused before its end has not applied the plan: it can be applied again (computed again) later.
    if ran.cycle.outcome != "Paused" {
        let applied = Plan { applied: Some((job.now)()), ..plan.clone() };
        job.state.put_plan(&plan.application, &applied).await?;
    }
    Ok(ran.cycle)
}

/// Whether a stored plan still holds: not applied yet, made with the job's definition and target, and computed
/// again (reads only, nothing written) it gives the same writes. [`CycleError::PlanRefused`] says why not, in
/// words for the admin. The caller need not hold the job's lease; [`apply_plan`] checks again under it.
pub async fn check_plan(job: Job, plan: &Plan) -> Result<(), CycleError> {
    if let Some(applied) = plan.applied {
        return Err(CycleError::PlanRefused(format!("plan {} was applied at {applied}", plan.id)));
    }
    if plan.definition_digest != definition_digest(&job.definition) {
        return Err(CycleError::PlanRefused(format!(
            "the mappings, scoping or assignments rules of {} changed since plan {} was made: make a new one with \
             `roster sync {} --dry-run`",
            plan.application, plan.id, plan.application
        )));
    }
    if plan.tenant_url != job.definition.target.tenant_url {
        return Err(CycleError::PlanRefused(format!(
            "plan {} was made for the target {}, and {} now points at {}: make a new plan",
            plan.id, plan.tenant_url, plan.application, job.definition.target.tenant_url
        )));
    }
    let again = dry_run(job, Arc::new(NoProgress)).await?;
    let found = differences(&plan.operations, &again.operations);
    if !found.is_empty() {
        return Err(CycleError::PlanRefused(describe(plan, &found)));
    }
    Ok(())
}

/// Why a plan no longer holds, for the admin: the first few differences.
fn describe(plan: &Plan, found: &Differences) -> String {
    const SHOWN: usize = 10;
    let mut text = format!(
        "plan {} no longer holds: the directory, the target or roster's state changed since it was made \
         ({} planned writes are no longer needed as planned, {} others are needed now). Nothing was sent; make a \
         new plan with `roster sync {} --dry-run`.",
        plan.id,
        found.missing.len(),
        found.unexpected.len(),
        plan.application
    );
    let none = |_: &str| None;
    for operation in found.missing.iter().take(SHOWN) {
        text.push_str("\nplanned, no longer needed: ");
        text.push_str(render_operation(operation, &none).trim_end());
    }
    for operation in found.unexpected.iter().take(SHOWN) {
        text.push_str("\nneeded now, not planned: ");
        text.push_str(render_operation(operation, &none).trim_end());
    }
    text
}

/// What a run produced: the cycle, and in a dry run its writes.
struct Ran {
    cycle: Cycle,
    operations: Vec<Operation>,
}

async fn run(job: Job, progress: Arc<dyn Progress>, writes: Writes) -> Result<Ran, CycleError> {
    // The client may have served other runs (an apply computes its plan again first): count this run's requests.
    let before = job.client.stats();
    let definition = Arc::clone(&job.definition);
    let application = definition.name.clone();
    let mut state = job.state.job(&application).await?;
    let digest = definition_digest(&definition);
    let incremental_from = match (&state.watermark, &state.definition_digest) {
        (Some(watermark), Some(previous)) if *previous == digest => Some(Seq(*watermark)),
        _ => None,
    };
    let head = job.directory.head().await?;
    let kind = if incremental_from.is_some() { CycleKind::Incremental } else { CycleKind::Initial };
    let began = (job.now)();
    let mut cycle = Cycle {
        id: uuid::Uuid::new_v4().to_string(),
        kind,
        began,
        ended: None,
        from: incremental_from.map_or(0, |seq| seq.0),
        to: head.0,
        counts: Counts::default(),
        outcome: "Running".to_owned(),
    };

    // An incremental cycle reads what changed; nothing changed and nothing to retry: nothing to send.
    let changes = match incremental_from {
        Some(from) => Some(read_changes(&*job.directory, from, head).await?),
        None => None,
    };
    if let Some(changes) = &changes
        && changes.is_empty()
        && !state.escrows.iter().any(|escrow| crate::escrow::is_due(escrow, began))
        && state.staged_users.is_empty()
        && state.staged_groups.is_empty()
    {
        let now = (job.now)();
        cycle.ended = Some(now);
        cycle.outcome = "Succeeded".to_owned();
        finish(&job, &mut state, &cycle, &digest, true).await?;
        progress.report(&ProgressReport {
            kind,
            phase: "done",
            done: 0,
            total: 0,
            counts: Counts::default(),
            budget_eta: None,
        });
        return Ok(Ran { cycle, operations: Vec::new() });
    }
    let probed = match kind {
        CycleKind::Initial => empty_target(&job).await,
        CycleKind::Incremental => Ok([false, false]),
    };
    let empty_target = match probed {
        Ok(empty_target) => empty_target,
        Err(error) => {
            cycle.ended = Some((job.now)());
            cycle.outcome = "Failed".to_owned();
            job.state.put_cycle(&application, &cycle).await?;
            state.last_cycle = Some(cycle);
            if let CycleError::Target(client_error) = &error {
                quarantine_for(&mut state, client_error, (job.now)());
            }
            job.state.put_job(&application, &state).await?;
            return Err(error);
        }
    };
    job.state.put_cycle(&application, &cycle).await?;

    let settings =
        Settings { kind, empty_target, force_deletes: state.force_deletes, initiator: Initiator::System, writes };
    let context = build_context(&job, cycle.id.clone(), progress, settings).await?;

    let work = match changes {
        None => plan::Work::everything(),
        Some(changes) => plan::Work::from_changes(&changes, &state, &context, began).await?,
    };
    let evaluated = work.evaluated();
    // A cycle that sends writes its progress to the engine state as it goes, for the nodes that show it.
    let live = (!context.dry()).then(|| {
        let (writes, sender) = ProgressWrites::start(Arc::clone(&job.state), application.clone(), cycle.clone());
        let _ = context.live.set(sender);
        writes
    });
    let outcome = plan::run(&context, work).await;
    context.recorder.close().await;
    if let Some(live) = live {
        live.stop().await;
    }
    for (kind, id) in context.recorder.failed() {
        context.failed(kind, &id);
    }

    let counts = *context.counts.lock().unwrap_or_else(PoisonError::into_inner);
    let stats = job.client.stats();
    let writes = |stats: &roster_scim_client::ClientStats| stats.posts + stats.patches + stats.deletes;
    cycle.counts = Counts {
        requests: stats.requests().saturating_sub(before.requests()),
        writes: writes(&stats).saturating_sub(writes(&before)),
        ..counts
    };
    cycle.ended = Some((job.now)());
    let fatal = context.fatal.lock().unwrap_or_else(PoisonError::into_inner).take();
    let halted = context.halted.lock().unwrap_or_else(PoisonError::into_inner).take();
    let failures = std::mem::take(&mut *context.failures.lock().unwrap_or_else(PoisonError::into_inner));
    let operations = context.recorded();
    context.report("done");
    let schedule = crate::escrow::RetrySchedule {
        gaps: definition.retry_after.clone(),
        ..crate::escrow::RetrySchedule::default()
    };
    match (outcome, fatal, halted) {
        (Err(error), _, _) => {
            cycle.outcome = "Failed".to_owned();
            job.state.put_cycle(&application, &cycle).await?;
            Err(error)
        }
        // Stopped early on purpose: the watermark stays, so the next cycle evaluates the same changes again (what
        // this one did is in the shadows and needs nothing more); its failures join the escrows.
        (Ok(()), None, Some(halt)) => {
            cycle.outcome = match halt {
                Halt::Paused => "Paused",
                Halt::OffPlan(_) | Halt::LeaseLost => "Failed",
            }
            .to_owned();
            job.state.put_cycle(&application, &cycle).await?;
            // A lost lease leaves the job's state to the node that holds it now: this one's copy is stale.
            if !matches!(halt, Halt::LeaseLost) {
                state.last_cycle = Some(cycle.clone());
                let (escrows, _) =
                    crate::escrow::after_cycle(&state.escrows, &failures, &|_, _| false, (job.now)(), &schedule);
                state.escrows = escrows;
                job.state.put_job(&application, &state).await?;
            }
            match halt {
                Halt::Paused => Ok(Ran { cycle, operations }),
                Halt::OffPlan(detail) => Err(CycleError::OffPlan(detail)),
                Halt::LeaseLost => Err(CycleError::LeaseLost(application.clone())),
            }
        }
        (Ok(()), Some(error), _) => {
            cycle.outcome = "Failed".to_owned();
            job.state.put_cycle(&application, &cycle).await?;
            state.last_cycle = Some(cycle);
            quarantine_for(&mut state, &error, (job.now)());
            job.state.put_job(&application, &state).await?;
            Err(CycleError::Target(error))
        }
        (Ok(()), None, None) => {
            let clean = failures.is_empty();
            cycle.outcome = if clean { "Succeeded" } else { "EntryLevelErrors" }.to_owned();
            let was_evaluated = |kind: ObjectKind, id: &str| evaluated.contains(kind, id);
            let (escrows, given_up) =
                crate::escrow::after_cycle(&state.escrows, &failures, &was_evaluated, (job.now)(), &schedule);
            for escrow in given_up {
                tracing::warn!(
                    application = %application,
                    object = %escrow.source_id,
                    code = %escrow.code,
                    "gave up retrying an object that failed for 28 days"
                );
            }
            state.escrows = escrows;
            state.staged_users =
                context.staged_users.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect();
            state.staged_groups =
                context.staged_groups.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect();
            state.force_deletes = false;
            // A cycle that ends without a reason for quarantine lifts one; a new reason replaces the old one.
            let reason = context
                .quarantine
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .or_else(|| escrow_proportion(&counts));
            state.quarantine = reason.map(|(reason, detail)| next_quarantine(&state, &reason, detail, (job.now)()));
            let steady =
                clean && counts.created + counts.updated + counts.disabled + counts.deleted + counts.staged == 0;
            finish(&job, &mut state, &cycle, &digest, steady).await?;
            Ok(Ran { cycle, operations })
        }
    }
}

/// The shortest gap between two writes of a running cycle's progress.
const PROGRESS_WRITES: Duration = Duration::from_millis(500);

/// Writes a running cycle (its counters, objects done and to do) to the engine state as the cycle reports them, at
/// most every [`PROGRESS_WRITES`], from one task: a node other than the one running the cycle (the admin API's job
/// status and events) reads its progress from the store.
struct ProgressWrites {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl ProgressWrites {
    fn start(
        state: Arc<dyn EngineStore>,
        application: String,
        mut cycle: Cycle,
    ) -> (ProgressWrites, tokio::sync::watch::Sender<Counts>) {
        let (sender, mut reports) = tokio::sync::watch::channel(cycle.counts);
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    biased;
                    _ = &mut stopped => break,
                    changed = reports.changed() => {
                        if changed.is_err() {
                            break;
                        }
                    }
                }
                cycle.counts = *reports.borrow_and_update();
                if let Err(error) = state.put_cycle(&application, &cycle).await {
                    tracing::warn!(application = %application, %error, "could not write the cycle's progress");
                }
                tokio::select! {
                    biased;
                    _ = &mut stopped => break,
                    () = tokio::time::sleep(PROGRESS_WRITES) => {}
                }
            }
        });
        (ProgressWrites { stop, task }, sender)
    }

    /// Stops the writes, waiting for one under way: none comes after the cycle's own record of its end.
    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Whether the target is empty of users and of groups, for an initial cycle: a kind is empty when the job has no
/// shadow of it and the target holds none. The target's users are counted even when shadows answer: the request
/// checks the credentials before anything is evaluated, so that an initial cycle (a restart) with a wrong token
/// ends in quarantine at once, as Entra's, even when every object already matches. A target that cannot say (an
/// error other than a wholesale failure) is not known to be empty.
async fn empty_target(job: &Job) -> Result<[bool; 2], CycleError> {
    let shadows = job.state.shadow_counts(&job.definition.name).await?;
    let shadowed = |kind: ObjectKind| shadows.iter().any(|(shadow_kind, _, count)| *shadow_kind == kind && *count > 0);
    let users = target_empty(job, roster_scim_client::Kind::User).await? && !shadowed(ObjectKind::User);
    let groups = !shadowed(ObjectKind::Group) && target_empty(job, roster_scim_client::Kind::Group).await?;
    Ok([users, groups])
}

/// Whether the target holds no object of `kind`; a wholesale failure fails the cycle.
async fn target_empty(job: &Job, kind: roster_scim_client::Kind) -> Result<bool, CycleError> {
    match job.client.total(kind).await {
        Ok(total) => Ok(total == 0),
        Err(error) if is_wholesale(&error) => Err(CycleError::Target(error)),
        Err(_) => Ok(false),
    }
}

/// The quarantine a cycle ends in: the same reason continues the current one (its start kept, one more cycle
/// counted), another reason starts a new one.
fn next_quarantine(state: &JobState, reason: &str, detail: String, now: OffsetDateTime) -> crate::state::Quarantine {
    match &state.quarantine {
        Some(current) if current.reason == reason => crate::state::Quarantine {
            reason: reason.to_owned(),
            detail,
            since: current.since,
            cycles: current.cycles + 1,
        },
        _ => crate::state::Quarantine { reason: reason.to_owned(), detail, since: now, cycles: 1 },
    }
}

/// Failures a cycle may have before their proportion counts (Entra starts at 5,000; a self-hosted directory is
/// smaller).
const ESCROW_PROPORTION_MINIMUM: u64 = 100;

/// Entra's `EncounteredEscrowProportionThreshold`: past a minimum number of failures, more than 40% of the cycle's
/// exports failed.
fn escrow_proportion(counts: &Counts) -> Option<(String, String)> {
    let attempted = counts.created + counts.updated + counts.disabled + counts.deleted + counts.failed;
    if counts.failed < ESCROW_PROPORTION_MINIMUM || counts.failed * 5 <= attempted * 2 {
        return None;
    }
    let detail = format!(
        "{} of {attempted} exports failed (more than 40%): see `roster logs --status failure` for the reasons",
        counts.failed
    );
    Some(("EncounteredEscrowProportionThreshold".to_owned(), detail))
}

/// Puts the job in quarantine after a wholesale failure (Entra's `EncounteredQuarantineException`), with the
/// recommended action. The watermark stays where it was.
fn quarantine_for(state: &mut JobState, error: &ClientError, now: OffsetDateTime) {
    let action = match error.status() {
        Some(401 | 403) => {
            "the target refused the secret token: check the token and its scope, set a new one with `roster app \
             apply` (secret_token) and run `roster app restart`"
        }
        Some(404) => "the tenant URL does not point at a SCIM endpoint: check it in the definition",
        _ if matches!(
            error.kind,
            roster_scim_client::ErrorKind::BadResponse(_) | roster_scim_client::ErrorKind::Incompatible { .. }
        ) =>
        {
            "the target's answers to queries are not SCIM 2.0 (RFC 7644 ListResponse JSON): check that the tenant \
             URL is the SCIM base URL, and the application's SCIM support"
        }
        _ => "the target cannot be reached: check the tenant URL, the network and the target's TLS certificate",
    };
    let detail = format!("{error} ({}); {action}", error.code());
    state.quarantine = Some(next_quarantine(state, "EncounteredQuarantineException", detail, now));
    state.status = JobStatus::Quarantine;
}

/// What distinguishes one run from another.
pub(crate) struct Settings {
    pub(crate) kind: CycleKind,
    pub(crate) empty_target: [bool; 2],
    pub(crate) force_deletes: bool,
    pub(crate) initiator: Initiator,
    pub(crate) writes: Writes,
}

/// Compiles the definition and loads the entitlements: the context every object of a run is processed in.
pub(crate) async fn build_context(
    job: &Job,
    cycle: String,
    progress: Arc<dyn Progress>,
    settings: Settings,
) -> Result<Arc<Context>, CycleError> {
    let definition = &job.definition;
    let application = definition.name.clone();
    let Settings { kind, empty_target, force_deletes, initiator, writes } = settings;
    let users = Mapper::compile(&definition.users.mappings)?;
    let groups = Mapper::compile(&definition.groups.mappings)?;
    let user_scoping = CompiledScoping::compile(&definition.users.scoping_filters)?;
    let group_scoping = CompiledScoping::compile(&definition.groups.scoping_filters)?;
    let assignments = job.directory.assignments(&application).await?;
    let group_index =
        load_groups(&*job.directory, definition.scope, definition.include_nested_members, &assignments).await?;
    let entitlements = Entitlements::build(
        definition.scope,
        definition.include_nested_members,
        &definition.app_roles,
        &assignments,
        &group_index,
    );
    Ok(Arc::new(Context {
        job: job.clone(),
        application: application.clone(),
        cycle,
        users,
        groups,
        user_scoping,
        group_scoping,
        entitlements,
        group_index,
        counts: Mutex::new(Counts::default()),
        done: Mutex::new(0),
        progress,
        kind,
        total: Mutex::new(0),
        failures: Mutex::new(BTreeMap::new()),
        fatal: Mutex::new(None),
        empty_target,
        recorder: recorder::Recorder::start(Arc::clone(&job.state), application.clone()),
        force_deletes,
        staged_users: Mutex::new(BTreeSet::new()),
        staged_groups: Mutex::new(BTreeSet::new()),
        quarantine: Mutex::new(None),
        initiator,
        writes,
        halted: Mutex::new(None),
        claims: Mutex::new(HashMap::new()),
        sending: tokio::sync::Semaphore::new(definition.target.concurrency.max(1)),
        live: std::sync::OnceLock::new(),
    }))
}

/// Records the ended cycle and moves the watermark.
async fn finish(job: &Job, state: &mut JobState, cycle: &Cycle, digest: &str, steady: bool) -> Result<(), CycleError> {
    let application = &job.definition.name;
    job.state.put_cycle(application, cycle).await?;
    state.watermark = Some(cycle.to);
    state.definition_digest = Some(digest.to_owned());
    state.status = match (&state.quarantine, job.definition.enabled) {
        (Some(_), _) => JobStatus::Quarantine,
        (None, true) => JobStatus::Active,
        (None, false) => JobStatus::Paused,
    };
    state.last_cycle = Some(cycle.clone());
    if steady {
        let at = cycle.ended.unwrap_or(cycle.began);
        state.steady_state_first.get_or_insert(at);
        state.steady_state_last = Some(at);
    }
    job.state.put_job(application, state).await?;
    Ok(())
}

/// Every change after `from` up to `head`.
async fn read_changes(directory: &dyn DirectoryStore, from: Seq, head: Seq) -> Result<Vec<Changed>, DirectoryError> {
    let mut changes = Vec::new();
    let mut after = from;
    loop {
        let page = directory.changes_after(after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        let full = page.len() == 10_000;
        changes.extend(page.into_iter().filter(|change| change.seq <= head).map(|change| change.object));
        if !full || after >= head {
            break;
        }
    }
    Ok(changes)
}

/// The groups entitlement and membership need: with "all" scope every group; else the assigned groups and, with
/// nesting, the groups nested in them.
pub(crate) async fn load_groups(
    directory: &dyn DirectoryStore,
    scope: Scope,
    nested: bool,
    assignments: &[roster_directory::port::Assignment],
) -> Result<HashMap<ObjectId, Group>, DirectoryError> {
    let mut groups = HashMap::new();
    if scope == Scope::All {
        let mut after: Option<ObjectId> = None;
        loop {
            let page = directory.groups_after(after.as_ref(), PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id().clone());
            let full = page.len() == PAGE;
            groups.extend(page.into_iter().map(|group| (group.id().clone(), group)));
            if !full {
                break;
            }
        }
        return Ok(groups);
    }
    let mut pending: Vec<ObjectId> = assignments
        .iter()
        .filter(|assignment| assignment.kind == roster_directory::port::PrincipalKind::Group)
        .map(|assignment| assignment.principal.clone())
        .collect();
    while let Some(id) = pending.pop() {
        if groups.contains_key(&id) {
            continue;
        }
        let Some(group) = directory.group(&id).await? else { continue };
        if nested {
            // Members that are groups are loaded too; a member that is not a group answers None.
            for member in &group.members {
                if !groups.contains_key(member) && directory.user(member).await?.is_none() {
                    pending.push(member.clone());
                }
            }
        }
        groups.insert(id, group);
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn which_failures_stop_the_cycle() {
        use roster_scim_client::{ErrorKind, NotScim, Operation, StatusError};
        let status = |status: u16| {
            ErrorKind::Status(Box::new(StatusError {
                status,
                scim_type: None,
                detail: None,
                retry_after: None,
                rate_limited: false,
            }))
        };
        let not_scim = || {
            ErrorKind::BadResponse(Box::new(NotScim {
                reason: "not JSON".into(),
                content_type: Some("text/html".into()),
                excerpt: "<html>".into(),
            }))
        };
        let incompatible = || ErrorKind::Incompatible { reason: "not a ListResponse".into() };
        let cases = [
            (Operation::Create, status(401), true),
            (Operation::Patch, status(403), true),
            (Operation::Find, ErrorKind::Connect { cause: "refused".into() }, true),
            (Operation::Find, status(404), true),
            (Operation::Patch, status(404), false), // the object is gone, not the target
            (Operation::Find, not_scim(), true),    // SCIM compliance
            (Operation::Find, incompatible(), true),
            (Operation::Create, incompatible(), false), // one odd answer is the object's failure
            (Operation::Create, status(500), false),
            (Operation::Create, status(400), false),
            (Operation::Find, status(429), false),
        ];
        for (operation, kind, wholesale) in cases {
            let error = ClientError { operation, method: "GET", path: "/Users".into(), attempts: 1, kind };
            assert_eq!(is_wholesale(&error), wholesale, "{error}");
        }
    }

    #[test]
    fn the_escrow_proportion_threshold() {
        let counts = |created, failed| Counts { created, failed, ..Counts::default() };
        let cases = [
            (counts(0, 99), false),    // under the minimum
            (counts(0, 100), true),    // 100% of 100
            (counts(150, 100), false), // exactly 40%
            (counts(149, 100), true),  // just over 40%
            (counts(10_000, 500), false),
        ];
        for (counts, quarantined) in cases {
            assert_eq!(escrow_proportion(&counts).is_some(), quarantined, "{counts:?}");
        }
    }

    #[test]
    fn a_quarantine_continues_with_its_reason_and_restarts_with_another() {
        let (t1, t2) = (datetime!(2026-01-01 0:00 UTC), datetime!(2026-01-02 0:00 UTC));
        let mut state = JobState::default();
        let first = next_quarantine(&state, "EncounteredQuarantineException", "401".into(), t1);
        assert_eq!((first.since, first.cycles), (t1, 1));
        state.quarantine = Some(first);
        let again = next_quarantine(&state, "EncounteredQuarantineException", "401 again".into(), t2);
        assert_eq!((again.since, again.cycles, again.detail.as_str()), (t1, 2, "401 again"));
        state.quarantine = Some(again);
        let other = next_quarantine(&state, "TooManyDeletes", "600 > 500".into(), t2);
        assert_eq!((other.since, other.cycles), (t2, 1));
    }
}

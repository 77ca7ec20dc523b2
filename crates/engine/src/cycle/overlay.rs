//! The engine state a dry run works on: the real state underneath, and in memory what the run records (shadows of
//! objects it would create or change, exported members, log entries, the job state). Reads see both, as a cycle's
//! later phases must see what its earlier phases did (memberships need the users a plan would create); nothing
//! reaches the real state.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use roster_directory::ObjectId;
use time::OffsetDateTime;

use crate::dry_run::Plan;
use crate::log::{Action, LogEntry, ObjectKind, Status};
use crate::state::{Cycle, EngineStore, JobState, Lease, LogQuery, Record, Shadow, ShadowRef, ShadowState, StateError};

/// What a dry run recorded.
#[derive(Default)]
struct Recorded {
    /// A shadow put (`Some`) or deleted (`None`) by the run.
    shadows: HashMap<(ObjectKind, ObjectId), Option<Shadow>>,
    /// A group's exported members after the run changed them.
    members: HashMap<ObjectId, BTreeSet<ObjectId>>,
    /// The source object of each target object the run put a shadow for.
    targets: HashMap<(ObjectKind, String), ObjectId>,
    logs: Vec<LogEntry>,
    job: Option<JobState>,
}

/// The real engine state with a dry run's records on top.
pub(crate) struct Overlay {
    base: Arc<dyn EngineStore>,
    recorded: Mutex<Recorded>,
}

impl Overlay {
    pub(crate) fn new(base: Arc<dyn EngineStore>) -> Overlay {
        Overlay { base, recorded: Mutex::new(Recorded::default()) }
    }

    /// The log entries the run recorded that a plan notes (failures, warnings, staged deletes).
    pub(crate) fn logs(&self) -> Vec<LogEntry> {
        self.recorded.lock().unwrap_or_else(PoisonError::into_inner).logs.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.recorded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies the run's shadow records to shadows (or their references) read from the real state, for these ids.
    fn merge<T: FromShadow>(&self, kind: ObjectKind, ids: &[ObjectId], base: Vec<T>) -> Vec<T> {
        let recorded = self.lock();
        let mut merged: HashMap<ObjectId, T> =
            base.into_iter().map(|shadow| (shadow.source().clone(), shadow)).collect();
        for id in ids {
            match recorded.shadows.get(&(kind, id.clone())) {
                Some(Some(shadow)) => {
                    merged.insert(id.clone(), T::from_shadow(shadow));
                }
                Some(None) => {
                    merged.remove(id);
                }
                None => {}
            }
        }
        merged.into_values().collect()
    }
}

/// A shadow or its reference, as the overlay merges them.
trait FromShadow {
    fn source(&self) -> &ObjectId;
    fn from_shadow(shadow: &Shadow) -> Self;
}

impl FromShadow for Shadow {
    fn source(&self) -> &ObjectId {
        &self.source_id
    }

    fn from_shadow(shadow: &Shadow) -> Self {
        shadow.clone()
    }
}

impl FromShadow for ShadowRef {
    fn source(&self) -> &ObjectId {
        &self.source_id
    }

    fn from_shadow(shadow: &Shadow) -> Self {
        reference(shadow)
    }
}

fn reference(shadow: &Shadow) -> ShadowRef {
    ShadowRef { source_id: shadow.source_id.clone(), target_id: shadow.target_id.clone(), state: shadow.state }
}

#[async_trait]
impl EngineStore for Overlay {
    async fn job(&self, application: &str) -> Result<JobState, StateError> {
        let recorded = self.lock().job.clone();
        match recorded {
            Some(job) => Ok(job),
            None => self.base.job(application).await,
        }
    }

    async fn put_job(&self, _application: &str, state: &JobState) -> Result<(), StateError> {
        self.lock().job = Some(state.clone());
        Ok(())
    }

    /// A dry run writes nothing: the state stays in memory, as [`Overlay::put_job`] keeps it, and the audit entries
    /// are dropped.
    async fn put_job_audited(
        &self,
        application: &str,
        state: &JobState,
        _audit: &[roster_directory::audit::AuditEntry],
    ) -> Result<(), StateError> {
        self.put_job(application, state).await
    }

    async fn lease(&self, _: &str, _: &str, _: OffsetDateTime, _: OffsetDateTime) -> Result<bool, StateError> {
        Ok(true)
    }

    async fn release(&self, _: &str, _: &str) -> Result<(), StateError> {
        Ok(())
    }

    async fn lease_holder(&self, application: &str) -> Result<Option<Lease>, StateError> {
        self.base.lease_holder(application).await
    }

    async fn shadows(
        &self,
        application: &str,
        kind: ObjectKind,
        source_ids: &[ObjectId],
    ) -> Result<Vec<Shadow>, StateError> {
        let base = self.base.shadows(application, kind, source_ids).await?;
        Ok(self.merge(kind, source_ids, base))
    }

    async fn shadow_refs(
        &self,
        application: &str,
        kind: ObjectKind,
        source_ids: &[ObjectId],
    ) -> Result<Vec<ShadowRef>, StateError> {
        let base = self.base.shadow_refs(application, kind, source_ids).await?;
        Ok(self.merge(kind, source_ids, base))
    }

    async fn shadows_after(
        &self,
        application: &str,
        kind: ObjectKind,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> Result<Vec<Shadow>, StateError> {
        // The page of the real state, with the run's changes to those shadows; shadows the run created are not
        // listed (a cycle pages through shadows only to find those whose source object it did not see).
        let base = self.base.shadows_after(application, kind, after, limit).await?;
        let ids: Vec<ObjectId> = base.iter().map(|shadow| shadow.source_id.clone()).collect();
        let mut merged = self.merge(kind, &ids, base);
        merged.sort_by(|a, b| a.source_id.cmp(&b.source_id));
        Ok(merged)
    }

    async fn shadow_counts(&self, application: &str) -> Result<Vec<(ObjectKind, ShadowState, u64)>, StateError> {
        self.base.shadow_counts(application).await
    }

    async fn members(&self, application: &str, group: &ObjectId) -> Result<Vec<ObjectId>, StateError> {
        let recorded = self.lock().members.get(group).cloned();
        match recorded {
            Some(members) => Ok(members.into_iter().collect()),
            None => self.base.members(application, group).await,
        }
    }

    async fn record(&self, application: &str, batch: Vec<Record>) -> Result<(), StateError> {
        for record in batch {
            match record {
                Record::PutShadow(mut shadow) => {
                    // A run reads an object's shadow (with its exported values) once, before exporting it; what
                    // it records is read afterwards only for its identity and state (memberships, ownership). The
                    // values are not kept: 100,000 planned creates would hold them all in memory.
                    shadow.exported.clear();
                    let mut recorded = self.lock();
                    recorded.targets.insert((shadow.kind, shadow.target_id.clone()), shadow.source_id.clone());
                    recorded.shadows.insert((shadow.kind, shadow.source_id.clone()), Some(shadow));
                }
                Record::DeleteShadow { kind, source_id } => {
                    let mut recorded = self.lock();
                    if kind == ObjectKind::Group {
                        recorded.members.insert(source_id.clone(), BTreeSet::new());
                    }
                    recorded.shadows.insert((kind, source_id), None);
                }
                Record::Members { group, added, removed } => {
                    let mut members: BTreeSet<ObjectId> =
                        self.members(application, &group).await?.into_iter().collect();
                    members.extend(added);
                    for member in &removed {
                        members.remove(member);
                    }
                    self.lock().members.insert(group, members);
                }
                // Only what a plan notes (failures, warnings, staged deletes): the writes are its operations, and
                // a plan of 100,000 creates would otherwise hold 100,000 log entries as well.
                Record::Log(entry) => {
                    if matches!(entry.status, Status::Failure | Status::Warning) || entry.action == Action::StagedDelete
                    {
                        self.lock().logs.push(*entry);
                    }
                }
            }
        }
        Ok(())
    }

    async fn put_cycle(&self, _application: &str, _cycle: &Cycle) -> Result<(), StateError> {
        Ok(())
    }

    async fn cycles(&self, application: &str, limit: usize) -> Result<Vec<Cycle>, StateError> {
        self.base.cycles(application, limit).await
    }

    async fn logs(&self, application: &str, query: &LogQuery) -> Result<Vec<LogEntry>, StateError> {
        self.base.logs(application, query).await
    }

    async fn forget_shadows(&self, _application: &str) -> Result<(), StateError> {
        Err(StateError::Conflict("a dry run does not forget shadows".to_owned()))
    }

    async fn shadow_for_target(
        &self,
        application: &str,
        kind: ObjectKind,
        target_id: &str,
    ) -> Result<Option<ShadowRef>, StateError> {
        let recorded = {
            let recorded = self.lock();
            recorded
                .targets
                .get(&(kind, target_id.to_owned()))
                .and_then(|source| recorded.shadows.get(&(kind, source.clone())))
                .and_then(|shadow| shadow.as_ref().filter(|shadow| shadow.target_id == target_id).map(reference))
        };
        if recorded.is_some() {
            return Ok(recorded);
        }
        let base = self.base.shadow_for_target(application, kind, target_id).await?;
        // A shadow the run deleted manages nothing any more.
        let deleted =
            |shadow: &ShadowRef| matches!(self.lock().shadows.get(&(kind, shadow.source_id.clone())), Some(None));
        Ok(base.filter(|shadow| !deleted(shadow)))
    }

    async fn put_plan(&self, application: &str, plan: &Plan) -> Result<(), StateError> {
        self.base.put_plan(application, plan).await
    }

    async fn plan(&self, application: &str, id: &str) -> Result<Option<Plan>, StateError> {
        self.base.plan(application, id).await
    }

    async fn plan_ids(&self, application: &str, limit: usize) -> Result<Vec<String>, StateError> {
        self.base.plan_ids(application, limit).await
    }
}

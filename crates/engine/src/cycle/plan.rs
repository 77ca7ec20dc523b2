//! The order of a cycle: users, then groups, then memberships, then disables and deletes. Each phase reads its
//! objects a page at a time and exports a page concurrently (the client bounds the requests in flight).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use roster_directory::ObjectId;
use roster_directory::port::Changed;
use tokio::task::JoinSet;

use super::objects::{Deprovision, Entry, Processed, Subject, deprovision, process, rng};
use super::{Context, CycleError, PAGE, members};
use crate::log::{Action, Status, Step, StepKind};

/// Groups whose memberships are reconciled at once.
const MEMBERSHIP_TASKS: usize = 8;
use crate::log::ObjectKind;
use crate::state::{JobState, Shadow};

/// Which objects a cycle evaluates.
pub(crate) enum Work {
    /// Every object (an initial cycle).
    Everything,
    /// The objects the change log (and the retry lists) name.
    Some {
        users: BTreeSet<ObjectId>,
        groups: BTreeSet<ObjectId>,
        /// Groups whose memberships may have changed: `None` compares every member (the group or its members
        /// changed), `Some(users)` only these users (they changed, the group did not).
        memberships: BTreeMap<ObjectId, Option<BTreeSet<ObjectId>>>,
    },
}

impl Work {
    pub(crate) fn everything() -> Work {
        Work::Everything
    }

    /// Which objects the cycle evaluates, for the escrows: every one, or the named ones.
    pub(crate) fn evaluated(&self) -> Evaluated {
        match self {
            Work::Everything => Evaluated::All,
            Work::Some { users, groups, .. } => Evaluated::Some {
                users: users.iter().map(|id| id.as_str().to_owned()).collect(),
                groups: groups.iter().map(|id| id.as_str().to_owned()).collect(),
            },
        }
    }

    /// The objects an incremental cycle evaluates.
    pub(crate) async fn from_changes(
        changes: &[Changed],
        state: &JobState,
        context: &Context,
        now: time::OffsetDateTime,
    ) -> Result<Work, CycleError> {
        let mut users = BTreeSet::new();
        let mut groups = BTreeSet::new();
        let mut whole = BTreeSet::new();
        let parse = |ids: &[String]| ids.iter().filter_map(|id| ObjectId::parse(id).ok()).collect::<Vec<_>>();
        for escrow in state.escrows.iter().filter(|escrow| crate::escrow::is_due(escrow, now)) {
            let Ok(id) = ObjectId::parse(&escrow.source_id) else { continue };
            match escrow.kind {
                ObjectKind::User => users.insert(id),
                ObjectKind::Group => groups.insert(id),
            };
        }
        users.extend(parse(&state.staged_users));
        groups.extend(parse(&state.staged_groups));
        for change in changes {
            match change {
                Changed::User(id) => {
                    users.insert(id.clone());
                }
                Changed::Group(id) => {
                    groups.insert(id.clone());
                }
                Changed::Membership { group, member } => {
                    whole.insert(group.clone());
                    match context.group_index.get(member) {
                        // A nested group joined or left: its members' entitlement and every flattened group may
                        // change.
                        Some(nested) => {
                            whole.extend(context.group_index.keys().cloned());
                            users.extend(nested.members.iter().cloned());
                        }
                        None => {
                            users.insert(member.clone());
                        }
                    }
                }
                Changed::Assignment { application, principal } if *application == context.application => {
                    users.insert(principal.clone());
                    groups.insert(principal.clone());
                    match context.group_index.get(principal) {
                        Some(group) => users.extend(context.entitlements.members(group, &context.group_index)),
                        // An unassigned group: the users it entitled are the members roster exported to it.
                        None => users.extend(context.job.state.members(&context.application, principal).await?),
                    }
                }
                Changed::Assignment { .. } | Changed::Application(_) => {}
            }
        }
        whole.extend(groups.iter().cloned());
        let mut memberships: BTreeMap<ObjectId, Option<BTreeSet<ObjectId>>> =
            whole.into_iter().map(|group| (group, None)).collect();
        // A changed user may join or leave every group that holds it: those groups compare just the changed users.
        for (id, group) in &context.group_index {
            if memberships.contains_key(id) {
                continue;
            }
            let changed: BTreeSet<ObjectId> = context
                .entitlements
                .members(group, &context.group_index)
                .into_iter()
                .filter(|member| users.contains(member))
                .collect();
            if !changed.is_empty() {
                memberships.insert(id.clone(), Some(changed));
            }
        }
        Ok(Work::Some { users, groups, memberships })
    }
}

/// The objects a cycle evaluated.
pub(crate) enum Evaluated {
    All,
    Some { users: HashSet<String>, groups: HashSet<String> },
}

impl Evaluated {
    pub(crate) fn contains(&self, kind: ObjectKind, id: &str) -> bool {
        match (self, kind) {
            (Evaluated::All, _) => true,
            (Evaluated::Some { users, .. }, ObjectKind::User) => users.contains(id),
            (Evaluated::Some { groups, .. }, ObjectKind::Group) => groups.contains(id),
        }
    }
}

/// Runs the phases.
pub(crate) async fn run(context: &Arc<Context>, work: Work) -> Result<(), CycleError> {
    let directory = Arc::clone(&context.job.directory);
    let (user_count, group_count) = directory.counts().await?;
    let mut leaving: Vec<Deprovision> = Vec::new();
    match &work {
        Work::Everything => {
            context.add_total(user_count + 2 * group_count);
            leaving.extend(every_object(context, ObjectKind::User).await?);
            if context.job.definition.groups.enabled {
                leaving.extend(every_object(context, ObjectKind::Group).await?);
            }
        }
        Work::Some { users, groups, memberships } => {
            context.add_total((users.len() + 2 * groups.len() + memberships.len()) as u64);
            leaving.extend(some_objects(context, ObjectKind::User, users).await?);
            if context.job.definition.groups.enabled {
                leaving.extend(some_objects(context, ObjectKind::Group, groups).await?);
            }
        }
    }
    context.recorder.flush().await;
    // The accidental-deletion guard decides now: staged users stay members of their groups until allowed.
    let definition = &context.job.definition;
    let staging = !context.stopped()
        && definition.prevent_accidental_deletions
        && leaving.len() as u64 > definition.deletion_threshold
        && !context.force_deletes;
    // Memberships, after users and groups exist in the target (and their shadows are written).
    if context.job.definition.groups.enabled && context.groups.maps_members() && !context.stopped() {
        let leaving_users: Arc<HashSet<ObjectId>> = Arc::new(
            leaving
                .iter()
                .filter(|work| !staging && work.shadow.kind == ObjectKind::User)
                .map(|work| work.shadow.source_id.clone())
                .collect(),
        );
        // Groups about to be deleted keep their members until then.
        let leaving_groups: HashSet<ObjectId> = leaving
            .iter()
            .filter(|work| work.shadow.kind == ObjectKind::Group)
            .map(|work| work.shadow.source_id.clone())
            .collect();
        let candidates: Vec<(ObjectId, Option<Arc<BTreeSet<ObjectId>>>)> = match &work {
            Work::Everything => context.group_index.keys().map(|id| (id.clone(), None)).collect(),
            Work::Some { memberships, .. } => {
                memberships.iter().map(|(id, only)| (id.clone(), only.clone().map(Arc::new))).collect()
            }
        };
        // A few groups at a time: a big group's members are many rows, and the client bounds the requests anyway.
        let turns = Arc::new(tokio::sync::Semaphore::new(MEMBERSHIP_TASKS));
        for chunk in candidates.chunks(PAGE) {
            let ids: Vec<ObjectId> = chunk.iter().map(|(id, _)| id.clone()).collect();
            let only: HashMap<&ObjectId, &Option<Arc<BTreeSet<ObjectId>>>> =
                chunk.iter().map(|(id, only)| (id, only)).collect();
            let shadows = context.job.state.shadows(&context.application, ObjectKind::Group, &ids).await?;
            let mut tasks = JoinSet::new();
            for shadow in shadows.into_iter().filter(|shadow| !leaving_groups.contains(&shadow.source_id)) {
                let only = only.get(&shadow.source_id).and_then(|only| (*only).clone());
                let (context, leaving, turns) = (Arc::clone(context), Arc::clone(&leaving_users), Arc::clone(&turns));
                tasks.spawn(async move {
                    let Ok(_turn) = turns.acquire_owned().await else { return };
                    members::reconcile(context, shadow, leaving, only).await;
                });
            }
            while tasks.join_next().await.is_some() {}
            context.advance(chunk.len() as u64);
            context.report("memberships");
        }
    }
    context.recorder.flush().await;
    // Disables and deletes last, unless there are too many of them.
    if staging {
        stage(context, leaving).await;
    } else if !context.stopped() {
        context.add_total(leaving.len() as u64);
        let mut tasks = JoinSet::new();
        for work in leaving {
            tasks.spawn(deprovision(Arc::clone(context), work));
        }
        while tasks.join_next().await.is_some() {}
        context.report("deprovisioning");
    }
    Ok(())
}

/// The accidental-deletion guard: logs each held-back disable or delete as a `StagedDelete`, remembers the objects
/// for the next cycle and puts the job in quarantine (`TooManyDeletes`) until an admin allows the deletes.
async fn stage(context: &Arc<Context>, leaving: Vec<Deprovision>) {
    let threshold = context.job.definition.deletion_threshold;
    let count = leaving.len();
    let detail = format!(
        "{count} disables and deletes in one cycle exceed the threshold of {threshold}; they are staged, not sent. \
         If they are intended, run `roster app allow-deletes {}`; if not, fix the cause (assignments, scoping, the \
         directory) and the next cycle sees the objects again",
        context.application
    );
    for work in leaving {
        let kind = work.shadow.kind;
        let id = work.shadow.source_id.clone();
        let mut entry =
            Entry { context, kind, id: &id, name: work.subject_name.clone(), started: std::time::Instant::now() };
        let step = Step {
            kind: StepKind::Processing,
            status: Status::Skipped,
            description: format!(
                "Staged: would be {} ({})",
                if work.delete { "deleted" } else { "disabled" },
                work.reason
            ),
            details: Vec::new(),
        };
        entry
            .log(
                Action::StagedDelete,
                Status::Skipped,
                Some(work.shadow.target_id.clone()),
                vec![step],
                Vec::new(),
                Some(("TooManyDeletes", detail.clone())),
            )
            .await;
        context.count(|counts| counts.staged += 1);
        context.staged(kind, &id);
    }
    context.quarantine("TooManyDeletes", detail);
    context.report("deprovisioning");
}

/// Every directory object of a kind, page by page, then the shadows whose source left the directory.
async fn every_object(context: &Arc<Context>, kind: ObjectKind) -> Result<Vec<Deprovision>, CycleError> {
    let directory = Arc::clone(&context.job.directory);
    let mut leaving = Vec::new();
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut after: Option<ObjectId> = None;
    loop {
        if context.stopped() {
            return Ok(leaving);
        }
        let mut rng = rng();
        let subjects: Vec<Subject> = match kind {
            ObjectKind::User => {
                let page = directory.users_after(after.as_ref(), PAGE).await?;
                page.iter().map(|user| context.user_subject(user.id().clone(), Some(user), &mut rng)).collect()
            }
            ObjectKind::Group => {
                let page = directory.groups_after(after.as_ref(), PAGE).await?;
                page.iter().map(|group| context.group_subject(group.id().clone(), Some(group), &mut rng)).collect()
            }
        };
        let Some(last) = subjects.last() else { break };
        after = Some(last.id.clone());
        let full = subjects.len() == PAGE;
        seen.extend(subjects.iter().map(|subject| subject.id.clone()));
        leaving.extend(export_page(context, kind, subjects).await?);
        if !full {
            break;
        }
    }
    // Shadows whose source object no longer exists: hard-deleted while roster was not looking.
    let mut after: Option<ObjectId> = None;
    loop {
        let page = context.job.state.shadows_after(&context.application, kind, after.as_ref(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.source_id.clone());
        let full = page.len() == PAGE;
        let gone: Vec<Subject> = page
            .iter()
            .filter(|shadow| !seen.contains(&shadow.source_id))
            .map(|shadow| Subject {
                kind,
                id: shadow.source_id.clone(),
                name: None,
                verdict: super::objects::Verdict::Gone,
                steps: Vec::new(),
            })
            .collect();
        if !gone.is_empty() {
            leaving.extend(export_page(context, kind, gone).await?);
        }
        if !full {
            break;
        }
    }
    Ok(leaving)
}

/// The named objects of a kind.
async fn some_objects(
    context: &Arc<Context>,
    kind: ObjectKind,
    ids: &BTreeSet<ObjectId>,
) -> Result<Vec<Deprovision>, CycleError> {
    let directory = Arc::clone(&context.job.directory);
    let ids: Vec<ObjectId> = ids.iter().cloned().collect();
    let mut leaving = Vec::new();
    for chunk in ids.chunks(PAGE) {
        if context.stopped() {
            break;
        }
        let mut rng = rng();
        let mut subjects = Vec::with_capacity(chunk.len());
        for id in chunk {
            let subject = match kind {
                ObjectKind::User => {
                    let user = directory.user(id).await?;
                    // An id that names a group (an assignment or membership change of a group) is not a user.
                    if user.is_none() && context.group_index.contains_key(id) {
                        continue;
                    }
                    context.user_subject(id.clone(), user.as_ref(), &mut rng)
                }
                ObjectKind::Group => {
                    let group = directory.group(id).await?;
                    if group.is_none() && directory.user(id).await?.is_some() {
                        continue;
                    }
                    context.group_subject(id.clone(), group.as_ref(), &mut rng)
                }
            };
            subjects.push(subject);
        }
        leaving.extend(export_page(context, kind, subjects).await?);
    }
    Ok(leaving)
}

/// Objects between two progress reports within a page.
const REPORT_EVERY: u64 = 50;

/// Processes a page of subjects concurrently, each with its shadow.
async fn export_page(
    context: &Arc<Context>,
    kind: ObjectKind,
    subjects: Vec<Subject>,
) -> Result<Vec<Deprovision>, CycleError> {
    let ids: Vec<ObjectId> = subjects.iter().map(|subject| subject.id.clone()).collect();
    let mut shadows: HashMap<ObjectId, Shadow> = context
        .job
        .state
        .shadows(&context.application, kind, &ids)
        .await?
        .into_iter()
        .map(|shadow| (shadow.source_id.clone(), shadow))
        .collect();
    let count = subjects.len() as u64;
    let mut tasks = JoinSet::new();
    for subject in subjects {
        let shadow = shadows.remove(&subject.id);
        tasks.spawn(process(Arc::clone(context), subject, shadow));
    }
    let phase = match kind {
        ObjectKind::User => "users",
        ObjectKind::Group => "groups",
    };
    let mut leaving = Vec::new();
    let mut joined_count = 0;
    while let Some(joined) = tasks.join_next().await {
        if let Ok(Processed { deprovision: Some(work) }) = joined {
            leaving.push(work);
        }
        // Progress within the page as well: under a rate budget (GitHub's, 3 writes a second) a page of 1,000
        // takes minutes.
        context.advance(1);
        joined_count += 1;
        if joined_count % REPORT_EVERY == 0 && joined_count < count {
            context.report(phase);
        }
    }
    context.report(phase);
    Ok(leaving)
}

//! The order of a cycle: users, then groups, then memberships, then disables and deletes. Each phase reads its
//! objects a page at a time and exports a page concurrently (the client bounds the requests in flight).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use roster_directory::ObjectId;
use roster_directory::port::Changed;
use tokio::task::JoinSet;

use super::objects::{Deprovision, Processed, Subject, deprovision, process, rng};
use super::{Context, CycleError, PAGE, members};
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
        /// Groups whose memberships may have changed (changed groups and groups of changed users).
        memberships: BTreeSet<ObjectId>,
    },
}

impl Work {
    pub(crate) fn everything() -> Work {
        Work::Everything
    }

    /// The objects an incremental cycle evaluates.
    pub(crate) async fn from_changes(
        changes: &[Changed],
        state: &JobState,
        context: &Context,
    ) -> Result<Work, CycleError> {
        let mut users = BTreeSet::new();
        let mut groups = BTreeSet::new();
        let mut memberships = BTreeSet::new();
        let parse = |ids: &[String]| ids.iter().filter_map(|id| ObjectId::parse(id).ok()).collect::<Vec<_>>();
        users.extend(parse(&state.retry_users));
        groups.extend(parse(&state.retry_groups));
        for change in changes {
            match change {
                Changed::User(id) => {
                    users.insert(id.clone());
                }
                Changed::Group(id) => {
                    groups.insert(id.clone());
                }
                Changed::Membership { group, member } => {
                    memberships.insert(group.clone());
                    match context.group_index.get(member) {
                        // A nested group joined or left: its members' entitlement and every flattened group may
                        // change.
                        Some(nested) => {
                            memberships.extend(context.group_index.keys().cloned());
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
        // A changed user may join or leave every group that holds it.
        for (id, group) in &context.group_index {
            if context.entitlements.members(group, &context.group_index).iter().any(|member| users.contains(member)) {
                memberships.insert(id.clone());
            }
        }
        memberships.extend(groups.iter().cloned());
        Ok(Work::Some { users, groups, memberships })
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
    // Memberships, after users and groups exist in the target.
    if context.job.definition.groups.enabled && context.groups.maps_members() && !context.stopped() {
        let leaving_users: Arc<HashSet<ObjectId>> = Arc::new(
            leaving
                .iter()
                .filter(|work| work.shadow.kind == ObjectKind::User)
                .map(|work| work.shadow.source_id.clone())
                .collect(),
        );
        let candidates: Vec<ObjectId> = match &work {
            Work::Everything => context.group_index.keys().cloned().collect(),
            Work::Some { memberships, .. } => memberships.iter().cloned().collect(),
        };
        for chunk in candidates.chunks(PAGE) {
            let shadows = context.job.state.shadows(&context.application, ObjectKind::Group, chunk).await?;
            let mut tasks = JoinSet::new();
            for shadow in shadows {
                tasks.spawn(members::reconcile(Arc::clone(context), shadow, Arc::clone(&leaving_users)));
            }
            while tasks.join_next().await.is_some() {}
            context.advance(chunk.len() as u64);
            context.report("memberships");
        }
    }
    // Disables and deletes last.
    if !context.stopped() {
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
    let mut leaving = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(Processed { deprovision: Some(work) }) = joined {
            leaving.push(work);
        }
    }
    context.advance(count);
    context.report(match kind {
        ObjectKind::User => "users",
        ObjectKind::Group => "groups",
    });
    Ok(leaving)
}

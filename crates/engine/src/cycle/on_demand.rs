//! Provision on demand: one user, or one group with up to five of its members, through the same steps as a cycle
//! (test connection, import, scope, match, action), at once, outside the cycle: no lease, no watermark, no escrow
//! change, so a running cycle is not disturbed; its log entries say an admin started it. A disable or delete it
//! decides is sent at once (Entra supports disabling an unassigned user on demand).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::StdRng;
use roster_directory::ObjectId;

use super::objects::{deprovision, process};
use super::{Context, CycleError, Job, NoProgress, Settings, build_context, members};
use crate::log::{Initiator, LogEntry, ObjectKind};
use crate::state::{CycleKind, LogQuery};

/// The most members of a group provisioned on demand at once (as Entra).
pub const MAX_GROUP_MEMBERS: usize = 5;

/// What to provision on demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnDemandObject {
    /// One user.
    User(ObjectId),
    /// One group and some of its members: the ones named, or every member when it has at most
    /// [`MAX_GROUP_MEMBERS`].
    Group {
        /// The group.
        id: ObjectId,
        /// The members to provision with it; empty means all of them (when they are few enough).
        members: Vec<ObjectId>,
    },
}

/// What provisioning on demand did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnDemand {
    /// The target failed the connection test: nothing else was done.
    ConnectionFailed(String),
    /// The object does not exist in the directory.
    NotFound,
    /// The group has more members than can be provisioned on demand, and none were chosen.
    TooManyMembers(usize),
    /// A chosen member is not a direct member of the group.
    NotAMember(ObjectId),
    /// The definition does not provision groups (`groups.enabled` is false).
    GroupsOff,
    /// The steps ran; one entry per object that needed something, in order (they are in the provisioning logs
    /// too).
    Done(Vec<LogEntry>),
    /// The steps ran and there was nothing to do (the target already matches).
    NothingToDo,
}

/// Runs one object through the steps now.
pub async fn provision_on_demand(job: Job, object: OnDemandObject) -> Result<OnDemand, CycleError> {
    if let Err(problem) = job.client.test_connection().await {
        return Ok(OnDemand::ConnectionFailed(problem.to_string()));
    }
    let run = format!("on-demand-{}", uuid::Uuid::new_v4());
    let settings = Settings {
        kind: CycleKind::Incremental,
        empty_target: [false, false],
        force_deletes: true,
        initiator: Initiator::User,
        writes: super::writes::Writes::Send,
    };
    let context = build_context(&job, run.clone(), Arc::new(NoProgress), settings).await?;
    let outcome = match object {
        OnDemandObject::User(user) => user_on_demand(&context, user).await?,
        OnDemandObject::Group { id, members } => group_on_demand(&context, id, members).await?,
    };
    context.recorder.close().await;
    if let Some(early) = outcome {
        return Ok(early);
    }
    let query = LogQuery { cycle: Some(run), limit: 100, ..LogQuery::default() };
    let mut entries = job.state.logs(&context.application, &query).await?;
    entries.reverse(); // oldest first: the order the steps ran in
    Ok(if entries.is_empty() { OnDemand::NothingToDo } else { OnDemand::Done(entries) })
}

/// One user: processed, and disabled or deleted at once when that is what it needs. `Some` answers early.
async fn user_on_demand(context: &Arc<Context>, user: ObjectId) -> Result<Option<OnDemand>, CycleError> {
    let Some(found) = context.job.directory.user(&user).await? else {
        return Ok(Some(OnDemand::NotFound));
    };
    let mut rng = StdRng::from_entropy();
    let subject = context.user_subject(user.clone(), Some(&found), &mut rng);
    let shadow = context.job.state.shadows(&context.application, ObjectKind::User, std::slice::from_ref(&user)).await?;
    let processed = process(Arc::clone(context), subject, shadow.into_iter().next()).await;
    if let Some(work) = processed.deprovision {
        deprovision(Arc::clone(context), work).await;
    }
    Ok(None)
}

/// One group: the group itself, then each chosen member, then the group's membership of just those members.
async fn group_on_demand(
    context: &Arc<Context>,
    id: ObjectId,
    chosen: Vec<ObjectId>,
) -> Result<Option<OnDemand>, CycleError> {
    if !context.job.definition.groups.enabled {
        return Ok(Some(OnDemand::GroupsOff));
    }
    let Some(group) = context.job.directory.group(&id).await? else {
        return Ok(Some(OnDemand::NotFound));
    };
    let directory_users: Vec<ObjectId> = {
        let mut users = Vec::new();
        for member in &group.members {
            if context.job.directory.user(member).await?.is_some() {
                users.push(member.clone());
            }
        }
        users
    };
    let members = if chosen.is_empty() {
        if directory_users.len() > MAX_GROUP_MEMBERS {
            return Ok(Some(OnDemand::TooManyMembers(directory_users.len())));
        }
        directory_users
    } else {
        if chosen.len() > MAX_GROUP_MEMBERS {
            return Ok(Some(OnDemand::TooManyMembers(chosen.len())));
        }
        if let Some(stranger) = chosen.iter().find(|member| !directory_users.contains(member)) {
            return Ok(Some(OnDemand::NotAMember(stranger.clone())));
        }
        chosen
    };
    let mut rng = StdRng::from_entropy();
    let subject = context.group_subject(id.clone(), Some(&group), &mut rng);
    let shadow = context.job.state.shadows(&context.application, ObjectKind::Group, std::slice::from_ref(&id)).await?;
    let processed = process(Arc::clone(context), subject, shadow.into_iter().next()).await;
    if let Some(work) = processed.deprovision {
        deprovision(Arc::clone(context), work).await;
        return Ok(None);
    }
    for member in &members {
        user_on_demand(context, member.clone()).await?;
    }
    // The members' memberships: only these members are compared, so the group's other members stay as they are.
    context.recorder.flush().await;
    let shadow = context.job.state.shadows(&context.application, ObjectKind::Group, std::slice::from_ref(&id)).await?;
    if let Some(shadow) = shadow.into_iter().next()
        && context.job.definition.groups.enabled
        && context.groups.maps_members()
    {
        let only: BTreeSet<ObjectId> = members.into_iter().collect();
        members::reconcile(Arc::clone(context), shadow, Arc::new(HashSet::new()), Some(Arc::new(only))).await;
    }
    Ok(None)
}

//! Group memberships: after users and groups, each target group gets the members it lacks and loses the ones it
//! should not have, many per PATCH. A member is wanted when it is a (flattened, with nesting) member in the
//! directory, provisioned, active in the target and not about to be disabled or deleted.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use roster_directory::ObjectId;
use roster_scim_client::Change;

use super::Context;
use super::objects::{Entry, export_step};
use crate::diff::member_changes;
use crate::log::{Action, ModifiedProperty, ObjectKind, Status, Step, StepKind};
use crate::state::{Record, Shadow, ShadowRef, ShadowState};

/// Brings one target group's members in step. `leaving` holds users about to be disabled or deleted. With `only`,
/// just these members are compared (the group itself did not change, these users did); else every member.
pub(crate) async fn reconcile(
    context: Arc<Context>,
    group: Shadow,
    leaving: Arc<HashSet<ObjectId>>,
    only: Option<Arc<BTreeSet<ObjectId>>>,
) {
    if context.stopped() || group.state != ShadowState::Active {
        return;
    }
    let started = Instant::now();
    let application = &context.application;
    let state = &context.job.state;
    let relevant = |member: &ObjectId| only.as_ref().is_none_or(|only| only.contains(member));
    let directory_members: Vec<ObjectId> = match context.group_index.get(&group.source_id) {
        Some(source) => {
            context.entitlements.members(source, &context.group_index).into_iter().filter(relevant).collect()
        }
        None => Vec::new(),
    };
    let exported: Vec<ObjectId> = match state.members(application, &group.source_id).await {
        Ok(members) => members.into_iter().filter(relevant).collect(),
        Err(error) => {
            tracing::error!(%error, "could not read exported members");
            context.failed(ObjectKind::Group, &group.source_id);
            return;
        }
    };
    // Shadows of every member involved: the wanted ones and the exported ones.
    let mut ids: Vec<ObjectId> = directory_members.clone();
    ids.extend(exported.iter().cloned());
    ids.sort();
    ids.dedup();
    let mut shadows: HashMap<ObjectId, ShadowRef> = HashMap::new();
    for chunk in ids.chunks(1000) {
        match state.shadow_refs(application, ObjectKind::User, chunk).await {
            Ok(found) => shadows.extend(found.into_iter().map(|shadow| (shadow.source_id.clone(), shadow))),
            Err(error) => {
                tracing::error!(%error, "could not read member shadows");
                context.failed(ObjectKind::Group, &group.source_id);
                return;
            }
        }
    }
    let wanted: BTreeSet<ObjectId> = directory_members
        .into_iter()
        .filter(|member| {
            !leaving.contains(member) && shadows.get(member).is_some_and(|shadow| shadow.state == ShadowState::Active)
        })
        .collect();
    let exported: BTreeSet<ObjectId> = exported.into_iter().collect();
    let (added, removed) = member_changes(&exported, &wanted);
    if added.is_empty() && removed.is_empty() {
        return;
    }
    let target = |member: &ObjectId| shadows.get(member).map(|shadow| shadow.target_id.clone());
    let add_ids: Vec<String> = added.iter().filter_map(target).collect();
    // A removed member without a shadow was deleted from the target, which took it out of its groups.
    let remove_ids: Vec<String> = removed.iter().filter_map(target).collect();
    let mut changes = Vec::new();
    if !add_ids.is_empty() {
        changes.push(Change::AddMembers(add_ids.clone()));
    }
    if !remove_ids.is_empty() {
        changes.push(Change::RemoveMembers(remove_ids.clone()));
    }
    let mut entry = Entry {
        context: &context,
        kind: ObjectKind::Group,
        id: &group.source_id,
        name: context.group_index.get(&group.source_id).map(|group| group.display_name().to_owned()),
        started,
    };
    let steps = vec![Step {
        kind: StepKind::ReferenceResolution,
        status: Status::Success,
        description: format!("{} members to add, {} to remove", added.len(), removed.len()),
        details: Vec::new(),
    }];
    let modified = vec![ModifiedProperty {
        name: "members".to_owned(),
        old: None,
        new: Some(format!("+{} −{}", added.len(), removed.len())),
    }];
    if !changes.is_empty() {
        let operation = || {
            let mut operation = entry.operation(Action::Update, Some(&group.target_id), Vec::new());
            operation.members_added = added.iter().map(|id| id.as_str().to_owned()).collect();
            operation.members_removed = removed.iter().map(|id| id.as_str().to_owned()).collect();
            operation
        };
        match context.patch(ObjectKind::Group, operation, &group.target_id, &changes).await {
            Ok(Some(())) => {}
            Ok(None) => return,
            Err(error) => {
                entry.fail(&error, Action::Update, Some(group.target_id.clone()), steps, modified).await;
                return;
            }
        }
    }
    context.count(|counts| {
        counts.members_added += add_ids.len() as u64;
        counts.members_removed += remove_ids.len() as u64;
    });
    let mut steps = steps;
    steps.push(export_step(Status::Success, "Updated the group's members in the target"));
    let record = Record::Members { group: group.source_id.clone(), added, removed };
    entry.log_with(record, Action::Update, Status::Success, Some(group.target_id.clone()), steps, modified, None).await;
}

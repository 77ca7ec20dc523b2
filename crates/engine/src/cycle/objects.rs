//! Users and groups, one object at a time: scope, map, match, diff, export, record.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use roster_directory::{Group, ObjectId, User};
use roster_scim_client::{Change, ClientError};
use serde_json::Value;

use super::writes::client_kind;
use super::{Context, is_wholesale};
use crate::definition::ObjectMapping;
use crate::diff::{AttributeChange, apply_changes, attribute_changes};
use crate::dry_run::Operation;
use crate::log::{Action, Initiator, LogEntry, ModifiedProperty, ObjectKind, Status, Step, StepKind};
use crate::mapping::{Desired, Mapper};
use crate::source::{GroupSource, UserSource};
use crate::state::{Origin, Record, Shadow, ShadowState};

/// A source object with what scoping and mapping decided about it.
pub(crate) struct Subject {
    pub(crate) kind: ObjectKind,
    pub(crate) id: ObjectId,
    pub(crate) name: Option<String>,
    pub(crate) verdict: Verdict,
    pub(crate) steps: Vec<Step>,
}

pub(crate) enum Verdict {
    /// Hard-deleted from the directory.
    Gone,
    /// Not to be provisioned (or to be deprovisioned): the reason in words, and whether it is worth a log entry
    /// when the object was never provisioned (a scoping filter or a disabled account: yes; not assigned: no).
    OutOfScope { reason: String, loggable: bool },
    /// The mappings failed for this object.
    Broken { code: &'static str, reason: String },
    /// To be provisioned with these values (and these on create).
    InScope { update: Desired, create: Desired },
}

/// What scoping decided about a subject, for its steps.
struct Scoped {
    kind: ObjectKind,
    /// The import step's description.
    imported: String,
    /// Why it is out of scope, and whether that is worth a log entry; `None` when in scope.
    reason: Option<(String, bool)>,
    /// The scoping step's description when in scope.
    in_scope: &'static str,
    /// The scoping clauses and their results.
    details: Vec<(String, String)>,
}

/// A disable or delete, held until users, groups and memberships are done.
pub(crate) struct Deprovision {
    pub(crate) subject_name: Option<String>,
    pub(crate) shadow: Shadow,
    pub(crate) delete: bool,
    pub(crate) reason: String,
}

fn core_schema(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::User => "urn:ietf:params:scim:schemas:core:2.0:User",
        ObjectKind::Group => "urn:ietf:params:scim:schemas:core:2.0:Group",
    }
}

impl Context {
    pub(crate) fn mapper(&self, kind: ObjectKind) -> &Mapper {
        match kind {
            ObjectKind::User => &self.users,
            ObjectKind::Group => &self.groups,
        }
    }

    pub(crate) fn object_mapping(&self, kind: ObjectKind) -> &ObjectMapping {
        match kind {
            ObjectKind::User => &self.job.definition.users,
            ObjectKind::Group => &self.job.definition.groups,
        }
    }

    /// Scopes and maps a user (`None`: hard-deleted).
    pub(crate) fn user_subject(&self, id: ObjectId, user: Option<&User>, rng: &mut StdRng) -> Subject {
        let Some(user) = user else {
            return Subject { kind: ObjectKind::User, id, name: None, verdict: Verdict::Gone, steps: Vec::new() };
        };
        let name = Some(user.user_principal_name().to_string());
        let roles = self.entitlements.user(&id);
        let entitled = roles.is_some();
        let roles = roles.unwrap_or(&[]);
        let probe = UserSource { user, is_soft_deleted: false, roles };
        let filtered_out = !self.user_scoping.passes(&probe);
        let reason = if !entitled {
            Some(("the user is not assigned to the application".to_owned(), false))
        } else if filtered_out {
            Some(("the user does not pass the scoping filters".to_owned(), true))
        } else if user.deleted_date_time.is_some() {
            Some(("the user is soft-deleted".to_owned(), true))
        } else if !user.account_enabled {
            Some(("the user is disabled (accountEnabled is false)".to_owned(), true))
        } else {
            None
        };
        let details = self
            .user_scoping
            .explain(&probe, &self.job.definition.users.scoping_filters)
            .into_iter()
            .map(|clause| (clause.description, if clause.passed { "True" } else { "False" }.to_owned()))
            .collect();
        let scoped = Scoped {
            kind: ObjectKind::User,
            imported: format!("Retrieved {} from the directory", user.user_principal_name()),
            reason,
            in_scope: "In scope: assigned, enabled and passing the scoping filters",
            details,
        };
        self.subject(id, name, scoped, &UserSource { user, is_soft_deleted: false, roles }, rng)
    }

    /// Scopes and maps a group (`None`: hard-deleted).
    pub(crate) fn group_subject(&self, id: ObjectId, group: Option<&Group>, rng: &mut StdRng) -> Subject {
        let Some(group) = group else {
            return Subject { kind: ObjectKind::Group, id, name: None, verdict: Verdict::Gone, steps: Vec::new() };
        };
        let name = Some(group.display_name().to_owned());
        let probe = GroupSource { group, is_soft_deleted: false };
        let reason = if !self.entitlements.group(&id) {
            Some(("the group is not assigned to the application".to_owned(), false))
        } else if !self.group_scoping.passes(&probe) {
            Some(("the group does not pass the scoping filters".to_owned(), true))
        } else {
            None
        };
        let scoped = Scoped {
            kind: ObjectKind::Group,
            imported: format!("Retrieved group {} from the directory", group.display_name()),
            reason,
            in_scope: "In scope",
            details: Vec::new(),
        };
        self.subject(id, name, scoped, &probe, rng)
    }

    /// The import and scoping steps of a subject, and its mapped values when it is in scope.
    fn subject(
        &self,
        id: ObjectId,
        name: Option<String>,
        scoped: Scoped,
        source: &dyn roster_expr::Source,
        rng: &mut StdRng,
    ) -> Subject {
        let Scoped { kind, imported, reason, in_scope, details } = scoped;
        let import =
            Step { kind: StepKind::Import, status: Status::Success, description: imported, details: Vec::new() };
        let (status, description, verdict) = match reason {
            Some((reason, loggable)) => {
                (Status::Skipped, format!("Out of scope: {reason}"), Verdict::OutOfScope { reason, loggable })
            }
            None => (Status::Success, in_scope.to_owned(), self.map(kind, source, rng)),
        };
        let scoping = Step { kind: StepKind::Scoping, status, description, details };
        Subject { kind, id, name, verdict, steps: vec![import, scoping] }
    }

    fn map(&self, kind: ObjectKind, source: &dyn roster_expr::Source, rng: &mut StdRng) -> Verdict {
        let mapper = self.mapper(kind);
        let now = self.now();
        let evaluate = |creating: bool, rng: &mut StdRng| mapper.evaluate(source, creating, now, rng);
        match (evaluate(false, rng), evaluate(true, rng)) {
            (Ok(update), Ok(create)) => Verdict::InScope { update, create },
            (Err((path, error)), _) | (_, Err((path, error))) => Verdict::Broken {
                code: "AttributeMappingFailed",
                reason: format!("the mapping to {path} failed: {error}"),
            },
        }
    }
}

/// A random source for mapping evaluation (`Guid()`, `RandomString()`), seeded per batch.
pub(crate) fn rng() -> StdRng {
    StdRng::from_entropy()
}

/// What processing one object produced.
pub(crate) struct Processed {
    /// A disable or delete to run at the end.
    pub(crate) deprovision: Option<Deprovision>,
}

/// Processes one scoped and mapped object against its shadow: create, match, update, or a queued deprovision.
pub(crate) async fn process(context: Arc<Context>, subject: Subject, shadow: Option<Shadow>) -> Processed {
    let started = Instant::now();
    let nothing = Processed { deprovision: None };
    if context.stopped() {
        return nothing;
    }
    let mapping = context.object_mapping(subject.kind);
    context.count(|counts| counts.evaluated += 1);
    let Subject { kind, id, name, verdict, mut steps } = subject;
    let mut entry = Entry { context: &context, kind, id: &id, name: name.clone(), started };
    match (verdict, shadow) {
        (Verdict::Gone, None) => {
            context.count(|counts| counts.skipped += 1);
            nothing
        }
        (Verdict::Gone, Some(shadow)) => {
            if mapping.actions.delete {
                let reason = "deleted from the directory".to_owned();
                Processed { deprovision: Some(Deprovision { subject_name: name, shadow, delete: true, reason }) }
            } else {
                context.count(|counts| counts.skipped += 1);
                nothing
            }
        }
        (Verdict::OutOfScope { reason, loggable }, None) => {
            context.count(|counts| counts.skipped += 1);
            if loggable {
                entry
                    .log(
                        Action::Other,
                        Status::Skipped,
                        None,
                        steps,
                        Vec::new(),
                        Some(("NotEffectivelyEntitled", reason)),
                    )
                    .await;
            }
            nothing
        }
        (Verdict::OutOfScope { reason, .. }, Some(shadow)) => {
            if shadow.state == ShadowState::Disabled {
                context.count(|counts| counts.unchanged += 1);
                return nothing;
            }
            let can_disable =
                kind == ObjectKind::User && context.mapper(kind).mapping("active").is_some() && mapping.actions.update;
            if can_disable || mapping.actions.delete {
                Processed {
                    deprovision: Some(Deprovision { subject_name: name, shadow, delete: !can_disable, reason }),
                }
            } else {
                context.count(|counts| counts.skipped += 1);
                nothing
            }
        }
        (Verdict::Broken { code, reason }, shadow) => {
            context.count(|counts| counts.failed += 1);
            // Only a change of the object (or of the mappings) can fix it.
            context.failed_with(kind, &id, code, false);
            steps.push(Step {
                kind: StepKind::Processing,
                status: Status::Failure,
                description: reason.clone(),
                details: Vec::new(),
            });
            let target = shadow.map(|shadow| shadow.target_id);
            entry.log(Action::Other, Status::Failure, target, steps, Vec::new(), Some((code, reason))).await;
            nothing
        }
        (Verdict::InScope { update, .. }, Some(shadow)) => {
            let changes = attribute_changes(&shadow.exported, &update);
            if changes.is_empty() {
                context.count(|counts| counts.unchanged += 1);
                if context.initiator == Initiator::User {
                    // On demand, the admin sees every step, the last one saying nothing needed to be sent (a
                    // cycle logs nothing for an object that already matches).
                    steps.push(matching_step(format!("Matched by the shadow to {}", shadow.target_id)));
                    steps.push(export_step(Status::Skipped, "No change: the target already matches"));
                    entry.log(Action::Other, Status::Skipped, Some(shadow.target_id), steps, Vec::new(), None).await;
                }
                return nothing;
            }
            if !mapping.actions.update {
                context.count(|counts| counts.skipped += 1);
                return nothing;
            }
            steps.push(matching_step(format!("Matched by the shadow to {}", shadow.target_id)));
            let patch: Vec<Change> = changes.iter().map(to_change).collect();
            let operation = || entry.operation(Action::Update, Some(&shadow.target_id), modified(&changes));
            match context.patch(kind, operation, &shadow.target_id, &patch).await {
                Ok(None) => {}
                Ok(Some(())) => {
                    let exported = apply_changes(&shadow.exported, &changes);
                    let updated = Shadow { exported, state: ShadowState::Active, ..shadow };
                    context.count(|counts| counts.updated += 1);
                    steps.push(export_step(Status::Success, "Updated the object in the target"));
                    let record = Record::PutShadow(updated.clone());
                    entry
                        .log_with(
                            record,
                            Action::Update,
                            Status::Success,
                            Some(updated.target_id),
                            steps,
                            modified(&changes),
                            None,
                        )
                        .await;
                }
                Err(error) => {
                    let forget = error.is_not_found();
                    entry.fail(&error, Action::Update, Some(shadow.target_id.clone()), steps, modified(&changes)).await;
                    if forget {
                        // The target object is gone: forget it, so that the next cycle matches or creates again.
                        let record = Record::DeleteShadow { kind, source_id: id.clone() };
                        context.recorder.write(kind, &id, vec![record]).await;
                    }
                }
            }
            nothing
        }
        (Verdict::InScope { update, create }, None) => {
            let found = if context.target_was_empty(kind) {
                Ok(Match::None { tried: "none needed: the target held no object when the cycle began".to_owned() })
            } else {
                find_match(&context, kind, &update).await
            };
            match found {
                Err(error) => {
                    entry.fail(&error, Action::Other, None, steps, Vec::new()).await;
                }
                Ok(Match::NoMatchingValue) => {
                    context.count(|counts| counts.skipped += 1);
                    let reason = "the object has no value for any matching attribute".to_owned();
                    entry
                        .log(Action::Other, Status::Skipped, None, steps, Vec::new(), Some(("ImportSkipped", reason)))
                        .await;
                }
                Ok(Match::Several { attribute, count }) => {
                    context.count(|counts| counts.failed += 1);
                    context.failed_with(kind, &id, "DuplicateTargetEntries", false);
                    let reason = format!("{count} target objects have this {attribute}; roster matches exactly one");
                    steps.push(matching_step(reason.clone()));
                    entry
                        .log(
                            Action::Other,
                            Status::Failure,
                            None,
                            steps,
                            Vec::new(),
                            Some(("DuplicateTargetEntries", reason)),
                        )
                        .await;
                }
                Ok(Match::None { tried }) => {
                    steps.push(matching_step(format!("No target object matched ({tried})")));
                    if !mapping.actions.create {
                        context.count(|counts| counts.skipped += 1);
                        return nothing;
                    }
                    let body = create.create_body(context.mapper(kind), core_schema(kind));
                    let changes = attribute_changes(&BTreeMap::new(), &create);
                    let operation = || entry.operation(Action::Create, None, modified(&changes));
                    match context.create(kind, operation, &body).await {
                        Ok(None) => {}
                        Ok(Some(created)) => {
                            let Some(target_id) = created.get("id").and_then(Value::as_str).map(str::to_owned) else {
                                return nothing;
                            };
                            // Known as this object's at once, before its shadow is written: a second source
                            // object that meets it through a conflict cannot take it over.
                            let taken = {
                                let mut claims =
                                    context.claims.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                                match claims.entry((kind, target_id.clone())) {
                                    std::collections::hash_map::Entry::Occupied(owner) if owner.get() != &id => {
                                        Some(owner.get().as_str().to_owned())
                                    }
                                    std::collections::hash_map::Entry::Occupied(_) => None,
                                    std::collections::hash_map::Entry::Vacant(vacant) => {
                                        vacant.insert(id.clone());
                                        None
                                    }
                                }
                            };
                            // Another source object took the new object over (its create met a conflict) before
                            // this answer arrived: it manages it now, and this one stays without a shadow.
                            if let Some(owner) = taken {
                                context.count(|counts| counts.failed += 1);
                                context.failed_with(kind, &id, "DuplicateSourceEntries", true);
                                let reason = format!(
                                    "target object {target_id} was created for this object and taken over by source \
                                     object {owner}, which matched it: make the matching attribute unique"
                                );
                                let code = "DuplicateSourceEntries";
                                entry
                                    .log(
                                        Action::Create,
                                        Status::Failure,
                                        Some(target_id),
                                        steps,
                                        Vec::new(),
                                        Some((code, reason)),
                                    )
                                    .await;
                                return nothing;
                            }
                            let shadow = Shadow {
                                kind,
                                source_id: id.clone(),
                                target_id: target_id.clone(),
                                exported: create.exported(),
                                state: ShadowState::Active,
                                origin: Origin::Created,
                            };
                            context.count(|counts| counts.created += 1);
                            steps.push(export_step(Status::Success, "Created the object in the target"));
                            entry
                                .log_with(
                                    Record::PutShadow(shadow),
                                    Action::Create,
                                    Status::Success,
                                    Some(target_id),
                                    steps,
                                    modified(&changes),
                                    None,
                                )
                                .await;
                        }
                        // A conflict: the object appeared since the match (or a retried POST had landed): match it
                        // again and take it over.
                        Err(error) if error.status() == Some(409) => match find_match(&context, kind, &update).await {
                            Ok(Match::One { attribute, resource }) => {
                                take_over(&context, &mut entry, &update, steps, &attribute, &resource).await;
                            }
                            rematch => {
                                let failure = failure_after_conflict(error, rematch.err());
                                entry.fail(&failure, Action::Create, None, steps, Vec::new()).await;
                            }
                        },
                        Err(error) => entry.fail(&error, Action::Create, None, steps, Vec::new()).await,
                    }
                }
                Ok(Match::One { attribute, resource }) => {
                    take_over(&context, &mut entry, &update, steps, &attribute, &resource).await;
                }
            }
            nothing
        }
    }
}

/// The failure of a create that met a conflict and whose matching query then found no single object: the query's
/// own error when it failed, else the conflict. A failed query must not be recorded as the conflict: the object is
/// most likely the one a lost answer created, and a conflict waits in escrow for a change of the object, while the
/// query's error (a timeout, a 5xx) is retried at the next cycle, which finds the object and takes it over.
fn failure_after_conflict(conflict: ClientError, query: Option<ClientError>) -> ClientError {
    query.unwrap_or(conflict)
}

/// Takes over a target object found by a matching attribute: sends what differs from the mapped values, then
/// records the shadow (origin `Matched`).
async fn take_over(
    context: &Context,
    entry: &mut Entry<'_>,
    update: &Desired,
    mut steps: Vec<Step>,
    attribute: &str,
    resource: &serde_json::Map<String, Value>,
) {
    let kind = entry.kind;
    let mapping = context.object_mapping(kind);
    let Some(target_id) = resource.get("id").and_then(Value::as_str).map(str::to_owned) else {
        let reason = "the matched target object has no id".to_owned();
        context.count(|counts| counts.failed += 1);
        context.failed_with(kind, entry.id, "SystemForCrossDomainIdentityManagementServiceIncompatible", false);
        let code = "SystemForCrossDomainIdentityManagementServiceIncompatible";
        entry.log(Action::Other, Status::Failure, None, steps, Vec::new(), Some((code, reason))).await;
        return;
    };
    steps.push(matching_step(format!("Matched target object {target_id} by {attribute}")));
    // Ownership: one source object per target object, ever; a target object another source object manages is not
    // touched.
    match claim(context, kind, &target_id, entry.id).await {
        Ok(None) => {}
        Ok(Some(owner)) => {
            context.count(|counts| counts.failed += 1);
            // Retried on the schedule: the owner may be on its way out (a deleted user whose successor has the
            // same user name).
            context.failed_with(kind, entry.id, "DuplicateSourceEntries", true);
            let reason = format!(
                "target object {target_id} matched by {attribute} is already managed for source object {owner}: \
                 two source objects cannot manage one target object, so it was not changed; make the matching \
                 attribute unique"
            );
            let code = "DuplicateSourceEntries";
            entry.log(Action::Other, Status::Failure, Some(target_id), steps, Vec::new(), Some((code, reason))).await;
            return;
        }
        Err(error) => {
            tracing::error!(%error, "could not check who manages a matched target object");
            context.count(|counts| counts.failed += 1);
            context.failed(kind, entry.id);
            let reason = format!("could not check who manages target object {target_id}: {error}");
            let code = "InternalError";
            entry.log(Action::Other, Status::Failure, Some(target_id), steps, Vec::new(), Some((code, reason))).await;
            return;
        }
    }
    let previous = read_values(context.mapper(kind), resource);
    let changes = attribute_changes(&previous, update);
    let patched = if changes.is_empty() || !mapping.actions.update {
        Ok(Some(()))
    } else {
        let patch: Vec<Change> = changes.iter().map(to_change).collect();
        let operation = || entry.operation(Action::Update, Some(&target_id), modified(&changes));
        context.patch(kind, operation, &target_id, &patch).await
    };
    match patched {
        Ok(Some(())) => {}
        Ok(None) => return,
        Err(error) => {
            entry.fail(&error, Action::Update, Some(target_id), steps, modified(&changes)).await;
            return;
        }
    }
    let exported = if mapping.actions.update { apply_changes(&previous, &changes) } else { previous };
    let shadow = Shadow {
        kind,
        source_id: entry.id.clone(),
        target_id: target_id.clone(),
        exported,
        state: ShadowState::Active,
        origin: Origin::Matched,
    };
    let action = if changes.is_empty() { Action::Other } else { Action::Update };
    if changes.is_empty() {
        context.count(|counts| counts.unchanged += 1);
    } else {
        context.count(|counts| counts.updated += 1);
    }
    steps.push(export_step(Status::Success, "Took over the matched object"));
    let record = Record::PutShadow(shadow);
    entry.log_with(record, action, Status::Success, Some(target_id), steps, modified(&changes), None).await;
}

/// Claims a matched target object for a source object. Returns the source object that already manages it (in the
/// store, or claimed earlier in this cycle), if another one does.
async fn claim(
    context: &Context,
    kind: ObjectKind,
    target_id: &str,
    source: &ObjectId,
) -> Result<Option<String>, crate::state::StateError> {
    let key = (kind, target_id.to_owned());
    let inserted = {
        let mut claims = context.claims.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match claims.get(&key) {
            Some(owner) if owner != source => return Ok(Some(owner.as_str().to_owned())),
            Some(_) => false,
            None => {
                claims.insert(key.clone(), source.clone());
                true
            }
        }
    };
    let managed = context.job.state.shadow_for_target(&context.application, kind, target_id).await;
    let owner = match managed {
        Ok(managed) => {
            managed.filter(|shadow| shadow.source_id != *source).map(|shadow| shadow.source_id.as_str().to_owned())
        }
        Err(error) => {
            drop_claim(context, &key, inserted);
            return Err(error);
        }
    };
    if owner.is_some() {
        // The store names the owner: this source object holds no claim, so a third one is told the right owner.
        drop_claim(context, &key, inserted);
    }
    Ok(owner)
}

/// Takes back a claim this run made a moment ago.
fn drop_claim(context: &Context, key: &(ObjectKind, String), inserted: bool) {
    if inserted {
        context.claims.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }
}

/// Runs a queued disable or delete.
pub(crate) async fn deprovision(context: Arc<Context>, work: Deprovision) {
    if context.stopped() {
        return;
    }
    let started = Instant::now();
    let Deprovision { subject_name, shadow, delete, reason } = work;
    let kind = shadow.kind;
    let source_id = shadow.source_id.clone();
    let mut entry = Entry { context: &context, kind, id: &source_id, name: subject_name, started };
    let steps = vec![Step {
        kind: StepKind::Scoping,
        status: Status::Success,
        description: format!("To be {}: {reason}", if delete { "deleted" } else { "disabled" }),
        details: Vec::new(),
    }];
    if delete {
        let operation = || entry.operation(Action::Delete, Some(&shadow.target_id), Vec::new());
        match context.delete(kind, operation, &shadow.target_id).await {
            Ok(Some(())) => {}
            Ok(None) => return,
            Err(error) if error.is_not_found() => {}
            Err(error) => {
                return entry.fail(&error, Action::Delete, Some(shadow.target_id.clone()), steps, Vec::new()).await;
            }
        }
        context.count(|counts| counts.deleted += 1);
        let record = Record::DeleteShadow { kind, source_id: shadow.source_id.clone() };
        entry.log_with(record, Action::Delete, Status::Success, Some(shadow.target_id), steps, Vec::new(), None).await;
    } else {
        let changes = vec![AttributeChange {
            path: "active".to_owned(),
            old: shadow.exported.get("active").cloned(),
            new: Some(Value::Bool(false)),
            secret: false,
        }];
        let patch: Vec<Change> = changes.iter().map(to_change).collect();
        let operation = || entry.operation(Action::Disable, Some(&shadow.target_id), modified(&changes));
        match context.patch(kind, operation, &shadow.target_id, &patch).await {
            Ok(Some(())) => {}
            Ok(None) => return,
            Err(error) => {
                return entry
                    .fail(&error, Action::Disable, Some(shadow.target_id.clone()), steps, modified(&changes))
                    .await;
            }
        }
        context.count(|counts| counts.disabled += 1);
        let exported = apply_changes(&shadow.exported, &changes);
        let target_id = shadow.target_id.clone();
        let record = Record::PutShadow(Shadow { exported, state: ShadowState::Disabled, ..shadow });
        entry
            .log_with(record, Action::Disable, Status::Success, Some(target_id), steps, modified(&changes), None)
            .await;
    }
}

enum Match {
    NoMatchingValue,
    None { tried: String },
    One { attribute: String, resource: serde_json::Map<String, Value> },
    Several { attribute: String, count: usize },
}

/// Queries the target on the matching attributes in precedence order; the first that finds something decides.
async fn find_match(context: &Context, kind: ObjectKind, desired: &Desired) -> Result<Match, ClientError> {
    let mut tried = Vec::new();
    for mapping in context.mapper(kind).matching() {
        let path = mapping.path.as_str();
        let Some(Some(Value::String(value))) = desired.values.get(path).map(|desired| &desired.value) else {
            continue;
        };
        let found = context.job.client.find(client_kind(kind), path, value).await?;
        match found.len() {
            0 => tried.push(format!("{path} eq \"{value}\"")),
            1 => {
                let resource = found.into_iter().next().and_then(|resource| match resource {
                    Value::Object(object) => Some(object),
                    _ => None,
                });
                if let Some(resource) = resource {
                    return Ok(Match::One { attribute: path.to_owned(), resource });
                }
            }
            count => return Ok(Match::Several { attribute: path.to_owned(), count }),
        }
    }
    if tried.is_empty() {
        return Ok(Match::NoMatchingValue);
    }
    Ok(Match::None { tried: tried.join(", ") })
}

/// What a matched target object holds at each mapped path.
fn read_values(mapper: &Mapper, resource: &serde_json::Map<String, Value>) -> BTreeMap<String, Value> {
    mapper
        .mappings()
        .iter()
        .filter_map(|mapping| mapping.path.get(resource).map(|value| (mapping.path.to_string(), value.clone())))
        .collect()
}

pub(crate) fn to_change(change: &AttributeChange) -> Change {
    match &change.new {
        Some(value) => Change::Replace { path: change.path.clone(), value: value.clone() },
        None => Change::Remove { path: change.path.clone() },
    }
}

pub(crate) fn modified(changes: &[AttributeChange]) -> Vec<ModifiedProperty> {
    let text = |value: &Option<Value>, secret: bool| {
        value.as_ref().map(|value| match value {
            _ if secret => "[Redact]".to_owned(),
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    };
    changes
        .iter()
        .map(|change| ModifiedProperty {
            name: change.path.clone(),
            old: text(&change.old, change.secret),
            new: text(&change.new, change.secret),
        })
        .collect()
}

fn matching_step(description: String) -> Step {
    Step { kind: StepKind::Matching, status: Status::Success, description, details: Vec::new() }
}

pub(crate) fn export_step(status: Status, description: &str) -> Step {
    Step { kind: StepKind::Export, status, description: description.to_owned(), details: Vec::new() }
}

/// Builds and records one object's log entry.
pub(crate) struct Entry<'a> {
    pub(crate) context: &'a Context,
    pub(crate) kind: ObjectKind,
    pub(crate) id: &'a ObjectId,
    pub(crate) name: Option<String>,
    pub(crate) started: Instant,
}

impl Entry<'_> {
    /// The write this entry's object is about to get, as a dry run records it and a plan holds it.
    pub(crate) fn operation(
        &self,
        action: Action,
        target_id: Option<&str>,
        modified: Vec<ModifiedProperty>,
    ) -> Operation {
        Operation {
            kind: self.kind,
            source_id: self.id.as_str().to_owned(),
            source_name: self.name.clone(),
            action,
            target_id: target_id.map(str::to_owned),
            modified,
            members_added: Vec::new(),
            members_removed: Vec::new(),
        }
    }

    fn build(
        &self,
        action: Action,
        status: Status,
        target_id: Option<String>,
        steps: Vec<Step>,
        modified: Vec<ModifiedProperty>,
        error: Option<(&str, String)>,
    ) -> LogEntry {
        let (error_code, error_reason) = match error {
            Some((code, reason)) => (Some(code.to_owned()), Some(reason)),
            None => (None, None),
        };
        LogEntry {
            at: self.context.now(),
            application: self.context.application.clone(),
            cycle: self.context.cycle.clone(),
            change: uuid::Uuid::new_v4().to_string(),
            kind: self.kind,
            source_id: self.id.as_str().to_owned(),
            source_name: self.name.clone(),
            target_id,
            action,
            status,
            steps,
            modified,
            error_code,
            error_reason,
            duration_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            initiator: self.context.initiator,
        }
    }

    /// Records a log entry alone.
    pub(crate) async fn log(
        &mut self,
        action: Action,
        status: Status,
        target_id: Option<String>,
        steps: Vec<Step>,
        modified: Vec<ModifiedProperty>,
        error: Option<(&str, String)>,
    ) {
        let entry = self.build(action, status, target_id, steps, modified, error);
        self.write(vec![Record::Log(Box::new(entry))]).await;
    }

    /// Records a state change with its log entry, in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn log_with(
        &mut self,
        record: Record,
        action: Action,
        status: Status,
        target_id: Option<String>,
        steps: Vec<Step>,
        modified: Vec<ModifiedProperty>,
        error: Option<(&str, String)>,
    ) {
        let entry = self.build(action, status, target_id, steps, modified, error);
        self.write(vec![record, Record::Log(Box::new(entry))]).await;
    }

    /// Records a failed export: counts it, remembers the object for the next cycle, and stops the cycle when the
    /// target is unusable as a whole.
    pub(crate) async fn fail(
        &mut self,
        error: &ClientError,
        action: Action,
        target_id: Option<String>,
        mut steps: Vec<Step>,
        modified: Vec<ModifiedProperty>,
    ) {
        self.context.count(|counts| counts.failed += 1);
        // A 400 or a 409 is not retried blindly: the object comes back when it changes. A 404 on a known object
        // (its shadow is forgotten) is matched again.
        let retryable = error.is_retryable() || error.is_not_found();
        self.context.failed_with(self.kind, self.id, error.code(), retryable);
        if is_wholesale(error) {
            self.context.stop(error.clone());
        }
        steps.push(export_step(Status::Failure, &error.to_string()));
        self.log(action, Status::Failure, target_id, steps, modified, Some((error.code(), error.to_string()))).await;
    }

    async fn write(&self, batch: Vec<Record>) {
        // When the records cannot be written, the recorder marks the object for the next cycle, which matches it
        // again by its matching attributes: nothing is created twice.
        self.context.recorder.write(self.kind, self.id, batch).await;
    }
}

#[cfg(test)]
mod tests {
    use roster_scim_client::{ErrorKind, Operation, StatusError};

    use super::*;

    fn status(operation: Operation, status: u16, scim_type: Option<&str>) -> ClientError {
        ClientError {
            operation,
            method: "POST",
            path: "/scim/Users".to_owned(),
            attempts: 1,
            kind: ErrorKind::Status(Box::new(StatusError {
                status,
                scim_type: scim_type.map(str::to_owned),
                detail: None,
                retry_after: None,
                rate_limited: false,
            })),
        }
    }

    #[test]
    fn a_conflict_whose_match_failed_is_retried() {
        let conflict = || status(Operation::Create, 409, Some("uniqueness"));
        // (the query's error, the recorded code, retried on the schedule)
        let cases = [
            (None, "EntryConflict", false),
            (Some(status(Operation::Find, 503, None)), "InternalServerError", true),
            (Some(status(Operation::Find, 400, Some("invalidFilter"))), "UnprocessableEntity", false),
        ];
        for (query, code, retryable) in cases {
            let failure = failure_after_conflict(conflict(), query);
            assert_eq!((failure.code(), failure.is_retryable()), (code, retryable), "{failure}");
        }
    }
}

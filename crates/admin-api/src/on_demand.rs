//! `POST .../jobs/{jobId}/provisionOnDemand`: one user, or one group with up to five of its members, provisioned
//! now through the cycle's steps (`roster provision-on-demand`), in Graph's request and answer shapes: the answer is
//! a `stringKeyStringValuePair` whose `key` (`{"result", "details"}`) and `value` (the object's steps, action and
//! modified properties) are JSON texts. Graph's rate limit holds: 5 requests per 10 s per job, then 429 with
//! `Retry-After`.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roster_directory::ObjectId;
use roster_engine::cycle::{MAX_GROUP_MEMBERS, OnDemand};
use roster_engine::definition::Definition;
use roster_engine::log::{Action, LogEntry, ObjectKind, Status, StepKind};
use roster_service::access::Permission;
use roster_service::provisioning::{self, Principal};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ApiState;
use crate::applications::display_name;
use crate::auth::Caller;
use crate::body::GraphJson;
use crate::error::{ApiResult, GraphError};
use crate::ids;
use crate::plans::{configured, run_error};
use crate::synchronization::job_of;

pub use roster_service::on_demand::{LIMIT, Limiter, WINDOW};

/// The id of an application's one synchronization rule (users and groups from the roster directory to the
/// target), the `ruleId` on-demand requests name: a GUID derived from the application's unique name.
pub fn rule_id(name: &str) -> String {
    ids::synchronization_rule(name)
}

/// Graph's body: `{"parameters": [{"ruleId", "subjects": [...]}]}`.
#[derive(Debug, serde::Deserialize)]
pub struct Request {
    /// One entry (Graph's `synchronizationJobApplicationParameters`).
    pub parameters: Vec<Parameters>,
}

/// The rule and the objects.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Parameters {
    /// The synchronization rule ([`rule_id`]).
    pub rule_id: String,
    /// One subject.
    pub subjects: Vec<Subject>,
}

/// Graph's `synchronizationJobSubject`.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    /// The directory object's id.
    pub object_id: String,
    /// `User` or `Group`.
    pub object_type_name: String,
    /// For a group, the members to provision with it.
    #[serde(default)]
    pub links: Option<Links>,
}

/// Graph's `synchronizationLinkedObjects`.
#[derive(Debug, serde::Deserialize)]
pub struct Links {
    /// The group's members to provision, at most five.
    #[serde(default)]
    pub members: Vec<Member>,
}

/// A member to provision with its group.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// The user's id.
    pub object_id: String,
    /// `User`.
    #[serde(default)]
    pub object_type_name: Option<String>,
}

fn object_id(text: &str, field: &str) -> ApiResult<ObjectId> {
    ObjectId::parse(text)
        .map_err(|error| GraphError::bad_request(format!("{field}: {text:?} is not an object id: {error}")))
}

/// The one subject of a request, checked: its kind, its id and the members chosen.
fn subject(request: Request, definition: &Definition) -> ApiResult<(ObjectKind, ObjectId, Vec<ObjectId>)> {
    let [parameters] = <[Parameters; 1]>::try_from(request.parameters)
        .map_err(|_| GraphError::bad_request("parameters: give exactly one entry (a ruleId and one subject)"))?;
    let rule = rule_id(&definition.name);
    if !parameters.rule_id.eq_ignore_ascii_case(&rule) {
        return Err(GraphError::bad_request(format!(
            "parameters[0].ruleId {:?}: this job has the one synchronization rule {rule:?}",
            parameters.rule_id
        )));
    }
    let [subject] = <[Subject; 1]>::try_from(parameters.subjects)
        .map_err(|_| GraphError::bad_request("parameters[0].subjects: give exactly one subject"))?;
    let id = object_id(&subject.object_id, "parameters[0].subjects[0].objectId")?;
    let members = subject.links.map(|links| links.members).unwrap_or_default();
    let kind = match subject.object_type_name.to_ascii_lowercase().as_str() {
        "user" => ObjectKind::User,
        "group" => ObjectKind::Group,
        other => {
            return Err(GraphError::bad_request(format!(
                "parameters[0].subjects[0].objectTypeName {other:?}: roster provisions a User or a Group"
            )));
        }
    };
    if kind == ObjectKind::User && !members.is_empty() {
        return Err(GraphError::bad_request("links.members: only a group has members to provision with it"));
    }
    if members.len() > MAX_GROUP_MEMBERS {
        return Err(GraphError::bad_request(format!(
            "links.members: at most {MAX_GROUP_MEMBERS} members are provisioned on demand with their group, not {}",
            members.len()
        )));
    }
    let mut chosen = Vec::new();
    for (index, member) in members.iter().enumerate() {
        if member.object_type_name.as_deref().is_some_and(|kind| !kind.eq_ignore_ascii_case("user")) {
            return Err(GraphError::bad_request(format!(
                "links.members[{index}].objectTypeName: the members provisioned with a group are users"
            )));
        }
        chosen.push(object_id(&member.object_id, &format!("links.members[{index}].objectId"))?);
    }
    Ok((kind, id, chosen))
}

fn time(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// Graph's step names (`provisioningStep.name`) of roster's steps.
fn step_name(kind: StepKind, status: Status, action: Action) -> &'static str {
    match (kind, status, action) {
        (StepKind::Import | StepKind::Matching, _, _) => "EntryImport",
        (StepKind::Scoping, _, _) => "EntrySynchronizationScoping",
        (StepKind::Processing, _, _) => "EntrySynchronizationProcessing",
        (StepKind::ReferenceResolution, _, _) => "EntryReferenceResolution",
        (StepKind::Export, Status::Skipped, _) | (StepKind::Export, _, Action::Other | Action::StagedDelete) => {
            "EntrySynchronizationSkip"
        }
        (StepKind::Export, _, Action::Create) => "EntryExportAdd",
        (StepKind::Export, _, Action::Update) => "EntryExportUpdate",
        (StepKind::Export, _, Action::Disable) => "EntryExportUpdateSoftDelete",
        (StepKind::Export, _, Action::Delete) => "EntryExportDelete",
    }
}

fn target_system(definition: &Definition) -> Value {
    json!({
        "id": ids::app_id(&definition.name),
        "name": display_name(definition),
        "details": {
            "ApplicationId": ids::app_id(&definition.name),
            "ServicePrincipalId": ids::service_principal(&definition.name),
            "ServicePrincipalDisplayName": display_name(definition),
        },
    })
}

const SOURCE_SYSTEM: &str = "roster directory";

/// One object's run as the decoded `value` of Graph's answer.
fn entry_value(entry: &LogEntry, definition: &Definition) -> Value {
    let action = match entry.action {
        Action::StagedDelete => "Other",
        action => action.as_str(),
    };
    let started = entry.at - time::Duration::milliseconds(i64::try_from(entry.duration_ms).unwrap_or(i64::MAX));
    let steps: Vec<Value> = entry
        .steps
        .iter()
        .map(|step| {
            let details: Map<String, Value> =
                step.details.iter().map(|(key, value)| (key.clone(), json!(value))).collect();
            json!({
                "name": step_name(step.kind, step.status, entry.action),
                "type": step.kind.as_str(),
                "status": step.status.as_str(),
                "description": step.description,
                "timestamp": time(entry.at),
                "details": details,
            })
        })
        .collect();
    let modified: Vec<Value> = entry
        .modified
        .iter()
        .map(|property| json!({"displayName": property.name, "oldValue": property.old, "newValue": property.new}))
        .collect();
    let name = entry.source_name.as_deref().unwrap_or(&entry.source_id);
    json!({
        "action": action,
        "changeId": entry.change,
        "startTime": time(started),
        "endTime": time(entry.at),
        "modifiedProperties": modified,
        "provisioningSteps": steps,
        "reportableIdentifier": name,
        "statusInfo": {
            "status": entry.status.as_str(),
            "errorCode": entry.error_code,
            "reason": entry.error_reason,
            "additionalDetails": null,
            "errorCategory": match entry.status {
                Status::Failure => Some("NonServiceFailure"),
                _ => None,
            },
            "recommendedAction": null,
        },
        "sourceIdentity": {"id": entry.source_id, "type": entry.kind.as_str(), "displayName": name, "details": {}},
        "sourceSystem": {"id": null, "name": SOURCE_SYSTEM, "details": {}},
        "targetIdentity": {"id": entry.target_id, "type": entry.kind.as_str(), "displayName": name, "details": {}},
        "targetSystem": target_system(definition),
    })
}

/// The decoded `value` of a run that sent nothing (its `step`: why), for an object without a log entry.
fn quiet_value(subject: &Named, definition: &Definition, step: &Value, status: (&str, &str, &str)) -> Value {
    let (status, code, reason) = status;
    let now = time(OffsetDateTime::now_utc());
    json!({
        "action": "Other",
        "changeId": roster_directory::audit::new_id(),
        "startTime": now,
        "endTime": now,
        "modifiedProperties": [],
        "provisioningSteps": [step],
        "reportableIdentifier": subject.name,
        "statusInfo": {
            "status": status,
            "errorCode": code,
            "reason": reason,
            "additionalDetails": null,
            "errorCategory": (status == "Failure").then_some("NonServiceFailure"),
            "recommendedAction": null,
        },
        "sourceIdentity": {"id": subject.id.as_str(), "type": subject.kind.as_str(), "displayName": subject.name, "details": {}},
        "sourceSystem": {"id": null, "name": SOURCE_SYSTEM, "details": {}},
        "targetIdentity": {"id": null, "type": subject.kind.as_str(), "displayName": subject.name, "details": {}},
        "targetSystem": target_system(definition),
    })
}

/// The subject of a request, with a readable name.
struct Named {
    kind: ObjectKind,
    id: ObjectId,
    name: String,
}

const REDUNDANT: &str = "RedundantExport";

fn redundant_message(kind: ObjectKind) -> String {
    let kind = kind.as_str().to_lowercase();
    format!(
        "The state of the {kind} in both the source and target systems already match (or the {kind} is not in \
         scope and was never provisioned): nothing was sent."
    )
}

/// Graph's answer: `key` and `value` as JSON texts.
fn answer(state: &ApiState, result: &str, details: &Value, value: &Value) -> Response {
    let key = json!({"result": result, "details": details});
    Json(json!({
        "@odata.context": format!("{}/$metadata#microsoft.graph.stringKeyStringValuePair", state.base_url),
        "key": key.to_string(),
        "value": value.to_string(),
    }))
    .into_response()
}

fn too_many(wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let mut response = GraphError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        format!(
            "provisionOnDemand takes at most {LIMIT} requests per {} s per job: try again in {seconds} s",
            WINDOW.as_secs()
        ),
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// `POST .../jobs/{jobId}/provisionOnDemand` → 200 with Graph's `stringKeyStringValuePair`; 404 for an object not
/// in the directory, 400 for a wrong `ruleId` or subject, 429 beyond the rate limit.
pub async fn provision(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
    GraphJson(request): GraphJson<Request>,
) -> ApiResult<Response> {
    let definition = job_of(&state, &caller, &id, &job).await?;
    caller.check(Permission::ManageApplication(&definition.name))?;
    if let Err(wait) = state.on_demand.admit(&job, Instant::now()) {
        return Ok(too_many(wait));
    }
    let (kind, object, members) = subject(request, &definition)?;
    configured(&state, &definition).await?;
    let name = match kind {
        ObjectKind::User => {
            state.stores.directory.user(&object).await?.map(|user| user.user_principal_name().as_str().to_owned())
        }
        ObjectKind::Group => state.stores.directory.group(&object).await?.map(|group| group.display_name().to_owned()),
    };
    let Some(name) = name else { return Err(GraphError::not_found(object.as_str())) };
    let named = Named { kind, id: object.clone(), name };
    let principal = match kind {
        ObjectKind::User => Principal::User(object.as_str().to_owned()),
        ObjectKind::Group => Principal::Group(object.as_str().to_owned()),
    };
    let members: Vec<String> = members.iter().map(|member| member.as_str().to_owned()).collect();
    let outcome = provisioning::provision_on_demand(&state.stores, &state.key, &definition.name, &principal, &members)
        .await
        .map_err(run_error)?;
    match outcome {
        OnDemand::NotFound => Err(GraphError::not_found(object.as_str())),
        OnDemand::TooManyMembers(count) => Err(GraphError::bad_request(format!(
            "group {object} has {count} members; provisioning on demand takes at most {MAX_GROUP_MEMBERS}: choose \
             them in links.members"
        ))),
        OnDemand::NotAMember(member) => {
            Err(GraphError::bad_request(format!("links.members: {member} is not a user member of group {object}")))
        }
        OnDemand::GroupsOff => Err(GraphError::bad_request(format!(
            "application {} does not provision groups (groups.enabled is false in its definition)",
            definition.name
        ))),
        OnDemand::ConnectionFailed(problem) => {
            let message = format!("Test connection failed: {problem}");
            let step = json!({
                "name": "EntryExportTestConnection",
                "type": "Export",
                "status": "Failure",
                "description": message,
                "timestamp": time(OffsetDateTime::now_utc()),
                "details": {},
            });
            let value = quiet_value(&named, &definition, &step, ("Failure", "ConnectionFailure", &message));
            Ok(answer(&state, "Failure", &json!({"errorCode": "ConnectionFailure", "errorMessage": message}), &value))
        }
        OnDemand::NothingToDo => {
            let message = redundant_message(kind);
            let value = quiet_value(&named, &definition, &redundant_step(&message), ("Skipped", REDUNDANT, &message));
            Ok(answer(&state, "Skipped", &json!({"errorCode": REDUNDANT, "errorMessage": message}), &value))
        }
        OnDemand::Done(entries) => Ok(done(&state, &definition, &named, &entries)),
    }
}

fn redundant_step(message: &str) -> Value {
    json!({
        "name": "EntrySynchronizationSkip",
        "type": "Export",
        "status": "Skipped",
        "description": message,
        "timestamp": time(OffsetDateTime::now_utc()),
        "details": {"SkipReason": REDUNDANT},
    })
}

/// The answer of a run that logged entries: the subject's as `value` (a group's members' under
/// `value.links.members`), the result the worst of them.
fn done(state: &ApiState, definition: &Definition, subject: &Named, entries: &[LogEntry]) -> Response {
    let own = |entry: &&LogEntry| entry.kind == subject.kind && entry.source_id == subject.id.as_str();
    let main = entries.iter().find(own);
    let linked: Vec<Value> =
        entries.iter().filter(|entry| !own(entry)).map(|entry| entry_value(entry, definition)).collect();
    let message = redundant_message(subject.kind);
    let mut value = match main {
        Some(entry) => entry_value(entry, definition),
        None => quiet_value(subject, definition, &redundant_step(&message), ("Skipped", REDUNDANT, &message)),
    };
    if subject.kind == ObjectKind::Group
        && let Some(object) = value.as_object_mut()
    {
        object.insert("links".to_owned(), json!({"members": linked}));
    }
    let failed = entries.iter().find(|entry| entry.status == Status::Failure);
    let (result, details) = if let Some(entry) = failed {
        ("Failure", json!({"errorCode": entry.error_code, "errorMessage": entry.error_reason}))
    } else if main.is_some_and(|entry| matches!(entry.status, Status::Success | Status::Warning))
        || entries.iter().any(|entry| entry.status == Status::Success)
    {
        ("Success", json!({}))
    } else if let Some(entry) = main {
        ("Skipped", json!({"errorCode": entry.error_code, "errorMessage": entry.error_reason}))
    } else {
        ("Skipped", json!({"errorCode": REDUNDANT, "errorMessage": message}))
    };
    answer(state, result, &details, &value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_requests_per_ten_seconds_per_job() {
        let limiter = Limiter::default();
        let start = Instant::now();
        for second in 0..5 {
            assert_eq!(limiter.admit("a", start + Duration::from_secs(second)), Ok(()));
        }
        assert_eq!(limiter.admit("a", start + Duration::from_secs(6)), Err(Duration::from_secs(4)));
        assert_eq!(limiter.admit("b", start + Duration::from_secs(6)), Ok(()), "per job");
        assert_eq!(limiter.admit("a", start + Duration::from_secs(10)), Ok(()), "the first left the window");
        assert!(limiter.admit("a", start + Duration::from_secs(10)).is_err());
    }

    #[test]
    fn rule_ids_are_stable_guids_per_application() {
        assert_eq!(rule_id("github"), rule_id("github"));
        assert_ne!(rule_id("github"), rule_id("slack"));
        assert!(ObjectId::parse(&rule_id("github")).is_ok());
    }
}

//! `/servicePrincipals/{id}/synchronization/...`: the application's provisioning job as Graph's
//! `synchronizationTemplate`, `synchronizationJob` (schedule, status, progress), `start`, `pause`, `restart`,
//! `validateCredentials` and `secrets`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_engine::definition::{Definition, Scope};
use roster_engine::state::{Cycle, JobState};
use roster_service::access::Permission;
use roster_service::provisioning::{self, Reset, activity};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ApiState;
use crate::applications::{self, find};
use crate::auth::Caller;
use crate::body::GraphJson;
use crate::error::{ApiResult, GraphError};
use crate::ids;
use crate::paging::{Origin, Page};

/// Graph's "never" (`DateTime.MinValue`).
const NEVER: &str = "0001-01-01T00:00:00Z";

fn time(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// An ISO 8601 duration: `PT40M`, `PT1H30M`, `PT45S`.
pub fn iso_duration(duration: std::time::Duration) -> String {
    let seconds = duration.as_secs();
    let (hours, minutes, rest) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let mut text = "PT".to_owned();
    if hours > 0 {
        text.push_str(&format!("{hours}H"));
    }
    if minutes > 0 {
        text.push_str(&format!("{minutes}M"));
    }
    if rest > 0 || seconds == 0 {
        text.push_str(&format!("{rest}S"));
    }
    text
}

/// A cycle as Graph's `synchronizationTaskExecution`.
pub(crate) fn execution(cycle: &Cycle) -> Value {
    let counts = &cycle.counts;
    let exported = counts.created + counts.updated + counts.disabled + counts.deleted;
    json!({
        "activityIdentifier": cycle.id,
        "countEntitled": counts.evaluated,
        "countEntitledForProvisioning": counts.evaluated.saturating_sub(counts.skipped),
        "countEscrowed": counts.failed,
        "countEscrowedRaw": counts.failed,
        "countExported": exported,
        "countExports": exported + counts.failed,
        "countImported": counts.evaluated,
        "countImportedDeltas": cycle.to.saturating_sub(cycle.from),
        "countImportedReferenceDeltas": counts.members_added + counts.members_removed,
        "error": null,
        "state": match cycle.outcome.as_str() {
            "Succeeded" => "Succeeded",
            "EntryLevelErrors" => "EntryLevelErrors",
            _ => "Failed",
        },
        "timeBegan": time(cycle.began),
        "timeEnded": cycle.ended.map(time),
    })
}

/// Whether the application has what a job needs to run: a tenant URL and a secret token.
async fn configured(state: &ApiState, definition: &Definition) -> ApiResult<bool> {
    Ok(!definition.target.tenant_url.is_empty() && provisioning::has_secret(&state.stores, &definition.name).await?)
}

/// A job's `status.code` and `schedule.state` (see [`roster_service::provisioning::status_codes`]).
pub(crate) fn status_codes(definition: &Definition, configured: bool, job: &JobState) -> (&'static str, &'static str) {
    roster_service::provisioning::status_codes(definition, configured, job)
}

/// The job of an application as Graph's `synchronizationJob`.
pub async fn job_object(state: &ApiState, definition: &Definition) -> ApiResult<Value> {
    let job: JobState = state.stores.engine.job(&definition.name).await?;
    let configured = configured(state, definition).await?;
    let (code, schedule_state) = status_codes(definition, configured, &job);
    let last = job.last_cycle.as_ref();
    let successful = last.filter(|cycle| cycle.outcome == "Succeeded");
    let with_exports = successful.filter(|cycle| {
        let counts = &cycle.counts;
        counts.created + counts.updated + counts.disabled + counts.deleted > 0
    });
    let quarantine = job.quarantine.as_ref().map(|quarantine| {
        json!({
            "currentBegan": time(quarantine.since),
            "nextAttempt": job.next_run.map(time),
            "reason": quarantine.reason,
            "seriesBegan": time(quarantine.since),
            "seriesCount": quarantine.cycles,
            "error": {"code": quarantine.reason, "message": quarantine.detail, "tenantActionable": true},
        })
    });
    let mut counts = Vec::new();
    for (kind, shadow_state, count) in state.stores.engine.shadow_counts(&definition.name).await? {
        if shadow_state == roster_engine::state::ShadowState::Active {
            counts.push(json!({"key": kind.as_str(), "value": count}));
        }
    }
    let progress = current_progress(state, definition).await?;
    Ok(json!({
        "id": ids::job(&definition.template, &definition.name),
        "templateId": definition.template,
        "schedule": {
            "expiration": null,
            "interval": iso_duration(definition.interval),
            "state": schedule_state,
        },
        "status": {
            "code": code,
            "countSuccessiveCompleteFailures": u32::from(last.is_some_and(|cycle| cycle.outcome == "Failed")),
            "escrowsPruned": false,
            "lastExecution": last.map(execution),
            "lastSuccessfulExecution": successful.map(execution),
            "lastSuccessfulExecutionWithExports": with_exports.map(execution),
            "progress": progress,
            "quarantine": quarantine,
            "steadyStateFirstAchievedTime": job.steady_state_first.map_or_else(|| NEVER.to_owned(), time),
            "steadyStateLastAchievedTime": job.steady_state_last.map_or_else(|| NEVER.to_owned(), time),
            "synchronizedEntryCountByType": counts,
            "troubleshootingUrl": null,
        },
        "synchronizationJobSettings": [
            {"name": "QuarantineTooManyDeletesThreshold", "value": definition.deletion_threshold.to_string()},
            {"name": "SyncAll", "value": (definition.scope == Scope::All).to_string()},
        ],
    }))
}

/// The running cycle's progress (Graph's `synchronizationProgress`), in objects: empty when no cycle runs.
async fn current_progress(state: &ApiState, definition: &Definition) -> ApiResult<Vec<Value>> {
    let cycles = state.stores.engine.cycles(&definition.name, 1).await?;
    let Some(cycle) = cycles.into_iter().find(|cycle| cycle.ended.is_none()) else { return Ok(Vec::new()) };
    let (users, groups) = state.stores.directory.counts().await?;
    let done = cycle.counts.evaluated;
    Ok(vec![json!({
        "completedUnits": done,
        "totalUnits": (users + groups).max(done),
        "units": "objects",
        "progressObservationDateTime": time(OffsetDateTime::now_utc()),
    })])
}

/// The application and job of a path, checking the job id.
pub(crate) async fn job_of(state: &ApiState, caller: &Caller, id: &str, job: &str) -> ApiResult<Definition> {
    let definition = find(state, caller, id).await?;
    if ids::job(&definition.template, &definition.name) != job {
        return Err(GraphError::not_found(job));
    }
    Ok(definition)
}

/// `GET .../synchronization/templates`.
pub async fn templates(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let definition = find(&state, &caller, &id).await?;
    let template = json!({
        "id": definition.template,
        "applicationId": ids::app_id(&definition.name),
        "default": true,
        "description": format!("Provisioning of {} over SCIM 2.0", applications::display_name(&definition)),
        "discoverable": true,
        "factoryTag": definition.template,
        "metadata": [],
    });
    let path = format!("/servicePrincipals/{id}/synchronization/templates");
    let origin = Origin { base: &state.base_url, path: &path, query: raw.as_deref() };
    Ok(Page { context: "synchronizationTemplates", value: vec![template], count: None, next: None }
        .into_json(&origin)
        .into_response())
}

/// `GET .../synchronization/jobs`.
pub async fn jobs(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let definition = find(&state, &caller, &id).await?;
    let job = job_object(&state, &definition).await?;
    let path = format!("/servicePrincipals/{id}/synchronization/jobs");
    let origin = Origin { base: &state.base_url, path: &path, query: raw.as_deref() };
    Ok(Page { context: "synchronizationJobs", value: vec![job], count: None, next: None }
        .into_json(&origin)
        .into_response())
}

/// The body of a new job.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewJob {
    /// One of the service principal's synchronization templates.
    pub template_id: String,
}

/// `POST .../synchronization/jobs` → 201 with the job (disabled until started).
pub async fn create_job(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<NewJob>,
) -> ApiResult<Response> {
    let definition = find(&state, &caller, &id).await?;
    caller.check(Permission::ManageApplication(&definition.name))?;
    if body.template_id != definition.template {
        return Err(GraphError::bad_request(format!(
            "templateId {:?}: this service principal has the synchronization template {:?}",
            body.template_id, definition.template
        )));
    }
    provisioning::add_job(&state.stores, &caller.0.actor(), &definition.name).await?;
    Ok((StatusCode::CREATED, Json(job_object(&state, &definition).await?)).into_response())
}

/// `GET .../synchronization/jobs/{jobId}`.
pub async fn job(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let definition = job_of(&state, &caller, &id, &job).await?;
    Ok(Json(job_object(&state, &definition).await?))
}

/// `DELETE .../jobs/{jobId}` → 204: provisioning off and the job's state forgotten ([`provisioning::delete_job`]);
/// the application keeps its one job, `NotRun` until started again.
pub async fn delete_job(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let definition = job_of(&state, &caller, &id, &job).await?;
    caller.check(Permission::ManageApplication(&definition.name))?;
    provisioning::delete_job(&state.stores, &state.key, &caller.0.actor(), &definition.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST .../jobs/{jobId}/start` → 204: provisioning on (a paused job resumes where it stopped), quarantine lifted.
pub async fn start(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let definition = job_of(&state, &caller, &id, &job).await?;
    caller.check(Permission::ManageApplication(&definition.name))?;
    let actor = caller.0.actor();
    provisioning::set_enabled(&state.stores, &state.key, &actor, &definition.name, true).await?;
    if state.stores.engine.job(&definition.name).await?.quarantine.is_some() {
        provisioning::restart(&state.stores, &actor, &definition.name, Reset { quarantine: true, ..Reset::default() })
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST .../jobs/{jobId}/pause` → 204.
pub async fn pause(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let definition = job_of(&state, &caller, &id, &job).await?;
    caller.check(Permission::ManageApplication(&definition.name))?;
    provisioning::set_enabled(&state.stores, &state.key, &caller.0.actor(), &definition.name, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body of a restart.
#[derive(Debug, Default, serde::Deserialize)]
pub struct RestartBody {
    /// `{"resetScope": "Watermark, Escrows, QuarantineState, Full, ForceDeletes"}`.
    #[serde(default)]
    pub criteria: Option<Criteria>,
}

/// Graph's `synchronizationJobRestartCriteria`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Criteria {
    /// Comma-separated scopes; empty is the portal's restart.
    #[serde(default)]
    pub reset_scope: Option<String>,
}

/// `POST .../jobs/{jobId}/restart` → 204.
pub async fn restart(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<StatusCode> {
    let definition = job_of(&state, &caller, &id, &job).await?;
    caller.check(Permission::ManageApplication(&definition.name))?;
    // A body over the limit is 413 in Graph's shape, as every other body's.
    let body = body.map_err(|rejection| {
        GraphError::new(rejection.status(), "BadRequest", format!("the request body could not be read: {rejection}"))
    })?;
    // The body is optional: none (or `{}`) is the portal's restart.
    let body: RestartBody = if body.iter().all(u8::is_ascii_whitespace) {
        RestartBody::default()
    } else {
        crate::body::from_object(&body)?
    };
    let scope = body.criteria.and_then(|criteria| criteria.reset_scope).unwrap_or_default();
    let scope = scope.replace("None", "");
    let reset =
        Reset::parse(&scope).map_err(|error| GraphError::bad_request(format!("criteria.resetScope: {error}")))?;
    provisioning::restart(&state.stores, &caller.0.actor(), &definition.name, reset).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One `{key, value}` of Graph's `synchronizationSecretKeyStringValuePair`.
#[derive(Debug, serde::Deserialize)]
pub struct Pair {
    /// The secret's name (`BaseAddress`, `SecretToken`, ...).
    pub key: String,
    /// Its value, as text.
    pub value: String,
}

/// The body of `validateCredentials`.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Validate {
    /// Test the saved secrets, ignoring `credentials`.
    #[serde(default)]
    pub use_saved_credentials: bool,
    /// The secrets to test.
    #[serde(default)]
    pub credentials: Vec<Pair>,
}

fn pair<'a>(pairs: &'a [Pair], key: &str) -> Option<&'a str> {
    pairs.iter().find(|pair| pair.key.eq_ignore_ascii_case(key)).map(|pair| pair.value.as_str())
}

/// `POST .../jobs/{jobId}/validateCredentials` → 204, or 400 with what is wrong; nothing is saved.
pub async fn validate_credentials(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
    GraphJson(body): GraphJson<Validate>,
) -> ApiResult<StatusCode> {
    let definition = job_of(&state, &caller, &id, &job).await?;
    caller.check(Permission::ManageApplication(&definition.name))?;
    let (url, token) = if body.use_saved_credentials {
        (None, None)
    } else {
        (pair(&body.credentials, "BaseAddress"), pair(&body.credentials, "SecretToken"))
    };
    match provisioning::test_credentials(&state.stores, &state.key, &definition.name, url, token).await? {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(problem) => Err(GraphError::new(StatusCode::BAD_REQUEST, problem_code(&problem), problem.to_string())),
    }
}

/// The provisioning-log error code of a failed Test Connection.
fn problem_code(problem: &roster_scim_client::ConnectionProblem) -> &'static str {
    use roster_scim_client::ConnectionProblem as P;
    match problem {
        P::Unauthorized { .. } => "Unauthorized",
        P::Unreachable { .. } | P::Dropped { .. } => "ConnectionFailure",
        P::Tls { .. } => "TlsFailure",
        P::Timeout { .. } => "Timeout",
        P::NotFound => "NotFound",
        P::NotScim { .. } | P::FilterIgnored { .. } => "NonCompliantScimResponse",
        P::Failed(_) => "SystemForCrossDomainIdentityManagementServiceIncompatible",
    }
}

/// The body of `PUT .../synchronization/secrets` (`value`, or `credentials` as the page's table says).
#[derive(Debug, serde::Deserialize)]
pub struct Secrets {
    /// The pairs.
    #[serde(default)]
    pub value: Vec<Pair>,
    /// The pairs, by the other name.
    #[serde(default)]
    pub credentials: Vec<Pair>,
}

/// `SyncNotificationSettings`, a JSON text.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NotificationSettings {
    #[serde(default)]
    enabled: bool,
    #[serde(default)]
    recipients: Option<String>,
    #[serde(default)]
    delete_threshold_enabled: Option<bool>,
    #[serde(default)]
    delete_threshold_value: Option<u64>,
}

const SECRET_KEYS: &[&str] = &[
    "BaseAddress",
    "SecretToken",
    "NotificationEmail",
    "SyncNotificationSettings",
    "SyncAll",
    "SkipOutOfScopeDeletions",
];

/// `PUT /servicePrincipals/{id}/synchronization/secrets` → 204. `SecretToken` is sealed and never shown again.
pub async fn put_secrets(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<Secrets>,
) -> ApiResult<StatusCode> {
    let mut definition = find(&state, &caller, &id).await?;
    caller.check(Permission::ManageApplication(&definition.name))?;
    let pairs: Vec<Pair> = body.value.into_iter().chain(body.credentials).collect();
    let mut token = None;
    for Pair { key, value } in &pairs {
        match SECRET_KEYS.iter().find(|known| known.eq_ignore_ascii_case(key)).copied() {
            Some("BaseAddress") => definition.target.tenant_url = value.trim().to_owned(),
            Some("SecretToken") => token = Some(value.clone()),
            Some("NotificationEmail") => {
                definition.notifications.emails = value
                    .split([',', ';'])
                    .map(str::trim)
                    .filter(|email| !email.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            Some("SyncNotificationSettings") => {
                let settings: NotificationSettings = serde_json::from_str(value).map_err(|error| {
                    GraphError::bad_request(format!("SyncNotificationSettings: not the JSON text expected: {error}"))
                })?;
                if let Some(recipients) = settings.recipients.filter(|_| settings.enabled) {
                    definition.notifications.emails = recipients
                        .split([',', ';'])
                        .map(str::trim)
                        .filter(|email| !email.is_empty())
                        .map(str::to_owned)
                        .collect();
                }
                if let Some(enabled) = settings.delete_threshold_enabled {
                    definition.prevent_accidental_deletions = enabled;
                }
                if let Some(threshold) = settings.delete_threshold_value {
                    definition.deletion_threshold = threshold;
                }
            }
            Some("SyncAll") => {
                definition.scope = match value.to_ascii_lowercase().as_str() {
                    "true" => Scope::All,
                    "false" => Scope::Assigned,
                    _ => {
                        return Err(GraphError::bad_request(format!(
                            "SyncAll: expected \"true\" or \"false\", not {value:?}"
                        )));
                    }
                };
            }
            Some(_) => {
                return Err(GraphError::bad_request(format!("{key}: not supported by roster's provisioning yet")));
            }
            None => {
                return Err(GraphError::bad_request(format!(
                    "unknown secret key {key:?}; roster takes {}",
                    SECRET_KEYS.join(", ")
                )));
            }
        }
    }
    provisioning::put(
        &state.stores,
        &state.key,
        &caller.0.actor(),
        definition,
        token.as_deref(),
        Some(activity::UPDATE_CREDENTIALS),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

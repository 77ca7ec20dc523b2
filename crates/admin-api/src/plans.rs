//! Plans, which Graph lacks: a dry run of the job's next cycle, stored for review, then applied exactly.
//! `POST .../jobs/{jobId}/plans` computes and stores one (201, `Location`); `GET .../plans` lists the job's stored
//! plans, newest first; `GET .../plans/{planId}` is the plan as `roster sync NAME --show-plan ID --format json`
//! prints it; `POST .../plans/{planId}/apply` → 202: the plan is applied under the job's lease in a background task,
//! and its end shows in the job's status and events like any cycle's (a refused apply as a failed cycle, its reason
//! in the audit log).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roster_engine::cycle::{CycleError, NoProgress};
use roster_engine::definition::Definition;
use roster_engine::dry_run::Plan;
use roster_service::access::Permission;
use roster_service::provisioning;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::ApiState;
use crate::auth::Caller;
use crate::error::{ApiResult, GraphError};
use crate::paging::{Origin, Page};
use crate::synchronization::job_of;

/// How many of a job's plans `GET .../plans` lists (the newest).
pub const LISTED: usize = 50;

/// 400 unless the job can reach its target: a tenant URL and a secret token (Graph's PUT secrets).
pub(crate) async fn configured(state: &ApiState, definition: &Definition) -> ApiResult<()> {
    if definition.target.tenant_url.is_empty() || !provisioning::has_secret(&state.stores, &definition.name).await? {
        return Err(GraphError::bad_request(format!(
            "the provisioning job of {} is not configured: set BaseAddress and SecretToken with PUT \
             .../synchronization/secrets first",
            definition.name
        )));
    }
    Ok(())
}

/// A failure of a run against the target: 502 when the target failed as a whole, 409 when another process holds
/// the job, else the service error's status.
pub(crate) fn run_error(error: anyhow::Error) -> GraphError {
    match error.downcast_ref::<CycleError>() {
        Some(CycleError::Target(_)) => GraphError::new(StatusCode::BAD_GATEWAY, "TargetFailure", format!("{error:#}")),
        Some(CycleError::Busy(_)) => GraphError::new(StatusCode::CONFLICT, "Conflict", format!("{error:#}")),
        _ => GraphError::from(error),
    }
}

fn plans_path(id: &str, job: &str) -> String {
    format!("/servicePrincipals/{id}/synchronization/jobs/{job}/plans")
}

fn with_location(mut response: Response, location: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A stored plan of the job, or 404.
async fn stored(state: &ApiState, definition: &Definition, plan: &str) -> ApiResult<Plan> {
    state.stores.engine.plan(&definition.name, plan).await?.ok_or_else(|| GraphError::not_found(plan))
}

/// `POST .../jobs/{jobId}/plans` → 201 with the plan (its operations and notes), `Location` its URL. Nothing is
/// sent to the target but reads, nothing written but the plan.
pub async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
) -> ApiResult<Response> {
    let definition = job_of(&state, &caller, &id, &job).await?;
    caller.check(Permission::ManageApplication(&definition.name))?;
    configured(&state, &definition).await?;
    let plan = provisioning::dry_run(&state.stores, &state.key, &definition.name, Arc::new(NoProgress))
        .await
        .map_err(run_error)?;
    let location = format!("{}{}/{}", state.base_url, plans_path(&id, &job), plan.id);
    Ok(with_location((StatusCode::CREATED, Json(plan)).into_response(), &location))
}

/// A plan in a listing: everything but its operations and notes, which are counted.
fn summary(plan: &Plan) -> Value {
    json!({
        "id": plan.id,
        "application": plan.application,
        "created": plan.created.format(&Rfc3339).unwrap_or_default(),
        "kind": plan.kind,
        "from": plan.from,
        "to": plan.to,
        "counts": plan.counts,
        "operation_count": plan.operations.len(),
        "note_count": plan.notes.len(),
        "applied": plan.applied.and_then(|applied| applied.format(&Rfc3339).ok()),
    })
}

/// `GET .../jobs/{jobId}/plans`: the job's newest [`LISTED`] plans, newest first, without their operations.
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let definition = job_of(&state, &caller, &id, &job).await?;
    caller.check(Permission::ReadApplication(&definition.name))?;
    let mut value = Vec::new();
    for plan_id in state.stores.engine.plan_ids(&definition.name, LISTED).await? {
        if let Some(plan) = state.stores.engine.plan(&definition.name, &plan_id).await? {
            value.push(summary(&plan));
        }
    }
    let path = plans_path(&id, &job);
    let origin = Origin { base: &state.base_url, path: &path, query: raw.as_deref() };
    Ok(Page { context: "plans", value, count: None, next: None }.into_json(&origin).into_response())
}

/// `GET .../jobs/{jobId}/plans/{planId}`: the plan for review.
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job, plan)): Path<(String, String, String)>,
) -> ApiResult<Json<Plan>> {
    let definition = job_of(&state, &caller, &id, &job).await?;
    caller.check(Permission::ReadApplication(&definition.name))?;
    Ok(Json(stored(&state, &definition, &plan).await?))
}

/// `POST .../jobs/{jobId}/plans/{planId}/apply` → 202, `Location` the job: the plan is applied exactly, under the
/// job's lease, in the background. A plan applied already is refused at once (409); one that no longer holds is
/// refused by the apply before any write, which ends as a failed cycle with the reason in the audit log.
pub async fn apply(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job, plan_id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let definition = job_of(&state, &caller, &id, &job).await?;
    let name = definition.name.clone();
    caller.check(Permission::ManageApplication(&name))?;
    let plan = stored(&state, &definition, &plan_id).await?;
    if let Some(applied) = plan.applied {
        return Err(GraphError::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!(
                "plan {plan_id} was applied at {}: make a new one with POST {}",
                applied.format(&Rfc3339).unwrap_or_default(),
                plans_path(&id, &job)
            ),
        ));
    }
    configured(&state, &definition).await?;
    provisioning::start_apply(&state.stores, &state.key, &state.mailer, &caller.0.actor(), &name, &plan_id).await?;
    let location = format!("{}/servicePrincipals/{id}/synchronization/jobs/{job}", state.base_url);
    Ok(with_location(StatusCode::ACCEPTED.into_response(), &location))
}

//! `/auditLogs/provisioning` (Graph's `provisioningObjectSummary`) and `/auditLogs/directoryAudits` (Graph's
//! `directoryAudit`).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use roster_directory::audit::{AuditEntry, Initiator};
use roster_directory::port::AuditQuery;
use roster_engine::definition::Definition;
use roster_engine::log::{LogEntry, Status};
use roster_engine::state::LogQuery;
use roster_service::access::Permission;
use roster_service::provisioning;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ApiState;
use crate::applications::display_name;
use crate::auth::Caller;
use crate::error::{ApiResult, GraphError};
use crate::ids;
use crate::odata::{self, Capabilities, Operator as O};
use crate::paging::{Origin, Page};

/// The most entries one listing reads from the store (the page's offset plus its size).
const MAX_WINDOW: usize = 100_000;

fn time(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// A provisioning log entry as Graph's `provisioningObjectSummary`.
pub fn provisioning_object(entry: &LogEntry, definition: &Definition) -> Value {
    let status = match entry.status {
        Status::Success => "success",
        Status::Failure => "failure",
        Status::Skipped => "skipped",
        Status::Warning => "warning",
    };
    let steps: Vec<Value> = entry
        .steps
        .iter()
        .map(|step| {
            let details: serde_json::Map<String, Value> =
                step.details.iter().map(|(key, value)| (key.clone(), json!(value))).collect();
            json!({
                "name": format!("Entry{}", step.kind.as_str()),
                "provisioningStepType": step.kind.as_str().to_ascii_lowercase(),
                "status": format!("{:?}", step.status).to_ascii_lowercase(),
                "description": step.description,
                "details": details,
            })
        })
        .collect();
    let initiated_by = match entry.initiator {
        roster_engine::log::Initiator::System => {
            json!({"id": "", "displayName": "roster provisioning service", "initiatorType": "system"})
        }
        roster_engine::log::Initiator::User => {
            json!({"id": "", "displayName": "an admin (on demand)", "initiatorType": "user"})
        }
    };
    let error_information = entry.error_code.as_ref().map(|code| {
        json!({
            "errorCode": code,
            "reason": entry.error_reason,
            "additionalDetails": null,
            "errorCategory": if entry.status == Status::Failure { "failure" } else { "success" },
            "recommendedAction": null,
        })
    });
    json!({
        "id": entry.change,
        "activityDateTime": time(entry.at),
        "tenantId": null,
        "jobId": ids::job(&definition.template, &definition.name),
        "cycleId": entry.cycle,
        "changeId": entry.change,
        "provisioningAction": entry.action.as_str().to_ascii_lowercase(),
        "durationInMilliseconds": entry.duration_ms,
        "initiatedBy": initiated_by,
        "servicePrincipal": {"id": ids::service_principal(&definition.name), "displayName": display_name(definition)},
        "sourceIdentity": {
            "id": entry.source_id,
            "displayName": entry.source_name,
            "identityType": entry.kind.as_str(),
            "details": {},
        },
        "targetIdentity": {
            "id": entry.target_id,
            "displayName": entry.source_name,
            "identityType": entry.kind.as_str(),
            "details": {},
        },
        "sourceSystem": {"id": null, "displayName": "roster directory", "details": {}},
        "targetSystem": {
            "id": null,
            "displayName": display_name(definition),
            "details": {"ApplicationId": ids::app_id(&definition.name), "ServicePrincipalId": ids::service_principal(&definition.name)},
        },
        "modifiedProperties": entry.modified.iter().map(|property| json!({
            "displayName": property.name,
            "oldValue": property.old,
            "newValue": property.new,
        })).collect::<Vec<_>>(),
        "provisioningSteps": steps,
        "provisioningStatusInfo": {"status": status, "errorInformation": error_information},
    })
}

const PROVISIONING_CAPABILITIES: Capabilities<'static> = &[
    ("id", &[O::Eq, O::Contains]),
    ("jobId", &[O::Eq, O::Contains]),
    ("cycleId", &[O::Eq, O::Contains]),
    ("changeId", &[O::Eq, O::Contains]),
    ("provisioningAction", &[O::Eq, O::Contains]),
    ("activityDateTime", &[O::Eq, O::Gt, O::Lt, O::Ge, O::Le]),
    ("provisioningStatusInfo/status", &[O::Eq]),
    ("sourceIdentity/id", &[O::Eq, O::Contains]),
    ("sourceIdentity/displayName", &[O::Eq, O::Contains, O::StartsWith]),
    ("targetIdentity/id", &[O::Eq, O::Contains]),
    ("targetIdentity/displayName", &[O::Eq, O::Contains, O::StartsWith]),
    ("servicePrincipal/id", &[O::Eq]),
    ("servicePrincipal/displayName", &[O::Eq, O::Contains]),
];

/// `GET /auditLogs/provisioning`: the provisioning logs of every application the caller may read, newest first.
pub async fn provisioning(
    State(state): State<ApiState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let query = odata::parse_query(raw.as_deref().unwrap_or_default())?;
    crate::sorting::check_newest_first(&query.orderby)?;
    if let Some(filter) = &query.filter {
        filter.check(PROVISIONING_CAPABILITIES, "ProvisioningObjectSummary")?;
    }
    let top = query.page_size(100, 1000)?;
    let offset = offset(query.skiptoken.as_deref())?;
    let window = (offset + top + 1).min(MAX_WINDOW);
    let options = odata::MatchOptions { case_insensitive: false };
    let mut entries: Vec<(OffsetDateTime, Value)> = Vec::new();
    for definition in provisioning::definitions(&state.stores).await? {
        if !caller.0.may(Permission::ReadApplication(&definition.name)) {
            continue;
        }
        let job_id = ids::job(&definition.template, &definition.name);
        if let Some(wanted) = query.filter.as_ref().and_then(|filter| filter.equals("jobId"))
            && wanted != job_id
        {
            continue;
        }
        let log_query = LogQuery { limit: window, ..LogQuery::default() };
        for entry in state.stores.engine.logs(&definition.name, &log_query).await? {
            let object = provisioning_object(&entry, &definition);
            if query.filter.as_ref().is_none_or(|filter| filter.matches(&object, options)) {
                entries.push((entry.at, object));
            }
        }
    }
    entries.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    let more = entries.len() > offset + top;
    let value: Vec<Value> = entries.into_iter().skip(offset).take(top).map(|(_, object)| object).collect();
    let next = more.then(|| json!({"offset": offset + top}));
    let origin = Origin { base: &state.base_url, path: "/auditLogs/provisioning", query: raw.as_deref() };
    Ok(Page { context: "auditLogs/provisioning", value, count: None, next }.into_json(&origin).into_response())
}

fn offset(skiptoken: Option<&str>) -> ApiResult<usize> {
    let Some(token) = skiptoken else { return Ok(0) };
    let cursor = odata::decode_skiptoken(token)?;
    cursor
        .get("offset")
        .and_then(Value::as_u64)
        .and_then(|offset| usize::try_from(offset).ok())
        .filter(|offset| *offset < MAX_WINDOW)
        .ok_or_else(|| GraphError::bad_request("$skiptoken is not valid: use the @odata.nextLink as given"))
}

/// An audit entry as Graph's `directoryAudit`.
pub fn audit_object(entry: &AuditEntry) -> Value {
    let initiated_by = match &entry.initiated_by {
        Initiator::User { id, user_principal_name, display_name, ip_address } => json!({
            "user": {"id": id, "displayName": display_name, "userPrincipalName": user_principal_name, "ipAddress": ip_address},
            "app": null,
        }),
        Initiator::App { app_id, display_name } => json!({
            "user": null,
            "app": {"appId": app_id, "displayName": display_name, "servicePrincipalId": null, "servicePrincipalName": null},
        }),
    };
    json!({
        "id": entry.id,
        "category": entry.category.as_str(),
        "correlationId": entry.correlation_id,
        "result": entry.result,
        "resultReason": entry.result_reason,
        "activityDisplayName": entry.activity_display_name,
        "activityDateTime": time(entry.activity_date_time),
        "loggedByService": if entry.category == roster_directory::audit::Category::ProvisioningManagement { "Account Provisioning" } else { "Core Directory" },
        "operationType": entry.operation_type,
        "initiatedBy": initiated_by,
        "targetResources": entry.target_resources.iter().map(|target| json!({
            "id": target.id,
            "displayName": target.display_name,
            "type": target.kind,
            "userPrincipalName": target.user_principal_name,
            "groupType": null,
            "modifiedProperties": target.modified_properties.iter().map(|property| json!({
                "displayName": property.display_name,
                "oldValue": property.old_value,
                "newValue": property.new_value,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "additionalDetails": entry.additional_details.iter().map(|(key, value)| json!({"key": key, "value": value})).collect::<Vec<_>>(),
    })
}

const AUDIT_CAPABILITIES: Capabilities<'static> = &[
    ("id", &[O::Eq]),
    ("activityDateTime", &[O::Eq, O::Ge, O::Le, O::Gt, O::Lt]),
    ("activityDisplayName", &[O::Eq, O::StartsWith]),
    ("category", &[O::Eq]),
    ("correlationId", &[O::Eq]),
    ("loggedByService", &[O::Eq]),
    ("operationType", &[O::Eq]),
    ("result", &[O::Eq]),
    ("initiatedBy/user/id", &[O::Eq]),
    ("initiatedBy/user/displayName", &[O::Eq]),
    ("initiatedBy/user/userPrincipalName", &[O::Eq, O::StartsWith]),
    ("initiatedBy/app/appId", &[O::Eq]),
    ("initiatedBy/app/displayName", &[O::Eq]),
    ("targetResources", &[O::Any]),
];

/// `GET /auditLogs/directoryAudits`: newest first, paged by a (time, id) cursor.
pub async fn directory_audits(
    State(state): State<ApiState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    caller.check(Permission::ReadAudit)?;
    let query = odata::parse_query(raw.as_deref().unwrap_or_default())?;
    crate::sorting::check_newest_first(&query.orderby)?;
    if let Some(filter) = &query.filter {
        filter.check(AUDIT_CAPABILITIES, "DirectoryAudit")?;
    }
    let top = query.page_size(100, 1000)?;
    let mut before = match query.skiptoken.as_deref() {
        None => None,
        Some(token) => {
            let cursor = odata::decode_skiptoken(token)?;
            let at = cursor.get("at").and_then(Value::as_str).and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok());
            let id = cursor.get("id").and_then(Value::as_str);
            match (at, id) {
                (Some(at), Some(id)) => Some((at, id.to_owned())),
                _ => return Err(GraphError::bad_request("$skiptoken is not valid: use the @odata.nextLink as given")),
            }
        }
    };
    let options = odata::MatchOptions { case_insensitive: true };
    let (mut value, mut scanned, mut next) = (Vec::new(), 0usize, None);
    loop {
        let batch = state
            .stores
            .directory
            .audit(&AuditQuery { before: before.clone(), limit: 500, ..AuditQuery::default() })
            .await?;
        let full = batch.len() == 500;
        for entry in batch {
            scanned += 1;
            before = Some((entry.activity_date_time, entry.id.clone()));
            let object = audit_object(&entry);
            if query.filter.as_ref().is_none_or(|filter| filter.matches(&object, options)) {
                value.push(object);
                if value.len() == top {
                    break;
                }
            }
        }
        if value.len() == top || scanned >= crate::paging::SCAN_LIMIT {
            next = before.as_ref().map(|(at, id)| json!({"at": time(*at), "id": id}));
            break;
        }
        if !full {
            break;
        }
    }
    let origin = Origin { base: &state.base_url, path: "/auditLogs/directoryAudits", query: raw.as_deref() };
    Ok(Page { context: "auditLogs/directoryAudits", value, count: None, next }.into_json(&origin).into_response())
}

/// `GET /auditLogs/directoryAudits/{id}`.
pub async fn directory_audit(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.check(Permission::ReadAudit)?;
    let mut before = None;
    loop {
        let batch = state
            .stores
            .directory
            .audit(&AuditQuery { before: before.clone(), limit: 1000, ..AuditQuery::default() })
            .await?;
        if let Some(entry) = batch.iter().find(|entry| entry.id == id) {
            return Ok(Json(audit_object(entry)));
        }
        match batch.last() {
            Some(last) if batch.len() == 1000 => before = Some((last.activity_date_time, last.id.clone())),
            _ => return Err(GraphError::not_found(&id)),
        }
    }
}

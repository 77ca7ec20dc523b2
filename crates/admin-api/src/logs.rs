//! `/auditLogs/provisioning` (Graph's `provisioningObjectSummary`) and `/auditLogs/directoryAudits` (Graph's
//! `directoryAudit`).

use std::collections::VecDeque;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use roster_directory::audit::{AuditEntry, Initiator};
use roster_directory::port::AuditQuery;
use roster_engine::definition::Definition;
use roster_engine::log::{Action, LogEntry, Status};
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

fn time(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// A status as Graph's `provisioningStatusInfo/status` names it.
fn status_name(status: Status) -> &'static str {
    match status {
        Status::Success => "success",
        Status::Failure => "failure",
        Status::Skipped => "skipped",
        Status::Warning => "warning",
    }
}

/// A provisioning log entry as Graph's `provisioningObjectSummary`.
pub fn provisioning_object(entry: &LogEntry, definition: &Definition) -> Value {
    let status = status_name(entry.status);
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

/// `GET /auditLogs/provisioning`: the provisioning logs of every application the caller may read, newest first
/// in the stores' order (see [`LogQuery`]: `at` to the millisecond, then change id, descending; change ids are
/// unique across applications, so the merged order is total), paged by a keyset `$skiptoken`: the `(at, change
/// id)` of the last entry a page read. A page reads each application's entries after the cursor, `$top` + 1 at
/// first (without `$filter`, one query an application however deep the page), then in batches while a filter
/// passes over entries, up to [`SCAN_LIMIT`](crate::paging::SCAN_LIMIT) entries: a selective filter answers a
/// short (even empty) page with a nextLink rather than reading everything at once. The filter's selective terms
/// narrow the stores' reads too (see [`pushed_down`]); it is still checked on every entry.
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
    let before = cursor(query.skiptoken.as_deref())?;
    let pushed = match query.filter.as_ref().map(pushed_down) {
        None => Some(LogQuery::default()),
        Some(pushed) => pushed,
    };
    let options = odata::MatchOptions { case_insensitive: false };
    let mut sources = Vec::new();
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
        // A filter no entry can match reads nothing.
        let Some(pushed) = &pushed else { break };
        let query = LogQuery { before: before.clone(), limit: top + 1, ..pushed.clone() };
        sources.push(Source { definition, query, read: VecDeque::new(), done: false });
    }
    let (mut value, mut scanned, mut last) = (Vec::new(), 0usize, None);
    let more = loop {
        for source in sources.iter_mut().filter(|source| source.read.is_empty() && !source.done) {
            let entries = state.stores.engine.logs(&source.definition.name, &source.query).await?;
            source.done = entries.len() < source.query.limit;
            if let Some(entry) = entries.last() {
                source.query.before = Some((entry.at, entry.change.clone()));
            }
            source.query.limit = BATCH;
            source.read.extend(entries);
        }
        // The newest entry not yet looked at, of any application.
        let newest = sources
            .iter()
            .enumerate()
            .filter_map(|(index, source)| source.read.front().map(|entry| (order_key(entry), index)))
            .max()
            .map(|(_, index)| index);
        let Some(source) = newest.and_then(|index| sources.get_mut(index)) else { break false };
        let Some(entry) = source.read.pop_front() else { break false };
        let object = provisioning_object(&entry, &source.definition);
        if query.filter.as_ref().is_none_or(|filter| filter.matches(&object, options)) {
            if value.len() == top {
                // A match beyond the page: there is a next page, after the page's last entry.
                break true;
            }
            value.push(object);
        }
        last = Some((entry.at, entry.change));
        scanned += 1;
        if scanned >= crate::paging::SCAN_LIMIT {
            // The next page goes on after the last entry looked at (if there are more at all).
            break sources.iter().any(|source| !source.read.is_empty() || !source.done);
        }
    };
    let next = last.filter(|_| more).map(|(at, change)| json!({"at": time(at), "change": change}));
    let origin = Origin { base: &state.base_url, path: "/auditLogs/provisioning", query: raw.as_deref() };
    Ok(Page { context: "auditLogs/provisioning", value, count: None, next }.into_json(&origin).into_response())
}

/// How many entries an application's later reads of a page ask for, while a filter passes over entries.
const BATCH: usize = 500;

/// An application's entries in the page being read.
struct Source {
    definition: Definition,
    /// The next read: after the last entry read so far.
    query: LogQuery,
    /// Entries read and not yet looked at, newest first.
    read: VecDeque<LogEntry>,
    /// Whether the store has no more entries after those read.
    done: bool,
}

/// An entry's place in the stores' order, the greater the newer: its time at the stored precision (Unix
/// milliseconds, truncated towards the past), then its change id.
fn order_key(entry: &LogEntry) -> (i128, &str) {
    (entry.at.unix_timestamp_nanos().div_euclid(1_000_000), &entry.change)
}

/// The store filters a `$filter` implies, from the `eq` terms it requires (see [`odata::Filter::equals`]): the
/// entries they select include every entry the filter matches, and the filter is still checked on each. An
/// identity column's term becomes the store's identity filter (any of the three columns; the filter then keeps
/// only the column it named). `None` when a term requires a status or action no entry has.
fn pushed_down(filter: &odata::Filter) -> Option<LogQuery> {
    let status = filter.equals("provisioningStatusInfo/status").map(|name| {
        [Status::Success, Status::Failure, Status::Skipped, Status::Warning]
            .into_iter()
            .find(|status| status_name(*status) == name)
    });
    let action = filter.equals("provisioningAction").map(|name| {
        [Action::Create, Action::Update, Action::Delete, Action::Disable, Action::StagedDelete, Action::Other]
            .into_iter()
            .find(|action| action.as_str().to_ascii_lowercase() == name)
    });
    let identity =
        ["sourceIdentity/id", "targetIdentity/id", "sourceIdentity/displayName", "targetIdentity/displayName"]
            .into_iter()
            .find_map(|property| filter.equals(property));
    Some(LogQuery {
        cycle: filter.equals("cycleId").map(str::to_owned),
        status: status.map_or(Some(None), |status| status.map(Some))?,
        action: action.map_or(Some(None), |action| action.map(Some))?,
        identity: identity.map(str::to_owned),
        ..LogQuery::default()
    })
}

/// The cursor of a `$skiptoken` made by [`provisioning`]: the `(at, change id)` of the last entry a page read.
fn cursor(skiptoken: Option<&str>) -> ApiResult<Option<(OffsetDateTime, String)>> {
    let Some(token) = skiptoken else { return Ok(None) };
    let cursor = odata::decode_skiptoken(token)?;
    let at = cursor.get("at").and_then(Value::as_str).and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok());
    match (at, cursor.get("change").and_then(Value::as_str)) {
        (Some(at), Some(change)) => Ok(Some((at, change.to_owned()))),
        _ => Err(GraphError::bad_request("$skiptoken is not valid: use the @odata.nextLink as given")),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pushed(filter: &str) -> Option<LogQuery> {
        pushed_down(&odata::Filter::parse(filter).unwrap_or_else(|error| panic!("{filter}: {error:?}")))
    }

    #[test]
    fn the_required_equalities_narrow_the_stores_reads() {
        let query = pushed(
            "jobId eq 'j' and cycleId eq 'c1' and provisioningStatusInfo/status eq 'failure' and \
             provisioningAction eq 'stageddelete' and targetIdentity/id eq 't1'",
        );
        let expected = LogQuery {
            cycle: Some("c1".into()),
            status: Some(Status::Failure),
            action: Some(Action::StagedDelete),
            identity: Some("t1".into()),
            ..LogQuery::default()
        };
        assert_eq!(query, Some(expected));
        assert_eq!(pushed("sourceIdentity/displayName eq 'ann'").and_then(|query| query.identity), Some("ann".into()));
        // Only terms every match requires, in Graph's spelling.
        assert_eq!(pushed("cycleId eq 'c1' or cycleId eq 'c2'"), Some(LogQuery::default()));
        assert_eq!(pushed("contains(cycleId, 'c')"), Some(LogQuery::default()));
        // A status or action no entry has: nothing to read.
        assert_eq!(pushed("provisioningStatusInfo/status eq 'Failure'"), None);
        assert_eq!(pushed("provisioningAction eq 'nothing'"), None);
    }

    #[test]
    fn the_cursor_is_an_entry_time_and_change_id() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        let token = odata::encode_skiptoken(&json!({"at": time(at), "change": "c1"}));
        assert_eq!(cursor(Some(&token)).unwrap(), Some((at, "c1".to_owned())));
        assert_eq!(cursor(None).unwrap(), None);
        for cursor_json in [json!({"offset": 100}), json!({"at": "yesterday", "change": "c1"}), json!({"at": time(at)})]
        {
            assert!(cursor(Some(&odata::encode_skiptoken(&cursor_json))).is_err(), "{cursor_json}");
        }
    }
}

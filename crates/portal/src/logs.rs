//! An application's Provisioning logs, as Entra's: filters (identity, date, status, action, cycle), pages read on
//! the server with a keyset cursor (one indexed query a page, however deep), a detail pane of the selected entry
//! (Steps, Troubleshooting and recommendations, Modified properties, Summary), and Download as CSV or JSON of
//! what the filter selects.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use roster_engine::log::{Action, LogEntry, Status};
use roster_engine::state::LogQuery;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::PortalState;
use crate::error::{PortalError, PortalResult, render};
use crate::format;
use crate::overview::{AppNav, readable, urlencoded};
use crate::query::{self, blank_to_none, parse_cursor, query_string};
use crate::session::{Chrome, Section, Signed};

/// Entries on a page.
pub const PAGE_SIZE: usize = 50;
/// Entries in a download at most.
pub const DOWNLOAD_LIMIT: usize = 100_000;

/// The page's query: its filters, its cursor and the selected entry.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LogFilter {
    /// A source id, a target id or a source name.
    #[serde(default)]
    pub identity: Option<String>,
    /// `Success`, `Failure`, `Skipped`, `Warning`.
    #[serde(default)]
    pub status: Option<String>,
    /// `Create`, `Update`, `Delete`, `Disable`, `StagedDelete`, `Other`.
    #[serde(default)]
    pub action: Option<String>,
    /// A cycle id.
    #[serde(default)]
    pub cycle: Option<String>,
    /// `24h`, `7d`, `30d` or `all` (the default).
    #[serde(default)]
    pub period: Option<String>,
    /// The cursor: entries older than `{time}|{change}`.
    #[serde(default)]
    pub before: Option<String>,
    /// The change id of the entry whose details are shown.
    #[serde(default)]
    pub entry: Option<String>,
    /// `csv` or `json`: a download.
    #[serde(default)]
    pub format: Option<String>,
}

impl LogFilter {
    /// The store's query of this filter, or what is wrong with it.
    pub fn query(&self, now: OffsetDateTime, limit: usize) -> Result<LogQuery, PortalError> {
        let status = blank_to_none(&self.status)
            .map(|text| Status::parse(text).ok_or_else(|| PortalError::bad_request(format!("No status {text:?}."))))
            .transpose()?;
        let action = blank_to_none(&self.action)
            .map(|text| Action::parse(text).ok_or_else(|| PortalError::bad_request(format!("No action {text:?}."))))
            .transpose()?;
        let since = match blank_to_none(&self.period).unwrap_or("all") {
            "24h" => Some(now - time::Duration::hours(24)),
            "7d" => Some(now - time::Duration::days(7)),
            "30d" => Some(now - time::Duration::days(30)),
            "all" => None,
            other => return Err(PortalError::bad_request(format!("No period {other:?}: use 24h, 7d, 30d or all."))),
        };
        let before = blank_to_none(&self.before).map(parse_cursor).transpose()?;
        Ok(LogQuery {
            cycle: blank_to_none(&self.cycle).map(str::to_owned),
            status,
            action,
            identity: blank_to_none(&self.identity).map(str::to_owned),
            since,
            until: None,
            before,
            limit,
        })
    }

    /// This filter's query string with `before` and `entry` replaced.
    fn link(&self, before: Option<&str>, entry: Option<&str>, format: Option<&str>) -> String {
        query_string(&[
            ("identity", blank_to_none(&self.identity)),
            ("status", blank_to_none(&self.status)),
            ("action", blank_to_none(&self.action)),
            ("cycle", blank_to_none(&self.cycle)),
            ("period", blank_to_none(&self.period)),
            ("before", before),
            ("entry", entry),
            ("format", format),
        ])
    }
}

fn cursor(entry: &LogEntry) -> String {
    query::cursor(entry.at, &entry.change)
}

/// One row of the table.
#[derive(Debug, Clone)]
struct Row {
    at: String,
    identity: String,
    source_id: String,
    kind: &'static str,
    action: &'static str,
    status: &'static str,
    link: String,
    selected: bool,
}

/// The detail pane.
#[derive(Debug, Clone)]
struct Detail {
    entry: LogEntry,
    at: String,
    identity: String,
    recommendation: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "logs.html")]
struct LogsPage {
    chrome: Chrome,
    title: String,
    app: AppNav,
    filter: LogFilter,
    rows: Vec<Row>,
    next: Option<String>,
    first: Option<String>,
    detail: Option<Detail>,
    csv: String,
    json: String,
    statuses: &'static [&'static str],
    actions: &'static [&'static str],
    periods: &'static [(&'static str, &'static str)],
}

const STATUSES: &[&str] = &["Success", "Failure", "Skipped", "Warning"];
const ACTIONS: &[&str] = &["Create", "Update", "Delete", "Disable", "StagedDelete", "Other"];
const PERIODS: &[(&str, &str)] =
    &[("all", "All"), ("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days")];

/// `GET /applications/{name}/logs`.
pub async fn page(
    State(state): State<PortalState>,
    admin: Signed,
    Path(name): Path<String>,
    Query(filter): Query<LogFilter>,
) -> PortalResult<Response> {
    let (definition, _) = readable(&state, &admin, &name).await?;
    let now = OffsetDateTime::now_utc();
    if let Some(format) = blank_to_none(&filter.format) {
        let entries = state.stores.engine.logs(&name, &filter.query(now, DOWNLOAD_LIMIT)?).await?;
        return download(&name, format, &entries);
    }
    let mut entries = state.stores.engine.logs(&name, &filter.query(now, PAGE_SIZE + 1)?).await?;
    let more = entries.len() > PAGE_SIZE;
    entries.truncate(PAGE_SIZE);
    let base = format!("/applications/{}/logs", urlencoded(&name));
    let before = blank_to_none(&filter.before);
    let selected = blank_to_none(&filter.entry);
    let rows = entries
        .iter()
        .map(|entry| Row {
            at: format::time(entry.at),
            identity: entry.source_name.clone().unwrap_or_else(|| entry.source_id.clone()),
            source_id: entry.source_id.clone(),
            kind: entry.kind.as_str(),
            action: entry.action.as_str(),
            status: entry.status.as_str(),
            link: format!("{base}?{}#detail", filter.link(before, Some(&entry.change), None)),
            selected: selected == Some(entry.change.as_str()),
        })
        .collect();
    let detail = selected.and_then(|change| entries.iter().find(|entry| entry.change == change)).map(|entry| Detail {
        at: format::time(entry.at),
        identity: entry.source_name.clone().unwrap_or_else(|| entry.source_id.clone()),
        recommendation: entry.error_code.as_deref().map(recommendation),
        entry: entry.clone(),
    });
    if selected.is_some() && detail.is_none() {
        return Err(PortalError::not_found("That log entry is not on this page of the logs."));
    }
    let next = match entries.last() {
        Some(last) if more => Some(format!("{base}?{}", filter.link(Some(&cursor(last)), None, None))),
        _ => None,
    };
    let first = before.map(|_| format!("{base}?{}", filter.link(None, None, None)));
    let app = AppNav::new(&definition, "logs");
    Ok(render(&LogsPage {
        chrome: admin.chrome(Section::Applications),
        title: format!("{} · Provisioning logs", app.display_name),
        app,
        csv: format!("{base}?{}", filter.link(None, None, Some("csv"))),
        json: format!("{base}?{}", filter.link(None, None, Some("json"))),
        filter,
        rows,
        next,
        first,
        detail,
        statuses: STATUSES,
        actions: ACTIONS,
        periods: PERIODS,
    }))
}

/// A download of entries as `ProvisioningLogs-{name}.csv` or `.json` (minified, UTC times).
fn download(name: &str, format: &str, entries: &[LogEntry]) -> PortalResult<Response> {
    let (body, content_type) = match format {
        "csv" => {
            let mut out = Vec::new();
            roster_service::log_export::write_csv(entries, &mut out)?;
            (out, "text/csv; charset=utf-8")
        }
        "json" => (serde_json::to_vec(entries).map_err(anyhow::Error::from)?, "application/json"),
        other => return Err(PortalError::bad_request(format!("No download format {other:?}: use csv or json."))),
    };
    let safe: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    let disposition = format!("attachment; filename=\"ProvisioningLogs-{safe}.{format}\"");
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// What Entra recommends for an error code.
pub fn recommendation(code: &str) -> &'static str {
    match code {
        "EntryConflict" | "Conflict" => {
            "The target has an object that matches on a unique attribute but was not matched by the matching \
             attributes. Change the conflicting value in the directory or in the target, or change the matching \
             attributes, then provision on demand."
        }
        "TooManyRequests" => "The target throttled roster. Nothing to do: the object is retried with the next cycles.",
        "InternalServerError" | "ServiceUnavailable" => {
            "The target failed. The object is retried with the next cycles; if it keeps failing, contact the \
             application's owner."
        }
        "InsufficientRights" | "Unauthorized" | "Forbidden" => {
            "The target refused the Secret Token or its rights. Enter a valid Secret Token on the Provisioning page, \
             Test Connection, and Save."
        }
        "UnprocessableEntity" | "InvalidAttribute" | "BadRequest" => {
            "The target refused a value. Look at Modified properties for the attribute, and fix its mapping or the \
             directory value."
        }
        "InvalidAnchor" => "The target object was deleted outside roster. Restart provisioning to match it again.",
        "MandatoryFieldsMissing" => {
            "A required target attribute has no value. Give the source attribute a value, or a default in its mapping."
        }
        "DuplicateTargetEntries" => {
            "More than one target object matches. Remove the duplicates in the target, or choose a matching \
             attribute that is unique."
        }
        "DuplicateSourceEntries" => {
            "More than one directory object has this matching value. Make the value unique in the directory."
        }
        _ => "See the reason above; fix its cause, then provision the object on demand to check.",
    }
}

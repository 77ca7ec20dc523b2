//! The Audit logs, as Entra's: who changed what, newest first, with Entra's activity names. Filters (date, category,
//! activity, status, initiated by, target), pages read on the server by a keyset cursor of (time, id), and a detail
//! pane of the selected entry (Activity, Target(s) with their Modified properties old -> new, Additional details).
//!
//! The date window is read by the store's index; the other filters are applied to the entries as they are read, at
//! most [`SCAN_LIMIT`] a page (the admin API's bound), after which the page says how far it searched and offers the
//! next page from there.

use askama::Template;
use axum::extract::{Query, State};
use roster_directory::audit::{AuditEntry, Category, Initiator};
use roster_directory::port::AuditQuery;
use roster_service::access::Permission;
use serde::Deserialize;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};

use crate::PortalState;
use crate::error::{PortalError, PortalResult, render};
use crate::format;
use crate::query::{self, blank_to_none, parse_cursor, query_string};
use crate::session::{Chrome, Section, Signed};
use axum::response::Response;

/// Entries on a page.
pub const PAGE_SIZE: usize = 50;
/// Entries read at most for one page when filters other than the date select few.
pub const SCAN_LIMIT: usize = 5_000;

/// The page's query: its filters, its cursor and the selected entry.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditFilter {
    /// `24h`, `7d`, `30d`, `all` (the default) or `custom` (with `from` and `to`).
    #[serde(default)]
    pub period: Option<String>,
    /// The first day, `YYYY-MM-DD` (UTC), of a custom period.
    #[serde(default)]
    pub from: Option<String>,
    /// The last day, `YYYY-MM-DD` (UTC), of a custom period.
    #[serde(default)]
    pub to: Option<String>,
    /// Graph's category name.
    #[serde(default)]
    pub category: Option<String>,
    /// Part of the activity's name, any case.
    #[serde(default)]
    pub activity: Option<String>,
    /// `success` or `failure`.
    #[serde(default)]
    pub result: Option<String>,
    /// Part of the initiator's user principal name, display name or id, any case.
    #[serde(default)]
    pub initiator: Option<String>,
    /// Part of a target's display name, user principal name or id, any case.
    #[serde(default)]
    pub target: Option<String>,
    /// The cursor: entries older than `{time}|{id}`.
    #[serde(default)]
    pub before: Option<String>,
    /// The id of the entry whose details are shown.
    #[serde(default)]
    pub entry: Option<String>,
}

/// The categories, as Graph names them.
const CATEGORIES: &[Category] = &[
    Category::UserManagement,
    Category::GroupManagement,
    Category::ApplicationManagement,
    Category::RoleManagement,
    Category::ProvisioningManagement,
    Category::Other,
];
const RESULTS: &[(&str, &str)] = &[("success", "Success"), ("failure", "Failure")];
const PERIODS: &[(&str, &str)] = &[
    ("all", "All"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("custom", "Custom (from and to)"),
];

/// What the filters other than the date select, checked on each entry read.
#[derive(Debug, Clone, Default)]
struct Matcher {
    category: Option<Category>,
    activity: Option<String>,
    result: Option<String>,
    initiator: Option<String>,
    target: Option<String>,
}

fn contains(haystack: &str, lowercase_needle: &str) -> bool {
    haystack.to_lowercase().contains(lowercase_needle)
}

impl Matcher {
    fn matches(&self, entry: &AuditEntry) -> bool {
        self.category.is_none_or(|category| entry.category == category)
            && self.activity.as_deref().is_none_or(|needle| contains(&entry.activity_display_name, needle))
            && self.result.as_deref().is_none_or(|result| entry.result.eq_ignore_ascii_case(result))
            && self.initiator.as_deref().is_none_or(|needle| initiator_matches(&entry.initiated_by, needle))
            && self.target.as_deref().is_none_or(|needle| {
                entry.target_resources.iter().any(|target| {
                    contains(&target.id, needle)
                        || target.display_name.as_deref().is_some_and(|name| contains(name, needle))
                        || target.user_principal_name.as_deref().is_some_and(|upn| contains(upn, needle))
                })
            })
    }
}

fn initiator_matches(initiator: &Initiator, needle: &str) -> bool {
    match initiator {
        Initiator::User { id, user_principal_name, display_name, .. } => {
            contains(id, needle) || contains(user_principal_name, needle) || contains(display_name, needle)
        }
        Initiator::App { app_id, display_name } => contains(app_id, needle) || contains(display_name, needle),
    }
}

/// A day `YYYY-MM-DD`, or what is wrong with it.
fn day(text: &str, field: &str) -> Result<Date, PortalError> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| PortalError::bad_request(format!("The {field} date {text:?} is not a date: use YYYY-MM-DD.")))
}

impl AuditFilter {
    /// The store's date window and cursor, and the matcher of the other filters, or what is wrong with them.
    fn query(&self, now: OffsetDateTime) -> Result<(AuditQuery, Matcher), PortalError> {
        let (since, until) = match blank_to_none(&self.period).unwrap_or("all") {
            "24h" => (Some(now - time::Duration::hours(24)), None),
            "7d" => (Some(now - time::Duration::days(7)), None),
            "30d" => (Some(now - time::Duration::days(30)), None),
            "all" => (None, None),
            "custom" => {
                let from = blank_to_none(&self.from).map(|text| day(text, "From")).transpose()?;
                let to = blank_to_none(&self.to).map(|text| day(text, "To")).transpose()?;
                if let (Some(from), Some(to)) = (from, to)
                    && from > to
                {
                    return Err(PortalError::bad_request(format!(
                        "The From date {from} is after the To date {to}: swap them."
                    )));
                }
                let since = from.map(|from| from.with_time(Time::MIDNIGHT).assume_utc());
                let until = to.map(|to| {
                    to.with_time(Time::MIDNIGHT).assume_utc() + time::Duration::days(1)
                        - time::Duration::milliseconds(1)
                });
                (since, until)
            }
            other => {
                return Err(PortalError::bad_request(format!("No period {other:?}: use 24h, 7d, 30d, all or custom.")));
            }
        };
        let category = blank_to_none(&self.category)
            .map(|text| {
                CATEGORIES
                    .iter()
                    .copied()
                    .find(|category| category.as_str() == text)
                    .ok_or_else(|| PortalError::bad_request(format!("No category {text:?}.")))
            })
            .transpose()?;
        let result = blank_to_none(&self.result)
            .map(|text| match text {
                "success" | "failure" => Ok(text.to_owned()),
                other => Err(PortalError::bad_request(format!("No status {other:?}: use success or failure."))),
            })
            .transpose()?;
        let lowercase = |value: &Option<String>| blank_to_none(value).map(str::to_lowercase);
        let before = blank_to_none(&self.before).map(parse_cursor).transpose()?;
        let matcher = Matcher {
            category,
            activity: lowercase(&self.activity),
            result,
            initiator: lowercase(&self.initiator),
            target: lowercase(&self.target),
        };
        Ok((AuditQuery { since, until, before, limit: 0 }, matcher))
    }

    /// This filter's query string with `before` and `entry` replaced.
    fn link(&self, before: Option<&str>, entry: Option<&str>) -> String {
        let custom = blank_to_none(&self.period) == Some("custom");
        query_string(&[
            ("period", blank_to_none(&self.period)),
            ("from", blank_to_none(&self.from).filter(|_| custom)),
            ("to", blank_to_none(&self.to).filter(|_| custom)),
            ("category", blank_to_none(&self.category)),
            ("activity", blank_to_none(&self.activity)),
            ("result", blank_to_none(&self.result)),
            ("initiator", blank_to_none(&self.initiator)),
            ("target", blank_to_none(&self.target)),
            ("before", before),
            ("entry", entry),
        ])
    }
}

fn cursor((at, id): &(OffsetDateTime, String)) -> String {
    query::cursor(*at, id)
}

/// Who, as a table shows it.
fn initiator_name(initiator: &Initiator) -> String {
    match initiator {
        Initiator::User { user_principal_name, .. } => user_principal_name.clone(),
        Initiator::App { display_name, .. } => display_name.clone(),
    }
}

/// One row of the table.
#[derive(Debug, Clone)]
struct Row {
    at: String,
    service: &'static str,
    category: &'static str,
    activity: String,
    result: String,
    failed: bool,
    targets: String,
    initiator: String,
    link: String,
    selected: bool,
}

/// The detail pane.
#[derive(Debug, Clone)]
struct Detail {
    entry: AuditEntry,
    at: String,
    service: &'static str,
    initiator: String,
    initiator_kind: &'static str,
    address: String,
}

fn service_of(entry: &AuditEntry) -> &'static str {
    if entry.category == Category::ProvisioningManagement { "Account Provisioning" } else { "Core Directory" }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    title: String,
    filter: AuditFilter,
    rows: Vec<Row>,
    next: Option<String>,
    first: Option<String>,
    searched_to: Option<String>,
    detail: Option<Detail>,
    categories: Vec<&'static str>,
    results: &'static [(&'static str, &'static str)],
    periods: &'static [(&'static str, &'static str)],
}

/// `GET /audit`.
pub async fn page(
    State(state): State<PortalState>,
    admin: Signed,
    Query(filter): Query<AuditFilter>,
) -> PortalResult<Response> {
    admin.check(Permission::ReadAudit)?;
    let (query, matcher) = filter.query(OffsetDateTime::now_utc())?;
    let (entries, more) =
        roster_service::audit::search(&state.stores, &query, PAGE_SIZE, SCAN_LIMIT, |entry| matcher.matches(entry))
            .await?;
    let before = blank_to_none(&filter.before);
    let selected = blank_to_none(&filter.entry);
    let rows = entries
        .iter()
        .map(|entry| Row {
            at: format::time(entry.activity_date_time),
            service: service_of(entry),
            category: entry.category.as_str(),
            activity: entry.activity_display_name.clone(),
            result: if entry.result.eq_ignore_ascii_case("success") { "Success" } else { "Failure" }.to_owned(),
            failed: !entry.result.eq_ignore_ascii_case("success"),
            targets: entry
                .target_resources
                .iter()
                .map(|target| {
                    target.display_name.clone().filter(|name| !name.is_empty()).unwrap_or_else(|| target.id.clone())
                })
                .collect::<Vec<_>>()
                .join(", "),
            initiator: initiator_name(&entry.initiated_by),
            link: format!("/audit?{}#detail", filter.link(before, Some(&entry.id))),
            selected: selected == Some(entry.id.as_str()),
        })
        .collect();
    let detail = selected.and_then(|id| entries.iter().find(|entry| entry.id == id)).map(|entry| {
        let (initiator_kind, address) = match &entry.initiated_by {
            Initiator::User { ip_address, .. } => ("User", ip_address.clone().unwrap_or_else(|| "—".to_owned())),
            Initiator::App { .. } => ("App", "—".to_owned()),
        };
        Detail {
            at: format::time(entry.activity_date_time),
            service: service_of(entry),
            initiator: initiator_name(&entry.initiated_by),
            initiator_kind,
            address,
            entry: entry.clone(),
        }
    });
    if selected.is_some() && detail.is_none() {
        return Err(PortalError::not_found("That audit entry is not on this page of the audit log."));
    }
    // The scan stopped at its bound before a page was full: say how far it searched.
    let searched_to = match &more {
        Some((at, _)) if entries.len() < PAGE_SIZE => Some(format::time(*at)),
        _ => None,
    };
    let next = more.as_ref().map(|last| format!("/audit?{}", filter.link(Some(&cursor(last)), None)));
    let first = before.map(|_| format!("/audit?{}", filter.link(None, None)));
    Ok(render(&AuditPage {
        chrome: admin.chrome(Section::Audit),
        title: "Audit logs".to_owned(),
        filter,
        rows,
        next,
        first,
        searched_to,
        detail,
        categories: CATEGORIES.iter().map(|category| category.as_str()).collect(),
        results: RESULTS,
        periods: PERIODS,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_custom_period_is_whole_days_in_utc_and_bad_dates_say_how_to_write_them() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let filter = |from: &str, to: &str| AuditFilter {
            period: Some("custom".into()),
            from: Some(from.into()),
            to: Some(to.into()),
            ..AuditFilter::default()
        };
        let (query, _) = filter("2026-12-01", "2026-12-07").query(now).unwrap();
        assert_eq!(query.since.map(format::time).as_deref(), Some("2026-12-01 00:00:00 UTC"));
        assert_eq!(query.until.map(format::time).as_deref(), Some("2026-12-07 23:59:59 UTC"));
        let error = filter("yesterday", "").query(now).unwrap_err();
        assert!(error.message.contains("YYYY-MM-DD"), "{}", error.message);
        assert!(filter("2026-12-07", "2026-12-01").query(now).unwrap_err().message.contains("swap"));
        let bad_period = AuditFilter { period: Some("week".into()), ..AuditFilter::default() };
        assert!(bad_period.query(now).is_err());
        let bad_cursor = AuditFilter { before: Some("x".into()), ..AuditFilter::default() };
        assert!(bad_cursor.query(now).is_err());
    }
}

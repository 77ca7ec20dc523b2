//! Enterprise applications: the list (with each one's status, last cycle and failures of the last 24 hours, which
//! the dashboard shows too) and New application from a template.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use roster_engine::definition::Definition;
use roster_engine::log::Status as LogStatus;
use roster_engine::state::{JobState, LogQuery};
use roster_engine::templates::TEMPLATES;
use roster_service::access::Permission;
use roster_service::error::{ErrorKind, ServiceError};
use roster_service::provisioning;
use time::OffsetDateTime;

use crate::PortalState;
use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::Form;
use crate::format;
use crate::session::{Chrome, Section, Signed};

/// The failures counted for the dashboard at most (more shows as "1,000+").
const FAILURES_COUNTED: usize = 1000;

/// One application as the lists show it.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The unique name.
    pub name: String,
    /// The display name (the name when it has none).
    pub display_name: String,
    /// The template it came from.
    pub template: String,
    /// `NotConfigured`, `Paused`, `NotRun`, `Active` or `Quarantine`.
    pub status: &'static str,
    /// The last cycle that ended, in words (`Initial cycle, Succeeded, 2026-12-07 15:31:02 UTC`), or `Not run`.
    pub last_cycle: String,
    /// Failed objects in the last 24 hours, in words.
    pub failures: String,
    /// Whether any failed.
    pub failing: bool,
}

/// The applications the admin may read, by name.
pub async fn summaries(state: &PortalState, admin: &Signed) -> PortalResult<Vec<Summary>> {
    let since = OffsetDateTime::now_utc() - time::Duration::hours(24);
    let mut summaries = Vec::new();
    for record in state.stores.directory.applications().await? {
        if !admin.may(Permission::ReadApplication(&record.name)) {
            continue;
        }
        let definition: Definition = serde_json::from_value(record.definition)
            .map_err(|error| anyhow::anyhow!("the stored definition of {} is damaged: {error}", record.name))?;
        let configured = !definition.target.tenant_url.is_empty() && record.sealed_secret.is_some();
        let job: JobState = state.stores.engine.job(&definition.name).await?;
        let query = LogQuery {
            status: Some(LogStatus::Failure),
            since: Some(since),
            limit: FAILURES_COUNTED,
            ..LogQuery::default()
        };
        let failed = state.stores.engine.logs(&definition.name, &query).await?.len();
        summaries.push(summary(&definition, configured, &job, failed));
    }
    summaries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(summaries)
}

fn summary(definition: &Definition, configured: bool, job: &JobState, failed: usize) -> Summary {
    let (status, _) = provisioning::status_codes(definition, configured, job);
    let last_cycle = match &job.last_cycle {
        Some(cycle) => format!("{} cycle, {}, {}", cycle.kind.as_str(), cycle.outcome, format::maybe_time(cycle.ended)),
        None => "Not run".to_owned(),
    };
    let failures = match failed {
        0 => "None".to_owned(),
        n if n >= FAILURES_COUNTED => format!("{}+", format::count(FAILURES_COUNTED as u64)),
        n => format::count(n as u64),
    };
    Summary {
        name: definition.name.clone(),
        display_name: definition.display_name.clone().unwrap_or_else(|| definition.name.clone()),
        template: definition.template.clone(),
        status,
        last_cycle,
        failures,
        failing: failed > 0,
    }
}

/// The application list.
#[derive(Template)]
#[template(path = "applications.html")]
struct ApplicationsPage {
    chrome: Chrome,
    title: &'static str,
    applications: Vec<Summary>,
    may_create: bool,
}

/// `GET /applications`.
pub async fn list(State(state): State<PortalState>, admin: Signed) -> PortalResult<Response> {
    let applications = summaries(&state, &admin).await?;
    Ok(render(&ApplicationsPage {
        chrome: admin.chrome(Section::Applications),
        title: "Enterprise applications",
        applications,
        may_create: admin.may(Permission::CreateApplication),
    }))
}

/// New application.
#[derive(Template)]
#[template(path = "new_application.html")]
struct NewApplicationPage {
    chrome: Chrome,
    title: &'static str,
    templates: &'static [&'static str],
    template: String,
    name: String,
    error: Option<String>,
}

/// `GET /applications/new`.
pub async fn new_page(admin: Signed) -> PortalResult<Response> {
    admin.check(Permission::CreateApplication)?;
    Ok(render(&NewApplicationPage {
        chrome: admin.chrome(Section::Applications),
        title: "New application",
        templates: &TEMPLATES,
        template: TEMPLATES[0].to_owned(),
        name: String::new(),
        error: None,
    }))
}

/// `POST /applications/new`: `template`, `name`. The application is made with provisioning off and unconfigured,
/// and the browser goes to its Provisioning page.
pub async fn create(State(state): State<PortalState>, form: Form) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::CreateApplication)?;
    let template = form.fields.get("template").unwrap_or_default().to_owned();
    let name = form.fields.get("name").unwrap_or_default().to_owned();
    let refuse = |error: String| {
        render_with(
            StatusCode::BAD_REQUEST,
            &NewApplicationPage {
                chrome: admin.chrome(Section::Applications),
                title: "New application",
                templates: &TEMPLATES,
                template: template.clone(),
                name: name.clone(),
                error: Some(error),
            },
        )
    };
    if name.is_empty() {
        return Ok(refuse("Give the application a name.".to_owned()));
    }
    let actor = admin.principal.actor();
    match provisioning::new_application(&state.stores, &state.key, &actor, &template, &name, None).await {
        Ok(_) => Ok(Redirect::to(&format!("/applications/{name}/provisioning")).into_response()),
        Err(error) => match ServiceError::kind_of(&error) {
            ErrorKind::Invalid | ErrorKind::Conflict | ErrorKind::NotFound => Ok(refuse(format!("{error:#}"))),
            _ => Err(PortalError::from(error)),
        },
    }
}

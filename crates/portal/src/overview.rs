//! An application's Overview, as Entra's: Current cycle status (initial or incremental, a progress bar of the
//! running cycle, users and groups provisioned), the quarantine banner with its reason and what to do (Allow
//! deletes for the deletion guard), Statistics to date, and Start, Stop and Restart provisioning.
//!
//! The status card is one fragment ([`CycleStatus`]): rendered into the page (so the page shows the state with
//! JavaScript off), served alone at `.../overview/status`, and streamed at `.../overview/events` as server-sent
//! events each time it changes, which htmx swaps in place. The stream reads the store, so a cycle running on any
//! node sharing the database shows the same.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use roster_engine::definition::{Definition, interval};
use roster_engine::state::{Cycle, JobState};
use roster_service::access::Permission;
use roster_service::provisioning::{self, Reset, Status};

use crate::PortalState;
use crate::error::{PortalError, PortalResult, render};
use crate::form::Form;
use crate::format;
use crate::session::{Chrome, Section, Signed};

/// How often the event stream reads the job.
pub const POLL: Duration = Duration::from_millis(400);
/// How long one event stream lasts: the browser reconnects after, and the session is checked again.
pub const STREAM_FOR: Duration = Duration::from_secs(600);
/// Objects per unit of progress: the engine's page, Entra's unit.
pub const PAGE: u64 = 1000;

/// The status card of the Overview.
#[derive(Template, Debug, Clone, PartialEq, Eq)]
#[template(path = "cycle_status.html")]
pub struct CycleStatus {
    /// The application.
    pub name: String,
    /// The status chip.
    pub code: &'static str,
    /// The headline: `Initial cycle in progress.`, `Incremental cycle completed.`, `Initial cycle not run.`.
    pub headline: String,
    /// Objects done and to do of the cycle shown (the running one, else the last).
    pub done: u64,
    /// To do.
    pub total: u64,
    /// Percent complete.
    pub percent: u64,
    /// `2 of 14 pages (1,873 of 13,600 objects)`.
    pub progress_text: String,
    /// Users provisioned (active and disabled).
    pub users: String,
    /// Groups provisioned.
    pub groups: String,
    /// Whether a cycle runs now.
    pub running: bool,
    /// The quarantine, if the job is in one.
    pub quarantine: Option<QuarantineView>,
    /// Disables and deletes the deletion guard holds back, if any.
    pub staged: Option<String>,
    /// Whether the admin may act (Allow deletes).
    pub may_manage: bool,
    /// The CSRF token for the card's forms.
    pub csrf: String,
}

/// The quarantine banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineView {
    /// Entra's reason code.
    pub reason: String,
    /// What happened, in words.
    pub detail: String,
    /// What to do, in the portal's words.
    pub action: &'static str,
    /// Since when.
    pub since: String,
    /// When the next attempt is due.
    pub next_attempt: String,
    /// Whether it is the deletion guard (Allow deletes is offered).
    pub deletions: bool,
}

impl CycleStatus {
    /// The card of a status.
    pub fn of(definition: &Definition, configured: bool, status: &Status, may_manage: bool, csrf: &str) -> Self {
        let job = &status.job;
        let (code, _) = provisioning::status_codes(definition, configured, job);
        let shown = status.current_cycle.as_ref().or(job.last_cycle.as_ref());
        let running = status.current_cycle.is_some();
        let headline = match (shown, running) {
            (Some(cycle), true) => format!("{} cycle in progress.", cycle.kind.as_str()),
            (Some(cycle), false) => format!("{} cycle {}.", cycle.kind.as_str(), ended_word(cycle)),
            (None, _) => "Initial cycle not run.".to_owned(),
        };
        let (done, total) = match shown {
            Some(cycle) if running => (cycle.counts.done, cycle.counts.total.max(cycle.counts.done)),
            Some(cycle) => (cycle.counts.evaluated, cycle.counts.evaluated),
            None => (0, 0),
        };
        let percent = match (shown, running) {
            (Some(_), false) => 100,
            _ if total == 0 => 0,
            _ => (done * 100 / total).min(100),
        };
        let pages = total.div_ceil(PAGE);
        let pages_done = if done >= total { pages } else { done / PAGE };
        let progress_text = format!(
            "{percent}% complete: {} of {} page{} ({} of {} objects)",
            format::count(pages_done),
            format::count(pages),
            if pages == 1 { "" } else { "s" },
            format::count(done),
            format::count(total)
        );
        let count = |kind: &str| {
            format::count(status.objects.iter().filter(|object| object.kind == kind).map(|object| object.count).sum())
        };
        let staged = (job.staged_users.len() + job.staged_groups.len() > 0).then(|| {
            format!(
                "{} user and {} group disables or deletes are held back by the accidental-deletion guard.",
                job.staged_users.len(),
                job.staged_groups.len()
            )
        });
        CycleStatus {
            name: definition.name.clone(),
            code,
            headline,
            done,
            total,
            percent,
            progress_text,
            users: count("User"),
            groups: count("Group"),
            running,
            quarantine: quarantine_view(job),
            staged,
            may_manage,
            csrf: csrf.to_owned(),
        }
    }
}

fn ended_word(cycle: &Cycle) -> &'static str {
    match cycle.outcome.as_str() {
        "Succeeded" => "completed",
        "EntryLevelErrors" => "completed with failed objects (see the provisioning logs)",
        "Paused" => "stopped",
        "Interrupted" => "interrupted",
        _ => "failed",
    }
}

/// The banner of a quarantine, with what to do in the portal.
fn quarantine_view(job: &JobState) -> Option<QuarantineView> {
    let quarantine = job.quarantine.as_ref()?;
    let deletions = quarantine.reason == "TooManyDeletes";
    let detail = quarantine.detail.to_lowercase();
    let action = if deletions {
        "Review the staged deletions in the provisioning logs. If they are intended, select Allow deletes; if not, \
         fix the assignments or the scoping filters and the next cycle evaluates them again."
    } else if detail.contains("secret token") || detail.contains("401") || detail.contains("403") {
        "The application refused the Secret Token. On the Provisioning page, enter a valid Secret Token, select Test \
         Connection, Save, then Restart provisioning."
    } else if detail.contains("tenant url") || detail.contains("404") {
        "The Tenant URL does not point at a SCIM endpoint. Correct it on the Provisioning page, Test Connection, \
         Save, then Restart provisioning."
    } else {
        "The application could not be reached or answered badly. Check the Tenant URL and the application, select \
         Test Connection on the Provisioning page, then Restart provisioning."
    };
    Some(QuarantineView {
        reason: quarantine.reason.clone(),
        detail: quarantine.detail.clone(),
        action,
        since: format::time(quarantine.since),
        next_attempt: format::maybe_time(job.next_run),
        deletions,
    })
}

/// Statistics to date.
#[derive(Debug, Clone)]
pub struct Statistics {
    /// The last cycle's end, or `—`.
    pub completed: String,
    /// Its duration, or `—`.
    pub duration: String,
    /// When steady state was last achieved.
    pub steady_state: String,
    /// `Provisioning interval (fixed): 40m`.
    pub interval: String,
    /// The last cycle's id (Entra's Activity ID).
    pub cycle_id: String,
    /// The job's id.
    pub job_id: String,
    /// Provisioning on or off.
    pub enabled: bool,
    /// When the next cycle is due.
    pub next_run: String,
    /// Which node runs the job now.
    pub lease: String,
}

fn statistics(definition: &Definition, status: &Status) -> Statistics {
    let last = status.job.last_cycle.as_ref();
    Statistics {
        completed: format::maybe_time(last.and_then(|cycle| cycle.ended)),
        duration: last
            .and_then(|cycle| cycle.ended.map(|ended| format::duration(ended - cycle.began)))
            .unwrap_or_else(|| "—".to_owned()),
        steady_state: format::maybe_time(status.job.steady_state_last),
        interval: interval::format(definition.interval),
        cycle_id: last.map_or_else(|| "—".to_owned(), |cycle| cycle.id.clone()),
        job_id: format!("{}.{}", definition.template, definition.name),
        enabled: definition.enabled,
        next_run: if definition.enabled { format::maybe_time(status.job.next_run) } else { "—".to_owned() },
        lease: status.lease.as_ref().map_or_else(|| "none".to_owned(), |lease| lease.owner.clone()),
    }
}

/// What an application's pages share: its name, and the tab that is current.
#[derive(Debug, Clone)]
pub struct AppNav {
    /// The unique name.
    pub name: String,
    /// The display name.
    pub display_name: String,
    /// The current tab: `overview`, `on-demand`, `assignments`, `provisioning`, `logs`, `plans`.
    pub tab: &'static str,
}

impl AppNav {
    /// The navigation of an application's page.
    pub fn new(definition: &Definition, tab: &'static str) -> AppNav {
        AppNav {
            name: definition.name.clone(),
            display_name: definition.display_name.clone().unwrap_or_else(|| definition.name.clone()),
            tab,
        }
    }
}

/// An application the admin may read, with whether it is configured (tenant URL and secret token).
pub async fn readable(state: &PortalState, admin: &Signed, name: &str) -> PortalResult<(Definition, bool)> {
    admin.check(Permission::ReadApplication(name))?;
    let record = state
        .stores
        .directory
        .application(name)
        .await?
        .ok_or_else(|| PortalError::not_found(format!("There is no application named {name}.")))?;
    let definition: Definition = serde_json::from_value(record.definition)
        .map_err(|error| anyhow::anyhow!("the stored definition of {name} is damaged: {error}"))?;
    let configured = !definition.target.tenant_url.is_empty() && record.sealed_secret.is_some();
    Ok((definition, configured))
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
    title: String,
    app: AppNav,
    status_html: String,
    statistics: Statistics,
    configured: bool,
    may_manage: bool,
    notice: Option<String>,
}

/// `GET /applications/{name}`: its Overview.
pub async fn redirect(Path(name): Path<String>) -> Redirect {
    Redirect::to(&format!("/applications/{}/overview", urlencoded(&name)))
}

/// `GET /applications/{name}/overview`.
pub async fn page(
    State(state): State<PortalState>,
    admin: Signed,
    Path(name): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> PortalResult<Response> {
    let (definition, configured) = readable(&state, &admin, &name).await?;
    let status = provisioning::status(&state.stores, &name).await?;
    let may_manage = admin.may(Permission::ManageApplication(&name));
    let card = CycleStatus::of(&definition, configured, &status, may_manage, &admin.csrf);
    let status_html = card.render().map_err(|error| anyhow::anyhow!("a template failed: {error}"))?;
    let notice = query.as_deref().and_then(|query| {
        form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == "done").map(|(_, value)| notice(&value))
    });
    Ok(render(&OverviewPage {
        chrome: admin.chrome(Section::Applications),
        title: format!("{} · Overview", AppNav::new(&definition, "overview").display_name),
        app: AppNav::new(&definition, "overview"),
        status_html,
        statistics: statistics(&definition, &status),
        configured,
        may_manage,
        notice: notice.flatten(),
    }))
}

/// The words of an action's `done` marker.
fn notice(done: &str) -> Option<String> {
    Some(
        match done {
            "started" => "Provisioning started: the first cycle begins now.",
            "stopped" => "Provisioning stopped: no cycle runs until you start it again.",
            "restarted" => "Provisioning restarted: the next cycle begins now, and it is an initial cycle.",
            "plan-applying" => {
                "The plan is being applied: its cycle runs now and the status below follows it. If the plan stops \
                 holding before its writes, nothing is sent and the audit log says why."
            }
            "deletes-allowed" => {
                "Deletes allowed: the next cycle, beginning now, sends the staged disables and deletes."
            }
            _ => return None,
        }
        .to_owned(),
    )
}

/// `GET /applications/{name}/overview/status`: the status card alone.
pub async fn status(
    State(state): State<PortalState>,
    admin: Signed,
    Path(name): Path<String>,
) -> PortalResult<Response> {
    let card = card(&state, &admin, &name).await?;
    let html = card.render().map_err(|error| anyhow::anyhow!("a template failed: {error}"))?;
    Ok(Html(html).into_response())
}

async fn card(state: &PortalState, admin: &Signed, name: &str) -> PortalResult<CycleStatus> {
    let (definition, configured) = readable(state, admin, name).await?;
    let status = provisioning::status(&state.stores, name).await?;
    let may_manage = admin.may(Permission::ManageApplication(name));
    Ok(CycleStatus::of(&definition, configured, &status, may_manage, &admin.csrf))
}

/// `GET /applications/{name}/overview/events`: `event: status` with the card's HTML each time it changes (at once
/// first), a keep-alive comment every 15 s; the stream ends after [`STREAM_FOR`] or when the application is gone.
pub async fn events(
    State(state): State<PortalState>,
    admin: Signed,
    Path(name): Path<String>,
) -> PortalResult<Response> {
    card(&state, &admin, &name).await?;
    let deadline = tokio::time::Instant::now() + STREAM_FOR;
    let mut ticker = tokio::time::interval(POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let watcher = (state, admin, name, ticker, None::<String>);
    let stream = futures_util::stream::unfold(watcher, move |(state, admin, name, mut ticker, last)| async move {
        loop {
            ticker.tick().await;
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            let html = match card(&state, &admin, &name).await {
                Ok(card) => card.render().ok()?,
                Err(error) if error.code == "NotFound" => return None,
                Err(error) => {
                    tracing::warn!(application = %name, error = %error, "the overview stream could not read the job");
                    continue;
                }
            };
            if last.as_deref() != Some(html.as_str()) {
                let event = Event::default().event("status").data(&html);
                return Some((Ok::<Event, Infallible>(event), (state, admin, name, ticker, Some(html))));
            }
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)).text("keep-alive"))
        .into_response())
}

/// `POST /applications/{name}/start`: Start provisioning (provisioning on, a cycle at once).
pub async fn start(State(state): State<PortalState>, Path(name): Path<String>, form: Form) -> PortalResult<Response> {
    form.admin.check(Permission::ManageApplication(&name))?;
    provisioning::set_enabled(&state.stores, &state.key, &form.admin.principal.actor(), &name, true).await?;
    Ok(done(&name, "started"))
}

/// `POST /applications/{name}/stop`: Stop provisioning (a running cycle stops at its next object).
pub async fn stop(State(state): State<PortalState>, Path(name): Path<String>, form: Form) -> PortalResult<Response> {
    form.admin.check(Permission::ManageApplication(&name))?;
    provisioning::set_enabled(&state.stores, &state.key, &form.admin.principal.actor(), &name, false).await?;
    Ok(done(&name, "stopped"))
}

/// `POST /applications/{name}/restart`: Restart provisioning with the reset scopes checked (`escrows`,
/// `watermark`, `quarantine`, `full`; none checked is Entra's restart: all but `full`), and a cycle at once.
pub async fn restart(State(state): State<PortalState>, Path(name): Path<String>, form: Form) -> PortalResult<Response> {
    form.admin.check(Permission::ManageApplication(&name))?;
    let reset = Reset {
        escrows: form.fields.checked("escrows"),
        watermark: form.fields.checked("watermark"),
        quarantine: form.fields.checked("quarantine"),
        full: form.fields.checked("full"),
        force_deletes: false,
    };
    let reset = if reset == Reset::default() { Reset::parse("")? } else { reset };
    provisioning::restart(&state.stores, &form.admin.principal.actor(), &name, reset).await?;
    Ok(done(&name, "restarted"))
}

/// `POST /applications/{name}/allow-deletes`: the staged disables and deletes go out with the next cycle.
pub async fn allow_deletes(
    State(state): State<PortalState>,
    Path(name): Path<String>,
    form: Form,
) -> PortalResult<Response> {
    form.admin.check(Permission::ManageApplication(&name))?;
    provisioning::allow_deletes(&state.stores, &form.admin.principal.actor(), &name).await?;
    Ok(done(&name, "deletes-allowed"))
}

/// Back to the Overview, which says what was done.
fn done(name: &str, what: &str) -> Response {
    Redirect::to(&format!("/applications/{}/overview?done={what}", urlencoded(name))).into_response()
}

/// A path segment, percent-encoded.
pub fn urlencoded(segment: &str) -> String {
    form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

//! An application's dry-run plans (roster's own, `roster sync NAME --dry-run` and `--apply-plan ID`): Run a dry run
//! computes the cycle that would run now without one write to the target and stores it; its page is the diff to
//! review (each create and update with its modified properties old -> new, each disable and delete, membership
//! changes, and the notes: staged deletes, objects that would fail), a page of operations at a time with the counts
//! of the whole; Apply exactly this plan first checks that the plan still holds (computing it again, reads only)
//! and says in place why not, else starts its apply in the background and shows the Overview, whose status follows
//! the cycle.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use roster_engine::cycle::CycleError;
use roster_engine::dry_run::{Operation, PLANNED_ID, Plan};
use roster_engine::log::Action;
use roster_service::access::Permission;
use roster_service::provisioning;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::PortalState;
use crate::dry_runs::{Reporter, Run};
use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::Form;
use crate::format;
use crate::overview::{AppNav, readable, urlencoded};
use crate::session::{Chrome, Section, Signed};

/// How many of the newest plans the list shows.
pub const LISTED: usize = 20;
/// Operations on a page of a plan.
pub const PAGE_SIZE: usize = 100;
/// Notes shown at most (their count is shown in full).
pub const NOTES_SHOWN: usize = 200;
/// Members of one group's change named at most (their count is shown in full).
pub const MEMBERS_SHOWN: usize = 20;

/// What a plan does, counted.
#[derive(Debug, Clone, Default)]
struct Tally {
    creates: usize,
    updates: usize,
    disables: usize,
    deletes: usize,
    notes: usize,
}

impl Tally {
    fn of(plan: &Plan) -> Tally {
        let count = |action: Action| plan.operations.iter().filter(|operation| operation.action == action).count();
        Tally {
            creates: count(Action::Create),
            updates: count(Action::Update),
            disables: count(Action::Disable),
            deletes: count(Action::Delete),
            notes: plan.notes.len(),
        }
    }
}

/// A plan in the list.
#[derive(Debug, Clone)]
struct Summary {
    id: String,
    created: String,
    kind: &'static str,
    tally: Tally,
    applied: Option<String>,
}

impl Summary {
    fn of(plan: &Plan) -> Summary {
        Summary {
            id: plan.id.clone(),
            created: format::time(plan.created),
            kind: plan.kind.as_str(),
            tally: Tally::of(plan),
            applied: plan.applied.map(format::time),
        }
    }
}

#[derive(Template)]
#[template(path = "plans.html")]
struct ListPage {
    chrome: Chrome,
    title: String,
    app: AppNav,
    plans: Vec<Summary>,
    configured: bool,
    may_manage: bool,
    error: Option<String>,
    run: Option<RunView>,
}

async fn list_page(state: &PortalState, admin: &Signed, name: &str) -> PortalResult<ListPage> {
    let (definition, configured) = readable(state, admin, name).await?;
    let mut plans = Vec::new();
    for id in state.stores.engine.plan_ids(name, LISTED).await? {
        if let Some(plan) = state.stores.engine.plan(name, &id).await? {
            plans.push(Summary::of(&plan));
        }
    }
    let app = AppNav::new(&definition, "plans");
    Ok(ListPage {
        chrome: admin.chrome(Section::Applications),
        title: format!("{} · Dry run", app.display_name),
        app,
        plans,
        configured,
        may_manage: admin.may(Permission::ManageApplication(name)),
        error: None,
        run: state.dry_runs.get(name).map(|run| RunView::of(&run, name)),
    })
}

/// `GET /applications/{name}/plans`: the newest plans, and Run a dry run.
pub async fn list(State(state): State<PortalState>, admin: Signed, Path(name): Path<String>) -> PortalResult<Response> {
    Ok(render(&list_page(&state, &admin, &name).await?))
}

/// A failure of a run against the target, shown in place: 502 when the target failed as a whole, 409 when a cycle
/// holds the job, 409 for a plan that no longer holds, else by the service error's kind.
fn run_failure(error: anyhow::Error) -> PortalError {
    match error.downcast_ref::<CycleError>() {
        Some(CycleError::Target(_)) => PortalError::new(
            StatusCode::BAD_GATEWAY,
            "TargetFailure",
            format!("{error:#}"),
            "Check the Admin Credentials with Test Connection on the Provisioning page, then try again.",
        ),
        Some(CycleError::Busy(_)) => PortalError::new(
            StatusCode::CONFLICT,
            "Busy",
            format!("{error:#}"),
            "A provisioning cycle holds the application: try again when it ends.",
        ),
        Some(CycleError::PlanRefused(_)) => PortalError::new(
            StatusCode::CONFLICT,
            "PlanStale",
            format!("{error:#}"),
            "Nothing was sent. Run a new dry run and review it.",
        ),
        _ => PortalError::from(error),
    }
}

/// 400 unless the application can reach its target.
fn require_configured(configured: bool) -> PortalResult<()> {
    if configured {
        return Ok(());
    }
    Err(PortalError::bad_request(
        "Provisioning is not configured: enter the Tenant URL and the Secret Token on the Provisioning page first.",
    ))
}

/// `POST /applications/{name}/plans`: Run a dry run. It answers at once with the plans page, which shows the run
/// started and its progress; the run goes on in the background (one at a time per application on this node), and
/// ends with its plan to review, or with what went wrong shown on the same page.
pub async fn run(State(state): State<PortalState>, Path(name): Path<String>, form: Form) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::ManageApplication(&name))?;
    let (_, configured) = readable(&state, admin, &name).await?;
    if let Err(error) = require_configured(configured) {
        let mut page = list_page(&state, admin, &name).await?;
        page.error = Some(format!("The dry run did not run: {} {}", error.message, error.hint));
        return Ok(render_with(error.status, &page));
    }
    if state.dry_runs.begin(&name, OffsetDateTime::now_utc()) {
        let (stores, key, runs, application) =
            (state.stores.clone(), state.key.clone(), Arc::clone(&state.dry_runs), name.clone());
        tokio::spawn(async move {
            let progress = Arc::new(Reporter { runs: Arc::clone(&runs), application: application.clone() });
            let outcome = provisioning::dry_run(&stores, &key, &application, progress).await;
            let outcome = outcome.map(|plan| plan.id).map_err(|error| {
                let error = run_failure(error);
                format!("{} {}", error.message, error.hint)
            });
            runs.finish(&application, outcome);
        });
    }
    Ok(Redirect::to(&format!("/applications/{}/plans", urlencoded(&name))).into_response())
}

/// The running or last dry run, as the plans page shows it.
#[derive(Debug, Clone)]
struct RunView {
    running: bool,
    started: String,
    done: u64,
    total: u64,
    text: String,
    plan: Option<String>,
    error: Option<String>,
}

impl RunView {
    fn of(run: &Run, name: &str) -> RunView {
        let percent = (run.done * 100).checked_div(run.total).unwrap_or(0);
        let (plan, error) = match &run.outcome {
            Some(Ok(id)) => (Some(format!("/applications/{}/plans/{}", urlencoded(name), urlencoded(id))), None),
            Some(Err(error)) => (None, Some(error.clone())),
            None => (None, None),
        };
        RunView {
            running: run.outcome.is_none(),
            started: format::time(run.started),
            done: run.done,
            total: run.total.max(1),
            text: format!("{percent}% evaluated: {} of {} objects", format::count(run.done), format::count(run.total)),
            plan,
            error,
        }
    }
}

/// One modified property: old -> new.
#[derive(Debug, Clone)]
struct Change {
    name: String,
    old: String,
    new: String,
}

/// One operation as the review shows it.
#[derive(Debug, Clone)]
struct Row {
    action: &'static str,
    chip: &'static str,
    kind: &'static str,
    name: String,
    source_id: String,
    target_id: Option<String>,
    changes: Vec<Change>,
    members_added: Vec<String>,
    more_added: usize,
    members_removed: Vec<String>,
    more_removed: usize,
}

fn value(text: Option<&str>) -> String {
    text.map_or_else(|| "(none)".to_owned(), str::to_owned)
}

impl Row {
    fn of(operation: &Operation, names: &dyn Fn(&str) -> String) -> Row {
        let (action, chip) = match operation.action {
            Action::Create => ("Create", "Success"),
            Action::Update if operation.modified.is_empty() => ("Update members", "Warning"),
            Action::Update => ("Update", "Warning"),
            Action::Disable => ("Disable", "Failure"),
            Action::Delete => ("Delete", "Failure"),
            other => (other.as_str(), "Skipped"),
        };
        let named = |members: &[String]| members.iter().take(MEMBERS_SHOWN).map(|id| names(id)).collect::<Vec<_>>();
        Row {
            action,
            chip,
            kind: operation.kind.as_str(),
            name: operation.source_name.clone().unwrap_or_else(|| operation.source_id.clone()),
            source_id: operation.source_id.clone(),
            target_id: operation.target_id.clone().filter(|target| !target.starts_with(PLANNED_ID)),
            changes: operation
                .modified
                .iter()
                .map(|property| Change {
                    name: property.name.clone(),
                    old: value(property.old.as_deref()),
                    new: value(property.new.as_deref()),
                })
                .collect(),
            members_added: named(&operation.members_added),
            more_added: operation.members_added.len().saturating_sub(MEMBERS_SHOWN),
            members_removed: named(&operation.members_removed),
            more_removed: operation.members_removed.len().saturating_sub(MEMBERS_SHOWN),
        }
    }
}

/// One note.
#[derive(Debug, Clone)]
struct NoteRow {
    what: &'static str,
    chip: &'static str,
    kind: &'static str,
    name: String,
    code: String,
    reason: String,
}

/// The query of a plan's page: which page of operations.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PlanQuery {
    /// The first operation shown (0-based).
    #[serde(default)]
    pub start: Option<usize>,
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    chrome: Chrome,
    title: String,
    app: AppNav,
    plan_id: String,
    created: String,
    kind: &'static str,
    from: i64,
    to: i64,
    reads: u64,
    applied: Option<String>,
    tally: Tally,
    total: usize,
    first: usize,
    last: usize,
    rows: Vec<Row>,
    previous: Option<String>,
    next: Option<String>,
    notes: Vec<NoteRow>,
    more_notes: usize,
    may_apply: bool,
    configured: bool,
    error: Option<PortalError>,
}

async fn plan_page(state: &PortalState, admin: &Signed, name: &str, id: &str, start: usize) -> PortalResult<PlanPage> {
    let (definition, configured) = readable(state, admin, name).await?;
    let plan = state
        .stores
        .engine
        .plan(name, id)
        .await?
        .ok_or_else(|| PortalError::not_found(format!("Application {name} has no plan {id}.")))?;
    let total = plan.operations.len();
    if start > 0 && start >= total {
        return Err(PortalError::bad_request(format!(
            "The plan has {total} operations: there is no page from {start}."
        )));
    }
    let names: std::collections::BTreeMap<&str, &str> = plan
        .operations
        .iter()
        .filter_map(|operation| operation.source_name.as_deref().map(|name| (operation.source_id.as_str(), name)))
        .collect();
    let lookup = |id: &str| names.get(id).map_or_else(|| id.to_owned(), |name| (*name).to_owned());
    let end = (start + PAGE_SIZE).min(total);
    let rows = plan.operations[start..end].iter().map(|operation| Row::of(operation, &lookup)).collect();
    let base = format!("/applications/{}/plans/{}", urlencoded(name), urlencoded(id));
    let previous = (start > 0).then(|| format!("{base}?start={}", start.saturating_sub(PAGE_SIZE)));
    let next = (end < total).then(|| format!("{base}?start={end}"));
    let notes = plan
        .notes
        .iter()
        .take(NOTES_SHOWN)
        .map(|note| {
            let (what, chip) = match (note.action, note.status) {
                (Action::StagedDelete, _) => ("Staged (not sent)", "Warning"),
                (_, roster_engine::log::Status::Failure) => ("Would fail", "Failure"),
                (_, roster_engine::log::Status::Warning) => ("Warning", "Warning"),
                _ => ("Skipped", "Skipped"),
            };
            NoteRow {
                what,
                chip,
                kind: note.kind.as_str(),
                name: note.source_name.clone().unwrap_or_else(|| note.source_id.clone()),
                code: note.code.clone().unwrap_or_default(),
                reason: note.reason.clone().unwrap_or_default(),
            }
        })
        .collect();
    let app = AppNav::new(&definition, "plans");
    Ok(PlanPage {
        chrome: admin.chrome(Section::Applications),
        title: format!("{} · Plan {id}", app.display_name),
        app,
        plan_id: plan.id.clone(),
        created: format::time(plan.created),
        kind: plan.kind.as_str(),
        from: plan.from,
        to: plan.to,
        reads: plan.counts.requests,
        applied: plan.applied.map(format::time),
        tally: Tally::of(&plan),
        total,
        first: if total == 0 { 0 } else { start + 1 },
        last: end,
        rows,
        previous,
        next,
        notes,
        more_notes: plan.notes.len().saturating_sub(NOTES_SHOWN),
        may_apply: admin.may(Permission::ManageApplication(name)) && plan.applied.is_none(),
        configured,
        error: None,
    })
}

/// `GET /applications/{name}/plans/{id}`: the plan for review.
pub async fn page(
    State(state): State<PortalState>,
    admin: Signed,
    Path((name, id)): Path<(String, String)>,
    Query(query): Query<PlanQuery>,
) -> PortalResult<Response> {
    Ok(render(&plan_page(&state, &admin, &name, &id, query.start.unwrap_or(0)).await?))
}

/// `POST /applications/{name}/plans/{id}/apply`: Apply exactly this plan. Refused in place (the plan's page with
/// why, 409) when it was applied already or no longer holds; else its apply starts in the background and the
/// Overview shows it.
pub async fn apply(
    State(state): State<PortalState>,
    Path((name, id)): Path<(String, String)>,
    form: Form,
) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::ManageApplication(&name))?;
    let page = plan_page(&state, admin, &name, &id, 0).await?;
    let checked = if let Some(applied) = &page.applied {
        Err(PortalError::new(
            StatusCode::CONFLICT,
            "PlanApplied",
            format!("Plan {id} was applied at {applied}."),
            "A plan applies once: run a new dry run and review it.",
        ))
    } else {
        match require_configured(page.configured) {
            Ok(()) => provisioning::check_plan(&state.stores, &state.key, &name, &id).await.map_err(run_failure),
            Err(error) => Err(error),
        }
    };
    match checked {
        Ok(()) => {
            let actor = admin.principal.actor();
            provisioning::start_apply(&state.stores, &state.key, &state.mailer, &actor, &name, &id).await?;
            Ok(Redirect::to(&format!("/applications/{}/overview?done=plan-applying", urlencoded(&name)))
                .into_response())
        }
        Err(error) if error.status != StatusCode::INTERNAL_SERVER_ERROR => {
            let status = error.status;
            let mut page = page;
            page.error = Some(error);
            Ok(render_with(status, &page))
        }
        Err(error) => Err(error),
    }
}

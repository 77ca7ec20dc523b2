//! Provision on demand, as Entra's: a user, or a group with up to five of its members, provisioned now through the
//! cycle's steps (import, scope, match, action), each shown with its details. Graph's rate limit holds (5 per 10 s
//! per application, shared with the admin API's in this process).

use std::time::Instant;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use roster_directory::port::PrincipalKind;
use roster_engine::cycle::{MAX_GROUP_MEMBERS, OnDemand};
use roster_engine::log::LogEntry;
use roster_service::access::Permission;
use roster_service::provisioning::{self, Principal};

use crate::PortalState;
use crate::assignments::find_principal;
use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::Form;
use crate::overview::{AppNav, readable};
use crate::session::{Chrome, Section, Signed};

#[derive(Template)]
#[template(path = "on_demand.html")]
struct OnDemandPage {
    chrome: Chrome,
    title: String,
    app: AppNav,
    may_manage: bool,
    configured: bool,
    principal: String,
    members: String,
    max_members: usize,
    outcome: Option<Outcome>,
}

/// What a run came to.
#[derive(Debug, Clone)]
struct Outcome {
    /// `success`, `warning` or `error`.
    kind: &'static str,
    /// In words.
    text: String,
    /// The objects' entries with their steps.
    entries: Vec<LogEntry>,
}

async fn page_of(state: &PortalState, admin: &Signed, name: &str) -> PortalResult<OnDemandPage> {
    let (definition, configured) = readable(state, admin, name).await?;
    let app = AppNav::new(&definition, "on-demand");
    Ok(OnDemandPage {
        chrome: admin.chrome(Section::Applications),
        title: format!("{} · Provision on demand", app.display_name),
        app,
        may_manage: admin.may(Permission::ManageApplication(name)),
        configured,
        principal: String::new(),
        members: String::new(),
        max_members: MAX_GROUP_MEMBERS,
        outcome: None,
    })
}

/// `GET /applications/{name}/provision-on-demand`.
pub async fn page(State(state): State<PortalState>, admin: Signed, Path(name): Path<String>) -> PortalResult<Response> {
    Ok(render(&page_of(&state, &admin, &name).await?))
}

/// `POST /applications/{name}/provision-on-demand`: `principal` (a user, or a group) and, for a group, `members`
/// (up to five, one per line or comma-separated).
pub async fn submit(State(state): State<PortalState>, Path(name): Path<String>, form: Form) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::ManageApplication(&name))?;
    let mut page = page_of(&state, admin, &name).await?;
    page.principal = form.fields.get("principal").unwrap_or_default().to_owned();
    page.members = form.fields.get("members").unwrap_or_default().to_owned();
    let refuse = |mut page: OnDemandPage, text: String| {
        page.outcome = Some(Outcome { kind: "error", text, entries: Vec::new() });
        render_with(StatusCode::BAD_REQUEST, &page)
    };
    if let Err(wait) = state.on_demand.admit(&name, Instant::now()) {
        page.outcome = Some(Outcome {
            kind: "error",
            text: format!(
                "Provision on demand takes at most 5 requests per 10 seconds: try again in {} s.",
                wait.as_secs().max(1)
            ),
            entries: Vec::new(),
        });
        return Ok(render_with(StatusCode::TOO_MANY_REQUESTS, &page));
    }
    let found = match find_principal(&state, &page.principal).await {
        Ok(found) => found,
        Err(error) if error.status.is_client_error() => return Ok(refuse(page, error.message)),
        Err(error) => return Err(error),
    };
    let mut members = Vec::new();
    let texts = page.members.clone();
    for text in texts.split([',', '\n']).map(str::trim).filter(|text| !text.is_empty()) {
        match find_principal(&state, text).await {
            Ok(member) if member.kind == PrincipalKind::User => members.push(member.id.as_str().to_owned()),
            Ok(_) => return Ok(refuse(page, format!("{text:?} is a group: members are users."))),
            Err(error) => return Ok(refuse(page, error.message)),
        }
    }
    let principal = match found.kind {
        PrincipalKind::User if !members.is_empty() => {
            return Ok(refuse(page, "Members are chosen for a group; a user is provisioned alone.".to_owned()));
        }
        PrincipalKind::User => Principal::User(found.id.as_str().to_owned()),
        PrincipalKind::Group => Principal::Group(found.id.as_str().to_owned()),
    };
    let result = provisioning::provision_on_demand(&state.stores, &state.key, &name, &principal, &members).await;
    let outcome = match result {
        Ok(outcome) => describe(&found.name, outcome),
        Err(error) => {
            let error = PortalError::from(error);
            if !error.status.is_client_error() {
                return Err(error);
            }
            Outcome { kind: "error", text: error.message, entries: Vec::new() }
        }
    };
    page.outcome = Some(outcome);
    Ok(render(&page))
}

fn describe(name: &str, outcome: OnDemand) -> Outcome {
    let (kind, text, entries) = match outcome {
        OnDemand::ConnectionFailed(problem) => (
            "error",
            format!("Test connection failed: {problem}. Check the Admin Credentials on the Provisioning page."),
            vec![],
        ),
        OnDemand::NotFound => ("error", format!("{name} is not in the directory any more."), vec![]),
        OnDemand::TooManyMembers(count) => (
            "error",
            format!("The group has {count} members: choose up to {MAX_GROUP_MEMBERS} of them to provision with it."),
            vec![],
        ),
        OnDemand::NotAMember(id) => ("error", format!("{id} is not a direct member of the group."), vec![]),
        OnDemand::GroupsOff => ("error", "This application does not provision groups.".to_owned(), vec![]),
        OnDemand::NothingToDo => {
            ("success", format!("{name} was evaluated: the application already matches; nothing was sent."), vec![])
        }
        OnDemand::Done(entries) => {
            let failed = entries.iter().any(|entry| entry.status.as_str() == "Failure");
            let skipped = entries.iter().all(|entry| entry.status.as_str() == "Skipped");
            let unchanged =
                entries.iter().all(|entry| entry.status.as_str() == "Skipped" && entry.error_code.is_none());
            if unchanged {
                let text =
                    format!("{name} is up to date in the application: nothing needed to be sent. The steps are below.");
                return Outcome { kind: "success", text, entries };
            }
            let (kind, verdict) = if failed {
                ("error", "failed")
            } else if skipped {
                ("warning", "was skipped")
            } else {
                ("success", "succeeded")
            };
            (kind, format!("Provisioning {name} {verdict}. The steps are below and in the provisioning logs."), entries)
        }
    };
    Outcome { kind, text, entries }
}

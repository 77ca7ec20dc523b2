//! An application's Users and groups: who is assigned, with which app role; Add assignment (a user by user
//! principal name or id, a group by display name or id, with a role, Default Access when the application has
//! none); Remove. An assigned group brings its direct members into scope (and its nested groups' members when the
//! application includes nested members), as the page says.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use roster_directory::ObjectId;
use roster_directory::port::PrincipalKind;
use roster_service::access::Permission;
use roster_service::provisioning;

use crate::PortalState;
use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::Form;
use crate::overview::{AppNav, readable, urlencoded};
use crate::session::{Chrome, Section, Signed};

/// Groups read at most when looking a group up by its display name.
const GROUP_SCAN: usize = 100_000;

/// A user or group found by what an admin typed.
#[derive(Debug, Clone)]
pub struct Found {
    /// Its id.
    pub id: ObjectId,
    /// User or group.
    pub kind: PrincipalKind,
    /// Its display name (or user principal name).
    pub name: String,
}

/// Finds a user by user principal name or id, or a group by id or exact display name.
pub async fn find_principal(state: &PortalState, text: &str) -> PortalResult<Found> {
    let text = text.trim();
    let directory = &state.stores.directory;
    if let Ok(id) = ObjectId::parse(text) {
        if let Some(user) = directory.user(&id).await? {
            let name = user.display_name.clone().unwrap_or_else(|| user.user_principal_name().as_str().to_owned());
            return Ok(Found { id, kind: PrincipalKind::User, name });
        }
        if let Some(group) = directory.group(&id).await? {
            return Ok(Found { id, kind: PrincipalKind::Group, name: group.display_name().to_owned() });
        }
    }
    if text.contains('@')
        && let Some(user) = directory.user_by_upn(text).await?
    {
        let name = user.display_name.clone().unwrap_or_else(|| text.to_owned());
        return Ok(Found { id: user.id().clone(), kind: PrincipalKind::User, name });
    }
    let mut after: Option<ObjectId> = None;
    let mut read = 0;
    while read < GROUP_SCAN {
        let groups = directory.groups_after(after.as_ref(), 1000).await?;
        if let Some(group) = groups.iter().find(|group| group.display_name().eq_ignore_ascii_case(text)) {
            return Ok(Found {
                id: group.id().clone(),
                kind: PrincipalKind::Group,
                name: group.display_name().to_owned(),
            });
        }
        read += groups.len();
        match groups.last() {
            Some(last) if groups.len() == 1000 => after = Some(last.id().clone()),
            _ => break,
        }
    }
    Err(PortalError::bad_request(format!(
        "No user or group is {text:?}: give a user principal name, a group's display name, or an object id."
    )))
}

/// One assignment as the table shows it.
#[derive(Debug, Clone)]
struct Row {
    id: String,
    name: String,
    kind: &'static str,
    role: String,
    /// A group's direct members (users and nested groups).
    members: Option<usize>,
}

#[derive(Template)]
#[template(path = "assignments.html")]
struct AssignmentsPage {
    chrome: Chrome,
    title: String,
    app: AppNav,
    rows: Vec<Row>,
    roles: Vec<(String, String)>,
    may_manage: bool,
    nested: bool,
    scope_all: bool,
    error: Option<String>,
    principal: String,
}

async fn page_of(state: &PortalState, admin: &Signed, name: &str) -> PortalResult<AssignmentsPage> {
    let (definition, _) = readable(state, admin, name).await?;
    let mut rows = Vec::new();
    for assignment in state.stores.directory.assignments(name).await? {
        let (display, members) = match assignment.kind {
            PrincipalKind::User => {
                let user = state.stores.directory.user(&assignment.principal).await?;
                let name = user.map(|user| {
                    user.display_name.clone().unwrap_or_else(|| user.user_principal_name().as_str().to_owned())
                });
                (name, None)
            }
            PrincipalKind::Group => {
                let group = state.stores.directory.group(&assignment.principal).await?;
                let members = group.as_ref().map(|group| group.members.len());
                (group.map(|group| group.display_name().to_owned()), members)
            }
        };
        let role = assignment.role.as_deref().map_or_else(
            || "Default Access".to_owned(),
            |value| {
                definition
                    .app_roles
                    .iter()
                    .find(|role| role.value == value)
                    .map_or_else(|| value.to_owned(), |role| role.display_name.clone())
            },
        );
        rows.push(Row {
            id: assignment.principal.as_str().to_owned(),
            name: display.unwrap_or_else(|| "(deleted)".to_owned()),
            kind: match assignment.kind {
                PrincipalKind::User => "User",
                PrincipalKind::Group => "Group",
            },
            role,
            members,
        });
    }
    rows.sort_by_key(|row| row.name.to_lowercase());
    let roles = definition.app_roles.iter().map(|role| (role.value.clone(), role.display_name.clone())).collect();
    let app = AppNav::new(&definition, "assignments");
    Ok(AssignmentsPage {
        chrome: admin.chrome(Section::Applications),
        title: format!("{} · Users and groups", app.display_name),
        app,
        rows,
        roles,
        may_manage: admin.may(Permission::ManageApplication(name)),
        nested: definition.include_nested_members,
        scope_all: definition.scope == roster_engine::definition::Scope::All,
        error: None,
        principal: String::new(),
    })
}

/// `GET /applications/{name}/users-and-groups`.
pub async fn page(State(state): State<PortalState>, admin: Signed, Path(name): Path<String>) -> PortalResult<Response> {
    Ok(render(&page_of(&state, &admin, &name).await?))
}

/// `POST /applications/{name}/users-and-groups`: `action=add` with `principal` and `role`, or `action=remove`
/// with `id`.
pub async fn submit(State(state): State<PortalState>, Path(name): Path<String>, form: Form) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::ManageApplication(&name))?;
    let actor = admin.principal.actor();
    let back = Redirect::to(&format!("/applications/{}/users-and-groups", urlencoded(&name))).into_response();
    match form.fields.get("action") {
        Some("remove") => {
            let id = form.fields.get("id").ok_or_else(|| PortalError::bad_request("Choose what to remove."))?;
            provisioning::unassign(&state.stores, &actor, &name, id).await?;
            Ok(back)
        }
        Some("add") => {
            let text = form.fields.get("principal").unwrap_or_default().to_owned();
            let role = form.fields.get("role");
            let result = match find_principal(&state, &text).await {
                Ok(found) => provisioning::assign(&state.stores, &actor, &name, found.id.as_str(), role)
                    .await
                    .map_err(PortalError::from),
                Err(error) => Err(error),
            };
            match result {
                Ok(_) => Ok(back),
                Err(error) if error.status.is_client_error() => {
                    let mut page = page_of(&state, admin, &name).await?;
                    page.error = Some(error.message);
                    page.principal = text;
                    Ok(render_with(StatusCode::BAD_REQUEST, &page))
                }
                Err(error) => Err(error),
            }
        }
        _ => Err(PortalError::bad_request("Choose Assign or Remove.")),
    }
}

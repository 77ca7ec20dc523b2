//! One group of the directory, as Entra's group page: its properties, its direct Members (users and nested
//! groups, a page at a time), Add members (a user by user principal name or id, a group by display name or id),
//! Remove, and Delete (for good, with its memberships and application assignments, as the admin API's
//! `DELETE /groups/{id}`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use roster_directory::port::PrincipalKind;
use roster_directory::{Group, ObjectId};
use roster_service::access::Permission;
use roster_service::directory;
use serde::Deserialize;

use crate::PortalState;
use crate::assignments::find_principal;
use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::Form;
use crate::format;
use crate::listing::PAGE_SIZE;
use crate::overview::urlencoded;
use crate::session::{Chrome, Section, Signed};
use crate::user::name_of;

/// The group page's query.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GroupQuery {
    /// The members' cursor: the id of the last member of the previous page.
    #[serde(default)]
    pub after: Option<String>,
    /// What was just done: `created`, `added`, `removed`.
    #[serde(default)]
    pub done: Option<String>,
}

/// One member as the table shows it.
#[derive(Debug, Clone)]
struct Member {
    id: String,
    name: String,
    detail: String,
    kind: &'static str,
    link: String,
}

#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage {
    chrome: Chrome,
    title: String,
    id: String,
    name: String,
    properties: Vec<(&'static str, String)>,
    members: Vec<Member>,
    total: usize,
    total_text: String,
    shown_from: usize,
    next: Option<String>,
    first: Option<String>,
    may_write: bool,
    done: Option<&'static str>,
    error: Option<String>,
    principal: String,
}

/// The group with this id, or a 404.
pub async fn find(state: &PortalState, id: &str) -> PortalResult<Group> {
    let missing = || PortalError::not_found(format!("There is no group with the id {id}."));
    let id = ObjectId::parse(id).map_err(|_| missing())?;
    state.stores.directory.group(&id).await?.ok_or_else(missing)
}

async fn page_of(state: &PortalState, admin: &Signed, id: &str, after: Option<&str>) -> PortalResult<GroupPage> {
    admin.check(Permission::ReadDirectory)?;
    let group = find(state, id).await?;
    let start = match after.map(str::trim).filter(|after| !after.is_empty()) {
        Some(after) => {
            group.members.iter().position(|member| member.as_str() == after).map(|at| at + 1).ok_or_else(|| {
                PortalError::bad_request("The page cursor is not a member of the group: use the Next link as given.")
            })?
        }
        None => 0,
    };
    let mut members = Vec::new();
    for member in group.members.iter().skip(start).take(PAGE_SIZE) {
        let row = if let Some(user) = state.stores.directory.user(member).await? {
            Member {
                id: member.as_str().to_owned(),
                name: name_of(&user),
                detail: match user.deleted_date_time {
                    Some(_) => format!("{} (deleted)", user.user_principal_name()),
                    None => user.user_principal_name().as_str().to_owned(),
                },
                kind: "User",
                link: format!("/users/{}", urlencoded(member.as_str())),
            }
        } else if let Some(nested) = state.stores.directory.group(member).await? {
            Member {
                id: member.as_str().to_owned(),
                name: nested.display_name().to_owned(),
                detail: format!("{} members", format::count(nested.members.len() as u64)),
                kind: "Group",
                link: format!("/groups/{}", urlencoded(member.as_str())),
            }
        } else {
            continue;
        };
        members.push(row);
    }
    let base = format!("/groups/{}", urlencoded(group.id().as_str()));
    let next = (start + PAGE_SIZE < group.members.len())
        .then(|| group.members.get(start + PAGE_SIZE - 1))
        .flatten()
        .map(|last| format!("{base}?after={}#members", urlencoded(last.as_str())));
    let text = |value: &Option<String>| value.clone().unwrap_or_else(|| "—".to_owned());
    let properties = vec![
        ("Object ID", group.id().as_str().to_owned()),
        ("Display name", group.display_name().to_owned()),
        ("Description", text(&group.description)),
        ("Mail nickname", text(&group.mail_nickname)),
        ("Group type", if group.security_enabled == Some(false) { "Distribution" } else { "Security" }.to_owned()),
        ("Direct members", format::count(group.members.len() as u64)),
    ];
    Ok(GroupPage {
        chrome: admin.chrome(Section::Groups),
        title: group.display_name().to_owned(),
        id: group.id().as_str().to_owned(),
        name: group.display_name().to_owned(),
        properties,
        members,
        total: group.members.len(),
        total_text: format::count(group.members.len() as u64),
        shown_from: start + 1,
        next,
        first: (start > 0).then(|| format!("{base}#members")),
        may_write: admin.may(Permission::WriteDirectory),
        done: None,
        error: None,
        principal: String::new(),
    })
}

fn done_text(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => "Created the group. Add its members below.",
        "added" => "Added the member.",
        "removed" => "Removed the member.",
        _ => return None,
    })
}

/// `GET /groups/{id}`.
pub async fn page(
    State(state): State<PortalState>,
    admin: Signed,
    Path(id): Path<String>,
    Query(query): Query<GroupQuery>,
) -> PortalResult<Response> {
    let mut page = page_of(&state, &admin, &id, query.after.as_deref()).await?;
    page.done = done_text(query.done.as_deref());
    Ok(render(&page))
}

/// `POST /groups/{id}/members`: `action=add` with `principal` (a user principal name, a group's display name or
/// an object id), or `action=remove` with `id`.
pub async fn members(State(state): State<PortalState>, Path(id): Path<String>, form: Form) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::WriteDirectory)?;
    let group = find(&state, &id).await?;
    let actor = admin.principal.actor();
    let back = |done: &str| {
        Redirect::to(&format!("/groups/{}?done={done}#members", urlencoded(group.id().as_str()))).into_response()
    };
    let text = form.fields.get("principal").unwrap_or_default().to_owned();
    let result = match form.fields.get("action") {
        Some("remove") => {
            let member = form.fields.get("id").unwrap_or_default();
            match ObjectId::parse(member) {
                Ok(member) if group.members.contains(&member) => {
                    directory::remove_member(&state.stores, &actor, group.id().as_str(), member.as_str())
                        .await
                        .map(|()| back("removed"))
                        .map_err(PortalError::from)
                }
                _ => Err(PortalError::bad_request("That is not a member of the group (any more): reload the page.")),
            }
        }
        Some("add") if text.is_empty() => {
            Err(PortalError::bad_request("Give a user principal name, a group's display name, or an object id."))
        }
        Some("add") => match find_principal(&state, &text).await {
            Ok(found) if group.members.contains(&found.id) => {
                Err(PortalError::bad_request(format!("{} is already a member of the group.", found.name)))
            }
            Ok(found) if found.kind == PrincipalKind::Group && found.id == *group.id() => {
                Err(PortalError::bad_request("A group cannot be a member of itself."))
            }
            Ok(found) => directory::add_member(&state.stores, &actor, group.id().as_str(), found.id.as_str())
                .await
                .map(|()| back("added"))
                .map_err(PortalError::from),
            Err(error) => Err(error),
        },
        _ => Err(PortalError::bad_request("Choose Add or Remove.")),
    };
    match result {
        Ok(response) => Ok(response),
        Err(error) if error.status.is_client_error() => {
            let mut page = page_of(&state, admin, &id, None).await?;
            page.error = Some(error.message);
            page.principal = text;
            Ok(render_with(StatusCode::BAD_REQUEST, &page))
        }
        Err(error) => Err(error),
    }
}

/// `POST /groups/{id}/delete` with `confirm`: the group goes for good, with its memberships and assignments.
pub async fn delete(State(state): State<PortalState>, Path(id): Path<String>, form: Form) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::WriteDirectory)?;
    let group = find(&state, &id).await?;
    if !form.fields.checked("confirm") {
        let mut page = page_of(&state, admin, &id, None).await?;
        page.error = Some(
            "Check \"I understand the group is deleted for good\" to delete it: it cannot be restored.".to_owned(),
        );
        return Ok(render_with(StatusCode::BAD_REQUEST, &page));
    }
    directory::delete_group(&state.stores, &admin.principal.actor(), group.id().as_str()).await?;
    Ok(Redirect::to("/groups?done=deleted").into_response())
}

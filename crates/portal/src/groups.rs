//! The directory's Groups, as Entra's All groups: a table of name, description and member count, paged on the
//! server and searched by the beginning of a display name or mail nickname; and New group, made through the same
//! service call as the admin API's `POST /groups`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use roster_directory::{Group, ObjectId};
use roster_service::access::Permission;
use roster_service::directory;
use roster_service::error::{ErrorKind, ServiceError};
use serde_json::{Map, json};

use crate::PortalState;
use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::Form;
use crate::format;
use crate::listing::{self, SCAN_LIMIT};
use crate::overview::urlencoded;
use crate::session::{Chrome, Section, Signed};
use crate::users::ListQuery;

/// One group as the table shows it.
#[derive(Debug, Clone)]
struct Row {
    id: String,
    name: String,
    description: String,
    members: String,
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    chrome: Chrome,
    title: &'static str,
    search: String,
    rows: Vec<Row>,
    next: Option<String>,
    first: Option<String>,
    cut: bool,
    scan_limit: String,
    may_write: bool,
    done: Option<&'static str>,
}

fn matches(group: &Group, prefix: &str) -> bool {
    listing::starts_with(Some(group.display_name()), prefix)
        || listing::starts_with(group.mail_nickname.as_deref(), prefix)
}

/// `GET /groups`.
pub async fn list(
    State(state): State<PortalState>,
    admin: Signed,
    Query(query): Query<ListQuery>,
) -> PortalResult<Response> {
    admin.check(Permission::ReadDirectory)?;
    let search = query.search.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let after = listing::cursor(query.after.as_deref())?;
    let page = match ObjectId::parse(&search) {
        Ok(id) => listing::Page {
            items: state.stores.directory.group(&id).await?.into_iter().collect(),
            next: None,
            cut: false,
        },
        Err(_) => {
            let prefix = search.to_lowercase();
            listing::page(&*state.stores.directory, after.clone(), !prefix.is_empty(), |group: &Group| {
                prefix.is_empty() || matches(group, &prefix)
            })
            .await?
        }
    };
    let rows = page
        .items
        .iter()
        .map(|group| Row {
            id: group.id().as_str().to_owned(),
            name: group.display_name().to_owned(),
            description: group.description.clone().unwrap_or_default(),
            members: format::count(group.members.len() as u64),
        })
        .collect();
    Ok(render(&GroupsPage {
        chrome: admin.chrome(Section::Groups),
        title: "Groups",
        rows,
        next: page.next.as_ref().map(|next| listing::link("/groups", &search, Some(next))),
        first: after.map(|_| listing::link("/groups", &search, None)),
        cut: page.cut,
        scan_limit: format::count(SCAN_LIMIT as u64),
        search,
        may_write: admin.may(Permission::WriteDirectory),
        done: query.done_text(),
    }))
}

#[derive(Template)]
#[template(path = "new_group.html")]
struct NewGroupPage {
    chrome: Chrome,
    title: &'static str,
    display_name: String,
    mail_nickname: String,
    description: String,
    error: Option<String>,
}

/// `GET /groups/new`.
pub async fn new_page(admin: Signed) -> PortalResult<Response> {
    admin.check(Permission::WriteDirectory)?;
    Ok(render(&NewGroupPage {
        chrome: admin.chrome(Section::Groups),
        title: "New group",
        display_name: String::new(),
        mail_nickname: String::new(),
        description: String::new(),
        error: None,
    }))
}

/// `POST /groups/new`: `displayName`, `mailNickname`, `description` (a security group). The browser goes to the
/// new group's page, to add its members.
pub async fn create(State(state): State<PortalState>, form: Form) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::WriteDirectory)?;
    let text = |name: &str| form.fields.get(name).unwrap_or_default().to_owned();
    let (display_name, mail_nickname, description) = (text("displayName"), text("mailNickname"), text("description"));
    let mut attributes = Map::new();
    for (name, value) in
        [("displayName", &display_name), ("mailNickname", &mail_nickname), ("description", &description)]
    {
        if !value.is_empty() {
            attributes.insert(name.to_owned(), json!(value));
        }
    }
    attributes.insert("securityEnabled".to_owned(), json!(true));
    match directory::create_group(&state.stores, &admin.principal.actor(), attributes).await {
        Ok(group) => {
            Ok(Redirect::to(&format!("/groups/{}?done=created", urlencoded(group.id().as_str()))).into_response())
        }
        Err(error) => match ServiceError::kind_of(&error) {
            ErrorKind::Invalid | ErrorKind::Conflict | ErrorKind::NotFound => Ok(render_with(
                StatusCode::BAD_REQUEST,
                &NewGroupPage {
                    chrome: admin.chrome(Section::Groups),
                    title: "New group",
                    display_name,
                    mail_nickname,
                    description,
                    error: Some(format!("{error:#}")),
                },
            )),
            _ => Err(PortalError::from(error)),
        },
    }
}

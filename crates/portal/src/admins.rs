//! Admins: the directory users who hold a directory role (what `roster directory user add-role` gives), with
//! their roles, paged on the server in object id order; Create admin (a new directory user with a password and a
//! role, `roster admin create`); Add role to any directory user by user principal name or object id, and Add role
//! and Remove role on a row. Taking your own Global Administrator role when nobody else holds it is refused, with
//! the reason. Only an admin who may manage roles opens the page; the admin API tokens are its second tab
//! ([`crate::admin_tokens`]).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use roster_directory::ObjectId;
use roster_directory::access::Role;
use roster_service::access::{self, Permission};
use roster_service::{directory, provisioning};
use serde::Deserialize;

use crate::PortalState;
use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::{Fields, Form};
use crate::listing;
use crate::session::{Chrome, Section, Signed};

/// Admins on a page, as the directory's lists.
pub const PAGE_SIZE: usize = listing::PAGE_SIZE;

/// The page's query.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AdminsQuery {
    /// The cursor: the object id of the last admin of the previous page.
    #[serde(default)]
    pub after: Option<String>,
    /// What was just done: `created`, `added`, `removed`.
    #[serde(default)]
    pub done: Option<String>,
    /// Whom it was done to (a user principal name).
    #[serde(default)]
    pub who: Option<String>,
}

/// A role a form offers: its key (what the form sends) and its name.
#[derive(Debug, Clone)]
pub struct RoleChoice {
    /// `global-administrator`, `application-owner:github`, ...
    pub key: String,
    /// `Global Administrator`, `Application Owner of github`, ...
    pub label: String,
}

impl RoleChoice {
    fn of(role: &Role) -> RoleChoice {
        RoleChoice { key: role.as_key(), label: role.to_string() }
    }
}

/// Every role a form offers: the three directory-wide roles, then Application Owner of each application.
pub async fn choices(state: &PortalState) -> PortalResult<Vec<RoleChoice>> {
    let mut roles = vec![Role::GlobalAdministrator, Role::ApplicationAdministrator, Role::ReportsReader];
    let mut names: Vec<String> =
        provisioning::definitions(&state.stores).await?.into_iter().map(|definition| definition.name).collect();
    names.sort();
    roles.extend(names.into_iter().map(Role::ApplicationOwner));
    Ok(roles.iter().map(RoleChoice::of).collect())
}

/// One admin as the table shows it.
#[derive(Debug, Clone)]
struct Row {
    id: String,
    display_name: String,
    upn: String,
    enabled: &'static str,
    roles: Vec<RoleChoice>,
    /// The roles the row's Add role offers (those it does not hold).
    missing: Vec<RoleChoice>,
    /// Whether it is the signed-in admin.
    you: bool,
}

/// What the Create admin form holds (the passwords are never sent back).
#[derive(Debug, Clone, Default)]
struct CreateForm {
    upn: String,
    display_name: String,
    role: String,
}

#[derive(Template)]
#[template(path = "admins.html")]
struct AdminsPage {
    chrome: Chrome,
    title: &'static str,
    tab: &'static str,
    rows: Vec<Row>,
    roles: Vec<RoleChoice>,
    next: Option<String>,
    first: Option<String>,
    done: Option<String>,
    /// An error, and which form it is about: `create`, `add` or `row`.
    error: Option<(String, &'static str)>,
    create: CreateForm,
    add_user: String,
    add_role: String,
    min_password: usize,
}

async fn page_of(state: &PortalState, admin: &Signed, after: Option<&ObjectId>) -> PortalResult<AdminsPage> {
    admin.check(Permission::ManageRoles)?;
    let roles = choices(state).await?;
    let holders = access::role_holders(&state.stores).await?;
    let mut page: Vec<(ObjectId, Vec<Role>)> =
        holders.into_iter().filter(|(id, _)| after.is_none_or(|after| id > after)).take(PAGE_SIZE + 1).collect();
    let more = page.len() > PAGE_SIZE;
    page.truncate(PAGE_SIZE);
    let you = admin.principal.user_id();
    let mut rows = Vec::new();
    for (id, held) in &page {
        let Some(user) = state.stores.directory.user(id).await? else { continue };
        let held: Vec<RoleChoice> = held.iter().map(RoleChoice::of).collect();
        let missing = roles.iter().filter(|choice| !held.iter().any(|role| role.key == choice.key)).cloned().collect();
        rows.push(Row {
            id: id.as_str().to_owned(),
            display_name: user.display_name.clone().unwrap_or_else(|| "—".to_owned()),
            upn: user.user_principal_name().as_str().to_owned(),
            enabled: if user.account_enabled && user.deleted_date_time.is_none() { "Yes" } else { "No" },
            roles: held,
            missing,
            you: you.as_ref() == Some(id),
        });
    }
    let next = if more { page.last().map(|(id, _)| listing::link("/admins", "", Some(id))) } else { None };
    Ok(AdminsPage {
        chrome: admin.chrome(Section::Admins),
        title: "Admins",
        tab: "admins",
        rows,
        roles,
        next,
        first: after.map(|_| "/admins".to_owned()),
        done: None,
        error: None,
        create: CreateForm { role: Role::GlobalAdministrator.as_key(), ..CreateForm::default() },
        add_user: String::new(),
        add_role: Role::GlobalAdministrator.as_key(),
        min_password: access::MIN_PASSWORD,
    })
}

/// The status line of what was just done.
fn done_text(query: &AdminsQuery) -> Option<String> {
    let who = query.who.as_deref().unwrap_or("the user");
    Some(match query.done.as_deref()? {
        "created" => format!("Created the admin {who}: they can sign in now."),
        "added" => format!("Gave {who} the role."),
        "removed" => format!("Took the role from {who}."),
        _ => return None,
    })
}

/// `GET /admins`.
pub async fn page(
    State(state): State<PortalState>,
    admin: Signed,
    Query(query): Query<AdminsQuery>,
) -> PortalResult<Response> {
    let after = listing::cursor(query.after.as_deref())?;
    let mut page = page_of(&state, &admin, after.as_ref()).await?;
    page.done = done_text(&query);
    Ok(render(&page))
}

/// Back to the list, which says what was done to whom.
fn done(what: &str, who: &str) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("done", what).append_pair("who", who);
    Redirect::to(&format!("/admins?{}", query.finish())).into_response()
}

/// `POST /admins`: `action=create` (`upn`, `display_name`, `password`, `confirm`, `role`), `action=add` (`user`: a
/// user principal name or object id, `role`) or `action=remove` (`id`, `role`).
pub async fn submit(State(state): State<PortalState>, form: Form) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::ManageRoles)?;
    let actor = admin.principal.actor();
    let fields = &form.fields;
    let (result, which) = match fields.get("action") {
        Some("create") => (create(&state, &actor, fields).await, "create"),
        Some("add") => (add(&state, &actor, fields).await, "add"),
        Some("remove") => (remove(&state, &actor, fields).await, "row"),
        _ => return Err(PortalError::bad_request("Choose Create admin, Add role or Remove role.")),
    };
    match result {
        Ok(response) => Ok(response),
        Err(error) if error.status.is_client_error() => {
            let mut page = page_of(&state, admin, None).await?;
            page.error = Some((error.message, which));
            if which == "create" {
                page.create = CreateForm {
                    upn: fields.get("upn").unwrap_or_default().to_owned(),
                    display_name: fields.get("display_name").unwrap_or_default().to_owned(),
                    role: fields.get("role").unwrap_or_default().to_owned(),
                };
            } else if which == "add" {
                page.add_user = fields.get("user").unwrap_or_default().to_owned();
                page.add_role = fields.get("role").unwrap_or_default().to_owned();
            }
            Ok(render_with(error.status, &page))
        }
        Err(error) => Err(error),
    }
}

async fn create(state: &PortalState, actor: &roster_service::Actor, fields: &Fields) -> PortalResult<Response> {
    let upn = fields.get("upn").ok_or_else(|| PortalError::bad_request("Enter the user principal name."))?;
    let role = fields.get("role").ok_or_else(|| PortalError::bad_request("Choose a role."))?;
    let password = fields.raw("password");
    if password != fields.raw("confirm") {
        return Err(PortalError::bad_request("The passwords do not match: enter the same password twice."));
    }
    let user =
        access::create_admin_with_role(&state.stores, actor, upn, fields.get("display_name"), password, role).await?;
    Ok(done("created", user.user_principal_name().as_str()))
}

async fn add(state: &PortalState, actor: &roster_service::Actor, fields: &Fields) -> PortalResult<Response> {
    let text = fields.get("user").or_else(|| fields.get("id")).unwrap_or_default();
    let role = fields.get("role").ok_or_else(|| PortalError::bad_request("Choose a role."))?;
    let user = match ObjectId::parse(text) {
        Ok(id) => state.stores.directory.user(&id).await?,
        Err(_) if text.contains('@') => directory::user_by_upn(&state.stores, text).await?,
        Err(_) => None,
    };
    let user = user.ok_or_else(|| {
        PortalError::bad_request(format!(
            "No directory user is {text:?}: give a user principal name or an object id (create a new one with Create admin)."
        ))
    })?;
    access::add_role(&state.stores, actor, user.id().as_str(), role).await?;
    Ok(done("added", user.user_principal_name().as_str()))
}

async fn remove(state: &PortalState, actor: &roster_service::Actor, fields: &Fields) -> PortalResult<Response> {
    let id = fields.get("id").ok_or_else(|| PortalError::bad_request("Choose whose role to remove."))?;
    let role = fields.get("role").ok_or_else(|| PortalError::bad_request("Choose the role to remove."))?;
    let id = ObjectId::parse(id).map_err(|_| PortalError::bad_request(format!("{id:?} is not an object id.")))?;
    let user = state
        .stores
        .directory
        .user(&id)
        .await?
        .ok_or_else(|| PortalError::bad_request(format!("No directory user has the id {id}.")))?;
    access::remove_role(&state.stores, actor, id.as_str(), role).await?;
    Ok(done("removed", user.user_principal_name().as_str()))
}

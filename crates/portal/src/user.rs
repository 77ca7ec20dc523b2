//! One user of the directory, as Entra's user page: its properties, Edit properties (the same checks as the admin
//! API's `PATCH /users/{id}`), Disable or Enable the account, Delete (to the deleted users, from where it can be
//! restored), and on a deleted user Restore user and Delete permanently.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use roster_directory::{ExtensionValue, ObjectId, User};
use roster_service::access::Permission;
use roster_service::directory::{self, Lifecycle};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::PortalState;
use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::Form;
use crate::format;
use crate::overview::urlencoded;
use crate::session::{Chrome, Section, Signed};

/// The string attributes Edit properties changes, with their labels, in the form's order.
pub const EDITABLE: &[(&str, &str)] = &[
    ("userPrincipalName", "User principal name"),
    ("displayName", "Display name"),
    ("givenName", "First name"),
    ("surname", "Last name"),
    ("mail", "Mail"),
    ("jobTitle", "Job title"),
    ("department", "Department"),
    ("companyName", "Company name"),
    ("employeeId", "Employee ID"),
    ("officeLocation", "Office location"),
    ("city", "City"),
    ("country", "Country or region"),
    ("mobilePhone", "Mobile phone"),
    ("preferredLanguage", "Preferred language"),
];

/// A query that says what was just done, for the page's status line.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Done {
    /// `created`, `saved`, `disabled`, `enabled`, `deleted`, `restored`.
    #[serde(default)]
    pub done: Option<String>,
}

fn done_text(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => "Created the user.",
        "saved" => "Saved the user's properties.",
        "disabled" => {
            "Disabled the account: the user can no longer sign in, and is disabled in the applications it is provisioned to."
        }
        "enabled" => "Enabled the account.",
        "deleted" => "Deleted the user. It stays in Deleted users until it is restored or deleted permanently.",
        "restored" => "Restored the user.",
        "unchanged" => "Nothing to change: the user was already in that state.",
        _ => return None,
    })
}

/// The user with this id (soft-deleted or not), or a 404.
pub async fn find(state: &PortalState, id: &str) -> PortalResult<User> {
    let missing = || PortalError::not_found(format!("There is no user with the id {id}."));
    let id = ObjectId::parse(id).map_err(|_| missing())?;
    state.stores.directory.user(&id).await?.ok_or_else(missing)
}

/// The name a user goes by on a page: its display name, else its user principal name.
pub fn name_of(user: &User) -> String {
    user.display_name.clone().unwrap_or_else(|| user.user_principal_name().as_str().to_owned())
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    chrome: Chrome,
    title: String,
    id: String,
    name: String,
    enabled: bool,
    deleted: Option<String>,
    properties: Vec<(&'static str, String)>,
    manager: Option<(String, String)>,
    extensions: Vec<(String, String)>,
    may_write: bool,
    done: Option<&'static str>,
    error: Option<String>,
}

async fn page_of(state: &PortalState, admin: &Signed, id: &str) -> PortalResult<UserPage> {
    admin.check(Permission::ReadDirectory)?;
    let user = find(state, id).await?;
    let text = |value: &Option<String>| value.clone().unwrap_or_else(|| "—".to_owned());
    let properties = vec![
        ("User principal name", user.user_principal_name().as_str().to_owned()),
        ("Object ID", user.id().as_str().to_owned()),
        ("Display name", text(&user.display_name)),
        ("First name", text(&user.given_name)),
        ("Last name", text(&user.surname)),
        ("Mail", text(&user.mail)),
        ("Mail nickname", text(&user.mail_nickname)),
        ("Account enabled", if user.account_enabled { "Yes" } else { "No" }.to_owned()),
        ("Job title", text(&user.job_title)),
        ("Department", text(&user.department)),
        ("Company name", text(&user.company_name)),
        ("Employee ID", text(&user.employee_id)),
        ("Office location", text(&user.office_location)),
        ("City", text(&user.city)),
        ("Country or region", text(&user.country)),
        ("Mobile phone", text(&user.mobile_phone)),
        (
            "Business phones",
            if user.business_phones.is_empty() { "—".to_owned() } else { user.business_phones.join(", ") },
        ),
        ("Preferred language", text(&user.preferred_language)),
        ("Source", crate::users::SOURCE.to_owned()),
    ];
    let manager = match &user.manager {
        Some(manager) => {
            let name = state.stores.directory.user(manager).await?.map_or_else(|| manager.to_string(), |m| name_of(&m));
            Some((manager.as_str().to_owned(), name))
        }
        None => None,
    };
    let extensions = user
        .extensions()
        .iter()
        .map(|(key, value)| {
            let shown = match value {
                ExtensionValue::String(text) => text.clone(),
                ExtensionValue::Bool(flag) => flag.to_string(),
                ExtensionValue::Number(number) => number.to_string(),
                ExtensionValue::List(items) => items.join(", "),
            };
            (key.clone(), shown)
        })
        .collect();
    let name = name_of(&user);
    Ok(UserPage {
        chrome: admin.chrome(Section::Users),
        title: name.clone(),
        id: user.id().as_str().to_owned(),
        name,
        enabled: user.account_enabled,
        deleted: user.deleted_date_time.map(format::time),
        properties,
        manager,
        extensions,
        may_write: admin.may(Permission::WriteDirectory),
        done: None,
        error: None,
    })
}

/// `GET /users/{id}`.
pub async fn page(
    State(state): State<PortalState>,
    admin: Signed,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> PortalResult<Response> {
    let mut page = page_of(&state, &admin, &id).await?;
    page.done = done_text(done.done.as_deref());
    Ok(render(&page))
}

/// `POST /users/{id}/lifecycle`: `action` = `disable`, `enable`, `delete` (soft), `restore`, or `purge` (for good,
/// with `confirm`, only from Deleted users).
pub async fn lifecycle(State(state): State<PortalState>, Path(id): Path<String>, form: Form) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::WriteDirectory)?;
    let user = find(&state, &id).await?;
    let (change, done) = match form.fields.get("action") {
        Some("disable") => (Lifecycle::Disable, "disabled"),
        Some("enable") => (Lifecycle::Enable, "enabled"),
        Some("delete") => (Lifecycle::SoftDelete, "deleted"),
        Some("restore") => (Lifecycle::Restore, "restored"),
        Some("purge") => (Lifecycle::HardDelete, "purged"),
        _ => return Err(PortalError::bad_request("Choose Disable, Enable, Delete, Restore or Delete permanently.")),
    };
    let refuse = async |message: String| -> PortalResult<Response> {
        let mut page = page_of(&state, admin, &id).await?;
        page.error = Some(message);
        Ok(render_with(StatusCode::BAD_REQUEST, &page))
    };
    let own = admin.principal.user_id().as_ref() == Some(user.id());
    if own && matches!(change, Lifecycle::Disable | Lifecycle::SoftDelete | Lifecycle::HardDelete) {
        return refuse(
            "This is your own account: disabling or deleting it would sign you out for good. Ask another Global \
             Administrator to do it."
                .to_owned(),
        )
        .await;
    }
    if change == Lifecycle::HardDelete {
        if user.deleted_date_time.is_none() {
            return refuse("Delete the user first: only a deleted user can be deleted permanently.".to_owned()).await;
        }
        if !form.fields.checked("confirm") {
            return refuse(
                "Check \"I understand the user is deleted for good\" to delete it permanently: it cannot be restored."
                    .to_owned(),
            )
            .await;
        }
    }
    match directory::set_user_lifecycle(&state.stores, &admin.principal.actor(), user.id().as_str(), change).await {
        Ok(_) if change == Lifecycle::HardDelete => Ok(Redirect::to("/users/deleted?done=purged").into_response()),
        Ok(changed) => {
            let done = if changed { done } else { "unchanged" };
            Ok(Redirect::to(&format!("/users/{}?done={done}", urlencoded(user.id().as_str()))).into_response())
        }
        Err(error) => {
            let error = PortalError::from(error);
            if error.status.is_client_error() { refuse(error.message).await } else { Err(error) }
        }
    }
}

/// One field of Edit properties.
#[derive(Debug, Clone)]
struct Field {
    name: &'static str,
    label: &'static str,
    value: String,
    required: bool,
}

#[derive(Template)]
#[template(path = "user_edit.html")]
struct EditPage {
    chrome: Chrome,
    title: String,
    id: String,
    name: String,
    fields: Vec<Field>,
    error: Option<String>,
}

fn edit_page(admin: &Signed, user: &User, values: impl Fn(&str) -> String, error: Option<String>) -> EditPage {
    let name = name_of(user);
    EditPage {
        chrome: admin.chrome(Section::Users),
        title: format!("{name} · Edit properties"),
        id: user.id().as_str().to_owned(),
        name,
        fields: EDITABLE
            .iter()
            .map(|(field, label)| Field {
                name: field,
                label,
                value: values(field),
                required: matches!(*field, "userPrincipalName" | "displayName"),
            })
            .collect(),
        error,
    }
}

/// A user that is not deleted (a deleted one is restored before it is edited), or a 404 / 400.
async fn editable(state: &PortalState, id: &str) -> PortalResult<User> {
    let user = find(state, id).await?;
    if user.deleted_date_time.is_some() {
        return Err(PortalError::bad_request("The user is deleted: restore it before editing its properties."));
    }
    Ok(user)
}

/// `GET /users/{id}/edit`.
pub async fn edit(State(state): State<PortalState>, admin: Signed, Path(id): Path<String>) -> PortalResult<Response> {
    admin.check(Permission::WriteDirectory)?;
    let user = editable(&state, &id).await?;
    let values = |name: &str| match name {
        "userPrincipalName" => user.user_principal_name().as_str().to_owned(),
        other => user.string_attribute(other).and_then(Clone::clone).unwrap_or_default(),
    };
    Ok(render(&edit_page(&admin, &user, values, None)))
}

/// `POST /users/{id}/edit`: the fields of [`EDITABLE`]; a blank field clears its attribute (the user principal
/// name and display name are required). Saved through the same service call as `PATCH /users/{id}`.
pub async fn save(State(state): State<PortalState>, Path(id): Path<String>, form: Form) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::WriteDirectory)?;
    let user = editable(&state, &id).await?;
    let sent = |name: &str| form.fields.get(name).unwrap_or_default().to_owned();
    let refuse = |message: String| render_with(StatusCode::BAD_REQUEST, &edit_page(admin, &user, sent, Some(message)));
    let mut changes = Map::new();
    for (name, label) in EDITABLE {
        match form.fields.get(name) {
            Some(value) => changes.insert((*name).to_owned(), json!(value)),
            None if matches!(*name, "userPrincipalName" | "displayName") => {
                return Ok(refuse(format!("{label} is required.")));
            }
            None => changes.insert((*name).to_owned(), Value::Null),
        };
    }
    match directory::update_user(&state.stores, &admin.principal.actor(), user.id(), changes).await {
        Ok(_) => Ok(Redirect::to(&format!("/users/{}?done=saved", urlencoded(user.id().as_str()))).into_response()),
        Err(error) => {
            let error = PortalError::from(error);
            if error.status.is_client_error() { Ok(refuse(error.message)) } else { Err(error) }
        }
    }
}

//! Admin API tokens, the Admins page's second tab: the tokens (name, role, created, expires; never their secrets,
//! which are stored only as digests), Create token (name, role, expiry), whose secret is shown once on the answer
//! page, and Revoke, confirmed first. The same service calls as `roster admin token create`, `list` and `revoke`.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use roster_service::access::{self, Permission};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::PortalState;
use crate::admins::{RoleChoice, choices};
use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::{Fields, Form};
use crate::format;
use crate::session::{Chrome, Section, Signed};

/// The expiry choices of Create token, in days (`None`: until revoked), with their labels; the default is the
/// second.
pub const EXPIRIES: &[(Option<i64>, &str, &str)] = &[
    (Some(30), "30", "30 days"),
    (Some(90), "90", "90 days (recommended)"),
    (Some(180), "180", "180 days"),
    (Some(365), "365", "365 days"),
    (Some(730), "730", "730 days"),
    (None, "never", "Never: until revoked"),
];

/// The page's query.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokensQuery {
    /// What was just done: `revoked`.
    #[serde(default)]
    pub done: Option<String>,
    /// The token it was done to.
    #[serde(default)]
    pub name: Option<String>,
}

/// One token as the table shows it.
#[derive(Debug, Clone)]
struct Row {
    name: String,
    role: String,
    created: String,
    expires: String,
    expired: bool,
}

/// What the Create token form holds.
#[derive(Debug, Clone)]
struct CreateForm {
    name: String,
    role: String,
    expires: String,
}

impl Default for CreateForm {
    fn default() -> CreateForm {
        CreateForm { name: String::new(), role: "reports-reader".to_owned(), expires: "90".to_owned() }
    }
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage {
    chrome: Chrome,
    title: &'static str,
    tab: &'static str,
    rows: Vec<Row>,
    roles: Vec<RoleChoice>,
    expiries: Vec<(&'static str, &'static str)>,
    done: Option<String>,
    error: Option<String>,
    create: CreateForm,
}

/// The answer of Create token: the secret, once.
#[derive(Template)]
#[template(path = "admin_token_created.html")]
struct CreatedPage {
    chrome: Chrome,
    title: &'static str,
    tab: &'static str,
    name: String,
    role: String,
    expires: String,
    secret: String,
}

/// Revoke, to confirm.
#[derive(Template)]
#[template(path = "token_revoke.html")]
struct RevokePage {
    chrome: Chrome,
    title: &'static str,
    tab: &'static str,
    name: String,
    role: String,
}

async fn page_of(state: &PortalState, admin: &Signed) -> PortalResult<TokensPage> {
    admin.check(Permission::ManageRoles)?;
    let now = OffsetDateTime::now_utc();
    let rows = access::tokens(&state.stores)
        .await?
        .into_iter()
        .map(|token| Row {
            name: token.name,
            role: token.role.to_string(),
            created: format::time(token.created),
            expires: token.expires.map_or_else(|| "Never".to_owned(), format::time),
            expired: token.expires.is_some_and(|expires| expires <= now),
        })
        .collect();
    Ok(TokensPage {
        chrome: admin.chrome(Section::Admins),
        title: "Admin API tokens",
        tab: "tokens",
        rows,
        roles: choices(state).await?,
        expiries: EXPIRIES.iter().map(|(_, value, label)| (*value, *label)).collect(),
        done: None,
        error: None,
        create: CreateForm::default(),
    })
}

/// `GET /admins/tokens`.
pub async fn page(
    State(state): State<PortalState>,
    admin: Signed,
    Query(query): Query<TokensQuery>,
) -> PortalResult<Response> {
    let mut page = page_of(&state, &admin).await?;
    if query.done.as_deref() == Some("revoked") {
        let name = query.name.as_deref().unwrap_or("the token");
        page.done = Some(format!("Revoked {name}: it no longer signs anything in."));
    }
    Ok(render(&page))
}

/// The lifetime an expiry choice stands for, or what is wrong with it.
fn lifetime(choice: &str) -> Result<Option<time::Duration>, PortalError> {
    EXPIRIES
        .iter()
        .find(|(_, value, _)| *value == choice)
        .map(|(days, _, _)| days.map(time::Duration::days))
        .ok_or_else(|| PortalError::bad_request(format!("Expires {choice:?}: choose one of the offered lifetimes.")))
}

/// `POST /admins/tokens`: `action=create` (`name`, `role`, `expires`: days or `never`) answers the secret once;
/// `action=revoke` (`name`) asks first, and revokes with `confirmed`.
pub async fn submit(State(state): State<PortalState>, form: Form) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::ManageRoles)?;
    match form.fields.get("action") {
        Some("create") => match create(&state, &form).await {
            Ok(response) => Ok(response),
            Err(error) if error.status.is_client_error() => {
                let mut page = page_of(&state, admin).await?;
                page.error = Some(error.message);
                page.create = CreateForm {
                    name: form.fields.get("name").unwrap_or_default().to_owned(),
                    role: form.fields.get("role").unwrap_or_default().to_owned(),
                    expires: form.fields.get("expires").unwrap_or_default().to_owned(),
                };
                Ok(render_with(error.status, &page))
            }
            Err(error) => Err(error),
        },
        Some("revoke") => revoke(&state, &form.admin, &form.fields).await,
        _ => Err(PortalError::bad_request("Choose Create token or Revoke.")),
    }
}

async fn create(state: &PortalState, form: &Form) -> PortalResult<Response> {
    let fields = &form.fields;
    let name = fields.get("name").ok_or_else(|| PortalError::bad_request("Enter the token's name."))?;
    let role = fields.get("role").ok_or_else(|| PortalError::bad_request("Choose a role."))?;
    let choice = fields.get("expires").unwrap_or("never");
    let lifetime = lifetime(choice)?;
    let actor = form.admin.principal.actor();
    let secret = access::create_token(&state.stores, &actor, name, role, lifetime).await?;
    let role = access::parse_role(&state.stores, role).await?;
    let expires =
        lifetime.map_or_else(|| "Never: until revoked".to_owned(), |lifetime| format::time(actor.at + lifetime));
    let page = CreatedPage {
        chrome: form.admin.chrome(Section::Admins),
        title: "Admin API token created",
        tab: "tokens",
        name: name.to_owned(),
        role: role.to_string(),
        expires,
        secret,
    };
    Ok(render(&page))
}

async fn revoke(state: &PortalState, admin: &Signed, fields: &Fields) -> PortalResult<Response> {
    let name = fields.get("name").ok_or_else(|| PortalError::bad_request("Choose the token to revoke."))?;
    let token = access::tokens(&state.stores)
        .await?
        .into_iter()
        .find(|token| token.name == name)
        .ok_or_else(|| PortalError::not_found(format!("There is no admin API token named {name}.")))?;
    if !fields.checked("confirmed") {
        let page = RevokePage {
            chrome: admin.chrome(Section::Admins),
            title: "Revoke admin API token?",
            tab: "tokens",
            name: token.name,
            role: token.role.to_string(),
        };
        return Ok(render(&page));
    }
    access::revoke_token(&state.stores, &admin.principal.actor(), name).await?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("done", "revoked").append_pair("name", name);
    Ok(Redirect::to(&format!("/admins/tokens?{}", query.finish())).into_response())
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    #[test]
    fn expiries_are_the_offered_ones_only() {
        assert_eq!(lifetime("90").ok(), Some(Some(time::Duration::days(90))));
        assert_eq!(lifetime("never").ok(), Some(None));
        for wrong in ["", "91", "-1", "forever"] {
            assert_eq!(lifetime(wrong).map_err(|error| error.status).err(), Some(StatusCode::BAD_REQUEST), "{wrong}");
        }
    }
}

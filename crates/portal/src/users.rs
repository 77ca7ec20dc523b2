//! The directory's Users, as Entra's All users and Deleted users: a table of display name, user principal name,
//! whether the account is enabled, and source, paged on the server and searched by the beginning of a display
//! name, user principal name, mail, given name or surname; and New user (Entra's Create new user), made through
//! the same service call as the admin API's `POST /users`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use roster_directory::{ObjectId, User};
use roster_service::access::Permission;
use roster_service::directory;
use roster_service::error::{ErrorKind, ServiceError};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::PortalState;
use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::{Fields, Form};
use crate::format;
use crate::listing::{self, SCAN_LIMIT};
use crate::overview::urlencoded;
use crate::session::{Chrome, Section, Signed};

/// Where every user of roster's directory comes from (imported, created here, in the API or on the command line):
/// Entra shows its own directory's name in this column.
pub const SOURCE: &str = "roster directory";

/// A list page's query.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    /// The beginning of a display name, user principal name, mail, given name or surname; or an object id.
    #[serde(default)]
    pub search: Option<String>,
    /// The cursor: the id of the last user of the previous page.
    #[serde(default)]
    pub after: Option<String>,
    /// `1`: the deleted users (the same as `/users/deleted`).
    #[serde(default)]
    pub deleted: Option<String>,
    /// What was just done: `purged` (a user deleted permanently), `deleted` (a group).
    #[serde(default)]
    pub done: Option<String>,
}

impl ListQuery {
    /// The status line of what was just done.
    pub fn done_text(&self) -> Option<&'static str> {
        match self.done.as_deref()? {
            "purged" => Some("Deleted the user permanently."),
            "deleted" => Some("Deleted the group."),
            _ => None,
        }
    }
}

/// One user as the table shows it.
#[derive(Debug, Clone)]
struct Row {
    id: String,
    display_name: String,
    upn: String,
    enabled: &'static str,
    deleted: String,
}

impl Row {
    fn of(user: &User) -> Row {
        Row {
            id: user.id().as_str().to_owned(),
            display_name: user.display_name.clone().unwrap_or_else(|| "—".to_owned()),
            upn: user.user_principal_name().as_str().to_owned(),
            enabled: if user.account_enabled { "Yes" } else { "No" },
            deleted: format::maybe_time(user.deleted_date_time),
        }
    }
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    title: &'static str,
    deleted: bool,
    base: &'static str,
    search: String,
    rows: Vec<Row>,
    next: Option<String>,
    first: Option<String>,
    cut: bool,
    scan_limit: String,
    may_write: bool,
    source: &'static str,
    done: Option<&'static str>,
}

/// Whether a user matches a search (`prefix` lower case, not empty).
fn matches(user: &User, prefix: &str) -> bool {
    listing::starts_with(user.display_name.as_deref(), prefix)
        || listing::starts_with(Some(user.user_principal_name().as_str()), prefix)
        || listing::starts_with(user.mail.as_deref(), prefix)
        || listing::starts_with(user.given_name.as_deref(), prefix)
        || listing::starts_with(user.surname.as_deref(), prefix)
}

async fn list_page(state: &PortalState, admin: &Signed, query: &ListQuery, deleted: bool) -> PortalResult<Response> {
    admin.check(Permission::ReadDirectory)?;
    let search = query.search.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let after = listing::cursor(query.after.as_deref())?;
    let base = if deleted { "/users/deleted" } else { "/users" };
    let wanted = |user: &User| user.deleted_date_time.is_some() == deleted;
    let page = match ObjectId::parse(&search) {
        // An object id is looked up, not searched.
        Ok(id) => listing::Page {
            items: state.stores.directory.user(&id).await?.filter(|user| wanted(user)).into_iter().collect(),
            next: None,
            cut: false,
        },
        Err(_) => {
            let prefix = search.to_lowercase();
            listing::page(&*state.stores.directory, after.clone(), !prefix.is_empty(), |user: &User| {
                wanted(user) && (prefix.is_empty() || matches(user, &prefix))
            })
            .await?
        }
    };
    Ok(render(&UsersPage {
        chrome: admin.chrome(Section::Users),
        title: if deleted { "Deleted users" } else { "Users" },
        deleted,
        base,
        rows: page.items.iter().map(Row::of).collect(),
        next: page.next.as_ref().map(|next| listing::link(base, &search, Some(next))),
        first: after.map(|_| listing::link(base, &search, None)),
        cut: page.cut,
        scan_limit: format::count(SCAN_LIMIT as u64),
        search,
        may_write: admin.may(Permission::WriteDirectory),
        source: SOURCE,
        done: query.done_text(),
    }))
}

/// `GET /users`: the users that are not deleted (`?deleted=1`: the deleted ones).
pub async fn list(
    State(state): State<PortalState>,
    admin: Signed,
    Query(query): Query<ListQuery>,
) -> PortalResult<Response> {
    let deleted = matches!(query.deleted.as_deref(), Some("1" | "true" | "yes"));
    list_page(&state, &admin, &query, deleted).await
}

/// `GET /users/deleted`: the soft-deleted users (Entra's Deleted users), to restore or delete for good.
pub async fn deleted(
    State(state): State<PortalState>,
    admin: Signed,
    Query(query): Query<ListQuery>,
) -> PortalResult<Response> {
    list_page(&state, &admin, &query, true).await
}

/// What New user's form holds.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// `userPrincipalName`.
    pub upn: String,
    /// `displayName`.
    pub display_name: String,
    /// `mail`.
    pub mail: String,
    /// `givenName`.
    pub given_name: String,
    /// `surname`.
    pub surname: String,
    /// `accountEnabled`.
    pub enabled: bool,
}

impl NewUser {
    fn of(fields: &Fields) -> NewUser {
        let text = |name: &str| fields.get(name).unwrap_or_default().to_owned();
        NewUser {
            upn: text("userPrincipalName"),
            display_name: text("displayName"),
            mail: text("mail"),
            given_name: text("givenName"),
            surname: text("surname"),
            enabled: fields.checked("accountEnabled"),
        }
    }

    /// The Graph attributes of `POST /users` (blank fields left out).
    fn attributes(&self) -> Map<String, Value> {
        let mut attributes = Map::new();
        let texts = [
            ("userPrincipalName", &self.upn),
            ("displayName", &self.display_name),
            ("mail", &self.mail),
            ("givenName", &self.given_name),
            ("surname", &self.surname),
        ];
        for (name, value) in texts {
            if !value.is_empty() {
                attributes.insert(name.to_owned(), json!(value));
            }
        }
        attributes.insert("accountEnabled".to_owned(), json!(self.enabled));
        attributes
    }
}

#[derive(Template)]
#[template(path = "new_user.html")]
struct NewUserPage {
    chrome: Chrome,
    title: &'static str,
    user: NewUser,
    error: Option<String>,
}

/// `GET /users/new`.
pub async fn new_page(admin: Signed) -> PortalResult<Response> {
    admin.check(Permission::WriteDirectory)?;
    Ok(render(&NewUserPage {
        chrome: admin.chrome(Section::Users),
        title: "New user",
        user: NewUser { enabled: true, ..NewUser::default() },
        error: None,
    }))
}

/// `POST /users/new`: `userPrincipalName`, `displayName`, `mail`, `givenName`, `surname`, `accountEnabled`. The
/// browser goes to the new user's page; a refused value is shown in place with the form as it was sent.
pub async fn create(State(state): State<PortalState>, form: Form) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::WriteDirectory)?;
    let user = NewUser::of(&form.fields);
    match directory::create_user(&state.stores, &admin.principal.actor(), user.attributes()).await {
        Ok(created) => {
            Ok(Redirect::to(&format!("/users/{}?done=created", urlencoded(created.id().as_str()))).into_response())
        }
        Err(error) => match ServiceError::kind_of(&error) {
            ErrorKind::Invalid | ErrorKind::Conflict | ErrorKind::NotFound => Ok(render_with(
                StatusCode::BAD_REQUEST,
                &NewUserPage {
                    chrome: admin.chrome(Section::Users),
                    title: "New user",
                    user,
                    error: Some(format!("{error:#}")),
                },
            )),
            _ => Err(PortalError::from(error)),
        },
    }
}

//! `/users` and `/users/{id}`: Graph's user resource over the directory.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_directory::import::{Position, user_from_object};
use roster_directory::port::Lifecycle;
use roster_directory::{Directory, ObjectId, User};
use roster_service::access::Permission;
use roster_service::{access, directory};
use serde_json::{Map, Value, json};

use crate::ApiState;
use crate::auth::Caller;
use crate::body::GraphJson;
use crate::error::{ApiResult, GraphError};
use crate::odata::{self, Capabilities, Operator as O};
use crate::paging::{self, Origin, Page};

/// The properties a user list returns without `$select` (Graph's default set).
pub const DEFAULT_SELECT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];

const TEXT: &[O] = &[O::Eq, O::Ne, O::Not, O::Ge, O::Le, O::In, O::StartsWith];

/// Which properties `$filter` takes, with which operators (Graph's table for users).
pub const CAPABILITIES: Capabilities<'static> = &[
    ("id", &[O::Eq, O::Ne, O::Not, O::In]),
    ("userPrincipalName", &[O::Eq, O::Ne, O::Not, O::Ge, O::Le, O::In, O::StartsWith, O::EndsWith]),
    ("mail", &[O::Eq, O::Ne, O::Not, O::Ge, O::Le, O::In, O::StartsWith, O::EndsWith]),
    ("displayName", TEXT),
    ("mailNickname", TEXT),
    ("givenName", TEXT),
    ("surname", TEXT),
    ("jobTitle", TEXT),
    ("mobilePhone", TEXT),
    ("officeLocation", TEXT),
    ("preferredLanguage", TEXT),
    ("department", TEXT),
    ("companyName", TEXT),
    ("city", TEXT),
    ("country", TEXT),
    ("employeeId", TEXT),
    ("accountEnabled", &[O::Eq, O::Ne, O::Not, O::In]),
    ("businessPhones", &[O::Eq, O::Not, O::Any]),
];

/// A user's full Graph object.
pub fn object(user: &User) -> ApiResult<Map<String, Value>> {
    Ok(directory::user_object(user)?)
}

/// `GET /users`.
pub async fn list(State(state): State<ApiState>, caller: Caller, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    caller.check(Permission::ReadDirectory)?;
    let query = odata::parse_query(raw.as_deref().unwrap_or_default())?;
    if let Some(filter) = &query.filter {
        filter.check(CAPABILITIES, "User")?;
    }
    if !query.orderby.is_empty() {
        return Err(unsupported_orderby());
    }
    let top = query.page_size(100, 999)?;
    let options = odata::MatchOptions { case_insensitive: true };
    let (value, next) =
        paging::scan(&*state.stores.directory, paging::after_object(query.skiptoken.as_deref())?, top, |user: User| {
            if user.deleted_date_time.is_some() {
                return Ok(None);
            }
            let object = object(&user)?;
            let kept =
                query.filter.as_ref().is_none_or(|filter| filter.matches(&Value::Object(object.clone()), options));
            Ok(kept.then(|| paging::select(object, query.select.as_deref(), DEFAULT_SELECT)))
        })
        .await?;
    let count = if query.count && query.skiptoken.is_none() { Some(count(&state, &query).await?) } else { None };
    let origin = Origin { base: &state.base_url, path: "/users", query: raw.as_deref() };
    Ok(Page { context: "users", value, count, next }.into_json(&origin).into_response())
}

/// `@odata.count`: every user without a filter (from the store's counts), else the matches.
async fn count(state: &ApiState, query: &odata::Query) -> ApiResult<u64> {
    let Some(filter) = &query.filter else {
        let mut total = 0;
        directory::for_each_user(&state.stores, |user| {
            if user.deleted_date_time.is_none() {
                total += 1;
            }
            Ok(())
        })
        .await?;
        return Ok(total);
    };
    let options = odata::MatchOptions { case_insensitive: true };
    let mut total = 0;
    let mut failure = None;
    directory::for_each_user(&state.stores, |user| {
        if user.deleted_date_time.is_none() {
            match directory::user_object(user) {
                Ok(object) => {
                    if filter.matches(&Value::Object(object), options) {
                        total += 1;
                    }
                }
                Err(error) => failure = Some(error),
            }
        }
        Ok(())
    })
    .await?;
    match failure {
        Some(error) => Err(error.into()),
        None => Ok(total),
    }
}

pub(crate) fn unsupported_orderby() -> GraphError {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "Request_UnsupportedQuery",
        "$orderby is not supported yet on this collection: sort the results on your side",
    )
}

/// `GET /users/{id}`: by object id or userPrincipalName, as Graph allows.
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    caller.check(Permission::ReadDirectory)?;
    let query = odata::parse_query(raw.as_deref().unwrap_or_default())?;
    let user = find(&state, &id).await?;
    let mut object = object(&user)?;
    object.insert("@odata.context".to_owned(), json!(format!("{}/$metadata#users/$entity", state.base_url)));
    let mut shown = paging::select(object, query.select.as_deref(), &[]);
    if let Some(map) = shown.as_object_mut()
        && query.select.is_some()
    {
        map.insert("@odata.context".to_owned(), json!(format!("{}/$metadata#users/$entity", state.base_url)));
    }
    Ok(Json(shown).into_response())
}

/// A user by object id or UPN, not soft-deleted; 404 otherwise.
pub async fn find(state: &ApiState, id: &str) -> ApiResult<User> {
    let user = match ObjectId::parse(id) {
        Ok(object_id) => state.stores.directory.user(&object_id).await?,
        Err(_) => state.stores.directory.user_by_upn(id).await?,
    };
    user.filter(|user| user.deleted_date_time.is_none()).ok_or_else(|| GraphError::not_found(id))
}

/// Takes a write body apart: Graph annotations dropped, `passwordProfile.password` taken out, `id` refused.
fn writable(mut body: Map<String, Value>) -> ApiResult<(Map<String, Value>, Option<String>)> {
    if body.contains_key("id") {
        return Err(GraphError::bad_request("id is read-only: leave it out"));
    }
    body.retain(|name, _| !name.starts_with('@') && !name.contains("@odata"));
    let password = match body.remove("passwordProfile") {
        None | Some(Value::Null) => None,
        Some(Value::Object(profile)) => match profile.get("password") {
            Some(Value::String(password)) => Some(password.clone()),
            None | Some(Value::Null) => None,
            Some(_) => return Err(GraphError::bad_request("passwordProfile.password: expected a string")),
        },
        Some(_) => return Err(GraphError::bad_request("passwordProfile: expected an object with password")),
    };
    for read_only in ["deletedDateTime", "createdDateTime"] {
        if body.contains_key(read_only) {
            return Err(GraphError::bad_request(format!("{read_only} is read-only: leave it out")));
        }
    }
    Ok((body, password))
}

fn parse_user(object: &Map<String, Value>) -> ApiResult<User> {
    user_from_object(object, Position::User(0)).map_err(|error| {
        let text = error.to_string();
        GraphError::bad_request(text.strip_prefix("user 0: ").unwrap_or(&text).to_owned())
    })
}

async fn upn_taken(state: &ApiState, user: &User) -> ApiResult<()> {
    if let Some(other) = state.stores.directory.user_by_upn(user.user_principal_name().as_str()).await?
        && other.id() != user.id()
    {
        return Err(GraphError::bad_request(
            "Another object with the same value for property userPrincipalName already exists.",
        ));
    }
    Ok(())
}

/// `POST /users` → 201 with the user.
pub async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    GraphJson(body): GraphJson<Map<String, Value>>,
) -> ApiResult<Response> {
    caller.check(Permission::WriteDirectory)?;
    let (mut body, password) = writable(body)?;
    for required in ["displayName", "userPrincipalName"] {
        if !body.get(required).is_some_and(Value::is_string) {
            return Err(GraphError::bad_request(format!("Property '{required}' is required when creating a user.")));
        }
    }
    body.insert("id".to_owned(), json!(roster_directory::audit::new_id()));
    let mut user = parse_user(&body)?;
    if user.mail_nickname.is_none() {
        user.mail_nickname = Some(user.user_principal_name().local_part().to_owned());
    }
    upn_taken(&state, &user).await?;
    let actor = caller.0.actor();
    if let Some(password) = &password {
        // Check it before anything is written.
        access::hash_password(password)?;
    }
    state.stores.directory.import(Directory { users: vec![user.clone()], groups: Vec::new() }, &actor).await?;
    if let Some(password) = password {
        access::set_password(&state.stores, &actor, user.id().as_str(), &password).await?;
    }
    let mut object = object(&user)?;
    object.insert("@odata.context".to_owned(), json!(format!("{}/$metadata#users/$entity", state.base_url)));
    Ok((StatusCode::CREATED, Json(Value::Object(object))).into_response())
}

/// `PATCH /users/{id}` → 204: the given properties replaced (null clears one).
pub async fn update(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<Map<String, Value>>,
) -> ApiResult<StatusCode> {
    caller.check(Permission::WriteDirectory)?;
    let existing = find(&state, &id).await?;
    let (body, password) = writable(body)?;
    let mut object = object(&existing)?;
    for (name, value) in body {
        if value.is_null() {
            object.remove(&name);
        } else {
            object.insert(name, value);
        }
    }
    let user = parse_user(&object)?;
    upn_taken(&state, &user).await?;
    let actor = caller.0.actor();
    if let Some(password) = &password {
        access::hash_password(password)?;
    }
    state.stores.directory.import(Directory { users: vec![user.clone()], groups: Vec::new() }, &actor).await?;
    if let Some(password) = password {
        access::set_password(&state.stores, &actor, user.id().as_str(), &password).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /users/{id}` → 204: to the recycle bin (`deletedDateTime`), as Graph does.
pub async fn delete(State(state): State<ApiState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    caller.check(Permission::WriteDirectory)?;
    let user = find(&state, &id).await?;
    state.stores.directory.set_lifecycle(user.id(), Lifecycle::SoftDelete, &caller.0.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

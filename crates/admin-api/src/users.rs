//! `/users` and `/users/{id}`: Graph's user resource over the directory.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_directory::export::user_property;
use roster_directory::import::{Position, user_from_object};
use roster_directory::model::USER_ATTRIBUTES;
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
use crate::sorting;

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

/// What `$orderby` sorts users on.
pub const SORTABLE: &[&str] = &[
    "displayName",
    "userPrincipalName",
    "mail",
    "givenName",
    "surname",
    "jobTitle",
    "department",
    "employeeId",
    "companyName",
    "city",
    "country",
    "officeLocation",
    "accountEnabled",
    "id",
];

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
    sorting::check(&query.orderby, SORTABLE)?;
    let top = query.page_size(100, 999)?;
    let options = odata::MatchOptions { case_insensitive: true };
    let origin = Origin { base: &state.base_url, path: "/users", query: raw.as_deref() };
    if !query.orderby.is_empty() {
        let keep = |user: User| -> ApiResult<Option<Map<String, Value>>> {
            if user.deleted_date_time.is_some() {
                return Ok(None);
            }
            let object = object(&user)?;
            let kept =
                query.filter.as_ref().is_none_or(|filter| filter.matches(&Value::Object(object.clone()), options));
            Ok(kept.then_some(object))
        };
        let show = |object| paging::select(object, query.select.as_deref(), DEFAULT_SELECT);
        let (value, next) =
            sorting::page(&*state.stores.directory, &query.orderby, query.skiptoken.as_deref(), top, keep, show)
                .await?;
        let count = if query.count && query.skiptoken.is_none() { Some(count(&state, &query).await?) } else { None };
        return Ok(Page { context: "users", value, count, next }.into_json(&origin).into_response());
    }
    if let Some(keys) = query.filter.as_ref().and_then(lookup_keys) {
        let value = looked_up(&state, &keys, &query, options).await?;
        let count = query.count.then_some(value.len() as u64);
        return Ok(Page { context: "users", value, count, next: None }.into_json(&origin).into_response());
    }
    let shown = shown_properties(query.select.as_deref());
    let (value, next) =
        paging::scan(&*state.stores.directory, paging::after_object(query.skiptoken.as_deref())?, top, |user: User| {
            if user.deleted_date_time.is_some() {
                return Ok(None);
            }
            let Some(filter) = &query.filter else {
                // No filter to evaluate on the whole object: only the properties shown are made.
                return Ok(Some(shown_object(&user, &shown)?));
            };
            let object = object(&user)?;
            let kept = filter.matches(&Value::Object(object.clone()), options);
            Ok(kept.then(|| paging::select(object, query.select.as_deref(), DEFAULT_SELECT)))
        })
        .await?;
    let count = if query.count && query.skiptoken.is_none() { Some(count(&state, &query).await?) } else { None };
    Ok(Page { context: "users", value, count, next }.into_json(&origin).into_response())
}

/// The properties a page of users shows, in the order shown: `$select`'s (an attribute in its own case, as
/// `$select` is case-insensitive) or [`DEFAULT_SELECT`]; then `id`, which is always shown.
fn shown_properties(select: Option<&[String]>) -> Vec<String> {
    let mut names: Vec<String> = match select {
        Some(names) => names
            .iter()
            .map(|name| {
                let attribute = USER_ATTRIBUTES.iter().find(|attribute| attribute.eq_ignore_ascii_case(name));
                attribute.map_or_else(|| name.clone(), |attribute| (*attribute).to_owned())
            })
            .collect(),
        None => DEFAULT_SELECT.iter().map(|name| (*name).to_owned()).collect(),
    };
    if !names.iter().any(|name| name == "id") {
        names.push("id".to_owned());
    }
    names
}

/// A user's object with the properties `shown` ([`shown_properties`]), null where the user has no value: what
/// [`paging::select`] makes of the whole [`object`], made directly.
fn shown_object(user: &User, shown: &[String]) -> ApiResult<Value> {
    let mut object = Map::with_capacity(shown.len());
    for name in shown {
        if let Some(value) = user_property(user, name).map_err(anyhow::Error::from)? {
            object.insert(name.clone(), value);
            continue;
        }
        // An extension named in another case is shown in its own.
        let extension = (!USER_ATTRIBUTES.contains(&name.as_str()))
            .then(|| user.extensions().keys().find(|key| key.eq_ignore_ascii_case(name)))
            .flatten();
        match extension.and_then(|key| Some((key.clone(), user_property(user, key).ok().flatten()?))) {
            Some((key, value)) => object.insert(key, value),
            None => object.insert(name.clone(), Value::Null),
        };
    }
    Ok(Value::Object(object))
}

/// A user named by its id or its userPrincipalName: the keys the store looks users up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// `id eq ...`
    Id(String),
    /// `userPrincipalName eq '...'`
    Upn(String),
}

/// At most this many keys are looked up one by one (`id in (...)` with more is scanned).
const LOOKUPS: usize = 100;

/// The users a filter can match, when it names them by key: `id eq`, `userPrincipalName eq`, `in (...)` of either,
/// `and` with anything (the other side is checked on what is found), `or` of two such filters. `None` when the
/// filter can match a user it does not name (it is then answered by a scan).
pub fn lookup_keys(filter: &odata::Filter) -> Option<Vec<Key>> {
    use odata::{CompareOp, Filter, Literal};
    let key = |path: &odata::PropertyPath, literal: &Literal| match (path.segments.as_slice(), literal) {
        ([name], Literal::String(text)) if name == "userPrincipalName" => Some(Key::Upn(text.clone())),
        ([name], Literal::String(text)) if name == "id" => Some(Key::Id(text.clone())),
        ([name], Literal::Guid(bits)) if name == "id" => Some(Key::Id(ObjectId::from_u128(*bits).as_str().to_owned())),
        _ => None,
    };
    let keys = match filter {
        Filter::Compare { path, op: CompareOp::Eq, value } => Some(vec![key(path, value)?]),
        Filter::In { path, values } => values.iter().map(|value| key(path, value)).collect(),
        Filter::And(left, right) => match (lookup_keys(left), lookup_keys(right)) {
            (Some(left), Some(right)) => Some(if left.len() <= right.len() { left } else { right }),
            (Some(keys), None) | (None, Some(keys)) => Some(keys),
            (None, None) => None,
        },
        Filter::Or(left, right) => {
            let mut keys = lookup_keys(left)?;
            keys.extend(lookup_keys(right)?);
            Some(keys)
        }
        _ => None,
    }?;
    (keys.len() <= LOOKUPS).then_some(keys)
}

/// The users named by `keys` that the whole filter matches, in id order, each once.
async fn looked_up(
    state: &ApiState,
    keys: &[Key],
    query: &odata::Query,
    options: odata::MatchOptions,
) -> ApiResult<Vec<Value>> {
    let after = paging::after_object(query.skiptoken.as_deref())?;
    let mut found = std::collections::BTreeMap::new();
    for key in keys {
        let user = match key {
            Key::Id(id) => match ObjectId::parse(id) {
                Ok(id) => state.stores.directory.user(&id).await?,
                Err(_) => None,
            },
            Key::Upn(upn) => state.stores.directory.user_by_upn(upn).await?,
        };
        let Some(user) = user.filter(|user| user.deleted_date_time.is_none()) else { continue };
        if after.as_ref().is_some_and(|after| user.id() <= after) {
            continue;
        }
        let object = object(&user)?;
        if query.filter.as_ref().is_none_or(|filter| filter.matches(&Value::Object(object.clone()), options)) {
            found.insert(user.id().clone(), paging::select(object, query.select.as_deref(), DEFAULT_SELECT));
        }
    }
    Ok(found.into_values().collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(filter: &str) -> Option<Vec<Key>> {
        lookup_keys(&odata::Filter::parse(filter).unwrap())
    }

    /// Filters that name their users by key are looked up; any that could match another user is scanned.
    #[test]
    fn filters_by_key_are_looked_up() {
        let id = "ec2d0d8a-3c1f-4c32-9d1b-4e0a2f3b5c6d";
        let upn = |text: &str| Key::Upn(text.to_owned());
        let cases: &[(&str, Option<Vec<Key>>)] = &[
            ("userPrincipalName eq 'ada@contoso.com'", Some(vec![upn("ada@contoso.com")])),
            (&format!("id eq '{id}'"), Some(vec![Key::Id(id.to_owned())])),
            (&format!("id eq {id}"), Some(vec![Key::Id(id.to_owned())])),
            ("userPrincipalName in ('a@x.com', 'b@x.com')", Some(vec![upn("a@x.com"), upn("b@x.com")])),
            ("userPrincipalName eq 'a@x.com' and accountEnabled eq true", Some(vec![upn("a@x.com")])),
            ("accountEnabled eq true and userPrincipalName eq 'a@x.com'", Some(vec![upn("a@x.com")])),
            (
                "userPrincipalName eq 'a@x.com' or userPrincipalName eq 'b@x.com'",
                Some(vec![upn("a@x.com"), upn("b@x.com")]),
            ),
            ("userPrincipalName eq 'a@x.com' or accountEnabled eq true", None),
            ("userPrincipalName ne 'a@x.com'", None),
            ("not(userPrincipalName eq 'a@x.com')", None),
            ("startswith(userPrincipalName, 'a')", None),
            ("mail eq 'a@x.com'", None),
            ("displayName eq 'Ada'", None),
        ];
        for (filter, expected) in cases {
            assert_eq!(&keys(filter), expected, "{filter}");
        }
        let many: Vec<String> = (0..=LOOKUPS).map(|n| format!("'u{n}@x.com'")).collect();
        assert_eq!(keys(&format!("userPrincipalName in ({})", many.join(","))), None, "too many to look up");
    }

    /// A page without a filter makes only the properties it shows: the same object as the whole user's, selected.
    #[test]
    fn shown_objects_are_the_selected_whole_objects() {
        use roster_directory::{ExtensionValue, UserPrincipalName};
        let mut user = User::new(
            ObjectId::parse("ec2d0d8a-3c1f-4c32-9d1b-4e0a2f3b5c6d").unwrap(),
            UserPrincipalName::parse("ada@contoso.example").unwrap(),
        );
        user.display_name = Some("Ada".into());
        user.business_phones = vec!["+1 555 0100".into()];
        user.insert_extension("costCenter", ExtensionValue::String("42".into())).unwrap();
        let selects: &[Option<&[&str]>] = &[
            None,
            Some(&["displayName"]),
            Some(&["DISPLAYNAME", "mail", "id"]),
            Some(&["costcenter", "businessPhones", "nothing"]),
            Some(&["accountEnabled", "costCenter", "userPrincipalName"]),
        ];
        for select in selects {
            let select: Option<Vec<String>> = select.map(|names| names.iter().map(|name| (*name).to_owned()).collect());
            let whole = paging::select(object(&user).unwrap(), select.as_deref(), DEFAULT_SELECT);
            let shown = shown_object(&user, &shown_properties(select.as_deref())).unwrap();
            assert_eq!(shown, whole, "{select:?}");
            let order = |value: &Value| value.as_object().map(|map| map.keys().cloned().collect::<Vec<_>>());
            assert_eq!(order(&shown), order(&whole), "{select:?}");
        }
    }
}

//! `/groups`, `/groups/{id}` and their members (`/members`, `/members/$ref`, `/members/{id}/$ref`).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_directory::import::{Position, group_from_object};
use roster_directory::{Directory, Group, ObjectId};
use roster_service::access::Permission;
use roster_service::directory;
use serde_json::{Map, Value, json};

use crate::ApiState;
use crate::auth::Caller;
use crate::body::GraphJson;
use crate::error::{ApiResult, GraphError};
use crate::odata::{self, Capabilities, Operator as O};
use crate::paging::{self, Origin, Page};

const TEXT: &[O] = &[O::Eq, O::Ne, O::Not, O::Ge, O::Le, O::In, O::StartsWith];

/// Which properties `$filter` takes, with which operators (Graph's table for groups).
pub const CAPABILITIES: Capabilities<'static> = &[
    ("id", &[O::Eq, O::Ne, O::Not, O::In]),
    ("displayName", TEXT),
    ("description", &[O::Eq, O::Ne, O::Not, O::Ge, O::Le, O::StartsWith]),
    ("mailNickname", TEXT),
    ("securityEnabled", &[O::Eq, O::Ne, O::Not, O::In]),
    ("mailEnabled", &[O::Eq, O::Ne, O::Not, O::In]),
];

/// A group's Graph object, without its members (Graph serves them at `/members`).
pub fn object(group: &Group) -> Map<String, Value> {
    let mut object = directory::group_object(group);
    object.remove("members");
    object.entry("securityEnabled").or_insert(json!(true));
    object.entry("mailEnabled").or_insert(json!(false));
    object.entry("groupTypes").or_insert(json!([]));
    object
}

/// `GET /groups`.
pub async fn list(State(state): State<ApiState>, caller: Caller, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    caller.check(Permission::ReadDirectory)?;
    let query = odata::parse_query(raw.as_deref().unwrap_or_default())?;
    if let Some(filter) = &query.filter {
        filter.check(CAPABILITIES, "Group")?;
    }
    crate::sorting::check(&query.orderby, &["displayName", "mailNickname", "id"])?;
    let top = query.page_size(100, 999)?;
    let options = odata::MatchOptions { case_insensitive: true };
    let store = &*state.stores.directory;
    let (value, next) = if query.orderby.is_empty() {
        paging::scan(store, paging::after_object(query.skiptoken.as_deref())?, top, |group: Group| {
            let object = object(&group);
            let kept =
                query.filter.as_ref().is_none_or(|filter| filter.matches(&Value::Object(object.clone()), options));
            Ok(kept.then(|| paging::select(object, query.select.as_deref(), &[])))
        })
        .await?
    } else {
        let keep = |group: Group| -> ApiResult<Option<Map<String, Value>>> {
            let object = object(&group);
            let kept =
                query.filter.as_ref().is_none_or(|filter| filter.matches(&Value::Object(object.clone()), options));
            Ok(kept.then_some(object))
        };
        let show = |object| paging::select(object, query.select.as_deref(), &[]);
        crate::sorting::page(store, &query.orderby, query.skiptoken.as_deref(), top, keep, show).await?
    };
    let count =
        if query.count && query.skiptoken.is_none() { Some(state.stores.directory.counts().await?.1) } else { None };
    let origin = Origin { base: &state.base_url, path: "/groups", query: raw.as_deref() };
    Ok(Page { context: "groups", value, count, next }.into_json(&origin).into_response())
}

/// A group by id; 404 otherwise.
pub async fn find(state: &ApiState, id: &str) -> ApiResult<Group> {
    let object_id = ObjectId::parse(id).map_err(|_| GraphError::not_found(id))?;
    state.stores.directory.group(&object_id).await?.ok_or_else(|| GraphError::not_found(id))
}

/// `GET /groups/{id}`, with the properties `$select` names (and `id`), as Graph's.
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    caller.check(Permission::ReadDirectory)?;
    let query = odata::parse_query(raw.as_deref().unwrap_or_default())?;
    let group = find(&state, &id).await?;
    let mut object = object(&group);
    object.insert("@odata.context".to_owned(), json!(format!("{}/$metadata#groups/$entity", state.base_url)));
    Ok(Json(paging::select(object, query.select.as_deref(), &[])))
}

/// The ids of `members@odata.bind` (`https://.../directoryObjects/{id}` or a bare id), at most 20 as in Graph.
fn bound_members(body: &mut Map<String, Value>) -> ApiResult<Vec<ObjectId>> {
    let Some(bind) = body.remove("members@odata.bind") else { return Ok(Vec::new()) };
    let links =
        bind.as_array().ok_or_else(|| GraphError::bad_request("members@odata.bind: expected a list of URLs"))?;
    if links.len() > 20 {
        return Err(GraphError::bad_request("members@odata.bind: at most 20 members per request"));
    }
    links
        .iter()
        .map(|link| {
            link.as_str()
                .ok_or_else(|| GraphError::bad_request("members@odata.bind: expected URLs"))
                .and_then(reference)
        })
        .collect()
}

/// The object id a reference names: `.../directoryObjects/{id}`, `.../users/{id}`, `.../groups/{id}` or a bare id.
fn reference(link: &str) -> ApiResult<ObjectId> {
    let id = link.trim_end_matches('/').rsplit('/').next().unwrap_or(link);
    ObjectId::parse(id).map_err(|_| GraphError::bad_request(format!("{link:?} does not name a directory object")))
}

fn parse_group(object: &Map<String, Value>) -> ApiResult<Group> {
    group_from_object(object, Position::Group(0)).map_err(|error| {
        let text = error.to_string();
        GraphError::bad_request(text.strip_prefix("group 0: ").unwrap_or(&text).to_owned())
    })
}

/// Group attributes roster keeps; the others Graph has are accepted and not stored.
fn keep_stored(body: &mut Map<String, Value>) {
    body.retain(|name, _| matches!(name.as_str(), "displayName" | "mailNickname" | "description" | "securityEnabled"));
}

async fn check_members_exist(state: &ApiState, members: &[ObjectId]) -> ApiResult<()> {
    for member in members {
        if state.stores.directory.user(member).await?.is_none() && state.stores.directory.group(member).await?.is_none()
        {
            return Err(GraphError::not_found(member.as_str()));
        }
    }
    Ok(())
}

/// `POST /groups` → 201, with `members@odata.bind` taken at once.
pub async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    GraphJson(mut body): GraphJson<Map<String, Value>>,
) -> ApiResult<Response> {
    caller.check(Permission::WriteDirectory)?;
    if body.contains_key("id") {
        return Err(GraphError::bad_request("id is read-only: leave it out"));
    }
    let members = bound_members(&mut body)?;
    keep_stored(&mut body);
    if !body.get("displayName").is_some_and(Value::is_string) {
        return Err(GraphError::bad_request("Property 'displayName' is required when creating a group."));
    }
    body.insert("id".to_owned(), json!(roster_directory::audit::new_id()));
    let mut group = parse_group(&body)?;
    check_members_exist(&state, &members).await?;
    group.members = members;
    let actor = caller.0.actor();
    state.stores.directory.import(Directory { users: Vec::new(), groups: vec![group.clone()] }, &actor).await?;
    let mut object = object(&group);
    object.insert("@odata.context".to_owned(), json!(format!("{}/$metadata#groups/$entity", state.base_url)));
    Ok((StatusCode::CREATED, Json(Value::Object(object))).into_response())
}

/// `PATCH /groups/{id}` → 204: attributes replaced, `members@odata.bind` added (all or nothing).
pub async fn update(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    GraphJson(mut body): GraphJson<Map<String, Value>>,
) -> ApiResult<StatusCode> {
    caller.check(Permission::WriteDirectory)?;
    let existing = find(&state, &id).await?;
    if body.contains_key("id") {
        return Err(GraphError::bad_request("id is read-only: leave it out"));
    }
    let added = bound_members(&mut body)?;
    keep_stored(&mut body);
    let mut object = directory::group_object(&existing);
    for (name, value) in body {
        if value.is_null() {
            object.remove(&name);
        } else {
            object.insert(name, value);
        }
    }
    let mut group = parse_group(&object)?;
    check_members_exist(&state, &added).await?;
    for member in added {
        if group.members.contains(&member) {
            return Err(already_member());
        }
        group.members.push(member);
    }
    state.stores.directory.import(Directory { users: Vec::new(), groups: vec![group] }, &caller.0.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn already_member() -> GraphError {
    GraphError::bad_request(
        "One or more added object references already exist for the following modified properties: 'members'.",
    )
}

/// `DELETE /groups/{id}` → 204.
pub async fn delete(State(state): State<ApiState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    caller.check(Permission::WriteDirectory)?;
    let group = find(&state, &id).await?;
    state.stores.directory.delete_group(group.id(), &caller.0.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /groups/{id}/members`: the direct members, users and groups, with `@odata.type`.
pub async fn members(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    caller.check(Permission::ReadDirectory)?;
    let query = odata::parse_query(raw.as_deref().unwrap_or_default())?;
    crate::sorting::check(&query.orderby, &[])?;
    let group = find(&state, &id).await?;
    let top = query.page_size(100, 999)?;
    let start = match paging::after_id(query.skiptoken.as_deref())? {
        Some(after) => {
            group.members.iter().position(|member| member.as_str() == after).map_or(group.members.len(), |at| at + 1)
        }
        None => 0,
    };
    let mut value = Vec::new();
    for member in group.members.iter().skip(start).take(top) {
        if let Some(user) = state.stores.directory.user(member).await? {
            let mut object = crate::users::object(&user)?;
            object.insert("@odata.type".to_owned(), json!("#microsoft.graph.user"));
            value.push(paging::select(object, query.select.as_deref(), &[]));
        } else if let Some(nested) = state.stores.directory.group(member).await? {
            let mut object = object(&nested);
            object.insert("@odata.type".to_owned(), json!("#microsoft.graph.group"));
            value.push(paging::select(object, query.select.as_deref(), &[]));
        }
    }
    let next = (start + top < group.members.len())
        .then(|| group.members.get(start + top - 1).map(|last| json!({"after": last.as_str()})))
        .flatten();
    let count = (query.count && query.skiptoken.is_none()).then_some(group.members.len() as u64);
    let path = format!("/groups/{id}/members");
    let origin = Origin { base: &state.base_url, path: &path, query: raw.as_deref() };
    Ok(Page { context: "directoryObjects", value, count, next }.into_json(&origin).into_response())
}

/// The body of `POST .../members/$ref`.
#[derive(Debug, serde::Deserialize)]
pub struct Reference {
    /// `https://.../directoryObjects/{id}`.
    #[serde(rename = "@odata.id")]
    pub odata_id: String,
}

/// `POST /groups/{id}/members/$ref` → 204; 400 when already a member, 404 when the object does not exist.
pub async fn add_member(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<Reference>,
) -> ApiResult<StatusCode> {
    caller.check(Permission::WriteDirectory)?;
    let group = find(&state, &id).await?;
    let member = reference(&body.odata_id)?;
    check_members_exist(&state, std::slice::from_ref(&member)).await?;
    if group.members.contains(&member) {
        return Err(already_member());
    }
    state.stores.directory.add_member(group.id(), &member, &caller.0.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /groups/{id}/members/{member}/$ref` → 204; 404 when it is not a member.
pub async fn remove_member(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, member)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.check(Permission::WriteDirectory)?;
    let group = find(&state, &id).await?;
    let member_id = ObjectId::parse(&member).map_err(|_| GraphError::not_found(&member))?;
    if !group.members.contains(&member_id) {
        return Err(GraphError::not_found(&member));
    }
    state.stores.directory.remove_member(group.id(), &member_id, &caller.0.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

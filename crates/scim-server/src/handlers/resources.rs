//! `/Users`, `/Groups` and their `/{id}` forms.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roster_provider::port::{ResourceKind, StoredResource};
use roster_provider::render::{etag, into_representation};
use roster_provider::service::Projection;
use roster_scim_proto::projection::Projection as Selector;
use roster_scim_proto::query::{ListQuery, list_response};
use serde_json::Value;

use super::scim_json;
use crate::ServerState;
use crate::error::ApiError;
use crate::extract::{Conditions, QueryPairs, ScimBody, Tenant};

type Answer = Result<Response, ApiError>;

macro_rules! kind_handlers {
    ($kind:expr, $list:ident, $create:ident, $get:ident, $replace:ident, $patch:ident, $delete:ident) => {
        /// GET on the collection.
        pub async fn $list(state: State<ServerState>, tenant: Tenant, query: QueryPairs) -> Answer {
            list(&state, &tenant, $kind, &query).await
        }
        /// POST on the collection.
        pub async fn $create(state: State<ServerState>, tenant: Tenant, query: QueryPairs, body: ScimBody) -> Answer {
            create(&state, &tenant, $kind, &query, &body.0).await
        }
        /// GET on a resource.
        pub async fn $get(
            state: State<ServerState>,
            tenant: Tenant,
            Path((_, id)): Path<(String, String)>,
            query: QueryPairs,
            conditions: Conditions,
        ) -> Answer {
            get(&state, &tenant, $kind, &id, &query, &conditions).await
        }
        /// PUT on a resource.
        pub async fn $replace(
            state: State<ServerState>,
            tenant: Tenant,
            Path((_, id)): Path<(String, String)>,
            query: QueryPairs,
            conditions: Conditions,
            body: ScimBody,
        ) -> Answer {
            replace(&state, &tenant, $kind, &id, &query, conditions, &body.0).await
        }
        /// PATCH on a resource.
        pub async fn $patch(
            state: State<ServerState>,
            tenant: Tenant,
            Path((_, id)): Path<(String, String)>,
            query: QueryPairs,
            conditions: Conditions,
            body: ScimBody,
        ) -> Answer {
            patch(&state, &tenant, $kind, &id, &query, conditions, &body.0).await
        }
        /// DELETE on a resource.
        pub async fn $delete(
            state: State<ServerState>,
            tenant: Tenant,
            Path((_, id)): Path<(String, String)>,
            conditions: Conditions,
        ) -> Answer {
            state.provider.delete(&tenant.enterprise, $kind, &id, conditions.0).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
    };
}

kind_handlers!(ResourceKind::User, list_users, create_user, get_user, replace_user, patch_user, delete_user);
kind_handlers!(ResourceKind::Group, list_groups, create_group, get_group, replace_group, patch_group, delete_group);

/// The projection asked for by `attributes` and `excludedAttributes` in the query string.
fn projection_of(query: &QueryPairs) -> Result<Projection, ApiError> {
    let query = ListQuery::from_params(query.0.iter().map(|(k, v)| (k, v)))?;
    Ok(Projection { attributes: query.attributes, excluded: query.excluded_attributes })
}

/// The projected representation of a resource; `selector` is the request's projection, resolved once.
pub fn represent(kind: ResourceKind, stored: StoredResource, tenant: &Tenant, selector: &Selector) -> Value {
    Value::Object(selector.apply_owned(into_representation(kind, stored, &tenant.base_url)))
}

/// The request's projection resolved against the tenant's resource type.
pub fn selector(kind: ResourceKind, tenant: &Tenant, projection: &Projection) -> Selector {
    Selector::new(kind.resource_type_in(tenant.enterprise.profile), &projection.attributes, &projection.excluded)
}

fn single(
    status: StatusCode,
    kind: ResourceKind,
    stored: StoredResource,
    tenant: &Tenant,
    projection: &Projection,
) -> Response {
    let tag = etag(stored.version);
    let location = format!("{}/{}/{}", tenant.base_url, kind.endpoint(), stored.id);
    let body = represent(kind, stored, tenant, &selector(kind, tenant, projection));
    let mut response = scim_json(status, &body);
    if let Ok(value) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    if status == StatusCode::CREATED
        && let Ok(value) = HeaderValue::from_str(&location)
    {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Answers a list query, shared with `/.search`.
pub async fn answer_list(state: &ServerState, tenant: &Tenant, kind: ResourceKind, query: &ListQuery) -> Answer {
    let page = state.provider.list(&tenant.enterprise, kind, query).await?;
    let projection = Projection { attributes: query.attributes.clone(), excluded: query.excluded_attributes.clone() };
    let chosen = selector(kind, tenant, &projection);
    let resources: Vec<Value> =
        page.resources.into_iter().map(|stored| represent(kind, stored, tenant, &chosen)).collect();
    let body = list_response(page.total_results, query.start_index.max(1), resources);
    Ok(scim_json(StatusCode::OK, &body))
}

async fn list(state: &ServerState, tenant: &Tenant, kind: ResourceKind, query: &QueryPairs) -> Answer {
    if let Some((_, filter)) = query.0.iter().find(|(key, _)| key.eq_ignore_ascii_case("filter"))
        && filter.len() > state.provider.limits().max_filter_len
    {
        return Err(roster_scim_proto::ScimError::invalid_filter(format!(
            "the filter is longer than the limit of {} bytes",
            state.provider.limits().max_filter_len
        ))
        .into());
    }
    let query = ListQuery::from_params(query.0.iter().map(|(k, v)| (k, v)))?;
    answer_list(state, tenant, kind, &query).await
}

async fn create(state: &ServerState, tenant: &Tenant, kind: ResourceKind, query: &QueryPairs, body: &Value) -> Answer {
    let projection = projection_of(query)?;
    let stored = state.provider.create(&tenant.enterprise, kind, body, projection.relations(kind)).await?;
    Ok(single(StatusCode::CREATED, kind, stored, tenant, &projection))
}

async fn get(
    state: &ServerState,
    tenant: &Tenant,
    kind: ResourceKind,
    id: &str,
    query: &QueryPairs,
    conditions: &Conditions,
) -> Answer {
    let projection = projection_of(query)?;
    let stored = state.provider.get(&tenant.enterprise, kind, id, projection.relations(kind)).await?;
    if conditions.0.not_modified(stored.version) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(value) = HeaderValue::from_str(&etag(stored.version)) {
            response.headers_mut().insert(header::ETAG, value);
        }
        return Ok(response);
    }
    Ok(single(StatusCode::OK, kind, stored, tenant, &projection))
}

async fn replace(
    state: &ServerState,
    tenant: &Tenant,
    kind: ResourceKind,
    id: &str,
    query: &QueryPairs,
    conditions: Conditions,
    body: &Value,
) -> Answer {
    let projection = projection_of(query)?;
    let stored =
        state.provider.replace(&tenant.enterprise, kind, id, body, conditions.0, projection.relations(kind)).await?;
    Ok(single(StatusCode::OK, kind, stored, tenant, &projection))
}

/// PATCH answers 200 with the resource, except for groups asked without `attributes`/`excludedAttributes`: those
/// answer 204, as Entra expects, so that adding one member to a large group never renders all of its members.
async fn patch(
    state: &ServerState,
    tenant: &Tenant,
    kind: ResourceKind,
    id: &str,
    query: &QueryPairs,
    conditions: Conditions,
    body: &Value,
) -> Answer {
    let projection = projection_of(query)?;
    let quiet = kind == ResourceKind::Group && projection.attributes.is_empty() && projection.excluded.is_empty();
    let relations = if quiet { Default::default() } else { projection.relations(kind) };
    let stored = state.provider.patch(&tenant.enterprise, kind, id, body, conditions.0, relations).await?;
    if quiet {
        let mut response = StatusCode::NO_CONTENT.into_response();
        if let Ok(value) = HeaderValue::from_str(&etag(stored.version)) {
            response.headers_mut().insert(header::ETAG, value);
        }
        return Ok(response);
    }
    Ok(single(StatusCode::OK, kind, stored, tenant, &projection))
}

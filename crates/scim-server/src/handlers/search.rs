//! `POST /.search` on a collection and at the enterprise root (RFC 7644 §3.4.3).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use roster_provider::port::ResourceKind;
use roster_scim_proto::query::{ListQuery, list_response};
use serde_json::Value;

use super::resources::{answer_list, represent, selector};
use super::scim_json;
use crate::ServerState;
use crate::error::ApiError;
use crate::extract::{ScimBody, Tenant};
use roster_provider::service::Projection;

/// `POST /Users/.search`.
pub async fn search_users(state: State<ServerState>, tenant: Tenant, body: ScimBody) -> Result<Response, ApiError> {
    let query = ListQuery::from_search_request(&body.0)?;
    answer_list(&state, &tenant, ResourceKind::User, &query).await
}

/// `POST /Groups/.search`.
pub async fn search_groups(state: State<ServerState>, tenant: Tenant, body: ScimBody) -> Result<Response, ApiError> {
    let query = ListQuery::from_search_request(&body.0)?;
    answer_list(&state, &tenant, ResourceKind::Group, &query).await
}

/// `POST /.search`: users, then groups, paged as one list. A filter that names attributes one type lacks
/// selects nothing of that type; a filter invalid for both types is refused.
pub async fn search_all(state: State<ServerState>, tenant: Tenant, body: ScimBody) -> Result<Response, ApiError> {
    let query = ListQuery::from_search_request(&body.0)?;
    let kinds = [ResourceKind::User, ResourceKind::Group];
    let mut applicable = Vec::new();
    let mut first_error = None;
    for kind in kinds {
        match &query.filter {
            Some(filter) => match filter.check(kind.resource_type_in(tenant.enterprise.profile)) {
                Ok(()) => applicable.push(kind),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            },
            None => applicable.push(kind),
        }
    }
    if applicable.is_empty() {
        return Err(first_error
            .unwrap_or_else(|| roster_scim_proto::ScimError::invalid_filter("invalid filter"))
            .into());
    }
    let projection = Projection { attributes: query.attributes.clone(), excluded: query.excluded_attributes.clone() };
    let start_index = query.start_index.max(1);
    let limits = state.provider.limits();
    let mut remaining = query.count.unwrap_or(limits.default_page_size).min(limits.max_page_size);
    // The position of the first wanted result, counted from the start of the concatenated list.
    let mut skip = start_index - 1;
    let mut total = 0;
    let mut resources: Vec<Value> = Vec::new();
    for kind in applicable {
        let mut part = query.clone();
        part.start_index = skip + 1;
        part.count = Some(remaining);
        let page = state.provider.list(&tenant.enterprise, kind, &part).await?;
        total += page.total_results;
        skip = skip.saturating_sub(page.total_results);
        remaining -= page.resources.len().min(remaining);
        let chosen = selector(kind, &tenant, &projection);
        resources.extend(page.resources.into_iter().map(|stored| represent(kind, stored, &tenant, &chosen)));
    }
    Ok(scim_json(StatusCode::OK, &list_response(total, start_index, resources)))
}

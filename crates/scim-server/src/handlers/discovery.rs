//! `/ServiceProviderConfig`, `/Schemas`, `/ResourceTypes` (RFC 7644 §4).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use roster_provider::emu;
use roster_provider::port::ResourceKind;
use roster_provider::tenant::Profile;
use roster_scim_proto::ScimError;
use roster_scim_proto::discovery::{ServiceProviderOptions, service_provider_config as config_json};
use roster_scim_proto::query::list_response;
use serde_json::Value;

use super::scim_json;
use crate::ServerState;
use crate::error::ApiError;
use crate::extract::Tenant;

/// `GET /ServiceProviderConfig`.
pub async fn service_provider_config(state: State<ServerState>, tenant: Tenant) -> Result<Response, ApiError> {
    let options = ServiceProviderOptions {
        max_results: state.provider.limits().max_page_size,
        max_payload_bytes: state.max_body_bytes,
        etag: true,
        documentation_uri: None,
    };
    let body = config_json(&tenant.base_url, &options);
    Ok(scim_json(StatusCode::OK, &body))
}

/// The schemas the tenant's profile serves.
fn schemas_of(tenant: &Tenant) -> &'static [&'static roster_scim_proto::schema::Schema] {
    match tenant.enterprise.profile {
        Profile::GithubEmu => emu::SCHEMAS,
        Profile::Scim => emu::RFC_SCHEMAS,
    }
}

fn schema_json(tenant: &Tenant, schema: &roster_scim_proto::schema::Schema) -> Value {
    schema.to_json(&format!("{}/Schemas/{}", tenant.base_url, schema.id))
}

fn resource_type_json(tenant: &Tenant, kind: ResourceKind) -> Value {
    let rt = kind.resource_type_in(tenant.enterprise.profile);
    rt.to_json(&format!("{}/ResourceTypes/{}", tenant.base_url, rt.id))
}

/// `GET /Schemas`.
pub async fn schemas(tenant: Tenant) -> Result<Response, ApiError> {
    let all: Vec<Value> = schemas_of(&tenant).iter().map(|schema| schema_json(&tenant, schema)).collect();
    Ok(scim_json(StatusCode::OK, &list_response(all.len(), 1, all)))
}

/// `GET /Schemas/{id}`.
pub async fn schema(tenant: Tenant, Path((_, id)): Path<(String, String)>) -> Result<Response, ApiError> {
    let schema = schemas_of(&tenant)
        .iter()
        .find(|schema| schema.id.eq_ignore_ascii_case(&id))
        .ok_or_else(|| ScimError::not_found(format!("schema {id:?} not found")))?;
    Ok(scim_json(StatusCode::OK, &schema_json(&tenant, schema)))
}

/// `GET /ResourceTypes`.
pub async fn resource_types(tenant: Tenant) -> Result<Response, ApiError> {
    let all: Vec<Value> =
        [ResourceKind::User, ResourceKind::Group].into_iter().map(|kind| resource_type_json(&tenant, kind)).collect();
    Ok(scim_json(StatusCode::OK, &list_response(all.len(), 1, all)))
}

/// `GET /ResourceTypes/{id}`.
pub async fn resource_type(tenant: Tenant, Path((_, id)): Path<(String, String)>) -> Result<Response, ApiError> {
    let kind = [ResourceKind::User, ResourceKind::Group]
        .into_iter()
        .find(|kind| kind.as_str().eq_ignore_ascii_case(&id))
        .ok_or_else(|| ScimError::not_found(format!("resource type {id:?} not found")))?;
    Ok(scim_json(StatusCode::OK, &resource_type_json(&tenant, kind)))
}

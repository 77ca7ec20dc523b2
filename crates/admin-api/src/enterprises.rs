//! `/roster/enterprises`: roster's own service provider's enterprises and their SCIM tokens (what Graph lacks).
//! A token's secret is in the response of its creation only; lists never show it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_service::access::Permission;
use roster_service::admin;
use serde_json::{Value, json};

use crate::ApiState;
use crate::auth::Caller;
use crate::body::GraphJson;
use crate::error::ApiResult;

fn enterprise_object(state: &ApiState, enterprise: &roster_service::admin::Enterprise) -> Value {
    let origin = state.base_url.trim_end_matches("/api/v1.0");
    json!({
        "id": enterprise.slug.as_str(),
        "slug": enterprise.slug.as_str(),
        "shortcode": enterprise.shortcode.as_str(),
        "profile": enterprise.profile.as_str(),
        "scimBaseUrl": format!("{origin}/scim/v2/enterprises/{}", enterprise.slug.as_str()),
    })
}

/// `GET /roster/enterprises`.
pub async fn list(State(state): State<ApiState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.check(Permission::ManageEnterprises)?;
    let value: Vec<Value> = admin::enterprises(&state.stores)
        .await?
        .iter()
        .map(|enterprise| enterprise_object(&state, enterprise))
        .collect();
    Ok(Json(json!({"value": value})))
}

/// The body of a new enterprise.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEnterprise {
    /// Used in `/scim/v2/enterprises/{slug}`.
    pub slug: String,
    /// Appended to every login.
    pub shortcode: String,
    /// `github-emu` (default) or `scim`.
    #[serde(default)]
    pub profile: Option<String>,
}

/// `POST /roster/enterprises` → 201.
pub async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    GraphJson(body): GraphJson<NewEnterprise>,
) -> ApiResult<Response> {
    caller.check(Permission::ManageEnterprises)?;
    let profile = roster_service::admin::Profile::parse(body.profile.as_deref().unwrap_or("github-emu"))
        .map_err(|error| crate::error::GraphError::bad_request(format!("profile: {error}")))?;
    let enterprise =
        admin::create_enterprise_with_profile(&state.stores, &caller.0.actor(), &body.slug, &body.shortcode, profile)
            .await?;
    Ok((StatusCode::CREATED, Json(enterprise_object(&state, &enterprise))).into_response())
}

/// `GET /roster/enterprises/{slug}`.
pub async fn get(State(state): State<ApiState>, caller: Caller, Path(slug): Path<String>) -> ApiResult<Json<Value>> {
    caller.check(Permission::ManageEnterprises)?;
    let enterprise = admin::enterprise(&state.stores, &slug).await?;
    Ok(Json(enterprise_object(&state, &enterprise)))
}

/// `GET /roster/enterprises/{slug}/tokens`: never the secrets.
pub async fn tokens(State(state): State<ApiState>, caller: Caller, Path(slug): Path<String>) -> ApiResult<Json<Value>> {
    caller.check(Permission::ManageEnterprises)?;
    let value: Vec<Value> = admin::tokens(&state.stores, &slug)
        .await?
        .iter()
        .map(|token| {
            json!({
                "id": token.id.to_string(),
                "name": token.name,
                "scopes": token.scopes.iter().map(|scope| scope.as_str()).collect::<Vec<_>>(),
                "revoked": token.is_revoked(),
            })
        })
        .collect();
    Ok(Json(json!({"value": value})))
}

/// The body of a new token.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// A name to recognise it by.
    pub name: String,
    /// `scim:enterprise` (default), `admin:enterprise`, `read:enterprise`.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// `POST /roster/enterprises/{slug}/tokens` → 201 with the secret, shown this once.
pub async fn create_token(
    State(state): State<ApiState>,
    caller: Caller,
    Path(slug): Path<String>,
    GraphJson(body): GraphJson<NewToken>,
) -> ApiResult<Response> {
    caller.check(Permission::ManageEnterprises)?;
    let issued = admin::issue(&state.stores, &caller.0.actor(), &slug, &body.name, &body.scopes).await?;
    let body = json!({
        "id": issued.id.to_string(),
        "name": body.name,
        "token": issued.secret,
    });
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `DELETE /roster/enterprises/{slug}/tokens/{id}` → 204.
pub async fn revoke_token(
    State(state): State<ApiState>,
    caller: Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.check(Permission::ManageEnterprises)?;
    let token_id: i64 = id.parse().map_err(|_| crate::error::GraphError::not_found(&id))?;
    if !admin::tokens(&state.stores, &slug).await?.iter().any(|token| token.id == token_id && !token.is_revoked()) {
        return Err(crate::error::GraphError::not_found(&id));
    }
    admin::revoke_token(&state.stores, &caller.0.actor(), &slug, token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Who calls: an `Authorization: Bearer` admin API token, as a [`Principal`] with its roles. (The portal's
//! session cookie joins this with the portal.)

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use roster_service::access::{self, Permission, Principal};
use time::OffsetDateTime;

use crate::ApiState;
use crate::error::GraphError;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// `Ok` when the caller's roles allow `permission`, else 403 in Graph's shape.
    pub fn check(&self, permission: Permission<'_>) -> Result<(), GraphError> {
        self.0.check(permission).map_err(GraphError::from)
    }
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = GraphError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Caller, GraphError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| GraphError::unauthenticated("Access token is empty: send Authorization: Bearer TOKEN"))?;
        let text = header.to_str().map_err(|_| GraphError::unauthenticated("The Authorization header is not text"))?;
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .ok_or_else(|| GraphError::unauthenticated("The Authorization header is not a Bearer token"))?;
        let principal = access::authenticate_token(&state.stores, token.trim(), OffsetDateTime::now_utc())
            .await?
            .ok_or_else(|| GraphError::unauthenticated("The access token is invalid, expired or revoked"))?;
        Ok(Caller(principal))
    }
}

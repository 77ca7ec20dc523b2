//! The one mapping from errors to SCIM answers.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roster_scim_proto::ScimError;

/// The media type of every answer.
pub const SCIM_JSON: &str = "application/scim+json";

/// An error answered as a SCIM error body.
#[derive(Debug)]
pub struct ApiError(pub ScimError);

impl From<ScimError> for ApiError {
    fn from(error: ScimError) -> Self {
        Self(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = self.0;
        if error.status >= 500 {
            tracing::error!(status = error.status, detail = %error.detail, "request failed");
        }
        let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&error.to_json()).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        if error.status == 401 {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"roster\""));
        }
        response
    }
}

/// The answer for a method a path does not take.
pub async fn method_not_allowed(method: Method) -> ApiError {
    ApiError(ScimError::status(405, format!("method {method} is not allowed on this endpoint")))
}

/// The answer for an unknown path.
pub async fn not_found_fallback() -> ApiError {
    ApiError(ScimError::not_found(
        "no such endpoint; the SCIM API lives at /scim/v2/enterprises/{enterprise}/Users, /Groups, /.search, \
         /ServiceProviderConfig, /Schemas and /ResourceTypes",
    ))
}

//! One mapping from failures to Graph's error body:
//! `{"error": {"code", "message", "innerError": {"request-id", "date"}}}`, with the status that fits.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_service::{ErrorKind, ServiceError};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::odata::ODataError;

/// An error answered in Graph's shape.
#[derive(Debug)]
pub struct GraphError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Graph's error code, which clients branch on.
    pub code: &'static str,
    /// What happened and what to do.
    pub message: String,
}

impl GraphError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> GraphError {
        GraphError { status, code, message: message.into() }
    }

    /// 400 `BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> GraphError {
        GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 404 `Request_ResourceNotFound`, Graph's words for a directory object.
    pub fn not_found(id: &str) -> GraphError {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
        )
    }

    /// 401 `InvalidAuthenticationToken`.
    pub fn unauthenticated(message: impl Into<String>) -> GraphError {
        GraphError::new(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message)
    }
}

impl From<anyhow::Error> for GraphError {
    fn from(error: anyhow::Error) -> GraphError {
        let message = format!("{error:#}");
        match ServiceError::kind_of(&error) {
            ErrorKind::NotFound => GraphError::new(StatusCode::NOT_FOUND, "Request_ResourceNotFound", message),
            // Graph answers a conflicting directory write (a member already there, a name taken) with 400 too.
            ErrorKind::Invalid | ErrorKind::Conflict => {
                GraphError::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
            }
            ErrorKind::Forbidden => GraphError::new(StatusCode::FORBIDDEN, "Authorization_RequestDenied", message),
            ErrorKind::Busy => GraphError::new(StatusCode::CONFLICT, "Conflict", message),
            ErrorKind::Internal => {
                tracing::error!(error = %message, "admin API request failed");
                GraphError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "generalException",
                    "the request failed on the server; its log has the details",
                )
            }
        }
    }
}

impl From<roster_directory::port::DirectoryError> for GraphError {
    fn from(error: roster_directory::port::DirectoryError) -> GraphError {
        GraphError::from(anyhow::Error::from(error))
    }
}

impl From<roster_engine::state::StateError> for GraphError {
    fn from(error: roster_engine::state::StateError) -> GraphError {
        GraphError::from(anyhow::Error::from(error))
    }
}

impl From<ODataError> for GraphError {
    fn from(error: ODataError) -> GraphError {
        GraphError::new(StatusCode::BAD_REQUEST, error.code(), error.to_string())
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let request_id = roster_directory::audit::new_id();
        let date = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "request-id": request_id,
                    "date": date.format(&Rfc3339).unwrap_or_default(),
                }
            }
        });
        let mut response = (self.status, Json(body)).into_response();
        if let Ok(value) = request_id.parse() {
            response.headers_mut().insert("request-id", value);
        }
        response
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, GraphError>;

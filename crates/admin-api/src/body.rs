//! Request bodies: JSON, within the size limit, with errors that point at the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::GraphError;

/// A JSON request body of type `T`. A body that is not JSON, or does not fit `T`, is 400 with serde's words (which
/// name the field and the position); a body over the limit is 413.
#[derive(Debug)]
pub struct GraphJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for GraphJson<T> {
    type Rejection = GraphError;

    async fn from_request(request: Request, state: &S) -> Result<GraphJson<T>, GraphError> {
        if let Some(kind) = request.headers().get(axum::http::header::CONTENT_TYPE) {
            let kind = kind.to_str().unwrap_or_default();
            if !kind.to_ascii_lowercase().starts_with("application/json") {
                return Err(GraphError::new(
                    axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "BadRequest",
                    format!("Content-Type {kind:?} is not supported: send application/json"),
                ));
            }
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            GraphError::new(
                rejection.status(),
                "BadRequest",
                format!("the request body could not be read: {rejection}"),
            )
        })?;
        serde_json::from_slice(&bytes)
            .map(GraphJson)
            .map_err(|error| GraphError::bad_request(format!("the request body is not valid: {error}")))
    }
}

//! Request bodies: JSON, within the size limit, with errors that point at the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::GraphError;

/// A JSON request body of type `T`, a JSON object ([`from_object`]). A body that is not one, or does not fit `T`, is
/// 400 with serde's words (which name the field and the position); a body over the limit is 413; a `Content-Type`
/// other than JSON's is 415.
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
        from_object(&bytes).map(GraphJson)
    }
}

/// Reads a body that must be a JSON object, as every Graph request body is: serde would read a struct from a JSON
/// array too (its fields by position, `[]` all defaults), and a value that is not an object means nothing here.
pub fn from_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, GraphError> {
    if bytes.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
        return Err(GraphError::bad_request("the request body is not valid: expected a JSON object, {...}"));
    }
    serde_json::from_slice(bytes)
        .map_err(|error| GraphError::bad_request(format!("the request body is not valid: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize)]
    struct Optional {
        #[serde(default)]
        flag: bool,
    }

    #[test]
    fn only_a_json_object_is_a_body() {
        assert!(!from_object::<Optional>(b"{}").unwrap().flag);
        assert!(from_object::<Optional>(b" \n{\"flag\": true}").unwrap().flag);
        for body in ["", "[]", "[true]", "null", "1", "\"x\"", "{", "{\"flag\": 1}"] {
            let error = from_object::<Optional>(body.as_bytes()).unwrap_err();
            assert_eq!((error.status.as_u16(), error.code), (400, "BadRequest"), "{body}");
        }
    }
}

//! Request extractors: the authenticated enterprise, the JSON body, the query pairs and the preconditions.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::header;
use axum::http::request::Parts;
use roster_provider::Enterprise;
use roster_provider::service::Preconditions;
use roster_scim_proto::ScimError;
use serde_json::Value;

use crate::ServerState;
use crate::error::ApiError;

/// The enterprise of the request, authenticated by its bearer token, and its SCIM base URL.
pub struct Tenant {
    /// The enterprise.
    pub enterprise: Enterprise,
    /// `{public url}/scim/v2/enterprises/{slug}`.
    pub base_url: String,
}

impl FromRequestParts<ServerState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ServerState) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ScimError::not_found("no enterprise in the path"))?;
        let slug = params
            .iter()
            .find(|(name, _)| *name == "enterprise")
            .map(|(_, value)| value.to_owned())
            .ok_or_else(|| ScimError::not_found("no enterprise in the path"))?;
        let bearer = bearer_token(parts);
        let enterprise = state.provider.authenticate(&slug, bearer).await?;
        let origin = match &state.public_url {
            Some(url) => url.to_string(),
            None => {
                let host = parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
                format!("http://{host}")
            }
        };
        let base_url = format!("{origin}/scim/v2/enterprises/{}", enterprise.slug);
        Ok(Tenant { enterprise, base_url })
    }
}

/// The token of `Authorization: Bearer <token>` (or GitHub's `token <token>`), scheme case-insensitive.
fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let known = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
    let token = token.trim();
    (known && !token.is_empty()).then_some(token)
}

/// A JSON request body: `application/scim+json` or `application/json` (or no content type), within the size
/// limit (413 above it), parsed (400 `invalidSyntax` when it is not JSON).
pub struct ScimBody(pub Value);

impl FromRequest<ServerState> for ScimBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &ServerState) -> Result<Self, Self::Rejection> {
        if let Some(content_type) = request.headers().get(header::CONTENT_TYPE) {
            let media = content_type.to_str().unwrap_or_default().split(';').next().unwrap_or_default().trim();
            let accepted = media.eq_ignore_ascii_case("application/scim+json")
                || media.eq_ignore_ascii_case("application/json")
                || media.is_empty();
            if !accepted {
                return Err(ScimError::status(
                    415,
                    format!("content type {media:?} is not supported; send application/scim+json"),
                )
                .into());
            }
        }
        let limit = state.max_body_bytes;
        let bytes: Bytes = axum::body::to_bytes(request.into_body(), limit).await.map_err(|_| {
            ScimError::status(413, format!("the request body is larger than the limit of {limit} bytes"))
        })?;
        let value = serde_json::from_slice(&bytes)
            .map_err(|error| ScimError::invalid_syntax(format!("the request body is not valid JSON: {error}")))?;
        Ok(ScimBody(value))
    }
}

/// The query string as decoded key-value pairs, in order.
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> = serde_urlencoded_pairs(query)
            .ok_or_else(|| ScimError::invalid_syntax("the query string is not valid URL encoding"))?;
        Ok(QueryPairs(pairs))
    }
}

fn serde_urlencoded_pairs(query: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    for part in query.split('&').filter(|part| !part.is_empty()) {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        pairs.push((percent_decode(key)?, percent_decode(value)?));
    }
    Some(pairs)
}

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space, `%XX` a byte; the result must be UTF-8.
fn percent_decode(input: &str) -> Option<String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(index + 1..index + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                index += 2;
            }
            other => out.push(other),
        }
        index += 1;
    }
    String::from_utf8(out).ok()
}

/// The `If-Match` and `If-None-Match` headers.
pub struct Conditions(pub Preconditions);

impl<S: Send + Sync> FromRequestParts<S> for Conditions {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // A header that is not visible ASCII is kept (lossily decoded) rather than dropped: it names no ETag, so
        // a conditional write fails with 412 instead of going through unconditionally.
        let read = |name: header::HeaderName| {
            parts.headers.get(name).map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        };
        Ok(Conditions(Preconditions { if_match: read(header::IF_MATCH), if_none_match: read(header::IF_NONE_MATCH) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        let pairs = serde_urlencoded_pairs("filter=userName+eq+%22b%C3%A9%22&count=").unwrap();
        assert_eq!(pairs, vec![("filter".into(), "userName eq \"bé\"".into()), ("count".into(), String::new())]);
        assert_eq!(serde_urlencoded_pairs("a=%ZZ"), None);
        assert_eq!(serde_urlencoded_pairs("a=%C3"), None);
        assert_eq!(serde_urlencoded_pairs("a=%4"), None);
    }
}

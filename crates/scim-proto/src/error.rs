//! SCIM protocol errors (RFC 7644 §3.12): an HTTP status, an optional `scimType` and a detail message.

use std::fmt;

/// The `scimType` keywords of RFC 7644 §3.12, table 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScimType {
    /// The specified filter syntax was invalid, or the attribute and comparison combination is not supported.
    InvalidFilter,
    /// The filter yields more results than the server is willing to compute or return.
    TooMany,
    /// One or more attribute values are already in use or reserved.
    Uniqueness,
    /// The attempted modification is not compatible with the target attribute's mutability.
    Mutability,
    /// The request body structure was invalid or did not conform to the schema.
    InvalidSyntax,
    /// The `path` attribute was invalid or malformed.
    InvalidPath,
    /// The path did not yield an attribute or attribute value that could be operated on.
    NoTarget,
    /// A required value was missing, or the value specified was not compatible with the operation or type.
    InvalidValue,
    /// The specified SCIM protocol version is not supported.
    InvalidVers,
    /// The request cannot be completed because of sensitive information in the request URI.
    Sensitive,
}

impl ScimType {
    /// The keyword as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
        }
    }
}

impl fmt::Display for ScimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error that is answered to a SCIM client as an `urn:ietf:params:scim:api:messages:2.0:Error` body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {}: {detail}", scim_type.map_or("-", ScimType::as_str))]
pub struct ScimError {
    /// The HTTP status code.
    pub status: u16,
    /// The `scimType` keyword, for 400 and 409 answers that have one.
    pub scim_type: Option<ScimType>,
    /// A human-readable message that says what to fix.
    pub detail: String,
}

impl ScimError {
    /// A 400 answer with a `scimType`.
    pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self { status: 400, scim_type: Some(scim_type), detail: detail.into() }
    }

    /// A 400 `invalidFilter`.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidFilter, detail)
    }

    /// A 400 `invalidSyntax`.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidSyntax, detail)
    }

    /// A 400 `invalidValue`.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidValue, detail)
    }

    /// A 400 `invalidPath`.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidPath, detail)
    }

    /// A 400 `noTarget`.
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::NoTarget, detail)
    }

    /// A 400 `mutability`.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::Mutability, detail)
    }

    /// A 409 `uniqueness`.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self { status: 409, scim_type: Some(ScimType::Uniqueness), detail: detail.into() }
    }

    /// An error without a `scimType` (401, 403, 404, 405, 412, 413, 500 ...).
    pub fn status(status: u16, detail: impl Into<String>) -> Self {
        Self { status, scim_type: None, detail: detail.into() }
    }

    /// A 404 for a resource or enterprise that does not exist (or that the caller may not see).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::status(404, detail)
    }

    /// The error as a SCIM error body.
    pub fn to_json(&self) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        body.insert("schemas".into(), serde_json::json!([crate::ERROR_SCHEMA]));
        body.insert("status".into(), serde_json::Value::String(self.status.to_string()));
        if let Some(scim_type) = self.scim_type {
            body.insert("scimType".into(), serde_json::Value::String(scim_type.as_str().into()));
        }
        body.insert("detail".into(), serde_json::Value::String(self.detail.clone()));
        serde_json::Value::Object(body)
    }
}

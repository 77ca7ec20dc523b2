//! The client's error: what was asked (method, URL path, never the token), what went wrong, and its
//! classification into Entra's provisioning error codes (reference §1.9) and retryable or not.
//!
//! # Error codes
//!
//! [`ClientError::code`] names the failure the way Entra's provisioning logs do (`SCIM` below stands for
//! `SystemForCrossDomainIdentityManagement`, which the code spells out in full):
//!
//! | failure | code |
//! |---|---|
//! | 409 or 400 with `scimType` `uniqueness` | `EntryConflict` |
//! | 409 (other), 412 | `Conflict` |
//! | 400 with `scimType` `invalidPath` or `noTarget` | `SchemaAttributeNotFound` |
//! | 400 (other `scimType`s or none), 413, 422 and other 4xx not listed here | `UnprocessableEntity` |
//! | 401 | `Unauthorized` |
//! | 403 | `InsufficientRights` |
//! | 403 that is a rate limit (GitHub), 429, a server-imposed wait beyond the policy | `TooManyRequests` |
//! | 404 on a resource's own URL (get, patch, delete of a known id) | `InvalidAnchor` |
//! | 404 on a collection (query, create, test connection) | `SCIMServiceIncompatible` |
//! | 405 | `MethodNotAllowed` |
//! | 501 | `NotImplemented` |
//! | other 5xx | `InternalServerError` |
//! | 1xx, 3xx (redirects are not followed: the token goes to the tenant URL's host only) | `SCIMBadResponse` |
//! | no answer within the timeout | `Timeout` |
//! | connection refused, reset or dropped, DNS failure, TLS failure, malformed HTTP | `WebExceptionProtocolError` |
//! | a success whose body is not SCIM JSON (wrong content type, not JSON) | `SCIMBadResponse` |
//! | SCIM JSON of the wrong shape (not a `ListResponse`, a created resource without `id`) | `SCIMServiceIncompatible` |
//!
//! # Retryable
//!
//! [`ClientError::is_retryable`] is true for 429, 500, 502, 503, 504, a rate-limit 403, timeouts, connection
//! failures other than TLS, and server-imposed waits: the client has already retried those in place up to its
//! [`RetryPolicy`](crate::RetryPolicy), and the engine evaluates the object again in a later cycle. Never for 400, 401, a
//! plain 403, 404, 409 or 412.

use std::fmt;
use std::time::Duration;

/// What the client was doing, which decides what a 404 means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// A filtered query (`GET /Users?filter=...`).
    Find,
    /// `GET /Users/{id}`.
    Get,
    /// `POST /Users`.
    Create,
    /// `PATCH /Users/{id}`.
    Patch,
    /// `DELETE /Users/{id}`.
    Delete,
    /// The test-connection query.
    TestConnection,
}

impl Operation {
    /// Whether the operation addresses one resource by its id.
    fn addresses_an_id(self) -> bool {
        matches!(self, Operation::Get | Operation::Patch | Operation::Delete)
    }
}

/// A failed request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{method} {path}: {kind} [{code}, {attempts} attempt{s}]",
    code = self.code(),
    s = if *attempts == 1 { "" } else { "s" }
)]
pub struct ClientError {
    /// What the client was doing.
    pub operation: Operation,
    /// The HTTP method.
    pub method: &'static str,
    /// The URL's path and query (no scheme, host or credentials).
    pub path: String,
    /// How many attempts were made (0 when the request was held back before the first).
    pub attempts: u32,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ErrorKind {
    /// The server answered with an error status.
    #[error("{0}")]
    Status(Box<StatusError>),
    /// No complete answer within the timeout.
    #[error("no answer within {}", DisplayDuration(*after))]
    Timeout {
        /// The timeout.
        after: Duration,
    },
    /// The connection could not be made (refused, unreachable, DNS).
    #[error("could not connect: {cause}")]
    Connect {
        /// The cause, with the operating system's error.
        cause: String,
    },
    /// The TLS handshake failed (certificate, protocol).
    #[error("TLS failure: {cause}")]
    Tls {
        /// The cause.
        cause: String,
    },
    /// The connection was reset or closed before a complete answer, or the answer was not HTTP.
    #[error("connection failed: {cause}")]
    Protocol {
        /// The cause.
        cause: String,
    },
    /// A successful status whose body is not SCIM JSON.
    #[error("the answer is not SCIM: {}", .0.reason)]
    BadResponse(Box<NotScim>),
    /// SCIM JSON of the wrong shape.
    #[error("the answer is not what SCIM specifies: {reason}")]
    Incompatible {
        /// What is wrong.
        reason: String,
    },
    /// The server asked to wait longer than the retry policy's `max_server_wait`: the request was not sent.
    #[error(
        "the target asked to wait {} before the next request, longer than the client waits",
        DisplayDuration(*wait)
    )]
    HeldBack {
        /// How long the server asked to wait, from when the error was made.
        wait: Duration,
    },
}

/// A successful answer whose body is not SCIM JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct NotScim {
    /// What was expected and found.
    pub reason: String,
    /// The answer's `Content-Type`.
    pub content_type: Option<String>,
    /// The body's first characters.
    pub excerpt: String,
}

/// An error status, with what the body said.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusError {
    /// The HTTP status.
    pub status: u16,
    /// The SCIM `scimType`, when the body is a SCIM error that has one.
    pub scim_type: Option<String>,
    /// The SCIM `detail` (or a JSON `message`); for a body that is not JSON, its first characters.
    pub detail: Option<String>,
    /// The wait the server asked for (`Retry-After`, or GitHub's `x-ratelimit-reset` when no request remains).
    pub retry_after: Option<Duration>,
    /// Whether the answer is a rate limit (429, or a 403 that says so as GitHub does).
    pub rate_limited: bool,
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(reason) = reqwest::StatusCode::from_u16(self.status).ok().and_then(|s| s.canonical_reason()) {
            write!(f, " {reason}")?;
        }
        if let Some(scim_type) = &self.scim_type {
            write!(f, " (scimType {scim_type})")?;
        }
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        if let Some(wait) = self.retry_after {
            write!(f, " (retry after {})", DisplayDuration(wait))?;
        }
        Ok(())
    }
}

/// A duration for people: `1.5 s`, `250 ms`.
pub(crate) struct DisplayDuration(pub Duration);

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 < Duration::from_secs(1) {
            write!(f, "{} ms", self.0.as_millis())
        } else {
            let secs = self.0.as_secs_f64();
            if secs.fract() == 0.0 { write!(f, "{secs} s") } else { write!(f, "{secs:.1} s") }
        }
    }
}

impl ClientError {
    /// The HTTP status, when the server answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match &self.kind {
            ErrorKind::Status(status) => Some(status.status),
            _ => None,
        }
    }

    /// The SCIM `scimType`, when the server sent one.
    pub fn scim_type(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::Status(status) => status.scim_type.as_deref(),
            _ => None,
        }
    }

    /// The server's `detail`, when it sent one.
    pub fn detail(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::Status(status) => status.detail.as_deref(),
            _ => None,
        }
    }

    /// How long the server asked to wait before the next request, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match &self.kind {
            ErrorKind::Status(status) => status.retry_after,
            ErrorKind::HeldBack { wait } => Some(*wait),
            _ => None,
        }
    }

    /// Whether the server said 404 Not Found.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Entra's error code for this failure (see the module documentation's table).
    pub fn code(&self) -> &'static str {
        const BAD_RESPONSE: &str = "SystemForCrossDomainIdentityManagementBadResponse";
        const INCOMPATIBLE: &str = "SystemForCrossDomainIdentityManagementServiceIncompatible";
        match &self.kind {
            ErrorKind::Status(error) => {
                let scim_type = error.scim_type.as_deref().unwrap_or_default();
                match error.status {
                    400 | 409 if scim_type.eq_ignore_ascii_case("uniqueness") => "EntryConflict",
                    409 | 412 => "Conflict",
                    400 if scim_type.eq_ignore_ascii_case("invalidPath")
                        || scim_type.eq_ignore_ascii_case("noTarget") =>
                    {
                        "SchemaAttributeNotFound"
                    }
                    401 => "Unauthorized",
                    403 | 429 if error.rate_limited || error.status == 429 => "TooManyRequests",
                    403 => "InsufficientRights",
                    404 if self.operation.addresses_an_id() => "InvalidAnchor",
                    404 => INCOMPATIBLE,
                    405 => "MethodNotAllowed",
                    501 => "NotImplemented",
                    500..=599 => "InternalServerError",
                    400..=499 => "UnprocessableEntity",
                    _ => BAD_RESPONSE,
                }
            }
            ErrorKind::Timeout { .. } => "Timeout",
            ErrorKind::Connect { .. } | ErrorKind::Tls { .. } | ErrorKind::Protocol { .. } => {
                "WebExceptionProtocolError"
            }
            ErrorKind::BadResponse(_) => BAD_RESPONSE,
            ErrorKind::Incompatible { .. } => INCOMPATIBLE,
            ErrorKind::HeldBack { .. } => "TooManyRequests",
        }
    }

    /// Whether trying again later may succeed (see the module documentation).
    pub fn is_retryable(&self) -> bool {
        match &self.kind {
            ErrorKind::Status(error) => {
                matches!(error.status, 429 | 500 | 502 | 503 | 504) || (error.status == 403 && error.rate_limited)
            }
            ErrorKind::Timeout { .. }
            | ErrorKind::Connect { .. }
            | ErrorKind::Protocol { .. }
            | ErrorKind::HeldBack { .. } => true,
            ErrorKind::Tls { .. } | ErrorKind::BadResponse(_) | ErrorKind::Incompatible { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, scim_type: Option<&str>, rate_limited: bool) -> ErrorKind {
        ErrorKind::Status(Box::new(StatusError {
            status,
            scim_type: scim_type.map(str::to_owned),
            detail: None,
            retry_after: None,
            rate_limited,
        }))
    }

    fn error(operation: Operation, kind: ErrorKind) -> ClientError {
        ClientError { operation, method: "GET", path: "/scim/Users".to_owned(), attempts: 1, kind }
    }

    #[test]
    fn classification_table() {
        use Operation::*;
        let text = || "x".to_owned();
        // (operation, failure, code, retryable)
        let cases: Vec<(Operation, ErrorKind, &str, bool)> = vec![
            (Create, status(409, Some("uniqueness"), false), "EntryConflict", false),
            (Create, status(409, Some("Uniqueness"), false), "EntryConflict", false),
            (Create, status(400, Some("uniqueness"), false), "EntryConflict", false),
            (Patch, status(409, None, false), "Conflict", false),
            (Patch, status(412, None, false), "Conflict", false),
            (Patch, status(400, Some("invalidPath"), false), "SchemaAttributeNotFound", false),
            (Patch, status(400, Some("noTarget"), false), "SchemaAttributeNotFound", false),
            (Create, status(400, Some("invalidValue"), false), "UnprocessableEntity", false),
            (Find, status(400, Some("invalidFilter"), false), "UnprocessableEntity", false),
            (Create, status(400, None, false), "UnprocessableEntity", false),
            (Create, status(422, None, false), "UnprocessableEntity", false),
            (Create, status(413, Some("tooLarge"), false), "UnprocessableEntity", false),
            (Find, status(401, None, false), "Unauthorized", false),
            (Find, status(403, None, false), "InsufficientRights", false),
            (Find, status(403, None, true), "TooManyRequests", true),
            (Create, status(429, None, false), "TooManyRequests", true),
            (Get, status(404, None, false), "InvalidAnchor", false),
            (Patch, status(404, None, false), "InvalidAnchor", false),
            (Delete, status(404, None, false), "InvalidAnchor", false),
            (Find, status(404, None, false), "SystemForCrossDomainIdentityManagementServiceIncompatible", false),
            (Create, status(404, None, false), "SystemForCrossDomainIdentityManagementServiceIncompatible", false),
            (Patch, status(405, None, false), "MethodNotAllowed", false),
            (Patch, status(501, None, false), "NotImplemented", false),
            (Patch, status(500, None, false), "InternalServerError", true),
            (Patch, status(502, None, false), "InternalServerError", true),
            (Patch, status(503, None, false), "InternalServerError", true),
            (Patch, status(504, None, false), "InternalServerError", true),
            (Patch, status(507, None, false), "InternalServerError", false),
            (Get, status(302, None, false), "SystemForCrossDomainIdentityManagementBadResponse", false),
            (Get, ErrorKind::Timeout { after: Duration::from_secs(30) }, "Timeout", true),
            (Get, ErrorKind::Connect { cause: text() }, "WebExceptionProtocolError", true),
            (Get, ErrorKind::Protocol { cause: text() }, "WebExceptionProtocolError", true),
            (Get, ErrorKind::Tls { cause: text() }, "WebExceptionProtocolError", false),
            (
                Get,
                ErrorKind::BadResponse(Box::new(NotScim { reason: text(), content_type: None, excerpt: text() })),
                "SystemForCrossDomainIdentityManagementBadResponse",
                false,
            ),
            (
                Find,
                ErrorKind::Incompatible { reason: text() },
                "SystemForCrossDomainIdentityManagementServiceIncompatible",
                false,
            ),
            (Create, ErrorKind::HeldBack { wait: Duration::from_secs(3600) }, "TooManyRequests", true),
        ];
        for (operation, kind, code, retryable) in cases {
            let error = error(operation, kind);
            assert_eq!(error.code(), code, "{error}");
            assert_eq!(error.is_retryable(), retryable, "{error}");
        }
    }

    #[test]
    fn display_names_the_request_the_status_and_the_code() {
        let mut error = error(
            Operation::Create,
            ErrorKind::Status(Box::new(StatusError {
                status: 409,
                scim_type: Some("uniqueness".to_owned()),
                detail: Some("userName is taken".to_owned()),
                retry_after: None,
                rate_limited: false,
            })),
        );
        error.method = "POST";
        assert_eq!(
            error.to_string(),
            "POST /scim/Users: HTTP 409 Conflict (scimType uniqueness): userName is taken [EntryConflict, 1 attempt]"
        );
        let timeout = ClientError {
            attempts: 5,
            ..self::error(Operation::Get, ErrorKind::Timeout { after: Duration::from_millis(1500) })
        };
        assert_eq!(timeout.to_string(), "GET /scim/Users: no answer within 1.5 s [Timeout, 5 attempts]");
        let held = self::error(Operation::Get, ErrorKind::HeldBack { wait: Duration::from_secs(900) });
        assert_eq!(held.retry_after(), Some(Duration::from_secs(900)));
        assert!(held.to_string().contains("900 s"), "{held}");
    }
}

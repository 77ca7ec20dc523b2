//! Test Connection's verdict (reference §1.13), in words an administrator can act on.

use std::time::Duration;

use crate::error::{ClientError, DisplayDuration, ErrorKind};

/// Why the test query (`GET /Users?filter=userName eq "roster-test-connection-<uuid>"`, expecting 200 and an
/// empty ListResponse) failed. Its `Display` says what is wrong in plain words; it never shows the token.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConnectionProblem {
    /// No connection: refused, unreachable, DNS.
    #[error("the target {host} is unreachable: {cause}")]
    Unreachable {
        /// The host and port tried.
        host: String,
        /// The operating system's error.
        cause: String,
    },
    /// The TLS handshake failed.
    #[error(
        "TLS failure with {host}: {cause} (check that the tenant URL's scheme is right and that the target's \
         certificate is valid for its name)"
    )]
    Tls {
        /// The host and port tried.
        host: String,
        /// What the TLS library said.
        cause: String,
    },
    /// The connection was made but closed before an answer, or the answer was not HTTP.
    #[error("the target {host} closed the connection without a complete answer: {cause}")]
    Dropped {
        /// The host and port tried.
        host: String,
        /// What happened.
        cause: String,
    },
    /// No answer within the timeout.
    #[error("the target {host} did not answer within {}", DisplayDuration(*after))]
    Timeout {
        /// The host and port tried.
        host: String,
        /// The timeout.
        after: Duration,
    },
    /// 401 or 403.
    #[error(
        "the target refused the secret token (HTTP {status}{}): check the token and its scope (for GitHub EMU a \
         personal access token (classic) with the scim:enterprise scope, created by the setup user)",
        detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
    )]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// What the target said.
        detail: Option<String>,
    },
    /// 404 on the query.
    #[error("the tenant URL does not point at a SCIM endpoint (404 on /Users)")]
    NotFound,
    /// A successful answer that is not a SCIM ListResponse.
    #[error("the answer is not SCIM: expected application/scim+json ListResponse, got {got}")]
    NotScim {
        /// What came instead.
        got: String,
    },
    /// A ListResponse with results for a `userName` nobody has: the target ignores filters, so matching would
    /// take the wrong users.
    #[error(
        "the target ignored the filter: it answered {total} users for a userName nobody has, so matching by \
         filter would pick the wrong users"
    )]
    FilterIgnored {
        /// The `totalResults` answered.
        total: u64,
    },
    /// Another error status (400, 429, 5xx...).
    #[error("the target answered the test query with an error: {0}")]
    Failed(String),
}

impl ConnectionProblem {
    /// The verdict for a failed test query to `host`.
    pub(crate) fn from_error(error: &ClientError, host: &str) -> Self {
        let host = host.to_owned();
        match &error.kind {
            ErrorKind::Connect { cause } => ConnectionProblem::Unreachable { host, cause: cause.clone() },
            ErrorKind::Tls { cause } => ConnectionProblem::Tls { host, cause: cause.clone() },
            ErrorKind::Protocol { cause } => ConnectionProblem::Dropped { host, cause: cause.clone() },
            ErrorKind::Timeout { after } => ConnectionProblem::Timeout { host, after: *after },
            ErrorKind::Status(status) if matches!(status.status, 401 | 403) && !status.rate_limited => {
                ConnectionProblem::Unauthorized { status: status.status, detail: status.detail.clone() }
            }
            ErrorKind::Status(status) if status.status == 404 => ConnectionProblem::NotFound,
            ErrorKind::Status(status) => ConnectionProblem::Failed(status.to_string()),
            ErrorKind::BadResponse(bad) => ConnectionProblem::NotScim {
                got: format!(
                    "{} ({:?})",
                    bad.content_type.as_deref().unwrap_or("a body without content type"),
                    bad.excerpt
                ),
            },
            ErrorKind::Incompatible { reason } => ConnectionProblem::NotScim { got: reason.clone() },
            ErrorKind::HeldBack { .. } => ConnectionProblem::Failed(error.kind.to_string()),
        }
    }
}

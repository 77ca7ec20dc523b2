//! The SCIM 2.0 client the provisioning engine exports with (DESIGN.md, "Provisioning engine", stage 7).
//!
//! - [`ScimClient`]: `find` (the Match stage's `GET /Users?filter=externalId eq "..."`), `get`, `create`,
//!   `patch`, `delete`, `test_connection`, over one keep-alive connection pool, with at most `max_concurrency`
//!   requests in flight.
//! - [`Budget`]: the target's rate limits as windows enforced together ([`Budget::github`] for GitHub's), and
//!   [`ScimClient::budget_eta`] for the engine's ETA.
//! - [`RetryPolicy`]: retries of 429, 5xx, timeouts and dropped connections with exponential back-off and full
//!   jitter, honouring `Retry-After` (which also holds back the client's other requests).
//! - [`Change`] and [`patch_body`]: semantic PATCH operations, written in the target's [`Dialect`] (RFC 7644 as
//!   GitHub documents it, or Entra's legacy default).
//! - [`ClientError`]: method, path, status, `scimType`, `detail`, and [`ClientError::code`], Entra's error code
//!   (the table is in the [`error`] module); [`ConnectionProblem`]: Test Connection's verdict in plain words.
//!
//! The token is a [`Secret`]: it appears in no `Debug` or `Display` output, error or log line.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use roster_scim_client::{Budget, Change, ClientConfig, Kind, ScimClient};
//! let mut config = ClientConfig::new("https://api.github.com/scim/v2/enterprises/octo-corp", "ghp_...");
//! config.budget = Budget::github();
//! let client = ScimClient::new(config)?;
//! client.test_connection().await?;
//! if let Some(user) = client.find(Kind::User, "externalId", "E012345").await?.first() {
//!     let id = user["id"].as_str().unwrap_or_default();
//!     client.patch(Kind::User, id, &[Change::replace("active", false)]).await?;
//! }
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod budget;
mod client;
mod config;
mod connection;
pub mod error;
mod filter;
mod patch;
mod response;
mod retry;
mod stats;
mod throttle;

pub use budget::{Access, Budget, Window};
pub use client::ScimClient;
pub use config::{ClientConfig, ConfigError, Dialect, Kind, Secret};
pub use connection::ConnectionProblem;
pub use error::{ClientError, ErrorKind, NotScim, Operation, StatusError};
pub use filter::{eq_filter, escape_filter_value};
pub use patch::{Change, PATCH_OP_SCHEMA, operations, patch_body, split_changes};
pub use retry::{RetryPolicy, parse_http_date, parse_retry_after};
pub use stats::ClientStats;

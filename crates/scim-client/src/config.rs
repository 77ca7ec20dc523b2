//! The client's configuration: where the target is, the secret token, the PATCH dialect, the rate budget, the
//! concurrency, the timeout and the retry policy.

use std::fmt;
use std::time::Duration;

use crate::budget::Budget;
use crate::retry::RetryPolicy;

/// A secret (the bearer token). Its `Debug` and `Display` print `[redacted]`, so that it cannot leak into a
/// log line or an error message by accident; [`Secret::expose`] is the one way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Self(secret.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The shape of PATCH bodies (reference §1.7): what the target expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// RFC 7644 as GitHub documents it (and as Entra sends with the `aadOptscim062020` flag): lowercase `op`s,
    /// boolean `active`, one `members[value eq "id"]` removal per member.
    #[default]
    Rfc,
    /// Entra's default without the flag: capitalised `Add`/`Replace`/`Remove`, `active` as the string
    /// `"True"`/`"False"`, members removed with `{"op":"Remove","path":"members","value":[...]}`.
    EntraLegacy,
}

/// The kind of resource, which names its endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `/Users`
    User,
    /// `/Groups`
    Group,
}

impl Kind {
    /// The endpoint's path segment: `Users` or `Groups` (case-sensitive on GitHub).
    pub fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }
}

/// Everything a [`ScimClient`](crate::ScimClient) needs. [`ClientConfig::new`] gives the defaults around a
/// tenant URL and a token.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The "Tenant URL": the SCIM base, e.g. `https://api.github.com/scim/v2/enterprises/octo-corp`. A trailing
    /// slash is tolerated; a query string (such as Entra's `?aadOptscim062020` flag) is kept on every request.
    pub base_url: String,
    /// The bearer token.
    pub token: Secret,
    /// The PATCH dialect.
    pub dialect: Dialect,
    /// The rate budget, enforced before every attempt.
    pub budget: Budget,
    /// How many requests may be in flight at once (at least 1).
    pub max_concurrency: usize,
    /// The timeout of one attempt, from connecting to the end of the answer's body.
    pub timeout: Duration,
    /// When and how often to retry.
    pub retry: RetryPolicy,
    /// The `User-Agent` header (GitHub refuses requests without one).
    pub user_agent: String,
    /// How many member ids one PATCH carries at most; longer member lists are sent in several PATCH requests
    /// (a server limits its body size: 1,000 ids are about 50 KB).
    pub max_members_per_patch: usize,
}

impl ClientConfig {
    /// The defaults: RFC dialect, no budget, 8 requests in flight, a 30 s timeout, the default retry policy,
    /// `User-Agent: roster/<version>` and 1,000 members per PATCH.
    pub fn new(base_url: impl Into<String>, token: impl Into<Secret>) -> Self {
        Self {
            base_url: base_url.into(),
            token: token.into(),
            dialect: Dialect::default(),
            budget: Budget::unlimited(),
            max_concurrency: 8,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            user_agent: concat!("roster/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_members_per_patch: 1000,
        }
    }
}

/// A configuration that cannot work; [`ScimClient::new`](crate::ScimClient::new) says which part and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SCIM client configuration: {0}")]
pub struct ConfigError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let config = ClientConfig::new("http://127.0.0.1:1/scim", "ghp_supersecret");
        assert_eq!(config.token.to_string(), "[redacted]");
        assert!(!format!("{config:?}").contains("supersecret"));
        assert_eq!(config.token.expose(), "ghp_supersecret");
    }
}

//! Enterprises (the tenants of the service provider) and their personal access tokens.

use std::fmt;

use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a tenant value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    /// The enterprise slug is malformed.
    #[error(
        "invalid enterprise slug {0:?}: use 1 to 64 lowercase letters, digits and single hyphens, not starting or ending with a hyphen"
    )]
    InvalidSlug(String),
    /// The shortcode is malformed.
    #[error("invalid shortcode {0:?}: use 3 to 8 letters and digits (GitHub's rule for EMU shortcodes)")]
    InvalidShortcode(String),
    /// The profile is unknown.
    #[error("unknown profile {0:?}: use github-emu or scim")]
    UnknownProfile(String),
    /// The scope is unknown.
    #[error("unknown token scope {0:?}: use scim:enterprise, admin:enterprise or read:enterprise")]
    UnknownScope(String),
}

/// An enterprise's slug, the `{enterprise}` of `/scim/v2/enterprises/{enterprise}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnterpriseSlug(String);

impl EnterpriseSlug {
    /// Parses a slug: 1 to 64 of `a-z`, `0-9` and `-`, no leading, trailing or doubled hyphen.
    pub fn parse(input: &str) -> Result<Self, TenantError> {
        let valid_chars = input.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let valid = (1..=64).contains(&input.len())
            && valid_chars
            && !input.starts_with('-')
            && !input.ends_with('-')
            && !input.contains("--");
        if valid { Ok(Self(input.to_owned())) } else { Err(TenantError::InvalidSlug(input.to_owned())) }
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnterpriseSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An enterprise's shortcode, appended to every login as `_shortcode`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shortcode(String);

impl Shortcode {
    /// Parses a shortcode: 3 to 8 ASCII letters and digits.
    pub fn parse(input: &str) -> Result<Self, TenantError> {
        if (3..=8).contains(&input.len()) && input.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(input.to_owned()))
        } else {
            Err(TenantError::InvalidShortcode(input.to_owned()))
        }
    }

    /// The shortcode.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The database key of an enterprise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnterpriseId(pub i64);

/// The rules an enterprise's SCIM API follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// GitHub Enterprise Managed Users: required `externalId`, `displayName`, `emails`, `active`; GitHub roles;
    /// the login derived from `userName` with `_shortcode` (unique, at most 39 characters).
    #[default]
    GithubEmu,
    /// Plain RFC 7643/7644, for applications that want a standard SCIM server: `userName` (users) and
    /// `displayName` (groups) required, no login, any role.
    Scim,
}

impl Profile {
    /// Parses a profile name: `github-emu` or `scim`.
    pub fn parse(input: &str) -> Result<Self, TenantError> {
        match input {
            "github-emu" => Ok(Profile::GithubEmu),
            "scim" => Ok(Profile::Scim),
            other => Err(TenantError::UnknownProfile(other.to_owned())),
        }
    }

    /// The profile's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::GithubEmu => "github-emu",
            Profile::Scim => "scim",
        }
    }
}

/// An enterprise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enterprise {
    /// The database key.
    pub id: EnterpriseId,
    /// The slug.
    pub slug: EnterpriseSlug,
    /// The shortcode.
    pub shortcode: Shortcode,
    /// The rules its SCIM API follows.
    pub profile: Profile,
}

/// A token scope, as GitHub names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// `scim:enterprise`: full access to the enterprise's SCIM API.
    ScimEnterprise,
    /// `admin:enterprise`: the legacy scope, accepted for SCIM too.
    AdminEnterprise,
    /// `read:enterprise`: no SCIM access.
    ReadEnterprise,
}

impl Scope {
    /// Parses a scope name.
    pub fn parse(input: &str) -> Result<Self, TenantError> {
        match input {
            "scim:enterprise" => Ok(Scope::ScimEnterprise),
            "admin:enterprise" => Ok(Scope::AdminEnterprise),
            "read:enterprise" => Ok(Scope::ReadEnterprise),
            other => Err(TenantError::UnknownScope(other.to_owned())),
        }
    }

    /// The scope's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ScimEnterprise => "scim:enterprise",
            Scope::AdminEnterprise => "admin:enterprise",
            Scope::ReadEnterprise => "read:enterprise",
        }
    }

    /// Whether the scope grants the SCIM API.
    pub fn grants_scim(self) -> bool {
        matches!(self, Scope::ScimEnterprise | Scope::AdminEnterprise)
    }
}

/// The prefix of every token roster issues, so that secret scanners can find leaked ones.
pub const TOKEN_PREFIX: &str = "roster_pat_";

/// A freshly issued token: the secret (shown once) and what is stored.
pub struct IssuedToken {
    /// The secret, to hand to the user once and never store.
    pub secret: String,
    /// Its SHA-256 digest, which is what the store keeps.
    pub hash: TokenHash,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken").field("secret", &"<redacted>").field("hash", &self.hash).finish()
    }
}

/// The SHA-256 digest of a token. Tokens carry 238 bits of randomness, so a fast hash is the right tool: there is
/// nothing to brute-force, and lookups stay cheap on every request.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}..)", hex::encode(&self.0[..4]))
    }
}

impl TokenHash {
    /// The digest of a presented secret.
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// Compares two digests in constant time.
    pub fn matches(&self, other: &TokenHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// Issues a new random token.
pub fn issue_token() -> IssuedToken {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    let body: String = (0..40).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect();
    let secret = format!("{TOKEN_PREFIX}{body}");
    let hash = TokenHash::of(&secret);
    IssuedToken { secret, hash }
}

/// A stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The database key.
    pub id: i64,
    /// The enterprise the token belongs to.
    pub enterprise: Enterprise,
    /// A name to recognise it by.
    pub name: String,
    /// Its scopes.
    pub scopes: Vec<Scope>,
    /// The digest of the secret.
    pub hash: TokenHash,
    /// When it was issued.
    pub created: time::OffsetDateTime,
    /// When it was revoked; `None` while it is valid.
    pub revoked: Option<time::OffsetDateTime>,
    /// When it last authenticated a request, to [`LAST_USED_PRECISION`]; `None` when never.
    pub last_used: Option<time::OffsetDateTime>,
}

/// How precisely a token's last use is recorded: a token used all the time costs one write per this interval (per
/// node), not one per request.
pub const LAST_USED_PRECISION: time::Duration = time::Duration::minutes(1);

impl TokenRecord {
    /// Whether it was revoked.
    pub fn is_revoked(&self) -> bool {
        self.revoked.is_some()
    }

    /// Whether a use at `now` is worth recording: never used, or last used [`LAST_USED_PRECISION`] ago or more.
    pub fn use_is_news(&self, now: time::OffsetDateTime) -> bool {
        self.last_used.is_none_or(|used| now - used >= LAST_USED_PRECISION || now < used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["octo-corp", "a", "acme2"] {
            assert!(EnterpriseSlug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "Octo", "a_b", &"a".repeat(65)] {
            assert!(EnterpriseSlug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shortcodes() {
        assert!(Shortcode::parse("octo").is_ok());
        assert!(Shortcode::parse("ab").is_err());
        assert!(Shortcode::parse("abcdefghi").is_err());
        assert!(Shortcode::parse("oc-to").is_err());
    }

    #[test]
    fn tokens_are_prefixed_random_and_hash_matches() {
        let a = issue_token();
        let b = issue_token();
        assert!(a.secret.starts_with(TOKEN_PREFIX));
        assert_eq!(a.secret.len(), TOKEN_PREFIX.len() + 40);
        assert_ne!(a.secret, b.secret);
        assert!(TokenHash::of(&a.secret).matches(&a.hash));
        assert!(!TokenHash::of(&b.secret).matches(&a.hash));
        assert!(!format!("{a:?}").contains(&a.secret));
    }
}

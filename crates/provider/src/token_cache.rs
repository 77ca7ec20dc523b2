//! A short-lived cache of verified tokens, so that a busy client does not cost a database read per request for
//! authentication. An entry lives `ttl` (Limits::token_cache_ttl, 2 s by default): a token revoked by another
//! process (`roster token revoke`) stops working within that time. Only tokens that were found are cached.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

use crate::tenant::{TokenHash, TokenRecord};

/// The most entries kept; the cache is emptied when it is full (tokens are few, so this never churns in practice).
const MAX_ENTRIES: usize = 4096;

/// Verified tokens by digest, each with the time it was read.
pub(crate) struct TokenCache {
    ttl: Duration,
    entries: Mutex<HashMap<TokenHash, (TokenRecord, OffsetDateTime)>>,
}

impl TokenCache {
    pub(crate) fn new(ttl: std::time::Duration) -> Self {
        let ttl = Duration::try_from(ttl).unwrap_or(Duration::ZERO);
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The cached record, when it was read less than `ttl` ago.
    pub(crate) fn get(&self, hash: &TokenHash, now: OffsetDateTime) -> Option<TokenRecord> {
        if self.ttl <= Duration::ZERO {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (record, read_at) = entries.get(hash)?;
        (now - *read_at < self.ttl && now >= *read_at).then(|| record.clone())
    }

    /// Remembers a record read from the store at `now`.
    pub(crate) fn put(&self, record: TokenRecord, now: OffsetDateTime) {
        if self.ttl <= Duration::ZERO {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(record.hash, (record, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::{Enterprise, EnterpriseId, EnterpriseSlug, Profile, Scope, Shortcode};

    fn record(secret: &str) -> TokenRecord {
        TokenRecord {
            id: 1,
            enterprise: Enterprise {
                id: EnterpriseId(1),
                slug: EnterpriseSlug::parse("acme").unwrap(),
                shortcode: Shortcode::parse("acme").unwrap(),
                profile: Profile::GithubEmu,
            },
            name: "t".into(),
            scopes: vec![Scope::ScimEnterprise],
            hash: TokenHash::of(secret),
            created: OffsetDateTime::UNIX_EPOCH,
            revoked: None,
            last_used: None,
        }
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = TokenCache::new(std::time::Duration::from_secs(2));
        let start = OffsetDateTime::UNIX_EPOCH;
        let hash = TokenHash::of("a");
        assert_eq!(cache.get(&hash, start), None);
        cache.put(record("a"), start);
        assert_eq!(cache.get(&hash, start + Duration::seconds(1)), Some(record("a")));
        assert_eq!(cache.get(&hash, start + Duration::seconds(2)), None);
        assert_eq!(cache.get(&TokenHash::of("b"), start), None);
        // A clock that went backwards does not extend an entry's life.
        assert_eq!(cache.get(&hash, start - Duration::seconds(1)), None);
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let cache = TokenCache::new(std::time::Duration::ZERO);
        cache.put(record("a"), OffsetDateTime::UNIX_EPOCH);
        assert_eq!(cache.get(&TokenHash::of("a"), OffsetDateTime::UNIX_EPOCH), None);
    }
}

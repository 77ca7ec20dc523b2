//! Portal sessions: a directory user with an admin role signs in with a password and gets a session, whose secret
//! goes in the portal's cookie and whose SHA-256 digest goes in the store (so several nodes share sessions, and a
//! copy of the database signs nobody in). A session ends at sign-out, after its idle time without use, at its
//! absolute expiry, when the user's password changes, and as soon as the user is disabled, deleted or loses every
//! role. Each form of a session carries a CSRF token derived from the session's secret.

use std::time::Duration;

use roster_directory::access::PortalSession;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::Stores;
use crate::access::{Principal, authenticate_password};

/// The prefix of session secrets, so that secret scanners and people recognise them.
pub const SESSION_PREFIX: &str = "roster_ps_";

/// How often a session's use is written: a request within this of the last recorded use writes nothing.
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Without use (1 hour by default).
    pub idle: Duration,
    /// Whatever the use, from sign-in (12 hours by default).
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> SessionPolicy {
        SessionPolicy { idle: Duration::from_secs(3600), absolute: Duration::from_secs(12 * 3600) }
    }
}

/// A session just opened by a sign-in.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The secret for the cookie: shown to this one response, never stored.
    pub secret: String,
    /// Who signed in.
    pub principal: Principal,
    /// The session as stored.
    pub session: PortalSession,
}

/// The SHA-256 digest of a session's secret, by which the store keeps it.
pub fn session_digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Signs a directory user in: a new session (always a new secret, so that a session id planted before sign-in is
/// worth nothing) when the password is right, the account enabled and the user holds a role; `None` otherwise,
/// whichever it was (the answer does not tell which accounts exist).
pub async fn sign_in(
    stores: &Stores,
    upn: &str,
    password: &str,
    ip_address: Option<String>,
    now: OffsetDateTime,
    policy: SessionPolicy,
) -> anyhow::Result<Option<Opened>> {
    let Some(principal) = authenticate_password(stores, upn, password, ip_address).await? else { return Ok(None) };
    let Some(user) = principal.user_id() else { return Ok(None) };
    let secret = format!("{SESSION_PREFIX}{}", hex::encode(rand::random::<[u8; 32]>()));
    let session = PortalSession {
        digest: session_digest(&secret),
        user,
        created: now,
        seen: now,
        expires: now + policy.absolute,
    };
    stores.directory.create_session(&session).await?;
    Ok(Some(Opened { secret, principal, session }))
}

/// The principal of a session's secret, if the session is live: not idle past the policy, not past its absolute
/// expiry, its user enabled, not deleted and still holding a role. A session found dead is deleted. Its use is
/// recorded at most every [`TOUCH_EVERY`].
pub async fn open(
    stores: &Stores,
    secret: &str,
    ip_address: Option<String>,
    now: OffsetDateTime,
    policy: SessionPolicy,
) -> anyhow::Result<Option<(Principal, PortalSession)>> {
    if !secret.starts_with(SESSION_PREFIX) || secret.len() > 200 {
        return Ok(None);
    }
    let digest = session_digest(secret);
    let Some(session) = stores.directory.session_by_digest(&digest).await? else { return Ok(None) };
    if !bool::from(session.digest.ct_eq(&digest)) {
        return Ok(None);
    }
    if !live(&session, now, policy) {
        stores.directory.delete_session(&digest).await?;
        return Ok(None);
    }
    let user = stores.directory.user(&session.user).await?;
    let Some(user) = user.filter(|user| user.account_enabled && user.deleted_date_time.is_none()) else {
        stores.directory.delete_session(&digest).await?;
        return Ok(None);
    };
    let roles = stores.directory.roles(user.id()).await?;
    if roles.is_empty() {
        stores.directory.delete_session(&digest).await?;
        return Ok(None);
    }
    if now - session.seen >= TOUCH_EVERY {
        stores.directory.touch_session(&digest, now).await?;
    }
    Ok(Some((Principal::of_user(&user, roles, ip_address), session)))
}

/// Whether a session is live at `now` under `policy`.
pub fn live(session: &PortalSession, now: OffsetDateTime, policy: SessionPolicy) -> bool {
    now < session.expires && now - session.seen < policy.idle
}

/// Signs out: the session of this secret ends (nothing happens for a secret that names none).
pub async fn sign_out(stores: &Stores, secret: &str) -> anyhow::Result<()> {
    if secret.starts_with(SESSION_PREFIX) {
        stores.directory.delete_session(&session_digest(secret)).await?;
    }
    Ok(())
}

/// Deletes the sessions idle or expired at `now`; how many.
pub async fn prune(stores: &Stores, now: OffsetDateTime, policy: SessionPolicy) -> anyhow::Result<usize> {
    Ok(stores.directory.prune_sessions(now - policy.idle, now).await?)
}

/// The CSRF token of a session: derived from its secret (so that nothing more is stored, and it changes with the
/// session), which it does not reveal.
pub fn csrf_token(secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"roster portal csrf\0");
    hasher.update(secret.as_bytes());
    hex::encode(hasher.finalize())
}

/// Whether `token` is the CSRF token of the session of `secret`, compared in constant time.
pub fn csrf_matches(secret: &str, token: &str) -> bool {
    bool::from(csrf_token(secret).as_bytes().ct_eq(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(seen_ago: Duration, expires_in: Duration, now: OffsetDateTime) -> PortalSession {
        PortalSession {
            digest: [0; 32],
            user: roster_directory::ObjectId::from_u128(1),
            created: now - Duration::from_secs(7200),
            seen: now - seen_ago,
            expires: now + expires_in,
        }
    }

    #[test]
    fn sessions_end_when_idle_or_expired() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let policy = SessionPolicy::default();
        let minute = Duration::from_secs(60);
        let cases = [
            (minute, 60 * minute, true),
            (59 * minute, minute, true),
            (60 * minute, 60 * minute, false),
            (minute, Duration::ZERO, false),
        ];
        for (seen_ago, expires_in, expected) in cases {
            assert_eq!(live(&session(seen_ago, expires_in, now), now, policy), expected, "{seen_ago:?} {expires_in:?}");
        }
    }

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let (one, two) = ("roster_ps_one", "roster_ps_two");
        assert!(csrf_matches(one, &csrf_token(one)));
        assert!(!csrf_matches(one, &csrf_token(two)));
        assert!(!csrf_matches(one, ""));
        assert!(!csrf_token(one).contains("one"), "the token does not show the secret");
        assert_ne!(csrf_token(one), session_digest(one).iter().map(|b| format!("{b:02x}")).collect::<String>());
    }
}

//! The throttle of failed sign-ins, per account and per client address: after [`FAILURES`] failures within
//! [`WINDOW`], a key is refused until the oldest of them leaves the window, and each failure beyond doubles the
//! wait (up to [`LONGEST`]). A success clears the account's failures (not the address's: one address trying many
//! accounts stays throttled). Pure and in memory: each node counts what it saw, which bounds an attacker to
//! [`FAILURES`] tries per window per node.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Failures allowed within the window before a key waits.
pub const FAILURES: usize = 5;
/// The window failures are counted in.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The longest wait.
pub const LONGEST: Duration = Duration::from_secs(15 * 60);
/// Keys kept at most (the oldest are forgotten first), so that a flood of addresses cannot exhaust memory.
const KEYS: usize = 100_000;

/// What a sign-in is counted under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// The account (its user principal name, lowercased).
    Account(String),
    /// The client's address.
    Address(String),
}

/// The failures of each key.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

impl SignInThrottle {
    /// How long a sign-in under these keys must wait, if it must.
    pub fn wait(&self, keys: &[Key], now: Instant) -> Option<Duration> {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        keys.iter().filter_map(|key| failures.get_mut(key).and_then(|times| wait_of(times, now))).max()
    }

    /// Counts a failed sign-in under these keys.
    pub fn failed(&self, keys: &[Key], now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if failures.len() >= KEYS {
            failures.retain(|_, times| times.back().is_some_and(|last| now.duration_since(*last) < WINDOW));
            if failures.len() >= KEYS {
                failures.clear();
            }
        }
        for key in keys {
            let times = failures.entry(key.clone()).or_default();
            times.push_back(now);
            while times.len() > 2 * FAILURES + 16 {
                times.pop_front();
            }
        }
    }

    /// Clears an account's failures after a successful sign-in.
    pub fn succeeded(&self, account: &Key) {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner).remove(account);
    }
}

/// The wait of one key's failures at `now` (dropping those out of the window).
fn wait_of(times: &mut VecDeque<Instant>, now: Instant) -> Option<Duration> {
    while times.front().is_some_and(|first| now.duration_since(*first) >= WINDOW) {
        times.pop_front();
    }
    let beyond = times.len().checked_sub(FAILURES)?;
    let last = *times.back()?;
    let doubled = Duration::from_secs(1).saturating_mul(1 << beyond.min(20));
    let wait = doubled.min(LONGEST).saturating_sub(now.duration_since(last));
    (!wait.is_zero()).then_some(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_beyond_the_allowance_wait_longer_and_longer() {
        let throttle = SignInThrottle::default();
        let start = Instant::now();
        let keys = [Key::Account("ada@contoso.example".into()), Key::Address("192.0.2.1".into())];
        for _ in 0..FAILURES - 1 {
            throttle.failed(&keys, start);
        }
        assert_eq!(throttle.wait(&keys, start), None, "within the allowance");
        throttle.failed(&keys, start);
        assert_eq!(throttle.wait(&keys, start), Some(Duration::from_secs(1)));
        throttle.failed(&keys, start);
        assert_eq!(throttle.wait(&keys, start), Some(Duration::from_secs(2)));
        assert_eq!(throttle.wait(&keys, start + Duration::from_secs(2)), None, "the wait passes");
        for _ in 0..30 {
            throttle.failed(&keys, start);
        }
        assert_eq!(throttle.wait(&keys, start), Some(LONGEST));
        assert_eq!(throttle.wait(&keys, start + WINDOW), None, "failures leave the window");
    }

    #[test]
    fn a_success_clears_the_account_but_not_the_address() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        let (account, address) = (Key::Account("ada@contoso.example".into()), Key::Address("192.0.2.1".into()));
        for _ in 0..FAILURES + 1 {
            throttle.failed(&[account.clone(), address.clone()], now);
        }
        throttle.succeeded(&account);
        assert_eq!(throttle.wait(std::slice::from_ref(&account), now), None);
        assert!(throttle.wait(std::slice::from_ref(&address), now).is_some());
        let other = Key::Account("bob@contoso.example".into());
        assert!(throttle.wait(&[other.clone(), address], now).is_some(), "another account from the same address");
        assert_eq!(throttle.wait(&[other], now), None);
    }
}

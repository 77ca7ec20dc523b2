//! Counters of what a client sent and how often it waited.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A snapshot of a client's counters since it was made (shared by its clones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientStats {
    /// GET attempts sent (retries included).
    pub gets: u64,
    /// POST attempts sent.
    pub posts: u64,
    /// PATCH attempts sent.
    pub patches: u64,
    /// DELETE attempts sent.
    pub deletes: u64,
    /// Retries (attempts after the first).
    pub retries: u64,
    /// Requests that had to wait for the budget or for a server's hold before an attempt.
    pub throttled_waits: u64,
    /// The time spent in those waits, added up.
    pub throttled_time: Duration,
    /// Answers that asked the client to slow down: 429, a rate-limit 403, or any retryable status with
    /// `Retry-After`.
    pub server_throttles: u64,
}

impl ClientStats {
    /// Every attempt sent.
    pub fn requests(&self) -> u64 {
        self.gets + self.posts + self.patches + self.deletes
    }
}

/// The live counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub gets: AtomicU64,
    pub posts: AtomicU64,
    pub patches: AtomicU64,
    pub deletes: AtomicU64,
    pub retries: AtomicU64,
    pub throttled_waits: AtomicU64,
    pub throttled_nanos: AtomicU64,
    pub server_throttles: AtomicU64,
}

impl Counters {
    /// Adds one to a counter.
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Records a wait before an attempt.
    pub(crate) fn waited(&self, wait: Duration) {
        if !wait.is_zero() {
            Self::bump(&self.throttled_waits);
            let nanos = u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX);
            self.throttled_nanos.fetch_add(nanos, Ordering::Relaxed);
        }
    }

    /// A snapshot.
    pub(crate) fn snapshot(&self) -> ClientStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ClientStats {
            gets: load(&self.gets),
            posts: load(&self.posts),
            patches: load(&self.patches),
            deletes: load(&self.deletes),
            retries: load(&self.retries),
            throttled_waits: load(&self.throttled_waits),
            throttled_time: Duration::from_nanos(load(&self.throttled_nanos)),
            server_throttles: load(&self.server_throttles),
        }
    }
}

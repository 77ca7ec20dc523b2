//! Graph's rate limit of provisioning on demand: 5 requests per 10 s per job, counted in this process, shared by
//! the admin API and the portal.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Requests allowed per job within [`WINDOW`] (Graph's limit).
pub const LIMIT: usize = 5;
/// The rate limit's window.
pub const WINDOW: Duration = Duration::from_secs(10);

/// The on-demand requests of each job in the last [`WINDOW`], in this process.
#[derive(Debug, Clone, Default)]
pub struct Limiter {
    calls: Arc<Mutex<HashMap<String, VecDeque<Instant>>>>,
}

impl Limiter {
    /// Counts a request of `job` at `now`; `Err` with the wait until one is allowed again when [`LIMIT`] requests
    /// came within the last [`WINDOW`] (the refused request is not counted).
    pub fn admit(&self, job: &str, now: Instant) -> Result<(), Duration> {
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        calls.retain(|_, window| window.back().is_some_and(|last| now.saturating_duration_since(*last) < WINDOW));
        let window = calls.entry(job.to_owned()).or_default();
        while window.front().is_some_and(|first| now.saturating_duration_since(*first) >= WINDOW) {
            window.pop_front();
        }
        if window.len() >= LIMIT {
            let first = window.front().copied().unwrap_or(now);
            return Err(WINDOW.saturating_sub(now.saturating_duration_since(first)));
        }
        window.push_back(now);
        Ok(())
    }
}

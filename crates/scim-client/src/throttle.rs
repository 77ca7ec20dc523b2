//! The asynchronous side of the rate budget: requests wait here for room in every window and for the "not
//! before" instant a server announced (`Retry-After`), shared by every request of a client.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::budget::{Access, Budget, Ledger};

/// The budget's ledger and the server's hold, behind one lock held only for arithmetic.
#[derive(Debug)]
pub(crate) struct Throttle {
    state: Mutex<State>,
    max_server_wait: Duration,
}

#[derive(Debug)]
struct State {
    ledger: Ledger,
    /// No request before this instant: a server asked for it.
    not_before: Option<Instant>,
}

impl State {
    /// How long the server's hold still lasts at `now`.
    fn hold(&self, now: Instant) -> Duration {
        self.not_before.map_or(Duration::ZERO, |at| at.saturating_duration_since(now))
    }
}

/// The current instant by tokio's clock (which tests may pause and advance), as a `std` instant.
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

impl Throttle {
    /// A throttle with full buckets and no hold. A hold longer than `max_server_wait` is not waited out:
    /// [`Throttle::admit`] fails at once.
    pub(crate) fn new(budget: &Budget, max_server_wait: Duration) -> Self {
        Self { state: Mutex::new(State { ledger: Ledger::new(budget, now()), not_before: None }), max_server_wait }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reserves one request's points and waits until it may be sent. Returns how long it waited, or, when a
    /// server's hold lasts longer than `max_server_wait`, `Err` with the hold's remaining time (then nothing is
    /// reserved and nothing sent).
    pub(crate) async fn admit(&self, access: Access) -> Result<Duration, Duration> {
        let wait = {
            let mut state = self.lock();
            let now = now();
            let hold = state.hold(now);
            if hold > self.max_server_wait {
                return Err(hold);
            }
            state.ledger.reserve(access, now).max(hold)
        };
        let mut waited = wait;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        // A server may have asked for a (longer) hold while this request waited.
        loop {
            let hold = self.lock().hold(now());
            if hold.is_zero() {
                return Ok(waited);
            }
            if hold > self.max_server_wait {
                return Err(hold);
            }
            waited += hold;
            tokio::time::sleep(hold).await;
        }
    }

    /// Holds every request back until `until` (or later, if a longer hold is already in force).
    pub(crate) fn hold_until(&self, until: Instant) {
        let mut state = self.lock();
        state.not_before = Some(state.not_before.map_or(until, |at| at.max(until)));
    }

    /// How long `reads` reads and `writes` writes need from now: the budget's time, or the server's hold if it
    /// is longer.
    pub(crate) fn eta(&self, reads: u64, writes: u64) -> Duration {
        let state = self.lock();
        let now = now();
        state.ledger.eta(reads, writes, now).max(state.hold(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_wait_for_the_budget_and_for_a_hold() {
        let throttle = Throttle::new(&Budget::requests_per(2, Duration::from_secs(1)), Duration::from_secs(60));
        assert_eq!(throttle.admit(Access::Read).await, Ok(Duration::ZERO));
        assert_eq!(throttle.admit(Access::Read).await, Ok(Duration::ZERO));
        assert_eq!(throttle.admit(Access::Write).await, Ok(Duration::from_millis(500)));

        throttle.hold_until(now() + Duration::from_secs(10));
        throttle.hold_until(now() + Duration::from_secs(5));
        let eta = throttle.eta(1, 0);
        assert!(eta > Duration::from_secs(9) && eta <= Duration::from_secs(10), "{eta:?}");
        let waited = throttle.admit(Access::Read).await.unwrap_or_default();
        assert!(waited >= Duration::from_secs(9), "{waited:?}");

        throttle.hold_until(now() + Duration::from_secs(3600));
        let refused = throttle.admit(Access::Read).await;
        assert!(refused.is_err_and(|hold| hold > Duration::from_secs(3599)), "{refused:?}");
    }
}

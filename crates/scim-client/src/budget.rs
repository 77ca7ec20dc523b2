//! The rate budget: windows of capacity that every request draws from, and the pure arithmetic behind waiting
//! and the ETA.
//!
//! Each [`Window`] is a token bucket of `capacity` points that refills evenly over `period`, starting full: a
//! burst of `capacity` points passes at once, then points come back at `capacity / period`. A request costs
//! `read_cost` (GET) or `write_cost` (POST, PUT, PATCH, DELETE) points in every window, and goes when every
//! window has room. The bucket is kept as a *theoretical arrival time* (GCRA): a request reserves its points at
//! once, even when it has to wait for them, so waiting requests are served in order and the arithmetic is
//! exact integer arithmetic (waits are rounded up to the nanosecond).

use std::time::{Duration, Instant};

/// One rate window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The period over which `capacity` points refill.
    pub period: Duration,
    /// Points per period (at least 1).
    pub capacity: u32,
    /// Points a read (GET) costs.
    pub read_cost: u32,
    /// Points a write (POST, PUT, PATCH, DELETE) costs.
    pub write_cost: u32,
}

/// A set of windows enforced together.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Budget {
    /// The windows; none means unlimited.
    pub windows: Vec<Window>,
}

/// Whether a request reads or writes, which decides its cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// GET.
    Read,
    /// POST, PUT, PATCH, DELETE.
    Write,
}

impl Budget {
    /// No limit.
    pub fn unlimited() -> Self {
        Self { windows: Vec::new() }
    }

    /// GitHub's documented limits for a personal access token (reference §2.8): 5,000 requests an hour (each
    /// costs 1), and 900 points a minute with a GET costing 1 point and a POST, PATCH, PUT or DELETE 5.
    pub fn github() -> Self {
        Self {
            windows: vec![
                Window { period: Duration::from_secs(3600), capacity: 5000, read_cost: 1, write_cost: 1 },
                Window { period: Duration::from_secs(60), capacity: 900, read_cost: 1, write_cost: 5 },
            ],
        }
    }

    /// A budget of `n` requests (of any kind) per `period`.
    pub fn requests_per(n: u32, period: Duration) -> Self {
        Self { windows: vec![Window { period, capacity: n, read_cost: 1, write_cost: 1 }] }
    }

    /// Checks that every window can refill: a positive period and capacity.
    pub fn validate(&self) -> Result<(), String> {
        for (index, window) in self.windows.iter().enumerate() {
            if window.capacity == 0 || window.period.is_zero() {
                return Err(format!(
                    "budget window {index} must have a capacity of at least 1 and a non-zero period (has {} per {:?})",
                    window.capacity, window.period
                ));
            }
        }
        Ok(())
    }
}

impl Window {
    /// The points an access costs here.
    fn cost(&self, access: Access) -> u128 {
        u128::from(match access {
            Access::Read => self.read_cost,
            Access::Write => self.write_cost,
        })
    }

    /// What a [`Ledger`] multiplies nanoseconds by for this window (its capacity): in that unit a point refills
    /// in exactly `period` units, so no rounding accumulates.
    fn scale(&self) -> u128 {
        u128::from(self.capacity)
    }
}

/// A duration from nanoseconds, saturating at `Duration::MAX`.
fn duration_from_nanos(nanos: u128) -> Duration {
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    let subsec = u32::try_from(nanos % 1_000_000_000).unwrap_or(0);
    Duration::new(secs, subsec)
}

/// The state of a budget: per window, the instant at which its bucket would be full again if nothing else
/// were asked (its theoretical arrival time). Times are kept as nanoseconds since the ledger's origin,
/// multiplied by the window's capacity, so that one point is exactly `period` units. Pure: the caller passes
/// the time.
#[derive(Debug, Clone)]
pub(crate) struct Ledger {
    origin: Instant,
    windows: Vec<(Window, u128)>,
}

impl Ledger {
    /// A ledger whose buckets are full at `now`.
    pub(crate) fn new(budget: &Budget, now: Instant) -> Self {
        Self { origin: now, windows: budget.windows.iter().filter(|w| w.capacity > 0).map(|w| (*w, 0)).collect() }
    }

    /// The time from `now` until the bucket whose (scaled) arrival time is `tat` has room again, given that
    /// `now_scaled` is `now` in the same unit.
    fn wait(window: &Window, tat: u128, now_scaled: u128) -> Duration {
        let burst = window.period.as_nanos().saturating_mul(window.scale());
        let over = tat.saturating_sub(now_scaled).saturating_sub(burst);
        duration_from_nanos(over.div_ceil(window.scale()))
    }

    /// `now` in a window's unit.
    fn scaled(&self, window: &Window, now: Instant) -> u128 {
        now.saturating_duration_since(self.origin).as_nanos().saturating_mul(window.scale())
    }

    /// Reserves one request's points in every window at `now`, and returns how long it must wait before it may
    /// be sent (zero when every window has room).
    pub(crate) fn reserve(&mut self, access: Access, now: Instant) -> Duration {
        let mut wait = Duration::ZERO;
        for index in 0..self.windows.len() {
            let (window, tat) = self.windows[index];
            let now_scaled = self.scaled(&window, now);
            let next = tat.max(now_scaled).saturating_add(window.period.as_nanos().saturating_mul(window.cost(access)));
            self.windows[index].1 = next;
            wait = wait.max(Self::wait(&window, next, now_scaled));
        }
        wait
    }

    /// How long from `now` until `reads` reads and `writes` writes (on top of what is already reserved) could
    /// all have started: the slowest window's time to refill what exceeds its room.
    pub(crate) fn eta(&self, reads: u64, writes: u64, now: Instant) -> Duration {
        let mut eta = Duration::ZERO;
        for (window, tat) in &self.windows {
            let points =
                u128::from(reads) * window.cost(Access::Read) + u128::from(writes) * window.cost(Access::Write);
            if points == 0 {
                continue;
            }
            let now_scaled = self.scaled(window, now);
            let next = (*tat).max(now_scaled).saturating_add(window.period.as_nanos().saturating_mul(points));
            eta = eta.max(Self::wait(window, next, now_scaled));
        }
        eta
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn unlimited_never_waits() {
        let now = Instant::now();
        let mut ledger = Ledger::new(&Budget::unlimited(), now);
        for _ in 0..10_000 {
            assert_eq!(ledger.reserve(Access::Write, now), Duration::ZERO);
        }
        assert_eq!(ledger.eta(1_000_000, 1_000_000, now), Duration::ZERO);
    }

    #[test]
    fn a_full_bucket_passes_a_burst_then_paces() {
        // 10 requests per second: 10 pass at once, the 11th waits 100 ms, the 12th 200 ms.
        let now = Instant::now();
        let mut ledger = Ledger::new(&Budget::requests_per(10, Duration::from_secs(1)), now);
        for _ in 0..10 {
            assert_eq!(ledger.reserve(Access::Read, now), Duration::ZERO);
        }
        assert_eq!(ledger.reserve(Access::Read, now), ms(100));
        assert_eq!(ledger.reserve(Access::Read, now), ms(200));
        // Half a second later 5 points have come back: 12 - 5 = 7 are used, so 3 more pass and the 4th waits.
        let later = now + ms(500);
        for _ in 0..3 {
            assert_eq!(ledger.reserve(Access::Read, later), Duration::ZERO);
        }
        assert_eq!(ledger.reserve(Access::Read, later), ms(100));
    }

    #[test]
    fn idle_time_refills_but_never_beyond_capacity() {
        let now = Instant::now();
        let mut ledger = Ledger::new(&Budget::requests_per(2, Duration::from_secs(1)), now);
        let later = now + Duration::from_secs(3600);
        assert_eq!(ledger.reserve(Access::Read, later), Duration::ZERO);
        assert_eq!(ledger.reserve(Access::Read, later), Duration::ZERO);
        assert_eq!(ledger.reserve(Access::Read, later), ms(500));
    }

    #[test]
    fn github_writes_are_limited_by_the_minute_window() {
        // 900 points a minute at 5 points a write: 180 writes pass, then one every 333.33 ms.
        let now = Instant::now();
        let mut ledger = Ledger::new(&Budget::github(), now);
        for _ in 0..180 {
            assert_eq!(ledger.reserve(Access::Write, now), Duration::ZERO);
        }
        assert_eq!(ledger.reserve(Access::Write, now), Duration::from_nanos(333_333_334));
        // Reads cost one point in that window.
        let mut ledger = Ledger::new(&Budget::github(), now);
        for _ in 0..900 {
            assert_eq!(ledger.reserve(Access::Read, now), Duration::ZERO);
        }
        assert_eq!(ledger.reserve(Access::Read, now), Duration::from_nanos(66_666_667));
    }

    #[test]
    fn github_reads_are_limited_by_the_hour_window_in_the_long_run() {
        let now = Instant::now();
        let ledger = Ledger::new(&Budget::github(), now);
        // Table: (reads, writes, expected ETA).
        let cases = [
            (0, 0, Duration::ZERO),
            (900, 0, Duration::ZERO),
            (901, 0, Duration::from_nanos(66_666_667)),
            (0, 180, Duration::ZERO),
            // 1,000 writes = 5,000 points: the minute window needs (5,000 - 900) / 900 minutes = 273.33 s.
            (0, 1000, Duration::from_nanos(273_333_333_334)),
            // 10,000 reads: the hour window needs (10,000 - 5,000) * 0.72 s = 3,600 s; the minute window only
            // (10,000 - 900) / 15 per s = 606.67 s.
            (10_000, 0, Duration::from_secs(3600)),
            // 100,000 users + 1,000 groups created, 100,000 members in 1,000 PATCHes, 101,000 matching GETs:
            // 203,000 requests in the hour window = (203,000 - 5,000) * 0.72 s = 142,560 s (39.6 h).
            (101_000, 102_000, Duration::from_secs(142_560)),
        ];
        for (reads, writes, expected) in cases {
            assert_eq!(ledger.eta(reads, writes, now), expected, "{reads} reads, {writes} writes");
        }
    }

    #[test]
    fn eta_counts_what_is_already_reserved() {
        let now = Instant::now();
        let mut ledger = Ledger::new(&Budget::requests_per(10, Duration::from_secs(1)), now);
        assert_eq!(ledger.eta(20, 0, now), Duration::from_secs(1));
        for _ in 0..10 {
            ledger.reserve(Access::Read, now);
        }
        assert_eq!(ledger.eta(20, 0, now), Duration::from_secs(2));
        assert_eq!(ledger.eta(20, 0, now + Duration::from_secs(1)), Duration::from_secs(1));
    }

    #[test]
    fn a_request_costlier_than_a_window_still_goes_eventually() {
        let now = Instant::now();
        let budget = Budget {
            windows: vec![Window { period: Duration::from_secs(1), capacity: 2, read_cost: 1, write_cost: 4 }],
        };
        let mut ledger = Ledger::new(&budget, now);
        assert_eq!(ledger.reserve(Access::Write, now), Duration::from_secs(1));
    }

    #[test]
    fn validation_refuses_windows_that_never_refill() {
        assert!(Budget::github().validate().is_ok());
        assert!(Budget::requests_per(0, Duration::from_secs(1)).validate().is_err());
        assert!(Budget::requests_per(1, Duration::ZERO).validate().is_err());
    }
}

//! Escrows: objects whose export failed, kept in the job state and retried on a schedule that grows (Entra: 6 h,
//! 12 h, 24 h, then daily, for 28 days). Errors that a retry cannot fix (a 400 schema error, a 409 conflict, a
//! mapping that fails) are not retried on the schedule: the object comes back when it changes in the directory.
//! Pure: the previous escrows and this cycle's failures in, the next escrows out.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::log::ObjectKind;

/// One object in escrow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escrow {
    /// User or group.
    pub kind: ObjectKind,
    /// The directory object id.
    pub source_id: String,
    /// Entra's error code of the last failure.
    pub code: String,
    /// Whether the schedule retries it (else it waits for a change of the object).
    pub retryable: bool,
    /// How many cycles failed on it.
    pub attempts: u32,
    /// When it first failed.
    #[serde(with = "time::serde::rfc3339")]
    pub first_failed: OffsetDateTime,
    /// When the schedule retries it next (`None`: not retryable).
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub next_attempt: Option<OffsetDateTime>,
}

/// A failure of this cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Entra's error code.
    pub code: String,
    /// Whether a retry can fix it.
    pub retryable: bool,
}

/// When failed objects are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    /// The gaps after the first, second, ... failure; the last one repeats.
    pub gaps: Vec<Duration>,
    /// After this long since the first failure the escrow is dropped (and logged).
    pub give_up_after: Duration,
}

impl Default for RetrySchedule {
    /// Self-hosting defaults: 10 minutes, 1 hour, 6 hours, then daily, for 28 days.
    fn default() -> Self {
        RetrySchedule {
            gaps: vec![
                Duration::from_secs(600),
                Duration::from_secs(3600),
                Duration::from_secs(6 * 3600),
                Duration::from_secs(24 * 3600),
            ],
            give_up_after: Duration::from_secs(28 * 24 * 3600),
        }
    }
}

impl RetrySchedule {
    fn gap(&self, attempts: u32) -> Duration {
        let index = usize::try_from(attempts.saturating_sub(1)).unwrap_or(usize::MAX);
        self.gaps.get(index).or(self.gaps.last()).copied().unwrap_or(Duration::from_secs(24 * 3600))
    }
}

/// Whether an escrow is due for a retry at `now`.
pub fn is_due(escrow: &Escrow, now: OffsetDateTime) -> bool {
    escrow.retryable && escrow.next_attempt.is_some_and(|next| next <= now)
}

/// The escrows after a cycle: every failure of this cycle (continuing its earlier escrow, or new), and the earlier
/// escrows of objects this cycle did not evaluate. Escrows older than the schedule allows are returned apart, to
/// be logged as given up.
pub fn after_cycle(
    previous: &[Escrow],
    failures: &BTreeMap<(ObjectKind, String), Failure>,
    evaluated: &dyn Fn(ObjectKind, &str) -> bool,
    now: OffsetDateTime,
    schedule: &RetrySchedule,
) -> (Vec<Escrow>, Vec<Escrow>) {
    let earlier: BTreeMap<(ObjectKind, &str), &Escrow> =
        previous.iter().map(|escrow| ((escrow.kind, escrow.source_id.as_str()), escrow)).collect();
    let mut kept = Vec::new();
    let mut given_up = Vec::new();
    for ((kind, id), failure) in failures {
        let (attempts, first_failed) = match earlier.get(&(*kind, id.as_str())) {
            Some(escrow) => (escrow.attempts + 1, escrow.first_failed),
            None => (1, now),
        };
        let next_attempt = failure.retryable.then(|| now + schedule.gap(attempts));
        let escrow = Escrow {
            kind: *kind,
            source_id: id.clone(),
            code: failure.code.clone(),
            retryable: failure.retryable,
            attempts,
            first_failed,
            next_attempt,
        };
        if now - first_failed > schedule.give_up_after {
            given_up.push(escrow);
        } else {
            kept.push(escrow);
        }
    }
    for escrow in previous {
        let key = (escrow.kind, escrow.source_id.clone());
        if !failures.contains_key(&key) && !evaluated(escrow.kind, &escrow.source_id) {
            kept.push(escrow.clone());
        }
    }
    (kept, given_up)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn failures(entries: &[(&str, bool)]) -> BTreeMap<(ObjectKind, String), Failure> {
        entries
            .iter()
            .map(|(id, retryable)| {
                ((ObjectKind::User, (*id).to_owned()), Failure { code: "X".to_owned(), retryable: *retryable })
            })
            .collect()
    }

    #[test]
    fn escrows_grow_their_gaps_and_give_up() {
        let schedule = RetrySchedule::default();
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let none = |_: ObjectKind, _: &str| false;
        let (first, _) = after_cycle(&[], &failures(&[("a", true), ("b", false)]), &none, t0, &schedule);
        assert_eq!(first[0].next_attempt, Some(t0 + Duration::from_secs(600)));
        assert_eq!((first[1].retryable, first[1].next_attempt), (false, None));
        assert!(!is_due(&first[0], t0) && is_due(&first[0], t0 + Duration::from_secs(600)));
        assert!(!is_due(&first[1], t0 + Duration::from_secs(10 * 24 * 3600)));

        // Fails again: the next gap; its first failure is kept.
        let t1 = t0 + Duration::from_secs(600);
        let (second, _) = after_cycle(&first, &failures(&[("a", true)]), &|_, id| id == "a", t1, &schedule);
        let a = second.iter().find(|escrow| escrow.source_id == "a").unwrap();
        assert_eq!((a.attempts, a.first_failed, a.next_attempt), (2, t0, Some(t1 + Duration::from_secs(3600))));
        // b was not evaluated: kept as it was.
        assert!(second.iter().any(|escrow| escrow.source_id == "b" && escrow.attempts == 1));

        // Evaluated without failing: gone.
        let (third, _) = after_cycle(&second, &BTreeMap::new(), &|_, id| id == "a", t1, &schedule);
        assert!(third.iter().all(|escrow| escrow.source_id != "a"));

        // Past 28 days: given up.
        let late = t0 + Duration::from_secs(29 * 24 * 3600);
        let (kept, given_up) = after_cycle(&second, &failures(&[("a", true)]), &|_, _| true, late, &schedule);
        assert!(kept.is_empty());
        assert_eq!(given_up[0].attempts, 3);
        // The last gap repeats.
        assert_eq!(schedule.gap(9), Duration::from_secs(24 * 3600));
    }
}

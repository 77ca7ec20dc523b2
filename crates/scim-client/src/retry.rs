//! When to retry and how long to wait: the retry policy, exponential back-off with full jitter, and the
//! server's own instructions (`Retry-After`, GitHub's `x-ratelimit-reset`).

use std::time::Duration;

use rand::Rng;
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;

/// How often and how patiently to retry a request that failed for a transient reason (429, 500, 502, 503,
/// 504, a rate-limit 403, a timeout, a refused, reset or dropped connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1; 1 means no retry).
    pub max_attempts: u32,
    /// The back-off before the first retry; it doubles on every retry, up to `max`.
    pub base: Duration,
    /// The longest back-off.
    pub max: Duration,
    /// The longest wait a server may impose (`Retry-After`, a rate-limit reset) for the client to still retry in
    /// place. A longer one fails the request at once with the wait in the error (the engine retries the object in a later cycle), and
    /// requests that would have to wait behind it fail the same way.
    pub max_server_wait: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, 500 ms base, 30 s cap, servers may impose waits of up to 10 minutes.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base: Duration::from_millis(500),
            max: Duration::from_secs(30),
            max_server_wait: Duration::from_secs(600),
        }
    }
}

impl RetryPolicy {
    /// No retry at all.
    pub fn never() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// The back-off ceiling before retry number `retry` (1 for the first retry): `base * 2^(retry - 1)`, capped
    /// at `max`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.saturating_sub(1).min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The back-off before retry number `retry`, with full jitter: uniform in `[0, ceiling(retry)]`.
    pub fn backoff(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(retry);
        if ceiling.is_zero() {
            return ceiling;
        }
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.gen_range(0..=nanos))
    }
}

/// Parses a `Retry-After` value (RFC 9110 §10.2.3): a number of seconds, or an HTTP-date, relative to `now`
/// (the answer's `Date` header, else the local clock). A date in the past means "now" (zero); anything else
/// unreadable is `None`.
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let at = parse_http_date(value)?;
    Some(until(at, now))
}

/// The time from `now` until `at`, zero if `at` has passed.
pub(crate) fn until(at: OffsetDateTime, now: OffsetDateTime) -> Duration {
    Duration::try_from(at - now).unwrap_or(Duration::ZERO)
}

/// Parses an HTTP-date (RFC 9110 §5.6.7) in any of its three forms: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37
/// GMT`), the obsolete RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
pub fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    const IMF: &str = "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT";
    const RFC850: &str = "[weekday], [day]-[month repr:short]-[year] [hour]:[minute]:[second] GMT";
    const ASCTIME: &str = "[weekday repr:short] [month repr:short] [day padding:space] [hour]:[minute]:[second] [year]";
    let value = value.trim();
    if let Some(at) = parse_utc(value, IMF) {
        return Some(at);
    }
    if let Some(at) = parse_utc(value, ASCTIME) {
        return Some(at);
    }
    // RFC 850 has a two-digit year: 70-99 are read as 19xx and 00-69 as 20xx (RFC 9110 asks for "not more than
    // 50 years in the future"; a fixed pivot is enough for a form no current server sends).
    let (head, rest) = value.split_once('-')?;
    let (month, rest) = rest.split_once('-')?;
    let (year, tail) = rest.split_once(' ')?;
    if year.len() != 2 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let two: u32 = year.parse().ok()?;
    let full = if two < 70 { 2000 + two } else { 1900 + two };
    parse_utc(&format!("{head}-{month}-{full} {tail}"), RFC850)
}

/// Parses `value` with a format description, as UTC.
fn parse_utc(value: &str, description: &str) -> Option<OffsetDateTime> {
    let items: Vec<BorrowedFormatItem<'_>> = time::format_description::parse_borrowed::<2>(description).ok()?;
    time::PrimitiveDateTime::parse(value, &items).ok().map(time::PrimitiveDateTime::assume_utc)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// 1994-11-06T08:49:37Z, the RFC's example date.
    const EXAMPLE: i64 = 784_111_777;

    #[test]
    fn retry_after_values() {
        let now = at(EXAMPLE - 120);
        let cases: &[(&str, Option<Duration>)] = &[
            ("0", Some(Duration::ZERO)),
            ("1", Some(Duration::from_secs(1))),
            (" 120 ", Some(Duration::from_secs(120))),
            ("99999999999999999999999", Some(Duration::from_secs(u64::MAX))),
            ("Sun, 06 Nov 1994 08:49:37 GMT", Some(Duration::from_secs(120))),
            ("Sunday, 06-Nov-94 08:49:37 GMT", Some(Duration::from_secs(120))),
            ("Sun Nov  6 08:49:37 1994", Some(Duration::from_secs(120))),
            // In the past: go now.
            ("Sun, 06 Nov 1994 08:47:37 GMT", Some(Duration::ZERO)),
            ("Sat, 06 Nov 1993 08:49:37 GMT", Some(Duration::ZERO)),
            ("", None),
            ("-1", None),
            ("1.5", None),
            ("soon", None),
            ("Sun, 06 Nov 1994 08:49:37 CET", None),
            ("Sunday, 06-Nov-1994 08:49:37 GMT", None),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_retry_after(value, now), *expected, "Retry-After: {value:?}");
        }
    }

    #[test]
    fn http_dates_in_three_forms_agree() {
        for value in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            assert_eq!(parse_http_date(value), Some(at(EXAMPLE)), "{value}");
        }
        assert_eq!(parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT"), Some(at(0)));
        assert_eq!(parse_http_date("Wed, 01 Jan 2031 00:00:00 GMT"), Some(at(1_924_992_000)));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_full_jitter() {
        let policy = RetryPolicy::default();
        let ceilings: Vec<Duration> = (1..=9).map(|retry| policy.ceiling(retry)).collect();
        let expected: Vec<Duration> =
            [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000].map(Duration::from_millis).to_vec();
        assert_eq!(ceilings, expected);
        assert_eq!(policy.ceiling(u32::MAX), Duration::from_secs(30));

        let mut rng = StdRng::seed_from_u64(7);
        let samples: Vec<Duration> = (0..1000).map(|_| policy.backoff(3, &mut rng)).collect();
        assert!(samples.iter().all(|d| *d <= Duration::from_secs(2)));
        // Spread over the whole range, not clustered at the ceiling.
        assert!(samples.iter().any(|d| *d < Duration::from_millis(200)));
        assert!(samples.iter().any(|d| *d > Duration::from_millis(1800)));

        let zero = RetryPolicy { base: Duration::ZERO, ..policy };
        assert_eq!(zero.backoff(1, &mut rng), Duration::ZERO);
    }
}

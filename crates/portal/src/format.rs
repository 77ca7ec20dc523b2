//! How pages write times, durations and counts: times in UTC as Entra's exports do, durations in words.

use time::OffsetDateTime;
use time::macros::format_description;

/// `2026-12-07 15:31:02 UTC`.
pub fn time(at: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    at.to_offset(time::UtcOffset::UTC).format(&format).unwrap_or_default()
}

/// `2026-12-07 15:31:02 UTC`, or `—` for none.
pub fn maybe_time(at: Option<OffsetDateTime>) -> String {
    at.map_or_else(|| "—".to_owned(), time)
}

/// A duration in words: `0.4 seconds`, `12 seconds`, `5 min 3 s`, `2 h 14 min`.
pub fn duration(duration: time::Duration) -> String {
    let seconds = duration.as_seconds_f64().max(0.0);
    if seconds < 10.0 {
        return format!("{seconds:.1} seconds");
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = seconds.round() as u64;
    match whole {
        0..60 => format!("{whole} seconds"),
        60..3600 => format!("{} min {} s", whole / 60, whole % 60),
        _ => format!("{} h {} min", whole / 3600, (whole % 3600) / 60),
    }
}

/// A count with thousands separators: `1,234,567`.
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A line with a caret under the 1-based `column` of the line above it (an expression's parse error).
pub fn caret(column: usize) -> String {
    format!("{}^", " ".repeat(column.saturating_sub(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_counts_read_as_words() {
        let cases = [(0.4, "0.4 seconds"), (12.0, "12 seconds"), (303.0, "5 min 3 s"), (8040.0, "2 h 14 min")];
        for (seconds, expected) in cases {
            assert_eq!(duration(time::Duration::seconds_f64(seconds)), expected);
        }
        let counts = [(0, "0"), (999, "999"), (1000, "1,000"), (1_234_567, "1,234,567")];
        for (value, expected) in counts {
            assert_eq!(count(value), expected);
        }
        assert_eq!(time(OffsetDateTime::UNIX_EPOCH), "1970-01-01 00:00:00 UTC");
    }
}

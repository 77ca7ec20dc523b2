//! Dates: .NET custom format strings (formatting and parsing), lenient parsing for CDate, VBA's DateAdd and
//! DateDiff arithmetic, and Active Directory's FILETIME numbers.

use time::{Date, Duration, Month, OffsetDateTime, Time, UtcOffset};

/// The format Entra uses to show dates (`Now`, `CDate`, `DateAdd`): `M/d/yyyy h:mm:ss tt`.
pub(crate) const DISPLAY_FORMAT: &str = "M/d/yyyy h:mm:ss tt";

pub(crate) fn display(at: OffsetDateTime) -> String {
    format(at, DISPLAY_FORMAT).unwrap_or_default()
}

/// Seconds between 1601-01-01 (FILETIME's epoch) and 1970-01-01.
const FILETIME_EPOCH_OFFSET: i64 = 11_644_473_600;
const TICKS_PER_SECOND: i64 = 10_000_000;

/// AD's FILETIME (100 ns ticks since 1601-01-01 UTC) to a date.
pub(crate) fn from_filetime(ticks: i64) -> Option<OffsetDateTime> {
    let seconds = ticks.div_euclid(TICKS_PER_SECOND).checked_sub(FILETIME_EPOCH_OFFSET)?;
    let nanos = ticks.rem_euclid(TICKS_PER_SECOND) * 100;
    OffsetDateTime::from_unix_timestamp(seconds).ok()?.checked_add(Duration::nanoseconds(nanos))
}

/// A date to AD's FILETIME.
pub(crate) fn to_filetime(at: OffsetDateTime) -> Option<i64> {
    let seconds = i128::from(at.unix_timestamp()) + i128::from(FILETIME_EPOCH_OFFSET);
    let ticks = seconds * i128::from(TICKS_PER_SECOND) + i128::from(at.nanosecond() / 100);
    i64::try_from(ticks).ok()
}

/// Parses the date forms Entra's examples feed CDate and the date functions: ISO 8601 with or without a time
/// and offset (`2020-03-16-07:00`, `2009-06-15T01:45:30-07:00`, `2021-08-24`), and the display form
/// `8/25/2021 5:41:18 PM`. A date without an offset is taken as UTC.
pub(crate) fn parse_lenient(text: &str) -> Option<OffsetDateTime> {
    const PATTERNS: &[&str] = &[
        "yyyy-M-dTH:m:s.FFFFFFFK",
        "yyyy-M-dTH:m:sK",
        "yyyy-M-dTH:mK",
        "yyyy-M-d H:m:s.FFFFFFFK",
        "yyyy-M-d H:m:sK",
        "yyyy-M-d H:mK",
        "yyyy-M-dK",
        "M/d/yyyy h:m:s tt",
        "M/d/yyyy H:m:s",
        "M/d/yyyy h:m tt",
        "M/d/yyyy H:m",
        "M/d/yyyy",
        "yyyyMMddHHmmss.FFFFFFFK",
        "yyyyMMddHHmmssK",
    ];
    PATTERNS.iter().find_map(|pattern| parse_exact(text, pattern).ok())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Field(char, usize),
    Literal(String),
}

const FIELD_LETTERS: &str = "dfFghHKmMstyz";

/// .NET's standard (one-letter) format strings, as the invariant culture spells them out.
fn expand_standard(pattern: &str) -> Option<&'static str> {
    Some(match pattern {
        "d" => "MM/dd/yyyy",
        "D" => "dddd, dd MMMM yyyy",
        "f" => "dddd, dd MMMM yyyy HH:mm",
        "F" => "dddd, dd MMMM yyyy HH:mm:ss",
        "g" => "MM/dd/yyyy HH:mm",
        "G" => "MM/dd/yyyy HH:mm:ss",
        "m" | "M" => "MMMM dd",
        "o" | "O" => "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        "r" | "R" => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        "s" => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        "t" => "HH:mm",
        "T" => "HH:mm:ss",
        "u" => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        "y" | "Y" => "yyyy MMMM",
        _ => return None,
    })
}

fn tokenize(pattern: &str) -> Result<Vec<Token>, String> {
    let pattern = expand_standard(pattern).unwrap_or(pattern);
    if pattern.is_empty() {
        return Err("the date format is empty".to_owned());
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    let literal = |tokens: &mut Vec<Token>, text: &str| match tokens.last_mut() {
        Some(Token::Literal(previous)) => previous.push_str(text),
        _ => tokens.push(Token::Literal(text.to_owned())),
    };
    while index < chars.len() {
        let c = chars[index];
        match c {
            '\'' | '"' => {
                let mut text = String::new();
                index += 1;
                loop {
                    match chars.get(index) {
                        None => return Err(format!("unterminated quoted text in date format {pattern:?}")),
                        Some(&q) if q == c => break,
                        Some('\\') => {
                            index += 1;
                            match chars.get(index) {
                                Some(&escaped) => text.push(escaped),
                                None => return Err(format!("date format {pattern:?} ends with `\\`")),
                            }
                        }
                        Some(&other) => text.push(other),
                    }
                    index += 1;
                }
                index += 1;
                literal(&mut tokens, &text);
            }
            '\\' => {
                let Some(&escaped) = chars.get(index + 1) else {
                    return Err(format!("date format {pattern:?} ends with `\\`"));
                };
                literal(&mut tokens, &escaped.to_string());
                index += 2;
            }
            '%' => match chars.get(index + 1) {
                Some(&letter) if FIELD_LETTERS.contains(letter) => {
                    tokens.push(Token::Field(letter, 1));
                    index += 2;
                }
                _ => return Err(format!("`%` in date format {pattern:?} must precede a format specifier")),
            },
            c if FIELD_LETTERS.contains(c) => {
                let mut count = 0;
                while chars.get(index) == Some(&c) {
                    count += 1;
                    index += 1;
                }
                if matches!(c, 'f' | 'F') && count > 7 {
                    return Err(format!("at most 7 `{c}` in a date format, found {count}"));
                }
                tokens.push(Token::Field(c, count));
            }
            other => {
                literal(&mut tokens, &other.to_string());
                index += 1;
            }
        }
    }
    Ok(tokens)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// Formats a UTC date with a .NET custom (or standard one-letter) format string, invariant culture.
pub(crate) fn format(at: OffsetDateTime, pattern: &str) -> Result<String, String> {
    let at = at.to_offset(UtcOffset::UTC);
    let mut out = String::new();
    for token in tokenize(pattern)? {
        match token {
            Token::Literal(text) => out.push_str(&text),
            Token::Field(letter, count) => format_field(&mut out, at, letter, count),
        }
    }
    Ok(out)
}

fn format_field(out: &mut String, at: OffsetDateTime, letter: char, count: usize) {
    let two = |n: u8| format!("{n:02}");
    match (letter, count) {
        ('d', 1) => out.push_str(&at.day().to_string()),
        ('d', 2) => out.push_str(&two(at.day())),
        ('d', 3) => out.push_str(&DAYS[usize::from(at.weekday().number_days_from_sunday())][..3]),
        ('d', _) => out.push_str(DAYS[usize::from(at.weekday().number_days_from_sunday())]),
        ('f' | 'F', _) => {
            let digits = format!("{:09}", at.nanosecond());
            let mut digits = digits[..count.min(7)].to_owned();
            if letter == 'F' {
                while digits.ends_with('0') {
                    digits.pop();
                }
                if digits.is_empty() && out.ends_with('.') {
                    out.pop();
                }
            }
            out.push_str(&digits);
        }
        ('g', _) => out.push_str("A.D."),
        ('h', _) => {
            let hour = match at.hour() % 12 {
                0 => 12,
                hour => hour,
            };
            out.push_str(&if count == 1 { hour.to_string() } else { two(hour) });
        }
        ('H', 1) => out.push_str(&at.hour().to_string()),
        ('H', _) => out.push_str(&two(at.hour())),
        ('K', _) => out.push('Z'),
        ('m', 1) => out.push_str(&at.minute().to_string()),
        ('m', _) => out.push_str(&two(at.minute())),
        ('M', 1) => out.push_str(&u8::from(at.month()).to_string()),
        ('M', 2) => out.push_str(&two(u8::from(at.month()))),
        ('M', 3) => out.push_str(&MONTHS[usize::from(u8::from(at.month())) - 1][..3]),
        ('M', _) => out.push_str(MONTHS[usize::from(u8::from(at.month())) - 1]),
        ('s', 1) => out.push_str(&at.second().to_string()),
        ('s', _) => out.push_str(&two(at.second())),
        ('t', 1) => out.push(if at.hour() < 12 { 'A' } else { 'P' }),
        ('t', _) => out.push_str(if at.hour() < 12 { "AM" } else { "PM" }),
        ('y', 1) => out.push_str(&(at.year().rem_euclid(100)).to_string()),
        ('y', 2) => out.push_str(&format!("{:02}", at.year().rem_euclid(100))),
        ('y', _) => out.push_str(&format!("{:0count$}", at.year())),
        ('z', 1) => out.push_str("+0"),
        ('z', 2) => out.push_str("+00"),
        ('z', _) => out.push_str("+00:00"),
        _ => {}
    }
}

#[derive(Default)]
struct Parts {
    year: Option<i32>,
    month: Option<u8>,
    day: Option<u8>,
    hour: u8,
    minute: u8,
    second: u8,
    nanos: u32,
    pm: Option<bool>,
    offset_seconds: Option<i32>,
}

struct Cursor<'a> {
    rest: &'a str,
}

impl Cursor<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let count = self.rest.bytes().take(max).take_while(u8::is_ascii_digit).count();
        if count < min {
            return None;
        }
        let value = self.rest[..count].parse().ok()?;
        self.rest = &self.rest[count..];
        Some((value, count))
    }

    fn number(&mut self, count: usize) -> Option<u32> {
        if count == 1 { self.digits(1, 2) } else { self.digits(2, 2) }.map(|(value, _)| value)
    }

    fn eat(&mut self, text: &str) -> bool {
        let Some(head) = self.rest.get(..text.len()) else {
            return false;
        };
        if head.eq_ignore_ascii_case(text) {
            self.rest = &self.rest[text.len()..];
            true
        } else {
            false
        }
    }

    fn name(&mut self, names: &[&str], abbreviated: bool) -> Option<usize> {
        names.iter().position(|name| {
            let name = if abbreviated { &name[..3] } else { name };
            self.eat(name)
        })
    }

    fn offset(&mut self, need_minutes: bool) -> Option<i32> {
        let sign = if self.eat("+") {
            1
        } else if self.eat("-") {
            -1
        } else {
            return None;
        };
        let (hours, _) = self.digits(1, 2)?;
        let minutes = if self.eat(":") {
            self.digits(2, 2)?.0
        } else if need_minutes {
            return None;
        } else {
            self.digits(2, 2).map_or(0, |(minutes, _)| minutes)
        };
        if hours > 14 || minutes > 59 {
            return None;
        }
        Some(sign * (hours as i32 * 3600 + minutes as i32 * 60))
    }
}

/// Parses `text` with a .NET custom format string. Leading and trailing white space is allowed (Entra's
/// default DateTimeStyles); a parsed offset is converted to UTC; without one the time is taken as UTC.
pub(crate) fn parse_exact(text: &str, pattern: &str) -> Result<OffsetDateTime, String> {
    let fail = || format!("{text:?} does not match the date format {pattern:?}");
    let tokens = tokenize(pattern)?;
    let mut cursor = Cursor { rest: text.trim() };
    let mut parts = Parts::default();
    for token in tokens {
        match token {
            Token::Literal(literal) => {
                if literal.trim().is_empty() {
                    cursor.rest = cursor.rest.trim_start();
                } else if !cursor.eat(&literal) {
                    return Err(fail());
                }
            }
            Token::Field(letter, count) => {
                parse_field(&mut cursor, &mut parts, letter, count).ok_or_else(fail)?;
            }
        }
    }
    if !cursor.rest.is_empty() {
        return Err(fail());
    }
    let mut hour = parts.hour;
    if let Some(pm) = parts.pm {
        if hour > 12 {
            return Err(fail());
        }
        hour = hour % 12 + if pm { 12 } else { 0 };
    }
    let month = Month::try_from(parts.month.unwrap_or(1)).map_err(|_| fail())?;
    let date = Date::from_calendar_date(parts.year.unwrap_or(1), month, parts.day.unwrap_or(1)).map_err(|_| fail())?;
    let time = Time::from_hms_nano(hour, parts.minute, parts.second, parts.nanos).map_err(|_| fail())?;
    let offset = UtcOffset::from_whole_seconds(parts.offset_seconds.unwrap_or(0)).map_err(|_| fail())?;
    let local = date.with_time(time).assume_offset(offset);
    local.checked_to_offset(UtcOffset::UTC).ok_or_else(fail)
}

fn parse_field(cursor: &mut Cursor<'_>, parts: &mut Parts, letter: char, count: usize) -> Option<()> {
    let small = |value: u32| u8::try_from(value).ok();
    match (letter, count) {
        ('d', 1 | 2) => parts.day = Some(small(cursor.number(count)?)?),
        ('d', _) => {
            cursor.name(&DAYS, count == 3)?;
        }
        ('M', 1 | 2) => parts.month = Some(small(cursor.number(count)?)?),
        ('M', _) => parts.month = Some(small(cursor.name(&MONTHS, count == 3)? as u32 + 1)?),
        ('y', 1 | 2) => {
            let (value, _) = if count == 1 { cursor.digits(1, 2)? } else { cursor.digits(2, 2)? };
            // .NET's invariant calendar: two-digit years up to 29 are 20xx, the rest 19xx.
            let value = value as i32;
            parts.year = Some(if value < 30 { 2000 + value } else { 1900 + value });
        }
        ('y', _) => {
            let width = count.max(4);
            parts.year = Some(cursor.digits(width, width)?.0 as i32);
        }
        ('h' | 'H', _) => parts.hour = small(cursor.number(count)?)?,
        ('m', _) => parts.minute = small(cursor.number(count)?)?,
        ('s', _) => parts.second = small(cursor.number(count)?)?,
        ('f' | 'F', _) => {
            let min = if letter == 'f' { count } else { 0 };
            let (value, width) = if min == 0 && !cursor.rest.starts_with(|c: char| c.is_ascii_digit()) {
                (0, 0)
            } else {
                cursor.digits(min.max(1), count)?
            };
            parts.nanos = value * 10u32.pow(9 - width as u32);
        }
        ('t', 1) => {
            parts.pm = Some(if cursor.eat("A") {
                false
            } else if cursor.eat("P") {
                true
            } else {
                return None;
            });
        }
        ('t', _) => {
            parts.pm = Some(if cursor.eat("AM") {
                false
            } else if cursor.eat("PM") {
                true
            } else {
                return None;
            });
        }
        ('z', _) => parts.offset_seconds = Some(cursor.offset(count >= 3)?),
        ('K', _) => {
            if cursor.eat("Z") {
                parts.offset_seconds = Some(0);
            } else if cursor.rest.starts_with(['+', '-']) {
                parts.offset_seconds = Some(cursor.offset(false)?);
            }
        }
        ('g', _) => {
            if !cursor.eat("A.D.") {
                cursor.eat("AD");
            }
        }
        _ => return None,
    }
    Some(())
}

/// A DateAdd / DateDiff interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interval {
    Year,
    Month,
    Day,
    Week,
    Hour,
    Minute,
    Second,
}

impl Interval {
    pub(crate) fn parse(text: &str) -> Option<Interval> {
        Some(match text {
            "yyyy" => Interval::Year,
            "m" => Interval::Month,
            "d" => Interval::Day,
            "ww" => Interval::Week,
            "h" => Interval::Hour,
            "n" => Interval::Minute,
            "s" => Interval::Second,
            _ => return None,
        })
    }
}

/// VBA's DateAdd: months and years keep the day of month, clamped to the month's last day.
pub(crate) fn add(interval: Interval, amount: i64, at: OffsetDateTime) -> Option<OffsetDateTime> {
    match interval {
        Interval::Year => add_months(at, amount.checked_mul(12)?),
        Interval::Month => add_months(at, amount),
        Interval::Day => at.checked_add(Duration::days(amount)),
        Interval::Week => at.checked_add(Duration::days(amount.checked_mul(7)?)),
        Interval::Hour => at.checked_add(Duration::hours(amount)),
        Interval::Minute => at.checked_add(Duration::minutes(amount)),
        Interval::Second => at.checked_add(Duration::seconds(amount)),
    }
}

fn add_months(at: OffsetDateTime, months: i64) -> Option<OffsetDateTime> {
    let total = i64::from(at.year()).checked_mul(12)? + i64::from(u8::from(at.month())) - 1;
    let total = total.checked_add(months)?;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
    let last_day = month.length(year);
    let date = Date::from_calendar_date(year, month, at.day().min(last_day)).ok()?;
    Some(at.replace_date(date))
}

/// VBA's DateDiff: the number of interval boundaries crossed from `first` to `second` (both in UTC); weeks
/// start on Sunday.
pub(crate) fn diff(interval: Interval, first: OffsetDateTime, second: OffsetDateTime) -> i64 {
    let first = first.to_offset(UtcOffset::UTC);
    let second = second.to_offset(UtcOffset::UTC);
    let months = |at: OffsetDateTime| i64::from(at.year()) * 12 + i64::from(u8::from(at.month()));
    let days = |at: OffsetDateTime| i64::from(at.to_julian_day());
    let week_start = |at: OffsetDateTime| days(at) - i64::from(at.weekday().number_days_from_sunday());
    let seconds = |at: OffsetDateTime| at.unix_timestamp();
    match interval {
        Interval::Year => i64::from(second.year()) - i64::from(first.year()),
        Interval::Month => months(second) - months(first),
        Interval::Day => days(second) - days(first),
        Interval::Week => (week_start(second) - week_start(first)) / 7,
        Interval::Hour => seconds(second).div_euclid(3600) - seconds(first).div_euclid(3600),
        Interval::Minute => seconds(second).div_euclid(60) - seconds(first).div_euclid(60),
        Interval::Second => seconds(second) - seconds(first),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_formats() {
        let cases = [
            ("2015-01-23T10:53:47Z", "yyyy-MM-dd", "2015-01-23"),
            ("2015-01-23T10:53:47Z", DISPLAY_FORMAT, "1/23/2015 10:53:47 AM"),
            ("2015-01-03T00:05:07Z", "M/d/yyyy", "1/3/2015"),
            ("2015-01-03T00:05:07Z", "dd-MM-yyyy", "03-01-2015"),
            ("2015-01-03T00:05:07Z", "h:mm tt", "12:05 AM"),
            ("2015-01-03T00:05:07Z", "dddd, MMMM d yy", "Saturday, January 3 15"),
            ("2015-01-03T00:05:07Z", "yyyyMMddHHmmss.fZ", "20150103000507.0Z"),
            ("2015-01-03T00:05:07Z", "HH:mm:ss.FFFK", "00:05:07Z"),
            ("2015-01-03T00:05:07Z", "o", "2015-01-03T00:05:07.0000000Z"),
            ("2015-01-03T00:05:07Z", "'at' HH\\h", "at 00h"),
        ];
        for (input, pattern, expected) in cases {
            let at = parse_lenient(input).expect(input);
            assert_eq!(format(at, pattern).unwrap(), expected, "{input} {pattern}");
        }
    }
}

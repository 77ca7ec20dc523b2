//! Filter text for the match queries (`GET /Users?filter=userName eq "..."`).

use std::fmt::Write as _;

/// Escapes a value for a double-quoted filter string (RFC 7644 §3.4.2.2: `compValue` strings are JSON
/// strings, RFC 8259 §7): `"` and `\` get a backslash, control characters become `\n`, `\t`... or `\u00XX`.
/// Everything else, non-ASCII included, is kept as it is.
pub fn escape_filter_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// `attribute eq "value"`, the value escaped.
pub fn eq_filter(attribute: &str, value: &str) -> String {
    format!("{attribute} eq \"{}\"", escape_filter_value(value))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use roster_scim_proto::filter::{CompValue, CompareOp, Comparison, Filter};

    use super::*;

    #[test]
    fn escaping_table() {
        let cases = [
            ("bjensen", r#"userName eq "bjensen""#),
            (r#"a"b"#, r#"userName eq "a\"b""#),
            (r"a\b", r#"userName eq "a\\b""#),
            (r#"\""#, r#"userName eq "\\\"""#),
            ("line\nbreak\ttab", r#"userName eq "line\nbreak\ttab""#),
            ("\u{1}", r#"userName eq "\u0001""#),
            ("'single'", r#"userName eq "'single'""#),
            ("Zoë 😀 /", r#"userName eq "Zoë 😀 /""#),
            ("", r#"userName eq """#),
        ];
        for (value, expected) in cases {
            assert_eq!(eq_filter("userName", value), expected, "{value:?}");
        }
    }

    /// The value a parsed `attr eq "..."` filter compares with.
    fn compared_value(filter: &str) -> Option<String> {
        match Filter::parse(filter) {
            Ok(Filter::Compare(Comparison { op: CompareOp::Eq, value: CompValue::String(value), .. })) => Some(value),
            _ => None,
        }
    }

    proptest! {
        #[test]
        fn escaping_round_trips_through_roster_s_filter_parser(value in any::<String>()) {
            prop_assert_eq!(compared_value(&eq_filter("externalId", &value)), Some(value));
        }

        #[test]
        fn escaping_round_trips_with_quotes_and_backslashes(value in r#"[a-z"\\'\n ]{0,12}"#) {
            prop_assert_eq!(compared_value(&eq_filter("userName", &value)), Some(value));
        }
    }
}

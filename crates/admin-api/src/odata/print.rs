//! The canonical printer: lower-case keywords, operators and function names; one space around `and`, `or` and
//! comparison operators and none inside function calls, lists and lambdas (`startswith(displayName,'J')`,
//! `id in ('a','b')`, `imAddresses/any(i:i eq 'x')`); `not(...)` always with its parentheses; strings in single
//! quotes with `''` for a quote; GUIDs in lower case; date-times in RFC 3339 with their offset; and only the
//! parentheses the parser needs to rebuild the same tree.
//!
//! `and` binds tighter than `or`, and both associate to the left, so a right operand of the same operator is
//! parenthesised (`a eq 1 and (b eq 2 and c eq 3)`) while a left one is not.

use std::fmt::{self, Write};

use time::UtcOffset;
use time::format_description::well_known::Rfc3339;

use super::{CompareOp, Filter, Literal, StringFunction};

/// How tightly a node binds: a node is parenthesised where the context needs a tighter one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Binding {
    Or,
    And,
    Atom,
}

impl fmt::Display for Filter {
    /// The canonical text, which parses back to an equal filter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_filter(f, self, Binding::Or)
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for StringFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Literal {
    /// The literal as a filter writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(value) => write!(f, "{value}"),
            Literal::Number(number) => write!(f, "{number}"),
            Literal::String(text) => write_string(f, text),
            Literal::Guid(guid) => write_guid(f, *guid),
            Literal::DateTime(at) => {
                // RFC 3339 needs a year in 0..=9999 and an offset in whole minutes, which every parsed date-time
                // has; a hand-built one that has not is written in UTC, or failing that in `time`'s own form.
                let text = at
                    .format(&Rfc3339)
                    .or_else(|_| at.to_offset(UtcOffset::UTC).format(&Rfc3339))
                    .unwrap_or_else(|_| at.to_string());
                f.write_str(&text)
            }
        }
    }
}

/// Writes `filter`, in parentheses if it binds more loosely than `context` requires.
fn write_filter(f: &mut fmt::Formatter<'_>, filter: &Filter, context: Binding) -> fmt::Result {
    let binding = match filter {
        Filter::Or(..) => Binding::Or,
        Filter::And(..) => Binding::And,
        Filter::Compare { .. } | Filter::In { .. } | Filter::Function { .. } | Filter::Any { .. } | Filter::Not(_) => {
            Binding::Atom
        }
    };
    if binding < context {
        f.write_char('(')?;
        write_unparenthesised(f, filter)?;
        return f.write_char(')');
    }
    write_unparenthesised(f, filter)
}

fn write_unparenthesised(f: &mut fmt::Formatter<'_>, filter: &Filter) -> fmt::Result {
    match filter {
        Filter::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
        Filter::In { path, values } => {
            write!(f, "{path} in (")?;
            for (index, value) in values.iter().enumerate() {
                if index > 0 {
                    f.write_char(',')?;
                }
                write!(f, "{value}")?;
            }
            f.write_char(')')
        }
        Filter::Function { function, path, value } => {
            write!(f, "{function}({path},")?;
            write_string(f, value)?;
            f.write_char(')')
        }
        Filter::Any { path, lambda } => {
            write!(f, "{path}/any(")?;
            if let Some(lambda) = lambda {
                write!(f, "{}:", lambda.variable)?;
                write_filter(f, &lambda.body, Binding::Or)?;
            }
            f.write_char(')')
        }
        Filter::And(left, right) => {
            write_filter(f, left, Binding::And)?;
            f.write_str(" and ")?;
            write_filter(f, right, Binding::Atom)
        }
        Filter::Or(left, right) => {
            write_filter(f, left, Binding::Or)?;
            f.write_str(" or ")?;
            write_filter(f, right, Binding::And)
        }
        Filter::Not(inner) => {
            f.write_str("not(")?;
            write_filter(f, inner, Binding::Or)?;
            f.write_char(')')
        }
    }
}

/// Writes a string literal: in single quotes, with each quote doubled.
fn write_string(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('\'')?;
    for (index, part) in text.split('\'').enumerate() {
        if index > 0 {
            f.write_str("''")?;
        }
        f.write_str(part)?;
    }
    f.write_char('\'')
}

/// Writes a GUID in its lower-case 8-4-4-4-12 form.
fn write_guid(f: &mut fmt::Formatter<'_>, guid: u128) -> fmt::Result {
    let hex = format!("{guid:032x}");
    let part = |range: std::ops::Range<usize>| hex.get(range).unwrap_or_default();
    write!(f, "{}-{}-{}-{}-{}", part(0..8), part(8..12), part(12..16), part(16..20), part(20..32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odata::{Lambda, PropertyPath};

    fn compare(name: &str, value: u64) -> Box<Filter> {
        Box::new(Filter::Compare {
            path: PropertyPath::new([name]),
            op: CompareOp::Eq,
            value: Literal::Number(value.into()),
        })
    }

    /// Prints a hand-built filter and checks the text, and that it parses back to the same tree.
    fn check(filter: Filter, expected: &str) {
        let printed = filter.to_string();
        assert_eq!(printed, expected);
        assert_eq!(Filter::parse(&printed), Ok(filter), "round trip of {printed}");
    }

    #[test]
    fn parenthesises_only_where_needed() {
        use Filter::{And, Not, Or};
        check(And(Box::new(And(compare("a", 1), compare("b", 2))), compare("c", 3)), "a eq 1 and b eq 2 and c eq 3");
        check(And(compare("a", 1), Box::new(And(compare("b", 2), compare("c", 3)))), "a eq 1 and (b eq 2 and c eq 3)");
        check(Or(Box::new(Or(compare("a", 1), compare("b", 2))), compare("c", 3)), "a eq 1 or b eq 2 or c eq 3");
        check(Or(compare("a", 1), Box::new(Or(compare("b", 2), compare("c", 3)))), "a eq 1 or (b eq 2 or c eq 3)");
        check(And(Box::new(Or(compare("a", 1), compare("b", 2))), compare("c", 3)), "(a eq 1 or b eq 2) and c eq 3");
        check(Or(Box::new(And(compare("a", 1), compare("b", 2))), compare("c", 3)), "a eq 1 and b eq 2 or c eq 3");
        check(Not(Box::new(Or(compare("a", 1), compare("b", 2)))), "not(a eq 1 or b eq 2)");
        check(
            Filter::Any {
                path: PropertyPath::new(["tags"]),
                lambda: Some(Lambda { variable: "t".to_owned(), body: Box::new(Or(compare("t", 1), compare("t", 2))) }),
            },
            "tags/any(t:t eq 1 or t eq 2)",
        );
    }

    #[test]
    fn literals() {
        let literal =
            |value: Literal| Filter::Compare { path: PropertyPath::new(["a"]), op: CompareOp::Eq, value }.to_string();
        assert_eq!(literal(Literal::String("it's ''".to_owned())), "a eq 'it''s '''''");
        assert_eq!(
            literal(Literal::Guid(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef)),
            "a eq 01234567-89ab-cdef-0123-456789abcdef"
        );
        assert_eq!(literal(Literal::Guid(1)), "a eq 00000000-0000-0000-0000-000000000001");
        assert_eq!(literal(Literal::Number(serde_json::Number::from_f64(1.0).unwrap())), "a eq 1.0");
        let odd = time::OffsetDateTime::UNIX_EPOCH.to_offset(UtcOffset::from_hms(1, 0, 30).unwrap());
        assert_eq!(literal(Literal::DateTime(odd)), "a eq 1970-01-01T00:00:00Z");
    }
}

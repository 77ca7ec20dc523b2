//! The canonical printer: lower-case keywords, one space between tokens, double-quoted JSON strings, and only
//! the parentheses the parser needs to rebuild the same tree.
//!
//! `and` binds tighter than `or`, and both associate to the left, so a right operand of the same operator is
//! parenthesised (`a and (b and c)`) while a left one is not (`a and b and c`).

use std::fmt::{self, Write};

use super::{CompValue, CompareOp, Comparison, Filter};

/// How tightly a node binds: a node is parenthesised where the context needs a tighter one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Binding {
    Or,
    And,
    Atom,
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_filter(f, self, Binding::Or)
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.path, self.op, self.value)
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CompValue {
    /// The literal as JSON: `null`, `true`, a number, or a double-quoted string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(value) => write!(f, "{value}"),
            CompValue::Number(number) => write!(f, "{number}"),
            CompValue::String(text) => write_json_string(f, text),
        }
    }
}

/// Writes `filter`, in parentheses if it binds more loosely than `context` requires.
fn write_filter(f: &mut fmt::Formatter<'_>, filter: &Filter, context: Binding) -> fmt::Result {
    let binding = match filter {
        Filter::Or(..) => Binding::Or,
        Filter::And(..) => Binding::And,
        Filter::Compare(_) | Filter::Present(_) | Filter::Not(_) | Filter::ValuePath(..) => Binding::Atom,
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
        Filter::Compare(comparison) => write!(f, "{comparison}"),
        Filter::Present(path) => write!(f, "{path} pr"),
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
            f.write_str("not (")?;
            write_filter(f, inner, Binding::Or)?;
            f.write_char(')')
        }
        Filter::ValuePath(path, inner) => {
            write!(f, "{path}[")?;
            write_filter(f, inner, Binding::Or)?;
            f.write_char(']')
        }
    }
}

/// Writes a JSON string: `"` and `\` escaped, control characters as `\b \f \n \r \t` or `\u00XX`, everything
/// else as it is.
fn write_json_string(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in text.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if u32::from(c) < 0x20 => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::AttrPath;

    fn path(name: &str) -> AttrPath {
        AttrPath { urn: None, name: name.into(), sub_attr: None }
    }

    fn present(name: &str) -> Box<Filter> {
        Box::new(Filter::Present(path(name)))
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
        check(And(Box::new(And(present("a"), present("b"))), present("c")), "a pr and b pr and c pr");
        check(And(present("a"), Box::new(And(present("b"), present("c")))), "a pr and (b pr and c pr)");
        check(Or(Box::new(Or(present("a"), present("b"))), present("c")), "a pr or b pr or c pr");
        check(Or(present("a"), Box::new(Or(present("b"), present("c")))), "a pr or (b pr or c pr)");
        check(And(Box::new(Or(present("a"), present("b"))), present("c")), "(a pr or b pr) and c pr");
        check(And(present("a"), Box::new(Or(present("b"), present("c")))), "a pr and (b pr or c pr)");
        check(Or(Box::new(And(present("a"), present("b"))), present("c")), "a pr and b pr or c pr");
        check(Or(present("a"), Box::new(And(present("b"), present("c")))), "a pr or b pr and c pr");
        check(Not(Box::new(Or(present("a"), present("b")))), "not (a pr or b pr)");
        check(Not(present("a")), "not (a pr)");
        check(Filter::ValuePath(path("emails"), Box::new(Or(present("a"), present("b")))), "emails[a pr or b pr]");
    }

    #[test]
    fn escapes_strings() {
        let compare = |text: &str| {
            Filter::Compare(Comparison { path: path("a"), op: CompareOp::Eq, value: CompValue::String(text.into()) })
        };
        check(compare(""), r#"a eq """#);
        check(compare(r#"say "hi" \ bye"#), r#"a eq "say \"hi\" \\ bye""#);
        check(compare("\u{0}\u{1}\u{8}\u{c}\n\r\t\u{1f}"), r#"a eq "\u0000\u0001\b\f\n\r\t\u001f""#);
        check(compare("\u{7f}\u{2028}é😀'"), "a eq \"\u{7f}\u{2028}é😀'\"");
    }
}

//! The filter parser: hand-written recursive descent over the input text, one function per grammar rule.
//!
//! The grammar is RFC 7644 §3.4.2.2, with precedence made explicit and a few tolerances:
//!
//! ```text
//! filter     = or
//! or         = and *(ws "or" ws and)                    ; left-associative
//! and        = unary *(ws "and" ws unary)               ; left-associative
//! unary      = "(" filter ")" / "not" *ws "(" filter ")" / valuePath / attrExp
//! valuePath  = attrPath "[" valFilter "]"              ; valFilter: the same rules, without valuePath
//! attrExp    = attrPath ws "pr" / attrPath ws compareOp ws compValue
//! compValue  = false / null / true / number / string
//! ```
//!
//! Tolerances: keywords, operators and `true`/`false`/`null` in any case; any run of Unicode whitespace where
//! the RFC has one space, and none needed next to a parenthesis, bracket or quote (`not(`, `eq"x"`);
//! single-quoted strings (`'work'`), and `\'` as an escape in both kinds of string.
//!
//! The input is read as words: a word is a run of characters other than whitespace, parentheses, brackets and
//! quotes. Whether a word is a keyword or an attribute path depends only on where it stands, so an attribute
//! may be called `and`, `or` or `pr`; `not` followed by `(` always starts a negation.
//!
//! Nesting (parentheses, `not`, value filters) is limited to [`MAX_NESTING`] levels, and the syntax tree to
//! [`MAX_HEIGHT`] levels (a chain of n `and`s is n levels high), so that no later recursive walk over the tree,
//! including dropping it, can exhaust the stack.

use serde_json::Number;

use super::{CompValue, CompareOp, Comparison, Filter, FilterError};
use crate::path::{AttrPath, PatchPath, parse_attr_path_text};

/// How many levels of parentheses, `not` and value filters a filter may nest.
pub const MAX_NESTING: usize = 64;

/// How high a filter's syntax tree may be.
pub const MAX_HEIGHT: usize = 512;

/// The parser's state: the input and a byte position in it, always on a character boundary.
pub(crate) struct Parser<'a> {
    source: &'a str,
    position: usize,
    nesting: usize,
}

/// A parsed sub-filter and the height of its syntax tree.
struct Parsed {
    filter: Filter,
    height: usize,
}

/// Where the parser stands: in a filter, or inside the value filter of the named attribute (`emails[...]`).
#[derive(Clone, Copy)]
enum Scope<'p> {
    Filter,
    ValueFilter(&'p AttrPath),
}

impl<'a> Parser<'a> {
    pub(crate) fn new(source: &'a str) -> Self {
        Parser { source, position: 0, nesting: 0 }
    }

    /// Parses the whole input as a filter.
    pub(crate) fn filter(mut self) -> Result<Filter, FilterError> {
        let parsed = self.or(Scope::Filter)?;
        self.skip_whitespace();
        match self.peek() {
            None => Ok(parsed.filter),
            Some(')') => Err(self.error("found ')' without a matching '('")),
            Some(']') => Err(self.error("found ']' without a matching '['")),
            Some('.') if self.source.get(..self.position).is_some_and(|before| before.ends_with(']')) => Err(self
                .error(
                    "a sub-attribute after a value filter ('emails[type eq \"work\"].value') is allowed only in PATCH \
                 paths, not in filters",
                )),
            Some(_) => {
                Err(self.error(format!("expected 'and', 'or' or the end of the filter, found {}", self.found())))
            }
        }
    }

    /// Parses the whole input as a PATCH path.
    pub(crate) fn patch_path(mut self) -> Result<PatchPath, FilterError> {
        self.skip_whitespace();
        let attr = self.attr_path()?;
        let after_attr = self.position;
        self.skip_whitespace();
        if self.at_end() {
            return Ok(PatchPath { attr, filter: None, sub_attr: None });
        }
        if self.peek() != Some('[') {
            return Err(
                self.error(format!("expected '[' or the end of the path after '{attr}', found {}", self.found()))
            );
        }
        if let Some(sub_attr) = &attr.sub_attr {
            return Err(self.error_at(
                after_attr,
                format!(
                    "a value filter follows an attribute, not a sub-attribute: write '{}[...]', not '{}.{sub_attr}[...]'",
                    attr.name, attr.name
                ),
            ));
        }
        let inner = self.bracketed_value_filter(&attr)?;
        let mut path = PatchPath { attr, filter: Some(inner.filter), sub_attr: None };
        self.skip_whitespace();
        if self.at_end() {
            return Ok(path);
        }
        if self.peek() != Some('.') {
            return Err(self.error(format!(
                "expected '.' and a sub-attribute name or the end of the path after ']', found {}",
                self.found()
            )));
        }
        self.position += 1;
        let start = self.position;
        let word = self.word();
        if word.is_empty() {
            return Err(self.error(format!("expected a sub-attribute name after '].', found {}", self.found())));
        }
        // A sub-attribute has the grammar of an attribute name; parse it as a path and insist on nothing more.
        let sub = parse_attr_path_text(word).map_err(|error| self.error_at(start + error.offset, error.message))?;
        if sub.urn.is_some() || sub.sub_attr.is_some() {
            let offset = word.find([':', '.']).unwrap_or(0);
            let message = if word.get(offset..).is_some_and(|rest| rest.starts_with('.')) {
                "an attribute path has at most one sub-attribute ('name.sub'), but this one has a second '.'"
            } else {
                "a sub-attribute name after ']' cannot have a schema URN"
            };
            return Err(self.error_at(start + offset, message));
        }
        self.position += word.len();
        self.skip_whitespace();
        if !self.at_end() {
            return Err(self.error(format!("expected the end of the path, found {}", self.found())));
        }
        path.sub_attr = Some(sub.name);
        Ok(path)
    }

    /// `or = and *("or" and)`.
    fn or(&mut self, scope: Scope<'_>) -> Result<Parsed, FilterError> {
        let mut left = self.and(scope)?;
        loop {
            let before = self.position;
            self.skip_whitespace();
            let keyword_start = self.position;
            if !self.eat_keyword("or") {
                self.position = before;
                return Ok(left);
            }
            let right = self.and(scope)?;
            left = self.combine(keyword_start, left, right, Filter::Or)?;
        }
    }

    /// `and = unary *("and" unary)`.
    fn and(&mut self, scope: Scope<'_>) -> Result<Parsed, FilterError> {
        let mut left = self.unary(scope)?;
        loop {
            let before = self.position;
            self.skip_whitespace();
            let keyword_start = self.position;
            if !self.eat_keyword("and") {
                self.position = before;
                return Ok(left);
            }
            let right = self.unary(scope)?;
            left = self.combine(keyword_start, left, right, Filter::And)?;
        }
    }

    /// Joins two operands of `and` or `or`, within the height limit.
    fn combine(
        &self,
        keyword_start: usize,
        left: Parsed,
        right: Parsed,
        join: fn(Box<Filter>, Box<Filter>) -> Filter,
    ) -> Result<Parsed, FilterError> {
        let height = left.height.max(right.height) + 1;
        if height > MAX_HEIGHT {
            return Err(self.error_at(keyword_start, too_high()));
        }
        Ok(Parsed { filter: join(Box::new(left.filter), Box::new(right.filter)), height })
    }

    /// `unary = "(" filter ")" / "not" "(" filter ")" / valuePath / attrExp`.
    fn unary(&mut self, scope: Scope<'_>) -> Result<Parsed, FilterError> {
        self.skip_whitespace();
        match self.peek() {
            Some('(') => return Ok(self.parenthesised(scope)?.0),
            None | Some(')' | ']' | '[' | '"' | '\'') => {
                return Err(self.error(format!("expected an attribute path, '(' or 'not (', found {}", self.found())));
            }
            Some(_) => {}
        }
        let start = self.position;
        if self.eat_keyword("not") {
            self.skip_whitespace();
            if self.peek() == Some('(') {
                let (inner, open) = self.parenthesised(scope)?;
                return grow(inner, Filter::Not).ok_or_else(|| self.error_at(open, too_high()));
            }
            // `not` without a parenthesis is an attribute called `not` when a value filter or an operator
            // follows, and a mistake otherwise.
            if self.peek() != Some('[') && operator(self.word()).is_none() {
                return Err(self.error(format!(
                    "expected '(' after 'not' (the RFC requires parentheses, as in 'not (title pr)'), found {}",
                    self.found()
                )));
            }
            self.position = start;
        }
        self.attr_expression(scope)
    }

    /// `"(" filter ")"`, at an opening parenthesis; also returns the parenthesis' position.
    fn parenthesised(&mut self, scope: Scope<'_>) -> Result<(Parsed, usize), FilterError> {
        let open = self.position;
        self.enter(open)?;
        self.position += 1;
        let inner = self.or(scope)?;
        self.skip_whitespace();
        if self.peek() != Some(')') {
            let column = self.column(open);
            return Err(self.error(format!("expected ')' to close the '(' at column {column}, found {}", self.found())));
        }
        self.position += 1;
        self.nesting -= 1;
        Ok((inner, open))
    }

    /// `valuePath / attrExp`: an attribute path, then a value filter in brackets, `pr`, or an operator and value.
    fn attr_expression(&mut self, scope: Scope<'_>) -> Result<Parsed, FilterError> {
        let path = self.attr_path()?;
        if self.peek_after_whitespace() == Some('[') {
            if let Scope::ValueFilter(outer) = scope {
                self.skip_whitespace();
                return Err(self
                    .error(format!("value filters cannot be nested: found '[' inside the value filter of '{outer}'")));
            }
            self.skip_whitespace();
            let inner = self.bracketed_value_filter(&path)?;
            let open = self.position;
            return grow(inner, |inner| Filter::ValuePath(path, inner)).ok_or_else(|| self.error_at(open, too_high()));
        }
        let had_whitespace = self.skip_whitespace();
        let operator_start = self.position;
        let word = self.word();
        let Some(op) = operator(word).filter(|_| had_whitespace) else {
            return Err(self.error(format!(
                "expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or 'pr' after '{path}', found {}",
                self.found()
            )));
        };
        self.position += word.len();
        let Some(op) = op else {
            return Ok(Parsed { filter: Filter::Present(path), height: 1 });
        };
        self.skip_whitespace();
        let value = self.comp_value(word, operator_start)?;
        Ok(Parsed { filter: Filter::Compare(Comparison { path, op, value }), height: 1 })
    }

    /// `"[" valFilter "]"`, at an opening bracket.
    fn bracketed_value_filter(&mut self, attr: &AttrPath) -> Result<Parsed, FilterError> {
        let open = self.position;
        self.enter(open)?;
        self.position += 1;
        let inner = self.or(Scope::ValueFilter(attr))?;
        self.skip_whitespace();
        if self.peek() != Some(']') {
            let column = self.column(open);
            return Err(self.error(format!("expected ']' to close the '[' at column {column}, found {}", self.found())));
        }
        self.position += 1;
        self.nesting -= 1;
        Ok(inner)
    }

    /// An attribute path: the next word, which must be one.
    fn attr_path(&mut self) -> Result<AttrPath, FilterError> {
        let start = self.position;
        let word = self.word();
        if word.is_empty() {
            return Err(self.error(format!("expected an attribute path, found {}", self.found())));
        }
        let path = parse_attr_path_text(word).map_err(|error| self.error_at(start + error.offset, error.message))?;
        self.position += word.len();
        Ok(path)
    }

    /// `compValue`, after the operator `op_word` (as written) that starts at `op_start`.
    fn comp_value(&mut self, op_word: &str, op_start: usize) -> Result<CompValue, FilterError> {
        let start = self.position;
        match self.peek() {
            Some(quote @ ('"' | '\'')) => return self.string(quote).map(CompValue::String),
            None | Some('(' | ')' | '[' | ']') => {
                let column = self.column(op_start);
                return Err(self.error(format!(
                    "expected a value (a \"string\", a number, true, false or null) after '{op_word}' at column \
                     {column}, found {}",
                    self.found()
                )));
            }
            Some(_) => {}
        }
        let word = self.word();
        let value = if word.eq_ignore_ascii_case("true") {
            CompValue::Bool(true)
        } else if word.eq_ignore_ascii_case("false") {
            CompValue::Bool(false)
        } else if word.eq_ignore_ascii_case("null") {
            CompValue::Null
        } else if word.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            match word.parse::<Number>() {
                Ok(number) => CompValue::Number(exact_float(word, number)),
                Err(error) if error.to_string().contains("out of range") => {
                    return Err(self.error(format!("the number {word} is out of range")));
                }
                Err(_) => return Err(self.error(format!("'{word}' is not a JSON number"))),
            }
        } else {
            return Err(self.error(format!(
                "expected a value (a \"string\", a number, true, false or null) after '{op_word}', found {}; \
                 strings must be quoted",
                self.found()
            )));
        };
        self.position = start + word.len();
        Ok(value)
    }

    /// A string literal in `quote`s, at the opening quote: JSON escapes, plus `\'`.
    fn string(&mut self, quote: char) -> Result<String, FilterError> {
        let open = self.position;
        self.position += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error_at(open, format!("the string that starts here has no closing {quote}")));
            };
            let escape_start = self.position;
            self.position += c.len_utf8();
            if c == quote {
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(escaped) = self.peek() else {
                return Err(self.error_at(open, format!("the string that starts here has no closing {quote}")));
            };
            self.position += escaped.len_utf8();
            let unescaped = match escaped {
                '"' | '\\' | '/' | '\'' => escaped,
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'u' => self.unicode_escape(escape_start)?,
                other => {
                    return Err(self.error_at(
                        escape_start,
                        format!(
                            "unknown escape '\\{other}' in a string; the escapes are \\\" \\' \\\\ \\/ \\b \\f \\n \\r \
                             \\t and \\uXXXX"
                        ),
                    ));
                }
            };
            out.push(unescaped);
        }
    }

    /// The character of a `\uXXXX` escape whose backslash is at `escape_start`, after its `u`; a high surrogate
    /// must be followed by an escaped low surrogate.
    fn unicode_escape(&mut self, escape_start: usize) -> Result<char, FilterError> {
        let high = self.hex4(escape_start)?;
        if (0xDC00..0xE000).contains(&high) {
            return Err(self.error_at(escape_start, format!("\\u{high:04X} is a low surrogate without a high one")));
        }
        if !(0xD800..0xDC00).contains(&high) {
            return char::from_u32(high).ok_or_else(|| self.error_at(escape_start, "invalid \\u escape"));
        }
        let low_start = self.position;
        if !self.rest().starts_with("\\u") {
            return Err(self.error_at(
                escape_start,
                format!("\\u{high:04X} is a high surrogate, so another \\u escape with a low surrogate must follow"),
            ));
        }
        self.position += 2;
        let low = self.hex4(low_start)?;
        if !(0xDC00..0xE000).contains(&low) {
            return Err(self.error_at(low_start, format!("\\u{low:04X} is not a low surrogate, after \\u{high:04X}")));
        }
        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            .ok_or_else(|| self.error_at(escape_start, "invalid surrogate pair"))
    }

    /// Four hex digits of a `\u` escape.
    fn hex4(&mut self, escape_start: usize) -> Result<u32, FilterError> {
        let mut value = 0;
        for _ in 0..4 {
            let Some(digit) = self.peek().and_then(|c| c.to_digit(16)) else {
                return Err(self.error_at(escape_start, "expected four hex digits after \\u"));
            };
            value = value * 16 + digit;
            self.position += 1;
        }
        Ok(value)
    }

    /// Consumes the next word if it is `keyword` in any case.
    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let word = self.word();
        if word.eq_ignore_ascii_case(keyword) {
            self.position += word.len();
            return true;
        }
        false
    }

    /// Counts one more level of nesting, which starts at `start`.
    fn enter(&mut self, start: usize) -> Result<(), FilterError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(self.error_at(start, format!("the filter nests more than {MAX_NESTING} levels deep")));
        }
        Ok(())
    }

    /// The rest of the input.
    fn rest(&self) -> &'a str {
        self.source.get(self.position..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn at_end(&self) -> bool {
        self.rest().is_empty()
    }

    /// The next character after any whitespace, without consuming anything.
    fn peek_after_whitespace(&self) -> Option<char> {
        self.rest().chars().find(|c| !c.is_whitespace())
    }

    /// Skips whitespace, and says whether there was any.
    fn skip_whitespace(&mut self) -> bool {
        let rest = self.rest();
        let skipped = rest.len() - rest.trim_start().len();
        self.position += skipped;
        skipped > 0
    }

    /// The word at the position, without consuming it; empty at a delimiter, whitespace or the end.
    fn word(&self) -> &'a str {
        let rest = self.rest();
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"' | '\''))
            .unwrap_or(rest.len());
        rest.get(..end).unwrap_or("")
    }

    /// Describes what is at the position, for "found ..." in messages.
    fn found(&self) -> String {
        let word = self.word();
        match self.peek() {
            None => "end of input".to_owned(),
            Some(c) if word.is_empty() => format!("'{c}'"),
            Some(_) => format!("'{}'", crate::path::abbreviate(word)),
        }
    }

    /// The 1-based character column of a byte position.
    fn column(&self, position: usize) -> usize {
        self.source.get(..position).map_or(1, |before| before.chars().count() + 1)
    }

    fn error(&self, message: impl Into<String>) -> FilterError {
        self.error_at(self.position, message)
    }

    fn error_at(&self, position: usize, message: impl Into<String>) -> FilterError {
        FilterError { column: self.column(position), message: message.into() }
    }
}

/// The operator a word names, in any case: `Some(None)` for `pr`, `Some(Some(op))` for a comparison.
fn operator(word: &str) -> Option<Option<CompareOp>> {
    const OPERATORS: [(&str, CompareOp); 9] = [
        ("eq", CompareOp::Eq),
        ("ne", CompareOp::Ne),
        ("co", CompareOp::Co),
        ("sw", CompareOp::Sw),
        ("ew", CompareOp::Ew),
        ("gt", CompareOp::Gt),
        ("ge", CompareOp::Ge),
        ("lt", CompareOp::Lt),
        ("le", CompareOp::Le),
    ];
    if word.eq_ignore_ascii_case("pr") {
        return Some(None);
    }
    OPERATORS.iter().find(|(name, _)| name.eq_ignore_ascii_case(word)).map(|(_, op)| Some(*op))
}

/// The number, with a fractional or very large one re-read by the standard library, whose conversion is
/// correctly rounded (serde_json's default one can be off by one unit in the last place, which would break the
/// printer's round trip).
fn exact_float(word: &str, number: Number) -> Number {
    if !number.is_f64() {
        return number;
    }
    word.parse::<f64>().ok().and_then(Number::from_f64).unwrap_or(number)
}

/// Wraps a parsed filter in a node one level higher, unless that exceeds the height limit.
fn grow(inner: Parsed, wrap: impl FnOnce(Box<Filter>) -> Filter) -> Option<Parsed> {
    let height = inner.height + 1;
    (height <= MAX_HEIGHT).then(|| Parsed { filter: wrap(Box::new(inner.filter)), height })
}

fn too_high() -> String {
    format!("the filter is too complex: its syntax tree would be more than {MAX_HEIGHT} levels high")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `input` and compares the canonical printed form, or the error message with its column.
    fn check(input: &str, expected: &str) {
        let actual = match Filter::parse(input) {
            Ok(filter) => {
                let printed = filter.to_string();
                assert_eq!(Filter::parse(&printed).as_ref(), Ok(&filter), "round trip of {printed}");
                printed
            }
            Err(error) => format!("error {error}"),
        };
        assert_eq!(actual, expected, "input: {input}");
    }

    #[test]
    fn rfc_7644_examples() {
        check(r#"userName eq "bjensen""#, r#"userName eq "bjensen""#);
        check(r#"name.familyName co "O'Malley""#, r#"name.familyName co "O'Malley""#);
        check(r#"userName sw "J""#, r#"userName sw "J""#);
        check(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        );
        check("title pr", "title pr");
        check(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, r#"meta.lastModified gt "2011-05-13T04:42:34Z""#);
        check(r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, r#"meta.lastModified ge "2011-05-13T04:42:34Z""#);
        check(r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, r#"meta.lastModified lt "2011-05-13T04:42:34Z""#);
        check(r#"meta.lastModified le "2011-05-13T04:42:34Z""#, r#"meta.lastModified le "2011-05-13T04:42:34Z""#);
        check(r#"title pr and userType eq "Employee""#, r#"title pr and userType eq "Employee""#);
        check(r#"title pr or userType eq "Intern""#, r#"title pr or userType eq "Intern""#);
        check(
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        );
        check(
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        );
        check(
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        );
        check(
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            r#"userType eq "Employee" and emails.type eq "work""#,
        );
        check(
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        );
        check(
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        );
    }

    #[test]
    fn precedence_and_grouping() {
        check("a pr or b pr and c pr", "a pr or b pr and c pr");
        check("(a pr or b pr) and c pr", "(a pr or b pr) and c pr");
        check("a pr and b pr and c pr", "a pr and b pr and c pr");
        check("a pr and (b pr and c pr)", "a pr and (b pr and c pr)");
        check("a pr or (b pr or c pr)", "a pr or (b pr or c pr)");
        check("(a pr or b pr) or c pr", "a pr or b pr or c pr");
        check("((((a pr))))", "a pr");
        check("not (a pr) and b pr", "not (a pr) and b pr");
        check("not (a pr and b pr)", "not (a pr and b pr)");
        check("not(not(a pr))", "not (not (a pr))");
        check("a pr and not (b pr or c pr) or d pr", "a pr and not (b pr or c pr) or d pr");
        check(r#"x[a pr or b eq 1] and (y pr)"#, "x[a pr or b eq 1] and y pr");
        check(
            r#"emails[(type eq "work") or not (primary eq false)]"#,
            r#"emails[type eq "work" or not (primary eq false)]"#,
        );
    }

    #[test]
    fn keywords_case_and_whitespace() {
        check(r#"userName EQ "x""#, r#"userName eq "x""#);
        check(r#"userName Eq "x" AND title PR Or active eq TRUE"#, r#"userName eq "x" and title pr or active eq true"#);
        check("NOT (title pr)", "not (title pr)");
        check("  title \t pr  \n", "title pr");
        check(r#"userName eq"x"and(title pr)"#, r#"userName eq "x" and title pr"#);
        check("a eq NULL", "a eq null");
        check("a eq False", "a eq false");
        check("emails [type pr]", "emails[type pr]");
        check("title\u{a0}pr", "title pr");
    }

    #[test]
    fn keywords_as_attribute_names() {
        check("not pr", "not pr");
        check("and pr and or pr", "and pr and or pr");
        check("or eq 1 or pr pr", "or eq 1 or pr pr");
        check(r#"not eq "x" and not (eq pr)"#, r#"not eq "x" and not (eq pr)"#);
        check("not[a pr]", "not[a pr]");
    }

    #[test]
    fn literals() {
        check("a eq true", "a eq true");
        check("a eq false", "a eq false");
        check("a eq null", "a eq null");
        check("a eq 42", "a eq 42");
        check("a eq -42", "a eq -42");
        check("a eq 0", "a eq 0");
        check("a eq -0", "a eq -0.0");
        check("a gt 1.5", "a gt 1.5");
        check("a gt 1e3", "a gt 1000.0");
        check("a gt 1.5E-3", "a gt 0.0015");
        check("a gt 18446744073709551615", "a gt 18446744073709551615");
        check("a gt 18446744073709551616", "a gt 1.8446744073709552e+19");
        check("a eq -6.773503965110032e+291", "a eq -6.773503965110032e+291");
        check(r#"a eq "tab\there""#, r#"a eq "tab\there""#);
        check(r#"a eq "\"quoted\" \\ \/ \b\f\n\r\t""#, r#"a eq "\"quoted\" \\ / \b\f\n\r\t""#);
        check(r#"a eq "\u00e9\u00E9 \u20AC \ud83d\ude00""#, r#"a eq "éé € 😀""#);
        check(r#"a eq "\u0000\u001f\u007f""#, "a eq \"\\u0000\\u001f\u{7f}\"");
        check("a eq \"raw\ttab\"", r#"a eq "raw\ttab""#);
        check(r#"a eq 'single'"#, r#"a eq "single""#);
        check(r#"a eq 'it\'s "x"'"#, r#"a eq "it's \"x\"""#);
        check(r#"a eq "O\'Malley""#, r#"a eq "O'Malley""#);
        check(r#"a eq """#, r#"a eq """#);
        check(r#"a eq "ünïcödé 日本語""#, r#"a eq "ünïcödé 日本語""#);
    }

    #[test]
    fn paths() {
        check("name.familyName pr", "name.familyName pr");
        check("groups.$ref pr", "groups.$ref pr");
        check(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x""#,
        );
        check(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]"#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]"#,
        );
    }

    #[test]
    fn errors() {
        check(
            r#"userName eqq "x""#,
            "error at column 10: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or 'pr' after 'userName', found 'eqq'",
        );
        check("", "error at column 1: expected an attribute path, '(' or 'not (', found end of input");
        check("   ", "error at column 4: expected an attribute path, '(' or 'not (', found end of input");
        check(
            "userName",
            "error at column 9: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or 'pr' after 'userName', found end of input",
        );
        check(
            "userName eq",
            "error at column 12: expected a value (a \"string\", a number, true, false or null) after 'eq' at column 10, found end of input",
        );
        check(
            "userName eq bjensen",
            "error at column 13: expected a value (a \"string\", a number, true, false or null) after 'eq', found 'bjensen'; strings must be quoted",
        );
        check(r#"userName eq "bjensen"#, "error at column 13: the string that starts here has no closing \"");
        check(r#"userName eq 'bjensen"#, "error at column 13: the string that starts here has no closing '");
        check(
            r#"a eq "\x""#,
            r#"error at column 7: unknown escape '\x' in a string; the escapes are \" \' \\ \/ \b \f \n \r \t and \uXXXX"#,
        );
        check(r#"a eq "\u12""#, r#"error at column 7: expected four hex digits after \u"#);
        check(
            r#"a eq "\ud83d""#,
            r#"error at column 7: \uD83D is a high surrogate, so another \u escape with a low surrogate must follow"#,
        );
        check(r#"a eq "\ud83d\u0041""#, r#"error at column 13: \u0041 is not a low surrogate, after \uD83D"#);
        check(r#"a eq "\ude00""#, r#"error at column 7: \uDE00 is a low surrogate without a high one"#);
        check("a eq 01", "error at column 6: '01' is not a JSON number");
        check("a eq 1.", "error at column 6: '1.' is not a JSON number");
        check("a eq -", "error at column 6: '-' is not a JSON number");
        check("a eq 1e400", "error at column 6: the number 1e400 is out of range");
        check("a pr and", "error at column 9: expected an attribute path, '(' or 'not (', found end of input");
        check("a pr b pr", "error at column 6: expected 'and', 'or' or the end of the filter, found 'b'");
        check("(a pr", "error at column 6: expected ')' to close the '(' at column 1, found end of input");
        check("a pr)", "error at column 5: found ')' without a matching '('");
        check("a[b pr", "error at column 7: expected ']' to close the '[' at column 2, found end of input");
        check("a[b pr]]", "error at column 8: found ']' without a matching '['");
        check(
            "a[b[c pr]]",
            "error at column 4: value filters cannot be nested: found '[' inside the value filter of 'a'",
        );
        check(
            r#"emails[type eq "work"].value eq "x""#,
            "error at column 23: a sub-attribute after a value filter ('emails[type eq \"work\"].value') is allowed only in PATCH paths, not in filters",
        );
        check(
            "not title pr",
            "error at column 5: expected '(' after 'not' (the RFC requires parentheses, as in 'not (title pr)'), found 'title'",
        );
        check(
            "not",
            "error at column 4: expected '(' after 'not' (the RFC requires parentheses, as in 'not (title pr)'), found end of input",
        );
        check("1abc pr", "error at column 1: attribute names start with a letter, but '1abc' starts with '1'");
        check(
            "user!name pr",
            "error at column 5: invalid character '!' in attribute name; names contain only letters, digits, '-' and '_'",
        );
        check(
            "a.b.c pr",
            "error at column 4: an attribute path has at most one sub-attribute ('name.sub'), but this one has a second '.'",
        );
        check("é pr", "error at column 1: attribute names start with a letter, but 'é' starts with 'é'");
        check(
            "日本 eq \"x\" and ü",
            "error at column 1: attribute names start with a letter, but '日本' starts with '日'",
        );
        check("a eq \"ü\" and ü", "error at column 14: attribute names start with a letter, but 'ü' starts with 'ü'");
        check("a pr and ()", "error at column 11: expected an attribute path, '(' or 'not (', found ')'");
        check("[a pr]", "error at column 1: expected an attribute path, '(' or 'not (', found '['");
        check(
            "a eq (1)",
            "error at column 6: expected a value (a \"string\", a number, true, false or null) after 'eq' at column 3, found '('",
        );
        check(
            r#"a"x" eq 1"#,
            "error at column 2: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or 'pr' after 'a', found '\"'",
        );
    }

    #[test]
    fn limits() {
        let nested = format!("{}a pr{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        check(&nested, "a pr");
        let too_nested = format!("{}a pr{}", "(".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1));
        check(&too_nested, "error at column 65: the filter nests more than 64 levels deep");
        let nots = format!("{}a pr{}", "not (".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1));
        check(&nots, "error at column 325: the filter nests more than 64 levels deep");
        let unclosed = "(".repeat(100_000);
        check(&unclosed, "error at column 65: the filter nests more than 64 levels deep");

        let chain = vec!["a pr"; MAX_HEIGHT].join(" or ");
        let filter = Filter::parse(&chain).unwrap();
        assert_eq!(Filter::parse(&filter.to_string()), Ok(filter));
        let too_long = vec!["a pr"; MAX_HEIGHT + 1].join(" or ");
        check(
            &too_long,
            "error at column 4094: the filter is too complex: its syntax tree would be more than 512 levels high",
        );
    }
}

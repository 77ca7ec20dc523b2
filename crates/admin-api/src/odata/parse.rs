//! The `$filter` parser: hand-written recursive descent over the text, one function per grammar rule (the
//! grammar is in the module documentation of [`odata`](super)).
//!
//! The parser works on a byte position that is always on a character boundary; errors report the 1-based
//! character column. Words are read where they stand: whether `not`, `and`, `or` or `startswith` is a keyword
//! or a property depends only on what follows, so every printed filter parses back.

use serde_json::Number;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{CompareOp, ErrorCode, Filter, Lambda, Literal, ODataError, PropertyPath, StringFunction};

/// The longest `$filter`, in characters.
pub const MAX_FILTER_LENGTH: usize = 4096;

/// How many levels of parentheses, `not` and `any(...)` a filter may nest.
pub const MAX_NESTING: usize = 32;

/// What a value may be, for "expected a value" messages.
const VALUES: &str = "a string in single quotes, a number, true, false, null, a GUID or a date-time";

/// Parses a whole filter.
pub(super) fn parse(source: &str) -> Result<Filter, ODataError> {
    let length = source.chars().count();
    if length > MAX_FILTER_LENGTH {
        return Err(ODataError::at_column(
            ErrorCode::BadRequest,
            MAX_FILTER_LENGTH + 1,
            format!("the filter is {length} characters long, more than the limit of {MAX_FILTER_LENGTH}"),
        ));
    }
    let mut parser = Parser { source, position: 0, nesting: 0, variables: Vec::new() };
    let filter = parser.or()?;
    parser.skip_whitespace();
    match parser.peek() {
        None => Ok(filter),
        Some(')') => Err(parser.error("found ')' without a matching '('")),
        Some(_) => {
            Err(parser.error(format!("expected 'and', 'or' or the end of the filter, found {}", parser.found())))
        }
    }
}

/// The parser's state.
struct Parser<'a> {
    source: &'a str,
    /// A byte offset into `source`, on a character boundary.
    position: usize,
    /// How many parentheses, `not`s and lambdas enclose the position.
    nesting: usize,
    /// The range variables of the enclosing lambdas, innermost last.
    variables: Vec<&'a str>,
}

impl<'a> Parser<'a> {
    /// `or = and *("or" and)`.
    fn or(&mut self) -> Result<Filter, ODataError> {
        let mut left = self.and()?;
        while self.eat_keyword("or") {
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `and = unary *("and" unary)`.
    fn and(&mut self) -> Result<Filter, ODataError> {
        let mut left = self.unary()?;
        while self.eat_keyword("and") {
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `unary = "not" unary / "(" filter ")" / function / comparison / in / lambda`.
    fn unary(&mut self) -> Result<Filter, ODataError> {
        self.skip_whitespace();
        let start = self.position;
        match self.peek() {
            Some('(') => {
                self.enter(start)?;
                self.position += 1;
                let inner = self.or()?;
                self.close(start, "the '('")?;
                return Ok(inner);
            }
            Some(c) if is_identifier_start(c) => {}
            _ => {
                return Err(self.error(format!(
                    "expected a condition (such as displayName eq 'x' or startswith(displayName,'x')), 'not' or \
                     '(', found {}",
                    self.found()
                )));
            }
        }
        let word = self.identifier_at(start);
        let after_word = start + word.len();
        if word.eq_ignore_ascii_case("not") && self.negation_follows(after_word) {
            self.position = after_word;
            // `not(...)` is one level: the parenthesis counts, not the `not` as well.
            let parenthesised = self.next_non_whitespace(after_word) == Some('(');
            if !parenthesised {
                self.enter(start)?;
            }
            let inner = self.unary()?;
            if !parenthesised {
                self.nesting -= 1;
            }
            return Ok(Filter::Not(Box::new(inner)));
        }
        if let Some(function) = StringFunction::from_word(word)
            && self.next_non_whitespace(after_word) == Some('(')
        {
            self.position = after_word;
            return self.function(function, word);
        }
        self.property_expression()
    }

    /// Whether `not` that ends at `after` negates what follows, rather than being a property called `not`:
    /// it does unless `/` follows, or whitespace and a comparison operator or `in`.
    fn negation_follows(&self, after: usize) -> bool {
        let rest = self.source.get(after..).unwrap_or("");
        match rest.chars().next() {
            None | Some('(') => true,
            Some(c) if c.is_whitespace() => {
                let word = identifier_prefix(rest.trim_start());
                CompareOp::from_word(word).is_none() && !word.eq_ignore_ascii_case("in")
            }
            Some(_) => false,
        }
    }

    /// `function "(" path "," string ")"`, after the function's name (`name`, as written).
    fn function(&mut self, function: StringFunction, name: &str) -> Result<Filter, ODataError> {
        self.skip_whitespace();
        let open = self.position;
        self.position += 1;
        self.skip_whitespace();
        if !self.peek().is_some_and(is_identifier_start) {
            return Err(self.error(format!(
                "expected a property as the first argument of {name}(…), as in {name}(displayName,'x'), found {}",
                self.found()
            )));
        }
        let path = self.path_in_scope()?;
        self.skip_whitespace();
        if self.peek() != Some(',') {
            return Err(
                self.error(format!("expected ',' after the property '{path}' in {name}(…), found {}", self.found()))
            );
        }
        self.position += 1;
        self.skip_whitespace();
        if self.peek() != Some('\'') {
            return Err(self.error(format!(
                "expected a string in single quotes as the second argument of {name}(…), found {}",
                self.found()
            )));
        }
        let value = self.string()?;
        self.skip_whitespace();
        if self.peek() != Some(')') {
            let column = self.column(open);
            return Err(self.error(format!("expected ')' to close {name}( at column {column}, found {}", self.found())));
        }
        self.position += 1;
        Ok(Filter::Function { function, path, value })
    }

    /// A comparison, `in` or lambda: a property path and what follows it.
    fn property_expression(&mut self) -> Result<Filter, ODataError> {
        let path = self.path_in_scope()?;
        if self.peek() == Some('/') {
            return self.lambda(path);
        }
        self.skip_whitespace();
        let op_start = self.position;
        let word = self.identifier_at(op_start);
        if word.eq_ignore_ascii_case("in") {
            self.position += word.len();
            return self.in_list(path);
        }
        if let Some(op) = CompareOp::from_word(word) {
            self.position += word.len();
            self.skip_whitespace();
            let value_start = self.position;
            let value = self.literal(&format!("after '{word}'"))?;
            if op.is_ordering() && matches!(value, Literal::Null | Literal::Bool(_)) {
                return Err(self.error_at(
                    value_start,
                    format!("'{word}' cannot compare with {value}: null and booleans take only 'eq' and 'ne'"),
                ));
            }
            return Ok(Filter::Compare { path, op, value });
        }
        if word.eq_ignore_ascii_case("has") {
            return Err(self.unsupported_at(op_start, "the 'has' operator is not supported"));
        }
        if self.peek() == Some('(') {
            return Err(self.error(format!(
                "'{path}' is not a function: the functions are startswith, endswith and contains, and an operator \
                 (eq, ne, lt, le, gt, ge or in) follows a property"
            )));
        }
        Err(self.error(format!(
            "expected an operator (eq, ne, lt, le, gt, ge or in) or '/any(' after '{path}', found {}",
            self.found()
        )))
    }

    /// `"(" literal *("," literal) ")"`, after `in`.
    fn in_list(&mut self, path: PropertyPath) -> Result<Filter, ODataError> {
        self.skip_whitespace();
        if self.peek() != Some('(') {
            return Err(self.error(format!(
                "expected '(' and a list of values after 'in', as in id in ('a','b'), found {}",
                self.found()
            )));
        }
        let open = self.position;
        self.position += 1;
        let mut values = Vec::new();
        loop {
            self.skip_whitespace();
            values.push(self.literal("in the list after 'in'")?);
            self.skip_whitespace();
            match self.peek() {
                Some(',') => self.position += 1,
                Some(')') => {
                    self.position += 1;
                    return Ok(Filter::In { path, values });
                }
                _ => {
                    let column = self.column(open);
                    return Err(self.error(format!(
                        "expected ',' or ')' in the list of values that starts at column {column}, found {}",
                        self.found()
                    )));
                }
            }
        }
    }

    /// `"/any(" [variable ":" filter] ")"`, at the `/` after the collection's path.
    fn lambda(&mut self, path: PropertyPath) -> Result<Filter, ODataError> {
        self.position += 1;
        let word_start = self.position;
        let word = self.identifier_at(word_start);
        if word.eq_ignore_ascii_case("all") {
            return Err(self.unsupported_at(
                word_start,
                format!("the 'all' operator is not supported: write not({path}/any(x: not(…))) instead"),
            ));
        }
        self.position += word.len();
        self.skip_whitespace();
        let open = self.position;
        self.enter(open)?;
        self.position += 1;
        self.skip_whitespace();
        if self.peek() == Some(')') {
            self.position += 1;
            self.nesting -= 1;
            return Ok(Filter::Any { path, lambda: None });
        }
        let variable_start = self.position;
        let variable = self.identifier_at(variable_start);
        if variable.is_empty() {
            return Err(self.error(format!(
                "expected a variable name and ':' after 'any(', as in {path}/any(x:x eq 'value'), found {}",
                self.found()
            )));
        }
        if self.variables.contains(&variable) {
            return Err(self.error_at(
                variable_start,
                format!("the variable '{variable}' is already used by an enclosing any(…): choose another name"),
            ));
        }
        self.position += variable.len();
        self.skip_whitespace();
        if self.peek() != Some(':') {
            return Err(self.error(format!(
                "expected ':' after the variable '{variable}', as in {path}/any({variable}:{variable} eq 'value'), \
                 found {}",
                self.found()
            )));
        }
        self.position += 1;
        self.variables.push(variable);
        let body = self.or()?;
        self.variables.pop();
        self.close(open, "'any('")?;
        Ok(Filter::Any { path, lambda: Some(Lambda { variable: variable.to_owned(), body: Box::new(body) }) })
    }

    /// Expects `)` after optional whitespace, closing what opened at `open`, and leaves one level of nesting.
    fn close(&mut self, open: usize, what: &str) -> Result<(), ODataError> {
        self.skip_whitespace();
        if self.peek() != Some(')') {
            let column = self.column(open);
            return Err(self.error(format!("expected ')' to close {what} at column {column}, found {}", self.found())));
        }
        self.position += 1;
        self.nesting -= 1;
        Ok(())
    }

    /// A property path that, inside a lambda, starts with a range variable in scope.
    fn path_in_scope(&mut self) -> Result<PropertyPath, ODataError> {
        let start = self.position;
        let path = self.path()?;
        if let Some(innermost) = self.variables.last()
            && !path.segments.first().is_some_and(|first| self.variables.contains(&first.as_str()))
        {
            return Err(self.error_at(
                start,
                format!(
                    "inside any({innermost}:…) a property is reached through the variable: write '{innermost}' or \
                     '{innermost}/…', not '{path}'"
                ),
            ));
        }
        Ok(path)
    }

    /// `identifier *("/" identifier)`, at an identifier; stops before a `/any(` or `/all(`.
    fn path(&mut self) -> Result<PropertyPath, ODataError> {
        let mut segments = Vec::new();
        loop {
            let word = self.identifier_at(self.position);
            if word.is_empty() {
                return Err(self.error(format!("expected a property name after '/', found {}", self.found())));
            }
            self.position += word.len();
            segments.push(word.to_owned());
            if self.peek() != Some('/') {
                break;
            }
            let after_slash = self.position + 1;
            let next = self.identifier_at(after_slash);
            let lambda = next.eq_ignore_ascii_case("any") || next.eq_ignore_ascii_case("all");
            if lambda && self.next_non_whitespace(after_slash + next.len()) == Some('(') {
                break;
            }
            self.position = after_slash;
        }
        Ok(PropertyPath { segments })
    }

    /// A literal at the position; `after` says where, for messages ("after 'eq'").
    fn literal(&mut self, after: &str) -> Result<Literal, ODataError> {
        let start = self.position;
        if self.peek() == Some('\'') {
            return self.string().map(Literal::String);
        }
        let word = literal_word(self.rest());
        if word.is_empty() {
            return Err(self.error(format!("expected a value {after} ({VALUES}), found {}", self.found())));
        }
        let literal = classify(word, after).map_err(|message| self.error_at(start, message))?;
        self.position += word.len();
        Ok(literal)
    }

    /// A string in single quotes, at the opening quote; `''` is a quote.
    fn string(&mut self) -> Result<String, ODataError> {
        let open = self.position;
        self.position += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error_at(
                    open,
                    "the string that starts here has no closing quote (a quote inside a string is written '')",
                ));
            };
            self.position += c.len_utf8();
            if c == '\'' {
                if self.peek() != Some('\'') {
                    return Ok(out);
                }
                self.position += 1;
            }
            out.push(c);
        }
    }

    /// Consumes whitespace and `keyword` (in any case) if they come next and the keyword ends at whitespace, `(`
    /// or the end; otherwise consumes nothing.
    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let before = self.position;
        self.skip_whitespace();
        let word = self.identifier_at(self.position);
        if word.eq_ignore_ascii_case(keyword) {
            let after = self.source.get(self.position + word.len()..).unwrap_or("");
            if after.chars().next().is_none_or(|c| c == '(' || c.is_whitespace()) {
                self.position += word.len();
                return true;
            }
        }
        self.position = before;
        false
    }

    /// Counts one more level of nesting, which starts at `start`.
    fn enter(&mut self, start: usize) -> Result<(), ODataError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(self.error_at(
                start,
                format!("the filter nests more than {MAX_NESTING} levels deep (parentheses, 'not' and any(…) count)"),
            ));
        }
        Ok(())
    }

    /// The identifier at a byte position (empty if none starts there).
    fn identifier_at(&self, position: usize) -> &'a str {
        identifier_prefix(self.source.get(position..).unwrap_or(""))
    }

    /// The first character at or after `position` that is not whitespace.
    fn next_non_whitespace(&self, position: usize) -> Option<char> {
        self.source.get(position..).unwrap_or("").chars().find(|c| !c.is_whitespace())
    }

    fn rest(&self) -> &'a str {
        self.source.get(self.position..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_whitespace(&mut self) {
        let rest = self.rest();
        self.position += rest.len() - rest.trim_start().len();
    }

    /// Describes what is at the position, for "found ..." in messages.
    fn found(&self) -> String {
        let rest = self.rest();
        let Some(first) = rest.chars().next() else { return "end of input".to_owned() };
        if first.is_whitespace() {
            return "whitespace".to_owned();
        }
        let token = if first == '\'' {
            let end = rest.get(1..).and_then(|after| after.find('\'')).map_or(rest.len(), |end| end + 2);
            rest.get(..end).unwrap_or(rest)
        } else if is_delimiter(first) {
            rest.get(..first.len_utf8()).unwrap_or(rest)
        } else {
            let end = rest.find(|c: char| c.is_whitespace() || is_delimiter(c)).unwrap_or(rest.len());
            rest.get(..end).unwrap_or(rest)
        };
        let mut shown: String = token.chars().take(24).collect();
        if shown.len() < token.len() {
            shown.push('…');
        }
        if first == '\'' { shown } else { format!("'{shown}'") }
    }

    /// The 1-based character column of a byte position.
    fn column(&self, position: usize) -> usize {
        self.source.get(..position).map_or(1, |before| before.chars().count() + 1)
    }

    fn error(&self, message: impl std::fmt::Display) -> ODataError {
        self.error_at(self.position, message)
    }

    fn error_at(&self, position: usize, message: impl std::fmt::Display) -> ODataError {
        ODataError::at_column(ErrorCode::BadRequest, self.column(position), message)
    }

    fn unsupported_at(&self, position: usize, message: impl std::fmt::Display) -> ODataError {
        ODataError::at_column(ErrorCode::UnsupportedQuery, self.column(position), message)
    }
}

fn is_identifier_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_delimiter(c: char) -> bool {
    matches!(c, '(' | ')' | ',' | '\'' | '/' | ':')
}

/// The identifier at the start of `text`: a letter or `_`, then letters, digits and `_` (empty if none).
pub(super) fn identifier_prefix(text: &str) -> &str {
    if !text.chars().next().is_some_and(is_identifier_start) {
        return "";
    }
    let end = text.find(|c: char| !is_identifier_char(c)).unwrap_or(text.len());
    text.get(..end).unwrap_or("")
}

/// Whether `text` is one identifier.
pub(super) fn is_identifier(text: &str) -> bool {
    !text.is_empty() && identifier_prefix(text).len() == text.len()
}

/// Parses a property path written with `/` (for `$orderby`): `None` unless every segment is an identifier.
pub(super) fn property_path(text: &str) -> Option<PropertyPath> {
    let segments: Vec<String> = text.split('/').map(str::to_owned).collect();
    segments.iter().all(|segment| is_identifier(segment)).then_some(PropertyPath { segments })
}

/// The bare literal at the start of `text`: up to whitespace, a parenthesis, a comma or a quote.
fn literal_word(text: &str) -> &str {
    let end = text.find(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | '\'')).unwrap_or(text.len());
    text.get(..end).unwrap_or("")
}

/// What a bare literal is: `true`, `false`, `null`, a GUID, a date-time or a number.
fn classify(word: &str, after: &str) -> Result<Literal, String> {
    if word.eq_ignore_ascii_case("true") {
        return Ok(Literal::Bool(true));
    }
    if word.eq_ignore_ascii_case("false") {
        return Ok(Literal::Bool(false));
    }
    if word.eq_ignore_ascii_case("null") {
        return Ok(Literal::Null);
    }
    if let Some(guid) = parse_guid(word) {
        return Ok(Literal::Guid(guid));
    }
    if starts_with_date(word) {
        if word.len() == 10 {
            return Err(format!("'{word}' is a date without a time: write a date-time such as {word}T00:00:00Z"));
        }
        let separator = word.as_bytes().get(10).copied();
        return match OffsetDateTime::parse(word, &Rfc3339) {
            Ok(at) if matches!(separator, Some(b'T' | b't')) => Ok(Literal::DateTime(at)),
            _ => Err(format!(
                "'{word}' is not a valid date-time: write one such as 2026-01-01T00:00:00Z or \
                 2026-01-01T00:00:00.5+02:00 (seconds, and 'Z' or an offset, are required)"
            )),
        };
    }
    if word.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        return match word.parse::<Number>() {
            Ok(number) => Ok(exact_float(word, number)),
            Err(error) if error.to_string().contains("out of range") => {
                Err(format!("the number {word} is out of range"))
            }
            Err(_) => Err(format!("'{word}' is not a number")),
        };
    }
    Err(format!(
        "expected a value {after} ({VALUES}), found '{word}'; strings are written in single quotes, as in '{word}'"
    ))
}

/// The number, with a fractional or very large one re-read by the standard library, whose conversion is
/// correctly rounded (serde_json's default one can be off by one unit in the last place, which would break the
/// printer's round trip).
fn exact_float(word: &str, number: Number) -> Literal {
    if !number.is_f64() {
        return Literal::Number(number);
    }
    Literal::Number(word.parse::<f64>().ok().and_then(Number::from_f64).unwrap_or(number))
}

/// Whether `word` starts like a date: four digits, `-`, two digits, `-`, two digits.
fn starts_with_date(word: &str) -> bool {
    let bytes = word.as_bytes();
    bytes.len() >= 10
        && bytes.iter().take(10).enumerate().all(|(index, byte)| match index {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        })
}

/// A GUID in its 8-4-4-4-12 hex form, in any case.
pub(super) fn parse_guid(text: &str) -> Option<u128> {
    let bytes = text.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut value: u128 = 0;
    for (index, byte) in bytes.iter().enumerate() {
        if matches!(index, 8 | 13 | 18 | 23) {
            if *byte != b'-' {
                return None;
            }
            continue;
        }
        let digit = char::from(*byte).to_digit(16)?;
        value = (value << 4) | u128::from(digit);
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `input` and checks the canonical print (which must parse back to the same filter).
    fn ok(input: &str, expected: &str) {
        let filter = Filter::parse(input).unwrap_or_else(|error| panic!("{input}: {error}"));
        let printed = filter.to_string();
        assert_eq!(printed, expected, "input: {input}");
        assert_eq!(Filter::parse(&printed).as_ref(), Ok(&filter), "round trip of {printed}");
    }

    /// Parses `input`, which must fail at `column` with a message containing `fragment`.
    fn fails(input: &str, column: usize, fragment: &str) {
        let error = Filter::parse(input).expect_err(input);
        assert_eq!(error.column, Some(column), "input: {input}; error: {error}");
        assert!(error.message.starts_with(&format!("$filter column {column}: ")), "{error}");
        assert!(error.message.contains(fragment), "input: {input}; error: {error}; wanted {fragment:?}");
    }

    #[test]
    fn graph_examples() {
        let cases = [
            ("startswith(displayName,'J')", "startswith(displayName,'J')"),
            ("startsWith(displayName, 'J')", "startswith(displayName,'J')"),
            ("userPrincipalName eq 'ada@contoso.com'", "userPrincipalName eq 'ada@contoso.com'"),
            (
                "jobId eq 'scim.abc' and activityDateTime gt 2026-01-01T00:00:00Z",
                "jobId eq 'scim.abc' and activityDateTime gt 2026-01-01T00:00:00Z",
            ),
            ("contains(sourceIdentity/displayName,'Bob')", "contains(sourceIdentity/displayName,'Bob')"),
            ("id in ('a','b')", "id in ('a','b')"),
            ("id in ( 'a' , 'b' )", "id in ('a','b')"),
            ("accountEnabled eq false", "accountEnabled eq false"),
            ("mail eq null", "mail eq null"),
            ("imAddresses/any(i:i eq 'x')", "imAddresses/any(i:i eq 'x')"),
            ("not(startswith(displayName,'A'))", "not(startswith(displayName,'A'))"),
            ("displayName eq 'O''Brien'", "displayName eq 'O''Brien'"),
            ("proxyAddresses/any(x:startswith(x,'smtp:'))", "proxyAddresses/any(x:startswith(x,'smtp:'))"),
            ("provisioningStatusInfo/status eq 'failure'", "provisioningStatusInfo/status eq 'failure'"),
            ("initiatedBy/user/id eq 'u1'", "initiatedBy/user/id eq 'u1'"),
            ("NOT(groupTypes/any(c:c eq 'Unified'))", "not(groupTypes/any(c:c eq 'Unified'))"),
            ("endsWith(mail,'@contoso.com')", "endswith(mail,'@contoso.com')"),
            ("assignedLicenses/any()", "assignedLicenses/any()"),
            (
                "targetResources/any(t: t/displayName eq 'Ada' and startswith(t/type,'U'))",
                "targetResources/any(t:t/displayName eq 'Ada' and startswith(t/type,'U'))",
            ),
        ];
        for (input, expected) in cases {
            ok(input, expected);
        }
    }

    #[test]
    fn precedence_and_grouping() {
        let cases = [
            ("a eq 1 or b eq 2 and c eq 3", "a eq 1 or b eq 2 and c eq 3"),
            ("(a eq 1 or b eq 2) and c eq 3", "(a eq 1 or b eq 2) and c eq 3"),
            ("a eq 1 and (b eq 2 and c eq 3)", "a eq 1 and (b eq 2 and c eq 3)"),
            ("(a eq 1 and b eq 2) and c eq 3", "a eq 1 and b eq 2 and c eq 3"),
            ("a eq 1 or (b eq 2 or c eq 3)", "a eq 1 or (b eq 2 or c eq 3)"),
            ("((((a eq 1))))", "a eq 1"),
            ("not a eq 1 and b eq 2", "not(a eq 1) and b eq 2"),
            ("not (a eq 1 or b eq 2)", "not(a eq 1 or b eq 2)"),
            ("not not a eq 1", "not(not(a eq 1))"),
            ("a eq 1 AND b eq 2 Or c eq 3", "a eq 1 and b eq 2 or c eq 3"),
            ("(a eq 1)or(b eq 2)", "a eq 1 or b eq 2"),
            ("a eq 'x'and b eq 'y'", "a eq 'x' and b eq 'y'"),
            ("  a \t EQ\n1  ", "a eq 1"),
            ("a\u{a0}eq\u{2003}1", "a eq 1"),
        ];
        for (input, expected) in cases {
            ok(input, expected);
        }
    }

    #[test]
    fn literals() {
        let cases = [
            ("a eq 42", "a eq 42"),
            ("a eq -42", "a eq -42"),
            ("a gt 1.5", "a gt 1.5"),
            ("a gt 2e3", "a gt 2000.0"),
            ("a lt -0.25E-2", "a lt -0.0025"),
            ("a eq 18446744073709551615", "a eq 18446744073709551615"),
            ("a eq TRUE", "a eq true"),
            ("a ne Null", "a ne null"),
            ("a eq ''", "a eq ''"),
            ("a eq ''''", "a eq ''''"),
            ("a eq 'ünï 日本 😀 (x, y)'", "a eq 'ünï 日本 😀 (x, y)'"),
            ("a eq 'tab\there'", "a eq 'tab\there'"),
            ("id eq EC2D0D8A-3C1F-4C32-9D1B-4E0A2F3B5C6D", "id eq ec2d0d8a-3c1f-4c32-9d1b-4e0a2f3b5c6d"),
            (
                "id in (ec2d0d8a-3c1f-4c32-9d1b-4e0a2f3b5c6d, 'x', 3, null)",
                "id in (ec2d0d8a-3c1f-4c32-9d1b-4e0a2f3b5c6d,'x',3,null)",
            ),
            ("t ge 2026-01-01T00:00:00.250Z", "t ge 2026-01-01T00:00:00.25Z"),
            ("t le 2026-01-01T10:30:00+02:00", "t le 2026-01-01T10:30:00+02:00"),
            ("t eq 2026-01-01t00:00:00z", "t eq 2026-01-01T00:00:00Z"),
            ("t lt 2026-01-01T00:00:00.1234567Z", "t lt 2026-01-01T00:00:00.1234567Z"),
        ];
        for (input, expected) in cases {
            ok(input, expected);
        }
        let Filter::Compare { value: Literal::DateTime(at), .. } =
            Filter::parse("t eq 2026-01-01T02:00:00+02:00").unwrap()
        else {
            panic!("not a date-time")
        };
        assert_eq!(at.unix_timestamp(), 1_767_225_600);
    }

    #[test]
    fn keywords_as_property_names() {
        let cases = [
            ("not eq 1", "not eq 1"),
            ("not in ('a')", "not in ('a')"),
            ("not/x eq 1", "not/x eq 1"),
            ("not(not eq 1)", "not(not eq 1)"),
            ("and eq 1 and or eq 2 or not eq 3", "and eq 1 and or eq 2 or not eq 3"),
            ("startswith eq 'x'", "startswith eq 'x'"),
            ("contains(contains,'x')", "contains(contains,'x')"),
            ("a/any eq 1", "a/any eq 1"),
            ("a/any/any(any:any eq 1)", "a/any/any(any:any eq 1)"),
            ("null eq null", "null eq null"),
            ("x/any(y:y/any(z:z eq 1 and y/n gt 2))", "x/any(y:y/any(z:z eq 1 and y/n gt 2))"),
        ];
        for (input, expected) in cases {
            ok(input, expected);
        }
    }

    #[test]
    fn errors() {
        fails("userName eq", 12, "expected a value after 'eq' (a string in single quotes");
        fails("userName eq", 12, "found end of input");
        fails("", 1, "expected a condition");
        fails("   ", 4, "expected a condition");
        fails(
            "userName eqq 'x'",
            10,
            "expected an operator (eq, ne, lt, le, gt, ge or in) or '/any(' after 'userName', found 'eqq'",
        );
        fails("userName", 9, "expected an operator");
        fails("displayName eq bob", 16, "found 'bob'; strings are written in single quotes");
        fails("displayName eq 'bob", 16, "the string that starts here has no closing quote");
        fails("a eq 1 and", 11, "expected a condition");
        fails("a eq 1 b eq 2", 8, "expected 'and', 'or' or the end of the filter, found 'b'");
        fails("(a eq 1", 8, "expected ')' to close the '(' at column 1, found end of input");
        fails("a eq 1)", 7, "found ')' without a matching '('");
        fails("startswith(displayName 'J')", 24, "expected ',' after the property 'displayName' in startswith(…)");
        fails("startswith(displayName, J)", 25, "expected a string in single quotes as the second argument");
        fails("startswith(displayName,'J'", 27, "expected ')' to close startswith( at column 11");
        fails("startswith('J', displayName)", 12, "expected a property as the first argument");
        fails("startwith(displayName,'J')", 10, "'startwith' is not a function");
        fails("id in 'a'", 7, "expected '(' and a list of values after 'in'");
        fails("id in ()", 8, "expected a value in the list after 'in'");
        fails("id in ('a',)", 12, "expected a value in the list after 'in'");
        fails("id in ('a' 'b')", 12, "expected ',' or ')' in the list of values that starts at column 7");
        fails("a eq 01", 6, "'01' is not a number");
        fails("a eq 1e400", 6, "the number 1e400 is out of range");
        fails("a eq 2026-01-01", 6, "is a date without a time");
        fails("a eq 2026-13-01T00:00:00Z", 6, "is not a valid date-time");
        fails("a eq 2026-01-01T00:00Z", 6, "is not a valid date-time");
        fails("a eq 2026-01-01X00:00:00Z", 6, "is not a valid date-time");
        fails("a gt null", 6, "'gt' cannot compare with null");
        fails("a le true", 6, "'le' cannot compare with true");
        fails("a/any(x:y eq 1)", 9, "inside any(x:…) a property is reached through the variable");
        fails("a/any(x:startswith(b,'v'))", 20, "write 'x' or 'x/…', not 'b'");
        fails("a/any(x:x/any(x:x eq 1))", 15, "the variable 'x' is already used");
        fails("a/any(x x eq 1)", 9, "expected ':' after the variable 'x'");
        fails("a/any(:x eq 1)", 7, "expected a variable name and ':' after 'any('");
        fails("a/any(x:x eq 1", 15, "expected ')' to close 'any(' at column 6");
        fails("a/ eq 1", 3, "expected a property name after '/'");
        fails("a/1b eq 1", 3, "expected a property name after '/', found '1b'");
        fails("1 eq a", 1, "expected a condition");
        fails("a eq (1)", 6, "expected a value after 'eq'");
        fails("ünï eq 'x'", 1, "expected a condition");
        fails("a eq 'ü' and ü eq 1", 14, "expected a condition");
        fails("not", 4, "expected a condition");
    }

    #[test]
    fn unsupported_operators() {
        let error = Filter::parse("a/all(x:x eq 1)").unwrap_err();
        assert_eq!((error.code(), error.column), ("Request_UnsupportedQuery", Some(3)));
        assert!(error.message.contains("the 'all' operator is not supported"), "{error}");
        let error = Filter::parse("kind has 'x'").unwrap_err();
        assert_eq!((error.code(), error.column), ("Request_UnsupportedQuery", Some(6)));
        assert_eq!(Filter::parse("a eq").unwrap_err().code(), "BadRequest");
    }

    #[test]
    fn limits() {
        let nested = format!("{}a eq 1{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        ok(&nested, "a eq 1");
        let too_nested = format!("{}a eq 1{}", "(".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1));
        fails(&too_nested, 33, "the filter nests more than 32 levels deep");
        fails(&"not ".repeat(40), 129, "nests more than 32 levels");
        let lambdas: String =
            std::iter::once("x".to_owned()).chain((0..40).map(|i| format!("/any(y{i}:y{i}"))).collect();
        let column = lambdas.match_indices("any(").nth(MAX_NESTING).map(|(index, _)| index + 4).unwrap();
        fails(&lambdas, column, "nests more than 32 levels");
        fails(&"(".repeat(MAX_FILTER_LENGTH), 33, "nests more than 32 levels");
        fails(
            &"(".repeat(MAX_FILTER_LENGTH + 1),
            4097,
            "the filter is 4097 characters long, more than the limit of 4096",
        );
        // Length counts characters, not bytes.
        let wide = format!("a eq '{}'", "é".repeat(MAX_FILTER_LENGTH - 7));
        assert!(Filter::parse(&wide).is_ok());

        // The longest chains the length allows print, evaluate and drop without trouble.
        let chain = vec!["a eq 1"; MAX_FILTER_LENGTH / 10].join(" or ");
        let filter = Filter::parse(&chain).unwrap();
        assert_eq!(Filter::parse(&filter.to_string()).as_ref(), Ok(&filter));
        assert!(!filter.matches(&serde_json::json!({"a": 2}), super::super::MatchOptions::CASE_INSENSITIVE));
        let nots = format!("{}a eq 1{}", "not(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        ok(&nots, &nots);
    }

    #[test]
    fn guids() {
        assert_eq!(parse_guid("00000000-0000-0000-0000-000000000001"), Some(1));
        assert_eq!(parse_guid("FFFFFFFF-ffff-FFFF-ffff-FFFFFFFFFFFF"), Some(u128::MAX));
        assert_eq!(parse_guid("00000000-0000-0000-0000-00000000000g"), None);
        assert_eq!(parse_guid("00000000-0000-0000-0000+000000000001"), None);
        assert_eq!(parse_guid("00000000-0000-0000-0000-0000000000011"), None);
        assert_eq!(parse_guid("0000000-00000-0000-0000-000000000001"), None);
    }
}

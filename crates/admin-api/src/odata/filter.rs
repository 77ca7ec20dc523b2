//! The `$filter` syntax tree, the operators a resource allows, and the entry points of parsing, checking and
//! evaluation.

use std::fmt;
use std::str::FromStr;

use serde_json::{Number, Value};
use time::OffsetDateTime;

use super::ODataError;

/// A `$filter` expression.
///
/// Made by [`Filter::parse`]; printed canonically by `Display` (`Filter::parse(&filter.to_string())` gives an
/// equal filter for every filter the parser makes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `path op literal`, as in `accountEnabled eq false`.
    Compare {
        /// The property compared.
        path: PropertyPath,
        /// The operator.
        op: CompareOp,
        /// The literal compared with.
        value: Literal,
    },
    /// `path in (literal, ...)`: true when the property equals one of the literals.
    In {
        /// The property compared.
        path: PropertyPath,
        /// The literals, at least one.
        values: Vec<Literal>,
    },
    /// `startswith(path, 'text')`, `endswith(...)` or `contains(...)`.
    Function {
        /// Which function.
        function: StringFunction,
        /// The property tested.
        path: PropertyPath,
        /// The string literal.
        value: String,
    },
    /// `path/any()` (the collection is not empty) or `path/any(x: body)` (some element makes `body` true).
    Any {
        /// The collection.
        path: PropertyPath,
        /// The range variable and the body; `None` for `any()`.
        lambda: Option<Lambda>,
    },
    /// `left and right`.
    And(Box<Filter>, Box<Filter>),
    /// `left or right`.
    Or(Box<Filter>, Box<Filter>),
    /// `not(inner)`.
    Not(Box<Filter>),
}

/// The inside of `any(x: body)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lambda {
    /// The range variable (`x`), an identifier.
    pub variable: String,
    /// The body, whose property paths start with this variable or an enclosing lambda's.
    pub body: Box<Filter>,
}

/// A property path: identifiers separated by `/` (`displayName`, `sourceIdentity/id`, `initiatedBy/user/id`).
///
/// Each segment is an identifier: an ASCII letter or `_`, then ASCII letters, digits and `_`. Inside a lambda
/// body the first segment is a range variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PropertyPath {
    /// The segments, at least one.
    pub segments: Vec<String>,
}

/// The comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `lt`
    Lt,
    /// `le`
    Le,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
}

/// The string functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StringFunction {
    /// `startswith(prop, 'x')` (Graph writes `startsWith`).
    StartsWith,
    /// `endswith(prop, 'x')`
    EndsWith,
    /// `contains(prop, 'x')`
    Contains,
}

/// A literal in a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// An integer or decimal number (`42`, `-1.5`, `2e3`).
    Number(Number),
    /// A string in single quotes (`'O''Brien'` is `O'Brien`).
    String(String),
    /// A bare GUID (`ec2d0d8a-3c1f-4c32-9d1b-4e0a2f3b5c6d`), as its 128 bits; printed in lower case.
    Guid(u128),
    /// A bare RFC 3339 date-time (`2026-01-01T00:00:00Z`), with its offset. Equality is by instant.
    DateTime(OffsetDateTime),
}

/// What a property may be filtered with, in a resource's [`Capabilities`] table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `eq` (also `eq null`)
    Eq,
    /// `ne`
    Ne,
    /// `lt`
    Lt,
    /// `le`
    Le,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `in (...)`
    In,
    /// `startswith(...)`
    StartsWith,
    /// `endswith(...)`
    EndsWith,
    /// `contains(...)`
    Contains,
    /// `/any(...)`, on a collection
    Any,
    /// The property appears under a `not(...)`.
    Not,
}

/// A resource's filterable properties: `(property path, operators allowed)`, the path written with `/` as in
/// filters (`sourceIdentity/displayName`). A lambda body's operators are checked on the collection's path
/// (`imAddresses/any(i: i eq 'x')` needs `Any` and `Eq` on `imAddresses`) or below it
/// (`targetResources/any(t: t/id eq 'x')` needs `Any` on `targetResources` and `Eq` on `targetResources/id`).
/// Property names match ASCII-case-insensitively.
pub type Capabilities<'a> = &'a [(&'a str, &'a [Operator])];

/// How [`Filter::matches`] compares strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MatchOptions {
    /// Whether string comparisons and functions ignore case (both sides [`str::to_lowercase`]d): true for
    /// directory objects (users, groups, applications, directory audits), false for provisioning logs.
    pub case_insensitive: bool,
}

impl MatchOptions {
    /// Directory objects: strings compare without regard to case.
    pub const CASE_INSENSITIVE: MatchOptions = MatchOptions { case_insensitive: true };
    /// Provisioning logs: strings compare exactly.
    pub const CASE_SENSITIVE: MatchOptions = MatchOptions { case_insensitive: false };
}

impl Filter {
    /// Parses a `$filter` value (already percent-decoded). Never panics; errors are 400 `BadRequest` (or
    /// `Request_UnsupportedQuery` for `all` and `has`) with the column of the problem.
    ///
    /// ```
    /// use roster_admin_api::odata::Filter;
    /// let error = Filter::parse("userName eq").unwrap_err();
    /// assert_eq!(error.column, Some(12));
    /// assert!(error.to_string().starts_with("$filter column 12: expected a value after 'eq'"));
    /// let filter = Filter::parse("startsWith(displayName,'J') AND accountEnabled eq true").unwrap();
    /// assert_eq!(filter.to_string(), "startswith(displayName,'J') and accountEnabled eq true");
    /// ```
    pub fn parse(input: &str) -> Result<Filter, ODataError> {
        super::parse::parse(input)
    }

    /// Checks every property and operator of the filter against a resource's table; `resource` names the
    /// resource in the error (`User`). A property not in the table, or used with an operator the table does not
    /// list for it, is a 400 `Request_UnsupportedQuery` with Graph's wording: `Unsupported or invalid query filter
    /// clause specified for property 'jobTitle' of resource 'User'.`
    pub fn check(&self, capabilities: Capabilities<'_>, resource: &str) -> Result<(), ODataError> {
        super::check::check(self, capabilities, resource)
    }

    /// Whether a Graph JSON object matches the filter, with the semantics in the module documentation.
    pub fn matches(&self, object: &Value, options: MatchOptions) -> bool {
        super::eval::matches(self, object, options)
    }

    /// The string a top-level `property eq 'value'` requires, if the filter is such a comparison or an `and` of
    /// terms one of which is: every object the filter matches has `property` equal to it (compared as the match
    /// options compare strings). For pushing a selective condition down to a store. `property` is a path written
    /// with `/`, matched ASCII-case-insensitively.
    pub fn equals(&self, property: &str) -> Option<&str> {
        match self {
            Filter::Compare { path, op: CompareOp::Eq, value: Literal::String(value) } if path.is(property) => {
                Some(value)
            }
            Filter::And(left, right) => left.equals(property).or_else(|| right.equals(property)),
            _ => None,
        }
    }
}

impl FromStr for Filter {
    type Err = ODataError;

    /// [`Filter::parse`].
    fn from_str(input: &str) -> Result<Filter, ODataError> {
        Filter::parse(input)
    }
}

impl PropertyPath {
    /// A path from its segments, which the caller guarantees are identifiers.
    pub fn new<S: Into<String>>(segments: impl IntoIterator<Item = S>) -> PropertyPath {
        PropertyPath { segments: segments.into_iter().map(Into::into).collect() }
    }

    /// Whether the path, written with `/`, is `text`, ignoring ASCII case.
    pub fn is(&self, text: &str) -> bool {
        let mut parts = text.split('/');
        self.segments.iter().all(|segment| parts.next().is_some_and(|part| part.eq_ignore_ascii_case(segment)))
            && parts.next().is_none()
    }
}

impl fmt::Display for PropertyPath {
    /// The segments joined with `/`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, segment) in self.segments.iter().enumerate() {
            if index > 0 {
                f.write_str("/")?;
            }
            f.write_str(segment)?;
        }
        Ok(())
    }
}

impl CompareOp {
    /// The operator as written in a filter.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
        }
    }

    /// The operator a word names, in any case.
    pub(crate) fn from_word(word: &str) -> Option<CompareOp> {
        [CompareOp::Eq, CompareOp::Ne, CompareOp::Lt, CompareOp::Le, CompareOp::Gt, CompareOp::Ge]
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }

    /// Whether this is one of the ordering operators `lt`, `le`, `gt`, `ge`.
    pub fn is_ordering(self) -> bool {
        !matches!(self, CompareOp::Eq | CompareOp::Ne)
    }
}

impl From<CompareOp> for Operator {
    fn from(op: CompareOp) -> Operator {
        match op {
            CompareOp::Eq => Operator::Eq,
            CompareOp::Ne => Operator::Ne,
            CompareOp::Lt => Operator::Lt,
            CompareOp::Le => Operator::Le,
            CompareOp::Gt => Operator::Gt,
            CompareOp::Ge => Operator::Ge,
        }
    }
}

impl From<StringFunction> for Operator {
    fn from(function: StringFunction) -> Operator {
        match function {
            StringFunction::StartsWith => Operator::StartsWith,
            StringFunction::EndsWith => Operator::EndsWith,
            StringFunction::Contains => Operator::Contains,
        }
    }
}

impl StringFunction {
    /// The function's canonical (lower-case) name.
    pub fn as_str(self) -> &'static str {
        match self {
            StringFunction::StartsWith => "startswith",
            StringFunction::EndsWith => "endswith",
            StringFunction::Contains => "contains",
        }
    }

    /// The function a word names, in any case.
    pub(crate) fn from_word(word: &str) -> Option<StringFunction> {
        [StringFunction::StartsWith, StringFunction::EndsWith, StringFunction::Contains]
            .into_iter()
            .find(|function| function.as_str().eq_ignore_ascii_case(word))
    }
}

impl Operator {
    /// The operator as Graph's documentation names it (`eq`, `startsWith`, `any`, `not`).
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "eq",
            Operator::Ne => "ne",
            Operator::Lt => "lt",
            Operator::Le => "le",
            Operator::Gt => "gt",
            Operator::Ge => "ge",
            Operator::In => "in",
            Operator::StartsWith => "startsWith",
            Operator::EndsWith => "endsWith",
            Operator::Contains => "contains",
            Operator::Any => "any",
            Operator::Not => "not",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_finds_a_top_level_equality() {
        let filter = Filter::parse("jobId eq 'scim.abc' and activityDateTime gt 2026-01-01T00:00:00Z").unwrap();
        assert_eq!(filter.equals("jobId"), Some("scim.abc"));
        assert_eq!(filter.equals("JOBID"), Some("scim.abc"));
        assert_eq!(filter.equals("activityDateTime"), None);
        let nested = Filter::parse("a eq 1 and (b eq 'x' and sourceIdentity/id eq 'y')").unwrap();
        assert_eq!(nested.equals("b"), Some("x"));
        assert_eq!(nested.equals("sourceIdentity/id"), Some("y"));
        assert_eq!(nested.equals("sourceIdentity"), None);
        assert_eq!(nested.equals("a"), None, "not a string");
        assert_eq!(Filter::parse("jobId eq 'a' or b eq 'c'").unwrap().equals("jobId"), None);
        assert_eq!(Filter::parse("not(jobId eq 'a')").unwrap().equals("jobId"), None);
        assert_eq!(Filter::parse("jobId ne 'a'").unwrap().equals("jobId"), None);
    }

    #[test]
    fn paths_compare_case_insensitively() {
        let path = PropertyPath::new(["initiatedBy", "user", "id"]);
        assert!(path.is("initiatedBy/user/id"));
        assert!(path.is("INITIATEDBY/User/ID"));
        assert!(!path.is("initiatedBy/user"));
        assert!(!path.is("initiatedBy/user/id/x"));
        assert_eq!(path.to_string(), "initiatedBy/user/id");
    }

    #[test]
    fn from_str_parses() {
        let filter: Filter = "mail eq null".parse().unwrap();
        assert_eq!(
            filter,
            Filter::Compare { path: PropertyPath::new(["mail"]), op: CompareOp::Eq, value: Literal::Null }
        );
    }
}

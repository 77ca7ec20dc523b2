//! SCIM filters (RFC 7644 §3.4.2.2): the syntax tree, the parser, the printer, the semantic check and the
//! evaluator.
//!
//! - [`Filter::parse`] reads a filter; errors ([`FilterError`]) name the column, what was expected and what was
//!   found. The grammar and its tolerances are described in the `parse` module's source.
//! - `Display` prints the canonical form, with minimal parentheses: `Filter::parse(&f.to_string()) == Ok(f)` for
//!   every filter the parser produces (and every filter built by hand whose names are valid and whose value
//!   filters do not nest).
//! - [`Filter::check`] validates a filter against a [`ResourceType`]: attribute names, value filters, and the
//!   types of operators and literals. Errors are 400 `invalidFilter`.
//! - [`Filter::compile`] checks and turns a filter into a [`CompiledFilter`], whose
//!   [`matches`](CompiledFilter::matches) tests one resource without allocating in the common cases. Use it to
//!   test many resources; [`Filter::matches`] compiles on every call.
//!
//! # Evaluation semantics
//!
//! Resources are in canonical form (see the crate documentation). Keys are looked up exactly first, then
//! ASCII-case-insensitively. A comparison is evaluated as follows; a SQL push-down must give the same answers.
//!
//! 1. **Attributes.** A path resolves through the resource type, case-insensitively, with or without a schema
//!    URN; extension attributes are read under their schema URN's key. A path that does not resolve, or a
//!    literal of the wrong type, makes the comparison false (and [`Filter::check`] rejects it). The `schemas`
//!    attribute is understood too: the resource's `schemas` array if it has one, otherwise the core schema and
//!    the extensions the resource has keys for.
//! 2. **Multi-valued attributes.** A comparison matches if *any* value matches: `emails.value co "x"` is true
//!    when some e-mail's value contains `x`. A complex attribute compared without a sub-attribute is compared
//!    through its `value` sub-attribute (`emails co "x"` means `emails.value co "x"`); comparing a complex
//!    attribute that has no `value` sub-attribute is an error.
//! 3. **`ne`** is exactly `not eq`: it matches when no value is equal, including when the attribute is absent.
//!    `emails.type ne "work"` is true for a user without a work e-mail and for a user without e-mails.
//! 4. **`pr`** matches when the attribute has a non-empty value: not `null`, not `""`, not `[]`, and for a
//!    complex value not an object whose members are all empty in the same sense. `emails pr` is true when some
//!    e-mail has a non-empty member; `emails.value pr` when some e-mail has a non-empty value.
//! 5. **`null`.** `eq null` is `not pr`; `ne null` is `pr`. Other operators with `null` are errors.
//! 6. **Strings** (`string` and `reference` attributes). If the attribute's `caseExact` is false, both sides are
//!    compared after [`str::to_lowercase`] (full Unicode lowercasing, the same function a store applies to its
//!    lowercased columns); otherwise they are compared as they are. Then `eq` is `==`, `co` is
//!    [`str::contains`], `sw` is [`str::starts_with`], `ew` is [`str::ends_with`], and `gt`/`ge`/`lt`/`le` use
//!    `str`'s order (by Unicode scalar value, which for UTF-8 is byte order). In short, a case-insensitive
//!    `co` is `value.to_lowercase().contains(&literal.to_lowercase())`. An empty literal is contained in, starts
//!    and ends every string.
//! 7. **Binary** attributes compare as case-exact strings (RFC 7643 §2.3.6: binary is case exact), with `eq`,
//!    `ne`, `co`, `sw` and `ew`.
//! 8. **Booleans** take `eq` and `ne` with `true` or `false`.
//! 9. **Numbers** (`integer`, `decimal`) take `eq`, `ne`, `gt`, `ge`, `lt` and `le` with a JSON number. Two whole
//!    numbers compare exactly; otherwise both are compared as `f64`. So `1 eq 1.0` is true.
//! 10. **DateTimes** take `eq`, `ne`, `gt`, `ge`, `lt` and `le` with a string that must be an RFC 3339
//!     date-time. Both sides are compared as instants, so `"2011-05-13T06:42:34+02:00" eq
//!     "2011-05-13T04:42:34Z"` is true. A stored value that is not RFC 3339 never matches.
//! 11. **Mismatches.** A stored value of another JSON type than the literal (a number where a string was
//!     expected, say) does not match. Nothing panics on any resource.
//! 12. **Value filters.** `emails[type eq "work" and value co "@example.com"]` matches when one element satisfies
//!     the whole inner filter; inner paths name sub-attributes of the element. On a multi-valued attribute of
//!     simple values, the element itself is called `value`.

mod check;
mod eval;
pub(crate) mod parse;
mod print;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

pub use eval::{CompiledFilter, CompiledValueFilter};
pub use parse::{MAX_HEIGHT, MAX_NESTING};

use crate::error::ScimError;
use crate::path::AttrPath;
use crate::schema::{AttributeDef, ResourceType};

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath op value`.
    Compare(Comparison),
    /// `attrPath pr`.
    Present(AttrPath),
    /// `a and b`.
    And(Box<Filter>, Box<Filter>),
    /// `a or b`.
    Or(Box<Filter>, Box<Filter>),
    /// `not (a)`.
    Not(Box<Filter>),
    /// `attrPath[valFilter]`: some element of the multi-valued attribute matches the inner filter, whose paths are
    /// relative to the element.
    ValuePath(AttrPath, Box<Filter>),
}

/// `attrPath op value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The attribute compared.
    pub path: AttrPath,
    /// The operator.
    pub op: CompareOp,
    /// The literal compared with.
    pub value: CompValue,
}

/// The comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// equal
    Eq,
    /// not equal
    Ne,
    /// contains
    Co,
    /// starts with
    Sw,
    /// ends with
    Ew,
    /// greater than
    Gt,
    /// greater than or equal
    Ge,
    /// less than
    Lt,
    /// less than or equal
    Le,
}

/// A literal in a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A JSON number.
    Number(serde_json::Number),
    /// A JSON string (also used for dateTime and reference values).
    String(String),
}

/// A syntax error in a filter or PATCH path: where, and what is wrong.
///
/// Displayed as `at column 14: expected a comparison operator ... after 'userName', found 'eqq'`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {column}: {message}")]
pub struct FilterError {
    /// The 1-based column of the problem, counted in characters (Unicode scalar values) of the input.
    pub column: usize,
    /// What was expected and what was found.
    pub message: String,
}

impl From<FilterError> for ScimError {
    /// A 400 `invalidFilter` whose detail is the error's display form.
    fn from(error: FilterError) -> Self {
        ScimError::invalid_filter(error.to_string())
    }
}

impl CompareOp {
    /// The operator as written in a filter, in lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
}

impl Filter {
    /// Parses a filter (RFC 7644 §3.4.2.2). Never panics; the caller limits the input's length.
    ///
    /// ```
    /// use roster_scim_proto::filter::Filter;
    /// let error = Filter::parse(r#"userName eqq "bjensen""#).unwrap_err();
    /// assert_eq!(error.column, 10);
    /// assert!(error.to_string().starts_with("at column 10: expected a comparison operator"));
    /// ```
    pub fn parse(input: &str) -> Result<Filter, FilterError> {
        parse::Parser::new(input).filter()
    }

    /// Checks the filter against a resource type: every attribute exists, value filters apply to multi-valued or
    /// complex attributes, and every operator and literal suits the attribute's type (see the module
    /// documentation). Errors are 400 `invalidFilter` naming the attribute.
    pub fn check(&self, resource_type: &ResourceType) -> Result<(), ScimError> {
        self.compile(resource_type).map(drop)
    }

    /// Checks the filter against a resource type (as [`Filter::check`] does) and compiles it for fast
    /// evaluation: attribute names resolved, case-insensitive literals lowercased, dateTimes parsed once.
    pub fn compile(&self, resource_type: &ResourceType) -> Result<CompiledFilter, ScimError> {
        check::for_resource(self, resource_type, check::Strictness::Strict)
            .map(CompiledFilter::new)
            .map_err(ScimError::invalid_filter)
    }

    /// Compiles the filter with the lenient semantics of [`Filter::matches`] (unresolvable parts never match), for
    /// testing many resources. `None` when the filter as a whole cannot be evaluated: then nothing matches.
    pub fn compile_lenient(&self, resource_type: &ResourceType) -> Option<CompiledFilter> {
        check::for_resource(self, resource_type, check::Strictness::Lenient).ok().map(CompiledFilter::new)
    }

    /// Checks a value filter (the inside of `emails[...]`, as in a PATCH path) against the attribute whose
    /// elements it tests, and compiles it.
    pub fn compile_element(&self, attr: &AttributeDef) -> Result<CompiledValueFilter, ScimError> {
        check::for_element(self, attr, check::Strictness::Strict)
            .map(CompiledValueFilter::new)
            .map_err(ScimError::invalid_filter)
    }

    /// Whether a resource in canonical form matches. Parts of the filter that do not resolve against the
    /// resource type, or whose literal does not suit the attribute, are comparisons that never match.
    ///
    /// This compiles the filter on every call; to test many resources, [`compile`](Filter::compile) once.
    pub fn matches(&self, resource: &Map<String, Value>, resource_type: &ResourceType) -> bool {
        check::for_resource(self, resource_type, check::Strictness::Lenient)
            .is_ok_and(|node| CompiledFilter::new(node).matches(resource))
    }

    /// Whether one element of a multi-valued attribute matches this value filter, whose paths name
    /// sub-attributes of `attr` (or `value`, for an attribute of simple values). Unresolvable parts never match.
    ///
    /// This compiles the filter on every call; to test many elements, use
    /// [`compile_element`](Filter::compile_element).
    pub fn matches_element(&self, element: &Value, attr: &AttributeDef) -> bool {
        check::for_element(self, attr, check::Strictness::Lenient)
            .is_ok_and(|node| CompiledValueFilter::new(node).matches(element))
    }
}

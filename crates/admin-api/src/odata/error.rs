//! The error of every OData function: a Graph error code, a message, and for `$filter` syntax errors the column.

use std::fmt;

/// The Graph error codes an OData error carries. Every one is answered with HTTP 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `BadRequest`: the query does not parse (a `$filter` syntax error, `$count=maybe`, a garbled
    /// `$skiptoken`, a repeated option).
    BadRequest,
    /// `Request_UnsupportedQuery`: the query parses but asks for something not supported (an unknown `$` option,
    /// `$expand`, `$search`, a property or operator the resource does not filter on, `all`, `has`).
    UnsupportedQuery,
    /// `invalidRange`: `$top` outside the page sizes the collection serves.
    InvalidRange,
}

impl ErrorCode {
    /// The code as Graph writes it in `error.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "BadRequest",
            ErrorCode::UnsupportedQuery => "Request_UnsupportedQuery",
            ErrorCode::InvalidRange => "invalidRange",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A query that cannot be served: Graph's error code, the message for `error.message`, and where in the
/// `$filter` text the problem is, for syntax errors.
///
/// Displayed as its message alone, e.g. `$filter column 12: expected a value after 'eq' ..., found end of input`
/// or `Unsupported or invalid query filter clause specified for property 'jobTitle' of resource 'User'.`
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ODataError {
    /// The Graph error code.
    pub kind: ErrorCode,
    /// The whole message, ready for `error.message` (for `$filter` syntax errors it starts with
    /// `$filter column N: `).
    pub message: String,
    /// For `$filter` errors found while parsing, the 1-based column of the problem, counted in characters
    /// (Unicode scalar values) of the percent-decoded filter text.
    pub column: Option<usize>,
}

impl ODataError {
    /// An error with a code and a message, and no column.
    pub fn new(kind: ErrorCode, message: impl Into<String>) -> ODataError {
        ODataError { kind, message: message.into(), column: None }
    }

    /// Graph's error code as written in `error.code` (`BadRequest`, `Request_UnsupportedQuery`, `invalidRange`).
    pub fn code(&self) -> &'static str {
        self.kind.as_str()
    }

    /// A `$filter` error at a column: the message is prefixed with `$filter column N: `.
    pub(crate) fn at_column(kind: ErrorCode, column: usize, text: impl fmt::Display) -> ODataError {
        ODataError { kind, message: format!("$filter column {column}: {text}"), column: Some(column) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_display() {
        let error = ODataError::at_column(ErrorCode::BadRequest, 12, "expected a value after 'eq'");
        assert_eq!(error.to_string(), "$filter column 12: expected a value after 'eq'");
        assert_eq!(error.code(), "BadRequest");
        assert_eq!(error.column, Some(12));
        assert_eq!(ODataError::new(ErrorCode::UnsupportedQuery, "x").code(), "Request_UnsupportedQuery");
        assert_eq!(ErrorCode::InvalidRange.to_string(), "invalidRange");
    }
}

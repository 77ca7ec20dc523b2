//! OData system query options as Microsoft Graph's admins use them: `$filter`, `$select`, `$top`, `$orderby`,
//! `$count`, `$skiptoken` and `$format` (`$expand` and `$search` are refused). Pure: no I/O, no async.
//!
//! - [`parse_query`] reads a raw URL query string into a [`Query`]; [`Query::page_size`] checks `$top` against
//!   the caller's limit.
//! - [`Filter::parse`] reads a `$filter`; its errors ([`ODataError`]) name the character column and what was
//!   expected. `Display` prints the canonical form, which parses back to an equal [`Filter`].
//! - [`Filter::check`] validates a filter against a resource's table of properties and operators
//!   ([`Capabilities`]), with Graph's error wording.
//! - [`Filter::matches`] evaluates a filter against a Graph JSON object.
//! - [`encode_skiptoken`] and [`decode_skiptoken`] carry a paging cursor (any JSON value) in `$skiptoken`.
//!
//! # The `$filter` grammar
//!
//! ```text
//! filter     = or
//! or         = and *(RWS "or" RWS and)                     ; left-associative
//! and        = unary *(RWS "and" RWS unary)                ; left-associative
//! unary      = "not" (RWS / "(") unary / "(" filter ")" / function / comparison / in / lambda
//! function   = ("startswith" / "endswith" / "contains") "(" path "," string ")"
//! comparison = path RWS ("eq" / "ne" / "lt" / "le" / "gt" / "ge") RWS literal
//! in         = path RWS "in" "(" literal *("," literal) ")"
//! lambda     = path "/any(" [variable ":" filter] ")"
//! path       = identifier *("/" identifier)                ; identifier = [A-Za-z_][A-Za-z0-9_]*
//! literal    = string / number / "true" / "false" / "null" / guid / dateTimeOffset
//! string     = "'" *(any character but "'" / "''") "'"
//! ```
//!
//! So `not` binds tighter than `and`, which binds tighter than `or`. Keywords, operators and function names are
//! case-insensitive (`startsWith`, `AND`); property names and lambda variables are written as they are. Whitespace
//! (any Unicode whitespace) may surround every token, and is needed only between two words. Numbers are JSON
//! numbers (`42`, `-1.5`, `2e3`); GUIDs (`ec2d0d8a-3c1f-4c32-9d1b-4e0a2f3b5c6d`) and date-times
//! (`2026-01-01T00:00:00Z`, `2026-01-01T00:00:00.123+02:00`, RFC 3339) are written bare. Inside the body of
//! `any(x: …)`, every property path starts with a lambda variable in scope (`x`, `x/sub`); lambdas may nest.
//!
//! A `not` followed by whitespace and a comparison operator is a property called `not` (`not eq 1`); likewise
//! `and`, `or` and the function names are properties where a property is expected, so printing any filter gives
//! text that parses back to it.
//!
//! Limits: a filter has at most [`MAX_FILTER_LENGTH`] characters and nests parentheses, `not` and `any(…)` at
//! most [`MAX_NESTING`] levels deep, so hostile input cannot exhaust the stack (a chain of `and`s and `or`s is as
//! long as the length limit allows: a few hundred levels, which every recursive walk handles).
//!
//! # Evaluation semantics ([`Filter::matches`])
//!
//! 1. **Paths** walk JSON objects member by member, each name looked up exactly first and then
//!    ASCII-case-insensitively. A path that reaches a non-object, or a missing member, gives no value, which is
//!    treated as `null`. A path never walks into an array: collections are tested with `any`.
//! 2. **`null`**: `eq null` is true when the value is missing or `null`, and `ne null` is its negation. Every other
//!    comparison with a missing or `null` value is false, except `ne`.
//! 3. **`ne` is `not eq`**, OData's rule: `prop ne 'x'` is true when the property is missing, `null`, of another
//!    type, or different.
//! 4. **Strings**: a string literal compares with a JSON string. With [`MatchOptions::case_insensitive`] (directory
//!    objects: Graph ignores case there) both sides are compared after [`str::to_lowercase`]; otherwise as they are
//!    (provisioning logs are case-sensitive). This applies to `eq`, `ne`, `in`, `lt`, `le`, `gt`, `ge` (lexical
//!    order by Unicode scalar value) and to `startswith`, `endswith` and `contains` (an empty literal is contained
//!    in every string).
//! 5. **Numbers** compare with JSON numbers, numerically: two whole numbers exactly, otherwise as `f64`.
//! 6. **Date-times**: a JSON string that parses as RFC 3339 compares with a date-time literal as instants
//!    (`2026-01-01T02:00:00+02:00 eq 2026-01-01T00:00:00Z` is true). A string that is not RFC 3339 never matches.
//! 7. **GUIDs**: a JSON string that is a GUID compares with a GUID literal whatever the case of its hex digits.
//! 8. **Booleans** take only `eq` and `ne` (the parser refuses `lt true`).
//! 9. **Type mismatches** (a number against a string literal, an array against anything but `any`) are false.
//! 10. **`in`** is true when `eq` would be true for some literal of the list.
//! 11. **`any`**: `prop/any()` is true when `prop` is a non-empty array; `prop/any(x: body)` when some element makes
//!     `body` true, with `x` naming the element (`x/sub` its members).
//! 12. **`and`, `or`, `not`** are two-valued logic over the above. Nothing panics on any JSON value.

mod check;
mod error;
mod eval;
mod filter;
mod parse;
mod print;
mod query;
mod skiptoken;
#[cfg(test)]
mod tests;

pub use error::{ErrorCode, ODataError};
pub use filter::{
    Capabilities, CompareOp, Filter, Lambda, Literal, MatchOptions, Operator, PropertyPath, StringFunction,
};
pub use parse::{MAX_FILTER_LENGTH, MAX_NESTING};
pub use query::{OrderBy, Query, parse_query};
pub use skiptoken::{MAX_SKIPTOKEN_LENGTH, decode_skiptoken, encode_skiptoken};

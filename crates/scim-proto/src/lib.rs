//! The SCIM 2.0 protocol core of roster (RFC 7643, RFC 7644): schemas as data, the filter and attribute-path
//! grammar, filter evaluation, PATCH semantics (with the dialects real clients send), resource validation and
//! projection, and the wire messages. Pure: no I/O, no async runtime, no HTTP.
//!
//! Resources are JSON objects (`serde_json::Map`) in *canonical form*: top-level core and common attributes under
//! their schema-cased names, extension attributes nested under their schema URN, no `null` values.
//!
//! ```
//! use roster_scim_proto::filter::Filter;
//! let filter = Filter::parse(r#"emails[type eq "work" and primary eq true] or userName sw "bj""#).unwrap();
//! assert_eq!(Filter::parse(&filter.to_string()).unwrap(), filter);
//! ```
#![warn(missing_docs)]

pub mod discovery;
pub mod error;
pub mod filter;
pub mod patch;
pub mod path;
pub mod projection;
pub mod query;
pub mod resource;
pub mod schema;

pub use error::{ScimError, ScimType};

/// The schema URN of error bodies.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The schema URN of list responses.
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The schema URN of PATCH requests.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The schema URN of `/.search` requests.
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// The schema URN of `/ServiceProviderConfig`.
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

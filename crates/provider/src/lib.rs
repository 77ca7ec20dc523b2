//! The SCIM service provider's domain, shaped after GitHub Enterprise Managed Users' SCIM API: enterprises
//! (tenants) with slug and shortcode, personal access tokens with scopes, the EMU rules for users and groups
//! (required attributes, roles, login normalization), and the operations the HTTP front end calls.
//!
//! Storage is reached through the ports in [`port`]; this crate knows no SQL and no HTTP.

pub mod clock;
pub mod emu;
pub mod login;
pub mod port;
pub mod render;
pub mod service;
pub mod tenant;
mod token_cache;

pub use clock::{Clock, SystemClock};
pub use port::{ResourceKind, ResourceStore, StoreError, StoredResource, TenantStore};
pub use service::{Limits, Provider};
pub use tenant::{Enterprise, EnterpriseSlug, Scope, Shortcode};

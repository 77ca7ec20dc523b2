//! The provisioning engine of roster: everything between the directory and a SCIM application.
#![warn(missing_docs)]

pub mod cycle;
pub mod definition;
pub mod diff;
pub mod dry_run;
pub mod entitlement;
pub mod escrow;
pub mod in_scope;
pub mod log;
pub mod mapping;
pub mod scoping;
pub mod source;
pub mod state;
pub mod target;
pub mod templates;

//! Tests of the real `roster` binary, as a user runs it: commands, exit codes, and conformance suites run against
//! `roster serve` on a loopback port.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "end-to-end tests: a failed step is a test failure with its message"
)]

mod admin_api;
mod admin_audit;
mod admin_jobs;
mod admin_openapi;
mod admin_roles;
mod cli;
mod conformance;
mod directory;
mod dry_run;
mod faults;
mod foreign_target;
mod nodes;
mod notifications;
mod ownership;
mod portal_browser;
mod portal_pages;
mod portal_tutorial;
mod provisioning;
mod support;

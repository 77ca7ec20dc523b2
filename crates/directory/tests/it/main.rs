//! The integration tests of roster-directory.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers and strategies: a failure is a test failure")]

mod generate;
mod import_errors;
mod round_trip;

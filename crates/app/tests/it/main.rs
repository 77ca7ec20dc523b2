//! End-to-end tests: the real server on a loopback port (port 0), a throwaway SQLite database per test, and a
//! real HTTP client.

#![allow(clippy::expect_used, reason = "end-to-end tests: a failed step is a test failure with its message")]

mod auth;
mod client;
mod emu;
mod entra;
mod github;
mod membership_model;
mod protocol;
mod robustness;
mod support;

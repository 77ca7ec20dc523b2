//! Integration tests of the SCIM client against scripted axum servers on 127.0.0.1:0 (and a raw TCP server for
//! dropped connections). The end-to-end test against roster's own service provider is in
//! `crates/app/tests/it/client.rs`, because `roster-app` depends on this crate through the engine.

#![allow(clippy::expect_used, reason = "integration tests: a failed step is a test failure with its message")]

mod connection;
mod requests;
mod retries;
mod support;

//! Tests of the real `roster` binary, as a user runs it: commands, exit codes, and conformance suites run against
//! `roster serve` on a loopback port.

mod cli;
mod conformance;
mod support;

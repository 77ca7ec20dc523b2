//! The property the issue requires: SQL and in-memory evaluation agree on random data and random filters.
//! One database for the whole run; each case gets its own enterprise.

use std::sync::atomic::{AtomicU32, Ordering};

use proptest::collection::vec;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use roster_store::suite::agreement::{check, probe, seed_user};

use crate::fresh_store;

#[test]
fn sql_and_in_memory_evaluation_agree() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (store, _dir) = fresh_store();
    let case = AtomicU32::new(0);
    let mut runner = TestRunner::new(Config { cases: 256, ..Config::default() });
    let result = runner.run(&(vec(seed_user(), 0..30), vec(probe(), 1..12)), |(users, probes)| {
        let case = case.fetch_add(1, Ordering::Relaxed);
        runtime.block_on(check(&store, &store, case, &users, &probes)).map_err(TestCaseError::fail)
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

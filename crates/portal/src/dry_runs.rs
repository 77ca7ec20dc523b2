//! Dry runs started from the portal. A dry run reads the whole directory and the target, which takes a while on
//! a large one: Run a dry run answers at once, the run goes on in the background, and the plans page shows it
//! started, its progress (live with htmx, on reload without) and then its plan or what went wrong. The runs are
//! this node's (the plans they make are in the database, for every node).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use roster_engine::cycle::{Progress, ProgressReport};
use time::OffsetDateTime;

/// A dry run of an application, running or ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// When it started.
    pub started: OffsetDateTime,
    /// Objects evaluated so far.
    pub done: u64,
    /// Objects to evaluate (an estimate until the phases have read their candidates).
    pub total: u64,
    /// `None` while it runs; then the plan's id, or what went wrong and what to do.
    pub outcome: Option<Result<String, String>>,
}

/// The dry runs of this node, by application: the running one, or the last one ended.
#[derive(Debug, Default)]
pub struct DryRuns {
    runs: Mutex<HashMap<String, Run>>,
}

impl DryRuns {
    /// Marks a dry run of `application` started at `now`; `false` when one is running already.
    pub fn begin(&self, application: &str, now: OffsetDateTime) -> bool {
        let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        if runs.get(application).is_some_and(|run| run.outcome.is_none()) {
            return false;
        }
        runs.insert(application.to_owned(), Run { started: now, done: 0, total: 0, outcome: None });
        true
    }

    /// The running or last dry run of `application`.
    pub fn get(&self, application: &str) -> Option<Run> {
        self.runs.lock().unwrap_or_else(PoisonError::into_inner).get(application).cloned()
    }

    /// Records how far the running dry run of `application` is.
    pub fn report(&self, application: &str, done: u64, total: u64) {
        if let Some(run) = self.runs.lock().unwrap_or_else(PoisonError::into_inner).get_mut(application) {
            run.done = done;
            run.total = total.max(done);
        }
    }

    /// Records how the dry run of `application` ended.
    pub fn finish(&self, application: &str, outcome: Result<String, String>) {
        if let Some(run) = self.runs.lock().unwrap_or_else(PoisonError::into_inner).get_mut(application) {
            run.outcome = Some(outcome);
        }
    }
}

/// The progress of one dry run, into the registry.
pub struct Reporter {
    /// The registry.
    pub runs: Arc<DryRuns>,
    /// The application.
    pub application: String,
}

impl Progress for Reporter {
    fn report(&self, report: &ProgressReport) {
        self.runs.report(&self.application, report.done, report.total);
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn one_run_at_a_time_per_application_with_its_progress_and_outcome() {
        let runs = DryRuns::default();
        let now = datetime!(2026-12-08 01:00 UTC);
        assert!(runs.begin("github", now));
        assert!(!runs.begin("github", now), "a second run waits for the first");
        assert!(runs.begin("other", now), "applications run apart");
        runs.report("github", 5, 3);
        assert_eq!(runs.get("github").map(|run| (run.done, run.total)), Some((5, 5)));
        runs.finish("github", Ok("plan-1".to_owned()));
        assert_eq!(runs.get("github").and_then(|run| run.outcome), Some(Ok("plan-1".to_owned())));
        assert!(runs.begin("github", now), "an ended run makes way for the next");
        assert_eq!(runs.get("github").map(|run| run.outcome), Some(None));
        assert_eq!(runs.get("nothing"), None);
    }
}

//! `GET .../jobs/{jobId}/events`: a server-sent-event stream of the job (what Graph lacks; its clients poll the job).
//! `event: state` (the job's `{code, scheduleState, quarantine, lastExecution}`, at once and on each change),
//! `event: progress` (the running cycle's `completedUnits`/`totalUnits` in pages of 1,000 objects, the engine's page,
//! with the objects done and an estimate of the time left) and `event: cycleEnded` (each cycle that ends, as Graph's
//! `synchronizationTaskExecution`); a keep-alive comment every 15 s.
//!
//! The stream reads the job from the store every quarter of a second and sends only what changed: a cycle running
//! on another node sharing the database (which writes its progress every half second) shows the same.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use roster_engine::definition::Definition;
use roster_engine::state::Cycle;
use roster_service::access::Permission;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ApiState;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::synchronization::{execution, job_of, status_codes};

/// How often the stream reads the job.
pub const POLL: Duration = Duration::from_millis(250);
/// The gap between keep-alive comments.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Objects per unit of progress: the engine's page.
pub const PAGE: u64 = 1000;
/// How many of the newest cycles each read looks at for ended ones.
const CYCLES_READ: usize = 10;

/// `GET .../jobs/{jobId}/events` → `text/event-stream`.
pub async fn stream(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
) -> ApiResult<Response> {
    let definition = job_of(&state, &caller, &id, &job).await?;
    caller.check(Permission::ReadApplication(&definition.name))?;
    let mut ticker = tokio::time::interval(POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let watcher = Watcher {
        state,
        name: definition.name,
        queue: VecDeque::new(),
        first: true,
        last_state: None,
        last_progress: None,
        ended: HashSet::new(),
        ticker,
    };
    let events = futures_util::stream::unfold(watcher, |mut watcher| async move {
        let event = watcher.next().await?;
        Some((Ok::<Event, Infallible>(event), watcher))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive")).into_response())
}

/// What the stream has sent of one job.
struct Watcher {
    state: ApiState,
    name: String,
    queue: VecDeque<Event>,
    first: bool,
    last_state: Option<Value>,
    /// The running cycle and its objects done and to do, as last sent.
    last_progress: Option<(String, u64, u64)>,
    /// The ended cycles among the newest, known (sent, or ended before the stream began).
    ended: HashSet<String>,
    ticker: tokio::time::Interval,
}

impl Watcher {
    /// The next event; `None` ends the stream (the application was deleted).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(event);
            }
            self.ticker.tick().await;
            match self.read().await {
                Ok(true) => {}
                Ok(false) => return None,
                Err(error) => {
                    tracing::warn!(application = %self.name, error = %format!("{error:#}"), "the events stream could not read the job");
                }
            }
        }
    }

    /// Reads the job and queues what changed; `false` when the application is gone.
    async fn read(&mut self) -> anyhow::Result<bool> {
        let stores = &self.state.stores;
        let Some(record) = stores.directory.application(&self.name).await? else { return Ok(false) };
        let definition: Definition = serde_json::from_value(record.definition)?;
        let configured = !definition.target.tenant_url.is_empty() && record.sealed_secret.is_some();
        let job = stores.engine.job(&self.name).await?;
        let cycles = stores.engine.cycles(&self.name, CYCLES_READ).await?;
        let state = state_data(&definition, configured, &job);

        if self.first {
            self.first = false;
            self.ended = cycles.iter().filter(|cycle| cycle.ended.is_some()).map(|cycle| cycle.id.clone()).collect();
            self.queue.push_back(event("state", &state));
            self.last_state = Some(state);
            self.progress(&cycles);
            return Ok(true);
        }
        self.progress(&cycles);
        let mut newly_ended: Vec<&Cycle> =
            cycles.iter().filter(|cycle| cycle.ended.is_some() && !self.ended.contains(&cycle.id)).collect();
        newly_ended.reverse(); // oldest first
        for cycle in newly_ended {
            self.queue.push_back(event("cycleEnded", &execution(cycle)));
        }
        self.ended = cycles.iter().filter(|cycle| cycle.ended.is_some()).map(|cycle| cycle.id.clone()).collect();
        if self.last_state.as_ref() != Some(&state) {
            self.queue.push_back(event("state", &state));
            self.last_state = Some(state);
        }
        Ok(true)
    }

    /// Queues the running cycle's progress when it moved (once it wrote some).
    fn progress(&mut self, cycles: &[Cycle]) {
        let Some(running) = cycles.first().filter(|cycle| cycle.ended.is_none()) else { return };
        let (done, total) = (running.counts.done, running.counts.total);
        if total == 0 {
            return;
        }
        let current = (running.id.clone(), done, total);
        if self.last_progress.as_ref() == Some(&current) {
            return;
        }
        self.last_progress = Some(current);
        self.queue.push_back(event("progress", &progress_data(running, OffsetDateTime::now_utc())));
    }
}

fn event(name: &str, data: &Value) -> Event {
    Event::default().event(name).data(data.to_string())
}

fn time(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// `state` data: the job's status as the job object shows it.
fn state_data(definition: &Definition, configured: bool, job: &roster_engine::state::JobState) -> Value {
    let (code, schedule_state) = status_codes(definition, configured, job);
    let quarantine = job.quarantine.as_ref().map(|quarantine| {
        json!({
            "currentBegan": time(quarantine.since),
            "nextAttempt": job.next_run.map(time),
            "reason": quarantine.reason,
            "seriesBegan": time(quarantine.since),
            "seriesCount": quarantine.cycles,
            "error": {"code": quarantine.reason, "message": quarantine.detail, "tenantActionable": true},
        })
    });
    json!({
        "code": code,
        "scheduleState": schedule_state,
        "quarantine": quarantine,
        "lastExecution": job.last_cycle.as_ref().map(execution),
    })
}

/// `progress` data of a running cycle at `now`.
fn progress_data(cycle: &Cycle, now: OffsetDateTime) -> Value {
    let (done, total) = (cycle.counts.done, cycle.counts.total.max(cycle.counts.done));
    let total_pages = total.div_ceil(PAGE);
    let done_pages = if done >= total { total_pages } else { done / PAGE };
    let elapsed = (now - cycle.began).as_seconds_f64().max(0.0);
    let left = match done {
        0 => None,
        _ if done >= total => Some(0),
        _ => {
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let seconds = (elapsed * (total - done) as f64 / done as f64).round() as u64;
            Some(seconds)
        }
    };
    json!({
        "activityIdentifier": cycle.id,
        "completedUnits": done_pages,
        "totalUnits": total_pages,
        "units": "pages",
        "objectsDone": done,
        "objectsTotal": total,
        "estimatedSecondsLeft": left,
        "progressObservationDateTime": time(now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_engine::state::{Counts, CycleKind};

    #[test]
    fn progress_is_in_pages_with_an_estimate() {
        let began = OffsetDateTime::UNIX_EPOCH;
        let cycle = Cycle {
            id: "c".into(),
            kind: CycleKind::Initial,
            began,
            ended: None,
            from: 0,
            to: 9,
            counts: Counts { done: 1500, total: 4500, ..Counts::default() },
            outcome: "Running".into(),
        };
        let data = progress_data(&cycle, began + time::Duration::seconds(30));
        assert_eq!(data["completedUnits"], json!(1));
        assert_eq!(data["totalUnits"], json!(5));
        assert_eq!(data["units"], json!("pages"));
        assert_eq!((data["objectsDone"].clone(), data["objectsTotal"].clone()), (json!(1500), json!(4500)));
        assert_eq!(data["estimatedSecondsLeft"], json!(60));
        let finished = Cycle { counts: Counts { done: 4500, total: 4500, ..Counts::default() }, ..cycle };
        let data = progress_data(&finished, began + time::Duration::seconds(90));
        assert_eq!((data["completedUnits"].clone(), data["estimatedSecondsLeft"].clone()), (json!(5), json!(0)));
    }
}

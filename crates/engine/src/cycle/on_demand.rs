//! Provision on demand: one user through the same steps as a cycle (test connection, import, scope, match,
//! action), at once, outside the cycle: no lease, no watermark, no escrow change; its log entry says an admin
//! started it. A disable or delete it decides is sent at once (Entra supports disabling an unassigned user on
//! demand).

use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::StdRng;
use roster_directory::ObjectId;

use super::objects::{deprovision, process};
use super::{CycleError, Job, NoProgress, Settings, build_context};
use crate::log::{Initiator, LogEntry, ObjectKind};
use crate::state::{CycleKind, LogQuery};

/// What provisioning one object on demand did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnDemand {
    /// The target failed the connection test: nothing else was done.
    ConnectionFailed(String),
    /// The user does not exist in the directory.
    NotFound,
    /// The steps ran; the entry tells how (it is in the provisioning logs too).
    Done(Box<LogEntry>),
    /// The steps ran and there was nothing to do (the target already matches).
    NothingToDo,
}

/// Runs one user through the steps now.
pub async fn provision_on_demand(job: Job, user: ObjectId) -> Result<OnDemand, CycleError> {
    if let Err(problem) = job.client.test_connection().await {
        return Ok(OnDemand::ConnectionFailed(problem.to_string()));
    }
    let Some(found) = job.directory.user(&user).await? else {
        return Ok(OnDemand::NotFound);
    };
    let run = format!("on-demand-{}", uuid::Uuid::new_v4());
    let settings = Settings {
        kind: CycleKind::Incremental,
        empty_target: [false, false],
        force_deletes: true,
        initiator: Initiator::User,
        writes: super::writes::Writes::Send,
    };
    let context = build_context(&job, run.clone(), Arc::new(NoProgress), settings).await?;
    let mut rng = StdRng::from_entropy();
    let subject = context.user_subject(user.clone(), Some(&found), &mut rng);
    let shadow = job.state.shadows(&context.application, ObjectKind::User, std::slice::from_ref(&user)).await?;
    let processed = process(Arc::clone(&context), subject, shadow.into_iter().next()).await;
    if let Some(work) = processed.deprovision {
        deprovision(Arc::clone(&context), work).await;
    }
    context.recorder.close().await;
    let query =
        LogQuery { cycle: Some(run), identity: Some(user.as_str().to_owned()), limit: 1, ..LogQuery::default() };
    let entries = job.state.logs(&context.application, &query).await?;
    Ok(match entries.into_iter().next() {
        Some(entry) => OnDemand::Done(Box::new(entry)),
        None => OnDemand::NothingToDo,
    })
}

//! Every write a cycle sends to the target goes through here, described as an [`Operation`]: a cycle sends it; a
//! dry run records it and answers as the target would have (a created object gets a `planned-` id); the apply of a
//! plan sends it only when the plan holds it, and otherwise stops the cycle without sending it.

use std::sync::{Mutex, PoisonError};

use roster_scim_client::{Change, ClientError, Kind};
use serde_json::Value;

use super::Context;
use crate::dry_run::{Allowance, Operation};
use crate::log::ObjectKind;

/// What happens to a cycle's writes.
pub(crate) enum Writes {
    /// They are sent (a cycle).
    Send,
    /// They are recorded, not sent (a dry run).
    Record(Mutex<Vec<Operation>>),
    /// Only those of the plan are sent (applying a plan).
    Allow(Mutex<Allowance>),
}

/// Whether a write goes out.
enum Gate {
    Send,
    Pretend,
    Refuse,
}

/// Why a cycle stopped before its end, other than a failing target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Halt {
    /// Provisioning was paused while the cycle ran.
    Paused,
    /// Applying a plan came to a write the plan does not hold.
    OffPlan(String),
    /// The job's lease was lost: another node may be running the job.
    LeaseLost,
}

pub(crate) fn client_kind(kind: ObjectKind) -> Kind {
    match kind {
        ObjectKind::User => Kind::User,
        ObjectKind::Group => Kind::Group,
    }
}

impl Context {
    /// Decides about a write; its description is built only when a dry run or a plan needs it.
    fn gate(&self, operation: impl FnOnce() -> Operation) -> Gate {
        match &self.writes {
            Writes::Send => Gate::Send,
            Writes::Record(operations) => {
                let operation = operation();
                operations.lock().unwrap_or_else(PoisonError::into_inner).push(operation);
                Gate::Pretend
            }
            Writes::Allow(allowance) => {
                let operation = operation();
                if allowance.lock().unwrap_or_else(PoisonError::into_inner).take(&operation) {
                    Gate::Send
                } else {
                    let what = crate::dry_run::render_operation(&operation, &|_| None);
                    self.halt(Halt::OffPlan(format!("the plan does not hold this write: {}", what.trim_end())));
                    Gate::Refuse
                }
            }
        }
    }

    /// Waits for a turn to send (as many at once as the target's concurrency allows), then says whether the run
    /// still goes on: a write queued behind others is not sent once the run was paused or stopped.
    async fn turn(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        let permit = self.sending.acquire().await.ok()?;
        (!self.stopped()).then_some(permit)
    }

    /// Whether this run is a dry run.
    pub(crate) fn dry(&self) -> bool {
        matches!(self.writes, Writes::Record(_))
    }

    /// Creates an object; `Ok(None)` when the write was refused (the cycle stops).
    pub(crate) async fn create(
        &self,
        kind: ObjectKind,
        operation: impl FnOnce() -> Operation,
        body: &Value,
    ) -> Result<Option<Value>, ClientError> {
        match self.gate(operation) {
            Gate::Send => {
                let Some(_turn) = self.turn().await else { return Ok(None) };
                self.job.client.create(client_kind(kind), body).await.map(Some)
            }
            Gate::Pretend => {
                let id = format!("{}{}", crate::dry_run::PLANNED_ID, uuid::Uuid::new_v4());
                Ok(Some(serde_json::json!({ "id": id })))
            }
            Gate::Refuse => Ok(None),
        }
    }

    /// Patches an object; `Ok(None)` when the write was refused.
    pub(crate) async fn patch(
        &self,
        kind: ObjectKind,
        operation: impl FnOnce() -> Operation,
        target_id: &str,
        changes: &[Change],
    ) -> Result<Option<()>, ClientError> {
        match self.gate(operation) {
            Gate::Send => {
                let Some(_turn) = self.turn().await else { return Ok(None) };
                self.job.client.patch(client_kind(kind), target_id, changes).await.map(Some)
            }
            Gate::Pretend => Ok(Some(())),
            Gate::Refuse => Ok(None),
        }
    }

    /// Deletes an object; `Ok(None)` when the write was refused.
    pub(crate) async fn delete(
        &self,
        kind: ObjectKind,
        operation: impl FnOnce() -> Operation,
        target_id: &str,
    ) -> Result<Option<()>, ClientError> {
        match self.gate(operation) {
            Gate::Send => {
                let Some(_turn) = self.turn().await else { return Ok(None) };
                self.job.client.delete(client_kind(kind), target_id).await.map(Some)
            }
            Gate::Pretend => Ok(Some(())),
            Gate::Refuse => Ok(None),
        }
    }

    /// Stops the cycle at the next object, for a reason other than the target.
    pub(crate) fn halt(&self, halt: Halt) {
        let mut current = self.halted.lock().unwrap_or_else(PoisonError::into_inner);
        if current.is_none() {
            *current = Some(halt);
        }
    }

    /// The operations a dry run recorded.
    pub(crate) fn recorded(&self) -> Vec<Operation> {
        match &self.writes {
            Writes::Record(operations) => {
                std::mem::take(&mut *operations.lock().unwrap_or_else(PoisonError::into_inner))
            }
            _ => Vec::new(),
        }
    }
}

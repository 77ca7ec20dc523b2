//! Stage 8's writer: the records of many exported objects (each object's shadow change with its log entry) go to
//! the engine store in large batches, one transaction each, instead of one transaction per object. One object's
//! records are never split across batches. A batch that fails (a conflict in one object's records) is written
//! again object by object, so that only the faulty object is lost and marked for the next cycle.
//!
//! An object's records become durable shortly after its export (at the latest at the next flush, which every
//! phase ends with). If roster stops in between, the next cycle finds the object by its matching attributes and
//! takes it over: nothing is created twice.

use std::sync::{Arc, Mutex, PoisonError};

use roster_directory::ObjectId;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::log::ObjectKind;
use crate::state::{EngineStore, Record};

/// Records written per transaction at most.
const BATCH_RECORDS: usize = 2_000;
/// Objects queued at most before exports wait for the writer.
const QUEUE: usize = 4_096;

enum Command {
    Object { kind: ObjectKind, id: ObjectId, records: Vec<Record> },
    Flush(oneshot::Sender<()>),
}

/// The handle the cycle's tasks write through.
pub(crate) struct Recorder {
    sender: mpsc::Sender<Command>,
    failed: Arc<Mutex<Vec<(ObjectKind, ObjectId)>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Recorder {
    /// Starts the writer task of one application's cycle.
    pub(crate) fn start(state: Arc<dyn EngineStore>, application: String) -> Recorder {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let failed = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(write_batches(state, application, receiver, Arc::clone(&failed)));
        Recorder { sender, failed, task: Mutex::new(Some(task)) }
    }

    /// Queues one object's records (waiting when the queue is full).
    pub(crate) async fn write(&self, kind: ObjectKind, id: &ObjectId, records: Vec<Record>) {
        let command = Command::Object { kind, id: id.clone(), records };
        if self.sender.send(command).await.is_err() {
            self.failed.lock().unwrap_or_else(PoisonError::into_inner).push((kind, id.clone()));
        }
    }

    /// Waits until everything queued so far is written.
    pub(crate) async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.sender.send(Command::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }

    /// The objects whose records could not be written (to evaluate again next cycle).
    pub(crate) fn failed(&self) -> Vec<(ObjectKind, ObjectId)> {
        self.failed.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Flushes and stops the writer task.
    pub(crate) async fn close(&self) {
        self.flush().await;
        let task = self.task.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }
}

async fn write_batches(
    state: Arc<dyn EngineStore>,
    application: String,
    mut receiver: mpsc::Receiver<Command>,
    failed: Arc<Mutex<Vec<(ObjectKind, ObjectId)>>>,
) {
    let mut objects: Vec<(ObjectKind, ObjectId, Vec<Record>)> = Vec::new();
    let mut records = 0;
    while let Some(command) = receiver.recv().await {
        let mut next = Some(command);
        while let Some(command) = next.take() {
            match command {
                Command::Object { kind, id, records: object } => {
                    records += object.len();
                    objects.push((kind, id, object));
                    if records >= BATCH_RECORDS {
                        write(&*state, &application, std::mem::take(&mut objects), &failed).await;
                        records = 0;
                    }
                }
                Command::Flush(done) => {
                    write(&*state, &application, std::mem::take(&mut objects), &failed).await;
                    records = 0;
                    let _ = done.send(());
                }
            }
            next = receiver.try_recv().ok();
        }
        write(&*state, &application, std::mem::take(&mut objects), &failed).await;
        records = 0;
    }
}

/// Writes the objects' records in one transaction; if that fails, object by object.
async fn write(
    state: &dyn EngineStore,
    application: &str,
    objects: Vec<(ObjectKind, ObjectId, Vec<Record>)>,
    failed: &Mutex<Vec<(ObjectKind, ObjectId)>>,
) {
    if objects.is_empty() {
        return;
    }
    let batch: Vec<Record> = objects.iter().flat_map(|(_, _, records)| records.iter().cloned()).collect();
    if state.record(application, batch).await.is_ok() {
        return;
    }
    for (kind, id, records) in objects {
        if let Err(error) = state.record(application, records).await {
            tracing::error!(%error, object = id.as_str(), "could not record an export");
            failed.lock().unwrap_or_else(PoisonError::into_inner).push((kind, id));
        }
    }
}

//! The writer thread: every write of the store runs here, on the one writer connection, with group commit.
//!
//! Design. A dedicated thread owns the writer connection and takes jobs from a channel. It takes the first job,
//! opens a `BEGIN IMMEDIATE` transaction, runs the job, then keeps taking whatever else is already queued (up to
//! [`MAX_BATCH_JOBS`] jobs or [`MAX_BATCH_TIME`] of work) into the same transaction, and commits the batch once.
//! Only after the commit does it send each job its result, over a `tokio::sync::oneshot` channel. One commit per
//! batch instead of one per request is what saves the WAL writes, the lock traffic and the context switches.
//!
//! Invariants:
//! - atomicity per request: each job runs inside its own `SAVEPOINT`. A job that fails, whose closure refuses or
//!   that panics has its savepoint rolled back, so it changes nothing, and the other jobs of the batch proceed;
//! - isolation: jobs run one after the other, each on the state the jobs before it left, so an `update` closure
//!   always sees the current row and concurrent read-modify-write requests never lose an update. A later job may
//!   see an earlier job's changes before they are committed, but both commit together or neither does;
//! - durability per batch: the batch commits as a whole (in WAL mode with `synchronous = NORMAL`, as before);
//! - results are reported only after the commit: no client learns of a write that could still vanish. When the
//!   commit fails, or SQLite abandons the transaction under a job (an I/O error, a full disk), the batch is rolled
//!   back and every job in it gets an error: nothing of the batch was written;
//! - the thread ends when the last [`Writer`] handle is dropped: queued jobs still run, then the connection closes.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use roster_provider::port::StoreError;
use rusqlite::Connection;
use tokio::sync::oneshot;

use super::Failure;

/// The most jobs one transaction holds.
const MAX_BATCH_JOBS: usize = 64;
/// After this much work in a batch, the writer commits rather than take more jobs, to bound the latency a job
/// adds to the ones before it.
const MAX_BATCH_TIME: Duration = Duration::from_millis(5);

/// How large a batch may grow.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    jobs: usize,
    time: Duration,
}

/// A queued write: its work and where its result goes.
trait Job: Send {
    /// Runs the work on the connection (the writer has opened the job's savepoint) and keeps its outcome.
    /// Returns whether the work succeeded, that is whether its changes are to be kept.
    fn run(&mut self, connection: &Connection) -> bool;

    /// Sends the result: the kept outcome when the batch committed, else the batch's error.
    fn finish(self: Box<Self>, batch: Result<(), StoreError>);
}

/// A job for work returning `T`. Its outcome stays a [`Failure`], so that each port maps it to its own error.
struct Pending<T, F> {
    work: Option<F>,
    outcome: Option<Result<T, Failure>>,
    reply: oneshot::Sender<Result<T, Failure>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, Failure> + Send,
{
    fn run(&mut self, connection: &Connection) -> bool {
        let Some(work) = self.work.take() else { return false };
        // The work only borrows the connection, whose state the savepoint restores, so unwinding out of it leaves
        // nothing half-changed behind.
        let outcome = match catch_unwind(AssertUnwindSafe(|| work(connection))) {
            Ok(result) => result,
            Err(panic) => Err(Failure::Store(StoreError::Backend(format!(
                "the write panicked: {}",
                panic_message(panic.as_ref())
            )))),
        };
        let succeeded = outcome.is_ok();
        self.outcome = Some(outcome);
        succeeded
    }

    fn finish(self: Box<Self>, batch: Result<(), StoreError>) {
        let result = match (batch, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Ok(()), None) => Err(Failure::Store(StoreError::Backend("the write did not run".into()))),
            (Err(error), _) => Err(Failure::Store(error)),
        };
        // The caller may have gone away (a cancelled request); its result then has nowhere to go.
        let _ = self.reply.send(result);
    }
}

/// The handle of the writer thread. Dropping it lets the thread finish the queued jobs and close the connection.
pub(super) struct Writer {
    /// `None` only while dropping, so that the thread sees the channel close before it is joined.
    jobs: Option<Sender<Box<dyn Job>>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread on `connection`, whose migrations have already run.
    pub(super) fn start(connection: Connection) -> std::io::Result<Writer> {
        Writer::start_with(connection, Bounds { jobs: MAX_BATCH_JOBS, time: MAX_BATCH_TIME })
    }

    fn start_with(connection: Connection, bounds: Bounds) -> std::io::Result<Writer> {
        let (jobs, queue) = channel::<Box<dyn Job>>();
        let thread = std::thread::Builder::new()
            .name("roster-sqlite-writer".into())
            .spawn(move || serve(connection, &queue, bounds))?;
        Ok(Writer { jobs: Some(jobs), thread: Some(thread) })
    }

    /// Queues `work` for the writer at once (jobs run in the order of the calls) and answers, when awaited, once
    /// the batch that ran it has committed.
    pub(super) fn write<T, F>(&self, work: F) -> impl Future<Output = Result<T, Failure>> + use<T, F>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, Failure> + Send + 'static,
    {
        let stopped = || Failure::Store(StoreError::Backend("the store's writer has stopped".into()));
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending { work: Some(work), outcome: None, reply });
        let queued = self.jobs.as_ref().ok_or_else(stopped).and_then(|jobs| jobs.send(job).map_err(|_| stopped()));
        async move {
            queued?;
            answer.await.map_err(|_| stopped())?
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            // The thread only ends once the queue is empty; a panic of its own has already failed its jobs.
            let _ = thread.join();
        }
    }
}

/// The writer thread's loop: one batch after the other until every handle is gone.
fn serve(mut connection: Connection, queue: &Receiver<Box<dyn Job>>, bounds: Bounds) {
    while let Ok(first) = queue.recv() {
        batch(&mut connection, first, queue, bounds);
    }
}

/// Runs one batch, starting with `first` and taking queued jobs while the bounds allow, then commits it and
/// reports every job's result.
fn batch(connection: &mut Connection, first: Box<dyn Job>, queue: &Receiver<Box<dyn Job>>, bounds: Bounds) {
    let started = Instant::now();
    // A batch whose rollback failed may have left its transaction open; it is ended before the next one starts.
    if !connection.is_autocommit() {
        let _ = connection.execute_batch("ROLLBACK");
    }
    if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
        first.finish(Err(Failure::Sql(error).into_store()));
        return;
    }
    let mut done: Vec<Box<dyn Job>> = Vec::with_capacity(bounds.jobs);
    let mut job = first;
    loop {
        let transaction_holds = run_in_savepoint(connection, job.as_mut());
        done.push(job);
        if !transaction_holds {
            abandon(connection, done, "the transaction failed, so the write was rolled back".into());
            return;
        }
        if done.len() >= bounds.jobs || started.elapsed() >= bounds.time {
            break;
        }
        match queue.try_recv() {
            Ok(next) => job = next,
            Err(_) => break,
        }
    }
    match connection.execute_batch("COMMIT") {
        Ok(()) => {
            for job in done {
                job.finish(Ok(()));
            }
        }
        Err(error) => abandon(connection, done, format!("the commit failed, so the write was rolled back: {error}")),
    }
}

/// Runs a job inside its own savepoint: released when the job succeeds, rolled back when it fails or panics.
/// Returns whether the batch's transaction is still usable afterwards.
fn run_in_savepoint(connection: &mut Connection, job: &mut dyn Job) -> bool {
    let Ok(savepoint) = connection.savepoint() else { return false };
    let closed = if job.run(&savepoint) {
        savepoint.commit()
    } else {
        // The savepoint's default drop behaviour: `ROLLBACK TO`, then `RELEASE`.
        savepoint.finish()
    };
    // SQLite rolls the whole transaction back on some errors (an I/O error, a full disk); autocommit then shows.
    closed.is_ok() && !connection.is_autocommit()
}

/// Rolls back the batch's transaction (if SQLite has not already) and fails every job in it.
fn abandon(connection: &Connection, done: Vec<Box<dyn Job>>, why: String) {
    if !connection.is_autocommit()
        && let Err(error) = connection.execute_batch("ROLLBACK")
    {
        tracing::error!(%error, "cannot roll back a failed batch of writes");
    }
    tracing::warn!(jobs = done.len(), why, "a batch of writes was rolled back");
    let error = StoreError::Backend(why);
    for job in done {
        job.finish(Err(error.clone()));
    }
}

/// The message a panic carried, when it is text.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    if let Some(message) = panic.downcast_ref::<&str>() {
        message
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message
    } else {
        "no message"
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use roster_scim_proto::ScimError;
    use rusqlite::params;

    use super::*;

    /// Queues `work` and answers with the service provider's error, as [`super::super::SqliteStore`] does.
    fn write<T, F>(writer: &Writer, work: F) -> impl Future<Output = Result<T, StoreError>> + use<T, F>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, Failure> + Send + 'static,
    {
        let answer = writer.write(work);
        async move { answer.await.map_err(Failure::into_store) }
    }

    /// A writer on an in-memory database, whose batches are bounded by job count only. Table `t` has a unique
    /// column; a row of `c` must name a row of `p`, checked at commit.
    fn writer() -> Writer {
        let connection = Connection::open_in_memory().unwrap();
        connection
            .execute_batch(
                "PRAGMA foreign_keys = ON; CREATE TABLE t (x INTEGER NOT NULL UNIQUE); \
                 CREATE TABLE p (id INTEGER PRIMARY KEY); \
                 CREATE TABLE c (p INTEGER REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED);",
            )
            .unwrap();
        Writer::start_with(connection, Bounds { jobs: MAX_BATCH_JOBS, time: Duration::from_secs(3600) }).unwrap()
    }

    fn insert(x: i64) -> impl FnOnce(&Connection) -> Result<i64, Failure> + Send + 'static {
        move |connection: &Connection| {
            connection.execute("INSERT INTO t (x) VALUES (?1)", [x])?;
            Ok(x)
        }
    }

    /// Every job of one batch gets its own answer: a uniqueness violation, a refusal after a write and a panic
    /// roll back only their own job, and exactly the rows of the successful jobs exist afterwards.
    #[tokio::test]
    async fn a_failing_job_does_not_affect_the_rest_of_its_batch() {
        let writer = writer();
        // The first job holds the writer until every other job is queued; the batch then takes them all (its only
        // bound here is the job count), so that they share one transaction.
        let (release, held) = mpsc::channel::<()>();
        let blocker = write(&writer, move |_: &Connection| {
            held.recv().map_err(|_| Failure::Store(StoreError::Backend("never released".into())))
        });
        let answers: Vec<_> = [1, 2, 1, 3, 4, 5, 2, 6]
            .into_iter()
            .map(|x| {
                write(&writer, move |connection: &Connection| {
                    assert!(!connection.is_autocommit(), "every job runs inside the batch's transaction");
                    match x {
                        4 => {
                            connection.execute("INSERT INTO t (x) VALUES (40)", [])?;
                            Err(StoreError::Rejected(ScimError::invalid_value("refused")).into())
                        }
                        5 => {
                            connection.execute("INSERT INTO t (x) VALUES (50)", [])?;
                            panic!("a panicking closure");
                        }
                        _ => insert(x)(connection),
                    }
                })
            })
            .collect();
        release.send(()).unwrap();
        blocker.await.unwrap();
        let mut results = Vec::new();
        for answer in answers {
            results.push(answer.await);
        }
        let conflict = |result: &Result<i64, StoreError>| matches!(result, Err(StoreError::Backend(message)) if message.contains("UNIQUE constraint failed"));
        assert_eq!(results[0], Ok(1));
        assert_eq!(results[1], Ok(2));
        assert!(conflict(&results[2]), "{:?}", results[2]);
        assert_eq!(results[3], Ok(3));
        assert!(matches!(results[4], Err(StoreError::Rejected(_))), "{:?}", results[4]);
        assert!(matches!(&results[5], Err(StoreError::Backend(message)) if message.contains("panicked")));
        assert!(conflict(&results[6]), "{:?}", results[6]);
        assert_eq!(results[7], Ok(6));
        let rows = write(&writer, |connection: &Connection| {
            let mut statement = connection.prepare("SELECT x FROM t ORDER BY x")?;
            let rows = statement.query_map(params![], |row| row.get::<_, i64>(0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
        .unwrap();
        assert_eq!(rows, [1, 2, 3, 6]);
    }

    /// A failed commit fails every job of the batch, and nothing of it is kept.
    #[tokio::test]
    async fn a_failed_commit_fails_the_whole_batch() {
        let writer = writer();
        // The orphan row of `c` breaks a deferred foreign key, which SQLite only checks at COMMIT.
        let (release, held) = mpsc::channel::<()>();
        let blocker = write(&writer, move |connection: &Connection| {
            held.recv().map_err(|_| Failure::Store(StoreError::Backend("never released".into())))?;
            insert(1)(connection)
        });
        let orphan = write(&writer, |connection: &Connection| {
            connection.execute("INSERT INTO c (p) VALUES (99)", [])?;
            Ok(())
        });
        release.send(()).unwrap();
        assert!(matches!(blocker.await, Err(StoreError::Backend(message)) if message.contains("commit failed")));
        assert!(matches!(orphan.await, Err(StoreError::Backend(message)) if message.contains("commit failed")));
        let count = write(&writer, |connection: &Connection| {
            Ok(connection.query_row("SELECT count(*) FROM t", [], |row| row.get(0))?)
        })
        .await;
        assert_eq!(count, Ok(0_i64));
    }
}

//! WAL checkpoints off the writer's path. SQLite's automatic checkpoint runs inside the commit that pushes the WAL
//! past 1,000 pages: that commit, and every write queued behind it on the one writer thread, waits while the
//! checkpoint copies pages into the database file and syncs it. Under a steady load of small writes (a provisioning
//! cycle's POSTs) that was about a third of the writer thread's time. Here the writer connection's automatic
//! checkpoint is off, and a thread of its own runs a `PASSIVE` checkpoint (which never blocks the writer or the
//! readers) every [`INTERVAL`], on its own connection. When the WAL has grown past [`RESTART_FRAMES`] anyway
//! (readers kept old snapshots), it runs a `RESTART` checkpoint, which waits for them (at most [`RESTART_WAIT`],
//! holding writers back meanwhile) and lets the WAL start over. The writer keeps an automatic checkpoint far out
//! ([`BACKSTOP_PAGES`]) in case this thread falls behind.
//!
//! The thread ends when its [`Checkpointer`] handle is dropped (with the store); closing the last connection
//! checkpoints what is left.

use std::path::Path;
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// How often the WAL is checkpointed.
const INTERVAL: Duration = Duration::from_millis(100);
/// WAL frames (pages) past which a checkpoint also restarts the WAL: 64 MiB of 4 KiB pages.
const RESTART_FRAMES: i64 = 16 * 1024;
/// How long a restarting checkpoint waits for readers (and holds writers back meanwhile) before it gives up until
/// the next tick.
const RESTART_WAIT: Duration = Duration::from_millis(50);
/// The writer's own automatic checkpoint, as a backstop should this thread fall behind: 100,000 pages (about
/// 400 MiB of WAL).
pub(crate) const BACKSTOP_PAGES: i64 = 100_000;

/// The running checkpoint thread; dropping it stops the thread.
pub(crate) struct Checkpointer {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Opens a connection to the database and starts checkpointing it.
    pub(crate) fn start(path: &Path) -> std::io::Result<Checkpointer> {
        let connection =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .and_then(|connection| connection.busy_timeout(RESTART_WAIT).map(|()| connection))
                .map_err(std::io::Error::other)?;
        let (stop, stopped) = channel::<()>();
        let thread = std::thread::Builder::new().name("roster-sqlite-c".into()).spawn(move || {
            // A message or a closed channel stops the thread; a timeout is the next tick.
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                checkpoint(&connection);
            }
        })?;
        Ok(Checkpointer { stop: Some(stop), thread: Some(thread) })
    }
}

/// One passive checkpoint, and a restarting one when the WAL has grown too long and is not fully checkpointed (a
/// long WAL that is restarts at the next write by itself).
fn checkpoint(connection: &Connection) {
    let frames = connection
        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?)));
    match frames {
        Ok((log, checkpointed)) if log > RESTART_FRAMES && checkpointed < log => {
            match connection.query_row("PRAGMA wal_checkpoint(RESTART)", [], |row| row.get::<_, i64>(0)) {
                Ok(0) => {}
                Ok(_) => tracing::debug!(log, "readers kept the WAL from restarting; trying again at the next tick"),
                Err(error) => tracing::warn!(%error, "a restarting WAL checkpoint failed"),
            }
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "a WAL checkpoint failed"),
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

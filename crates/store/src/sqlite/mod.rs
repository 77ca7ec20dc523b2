//! The SQLite backend: one database file, WAL mode, one writer connection and a pool of readers.
//!
//! Concurrency, on purpose: SQLite has one writer at a time, so every write runs on the single writer connection,
//! owned by a dedicated thread that commits queued writes in batches, each write in its own savepoint (see
//! [`writer`] for the design and its invariants). Writes are serialised, so an `update` closure sees the row as
//! the previous write left it and concurrent membership changes never lose a member, and no write ever waits on
//! `SQLITE_BUSY` inside the process. Reads run on their own connections, concurrently with each other and with
//! the writer (WAL readers see the last committed snapshot), each query in one read transaction so that a page
//! and its total agree. Reads run in `tokio::task::spawn_blocking`, except reads of a handful of rows by a unique
//! key, which run on the calling thread when a reader is idle (see [`SqliteStore::point_read`]).

mod checkpointer;
mod directory;
mod engine;
mod migrate;
mod query;
mod resources;
mod tenants;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use roster_directory::port::DirectoryError;
use roster_provider::port::StoreError;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;
use writer::Writer;

/// How long a connection waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The page cache of the writer, in KiB (a negative `cache_size`).
const WRITER_CACHE_KIB: i64 = 16 * 1024;
/// The page cache of each reader, in KiB.
const READER_CACHE_KIB: i64 = 8 * 1024;
/// How many reader connections the pool holds. Reads beyond that wait for a free reader (asynchronously, without
/// holding a thread), which keeps the number of blocking threads, context switches and open files bounded.
const READERS: usize = 4;
/// The memory map of the database file, in bytes: none. Each connection maps the file on its own, and resident
/// memory counts every mapping, so five connections on a 70 MB database (100,000 users) showed over 300 MB
/// resident; reads copy pages from the OS page cache instead, which measured as fast for point reads and pages.
const MMAP_BYTES: i64 = 0;
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 64;

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The parent directory could not be created.
    #[error("cannot create the directory {path}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// SQLite could not open or configure the file.
    #[error("cannot open the SQLite database {path}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer roster.
    #[error(
        "the database {path} has schema version {found}, but this roster knows versions up to {supported}; \
         run a newer roster, or restore a backup taken before the upgrade"
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// The database's `user_version`.
        found: i64,
        /// The newest migration this binary has.
        supported: i64,
    },
    /// The writer thread could not be started.
    #[error("cannot start the writer thread of {path}")]
    Thread {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A migration failed; the database stays at the previous version.
    #[error("migration {version} ({name}) failed on {path}")]
    Migration {
        /// The database file.
        path: PathBuf,
        /// The migration's version.
        version: i64,
        /// The migration's file name.
        name: &'static str,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
}

/// The SQLite store. Cloning is cheap and shares the connections.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Writer,
    /// Checkpoints the WAL off the writer's path.
    _checkpointer: checkpointer::Checkpointer,
    idle_readers: Mutex<Vec<Connection>>,
    /// One permit per reader connection: holding a permit guarantees an idle reader.
    reader_turns: Semaphore,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.inner.path).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it and its directory when missing) the database file and applies pending migrations.
    /// Refuses a database written by a newer roster ([`OpenError::TooNew`]).
    pub fn open(path: &Path) -> Result<SqliteStore, OpenError> {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .map_err(|source| OpenError::CreateDir { path: parent.to_owned(), source })?;
        }
        let open_error = |source| OpenError::Open { path: path.to_owned(), source };
        let mut writer = open_writer(path).map_err(open_error)?;
        migrate::migrate(&mut writer, path)?;
        let readers = (0..READERS).map(|_| open_reader(path)).collect::<Result<Vec<_>, _>>().map_err(open_error)?;
        let writer = Writer::start(writer).map_err(|source| OpenError::Thread { path: path.to_owned(), source })?;
        let checkpointer = checkpointer::Checkpointer::start(path)
            .map_err(|source| OpenError::Thread { path: path.to_owned(), source })?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer,
                _checkpointer: checkpointer,
                idle_readers: Mutex::new(readers),
                reader_turns: Semaphore::new(READERS),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `work` on a reader connection, off the async runtime.
    async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Failure> + Send + 'static,
    {
        self.read_as(work).await
    }

    /// [`SqliteStore::read`], answering with the error of the port `E` (see [`SqliteStore::write_as`]).
    async fn read_as<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<Failure>,
        F: FnOnce(&mut Connection) -> Result<T, Failure> + Send + 'static,
    {
        let turn = self.inner.reader_turns.acquire().await.map_err(closed)?;
        let inner = Arc::clone(&self.inner);
        let result = blocking(move || {
            let popped = inner.idle_readers.lock().unwrap_or_else(PoisonError::into_inner).pop();
            // A permit guarantees an idle reader; a reader lost to a failure is replaced here.
            let mut connection = match popped {
                Some(connection) => connection,
                None => open_reader(&inner.path)?,
            };
            let result = work(&mut connection);
            if connection.is_autocommit() {
                inner.idle_readers.lock().unwrap_or_else(PoisonError::into_inner).push(connection);
            }
            result
        })
        .await;
        drop(turn);
        result
    }

    /// Runs a read of a handful of rows (a resource by a unique key, a token, an enterprise) right on the calling
    /// thread when a reader is idle: handing such a read to a blocking thread and back costs more than the read
    /// itself. Otherwise it runs as [`SqliteStore::read`] does. Only for reads that never scan.
    async fn point_read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Failure> + Send + 'static,
    {
        self.point_read_as(work).await
    }

    /// [`SqliteStore::point_read`], answering with the error of the port `E` (see [`SqliteStore::write_as`]).
    async fn point_read_as<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<Failure>,
        F: FnOnce(&mut Connection) -> Result<T, Failure> + Send + 'static,
    {
        if let Ok(turn) = self.inner.reader_turns.try_acquire() {
            let popped = self.inner.idle_readers.lock().unwrap_or_else(PoisonError::into_inner).pop();
            if let Some(mut connection) = popped {
                let result = work(&mut connection);
                if connection.is_autocommit() {
                    self.inner.idle_readers.lock().unwrap_or_else(PoisonError::into_inner).push(connection);
                }
                drop(turn);
                return result.map_err(E::from);
            }
        }
        self.read_as(work).await
    }

    /// Runs `work` on the writer connection, in the writer thread's current transaction and inside a savepoint of
    /// its own: when `work` fails, its changes are rolled back. Answers once the batch has committed.
    async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, Failure> + Send + 'static,
    {
        self.write_as(work).await
    }

    /// [`SqliteStore::write`], answering with the error of the port `E`: each port has its own error type
    /// (`StoreError` for the service provider's, `DirectoryError` for the directory's), and a [`Failure`] carries
    /// any of them through the writer, so that a refusal still rolls its savepoint back.
    async fn write_as<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<Failure>,
        F: FnOnce(&Connection) -> Result<T, Failure> + Send + 'static,
    {
        self.inner.writer.write(work).await.map_err(E::from)
    }
}

/// Runs `work` in one read transaction, so that all its statements see the same snapshot. `BEGIN` and `COMMIT`
/// are cached statements: a read is short enough that parsing them each time shows in profiles.
fn in_read_transaction<T>(
    connection: &Connection,
    work: impl FnOnce(&Connection) -> Result<T, Failure>,
) -> Result<T, Failure> {
    connection.prepare_cached("BEGIN")?.execute([])?;
    let result = work(connection);
    // A read transaction has nothing to keep: it ends the same way whether `work` succeeded or not. When ending
    // it fails, the connection is still in a transaction, and the pool replaces it.
    let ended = connection.prepare_cached("COMMIT")?.execute([]);
    let value = result?;
    ended?;
    Ok(value)
}

fn closed(_: tokio::sync::AcquireError) -> Failure {
    Failure::Store(StoreError::Backend("the store is shutting down".into()))
}

async fn blocking<T, E, F>(work: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<Failure>,
    F: FnOnce() -> Result<T, Failure> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(E::from),
        Err(error) => Err(E::from(Failure::Store(StoreError::Backend(format!("the storage task failed: {error}"))))),
    }
}

fn open_writer(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    // `journal_mode` answers with the mode now in effect.
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(path = %path.display(), mode, "SQLite refused WAL mode; writes will block readers");
    }
    connection.execute_batch(&format!(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -{WRITER_CACHE_KIB}; \
         PRAGMA temp_store = MEMORY; PRAGMA mmap_size = {MMAP_BYTES}; PRAGMA wal_autocheckpoint = {backstop};",
        backstop = checkpointer::BACKSTOP_PAGES
    ))?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(connection)
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let connection =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA cache_size = -{READER_CACHE_KIB}; PRAGMA temp_store = MEMORY; \
         PRAGMA mmap_size = {MMAP_BYTES};"
    ))?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(connection)
}

/// A failure inside a storage task: SQL, or a port's answer (not found, conflict, rejected), which the port's
/// method hands to its caller.
#[derive(Debug)]
pub(crate) enum Failure {
    Sql(rusqlite::Error),
    /// An answer of the service provider's ports.
    Store(StoreError),
    /// An answer of the directory's port.
    Directory(DirectoryError),
}

impl Failure {
    pub(super) fn into_store(self) -> StoreError {
        match self {
            Failure::Sql(error) => StoreError::Backend(error.to_string()),
            Failure::Store(error) => error,
            Failure::Directory(error) => StoreError::Backend(error.to_string()),
        }
    }

    /// The directory port's error: its own answers as they are, anything else as a backend failure.
    pub(super) fn into_directory(self) -> DirectoryError {
        match self {
            Failure::Sql(error) => DirectoryError::Backend(error.to_string()),
            Failure::Store(StoreError::Backend(message)) => DirectoryError::Backend(message),
            Failure::Store(error) => DirectoryError::Backend(error.to_string()),
            Failure::Directory(error) => error,
        }
    }

    /// A value read from the database that does not have the shape roster wrote.
    fn corrupt(what: impl std::fmt::Display) -> Self {
        Failure::Store(StoreError::Backend(format!("unexpected data in the database: {what}")))
    }
}

impl From<crate::corrupt::Corrupt> for Failure {
    fn from(corrupt: crate::corrupt::Corrupt) -> Self {
        Failure::corrupt(corrupt.0)
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(error: rusqlite::Error) -> Self {
        Failure::Sql(error)
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure::Store(error)
    }
}

impl From<DirectoryError> for Failure {
    fn from(error: DirectoryError) -> Self {
        Failure::Directory(error)
    }
}

impl From<Failure> for StoreError {
    fn from(failure: Failure) -> Self {
        failure.into_store()
    }
}

impl From<Failure> for DirectoryError {
    fn from(failure: Failure) -> Self {
        failure.into_directory()
    }
}

/// The columns named by a uniqueness violation (`scim_users.enterprise_id, scim_users.user_name_folded`), or
/// `None` for any other error.
fn unique_violation(error: &rusqlite::Error) -> Option<&str> {
    match error {
        rusqlite::Error::SqliteFailure(failure, Some(message))
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            message.strip_prefix("UNIQUE constraint failed: ")
        }
        _ => None,
    }
}

/// Whether the error is a foreign-key violation (for example an enterprise that does not exist).
fn foreign_key_violation(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(failure, _)
        if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}

/// Milliseconds since the Unix epoch (time is stored with millisecond precision, as SCIM renders it).
fn to_millis(at: time::OffsetDateTime) -> Result<i64, Failure> {
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1_000_000))
        .map_err(|_| Failure::Store(StoreError::Backend(format!("timestamp {at} is out of range"))))
}

fn from_millis(millis: i64) -> Result<time::OffsetDateTime, Failure> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map_err(|_| Failure::corrupt(format!("timestamp {millis} ms is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip_and_truncate() {
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        let millis = to_millis(at).unwrap();
        assert_eq!(millis, 1_700_000_000_123);
        assert_eq!(from_millis(millis).unwrap().unix_timestamp_nanos(), 1_700_000_000_123_000_000);
        let before_epoch = time::OffsetDateTime::from_unix_timestamp_nanos(-1).unwrap();
        assert_eq!(to_millis(before_epoch).unwrap(), -1);
    }
}

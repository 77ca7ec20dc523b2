//! The PostgreSQL backend: `tokio-postgres` connections in a `deadpool-postgres` pool, for several roster nodes on
//! one database (see `docs/design/0005-postgresql.md`).
//!
//! Concurrency, on purpose: unlike SQLite, PostgreSQL takes concurrent writers, so every write runs on a pooled
//! connection in a transaction of its own, and the rules of a port are kept by the database itself (unique
//! constraints, one-statement upserts whose `WHERE` decides, rows affected), never by a read followed by a write
//! in Rust. Reads run on pooled connections too, concurrently.
//!
//! It implements the engine's port ([`roster_engine::state::EngineStore`], in [`engine`]), the directory's
//! ([`roster_directory::port::DirectoryStore`], in [`directory`]) and the service provider's
//! ([`roster_provider::port::TenantStore`] in [`tenants`], [`roster_provider::port::ResourceStore`] in
//! [`resources`], with list queries in [`query`]).
//!
//! # Lookups by a set of keys
//!
//! How lookups by a set of keys (`WHERE key = ANY($n)`) are written, and why they run as unprepared statements
//! while other statements are prepared once per connection (`prepare_cached`).
//!
//! The planner chooses between a table's indexes from its statistics, and during an initial cycle or a large
//! import the tables grow far faster than autovacuum refreshes them (it comes by at most once a minute). With
//! statistics taken when `engine_shadows` held a handful of rows, `source_id = ANY($3)` was answered by scanning
//! every shadow of the application through another index that the statistics said held two: the lookups of an
//! initial cycle of 40,000 users took 0.4 ms or 160 ms each, and the cycle 19 s or 56 s, depending on when
//! autovacuum came by. So:
//! - a lookup by a set of keys is a `LATERAL` subquery with `LIMIT 1` per key (`FROM unnest($n) AS k CROSS JOIN
//!   LATERAL (SELECT ... WHERE key = k.id LIMIT 1)`): the `LIMIT` keeps the planner from turning it into a join, so
//!   each key is one probe of the unique index, whatever the statistics say;
//! - it runs unprepared, planned at each execution with the table's current size: a prepared statement's generic
//!   plan, made once while the table may still be empty (a sequential scan costs nothing then), is kept until the
//!   statistics change.
//!
//! - no other index of the table leads with the same columns as the probed key's prefix (`engine_shadows_target`
//!   leads with the target id), so that even a plan made from stale statistics finds no cheaper-looking range.
//!
//! A plain `= ANY($n)` stays where the only index that can serve it leads with that column (a group's members, a
//! user's groups, a membership delta), and in the directory import, whose statements run a handful of times and
//! so get plans for their parameters. Lookups of one key by a unique index are safe prepared: the planner picks that index whatever the statistics.

mod directory;
mod engine;
mod migrate;
mod query;
mod resources;
mod tenants;
mod tls;

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use roster_provider::port::StoreError;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;

/// How many connections a store keeps at most.
const POOL_SIZE: usize = 16;
/// How long opening a connection may take before the operation fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an operation waits for a free connection of the pool before it fails.
const WAIT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long checking an idle connection before reuse may take.
const RECYCLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the database could not be connected to or brought to this roster's schema.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL is not a PostgreSQL connection string.
    #[error("invalid PostgreSQL URL: {0}")]
    Url(#[source] tokio_postgres::Error),
    /// The TLS configuration could not be built.
    #[error("cannot set up TLS for PostgreSQL: {0}")]
    Tls(#[source] rustls::Error),
    /// The pool could not be built.
    #[error("cannot build the PostgreSQL connection pool: {0}")]
    Pool(#[source] deadpool_postgres::BuildError),
    /// No connection could be opened.
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(#[source] deadpool_postgres::PoolError),
    /// A migration failed; the database stays at the previous version.
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        /// The migration's version.
        version: i64,
        /// The migration's file name.
        name: &'static str,
        /// The cause.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The schema-version table could not be read or created.
    #[error("cannot read the schema version: {0}")]
    Schema(#[source] tokio_postgres::Error),
    /// The database was written by a newer roster.
    #[error(
        "the database has schema version {found}, but this roster knows versions up to {supported}; run a newer \
         roster, or restore a backup taken before the upgrade"
    )]
    TooNew {
        /// The database's version.
        found: i64,
        /// The newest migration this binary has.
        supported: i64,
    },
}

/// The PostgreSQL store. Cloning is cheap and shares the pool.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.pool.status();
        f.debug_struct("PgStore").field("size", &status.size).field("max_size", &status.max_size).finish()
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database?sslmode=...`, or the
    /// key-value form) and applies pending migrations. `sslmode=require` connects over TLS, checking the server's
    /// certificate against the Web PKI roots; any other mode connects without TLS.
    pub async fn connect(url: &str) -> Result<PgStore, ConnectError> {
        let config = tokio_postgres::Config::from_str(url).map_err(ConnectError::Url)?;
        let manager_config = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let manager = if config.get_ssl_mode() == SslMode::Require {
            Manager::from_config(config, tls::connector().map_err(ConnectError::Tls)?, manager_config)
        } else {
            Manager::from_config(config, tokio_postgres::NoTls, manager_config)
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(CONNECT_TIMEOUT))
            .wait_timeout(Some(WAIT_TIMEOUT))
            .recycle_timeout(Some(RECYCLE_TIMEOUT))
            .build()
            .map_err(ConnectError::Pool)?;
        let mut client = pool.get().await.map_err(ConnectError::Connect)?;
        migrate::migrate(&mut client).await?;
        Ok(PgStore { pool })
    }

    /// A pooled connection.
    async fn client(&self) -> Result<deadpool_postgres::Object, Failure> {
        self.pool.get().await.map_err(Failure::Pool)
    }
}

/// A failure inside a store operation: SQL, the pool, a broken rule of a port's contract, or data that does not
/// have the shape roster wrote. Each port's methods turn it into their own error.
#[derive(Debug)]
pub(crate) enum Failure {
    Sql(tokio_postgres::Error),
    Pool(deadpool_postgres::PoolError),
    /// A rule of the contract would be broken; the message says which.
    Conflict(String),
    /// A value read from the database, or one to write, that cannot be converted.
    Corrupt(String),
    /// An answer of the directory's port (not found, conflict, invalid), given back as it is.
    Directory(roster_directory::port::DirectoryError),
    /// An answer of the service provider's ports (not found, conflict, unknown member, rejected), given back as it
    /// is.
    Store(StoreError),
}

impl Failure {
    /// A value read from the database that does not have the shape roster wrote.
    fn corrupt(what: impl std::fmt::Display) -> Self {
        Failure::Corrupt(format!("unexpected data in the database: {what}"))
    }
}

impl From<crate::corrupt::Corrupt> for Failure {
    fn from(corrupt: crate::corrupt::Corrupt) -> Self {
        Failure::corrupt(corrupt.0)
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(error: tokio_postgres::Error) -> Self {
        Failure::Sql(error)
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure::Store(error)
    }
}

impl From<roster_directory::port::DirectoryError> for Failure {
    fn from(error: roster_directory::port::DirectoryError) -> Self {
        Failure::Directory(error)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The database's own message (and detail) rather than tokio-postgres's "db error".
            Failure::Sql(error) => match error.as_db_error() {
                Some(db) => write!(f, "{}: {}", db.code().code(), db.message()),
                None => write!(f, "{error}"),
            },
            Failure::Pool(error) => write!(f, "no database connection: {error}"),
            Failure::Conflict(message) | Failure::Corrupt(message) => f.write_str(message),
            Failure::Directory(error) => write!(f, "{error}"),
            Failure::Store(error) => write!(f, "{error}"),
        }
    }
}

/// Milliseconds since the Unix epoch (the stored precision).
fn to_millis(at: time::OffsetDateTime) -> Result<i64, Failure> {
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1_000_000))
        .map_err(|_| Failure::Corrupt(format!("timestamp {at} is out of range")))
}

/// A time from its stored Unix milliseconds.
fn from_millis(millis: i64) -> Result<time::OffsetDateTime, Failure> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map_err(|_| Failure::corrupt(format!("timestamp {millis} ms is out of range")))
}

/// A `LIMIT` value: PostgreSQL's integers are signed.
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// The name of the unique constraint a statement violated, if that is why it failed.
fn unique_violation(error: &tokio_postgres::Error) -> Option<&str> {
    let db = error.as_db_error()?;
    (db.code() == &SqlState::UNIQUE_VIOLATION).then(|| db.constraint()).flatten()
}

/// Whether a statement failed on a foreign key (for example, an enterprise that does not exist).
fn foreign_key_violation(error: &tokio_postgres::Error) -> bool {
    error.as_db_error().is_some_and(|db| db.code() == &SqlState::FOREIGN_KEY_VIOLATION)
}

/// The service provider's error for a failure: the port's own answers as they are, everything else a backend
/// failure.
fn store_error(failure: Failure) -> StoreError {
    match failure {
        Failure::Store(error) => error,
        other => StoreError::Backend(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_truncate_towards_the_past() {
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        assert_eq!(to_millis(at).unwrap(), 1_700_000_000_123);
        let before = time::OffsetDateTime::from_unix_timestamp_nanos(-1).unwrap();
        assert_eq!(to_millis(before).unwrap(), -1);
    }

    #[test]
    fn answers_of_the_provider_ports_pass_through_and_the_rest_are_backend_errors() {
        assert_eq!(store_error(Failure::Store(StoreError::NotFound)), StoreError::NotFound);
        assert_eq!(store_error(Failure::Corrupt("bad".into())), StoreError::Backend("bad".into()));
    }

    #[tokio::test]
    async fn a_malformed_url_is_refused_before_connecting() {
        let error = PgStore::connect("postgres://host:notaport/db").await.unwrap_err();
        assert!(matches!(error, ConnectError::Url(_)), "{error:?}");
    }
}

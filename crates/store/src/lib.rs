//! Storage adapters of roster: the service provider's ports ([`roster_provider::port::TenantStore`] and
//! [`roster_provider::port::ResourceStore`]), the directory's ([`roster_directory::port::DirectoryStore`]) and the
//! provisioning engine's ([`roster_engine::state::EngineStore`]), each implemented on SQLite and on PostgreSQL.
//!
//! Layout:
//! - [`sqlite`] holds everything specific to SQLite: opening, pragmas, the connection pool, migrations and SQL;
//! - [`postgres`] holds everything specific to PostgreSQL: the connection pool, TLS, migrations and SQL;
//! - `columns`, `pushdown`, `listing`, `provider_rows`, `directory_rows`, `audit_rows`, `access_rows` and
//!   `engine_rows` are backend-neutral: which values of a resource live in their own columns (how they are
//!   case-folded, which attribute a uniqueness violation names), which part of a SCIM filter or `sortBy` a
//!   database can answer (and the predicate printer each backend completes with its SQL), the in-Rust rest of a
//!   list query, and the rows of each port as both backends store them (the audit log's, and the admin roles' and
//!   tokens', included);
//! - [`suite`] (feature `testing`, or this crate's own tests) is the backend-independent test suite every backend
//!   runs: its functions take the ports as `&dyn` values on a fresh database; `suite::postgres` starts the real
//!   PostgreSQL server those tests run against.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use roster_store::SqliteStore;
//! let store = SqliteStore::open(std::path::Path::new("roster-data/roster.db"))?;
//! let enterprises = roster_provider::TenantStore::enterprises(&store).await?;
//! # let _ = enterprises; Ok(()) }
//! ```

mod access_rows;
mod audit_rows;
mod columns;
mod corrupt;
mod directory_rows;
mod engine_rows;
mod listing;
pub mod postgres;
mod provider_rows;
mod pushdown;
pub mod sqlite;
#[cfg(any(test, feature = "testing"))]
pub mod suite;

pub use postgres::{ConnectError, PgStore};
pub use sqlite::{OpenError, SqliteStore};

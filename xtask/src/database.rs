//! Where a benchmark's roster processes keep their data: the data directory's SQLite file (the default), a
//! PostgreSQL database given by URL, or a throwaway PostgreSQL cluster the benchmark starts itself with durable
//! settings (`--postgres`; see `roster_store::suite::postgres::TestServer::start_durable`).

use std::path::Path;

use anyhow::bail;
use roster_store::suite::postgres::TestServer;

/// The database options of a benchmark.
#[derive(clap::Args, Debug, Clone)]
pub struct DatabaseArgs {
    /// A PostgreSQL database to use (postgres://...), instead of SQLite in a fresh data directory. It must be
    /// empty.
    #[arg(long, conflicts_with = "postgres")]
    database: Option<String>,
    /// Start a throwaway PostgreSQL cluster (the server binaries of scripts/setup-test-deps, durable settings) and
    /// use fresh databases of it.
    #[arg(long)]
    postgres: bool,
}

impl DatabaseArgs {
    /// Opens what the options say.
    pub async fn open(&self) -> anyhow::Result<Database> {
        if let Some(url) = &self.database {
            if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
                bail!("--database takes a postgres:// URL; without it the benchmark uses SQLite");
            }
            return Ok(Database { server: None, url: Some(url.clone()) });
        }
        if !self.postgres {
            return Ok(Database::sqlite());
        }
        let server = TestServer::start_durable().map_err(|message| anyhow::anyhow!("{message}"))?;
        let database = Database { url: None, server: Some(server) };
        Ok(Database { url: Some(database.create().await?), ..database })
    }
}

/// A benchmark's database: `url` is what the roster processes get as `--database` (none: SQLite in their data
/// directory).
pub struct Database {
    server: Option<TestServer>,
    url: Option<String>,
}

impl Database {
    /// SQLite in each process's data directory.
    pub fn sqlite() -> Database {
        Database { server: None, url: None }
    }

    /// Whether several processes may share it (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        self.url.is_some()
    }

    /// Adds `--data` and, for PostgreSQL, `--database` to a roster command.
    pub fn arguments(&self, command: &mut std::process::Command, data: &Path) {
        command.arg("--data").arg(data);
        if let Some(url) = &self.url {
            command.arg("--database").arg(url);
        }
    }

    /// Another fresh database of the throwaway cluster, for a second roster deployment (the cycle benchmark's
    /// target); `None` with SQLite or a given URL.
    pub async fn another(&self) -> anyhow::Result<Option<Database>> {
        if self.server.is_none() {
            return Ok(None);
        }
        Ok(Some(Database { server: None, url: Some(self.create().await?) }))
    }

    /// For the report.
    pub fn describe(&self) -> &'static str {
        match (&self.server, &self.url) {
            (_, None) => "SQLite",
            (Some(_), Some(_)) => "PostgreSQL (a local cluster, durable settings)",
            (None, Some(_)) => "PostgreSQL",
        }
    }

    async fn create(&self) -> anyhow::Result<String> {
        let Some(server) = &self.server else { bail!("no cluster to create a database in") };
        Ok(server.database().await)
    }
}

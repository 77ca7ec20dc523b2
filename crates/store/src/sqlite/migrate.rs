//! Schema migrations: SQL files embedded in the binary, applied in order on open, the applied version kept in
//! `PRAGMA user_version`.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::OpenError;

/// A migration: its version (the file's number) and its SQL.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, in order. Never edit a released one: add the next file.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_scim_provider.sql",
        sql: include_str!("../../migrations/sqlite/0001_scim_provider.sql"),
    },
    Migration {
        version: 2,
        name: "0002_key_buckets.sql",
        sql: include_str!("../../migrations/sqlite/0002_key_buckets.sql"),
    },
    Migration {
        version: 3,
        name: "0003_directory.sql",
        sql: include_str!("../../migrations/sqlite/0003_directory.sql"),
    },
    Migration { version: 4, name: "0004_engine.sql", sql: include_str!("../../migrations/sqlite/0004_engine.sql") },
    Migration { version: 5, name: "0005_plans.sql", sql: include_str!("../../migrations/sqlite/0005_plans.sql") },
    Migration {
        version: 6,
        name: "0006_audit_and_access.sql",
        sql: include_str!("../../migrations/sqlite/0006_audit_and_access.sql"),
    },
    Migration {
        version: 7,
        name: "0007_portal_sessions.sql",
        sql: include_str!("../../migrations/sqlite/0007_portal_sessions.sql"),
    },
    Migration {
        version: 8,
        name: "0008_engine_logs_keyset.sql",
        sql: include_str!("../../migrations/sqlite/0008_engine_logs_keyset.sql"),
    },
    Migration {
        version: 9,
        name: "0009_scim_token_last_used.sql",
        sql: include_str!("../../migrations/sqlite/0009_scim_token_last_used.sql"),
    },
    Migration {
        version: 10,
        name: "0010_portal_counts.sql",
        sql: include_str!("../../migrations/sqlite/0010_portal_counts.sql"),
    },
];

/// The schema version this binary writes.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |migration| migration.version)
}

/// Brings the database to [`latest_version`], each migration in its own immediate transaction (so that two
/// processes starting at once do not both apply it), or refuses a newer database.
pub(super) fn migrate(connection: &mut Connection, path: &Path) -> Result<(), OpenError> {
    let open_error = |source| OpenError::Open { path: path.to_owned(), source };
    let supported = latest_version();
    for migration in MIGRATIONS {
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(open_error)?;
        let found = user_version(&transaction).map_err(open_error)?;
        if found > supported {
            return Err(OpenError::TooNew { path: path.to_owned(), found, supported });
        }
        if found >= migration.version {
            continue;
        }
        let failed = |source| OpenError::Migration {
            path: path.to_owned(),
            version: migration.version,
            name: migration.name,
            source,
        };
        transaction.execute_batch(migration.sql).map_err(failed)?;
        transaction.pragma_update(None, "user_version", migration.version).map_err(failed)?;
        transaction.commit().map_err(failed)?;
        tracing::info!(path = %path.display(), version = migration.version, name = migration.name, "applied migration");
    }
    let found = user_version(connection).map_err(open_error)?;
    if found > supported {
        return Err(OpenError::TooNew { path: path.to_owned(), found, supported });
    }
    Ok(())
}

fn user_version(connection: &Connection) -> rusqlite::Result<i64> {
    connection.query_row("PRAGMA user_version", [], |row| row.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_and_match_file_names() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, i64::try_from(index).unwrap() + 1);
            assert!(migration.name.starts_with(&format!("{:04}_", migration.version)), "{}", migration.name);
        }
    }
}

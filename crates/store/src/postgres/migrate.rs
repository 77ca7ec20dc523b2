//! Schema migrations: SQL files embedded in the binary, applied in order on connect, in one transaction, the
//! applied versions kept in the table `roster_schema`. A transaction-scoped advisory lock serialises nodes that
//! start at once: the second one waits, then finds the migrations applied.

use tokio_postgres::Client;

use super::ConnectError;

/// A migration: its version (the file's number) and its SQL.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, in order. Never edit a released one: add the next file.
const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "0001_engine.sql", sql: include_str!("../../migrations/postgres/0001_engine.sql") },
    Migration {
        version: 2,
        name: "0002_directory.sql",
        sql: include_str!("../../migrations/postgres/0002_directory.sql"),
    },
    Migration {
        version: 3,
        name: "0003_scim_provider.sql",
        sql: include_str!("../../migrations/postgres/0003_scim_provider.sql"),
    },
    Migration {
        version: 4,
        name: "0004_audit_and_access.sql",
        sql: include_str!("../../migrations/postgres/0004_audit_and_access.sql"),
    },
    Migration {
        version: 5,
        name: "0005_portal_sessions.sql",
        sql: include_str!("../../migrations/postgres/0005_portal_sessions.sql"),
    },
    Migration {
        version: 6,
        name: "0006_engine_logs_keyset.sql",
        sql: include_str!("../../migrations/postgres/0006_engine_logs_keyset.sql"),
    },
    Migration {
        version: 7,
        name: "0007_scim_token_last_used.sql",
        sql: include_str!("../../migrations/postgres/0007_scim_token_last_used.sql"),
    },
    Migration {
        version: 8,
        name: "0008_portal_counts.sql",
        sql: include_str!("../../migrations/postgres/0008_portal_counts.sql"),
    },
];

/// The advisory lock key migrations hold (an arbitrary constant: "roster" in ASCII).
const MIGRATION_LOCK: i64 = 0x726f_7374_6572;

/// The schema version this binary writes.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |migration| migration.version)
}

/// Brings the database to [`latest_version`] in one transaction, or refuses a newer database.
pub(super) async fn migrate(client: &mut Client) -> Result<(), ConnectError> {
    let supported = latest_version();
    let transaction = client.transaction().await.map_err(ConnectError::Schema)?;
    transaction
        .batch_execute(&format!(
            "SELECT pg_advisory_xact_lock({MIGRATION_LOCK}); \
             CREATE TABLE IF NOT EXISTS roster_schema (version bigint PRIMARY KEY, name text NOT NULL, \
             applied timestamptz NOT NULL DEFAULT now())"
        ))
        .await
        .map_err(ConnectError::Schema)?;
    let found: i64 = transaction
        .query_one("SELECT coalesce(max(version), 0) FROM roster_schema", &[])
        .await
        .map_err(ConnectError::Schema)?
        .get(0);
    if found > supported {
        return Err(ConnectError::TooNew { found, supported });
    }
    for migration in MIGRATIONS.iter().filter(|migration| migration.version > found) {
        let failed = |source| ConnectError::Migration { version: migration.version, name: migration.name, source };
        transaction.batch_execute(migration.sql).await.map_err(failed)?;
        transaction
            .execute(
                "INSERT INTO roster_schema (version, name) VALUES ($1, $2)",
                &[&migration.version, &migration.name],
            )
            .await
            .map_err(failed)?;
        tracing::info!(version = migration.version, name = migration.name, "applied migration");
    }
    transaction.commit().await.map_err(ConnectError::Schema)
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

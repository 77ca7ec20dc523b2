//! Applications (their definitions kept as JSON the store does not interpret, their secrets only sealed) and their
//! assignments.

use deadpool_postgres::GenericClient;
use roster_directory::ObjectId;
use roster_directory::audit::{self, Actor};
use roster_directory::port::{ApplicationRecord, Assignment, Changed, DirectoryError};
use serde_json::Value;
use tokio_postgres::Row;

use super::Written;
use super::changes::{kind_name, parse_id, parse_kind};
use super::from_millis;
use super::objects::{known_target, not_found, target};
use crate::postgres::{Failure, to_millis};

/// The columns [`record`] reads.
const COLUMNS: &str = "name, definition, sealed_secret, created, updated";

/// Creates an application or replaces its definition (and its sealed secret when given); logs
/// [`Changed::Application`] when the definition is new or different. A new secret alone is stored without a log
/// entry, as the port says: the engine reads the secret when it runs, not from the log. Either change gets one
/// audit entry named `activity` ([`audit::application_written`]); a put that changes nothing gets none.
pub(super) async fn put(
    client: &impl GenericClient,
    written: &mut Written,
    name: &str,
    definition: &Value,
    sealed_secret: Option<&[u8]>,
    actor: &Actor,
    activity: &str,
) -> Result<(), Failure> {
    let at = to_millis(actor.at)?;
    if name.trim().is_empty() {
        return Err(DirectoryError::Invalid("an application needs a name".into()).into());
    }
    let text = serde_json::to_string(definition).map_err(|error| DirectoryError::Invalid(error.to_string()))?;
    let statement =
        client.prepare_cached("SELECT definition, sealed_secret FROM directory_applications WHERE name = $1").await?;
    let Some(row) = client.query_opt(&statement, &[&name]).await? else {
        let statement = client
            .prepare_cached(
                "INSERT INTO directory_applications (name, definition, sealed_secret, created, updated) \
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .await?;
        client.execute(&statement, &[&name, &text, &sealed_secret, &at]).await?;
        written.changes.push(Changed::Application(name.to_owned()));
        let secret_given = sealed_secret.is_some();
        written.audit.extend(audit::application_written(actor, activity, name, None, definition, secret_given));
        return Ok(());
    };
    let stored_text: &str = row.try_get(0)?;
    let stored_secret: Option<&[u8]> = row.try_get(1)?;
    // Compared as values, so that the order of keys (or a number's spelling) alone is no change.
    let stored_definition: Value = serde_json::from_str(stored_text)
        .map_err(|error| Failure::corrupt(format!("the definition of application {name}: {error}")))?;
    let definition_changed = stored_definition != *definition;
    let secret_changed = sealed_secret.is_some_and(|secret| stored_secret != Some(secret));
    if !definition_changed && !secret_changed {
        return Ok(());
    }
    let statement = client
        .prepare_cached(
            "UPDATE directory_applications SET definition = $2, sealed_secret = coalesce($3, sealed_secret), \
             updated = $4 WHERE name = $1",
        )
        .await?;
    client.execute(&statement, &[&name, &text, &sealed_secret, &at]).await?;
    if definition_changed {
        written.changes.push(Changed::Application(name.to_owned()));
    }
    let old = Some(&stored_definition);
    written.audit.extend(audit::application_written(actor, activity, name, old, definition, secret_changed));
    Ok(())
}

/// An application by name.
pub(super) async fn get(client: &impl GenericClient, name: &str) -> Result<Option<ApplicationRecord>, Failure> {
    let statement =
        client.prepare_cached(&format!("SELECT {COLUMNS} FROM directory_applications WHERE name = $1")).await?;
    client.query_opt(&statement, &[&name]).await?.as_ref().map(record).transpose()
}

/// All applications, by name.
pub(super) async fn all(client: &impl GenericClient) -> Result<Vec<ApplicationRecord>, Failure> {
    let statement =
        client.prepare_cached(&format!("SELECT {COLUMNS} FROM directory_applications ORDER BY name")).await?;
    client.query(&statement, &[]).await?.iter().map(record).collect()
}

/// Assigns a user or group (which must exist, as that kind) to an application, replacing its earlier assignment;
/// logs [`Changed::Assignment`] and its audit entry unless the assignment was already exactly this one.
pub(super) async fn assign(
    client: &impl GenericClient,
    written: &mut Written,
    application: &str,
    assignment: &Assignment,
    actor: &Actor,
) -> Result<(), Failure> {
    ensure_application(client, application).await?;
    let kind = kind_name(assignment.kind);
    let principal = assignment.principal.as_str();
    let Some(target) = target(client, kind, &assignment.principal).await? else {
        return Err(not_found(kind, &assignment.principal));
    };
    // Writes only when the stored assignment differs; the rows affected say whether it did.
    let statement = client
        .prepare_cached(
            "INSERT INTO directory_assignments (application, principal, kind, role) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (application, principal) DO UPDATE SET kind = excluded.kind, role = excluded.role \
             WHERE (directory_assignments.kind, directory_assignments.role) \
             IS DISTINCT FROM (excluded.kind, excluded.role)",
        )
        .await?;
    if client.execute(&statement, &[&application, &principal, &kind, &assignment.role]).await? == 1 {
        written
            .changes
            .push(Changed::Assignment { application: application.to_owned(), principal: assignment.principal.clone() });
        let role = assignment.role.as_deref();
        written.audit.push(audit::assignment_changed(actor, application, target, role, true));
    }
    Ok(())
}

/// Removes an assignment; an absent one changes nothing. The application must exist.
pub(super) async fn unassign(
    client: &impl GenericClient,
    written: &mut Written,
    application: &str,
    principal: &ObjectId,
    actor: &Actor,
) -> Result<(), Failure> {
    ensure_application(client, application).await?;
    let statement = client
        .prepare_cached(
            "DELETE FROM directory_assignments WHERE application = $1 AND principal = $2 RETURNING kind, role",
        )
        .await?;
    if let Some(row) = client.query_opt(&statement, &[&application, &principal.as_str()]).await? {
        written.changes.push(Changed::Assignment { application: application.to_owned(), principal: principal.clone() });
        let (kind, role): (&str, Option<&str>) = (row.try_get(0)?, row.try_get(1)?);
        let target = known_target(client, kind, principal).await?;
        written.audit.push(audit::assignment_changed(actor, application, target, role, false));
    }
    Ok(())
}

/// An application's assignments, by principal id; the application must exist. One statement: the application's
/// row joined with its assignments (one row of NULLs when it has none, no row when it does not exist).
pub(super) async fn assignments(client: &impl GenericClient, application: &str) -> Result<Vec<Assignment>, Failure> {
    let statement = client
        .prepare_cached(
            "SELECT a.principal, a.kind, a.role FROM directory_applications p \
             LEFT JOIN directory_assignments a ON a.application = p.name WHERE p.name = $1 ORDER BY a.principal",
        )
        .await?;
    let rows = client.query(&statement, &[&application]).await?;
    if rows.is_empty() {
        return Err(application_not_found(application));
    }
    let mut assignments = Vec::with_capacity(rows.len());
    for row in &rows {
        let Some(principal) = row.try_get::<_, Option<&str>>(0)? else { continue };
        let kind: &str = row.try_get(1)?;
        assignments.push(Assignment {
            principal: parse_id(principal)?,
            kind: parse_kind(kind)?,
            role: row.try_get(2)?,
        });
    }
    Ok(assignments)
}

async fn ensure_application(client: &impl GenericClient, name: &str) -> Result<(), Failure> {
    let statement = client.prepare_cached("SELECT 1 FROM directory_applications WHERE name = $1").await?;
    match client.query_opt(&statement, &[&name]).await? {
        Some(_) => Ok(()),
        None => Err(application_not_found(name)),
    }
}

fn application_not_found(name: &str) -> Failure {
    DirectoryError::NotFound { kind: "application", id: name.to_owned() }.into()
}

/// An application from its row ([`COLUMNS`]).
fn record(row: &Row) -> Result<ApplicationRecord, Failure> {
    let name: String = row.try_get(0)?;
    let definition: &str = row.try_get(1)?;
    let definition = serde_json::from_str(definition)
        .map_err(|error| Failure::corrupt(format!("the definition of application {name}: {error}")))?;
    Ok(ApplicationRecord {
        definition,
        sealed_secret: row.try_get(2)?,
        created: from_millis(row.try_get(3)?)?,
        updated: from_millis(row.try_get(4)?)?,
        name,
    })
}

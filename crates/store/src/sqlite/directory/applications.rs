//! Applications (their definitions kept as JSON the store does not interpret, their secrets only sealed) and their
//! assignments.

use roster_directory::ObjectId;
use roster_directory::audit::{self, Actor, AuditEntry};
use roster_directory::port::{ApplicationRecord, Assignment, Changed, DirectoryError};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;

use super::changes::{self, kind_name, parse_id, parse_kind};
use super::objects::{known_target, not_found, target};
use crate::sqlite::{Failure, from_millis, to_millis};

/// Creates an application or replaces its definition (and its sealed secret when given); logs
/// [`Changed::Application`] when the definition is new or different. A new secret alone is stored without a log
/// entry, as the port says: the engine reads the secret when it runs, not from the log. Either change gets one
/// audit entry named `activity` ([`audit::application_written`]); a put that changes nothing gets none.
pub(super) fn put(
    connection: &Connection,
    name: &str,
    definition: &Value,
    sealed_secret: Option<&[u8]>,
    actor: &Actor,
    activity: &str,
    entries: &mut Vec<AuditEntry>,
) -> Result<(), Failure> {
    let at = to_millis(actor.at)?;
    if name.trim().is_empty() {
        return Err(DirectoryError::Invalid("an application needs a name".into()).into());
    }
    let text = serde_json::to_string(definition).map_err(|error| DirectoryError::Invalid(error.to_string()))?;
    let stored: Option<(String, Option<Vec<u8>>)> = connection
        .prepare_cached("SELECT definition, sealed_secret FROM directory_applications WHERE name = ?1")?
        .query_row([name], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((stored_text, stored_secret)) = stored else {
        connection
            .prepare_cached(
                "INSERT INTO directory_applications (name, definition, sealed_secret, created, updated) \
                 VALUES (?1, ?2, ?3, ?4, ?4)",
            )?
            .execute(params![name, text, sealed_secret, at])?;
        changes::append(connection, &Changed::Application(name.to_owned()))?;
        let secret_given = sealed_secret.is_some();
        entries.extend(audit::application_written(actor, activity, name, None, definition, secret_given));
        return Ok(());
    };
    // Compared as values, so that the order of keys (or a number's spelling) alone is no change.
    let stored_definition: Value = serde_json::from_str(&stored_text)
        .map_err(|error| Failure::corrupt(format!("the definition of application {name}: {error}")))?;
    let definition_changed = stored_definition != *definition;
    let secret_changed = sealed_secret.is_some_and(|secret| stored_secret.as_deref() != Some(secret));
    if !definition_changed && !secret_changed {
        return Ok(());
    }
    connection
        .prepare_cached(
            "UPDATE directory_applications SET definition = ?2, sealed_secret = coalesce(?3, sealed_secret), \
             updated = ?4 WHERE name = ?1",
        )?
        .execute(params![name, text, sealed_secret, at])?;
    if definition_changed {
        changes::append(connection, &Changed::Application(name.to_owned()))?;
    }
    let old = Some(&stored_definition);
    entries.extend(audit::application_written(actor, activity, name, old, definition, secret_changed));
    Ok(())
}

/// An application by name.
pub(super) fn get(connection: &mut Connection, name: &str) -> Result<Option<ApplicationRecord>, Failure> {
    let row = connection
        .prepare_cached(
            "SELECT name, definition, sealed_secret, created, updated FROM directory_applications WHERE name = ?1",
        )?
        .query_row([name], application_columns)
        .optional()?;
    row.map(ApplicationRow::into_record).transpose()
}

/// All applications, by name.
pub(super) fn all(connection: &mut Connection) -> Result<Vec<ApplicationRecord>, Failure> {
    let mut statement = connection.prepare_cached(
        "SELECT name, definition, sealed_secret, created, updated FROM directory_applications ORDER BY name",
    )?;
    let rows = statement.query_map([], application_columns)?;
    rows.map(|row| row?.into_record()).collect()
}

/// Assigns a user or group (which must exist, as that kind) to an application, replacing its earlier assignment;
/// logs [`Changed::Assignment`] and its audit entry unless the assignment was already exactly this one.
pub(super) fn assign(
    connection: &Connection,
    application: &str,
    assignment: &Assignment,
    actor: &Actor,
    entries: &mut Vec<AuditEntry>,
) -> Result<(), Failure> {
    ensure_application(connection, application)?;
    let kind = kind_name(assignment.kind);
    let principal =
        target(connection, kind, &assignment.principal)?.ok_or_else(|| not_found(kind, &assignment.principal))?;
    let stored: Option<(String, Option<String>)> = connection
        .prepare_cached("SELECT kind, role FROM directory_assignments WHERE application = ?1 AND principal = ?2")?
        .query_row(params![application, assignment.principal.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    if stored.is_some_and(|(stored_kind, role)| stored_kind == kind && role == assignment.role) {
        return Ok(());
    }
    connection
        .prepare_cached(
            "INSERT INTO directory_assignments (application, principal, kind, role) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (application, principal) DO UPDATE SET kind = excluded.kind, role = excluded.role",
        )?
        .execute(params![application, assignment.principal.as_str(), kind, assignment.role])?;
    changes::append(
        connection,
        &Changed::Assignment { application: application.to_owned(), principal: assignment.principal.clone() },
    )?;
    entries.push(audit::assignment_changed(actor, application, principal, assignment.role.as_deref(), true));
    Ok(())
}

/// Removes an assignment; an absent one changes nothing. The application must exist.
pub(super) fn unassign(
    connection: &Connection,
    application: &str,
    principal: &ObjectId,
    actor: &Actor,
    entries: &mut Vec<AuditEntry>,
) -> Result<(), Failure> {
    ensure_application(connection, application)?;
    let stored: Option<(String, Option<String>)> = connection
        .prepare_cached("SELECT kind, role FROM directory_assignments WHERE application = ?1 AND principal = ?2")?
        .query_row(params![application, principal.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((kind, role)) = stored else { return Ok(()) };
    connection
        .prepare_cached("DELETE FROM directory_assignments WHERE application = ?1 AND principal = ?2")?
        .execute(params![application, principal.as_str()])?;
    changes::append(
        connection,
        &Changed::Assignment { application: application.to_owned(), principal: principal.clone() },
    )?;
    let target = known_target(connection, &kind, principal)?;
    entries.push(audit::assignment_changed(actor, application, target, role.as_deref(), false));
    Ok(())
}

/// An application's assignments, by principal id. The application must exist. Run inside a read transaction.
pub(super) fn assignments(connection: &Connection, application: &str) -> Result<Vec<Assignment>, Failure> {
    ensure_application(connection, application)?;
    let mut statement = connection.prepare_cached(
        "SELECT principal, kind, role FROM directory_assignments WHERE application = ?1 ORDER BY principal",
    )?;
    let mut rows = statement.query([application])?;
    let mut assignments = Vec::new();
    while let Some(row) = rows.next()? {
        let principal: String = row.get(0)?;
        let kind: String = row.get(1)?;
        assignments.push(Assignment { principal: parse_id(&principal)?, kind: parse_kind(&kind)?, role: row.get(2)? });
    }
    Ok(assignments)
}

fn ensure_application(connection: &Connection, name: &str) -> Result<(), Failure> {
    let found = connection.prepare_cached("SELECT 1 FROM directory_applications WHERE name = ?1")?.exists([name])?;
    if found { Ok(()) } else { Err(DirectoryError::NotFound { kind: "application", id: name.to_owned() }.into()) }
}

/// An application as read, before its values are parsed.
struct ApplicationRow {
    name: String,
    definition: String,
    sealed_secret: Option<Vec<u8>>,
    created: i64,
    updated: i64,
}

fn application_columns(row: &Row<'_>) -> rusqlite::Result<ApplicationRow> {
    Ok(ApplicationRow {
        name: row.get(0)?,
        definition: row.get(1)?,
        sealed_secret: row.get(2)?,
        created: row.get(3)?,
        updated: row.get(4)?,
    })
}

impl ApplicationRow {
    fn into_record(self) -> Result<ApplicationRecord, Failure> {
        let definition = serde_json::from_str(&self.definition)
            .map_err(|error| Failure::corrupt(format!("the definition of application {}: {error}", self.name)))?;
        Ok(ApplicationRecord {
            definition,
            sealed_secret: self.sealed_secret,
            created: from_millis(self.created)?,
            updated: from_millis(self.updated)?,
            name: self.name,
        })
    }
}

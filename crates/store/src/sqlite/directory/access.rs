//! Who may administer roster, on SQLite (tables of `0006_audit_and_access.sql`): users' password hashes and
//! directory roles, and admin API tokens. Each write pushes its audit entry ([`crate::access_rows`]) only when it
//! changed something.

use roster_directory::ObjectId;
use roster_directory::access::{AdminToken, PortalSession, Role};
use roster_directory::audit::{Actor, AuditEntry};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::changes::parse_id;
use super::objects::{not_found, user};
use crate::access_rows::{self, SESSION_COLUMNS, SessionRow, TokenRow, parse_role};
use crate::sqlite::{Failure, foreign_key_violation, unique_violation};

/// The columns [`token_columns`] reads.
const TOKEN_COLUMNS: &str = "name, id, role, digest, created, expires";

/// Sets a user's password hash; the same hash again changes nothing.
pub(super) fn set_password(
    connection: &Connection,
    id: &ObjectId,
    hash: &str,
    actor: &Actor,
    audit: &mut Vec<AuditEntry>,
) -> Result<(), Failure> {
    access_rows::check_password_hash(hash)?;
    let user = user(connection, id)?.ok_or_else(|| not_found("user", id))?;
    let written = connection
        .prepare_cached(
            "INSERT INTO directory_passwords (user_id, hash) VALUES (?1, ?2) ON CONFLICT (user_id) DO UPDATE \
             SET hash = excluded.hash WHERE directory_passwords.hash <> excluded.hash",
        )?
        .execute(params![id.as_str(), hash])?;
    if written == 1 {
        audit.push(access_rows::password_reset(actor, &user));
    }
    Ok(())
}

/// A user's password hash.
pub(super) fn password_hash(connection: &Connection, id: &ObjectId) -> Result<Option<String>, Failure> {
    Ok(connection
        .prepare_cached("SELECT hash FROM directory_passwords WHERE user_id = ?1")?
        .query_row([id.as_str()], |row| row.get(0))
        .optional()?)
}

/// Gives a user (who must exist) a role, or takes it (`added` false); a role already held, or not held, changes
/// nothing.
pub(super) fn change_role(
    connection: &Connection,
    id: &ObjectId,
    role: &Role,
    added: bool,
    actor: &Actor,
    audit: &mut Vec<AuditEntry>,
) -> Result<(), Failure> {
    let user = user(connection, id)?.ok_or_else(|| not_found("user", id))?;
    let sql = if added {
        "INSERT INTO directory_roles (user_id, role) VALUES (?1, ?2) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM directory_roles WHERE user_id = ?1 AND role = ?2"
    };
    if connection.prepare_cached(sql)?.execute(params![id.as_str(), role.as_key()])? == 1 {
        audit.push(access_rows::role_changed(actor, &user, role, added));
    }
    Ok(())
}

/// A user's roles, in order; the user must exist. One statement: the user's row joined with its roles (one row
/// of NULL when it has none, no row when it does not exist).
pub(super) fn roles(connection: &Connection, id: &ObjectId) -> Result<Vec<Role>, Failure> {
    let mut statement = connection.prepare_cached(
        "SELECT r.role FROM directory_users u LEFT JOIN directory_roles r ON r.user_id = u.id WHERE u.id = ?1",
    )?;
    let keys: Vec<Option<String>> = statement.query_map([id.as_str()], |row| row.get(0))?.collect::<Result<_, _>>()?;
    if keys.is_empty() {
        return Err(not_found("user", id));
    }
    let mut roles = keys.iter().flatten().map(|key| parse_role(key)).collect::<Result<Vec<_>, _>>()?;
    roles.sort();
    Ok(roles)
}

/// Every role assignment, by user id then role.
pub(super) fn role_members(connection: &Connection) -> Result<Vec<(ObjectId, Role)>, Failure> {
    let mut statement = connection.prepare_cached("SELECT user_id, role FROM directory_roles")?;
    let mut rows = statement.query([])?;
    let mut members = Vec::new();
    while let Some(row) = rows.next()? {
        let user: String = row.get(0)?;
        let role: String = row.get(1)?;
        members.push((parse_id(&user)?, parse_role(&role)?));
    }
    members.sort();
    Ok(members)
}

/// Stores a new token: a name already used is a conflict naming it.
pub(super) fn create_token(
    connection: &Connection,
    token: &AdminToken,
    row: &TokenRow,
    actor: &Actor,
    audit: &mut Vec<AuditEntry>,
) -> Result<(), Failure> {
    let inserted = connection
        .prepare_cached(
            "INSERT INTO admin_tokens (name, id, role, digest, created, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (name) DO NOTHING",
        )?
        .execute(params![row.name, row.id, row.role, row.digest, row.created, row.expires]);
    match inserted {
        Ok(0) => Err(access_rows::duplicate_token(&token.name).into()),
        Ok(_) => {
            audit.push(access_rows::admin_token_changed(actor, &token.id, &token.name, &token.role, true));
            Ok(())
        }
        Err(error) if unique_violation(&error) == Some("admin_tokens.digest") => {
            Err(access_rows::duplicate_digest(&token.name).into())
        }
        Err(error) => Err(error.into()),
    }
}

/// Every token, by name.
pub(super) fn tokens(connection: &Connection) -> Result<Vec<AdminToken>, Failure> {
    let mut statement =
        connection.prepare_cached(&format!("SELECT {TOKEN_COLUMNS} FROM admin_tokens ORDER BY name"))?;
    let rows = statement.query_map([], token_columns)?;
    rows.map(|row| Ok(row?.into_token()?)).collect()
}

/// The token with this digest (the unique index on `digest`).
pub(super) fn token_by_digest(connection: &Connection, digest: &[u8; 32]) -> Result<Option<AdminToken>, Failure> {
    let row = connection
        .prepare_cached(&format!("SELECT {TOKEN_COLUMNS} FROM admin_tokens WHERE digest = ?1"))?
        .query_row([&digest[..]], token_columns)
        .optional()?;
    Ok(row.map(TokenRow::into_token).transpose()?)
}

/// Deletes a token by name; a missing name is not found.
pub(super) fn revoke_token(
    connection: &Connection,
    name: &str,
    actor: &Actor,
    audit: &mut Vec<AuditEntry>,
) -> Result<(), Failure> {
    let stored: Option<(String, String)> = connection
        .prepare_cached("SELECT id, role FROM admin_tokens WHERE name = ?1")?
        .query_row([name], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((id, role)) = stored else { return Err(access_rows::token_not_found(name).into()) };
    let role = parse_role(&role)?;
    connection.prepare_cached("DELETE FROM admin_tokens WHERE name = ?1")?.execute([name])?;
    audit.push(access_rows::admin_token_changed(actor, &id, name, &role, false));
    Ok(())
}

fn token_columns(row: &Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok(TokenRow {
        name: row.get(0)?,
        id: row.get(1)?,
        role: row.get(2)?,
        digest: row.get(3)?,
        created: row.get(4)?,
        expires: row.get(5)?,
    })
}

/// Stores a new portal session.
pub(super) fn create_session(connection: &Connection, row: &SessionRow, user: &ObjectId) -> Result<(), Failure> {
    let inserted = connection
        .prepare_cached(&format!("INSERT INTO portal_sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"))?
        .execute(params![row.digest, row.user, row.created, row.seen, row.expires]);
    match inserted {
        Ok(_) => Ok(()),
        Err(error) if unique_violation(&error).is_some() => Err(access_rows::duplicate_session().into()),
        Err(error) if foreign_key_violation(&error) => Err(access_rows::session_user_not_found(user).into()),
        Err(error) => Err(error.into()),
    }
}

/// The portal session with this digest.
pub(super) fn session_by_digest(connection: &Connection, digest: &[u8; 32]) -> Result<Option<PortalSession>, Failure> {
    let row = connection
        .prepare_cached(&format!("SELECT {SESSION_COLUMNS} FROM portal_sessions WHERE digest = ?1"))?
        .query_row([&digest[..]], |row| {
            Ok(SessionRow {
                digest: row.get(0)?,
                user: row.get(1)?,
                created: row.get(2)?,
                seen: row.get(3)?,
                expires: row.get(4)?,
            })
        })
        .optional()?;
    Ok(row.map(SessionRow::into_session).transpose()?)
}

/// Records a session's use; whether it exists.
pub(super) fn touch_session(connection: &Connection, digest: &[u8; 32], seen: i64) -> Result<bool, Failure> {
    let sql = "UPDATE portal_sessions SET seen = max(seen, ?2) WHERE digest = ?1";
    Ok(connection.prepare_cached(sql)?.execute(params![&digest[..], seen])? == 1)
}

/// Ends a session; whether there was one.
pub(super) fn delete_session(connection: &Connection, digest: &[u8; 32]) -> Result<bool, Failure> {
    Ok(connection.prepare_cached("DELETE FROM portal_sessions WHERE digest = ?1")?.execute([&digest[..]])? == 1)
}

/// Ends every session of a user; how many.
pub(super) fn delete_user_sessions(connection: &Connection, user: &ObjectId) -> Result<usize, Failure> {
    Ok(connection.prepare_cached("DELETE FROM portal_sessions WHERE user_id = ?1")?.execute([user.as_str()])?)
}

/// Deletes idle and expired sessions; how many.
pub(super) fn prune_sessions(connection: &Connection, idle_before: i64, now: i64) -> Result<usize, Failure> {
    let sql = "DELETE FROM portal_sessions WHERE seen < ?1 OR expires <= ?2";
    Ok(connection.prepare_cached(sql)?.execute(params![idle_before, now])?)
}

//! Who may administer roster, on PostgreSQL (tables of `0004_audit_and_access.sql`): users' password hashes and
//! directory roles, and admin API tokens. Each write decides in one statement whether it changed anything (rows
//! affected), and only then pushes its audit entry ([`crate::access_rows`]).

use deadpool_postgres::GenericClient;
use roster_directory::ObjectId;
use roster_directory::access::{AdminToken, PortalSession, Role};
use roster_directory::audit::Actor;
use tokio_postgres::Row;

use super::Written;
use super::changes::parse_id;
use super::objects::{not_found, user};
use crate::access_rows::{self, SESSION_COLUMNS, SessionRow, TokenRow, parse_role};
use crate::postgres::{Failure, foreign_key_violation, unique_violation};

/// The columns [`token_row`] reads.
const TOKEN_COLUMNS: &str = "name, id, role, digest, created, expires";

/// Sets a user's password hash; the same hash again changes nothing.
pub(super) async fn set_password(
    client: &impl GenericClient,
    written: &mut Written,
    id: &ObjectId,
    hash: &str,
    actor: &Actor,
) -> Result<(), Failure> {
    access_rows::check_password_hash(hash)?;
    let user = user(client, id).await?.ok_or_else(|| not_found("user", id))?;
    let statement = client
        .prepare_cached(
            "INSERT INTO directory_passwords (user_id, hash) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE \
             SET hash = excluded.hash WHERE directory_passwords.hash <> excluded.hash",
        )
        .await?;
    if client.execute(&statement, &[&id.as_str(), &hash]).await? == 1 {
        written.audit.push(access_rows::password_reset(actor, &user));
    }
    Ok(())
}

/// A user's password hash.
pub(super) async fn password_hash(client: &impl GenericClient, id: &ObjectId) -> Result<Option<String>, Failure> {
    let statement = client.prepare_cached("SELECT hash FROM directory_passwords WHERE user_id = $1").await?;
    let row = client.query_opt(&statement, &[&id.as_str()]).await?;
    Ok(row.map(|row| row.try_get(0)).transpose()?)
}

/// Gives a user (who must exist) a role, or takes it (`added` false); a role already held, or not held, changes
/// nothing.
pub(super) async fn change_role(
    client: &impl GenericClient,
    written: &mut Written,
    id: &ObjectId,
    role: &Role,
    added: bool,
    actor: &Actor,
) -> Result<(), Failure> {
    let user = user(client, id).await?.ok_or_else(|| not_found("user", id))?;
    let sql = if added {
        "INSERT INTO directory_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM directory_roles WHERE user_id = $1 AND role = $2"
    };
    let statement = client.prepare_cached(sql).await?;
    if client.execute(&statement, &[&id.as_str(), &role.as_key()]).await? == 1 {
        written.audit.push(access_rows::role_changed(actor, &user, role, added));
    }
    Ok(())
}

/// A user's roles, in order; the user must exist. One statement: the user's row joined with its roles (one row
/// of NULL when it has none, no row when it does not exist).
pub(super) async fn roles(client: &impl GenericClient, id: &ObjectId) -> Result<Vec<Role>, Failure> {
    let statement = client
        .prepare_cached(
            "SELECT r.role FROM directory_users u LEFT JOIN directory_roles r ON r.user_id = u.id WHERE u.id = $1",
        )
        .await?;
    let rows = client.query(&statement, &[&id.as_str()]).await?;
    if rows.is_empty() {
        return Err(not_found("user", id));
    }
    let mut roles = Vec::with_capacity(rows.len());
    for row in &rows {
        if let Some(key) = row.try_get::<_, Option<&str>>(0)? {
            roles.push(parse_role(key)?);
        }
    }
    roles.sort();
    Ok(roles)
}

/// Every role assignment, by user id then role.
pub(super) async fn role_members(client: &impl GenericClient) -> Result<Vec<(ObjectId, Role)>, Failure> {
    let statement = client.prepare_cached("SELECT user_id, role FROM directory_roles").await?;
    let mut members = Vec::new();
    for row in client.query(&statement, &[]).await? {
        members.push((parse_id(row.try_get(0)?)?, parse_role(row.try_get(1)?)?));
    }
    members.sort();
    Ok(members)
}

/// Stores a new token: a name already used is a conflict naming it.
pub(super) async fn create_token(
    client: &impl GenericClient,
    written: &mut Written,
    token: &AdminToken,
    row: &TokenRow,
    actor: &Actor,
) -> Result<(), Failure> {
    let statement = client
        .prepare_cached(
            "INSERT INTO admin_tokens (name, id, role, digest, created, expires) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (name) DO NOTHING",
        )
        .await?;
    let values: [&(dyn tokio_postgres::types::ToSql + Sync); 6] =
        [&row.name, &row.id, &row.role, &row.digest, &row.created, &row.expires];
    match client.execute(&statement, &values).await {
        Ok(0) => Err(access_rows::duplicate_token(&token.name).into()),
        Ok(_) => {
            written.audit.push(access_rows::admin_token_changed(actor, &token.id, &token.name, &token.role, true));
            Ok(())
        }
        Err(error) if unique_violation(&error) == Some("admin_tokens_digest") => {
            Err(access_rows::duplicate_digest(&token.name).into())
        }
        Err(error) => Err(error.into()),
    }
}

/// Every token, by name.
pub(super) async fn tokens(client: &impl GenericClient) -> Result<Vec<AdminToken>, Failure> {
    let statement = client.prepare_cached(&format!("SELECT {TOKEN_COLUMNS} FROM admin_tokens ORDER BY name")).await?;
    client.query(&statement, &[]).await?.iter().map(token_row).collect()
}

/// The token with this digest (the unique index on `digest`).
pub(super) async fn token_by_digest(
    client: &impl GenericClient,
    digest: &[u8; 32],
) -> Result<Option<AdminToken>, Failure> {
    let statement =
        client.prepare_cached(&format!("SELECT {TOKEN_COLUMNS} FROM admin_tokens WHERE digest = $1")).await?;
    client.query_opt(&statement, &[&&digest[..]]).await?.as_ref().map(token_row).transpose()
}

/// Deletes a token by name; a missing name is not found.
pub(super) async fn revoke_token(
    client: &impl GenericClient,
    written: &mut Written,
    name: &str,
    actor: &Actor,
) -> Result<(), Failure> {
    let statement = client.prepare_cached("DELETE FROM admin_tokens WHERE name = $1 RETURNING id, role").await?;
    let Some(row) = client.query_opt(&statement, &[&name]).await? else {
        return Err(access_rows::token_not_found(name).into());
    };
    let (id, role): (&str, &str) = (row.try_get(0)?, row.try_get(1)?);
    written.audit.push(access_rows::admin_token_changed(actor, id, name, &parse_role(role)?, false));
    Ok(())
}

/// A token from its row ([`TOKEN_COLUMNS`]).
fn token_row(row: &Row) -> Result<AdminToken, Failure> {
    let row = TokenRow {
        name: row.try_get(0)?,
        id: row.try_get(1)?,
        role: row.try_get(2)?,
        digest: row.try_get(3)?,
        created: row.try_get(4)?,
        expires: row.try_get(5)?,
    };
    Ok(row.into_token()?)
}

/// Stores a new portal session.
pub(super) async fn create_session(
    client: &impl GenericClient,
    row: &SessionRow,
    user: &ObjectId,
) -> Result<(), Failure> {
    let statement = client
        .prepare_cached(&format!("INSERT INTO portal_sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"))
        .await?;
    let values: [&(dyn tokio_postgres::types::ToSql + Sync); 5] =
        [&row.digest, &row.user, &row.created, &row.seen, &row.expires];
    match client.execute(&statement, &values).await {
        Ok(_) => Ok(()),
        Err(error) if unique_violation(&error).is_some() => Err(access_rows::duplicate_session().into()),
        Err(error) if foreign_key_violation(&error) => Err(access_rows::session_user_not_found(user).into()),
        Err(error) => Err(error.into()),
    }
}

/// The portal session with this digest.
pub(super) async fn session_by_digest(
    client: &impl GenericClient,
    digest: &[u8; 32],
) -> Result<Option<PortalSession>, Failure> {
    let statement =
        client.prepare_cached(&format!("SELECT {SESSION_COLUMNS} FROM portal_sessions WHERE digest = $1")).await?;
    let Some(row) = client.query_opt(&statement, &[&&digest[..]]).await? else { return Ok(None) };
    let row = SessionRow {
        digest: row.try_get(0)?,
        user: row.try_get(1)?,
        created: row.try_get(2)?,
        seen: row.try_get(3)?,
        expires: row.try_get(4)?,
    };
    Ok(Some(row.into_session()?))
}

/// Records a session's use; whether it exists.
pub(super) async fn touch_session(client: &impl GenericClient, digest: &[u8; 32], seen: i64) -> Result<bool, Failure> {
    let statement =
        client.prepare_cached("UPDATE portal_sessions SET seen = greatest(seen, $2) WHERE digest = $1").await?;
    Ok(client.execute(&statement, &[&&digest[..], &seen]).await? == 1)
}

/// Ends a session; whether there was one.
pub(super) async fn delete_session(client: &impl GenericClient, digest: &[u8; 32]) -> Result<bool, Failure> {
    let statement = client.prepare_cached("DELETE FROM portal_sessions WHERE digest = $1").await?;
    Ok(client.execute(&statement, &[&&digest[..]]).await? == 1)
}

/// Ends every session of a user; how many.
pub(super) async fn delete_user_sessions(client: &impl GenericClient, user: &ObjectId) -> Result<usize, Failure> {
    let statement = client.prepare_cached("DELETE FROM portal_sessions WHERE user_id = $1").await?;
    Ok(usize::try_from(client.execute(&statement, &[&user.as_str()]).await?).unwrap_or(usize::MAX))
}

/// Deletes idle and expired sessions; how many.
pub(super) async fn prune_sessions(client: &impl GenericClient, idle_before: i64, now: i64) -> Result<usize, Failure> {
    let statement = client.prepare_cached("DELETE FROM portal_sessions WHERE seen < $1 OR expires <= $2").await?;
    Ok(usize::try_from(client.execute(&statement, &[&idle_before, &now]).await?).unwrap_or(usize::MAX))
}

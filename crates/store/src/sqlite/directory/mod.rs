//! [`DirectoryStore`] on SQLite: the directory's users, groups, memberships, applications, assignments and change
//! log (tables in `migrations/sqlite/0003_directory.sql`), and its passwords, roles, admin tokens and audit log
//! (`0006_audit_and_access.sql`).
//!
//! A user or group is kept as its Microsoft Graph JSON (`roster_directory::export`), so that reading one back is
//! parsing one text, and an import tells an unchanged user by comparing that text with the stored one. Every
//! write appends its change-log rows in its own savepoint of the writer's transaction ([`changes::append`]), so
//! the log and the tables never disagree, and the log's sequence numbers become visible to readers in order: the
//! single writer hands them out and commits them together. Each write also collects the audit entries of what it
//! changed, which [`SqliteStore::audited`] appends in that same savepoint once the write succeeded: a refused
//! write records nothing.
//!
//! Layout: [`import`] (the bulk upsert), [`objects`] (lifecycle, memberships, deletions and reads of users and
//! groups), [`applications`] (applications and assignments), [`access`] (passwords, roles, admin tokens),
//! [`audit`] (the audit log), [`changes`] (the log and the JSON conversions).

mod access;
mod applications;
pub(super) mod audit;
mod changes;
mod import;
mod objects;

use async_trait::async_trait;
use roster_directory::access::{AdminToken, PortalSession, Role};
use roster_directory::audit::{Actor, AuditEntry};
use roster_directory::port::{
    ApplicationRecord, Assignment, AuditQuery, Change, DirectoryError, DirectoryStore, ImportSummary, Lifecycle, Seq,
};
use roster_directory::{Directory, Group, ObjectId, User};
use rusqlite::Connection;
use serde_json::Value;
use time::OffsetDateTime;

use super::{Failure, SqliteStore, blocking, in_read_transaction};
use crate::access_rows::{SessionRow, TokenRow};
use crate::audit_rows::{AuditRange, AuditRow, prune_bound};
use crate::directory_rows::millis;

impl SqliteStore {
    /// Runs a directory write on the writer, as [`SqliteStore::write_as`] does: `work` pushes the audit entries of
    /// what it changed, and they are appended in the same savepoint when it succeeds.
    async fn audited<T, F>(&self, work: F) -> Result<T, DirectoryError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut Vec<AuditEntry>) -> Result<T, Failure> + Send + 'static,
    {
        self.write_as(move |connection| {
            let mut entries = Vec::new();
            let value = work(connection, &mut entries)?;
            audit::append_entries(connection, entries)?;
            Ok(value)
        })
        .await
    }
}

#[async_trait]
impl DirectoryStore for SqliteStore {
    async fn import(&self, directory: Directory, actor: &Actor) -> Result<ImportSummary, DirectoryError> {
        // Serializing 100,000 users takes a while: it happens before the write, off the writer thread and off the
        // async runtime, so that the writer is held only for the SQL (and the audit entries of what changed).
        let prepared = blocking::<_, DirectoryError, _>(move || Ok(crate::directory_rows::prepare(directory)?)).await?;
        let actor = actor.clone();
        self.audited(move |connection, entries| import::import(connection, &prepared, &actor, entries)).await
    }

    async fn set_lifecycle(&self, user: &ObjectId, change: Lifecycle, actor: &Actor) -> Result<(), DirectoryError> {
        let (user, actor) = (user.clone(), actor.clone());
        self.audited(move |connection, entries| objects::set_lifecycle(connection, &user, change, &actor, entries))
            .await
    }

    async fn delete_group(&self, group: &ObjectId, actor: &Actor) -> Result<(), DirectoryError> {
        let (group, actor) = (group.clone(), actor.clone());
        self.audited(move |connection, entries| objects::delete_group(connection, &group, &actor, entries)).await
    }

    async fn add_member(&self, group: &ObjectId, member: &ObjectId, actor: &Actor) -> Result<(), DirectoryError> {
        let (group, member, actor) = (group.clone(), member.clone(), actor.clone());
        self.audited(move |connection, entries| objects::add_member(connection, &group, &member, &actor, entries)).await
    }

    async fn remove_member(&self, group: &ObjectId, member: &ObjectId, actor: &Actor) -> Result<(), DirectoryError> {
        let (group, member, actor) = (group.clone(), member.clone(), actor.clone());
        self.audited(move |connection, entries| objects::remove_member(connection, &group, &member, &actor, entries))
            .await
    }

    async fn user(&self, id: &ObjectId) -> Result<Option<User>, DirectoryError> {
        let id = id.clone();
        self.point_read_as(move |connection| objects::user(connection, &id)).await
    }

    async fn user_by_upn(&self, upn: &str) -> Result<Option<User>, DirectoryError> {
        let upn = upn.to_owned();
        self.point_read_as(move |connection| objects::user_by_upn(connection, &upn)).await
    }

    async fn group(&self, id: &ObjectId) -> Result<Option<Group>, DirectoryError> {
        let id = id.clone();
        // A group's members may be many: not a point read.
        self.read_as(move |connection| in_read_transaction(connection, |connection| objects::group(connection, &id)))
            .await
    }

    async fn users_after(&self, after: Option<&ObjectId>, limit: usize) -> Result<Vec<User>, DirectoryError> {
        let after = after.cloned();
        self.read_as(move |connection| objects::users_after(connection, after.as_ref(), limit)).await
    }

    async fn groups_after(&self, after: Option<&ObjectId>, limit: usize) -> Result<Vec<Group>, DirectoryError> {
        let after = after.cloned();
        self.read_as(move |connection| {
            in_read_transaction(connection, |connection| objects::groups_after(connection, after.as_ref(), limit))
        })
        .await
    }

    async fn counts(&self) -> Result<(u64, u64), DirectoryError> {
        self.read_as(|connection| objects::counts(connection)).await
    }

    async fn head(&self) -> Result<Seq, DirectoryError> {
        self.point_read_as(changes::head).await
    }

    async fn changes_after(&self, after: Seq, limit: usize) -> Result<Vec<Change>, DirectoryError> {
        self.read_as(move |connection| changes::after(connection, after, limit)).await
    }

    async fn put_application(
        &self,
        name: &str,
        definition: Value,
        sealed_secret: Option<Vec<u8>>,
        actor: &Actor,
        activity: &str,
    ) -> Result<(), DirectoryError> {
        let (name, actor, activity) = (name.to_owned(), actor.clone(), activity.to_owned());
        self.audited(move |connection, entries| {
            applications::put(connection, &name, &definition, sealed_secret.as_deref(), &actor, &activity, entries)
        })
        .await
    }

    async fn application(&self, name: &str) -> Result<Option<ApplicationRecord>, DirectoryError> {
        let name = name.to_owned();
        self.point_read_as(move |connection| applications::get(connection, &name)).await
    }

    async fn applications(&self) -> Result<Vec<ApplicationRecord>, DirectoryError> {
        self.read_as(applications::all).await
    }

    async fn assign(&self, application: &str, assignment: Assignment, actor: &Actor) -> Result<(), DirectoryError> {
        let (application, actor) = (application.to_owned(), actor.clone());
        self.audited(move |connection, entries| {
            applications::assign(connection, &application, &assignment, &actor, entries)
        })
        .await
    }

    async fn unassign(&self, application: &str, principal: &ObjectId, actor: &Actor) -> Result<(), DirectoryError> {
        let (application, principal, actor) = (application.to_owned(), principal.clone(), actor.clone());
        self.audited(move |connection, entries| {
            applications::unassign(connection, &application, &principal, &actor, entries)
        })
        .await
    }

    async fn assignments(&self, application: &str) -> Result<Vec<Assignment>, DirectoryError> {
        let application = application.to_owned();
        self.read_as(move |connection| {
            in_read_transaction(connection, |connection| applications::assignments(connection, &application))
        })
        .await
    }

    async fn set_password(&self, user: &ObjectId, password_hash: &str, actor: &Actor) -> Result<(), DirectoryError> {
        let (user, hash, actor) = (user.clone(), password_hash.to_owned(), actor.clone());
        self.audited(move |connection, entries| access::set_password(connection, &user, &hash, &actor, entries)).await
    }

    async fn password_hash(&self, user: &ObjectId) -> Result<Option<String>, DirectoryError> {
        let user = user.clone();
        self.point_read_as(move |connection| access::password_hash(connection, &user)).await
    }

    async fn add_role(&self, user: &ObjectId, role: &Role, actor: &Actor) -> Result<(), DirectoryError> {
        let (user, role, actor) = (user.clone(), role.clone(), actor.clone());
        self.audited(move |connection, entries| access::change_role(connection, &user, &role, true, &actor, entries))
            .await
    }

    async fn remove_role(&self, user: &ObjectId, role: &Role, actor: &Actor) -> Result<(), DirectoryError> {
        let (user, role, actor) = (user.clone(), role.clone(), actor.clone());
        self.audited(move |connection, entries| access::change_role(connection, &user, &role, false, &actor, entries))
            .await
    }

    async fn roles(&self, user: &ObjectId) -> Result<Vec<Role>, DirectoryError> {
        let user = user.clone();
        self.point_read_as(move |connection| access::roles(connection, &user)).await
    }

    async fn role_members(&self) -> Result<Vec<(ObjectId, Role)>, DirectoryError> {
        self.read_as(|connection| access::role_members(connection)).await
    }

    async fn create_admin_token(&self, token: &AdminToken, actor: &Actor) -> Result<(), DirectoryError> {
        let row = TokenRow::new(token)?;
        let (token, actor) = (token.clone(), actor.clone());
        self.audited(move |connection, entries| access::create_token(connection, &token, &row, &actor, entries)).await
    }

    async fn admin_tokens(&self) -> Result<Vec<AdminToken>, DirectoryError> {
        self.read_as(|connection| access::tokens(connection)).await
    }

    async fn admin_token_by_digest(&self, digest: &[u8; 32]) -> Result<Option<AdminToken>, DirectoryError> {
        let digest = *digest;
        self.point_read_as(move |connection| access::token_by_digest(connection, &digest)).await
    }

    async fn revoke_admin_token(&self, name: &str, actor: &Actor) -> Result<(), DirectoryError> {
        let (name, actor) = (name.to_owned(), actor.clone());
        self.audited(move |connection, entries| access::revoke_token(connection, &name, &actor, entries)).await
    }

    async fn create_session(&self, session: &PortalSession) -> Result<(), DirectoryError> {
        let row = SessionRow::new(session)?;
        let user = session.user.clone();
        self.write_as(move |connection| access::create_session(connection, &row, &user)).await
    }

    async fn session_by_digest(&self, digest: &[u8; 32]) -> Result<Option<PortalSession>, DirectoryError> {
        let digest = *digest;
        self.point_read_as(move |connection| access::session_by_digest(connection, &digest)).await
    }

    async fn touch_session(&self, digest: &[u8; 32], seen: OffsetDateTime) -> Result<bool, DirectoryError> {
        let (digest, seen) = (*digest, millis(seen)?);
        self.write_as(move |connection| access::touch_session(connection, &digest, seen)).await
    }

    async fn delete_session(&self, digest: &[u8; 32]) -> Result<bool, DirectoryError> {
        let digest = *digest;
        self.write_as(move |connection| access::delete_session(connection, &digest)).await
    }

    async fn delete_user_sessions(&self, user: &ObjectId) -> Result<usize, DirectoryError> {
        let user = user.clone();
        self.write_as(move |connection| access::delete_user_sessions(connection, &user)).await
    }

    async fn prune_sessions(&self, idle_before: OffsetDateTime, now: OffsetDateTime) -> Result<usize, DirectoryError> {
        let (idle_before, now) = (millis(idle_before)?, millis(now)?);
        self.write_as(move |connection| access::prune_sessions(connection, idle_before, now)).await
    }

    async fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), DirectoryError> {
        if entries.is_empty() {
            return Ok(());
        }
        let rows = AuditRow::all(entries)?;
        self.write_as(move |connection| audit::append(connection, &rows)).await
    }

    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, DirectoryError> {
        let range = AuditRange::new(query)?;
        self.read_as(move |connection| audit::query(connection, &range)).await
    }

    async fn prune_audit(&self, before: OffsetDateTime) -> Result<u64, DirectoryError> {
        let bound = prune_bound(before)?;
        self.write_as(move |connection| audit::prune(connection, bound)).await
    }
}

/// A `limit` as SQL takes it (a `usize` beyond `i64` is as good as no limit).
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

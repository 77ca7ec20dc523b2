//! [`DirectoryStore`] on PostgreSQL: the directory's users, groups, memberships, applications, assignments and
//! change log (tables of migration `0002_directory.sql`), and its passwords, roles, admin tokens and audit log
//! (`0004_audit_and_access.sql`), with the same answers as SQLite's.
//!
//! Writes: each runs in one transaction that first takes the change log's advisory lock ([`changes::lock`]), so
//! directory writes are serialized (as on SQLite, which has one writer) and the log's sequence numbers become
//! visible in order: a reader that saw number 11 never finds 10 appear later. A write collects what it changes in
//! a [`Written`], its change-log entries in order and its audit entries, and appends both just before its commit
//! ([`changes::append`], [`audit::append_entries`]), so the log, the audit log and the tables never disagree.
//! Reads run on a pooled connection, each in one statement (one snapshot): a group with its members is one query.
//!
//! Layout: [`import`] (the bulk upsert), [`objects`] (lifecycle, memberships, deletions and reads of users and
//! groups), [`applications`] (applications and assignments), [`access`] (passwords, roles, admin tokens),
//! [`audit`] (the audit log), [`changes`] (the log, its lock and the JSON conversions).
//!
//! Errors: the port's own answers (not found, conflict, invalid) travel as [`Failure::Directory`] and come out as
//! they are; a broken rule detected by SQL is [`DirectoryError::Conflict`]; everything else is
//! [`DirectoryError::Backend`].

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
    ApplicationRecord, Assignment, AuditQuery, Change, Changed, DirectoryError, DirectoryStore, ImportSummary,
    Lifecycle, Seq,
};
use roster_directory::{Directory, Group, ObjectId, User};
use serde_json::Value;
use time::OffsetDateTime;

use super::{Failure, PgStore, from_millis};
use crate::access_rows::{SessionRow, TokenRow};
use crate::audit_rows::{AuditRange, AuditRow, prune_bound};
use crate::directory_rows::millis;

/// What a write changed, collected as it goes and appended just before its commit: the change log's entries in
/// order, and the audit entries.
#[derive(Default)]
pub(super) struct Written {
    pub(super) changes: Vec<Changed>,
    pub(super) audit: Vec<AuditEntry>,
}

/// Runs a write: a transaction on a pooled connection, the change log's lock, the body (which pushes what it
/// changes onto `$written`), the change log's and the audit log's rows, the commit. Any error drops the
/// transaction, which rolls it back.
macro_rules! writing {
    ($store:expr, |$transaction:ident, $written:ident| $body:expr) => {{
        let work = async {
            let mut client = $store.client().await?;
            let $transaction = client.transaction().await?;
            changes::lock(&$transaction).await?;
            let mut $written = Written::default();
            let value = $body;
            changes::append(&$transaction, &$written.changes).await?;
            audit::append_entries(&$transaction, $written.audit).await?;
            $transaction.commit().await?;
            Ok::<_, Failure>(value)
        };
        work.await.map_err(directory_error)
    }};
}

/// Runs a read on a pooled connection.
macro_rules! reading {
    ($store:expr, |$client:ident| $body:expr) => {{
        let work = async {
            let $client = $store.client().await?;
            Ok::<_, Failure>($body)
        };
        work.await.map_err(directory_error)
    }};
}

#[async_trait]
impl DirectoryStore for PgStore {
    async fn import(&self, directory: Directory, actor: &Actor) -> Result<ImportSummary, DirectoryError> {
        // Serializing 100,000 users takes a while: it happens before the write, off the async runtime, so that the
        // change log's lock is held only for the SQL (and the audit entries of what changed).
        let prepared = tokio::task::spawn_blocking(move || import::prepare(directory))
            .await
            .map_err(|error| DirectoryError::Backend(format!("preparing the import failed: {error}")))?
            .map_err(directory_error)?;
        writing!(self, |transaction, written| import::import(&transaction, &prepared, actor, &mut written).await?)
    }

    async fn set_lifecycle(&self, user: &ObjectId, change: Lifecycle, actor: &Actor) -> Result<(), DirectoryError> {
        writing!(self, |transaction, written| {
            objects::set_lifecycle(&transaction, &mut written, user, change, actor).await?;
        })
    }

    async fn delete_group(&self, group: &ObjectId, actor: &Actor) -> Result<(), DirectoryError> {
        writing!(self, |transaction, written| objects::delete_group(&transaction, &mut written, group, actor).await?)
    }

    async fn add_member(&self, group: &ObjectId, member: &ObjectId, actor: &Actor) -> Result<(), DirectoryError> {
        writing!(self, |transaction, written| {
            objects::add_member(&transaction, &mut written, group, member, actor).await?;
        })
    }

    async fn remove_member(&self, group: &ObjectId, member: &ObjectId, actor: &Actor) -> Result<(), DirectoryError> {
        writing!(self, |transaction, written| {
            objects::remove_member(&transaction, &mut written, group, member, actor).await?;
        })
    }

    async fn user(&self, id: &ObjectId) -> Result<Option<User>, DirectoryError> {
        reading!(self, |client| objects::user(&client, id).await?)
    }

    async fn user_by_upn(&self, upn: &str) -> Result<Option<User>, DirectoryError> {
        reading!(self, |client| objects::user_by_upn(&client, upn).await?)
    }

    async fn group(&self, id: &ObjectId) -> Result<Option<Group>, DirectoryError> {
        reading!(self, |client| objects::group(&client, id).await?)
    }

    async fn users_after(&self, after: Option<&ObjectId>, limit: usize) -> Result<Vec<User>, DirectoryError> {
        reading!(self, |client| objects::users_after(&client, after, limit).await?)
    }

    async fn groups_after(&self, after: Option<&ObjectId>, limit: usize) -> Result<Vec<Group>, DirectoryError> {
        reading!(self, |client| objects::groups_after(&client, after, limit).await?)
    }

    async fn counts(&self) -> Result<(u64, u64), DirectoryError> {
        reading!(self, |client| objects::counts(&client).await?)
    }

    async fn head(&self) -> Result<Seq, DirectoryError> {
        reading!(self, |client| changes::head(&client).await?)
    }

    async fn changes_after(&self, after: Seq, limit: usize) -> Result<Vec<Change>, DirectoryError> {
        reading!(self, |client| changes::after(&client, after, limit).await?)
    }

    async fn put_application(
        &self,
        name: &str,
        definition: Value,
        sealed_secret: Option<Vec<u8>>,
        actor: &Actor,
        activity: &str,
    ) -> Result<(), DirectoryError> {
        let secret = sealed_secret.as_deref();
        writing!(self, |transaction, written| {
            applications::put(&transaction, &mut written, name, &definition, secret, actor, activity).await?;
        })
    }

    async fn application(&self, name: &str) -> Result<Option<ApplicationRecord>, DirectoryError> {
        reading!(self, |client| applications::get(&client, name).await?)
    }

    async fn applications(&self) -> Result<Vec<ApplicationRecord>, DirectoryError> {
        reading!(self, |client| applications::all(&client).await?)
    }

    async fn assign(&self, application: &str, assignment: Assignment, actor: &Actor) -> Result<(), DirectoryError> {
        writing!(self, |transaction, written| {
            applications::assign(&transaction, &mut written, application, &assignment, actor).await?;
        })
    }

    async fn unassign(&self, application: &str, principal: &ObjectId, actor: &Actor) -> Result<(), DirectoryError> {
        writing!(self, |transaction, written| {
            applications::unassign(&transaction, &mut written, application, principal, actor).await?;
        })
    }

    async fn assignments(&self, application: &str) -> Result<Vec<Assignment>, DirectoryError> {
        reading!(self, |client| applications::assignments(&client, application).await?)
    }

    async fn set_password(&self, user: &ObjectId, password_hash: &str, actor: &Actor) -> Result<(), DirectoryError> {
        writing!(self, |transaction, written| {
            access::set_password(&transaction, &mut written, user, password_hash, actor).await?;
        })
    }

    async fn password_hash(&self, user: &ObjectId) -> Result<Option<String>, DirectoryError> {
        reading!(self, |client| access::password_hash(&client, user).await?)
    }

    async fn add_role(&self, user: &ObjectId, role: &Role, actor: &Actor) -> Result<(), DirectoryError> {
        writing!(self, |transaction, written| {
            access::change_role(&transaction, &mut written, user, role, true, actor).await?;
        })
    }

    async fn remove_role(&self, user: &ObjectId, role: &Role, actor: &Actor) -> Result<(), DirectoryError> {
        writing!(self, |transaction, written| {
            access::change_role(&transaction, &mut written, user, role, false, actor).await?;
        })
    }

    async fn roles(&self, user: &ObjectId) -> Result<Vec<Role>, DirectoryError> {
        reading!(self, |client| access::roles(&client, user).await?)
    }

    async fn role_members(&self) -> Result<Vec<(ObjectId, Role)>, DirectoryError> {
        reading!(self, |client| access::role_members(&client).await?)
    }

    async fn create_admin_token(&self, token: &AdminToken, actor: &Actor) -> Result<(), DirectoryError> {
        let row = TokenRow::new(token)?;
        writing!(self, |transaction, written| {
            access::create_token(&transaction, &mut written, token, &row, actor).await?;
        })
    }

    async fn admin_tokens(&self) -> Result<Vec<AdminToken>, DirectoryError> {
        reading!(self, |client| access::tokens(&client).await?)
    }

    async fn admin_token_by_digest(&self, digest: &[u8; 32]) -> Result<Option<AdminToken>, DirectoryError> {
        reading!(self, |client| access::token_by_digest(&client, digest).await?)
    }

    async fn revoke_admin_token(&self, name: &str, actor: &Actor) -> Result<(), DirectoryError> {
        writing!(self, |transaction, written| access::revoke_token(&transaction, &mut written, name, actor).await?)
    }

    // Sessions are not directory changes: one statement each, autocommitted, without the change log's lock.
    async fn create_session(&self, session: &PortalSession) -> Result<(), DirectoryError> {
        let row = SessionRow::new(session)?;
        reading!(self, |client| access::create_session(&client, &row, &session.user).await?)
    }

    async fn session_by_digest(&self, digest: &[u8; 32]) -> Result<Option<PortalSession>, DirectoryError> {
        reading!(self, |client| access::session_by_digest(&client, digest).await?)
    }

    async fn touch_session(&self, digest: &[u8; 32], seen: OffsetDateTime) -> Result<bool, DirectoryError> {
        let seen = millis(seen)?;
        reading!(self, |client| access::touch_session(&client, digest, seen).await?)
    }

    async fn delete_session(&self, digest: &[u8; 32]) -> Result<bool, DirectoryError> {
        reading!(self, |client| access::delete_session(&client, digest).await?)
    }

    async fn delete_user_sessions(&self, user: &ObjectId) -> Result<usize, DirectoryError> {
        reading!(self, |client| access::delete_user_sessions(&client, user).await?)
    }

    async fn prune_sessions(&self, idle_before: OffsetDateTime, now: OffsetDateTime) -> Result<usize, DirectoryError> {
        let (idle_before, now) = (millis(idle_before)?, millis(now)?);
        reading!(self, |client| access::prune_sessions(&client, idle_before, now).await?)
    }

    async fn append_audit(&self, entries: &[AuditEntry]) -> Result<(), DirectoryError> {
        if entries.is_empty() {
            return Ok(());
        }
        let rows = AuditRow::all(entries)?;
        // One statement per 5,000 entries: a transaction, so that they are appended all or none.
        let work = async {
            let mut client = self.client().await?;
            let transaction = client.transaction().await?;
            audit::append(&transaction, &rows).await?;
            transaction.commit().await?;
            Ok(())
        };
        work.await.map_err(directory_error)
    }

    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, DirectoryError> {
        let range = AuditRange::new(query)?;
        reading!(self, |client| audit::query(&client, &range).await?)
    }

    async fn prune_audit(&self, before: OffsetDateTime) -> Result<u64, DirectoryError> {
        let bound = prune_bound(before)?;
        let work = async { audit::prune(&self.client().await?, bound).await };
        work.await.map_err(directory_error)
    }
}

/// The port's error for a failure (see the module documentation).
fn directory_error(failure: Failure) -> DirectoryError {
    match failure {
        Failure::Directory(error) => error,
        Failure::Conflict(message) => DirectoryError::Conflict(message),
        other => DirectoryError::Backend(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postgres::to_millis;

    #[test]
    fn answers_of_the_port_pass_through_and_the_rest_are_backend_errors() {
        let not_found = Failure::Directory(DirectoryError::NotFound { kind: "user", id: "x".into() });
        assert!(matches!(directory_error(not_found), DirectoryError::NotFound { kind: "user", .. }));
        assert!(
            matches!(directory_error(Failure::Conflict("taken".into())), DirectoryError::Conflict(m) if m == "taken")
        );
        assert!(matches!(directory_error(Failure::Corrupt("bad".into())), DirectoryError::Backend(m) if m == "bad"));
    }

    #[test]
    fn millis_round_trip() {
        assert_eq!(from_millis(1_700_000_000_123).map(|at| to_millis(at).ok()).ok().flatten(), Some(1_700_000_000_123));
    }
}

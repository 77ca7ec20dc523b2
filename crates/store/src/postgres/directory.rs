//! [`DirectoryStore`] on PostgreSQL: the directory's users, groups, memberships, applications, assignments and
//! change log (tables of migration `0002_directory.sql`), with the same answers as SQLite's.
//!
//! Writes: each runs in one transaction that first takes the change log's advisory lock ([`changes::lock`]), so
//! directory writes are serialized (as on SQLite, which has one writer) and the log's sequence numbers become
//! visible in order: a reader that saw number 11 never finds 10 appear later. A write collects the changes it
//! makes in order and appends them to the log just before its commit ([`changes::append`]), so the log and the
//! tables never disagree. Reads run on a pooled connection, each in one statement (one snapshot): a group with
//! its members is one query.
//!
//! Layout: [`import`] (the bulk upsert), [`objects`] (lifecycle, memberships, deletions and reads of users and
//! groups), [`applications`] (applications and assignments), [`changes`] (the log, its lock and the JSON
//! conversions).
//!
//! Errors: the port's own answers (not found, conflict, invalid) travel as [`Failure::Directory`] and come out as
//! they are; a broken rule detected by SQL is [`DirectoryError::Conflict`]; everything else is
//! [`DirectoryError::Backend`].

mod applications;
mod changes;
mod import;
mod objects;

use async_trait::async_trait;
use roster_directory::port::{
    ApplicationRecord, Assignment, Change, DirectoryError, DirectoryStore, ImportSummary, Lifecycle, Seq,
};
use roster_directory::{Directory, Group, ObjectId, User};
use serde_json::Value;
use time::OffsetDateTime;

use super::{Failure, PgStore, from_millis, to_millis};

/// Runs a write: a transaction on a pooled connection, the change log's lock, the body (which pushes its changes
/// onto `$log`), the log's rows, the commit. Any error drops the transaction, which rolls it back.
macro_rules! writing {
    ($store:expr, |$transaction:ident, $log:ident| $body:expr) => {{
        let work = async {
            let mut client = $store.client().await?;
            let $transaction = client.transaction().await?;
            changes::lock(&$transaction).await?;
            let mut $log: Vec<roster_directory::port::Changed> = Vec::new();
            let value = $body;
            changes::append(&$transaction, &$log).await?;
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
    async fn import(&self, directory: Directory, at: OffsetDateTime) -> Result<ImportSummary, DirectoryError> {
        // Serializing 100,000 users takes a while: it happens before the write, off the async runtime, so that the
        // change log's lock is held only for the SQL.
        let prepared = tokio::task::spawn_blocking(move || import::prepare(directory))
            .await
            .map_err(|error| DirectoryError::Backend(format!("preparing the import failed: {error}")))?
            .map_err(directory_error)?;
        let at = to_millis(at).map_err(directory_error)?;
        writing!(self, |transaction, log| import::import(&transaction, &prepared, at, &mut log).await?)
    }

    async fn set_lifecycle(
        &self,
        user: &ObjectId,
        change: Lifecycle,
        at: OffsetDateTime,
    ) -> Result<(), DirectoryError> {
        writing!(self, |transaction, log| objects::set_lifecycle(&transaction, &mut log, user, change, at).await?)
    }

    async fn delete_group(&self, group: &ObjectId) -> Result<(), DirectoryError> {
        writing!(self, |transaction, log| objects::delete_group(&transaction, &mut log, group).await?)
    }

    async fn add_member(&self, group: &ObjectId, member: &ObjectId) -> Result<(), DirectoryError> {
        writing!(self, |transaction, log| objects::add_member(&transaction, &mut log, group, member).await?)
    }

    async fn remove_member(&self, group: &ObjectId, member: &ObjectId) -> Result<(), DirectoryError> {
        writing!(self, |transaction, log| objects::remove_member(&transaction, &mut log, group, member).await?)
    }

    async fn user(&self, id: &ObjectId) -> Result<Option<User>, DirectoryError> {
        reading!(self, |client| objects::user(&client, id).await?)
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
        at: OffsetDateTime,
    ) -> Result<(), DirectoryError> {
        let at = to_millis(at).map_err(directory_error)?;
        writing!(self, |transaction, log| {
            applications::put(&transaction, &mut log, name, &definition, sealed_secret.as_deref(), at).await?;
        })
    }

    async fn application(&self, name: &str) -> Result<Option<ApplicationRecord>, DirectoryError> {
        reading!(self, |client| applications::get(&client, name).await?)
    }

    async fn applications(&self) -> Result<Vec<ApplicationRecord>, DirectoryError> {
        reading!(self, |client| applications::all(&client).await?)
    }

    async fn assign(&self, application: &str, assignment: Assignment) -> Result<(), DirectoryError> {
        writing!(self, |transaction, log| applications::assign(&transaction, &mut log, application, &assignment)
            .await?)
    }

    async fn unassign(&self, application: &str, principal: &ObjectId) -> Result<(), DirectoryError> {
        writing!(self, |transaction, log| applications::unassign(&transaction, &mut log, application, principal)
            .await?)
    }

    async fn assignments(&self, application: &str) -> Result<Vec<Assignment>, DirectoryError> {
        reading!(self, |client| applications::assignments(&client, application).await?)
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

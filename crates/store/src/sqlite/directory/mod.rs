//! [`DirectoryStore`] on SQLite: the directory's users, groups, memberships, applications, assignments and change
//! log (tables in `migrations/sqlite/0003_directory.sql`).
//!
//! A user or group is kept as its Microsoft Graph JSON (`roster_directory::export`), so that reading one back is
//! parsing one text, and an import tells an unchanged user by comparing that text with the stored one. Every
//! write appends its change-log rows in its own savepoint of the writer's transaction ([`changes::append`]), so
//! the log and the tables never disagree, and the log's sequence numbers become visible to readers in order: the
//! single writer hands them out and commits them together.
//!
//! Layout: [`import`] (the bulk upsert), [`objects`] (lifecycle, memberships, deletions and reads of users and
//! groups), [`applications`] (applications and assignments), [`changes`] (the log and the JSON conversions).

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

use super::{SqliteStore, blocking, in_read_transaction, to_millis};

#[async_trait]
impl DirectoryStore for SqliteStore {
    async fn import(&self, directory: Directory, at: OffsetDateTime) -> Result<ImportSummary, DirectoryError> {
        // Serializing 100,000 users takes a while: it happens before the write, off the writer thread and off the
        // async runtime, so that the writer is held only for the SQL.
        let prepared = blocking::<_, DirectoryError, _>(move || Ok(crate::directory_rows::prepare(directory)?)).await?;
        let at = to_millis(at)?;
        self.write_as(move |connection| import::import(connection, &prepared, at)).await
    }

    async fn set_lifecycle(
        &self,
        user: &ObjectId,
        change: Lifecycle,
        at: OffsetDateTime,
    ) -> Result<(), DirectoryError> {
        let user = user.clone();
        self.write_as(move |connection| objects::set_lifecycle(connection, &user, change, at)).await
    }

    async fn delete_group(&self, group: &ObjectId) -> Result<(), DirectoryError> {
        let group = group.clone();
        self.write_as(move |connection| objects::delete_group(connection, &group)).await
    }

    async fn add_member(&self, group: &ObjectId, member: &ObjectId) -> Result<(), DirectoryError> {
        let (group, member) = (group.clone(), member.clone());
        self.write_as(move |connection| objects::add_member(connection, &group, &member)).await
    }

    async fn remove_member(&self, group: &ObjectId, member: &ObjectId) -> Result<(), DirectoryError> {
        let (group, member) = (group.clone(), member.clone());
        self.write_as(move |connection| objects::remove_member(connection, &group, &member)).await
    }

    async fn user(&self, id: &ObjectId) -> Result<Option<User>, DirectoryError> {
        let id = id.clone();
        self.point_read_as(move |connection| objects::user(connection, &id)).await
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
        at: OffsetDateTime,
    ) -> Result<(), DirectoryError> {
        let name = name.to_owned();
        let at = to_millis(at)?;
        self.write_as(move |connection| applications::put(connection, &name, &definition, sealed_secret.as_deref(), at))
            .await
    }

    async fn application(&self, name: &str) -> Result<Option<ApplicationRecord>, DirectoryError> {
        let name = name.to_owned();
        self.point_read_as(move |connection| applications::get(connection, &name)).await
    }

    async fn applications(&self) -> Result<Vec<ApplicationRecord>, DirectoryError> {
        self.read_as(applications::all).await
    }

    async fn assign(&self, application: &str, assignment: Assignment) -> Result<(), DirectoryError> {
        let application = application.to_owned();
        self.write_as(move |connection| applications::assign(connection, &application, &assignment)).await
    }

    async fn unassign(&self, application: &str, principal: &ObjectId) -> Result<(), DirectoryError> {
        let (application, principal) = (application.to_owned(), principal.clone());
        self.write_as(move |connection| applications::unassign(connection, &application, &principal)).await
    }

    async fn assignments(&self, application: &str) -> Result<Vec<Assignment>, DirectoryError> {
        let application = application.to_owned();
        self.read_as(move |connection| {
            in_read_transaction(connection, |connection| applications::assignments(connection, &application))
        })
        .await
    }
}

/// A `limit` as SQL takes it (a `usize` beyond `i64` is as good as no limit).
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

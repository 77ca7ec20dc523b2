//! [`ResourceStore`] on PostgreSQL: users, groups and memberships (tables of migration `0003_scim_provider.sql`).
//! Rows are read and written in [`rows`], memberships in [`members`], lists in [`super::query`].
//!
//! Every write is one transaction on a pooled connection; dropping an unfinished one rolls it back, so an error
//! changes nothing. Several nodes write at once, so the rules are kept by the database, not by a read in Rust:
//! - `update` locks the row (`SELECT ... FOR NO KEY UPDATE`) before it reads it for the closure: a concurrent
//!   update of the same resource, from any node, waits until this one commits and then reads its result, so no
//!   read-modify-write loses an update. `NO KEY UPDATE` is the lock PostgreSQL's own `UPDATE` takes (renames too:
//!   the attributes' unique indexes are partial, so they are not the row's key, see the migration): it excludes
//!   other updaters and deleters but not the `FOR KEY SHARE` of a transaction adding this resource as a member of
//!   another group, so two groups gaining each other as members at once do not deadlock;
//! - `delete` locks the row `FOR UPDATE`, which waits for transactions adding it as a member (see [`members`]) and
//!   then removes their rows too;
//! - uniqueness is the unique constraints' and indexes', whose names say the attribute (`rows::conflict`).
//!
//! Reads of more than one statement (a resource with its relations, a list) run in one `REPEATABLE READ`
//! read-only transaction, so that a group's version and its members, or a page and its total, agree. A read of
//! one statement (a resource without relations, a list by a unique key) runs without one.

mod members;
mod rows;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use roster_provider::port::{
    CheckFn, MembershipChange, NewResource, Page, Relations, ResourceKind, ResourceQuery, ResourceStore, StoreError,
    StoredResource, UpdateFn,
};
use roster_provider::tenant::EnterpriseId;
use tokio_postgres::IsolationLevel;

use super::{Failure, PgStore, store_error};
use crate::listing;
use crate::provider_rows::{self, Keyed};

pub(super) use members::load_relations;
use rows::{insert, rewrite};
pub(super) use rows::{read_row, table_and_columns};

/// Runs a write: a transaction on a pooled connection, the body, the commit. Any error drops the transaction,
/// which rolls it back.
macro_rules! writing {
    ($store:expr, |$transaction:ident| $body:expr) => {{
        let work = async {
            let mut client = $store.client().await?;
            let $transaction = client.transaction().await?;
            let value = $body;
            $transaction.commit().await?;
            Ok::<_, Failure>(value)
        };
        work.await.map_err(store_error)
    }};
}

/// Runs a read of several statements in one snapshot: a `REPEATABLE READ`, read-only transaction.
macro_rules! reading {
    ($store:expr, |$transaction:ident| $body:expr) => {{
        let work = async {
            let mut client = $store.client().await?;
            let $transaction = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let value = $body;
            $transaction.commit().await?;
            Ok::<_, Failure>(value)
        };
        work.await.map_err(store_error)
    }};
}

#[async_trait]
impl ResourceStore for PgStore {
    async fn create(
        &self,
        enterprise: EnterpriseId,
        kind: ResourceKind,
        new: NewResource,
        relations: Relations,
    ) -> Result<StoredResource, StoreError> {
        writing!(self, |transaction| {
            let (stored, members) = provider_rows::created(kind, new)?;
            let pk = insert(&transaction, enterprise, kind, &stored).await?;
            match kind {
                ResourceKind::Group => {
                    let add = MembershipChange::Delta { add: members, remove: Vec::new() };
                    members::change(&transaction, enterprise, pk, add).await?;
                    with_relations(&transaction, kind, pk, stored, relations).await?
                }
                // Nobody else sees the new user before the commit: it belongs to no group.
                ResourceKind::User => StoredResource { groups: relations.load.then(Vec::new), ..stored },
            }
        })
    }

    async fn get(
        &self,
        enterprise: EnterpriseId,
        kind: ResourceKind,
        id: &str,
        relations: Relations,
    ) -> Result<Option<StoredResource>, StoreError> {
        if !relations.load {
            let work = async {
                let client = self.client().await?;
                Ok(current(&client, enterprise, kind, id, Lock::None).await?.map(|(_, stored)| stored))
            };
            return work.await.map_err(store_error);
        }
        reading!(self, |transaction| {
            match current(&transaction, enterprise, kind, id, Lock::None).await? {
                Some((pk, stored)) => Some(with_relations(&transaction, kind, pk, stored, relations).await?),
                None => None,
            }
        })
    }

    async fn query(
        &self,
        enterprise: EnterpriseId,
        kind: ResourceKind,
        query: &ResourceQuery,
    ) -> Result<Page, StoreError> {
        if let Some(pre) = listing::single_candidate(kind, query) {
            let work = async {
                let client = self.client().await?;
                super::query::single(&client, enterprise, kind, &pre, query).await
            };
            return work.await.map_err(store_error);
        }
        reading!(self, |transaction| super::query::answer(&transaction, enterprise, kind, query).await?)
    }

    async fn update(
        &self,
        enterprise: EnterpriseId,
        kind: ResourceKind,
        id: &str,
        load_members: bool,
        change: UpdateFn,
        relations: Relations,
    ) -> Result<StoredResource, StoreError> {
        writing!(self, |transaction| {
            let (pk, mut current) =
                current(&transaction, enterprise, kind, id, Lock::Update).await?.ok_or(StoreError::NotFound)?;
            if kind == ResourceKind::Group && load_members {
                current = with_relations(&transaction, kind, pk, current, Relations { load: true }).await?;
            }
            let update = change(&current).map_err(StoreError::Rejected)?;
            let (stored, members) = provider_rows::updated(kind, &current, update)?;
            rewrite(&transaction, kind, pk, &stored).await?;
            members::change(&transaction, enterprise, pk, members).await?;
            with_relations(&transaction, kind, pk, stored, relations).await?
        })
    }

    async fn delete(
        &self,
        enterprise: EnterpriseId,
        kind: ResourceKind,
        id: &str,
        check: CheckFn,
    ) -> Result<(), StoreError> {
        writing!(self, |transaction| {
            let (pk, current) =
                current(&transaction, enterprise, kind, id, Lock::Delete).await?.ok_or(StoreError::NotFound)?;
            check(&current).map_err(StoreError::Rejected)?;
            // Memberships go with the row: as a member here, as a group through the foreign key.
            let sql = match kind {
                ResourceKind::User => {
                    "WITH gone AS (DELETE FROM scim_memberships WHERE member_kind = 0 AND member_pk = $1) \
                     DELETE FROM scim_users WHERE pk = $1"
                }
                ResourceKind::Group => {
                    "WITH gone AS (DELETE FROM scim_memberships WHERE member_kind = 1 AND member_pk = $1) \
                     DELETE FROM scim_groups WHERE pk = $1"
                }
            };
            let statement = transaction.prepare_cached(sql).await?;
            transaction.execute(&statement, &[&pk]).await?;
        })
    }
}

/// The row lock [`current`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lock {
    /// None: a plain read.
    None,
    /// `FOR NO KEY UPDATE`, to change the row (see the module documentation).
    Update,
    /// `FOR UPDATE`, to delete it.
    Delete,
}

/// The resource with this id, and its key, locked as asked.
async fn current(
    client: &impl GenericClient,
    enterprise: EnterpriseId,
    kind: ResourceKind,
    id: &str,
    lock: Lock,
) -> Result<Option<Keyed>, Failure> {
    // A `text` column cannot hold U+0000, and PostgreSQL refuses it as a parameter: no resource has such an id.
    if id.contains('\0') {
        return Ok(None);
    }
    let (table, columns) = table_and_columns(kind);
    let lock = match lock {
        Lock::None => "",
        Lock::Update => " FOR NO KEY UPDATE",
        Lock::Delete => " FOR UPDATE",
    };
    let statement = client
        .prepare_cached(&format!("SELECT {columns} FROM {table} WHERE enterprise_id = $1 AND id = $2{lock}"))
        .await?;
    let row = client.query_opt(&statement, &[&enterprise.0, &id]).await?;
    row.as_ref().map(read_row).transpose()
}

/// The resource with its relations loaded when asked (`Some`, possibly empty), else as it is.
async fn with_relations(
    client: &impl GenericClient,
    kind: ResourceKind,
    pk: i64,
    stored: StoredResource,
    relations: Relations,
) -> Result<StoredResource, Failure> {
    if !relations.load {
        return Ok(stored);
    }
    let mut one = [(pk, stored)];
    load_relations(client, kind, &mut one).await?;
    let [(_, loaded)] = one;
    Ok(loaded)
}

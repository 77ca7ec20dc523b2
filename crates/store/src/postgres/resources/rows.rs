//! The rows of `scim_users` and `scim_groups`: reading them into resources, and writing them with the columns
//! derived from the attributes (`bytea` holding UTF-8, see the migration), uniqueness violations named by
//! attribute.

use deadpool_postgres::GenericClient;
use roster_provider::port::{ResourceKind, StoreError, StoredResource};
use roster_provider::tenant::EnterpriseId;
use time::OffsetDateTime;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::columns::{self, Derived, fold};
use crate::postgres::{Failure, foreign_key_violation, to_millis, unique_violation};
use crate::provider_rows::{self, Keyed, ResourceRow};

/// The columns every resource row is read with, in the order [`read_row`] expects.
pub(in crate::postgres) const USER_COLUMNS: &str = "pk, id, data, created, last_modified, version, login";
pub(in crate::postgres) const GROUP_COLUMNS: &str = "pk, id, data, created, last_modified, version, NULL::bytea";

/// The table of a kind, and the columns its rows are read with.
pub(in crate::postgres) fn table_and_columns(kind: ResourceKind) -> (&'static str, &'static str) {
    match kind {
        ResourceKind::User => ("scim_users", USER_COLUMNS),
        ResourceKind::Group => ("scim_groups", GROUP_COLUMNS),
    }
}

/// Reads a row of [`USER_COLUMNS`] or [`GROUP_COLUMNS`] into its key and the resource (without relations).
pub(in crate::postgres) fn read_row(row: &Row) -> Result<Keyed, Failure> {
    let login: Option<&[u8]> = row.try_get(6)?;
    let resource = ResourceRow {
        id: row.try_get(1)?,
        data: row.try_get(2)?,
        created: row.try_get(3)?,
        last_modified: row.try_get(4)?,
        version: row.try_get(5)?,
        login: login.map(|bytes| utf8(bytes, "a login")).transpose()?,
    }
    .into_resource()?;
    Ok((row.try_get(0)?, resource))
}

/// The text of a `bytea` column, which holds UTF-8.
pub(in crate::postgres) fn utf8(bytes: &[u8], what: &str) -> Result<String, Failure> {
    String::from_utf8(bytes.to_vec()).map_err(|error| Failure::corrupt(format!("{what} that is not UTF-8: {error}")))
}

/// Inserts a row: users, groups (the order of [`kind_index`]).
const INSERT: [&str; 2] = [
    "INSERT INTO scim_users (enterprise_id, id, user_name, user_name_folded, external_id, display_name, \
     display_name_folded, login, login_folded, active, data, created, last_modified, version) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13) RETURNING pk",
    "INSERT INTO scim_groups (enterprise_id, id, external_id, display_name, display_name_folded, data, created, \
     last_modified, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING pk",
];

/// Rewrites a row: users, groups. PostgreSQL compares the old and new values itself: when no indexed column
/// changes (most PATCHes), the update leaves the indexes alone (a HOT update, given room in the page).
const UPDATE: [&str; 2] = [
    "UPDATE scim_users SET user_name = $3, user_name_folded = $4, external_id = $5, display_name = $6, \
     display_name_folded = $7, login = $8, login_folded = $9, active = $10, data = $11, last_modified = $12, \
     version = $13 WHERE pk = $1 AND id = $2",
    "UPDATE scim_groups SET external_id = $3, display_name = $4, display_name_folded = $5, data = $6, \
     last_modified = $7, version = $8 WHERE pk = $1 AND id = $2",
];

fn kind_index(kind: ResourceKind) -> usize {
    match kind {
        ResourceKind::User => 0,
        ResourceKind::Group => 1,
    }
}

/// Inserts a resource; returns its key.
pub(super) async fn insert(
    client: &impl GenericClient,
    enterprise: EnterpriseId,
    kind: ResourceKind,
    stored: &StoredResource,
) -> Result<i64, Failure> {
    let values = RowValues::new(kind, enterprise.0, stored, stored.created)?;
    let statement = client.prepare_cached(INSERT[kind_index(kind)]).await?;
    match client.query_one(&statement, &values.params(kind)).await {
        Ok(row) => Ok(row.try_get(0)?),
        Err(error) if foreign_key_violation(&error) => Err(StoreError::NotFound.into()),
        Err(error) => Err(conflict(error, &stored.id, &values.derived)),
    }
}

/// Writes the new state of a resource.
pub(super) async fn rewrite(
    client: &impl GenericClient,
    kind: ResourceKind,
    pk: i64,
    stored: &StoredResource,
) -> Result<(), Failure> {
    let values = RowValues::new(kind, pk, stored, stored.last_modified)?;
    let statement = client.prepare_cached(UPDATE[kind_index(kind)]).await?;
    match client.execute(&statement, &values.params(kind)).await {
        Ok(_) => Ok(()),
        Err(error) => Err(conflict(error, &stored.id, &values.derived)),
    }
}

/// A resource's row as bound to [`INSERT`] and [`UPDATE`], which share their parameters: `$1` the key (the
/// enterprise's on insert, the row's on update), `$2` the SCIM id, then the columns derived from the attributes
/// (the UTF-8 of each text, and its folded form), the attributes' JSON, the time (created and last modified on
/// insert, last modified on update) and the version.
struct RowValues<'a> {
    derived: Derived<'a>,
    key: i64,
    id: &'a str,
    user_name: Option<&'a [u8]>,
    user_name_folded: Option<Vec<u8>>,
    external_id: Option<&'a [u8]>,
    display_name: Option<&'a [u8]>,
    display_name_folded: Option<Vec<u8>>,
    login: Option<&'a [u8]>,
    login_folded: Option<Vec<u8>>,
    active: Option<bool>,
    data: String,
    time: i64,
    version: i64,
}

impl<'a> RowValues<'a> {
    fn new(kind: ResourceKind, key: i64, stored: &'a StoredResource, at: OffsetDateTime) -> Result<Self, Failure> {
        let derived = Derived::of(kind, &stored.attributes, stored.login.as_deref());
        let folded = |value: Option<&str>| value.map(|value| fold(value).into_bytes());
        Ok(RowValues {
            key,
            id: &stored.id,
            user_name: derived.user_name.map(str::as_bytes),
            user_name_folded: folded(derived.user_name),
            external_id: derived.external_id.map(str::as_bytes),
            display_name: derived.display_name.map(str::as_bytes),
            display_name_folded: folded(derived.display_name),
            login: derived.login.map(str::as_bytes),
            login_folded: folded(derived.login),
            active: derived.active,
            data: provider_rows::data_json(&stored.attributes)?,
            time: to_millis(at)?,
            version: stored.version,
            derived,
        })
    }

    /// The parameters of the kind's [`INSERT`] or [`UPDATE`].
    fn params(&self, kind: ResourceKind) -> Vec<&(dyn ToSql + Sync)> {
        match kind {
            ResourceKind::User => vec![
                &self.key,
                &self.id,
                &self.user_name,
                &self.user_name_folded,
                &self.external_id,
                &self.display_name,
                &self.display_name_folded,
                &self.login,
                &self.login_folded,
                &self.active,
                &self.data,
                &self.time,
                &self.version,
            ],
            ResourceKind::Group => vec![
                &self.key,
                &self.id,
                &self.external_id,
                &self.display_name,
                &self.display_name_folded,
                &self.data,
                &self.time,
                &self.version,
            ],
        }
    }
}

/// Maps a uniqueness violation to the SCIM attribute and value it concerns: the constraint's name is the table's
/// and the column's (`scim_users_user_name_folded`).
fn conflict(error: tokio_postgres::Error, id: &str, derived: &Derived<'_>) -> Failure {
    let column = unique_violation(&error)
        .and_then(|name| name.strip_prefix("scim_users_").or_else(|| name.strip_prefix("scim_groups_")));
    match column.and_then(|column| columns::conflict(column, id, derived)) {
        Some(conflict) => conflict.into(),
        None => error.into(),
    }
}

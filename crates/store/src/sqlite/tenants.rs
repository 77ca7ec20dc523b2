//! [`TenantStore`] on SQLite: enterprises and token digests.

use async_trait::async_trait;
use roster_provider::port::{StoreError, TenantStore};
use roster_provider::tenant::{
    Enterprise, EnterpriseId, EnterpriseSlug, Profile, Scope, Shortcode, TokenHash, TokenRecord,
};
use rusqlite::{OptionalExtension, Row, params};
use time::OffsetDateTime;

use super::{SqliteStore, unique_violation};
use crate::provider_rows::{EnterpriseRow, TokenRow, scopes_text, to_millis, token_conflict};

#[async_trait]
impl TenantStore for SqliteStore {
    async fn create_enterprise(
        &self,
        slug: &EnterpriseSlug,
        shortcode: &Shortcode,
        profile: Profile,
    ) -> Result<Enterprise, StoreError> {
        let (slug, shortcode) = (slug.clone(), shortcode.clone());
        self.write(move |connection| {
            let inserted = connection
                .prepare_cached("INSERT INTO scim_enterprises (slug, shortcode, profile) VALUES (?1, ?2, ?3)")?
                .execute(params![slug.as_str(), shortcode.as_str(), profile.as_str()]);
            if let Err(error) = inserted {
                return Err(match unique_violation(&error) {
                    Some(columns) if columns.ends_with(".slug") => {
                        StoreError::Conflict { attribute: "slug", value: slug.as_str().to_owned() }.into()
                    }
                    Some(columns) if columns.ends_with(".shortcode") => {
                        StoreError::Conflict { attribute: "shortcode", value: shortcode.as_str().to_owned() }.into()
                    }
                    _ => error.into(),
                });
            }
            let id = EnterpriseId(connection.last_insert_rowid());
            Ok(Enterprise { id, slug, shortcode, profile })
        })
        .await
    }

    async fn enterprise(&self, slug: &EnterpriseSlug) -> Result<Option<Enterprise>, StoreError> {
        let slug = slug.clone();
        self.point_read(move |connection| {
            let row = connection
                .prepare_cached("SELECT id, slug, shortcode, profile FROM scim_enterprises WHERE slug = ?1")?
                .query_row([slug.as_str()], enterprise_columns)
                .optional()?;
            Ok(row.map(EnterpriseRow::into_enterprise).transpose()?)
        })
        .await
    }

    async fn enterprises(&self) -> Result<Vec<Enterprise>, StoreError> {
        self.read(|connection| {
            let mut statement =
                connection.prepare_cached("SELECT id, slug, shortcode, profile FROM scim_enterprises ORDER BY slug")?;
            let rows = statement.query_map([], enterprise_columns)?;
            rows.map(|row| Ok(row?.into_enterprise()?)).collect()
        })
        .await
    }

    async fn create_token(
        &self,
        enterprise: EnterpriseId,
        name: &str,
        scopes: &[Scope],
        hash: TokenHash,
    ) -> Result<i64, StoreError> {
        let name = name.to_owned();
        let scopes = scopes_text(scopes);
        self.write(move |connection| {
            let inserted = connection
                .prepare_cached("INSERT INTO scim_tokens (enterprise_id, name, scopes, hash) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![enterprise.0, name, scopes, hash.0.as_slice()]);
            if let Err(error) = inserted {
                if super::foreign_key_violation(&error) {
                    return Err(StoreError::NotFound.into());
                }
                return Err(match unique_violation(&error) {
                    Some(_) => token_conflict(&hash).into(),
                    None => error.into(),
                });
            }
            let id = connection.last_insert_rowid();
            Ok(id)
        })
        .await
    }

    async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        let hash = *hash;
        self.point_read(move |connection| {
            let row = connection
                .prepare_cached(
                    "SELECT t.id, t.name, t.scopes, t.hash, t.created, t.revoked, t.last_used, e.id, e.slug, e.shortcode, e.profile \
                     FROM scim_tokens t JOIN scim_enterprises e ON e.id = t.enterprise_id WHERE t.hash = ?1",
                )?
                .query_row([hash.0.as_slice()], token_columns)
                .optional()?;
            Ok(row.map(TokenRow::into_record).transpose()?)
        })
        .await
    }

    async fn tokens(&self, enterprise: EnterpriseId) -> Result<Vec<TokenRecord>, StoreError> {
        self.read(move |connection| {
            let mut statement = connection.prepare_cached(
                "SELECT t.id, t.name, t.scopes, t.hash, t.created, t.revoked, t.last_used, e.id, e.slug, e.shortcode, e.profile \
                 FROM scim_tokens t JOIN scim_enterprises e ON e.id = t.enterprise_id \
                 WHERE t.enterprise_id = ?1 ORDER BY t.id",
            )?;
            let rows = statement.query_map([enterprise.0], token_columns)?;
            rows.map(|row| Ok(row?.into_record()?)).collect()
        })
        .await
    }

    async fn revoke_token(&self, enterprise: EnterpriseId, token_id: i64) -> Result<(), StoreError> {
        self.write(move |connection| {
            let changed = connection
                .prepare_cached(
                    "UPDATE scim_tokens SET revoked = coalesce(revoked, CAST(unixepoch('subsec') * 1000 AS INTEGER)) \
                     WHERE enterprise_id = ?1 AND id = ?2",
                )?
                .execute(params![enterprise.0, token_id])?;
            if changed == 0 {
                return Err(StoreError::NotFound.into());
            }
            Ok(())
        })
        .await
    }

    async fn touch_token(&self, token_id: i64, at: OffsetDateTime) -> Result<(), StoreError> {
        let at = to_millis(at)?;
        self.write(move |connection| {
            connection
                .prepare_cached(
                    "UPDATE scim_tokens SET last_used = ?2 WHERE id = ?1 AND (last_used IS NULL OR last_used < ?2)",
                )?
                .execute(params![token_id, at])?;
            Ok(())
        })
        .await
    }
}

fn enterprise_columns(row: &Row<'_>) -> rusqlite::Result<EnterpriseRow> {
    Ok(EnterpriseRow { id: row.get(0)?, slug: row.get(1)?, shortcode: row.get(2)?, profile: row.get(3)? })
}

fn token_columns(row: &Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok(TokenRow {
        id: row.get(0)?,
        name: row.get(1)?,
        scopes: row.get(2)?,
        hash: row.get(3)?,
        created: row.get(4)?,
        revoked: row.get(5)?,
        last_used: row.get(6)?,
        enterprise: EnterpriseRow { id: row.get(7)?, slug: row.get(8)?, shortcode: row.get(9)?, profile: row.get(10)? },
    })
}

//! [`TenantStore`] on PostgreSQL: enterprises and token digests (tables of migration `0003_scim_provider.sql`).
//! Each method is one statement; the unique constraints decide conflicts between nodes.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use roster_provider::port::{StoreError, TenantStore};
use roster_provider::tenant::{
    Enterprise, EnterpriseId, EnterpriseSlug, Profile, Scope, Shortcode, TokenHash, TokenRecord,
};
use time::OffsetDateTime;
use tokio_postgres::Row;

use super::{Failure, PgStore, foreign_key_violation, store_error, unique_violation};
use crate::provider_rows::{EnterpriseRow, TokenRow, scopes_text, to_millis, token_conflict};

/// A token with its enterprise, in the columns [`token_row`] reads.
const TOKEN: &str = "SELECT t.id, t.name, t.scopes, t.hash, t.created, t.revoked, t.last_used, e.id, e.slug, \
    e.shortcode, e.profile FROM scim_tokens t JOIN scim_enterprises e ON e.id = t.enterprise_id";

#[async_trait]
impl TenantStore for PgStore {
    async fn create_enterprise(
        &self,
        slug: &EnterpriseSlug,
        shortcode: &Shortcode,
        profile: Profile,
    ) -> Result<Enterprise, StoreError> {
        let work = async {
            let client = self.client().await?;
            let statement = client
                .prepare_cached(
                    "INSERT INTO scim_enterprises (slug, shortcode, profile) VALUES ($1, $2, $3) RETURNING id",
                )
                .await?;
            let inserted =
                client.query_one(&statement, &[&slug.as_str(), &shortcode.as_str(), &profile.as_str()]).await;
            let row = match inserted {
                Ok(row) => row,
                Err(error) => {
                    let (attribute, value) = match unique_violation(&error) {
                        Some("scim_enterprises_slug") => ("slug", slug.as_str()),
                        Some("scim_enterprises_shortcode") => ("shortcode", shortcode.as_str()),
                        _ => return Err(error.into()),
                    };
                    return Err(StoreError::Conflict { attribute, value: value.to_owned() }.into());
                }
            };
            let id = EnterpriseId(row.try_get(0)?);
            Ok(Enterprise { id, slug: slug.clone(), shortcode: shortcode.clone(), profile })
        };
        work.await.map_err(store_error)
    }

    async fn enterprise(&self, slug: &EnterpriseSlug) -> Result<Option<Enterprise>, StoreError> {
        let work = async {
            let client = self.client().await?;
            let statement = client
                .prepare_cached("SELECT id, slug, shortcode, profile FROM scim_enterprises WHERE slug = $1")
                .await?;
            let row = client.query_opt(&statement, &[&slug.as_str()]).await?;
            row.as_ref().map(enterprise).transpose()
        };
        work.await.map_err(store_error)
    }

    async fn enterprises(&self) -> Result<Vec<Enterprise>, StoreError> {
        let work = async {
            let client = self.client().await?;
            let statement = client
                .prepare_cached("SELECT id, slug, shortcode, profile FROM scim_enterprises ORDER BY slug")
                .await?;
            let rows = client.query(&statement, &[]).await?;
            rows.iter().map(enterprise).collect::<Result<Vec<_>, _>>()
        };
        work.await.map_err(store_error)
    }

    async fn create_token(
        &self,
        enterprise: EnterpriseId,
        name: &str,
        scopes: &[Scope],
        hash: TokenHash,
    ) -> Result<i64, StoreError> {
        let work = async {
            let client = self.client().await?;
            let statement = client
                .prepare_cached(
                    "INSERT INTO scim_tokens (enterprise_id, name, scopes, hash) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .await?;
            let inserted =
                client.query_one(&statement, &[&enterprise.0, &name, &scopes_text(scopes), &hash.0.as_slice()]).await;
            match inserted {
                Ok(row) => Ok(row.try_get(0)?),
                Err(error) if foreign_key_violation(&error) => Err(StoreError::NotFound.into()),
                Err(error) if unique_violation(&error).is_some() => Err(token_conflict(&hash).into()),
                Err(error) => Err(error.into()),
            }
        };
        work.await.map_err(store_error)
    }

    async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        let work = async {
            let client = self.client().await?;
            let statement = client.prepare_cached(&format!("{TOKEN} WHERE t.hash = $1")).await?;
            let row = client.query_opt(&statement, &[&hash.0.as_slice()]).await?;
            row.as_ref().map(token).transpose()
        };
        work.await.map_err(store_error)
    }

    async fn tokens(&self, enterprise: EnterpriseId) -> Result<Vec<TokenRecord>, StoreError> {
        let work = async {
            let client = self.client().await?;
            let statement = client.prepare_cached(&format!("{TOKEN} WHERE t.enterprise_id = $1 ORDER BY t.id")).await?;
            let rows = client.query(&statement, &[&enterprise.0]).await?;
            rows.iter().map(token).collect::<Result<Vec<_>, _>>()
        };
        work.await.map_err(store_error)
    }

    async fn revoke_token(&self, enterprise: EnterpriseId, token_id: i64) -> Result<(), StoreError> {
        let work = async {
            let client = self.client().await?;
            revoke(&client, enterprise, token_id).await
        };
        work.await.map_err(store_error)
    }
    async fn touch_token(&self, token_id: i64, at: OffsetDateTime) -> Result<(), StoreError> {
        let at = to_millis(at)?;
        let work = async {
            let client = self.client().await?;
            let statement = client
                .prepare_cached(
                    "UPDATE scim_tokens SET last_used = $2 WHERE id = $1 AND (last_used IS NULL OR last_used < $2)",
                )
                .await?;
            client.execute(&statement, &[&token_id, &at]).await?;
            Ok(())
        };
        work.await.map_err(store_error)
    }
}

/// Revokes a token (a revoked one keeps its first revocation time); `NotFound` when the enterprise has no such
/// token.
async fn revoke(client: &impl GenericClient, enterprise: EnterpriseId, token_id: i64) -> Result<(), Failure> {
    let statement = client
        .prepare_cached(
            "UPDATE scim_tokens SET revoked = coalesce(revoked, floor(extract(epoch FROM now()) * 1000)::bigint) \
             WHERE enterprise_id = $1 AND id = $2",
        )
        .await?;
    if client.execute(&statement, &[&enterprise.0, &token_id]).await? == 0 {
        return Err(StoreError::NotFound.into());
    }
    Ok(())
}

/// The enterprise of a row of id, slug, shortcode and profile.
fn enterprise(row: &Row) -> Result<Enterprise, Failure> {
    Ok(enterprise_row(row, 0)?.into_enterprise()?)
}

/// The token of a row of [`TOKEN`].
fn token(row: &Row) -> Result<TokenRecord, Failure> {
    Ok(token_row(row)?.into_record()?)
}

/// The enterprise in the four columns from `first` on: id, slug, shortcode, profile.
fn enterprise_row(row: &Row, first: usize) -> Result<EnterpriseRow, Failure> {
    Ok(EnterpriseRow {
        id: row.try_get(first)?,
        slug: row.try_get(first + 1)?,
        shortcode: row.try_get(first + 2)?,
        profile: row.try_get(first + 3)?,
    })
}

/// A row of [`TOKEN`].
fn token_row(row: &Row) -> Result<TokenRow, Failure> {
    Ok(TokenRow {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        scopes: row.try_get(2)?,
        hash: row.try_get(3)?,
        created: row.try_get(4)?,
        revoked: row.try_get(5)?,
        last_used: row.try_get(6)?,
        enterprise: enterprise_row(row, 7)?,
    })
}

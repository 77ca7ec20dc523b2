//! Administrative operations behind `roster enterprise ...` and `roster token ...`: roster's own service
//! provider's enterprises and their tokens. The enterprises live in the provider's store, so their audit entries
//! are written right after the change (not in its transaction, unlike the directory's).

use anyhow::{Context, anyhow};
pub use roster_provider::tenant::{Enterprise, Profile, TokenRecord};
use roster_provider::tenant::{EnterpriseSlug, Scope, Shortcode, issue_token};

use roster_directory::audit::{AuditEntry, Category, TargetResource};

use crate::{Actor, ServiceError, Stores};

/// A provider store's error with its kind.
fn store_error(error: roster_provider::port::StoreError) -> anyhow::Error {
    use roster_provider::port::StoreError;
    match error {
        StoreError::NotFound => ServiceError::not_found("not found"),
        StoreError::Conflict { .. } => ServiceError::conflict(error.to_string()),
        other => anyhow!("{other}"),
    }
}

/// A parse error of a slug, shortcode or scope, as a bad request.
fn invalid(error: &roster_provider::tenant::TenantError) -> anyhow::Error {
    ServiceError::invalid(error.to_string())
}

/// Writes the audit entry of a change of an enterprise or its tokens.
async fn audit(stores: &Stores, entry: AuditEntry) -> anyhow::Result<()> {
    stores.directory.append_audit(&[entry]).await.context("the change was made, but its audit entry was not written")
}

/// Creates an enterprise with GitHub EMU's rules.
pub async fn create_enterprise(
    stores: &Stores,
    actor: &Actor,
    slug: &str,
    shortcode: &str,
) -> anyhow::Result<Enterprise> {
    create_enterprise_with_profile(stores, actor, slug, shortcode, Profile::GithubEmu).await
}

/// Creates an enterprise with the given rules.
pub async fn create_enterprise_with_profile(
    stores: &Stores,
    actor: &Actor,
    slug: &str,
    shortcode: &str,
    profile: Profile,
) -> anyhow::Result<Enterprise> {
    let slug = EnterpriseSlug::parse(slug).map_err(|error| invalid(&error))?;
    let shortcode = Shortcode::parse(shortcode).map_err(|error| invalid(&error))?;
    let enterprise = stores.tenants.create_enterprise(&slug, &shortcode, profile).await.map_err(store_error)?;
    let target = TargetResource::new("Other", slug.as_str(), slug.as_str());
    audit(stores, AuditEntry::new(actor, "Add enterprise", Category::Other, "Add", target)).await?;
    Ok(enterprise)
}

/// Lists the enterprises.
pub async fn enterprises(stores: &Stores) -> anyhow::Result<Vec<Enterprise>> {
    stores.tenants.enterprises().await.map_err(store_error)
}

/// Finds an enterprise by slug, with an error that says what exists.
pub async fn enterprise(stores: &Stores, slug: &str) -> anyhow::Result<Enterprise> {
    let parsed = EnterpriseSlug::parse(slug).map_err(|_| ServiceError::not_found(format!("no enterprise {slug:?}")))?;
    stores.tenants.enterprise(&parsed).await.map_err(store_error)?.ok_or_else(|| {
        ServiceError::not_found(format!(
            "no enterprise {slug:?}; create it with `roster enterprise create {slug} --shortcode CODE`"
        ))
    })
}

/// The longest name of a token, in characters.
pub const MAX_TOKEN_NAME: usize = 100;

/// Issues a token for an enterprise and returns its secret (shown once, stored hashed).
pub async fn create_token(
    stores: &Stores,
    actor: &Actor,
    slug: &str,
    name: &str,
    scopes: &[String],
) -> anyhow::Result<String> {
    Ok(issue(stores, actor, slug, name, scopes).await?.secret)
}

/// A token just issued: its id, and its secret, which is shown this once and stored only as a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// Its id among the enterprise's tokens.
    pub id: i64,
    /// The secret.
    pub secret: String,
}

/// Issues a token for an enterprise (`scopes` empty: `scim:enterprise`), as [`create_token`], with its id.
pub async fn issue(
    stores: &Stores,
    actor: &Actor,
    slug: &str,
    name: &str,
    scopes: &[String],
) -> anyhow::Result<NewToken> {
    if name.trim().is_empty() || name.chars().count() > MAX_TOKEN_NAME || name.chars().any(char::is_control) {
        return Err(ServiceError::invalid(format!(
            "token name {name:?}: give 1 to {MAX_TOKEN_NAME} characters (no control characters) to recognise it by"
        )));
    }
    let enterprise = enterprise(stores, slug).await?;
    let scopes = if scopes.is_empty() {
        vec![Scope::ScimEnterprise]
    } else {
        scopes
            .iter()
            .map(|scope| Scope::parse(scope))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| invalid(&error))?
    };
    let issued = issue_token();
    let id = stores.tenants.create_token(enterprise.id, name, &scopes, issued.hash).await.map_err(store_error)?;
    let target = TargetResource::new("Other", slug, slug);
    let entry =
        AuditEntry::new(actor, "Add enterprise token", Category::Other, "Add", target).with_detail("token", name);
    audit(stores, entry).await?;
    Ok(NewToken { id, secret: issued.secret })
}

/// Lists an enterprise's tokens (never their secrets).
pub async fn tokens(stores: &Stores, slug: &str) -> anyhow::Result<Vec<TokenRecord>> {
    tokens_of(stores, &enterprise(stores, slug).await?).await
}

/// Lists the tokens of an enterprise already read (never their secrets).
pub async fn tokens_of(stores: &Stores, enterprise: &Enterprise) -> anyhow::Result<Vec<TokenRecord>> {
    stores.tenants.tokens(enterprise.id).await.map_err(store_error)
}

/// Revokes a token.
pub async fn revoke_token(stores: &Stores, actor: &Actor, slug: &str, token_id: i64) -> anyhow::Result<()> {
    let enterprise = enterprise(stores, slug).await?;
    stores
        .tenants
        .revoke_token(enterprise.id, token_id)
        .await
        .map_err(store_error)
        .with_context(|| format!("could not revoke token {token_id} of {slug}"))?;
    let target = TargetResource::new("Other", slug, slug);
    let entry = AuditEntry::new(actor, "Revoke enterprise token", Category::Other, "Delete", target)
        .with_detail("token", token_id.to_string());
    audit(stores, entry).await
}

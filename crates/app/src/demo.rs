//! `roster serve --demo`: on first start, everything the Entra tutorial sets up, on one machine:
//! - a directory of 300 synthetic people in 12 groups (reproducible: the same seed every time);
//! - the enterprise `octo-corp` (shortcode `octo`) in roster's own service provider, with a token;
//! - the application `github` from the `github-emu` template, pointed at that enterprise with that token, with
//!   four groups and one enterprise owner assigned, and provisioning on;
//! - a Global Administrator who signs in to the portal, `admin@octo-corp.example`, whose password is in
//!   `demo-admin-password` in the data directory (made on first start, mode 0600).
//!
//! The scheduler then runs the initial cycle at once and an incremental one every two minutes. On later starts
//! the demo keeps its data and only points the application at the address the server listens on now.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use roster_directory::generate::{Directory, GenerateOptions};
use roster_directory::port::{Assignment, PrincipalKind};
use roster_engine::definition::RateLimit;
use roster_engine::templates;
use roster_provider::tenant::EnterpriseSlug;
use time::OffsetDateTime;

use crate::secrets::SecretKey;
use crate::{Actor, Initiator, Stores, access, admin, provisioning};

/// The demo enterprise's slug.
pub const SLUG: &str = "octo-corp";
/// The demo enterprise's shortcode.
pub const SHORTCODE: &str = "octo";
/// The demo application's name.
pub const APPLICATION: &str = "github";
/// The demo admin's user principal name.
pub const ADMIN: &str = "admin@octo-corp.example";

/// What the demo set up.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The file holding the demo token (written on first start, mode 0600).
    pub token_file: PathBuf,
    /// The token.
    pub token: String,
    /// The SCIM base URL of the demo enterprise, which the demo application provisions into.
    pub tenant_url: String,
    /// The file holding the demo admin's password (mode 0600).
    pub admin_password_file: PathBuf,
}

/// Seeds the demo on first start; on later starts, reads the token back and points the application at `origin`
/// (`http://host:port` of this server).
pub async fn seed(stores: &Stores, data_dir: &Path, origin: &str) -> anyhow::Result<Demo> {
    let token_file = data_dir.join("demo-token");
    let tenant_url = format!("{origin}/scim/v2/enterprises/{SLUG}");
    let key = SecretKey::load(data_dir)?;
    let actor = Actor::new(Initiator::system(), OffsetDateTime::now_utc());
    let slug = EnterpriseSlug::parse(SLUG)?;
    let admin_password_file = ensure_admin(stores, data_dir, &actor).await?;
    if stores.tenants.enterprise(&slug).await.map_err(|e| anyhow!("{e}"))?.is_some() {
        let token = std::fs::read_to_string(&token_file)
            .with_context(|| format!("the demo was seeded before but {} is missing", token_file.display()))?;
        let mut definition = provisioning::definition(stores, APPLICATION).await?;
        if definition.target.tenant_url != tenant_url {
            definition.target.tenant_url.clone_from(&tenant_url);
            provisioning::put(stores, &key, &actor, definition, None, None).await?;
        }
        return Ok(Demo { token_file, token: token.trim().to_owned(), tenant_url, admin_password_file });
    }
    admin::create_enterprise(stores, &actor, SLUG, SHORTCODE).await?;
    let token = admin::create_token(stores, &actor, SLUG, "demo", &[]).await?;
    write_secret(&token_file, &token)?;

    let directory = Directory::generate(&GenerateOptions { users: 300, groups: 12, members_per_group: 25, seed: 2026 });
    stores.directory.import(directory.clone(), &actor).await?;

    let mut definition = templates::github_emu(APPLICATION, &tenant_url);
    // The target is this very server: no need for GitHub's rate budget, and a short interval shows incremental
    // cycles while one watches.
    definition.target.rate_limit = RateLimit::Unlimited;
    definition.interval = std::time::Duration::from_secs(120);
    provisioning::put(stores, &key, &actor, definition, Some(&token), None).await?;
    for group in directory.groups.iter().take(4) {
        let assignment = Assignment { principal: group.id().clone(), kind: PrincipalKind::Group, role: None };
        stores.directory.assign(APPLICATION, assignment, &actor).await?;
    }
    if let Some(owner) = directory.users.first() {
        let role = Some("enterprise_owner".to_owned());
        stores
            .directory
            .assign(APPLICATION, Assignment { principal: owner.id().clone(), kind: PrincipalKind::User, role }, &actor)
            .await?;
    }
    Ok(Demo { token_file, token, tenant_url, admin_password_file })
}

/// Makes the demo admin, a Global Administrator, with the password in `demo-admin-password` (made on first start;
/// a data directory seeded before the portal existed gets the admin now). Returns the password file.
async fn ensure_admin(stores: &Stores, data_dir: &Path, actor: &Actor) -> anyhow::Result<PathBuf> {
    let file = data_dir.join("demo-admin-password");
    let password = match std::fs::read_to_string(&file) {
        Ok(text) => text.trim().to_owned(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let password = hex::encode(rand::random::<[u8; 16]>());
            write_secret(&file, &password)?;
            password
        }
        Err(error) => return Err(error).with_context(|| format!("could not read {}", file.display())),
    };
    match crate::directory::user_by_upn(stores, ADMIN).await? {
        Some(user) => {
            if stores.directory.password_hash(user.id()).await?.is_none() {
                access::set_password(stores, actor, user.id().as_str(), &password).await?;
            }
        }
        None => {
            access::create_admin(stores, actor, ADMIN, Some("Demo Admin"), &password).await?;
        }
    }
    Ok(file)
}

fn write_secret(path: &Path, secret: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| format!("could not write {}", path.display()))?;
    writeln!(file, "{secret}").with_context(|| format!("could not write {}", path.display()))
}

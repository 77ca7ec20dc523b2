//! `roster serve --demo`: on first start, an enterprise `octo-corp` (shortcode `octo`) with a token and a few
//! users and a group, provisioned through the service provider as an identity provider would.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use roster_provider::port::{Relations, ResourceKind};
use roster_provider::tenant::EnterpriseSlug;
use roster_provider::{Limits, TenantStore};
use serde_json::json;

use crate::{Stores, admin};

/// The demo enterprise's slug.
pub const SLUG: &str = "octo-corp";
/// The demo enterprise's shortcode.
pub const SHORTCODE: &str = "octo";

/// What the demo set up.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The file holding the demo token (written on first start, mode 0600).
    pub token_file: PathBuf,
    /// The token.
    pub token: String,
}

/// Seeds the demo data on first start; on later starts, reads the token back from the data directory.
pub async fn seed(stores: &Stores, data_dir: &Path) -> anyhow::Result<Demo> {
    let token_file = data_dir.join("demo-token");
    let slug = EnterpriseSlug::parse(SLUG)?;
    if stores.sqlite.enterprise(&slug).await.map_err(|e| anyhow!("{e}"))?.is_some() {
        let token = std::fs::read_to_string(&token_file)
            .with_context(|| format!("the demo was seeded before but {} is missing", token_file.display()))?;
        return Ok(Demo { token_file, token: token.trim().to_owned() });
    }
    let enterprise = admin::create_enterprise(stores, SLUG, SHORTCODE).await?;
    let token = admin::create_token(stores, SLUG, "demo", &[]).await?;
    write_secret(&token_file, &token)?;
    let provider = stores.provider(Limits::default());
    let people = [
        ("Mona", "Octocat", "mona@octo-corp.example"),
        ("Hubot", "Robot", "hubot@octo-corp.example"),
        ("Ada", "Lovelace", "ada@octo-corp.example"),
    ];
    let mut ids = Vec::new();
    for (index, (given, family, mail)) in people.iter().enumerate() {
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "externalId": format!("00000000-0000-4000-8000-00000000000{index}"),
            "userName": mail,
            "displayName": format!("{given} {family}"),
            "name": {"givenName": given, "familyName": family, "formatted": format!("{given} {family}")},
            "emails": [{"value": mail, "type": "work", "primary": true}],
            "roles": [{"value": "user", "primary": false}],
            "active": true,
        });
        let created = provider.create(&enterprise, ResourceKind::User, &user, Relations::default()).await?;
        ids.push(created.id);
    }
    let members: Vec<_> = ids.iter().map(|id| json!({"value": id})).collect();
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "externalId": "00000000-0000-4000-8000-0000000000aa",
        "displayName": "Engineering",
        "members": members,
    });
    provider.create(&enterprise, ResourceKind::Group, &group, Relations::default()).await?;
    Ok(Demo { token_file, token })
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

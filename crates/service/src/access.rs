//! Who may administer roster, and how they prove it: passwords of directory users (Argon2id), directory roles,
//! admin API tokens (stored as SHA-256 digests, compared in constant time), and the [`Principal`] a request acts
//! as, with what its roles allow ([`Permission`]).

use anyhow::{Context, anyhow};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use roster_directory::access::{AdminToken, Role};
use roster_directory::audit::Initiator;
use roster_directory::{ObjectId, User, UserPrincipalName};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::{Actor, ServiceError, Stores};

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 12;
/// The longest password accepted (Argon2 takes any length; this bounds the work one request can ask for).
pub const MAX_PASSWORD: usize = 256;

/// The prefix of admin API tokens, so that secret scanners and people recognise them.
pub const TOKEN_PREFIX: &str = "roster_at_";

/// Hashes a password with Argon2id (the crate's default parameters, a random salt), as a PHC string.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    check_password(password)?;
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|error| anyhow!("salt: {error}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| anyhow!("could not hash the password: {error}"))
}

/// Whether `password` matches a PHC string made by [`hash_password`]. A damaged hash matches nothing.
pub fn verify_password(hash: &str, password: &str) -> bool {
    if password.len() > MAX_PASSWORD {
        return false;
    }
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

fn check_password(password: &str) -> anyhow::Result<()> {
    let length = password.chars().count();
    if length < MIN_PASSWORD {
        return Err(ServiceError::invalid(format!("a password needs at least {MIN_PASSWORD} characters")));
    }
    if password.len() > MAX_PASSWORD {
        return Err(ServiceError::invalid(format!("a password has at most {MAX_PASSWORD} bytes")));
    }
    if password.trim() != password {
        return Err(ServiceError::invalid("a password does not begin or end with white space"));
    }
    Ok(())
}

/// Sets a directory user's password; the user's portal sessions end (whoever knew the old one is signed out).
pub async fn set_password(stores: &Stores, actor: &Actor, user: &str, password: &str) -> anyhow::Result<()> {
    let id = ObjectId::parse(user)?;
    let hash = tokio::task::spawn_blocking({
        let password = password.to_owned();
        move || hash_password(&password)
    })
    .await
    .context("the hashing task failed")??;
    stores.directory.set_password(&id, &hash, actor).await?;
    stores.directory.delete_user_sessions(&id).await?;
    Ok(())
}

/// `roster admin create`: a new directory user who is a Global Administrator, with a password. Returns the user.
pub async fn create_admin(
    stores: &Stores,
    actor: &Actor,
    upn: &str,
    display_name: Option<&str>,
    password: &str,
) -> anyhow::Result<User> {
    create_admin_with_role(stores, actor, upn, display_name, password, "global-administrator").await
}

/// A new directory user with a password and one directory role (`role` as [`Role::parse`] reads it): the portal's
/// Create admin. The role and the password are checked before anything is written.
pub async fn create_admin_with_role(
    stores: &Stores,
    actor: &Actor,
    upn: &str,
    display_name: Option<&str>,
    password: &str,
    role: &str,
) -> anyhow::Result<User> {
    check_password(password)?;
    let role = parse_role(stores, role).await?;
    let upn = UserPrincipalName::parse(upn).map_err(|error| ServiceError::invalid(error.to_string()))?;
    let mut user = User::new(ObjectId::parse(&roster_directory::audit::new_id())?, upn.clone());
    user.display_name = Some(display_name.unwrap_or(upn.local_part()).to_owned());
    user.mail_nickname = Some(upn.local_part().to_owned());
    user.mail = Some(upn.as_str().to_owned());
    let existing = crate::directory::user_by_upn(stores, upn.as_str()).await?;
    if existing.is_some() {
        return Err(ServiceError::conflict(format!(
            "a user {upn} exists already: give it the role with `roster directory user add-role ID global-administrator`"
        )));
    }
    let directory = roster_directory::Directory { users: vec![user.clone()], groups: Vec::new() };
    stores.directory.import(directory, actor).await?;
    set_password(stores, actor, user.id().as_str(), password).await?;
    stores.directory.add_role(user.id(), &role, actor).await?;
    Ok(user)
}

/// Parses a role and checks that an application it names exists.
pub async fn parse_role(stores: &Stores, text: &str) -> anyhow::Result<Role> {
    let role = Role::parse(text).map_err(|error| ServiceError::invalid(error.to_string()))?;
    if let Role::ApplicationOwner(application) = &role
        && stores.directory.application(application).await?.is_none()
    {
        return Err(ServiceError::not_found(format!("application {application} does not exist")));
    }
    Ok(role)
}

/// Gives a user a role.
pub async fn add_role(stores: &Stores, actor: &Actor, user: &str, role: &str) -> anyhow::Result<Role> {
    let role = parse_role(stores, role).await?;
    stores.directory.add_role(&ObjectId::parse(user)?, &role, actor).await?;
    Ok(role)
}

/// Takes a role from a user. A user may not take their own Global Administrator role when no other user who can
/// sign in (enabled, not deleted) holds it: nobody would be left to manage roles but the command line.
pub async fn remove_role(stores: &Stores, actor: &Actor, user: &str, role: &str) -> anyhow::Result<Role> {
    let role = Role::parse(role).map_err(|error| ServiceError::invalid(error.to_string()))?;
    let id = ObjectId::parse(user).map_err(|error| ServiceError::invalid(format!("{user:?}: {error}")))?;
    let own = matches!(&actor.initiator, Initiator::User { id: actor_id, .. } if actor_id == id.as_str());
    if own && role == Role::GlobalAdministrator {
        let mut others = false;
        for (holder, held) in stores.directory.role_members().await? {
            if held != Role::GlobalAdministrator || holder == id {
                continue;
            }
            // Only one who can sign in counts.
            if let Some(user) = stores.directory.user(&holder).await?
                && user.account_enabled
                && user.deleted_date_time.is_none()
            {
                others = true;
                break;
            }
        }
        if !others {
            return Err(ServiceError::conflict(
                "you are the last Global Administrator: removing your own role would leave nobody to manage roles \
                 and admin tokens; give another admin the Global Administrator role first",
            ));
        }
    }
    stores.directory.remove_role(&id, &role, actor).await?;
    Ok(role)
}

/// The users who hold a directory role, in object id order, each with its roles in order.
pub async fn role_holders(stores: &Stores) -> anyhow::Result<Vec<(ObjectId, Vec<Role>)>> {
    let mut holders: Vec<(ObjectId, Vec<Role>)> = Vec::new();
    for (user, role) in stores.directory.role_members().await? {
        match holders.last_mut() {
            Some((last, roles)) if *last == user => roles.push(role),
            _ => holders.push((user, vec![role])),
        }
    }
    Ok(holders)
}

/// The SHA-256 digest of a token's secret.
pub fn token_digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// `roster admin token create`: a new admin API token acting with `role`; returns its secret, shown once.
pub async fn create_token(
    stores: &Stores,
    actor: &Actor,
    name: &str,
    role: &str,
    lifetime: Option<time::Duration>,
) -> anyhow::Result<String> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err(ServiceError::invalid(format!(
            "token name {name:?}: use 1 to 64 letters, digits, '-', '_' and '.'"
        )));
    }
    let role = parse_role(stores, role).await?;
    let secret = format!("{TOKEN_PREFIX}{}", hex::encode(rand::random::<[u8; 32]>()));
    let token = AdminToken {
        name: name.to_owned(),
        id: roster_directory::audit::new_id(),
        role,
        digest: token_digest(&secret),
        created: actor.at,
        expires: lifetime.map(|lifetime| actor.at + lifetime),
    };
    stores.directory.create_admin_token(&token, actor).await?;
    Ok(secret)
}

/// The admin API tokens (never their secrets).
pub async fn tokens(stores: &Stores) -> anyhow::Result<Vec<AdminToken>> {
    Ok(stores.directory.admin_tokens().await?)
}

/// Revokes an admin API token.
pub async fn revoke_token(stores: &Stores, actor: &Actor, name: &str) -> anyhow::Result<()> {
    Ok(stores.directory.revoke_admin_token(name, actor).await?)
}

/// Who a request acts as, and with which roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// For audit entries.
    pub initiator: Initiator,
    /// What it may do.
    pub roles: Vec<Role>,
}

/// Something a principal may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission<'a> {
    /// Read users and groups.
    ReadDirectory,
    /// Create, change and delete users, groups and memberships.
    WriteDirectory,
    /// Give and take directory roles, manage admin tokens.
    ManageRoles,
    /// Create applications.
    CreateApplication,
    /// Read an application, its job's status and its provisioning logs.
    ReadApplication(&'a str),
    /// Change an application: provisioning, mappings, assignments, secrets, cycles.
    ManageApplication(&'a str),
    /// Read the audit log.
    ReadAudit,
    /// Manage roster's own service provider: enterprises and their tokens.
    ManageEnterprises,
}

impl Principal {
    /// The principal of an API token.
    pub fn of_token(token: &AdminToken) -> Principal {
        Principal {
            initiator: Initiator::App { app_id: token.id.clone(), display_name: format!("token {}", token.name) },
            roles: vec![token.role.clone()],
        }
    }

    /// The principal of a directory user with roles.
    pub fn of_user(user: &User, roles: Vec<Role>, ip_address: Option<String>) -> Principal {
        Principal {
            initiator: Initiator::User {
                id: user.id().as_str().to_owned(),
                user_principal_name: user.user_principal_name().as_str().to_owned(),
                display_name: user.display_name.clone().unwrap_or_default(),
                ip_address,
            },
            roles,
        }
    }

    /// The directory user it is, when it is one (not a token).
    pub fn user_id(&self) -> Option<ObjectId> {
        match &self.initiator {
            Initiator::User { id, .. } => ObjectId::parse(id).ok(),
            _ => None,
        }
    }

    /// An actor for one request by this principal.
    pub fn actor(&self) -> Actor {
        Actor::new(self.initiator.clone(), OffsetDateTime::now_utc())
    }

    /// Whether any of its roles allows `permission`.
    pub fn may(&self, permission: Permission<'_>) -> bool {
        self.roles.iter().any(|role| allows(role, permission))
    }

    /// `Ok` when allowed, else a Forbidden error that names the role needed.
    pub fn check(&self, permission: Permission<'_>) -> anyhow::Result<()> {
        if self.may(permission) {
            return Ok(());
        }
        Err(ServiceError::forbidden(format!(
            "{} may not {}: {}",
            self.initiator.name(),
            describe(permission),
            needed(permission)
        )))
    }

    /// Whether it sees every application (not only those it owns).
    pub fn sees_every_application(&self) -> bool {
        self.roles.iter().any(|role| {
            matches!(role, Role::GlobalAdministrator | Role::ApplicationAdministrator | Role::ReportsReader)
        })
    }
}

/// Whether one role allows a permission.
pub fn allows(role: &Role, permission: Permission<'_>) -> bool {
    use Permission as P;
    match role {
        Role::GlobalAdministrator => true,
        Role::ApplicationAdministrator => matches!(
            permission,
            P::ReadDirectory | P::CreateApplication | P::ReadApplication(_) | P::ManageApplication(_)
        ),
        Role::ReportsReader => matches!(permission, P::ReadDirectory | P::ReadApplication(_) | P::ReadAudit),
        Role::ApplicationOwner(owned) => match permission {
            P::ReadDirectory => true,
            P::ReadApplication(name) | P::ManageApplication(name) => name == owned,
            _ => false,
        },
    }
}

fn describe(permission: Permission<'_>) -> String {
    match permission {
        Permission::ReadDirectory => "read the directory".to_owned(),
        Permission::WriteDirectory => "change the directory".to_owned(),
        Permission::ManageRoles => "manage roles and admin tokens".to_owned(),
        Permission::CreateApplication => "create applications".to_owned(),
        Permission::ReadApplication(name) => format!("read application {name}"),
        Permission::ManageApplication(name) => format!("change application {name}"),
        Permission::ReadAudit => "read the audit log".to_owned(),
        Permission::ManageEnterprises => "manage enterprises".to_owned(),
    }
}

fn needed(permission: Permission<'_>) -> &'static str {
    match permission {
        Permission::WriteDirectory | Permission::ManageRoles | Permission::ManageEnterprises => {
            "this needs the Global Administrator role"
        }
        Permission::CreateApplication => "this needs the Application Administrator or Global Administrator role",
        Permission::ManageApplication(_) => {
            "this needs the Application Administrator role, or Application Owner of this application"
        }
        Permission::ReadAudit => "this needs the Reports Reader or Global Administrator role",
        Permission::ReadDirectory | Permission::ReadApplication(_) => "this needs a directory role",
    }
}

/// The principal of an admin API token's secret, if it is a live token. The lookup is by digest; the digests are
/// compared again in constant time.
pub async fn authenticate_token(
    stores: &Stores,
    secret: &str,
    now: OffsetDateTime,
) -> anyhow::Result<Option<Principal>> {
    if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
        return Ok(None);
    }
    let digest = token_digest(secret);
    let Some(token) = stores.directory.admin_token_by_digest(&digest).await? else { return Ok(None) };
    if !bool::from(token.digest.ct_eq(&digest)) || token.expires.is_some_and(|expires| expires <= now) {
        return Ok(None);
    }
    Ok(Some(Principal::of_token(&token)))
}

/// The principal of a directory user signing in with a password, if the password is right, the account enabled
/// and not deleted, and the user holds a role. Failures take as long as a check (a dummy hash is verified).
pub async fn authenticate_password(
    stores: &Stores,
    upn: &str,
    password: &str,
    ip_address: Option<String>,
) -> anyhow::Result<Option<Principal>> {
    let user = crate::directory::user_by_upn(stores, upn).await?;
    let hash = match &user {
        Some(user) => stores.directory.password_hash(user.id()).await?,
        None => None,
    };
    let password = password.to_owned();
    let verified = tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&hash, &password),
        None => {
            // The same work as a real check, so that timing does not tell which accounts exist.
            let _ = verify_password(DUMMY_HASH, &password);
            false
        }
    })
    .await
    .context("the password check failed")?;
    let Some(user) = user.filter(|user| verified && user.account_enabled && user.deleted_date_time.is_none()) else {
        return Ok(None);
    };
    let roles = stores.directory.roles(user.id()).await?;
    if roles.is_empty() {
        return Ok(None);
    }
    Ok(Some(Principal::of_user(&user, roles, ip_address)))
}

/// An Argon2id hash of a random password, verified when an account has none.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9V8o0cA9jVh5b9xuS5hUu7rPZB6bU0x5uFZbQq0oHMI";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse batterY"));
        assert!(!verify_password("not a hash", "correct horse battery"));
        assert!(hash_password("short").is_err());
        assert!(hash_password(" leading space ok?").is_err());
        assert!(!verify_password(DUMMY_HASH, "anything at all"));
    }

    #[test]
    fn roles_allow_what_entra_allows() {
        use Permission as P;
        let owner = Role::ApplicationOwner("github".to_owned());
        let permissions = [
            P::ReadDirectory,
            P::WriteDirectory,
            P::ManageRoles,
            P::CreateApplication,
            P::ReadApplication("github"),
            P::ManageApplication("github"),
            P::ManageApplication("slack"),
            P::ReadAudit,
            P::ManageEnterprises,
        ];
        let table = [
            (Role::GlobalAdministrator, [true, true, true, true, true, true, true, true, true]),
            (Role::ApplicationAdministrator, [true, false, false, true, true, true, true, false, false]),
            (Role::ReportsReader, [true, false, false, false, true, false, false, true, false]),
            (owner, [true, false, false, false, true, true, false, false, false]),
        ];
        for (role, expected) in table {
            let got = permissions.map(|permission| allows(&role, permission));
            assert_eq!(got, expected, "{role:?}");
        }
        let reader = Principal { initiator: Initiator::system(), roles: vec![Role::ReportsReader] };
        let error = reader.check(P::WriteDirectory).unwrap_err();
        assert_eq!(ServiceError::kind_of(&error), crate::ErrorKind::Forbidden);
        assert!(error.to_string().contains("Global Administrator"), "{error}");
    }
}

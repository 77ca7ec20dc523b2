//! Who may administer roster, as both backends store it, independent of the database: directory roles by their
//! key ([`Role::as_key`], read back with [`Role::parse`]), the rows of admin API tokens (their secrets only as
//! SHA-256 digests), and the audit entries of passwords, roles and tokens, with Entra's activity names.

use roster_directory::ObjectId;
use roster_directory::User;
use roster_directory::access::{AdminToken, PortalSession, Role};
use roster_directory::audit::{Actor, AuditEntry, Category, ModifiedProperty, TargetResource};
use roster_directory::port::DirectoryError;
use serde_json::Value;

use crate::corrupt::{Corrupt, parse_millis};
use crate::directory_rows::millis;

/// A role read from the database.
pub(crate) fn parse_role(text: &str) -> Result<Role, Corrupt> {
    Role::parse(text).map_err(|error| Corrupt(format!("role {text:?}: {error}")))
}

/// Refuses a password hash that is not an Argon2id PHC string (`$argon2id$...`), such as a password in clear given
/// by mistake; the error never shows it.
pub(crate) fn check_password_hash(hash: &str) -> Result<(), DirectoryError> {
    if hash.starts_with("$argon2id$") {
        Ok(())
    } else {
        Err(DirectoryError::Invalid("a password is stored only as an Argon2id PHC string ($argon2id$...)".into()))
    }
}

/// An admin token's row of `admin_tokens`.
pub(crate) struct TokenRow {
    pub(crate) name: String,
    pub(crate) id: String,
    /// [`Role::as_key`].
    pub(crate) role: String,
    pub(crate) digest: Vec<u8>,
    /// Unix milliseconds.
    pub(crate) created: i64,
    /// Unix milliseconds.
    pub(crate) expires: Option<i64>,
}

impl TokenRow {
    /// The row of a token.
    pub(crate) fn new(token: &AdminToken) -> Result<TokenRow, DirectoryError> {
        if token.name.trim().is_empty() {
            return Err(DirectoryError::Invalid("an admin token needs a name".into()));
        }
        Ok(TokenRow {
            name: token.name.clone(),
            id: token.id.clone(),
            role: token.role.as_key(),
            digest: token.digest.to_vec(),
            created: millis(token.created)?,
            expires: token.expires.map(millis).transpose()?,
        })
    }

    /// The token of a row read from the database (its times to the millisecond).
    pub(crate) fn into_token(self) -> Result<AdminToken, Corrupt> {
        let digest = <[u8; 32]>::try_from(self.digest.as_slice())
            .map_err(|_| Corrupt(format!("the digest of admin token {} is not 32 bytes", self.name)))?;
        Ok(AdminToken {
            role: parse_role(&self.role)?,
            digest,
            created: parse_millis(self.created)?,
            expires: self.expires.map(parse_millis).transpose()?,
            id: self.id,
            name: self.name,
        })
    }
}

/// The error of a token name already used.
pub(crate) fn duplicate_token(name: &str) -> DirectoryError {
    DirectoryError::Conflict(format!("an admin token named {name} already exists"))
}

/// The error of a token whose digest another token has (a secret drawn twice).
pub(crate) fn duplicate_digest(name: &str) -> DirectoryError {
    DirectoryError::Conflict(format!("admin token {name} has the secret of another token; issue a new secret"))
}

/// The error of a token name not found.
pub(crate) fn token_not_found(name: &str) -> DirectoryError {
    DirectoryError::NotFound { kind: "admin token", id: name.to_owned() }
}

/// The entry of a user's password set: "Reset password", no value shown.
pub(crate) fn password_reset(actor: &Actor, user: &User) -> AuditEntry {
    AuditEntry::new(actor, "Reset password", Category::UserManagement, "Update", TargetResource::user(user))
}

/// The entry of a role given to or taken from a user: the user, then the role.
pub(crate) fn role_changed(actor: &Actor, user: &User, role: &Role, added: bool) -> AuditEntry {
    let (activity, operation) =
        if added { ("Add member to role", "Assign") } else { ("Remove member from role", "Unassign") };
    AuditEntry::new(actor, activity, Category::RoleManagement, operation, TargetResource::user(user))
        .and_target(TargetResource::new("Role", role.as_key(), role.to_string()))
}

/// The entry of an admin token created or revoked: the token (by id and name) with its role as the modified
/// property `Role`. Never its secret or digest.
pub(crate) fn admin_token_changed(actor: &Actor, id: &str, name: &str, role: &Role, added: bool) -> AuditEntry {
    let (activity, operation) = if added {
        ("Add service principal credentials", "Add")
    } else {
        ("Remove service principal credentials", "Delete")
    };
    let shown = Some(Value::from(role.to_string()).to_string());
    let (old_value, new_value) = if added { (None, shown) } else { (shown, None) };
    let property = ModifiedProperty { display_name: "Role".to_owned(), old_value, new_value };
    let target = TargetResource::new("Other", id, name).with_properties(vec![property]);
    AuditEntry::new(actor, activity, Category::ApplicationManagement, operation, target)
}

/// A portal session's row of `portal_sessions` (times in Unix milliseconds).
pub(crate) struct SessionRow {
    pub(crate) digest: Vec<u8>,
    pub(crate) user: String,
    pub(crate) created: i64,
    pub(crate) seen: i64,
    pub(crate) expires: i64,
}

/// The columns, in [`SessionRow`]'s order.
pub(crate) const SESSION_COLUMNS: &str = "digest, user_id, created, seen, expires";

impl SessionRow {
    /// The row of a session.
    pub(crate) fn new(session: &PortalSession) -> Result<SessionRow, DirectoryError> {
        Ok(SessionRow {
            digest: session.digest.to_vec(),
            user: session.user.as_str().to_owned(),
            created: millis(session.created)?,
            seen: millis(session.seen)?,
            expires: millis(session.expires)?,
        })
    }

    /// The session of a row read from the database.
    pub(crate) fn into_session(self) -> Result<PortalSession, Corrupt> {
        let digest = <[u8; 32]>::try_from(self.digest.as_slice())
            .map_err(|_| Corrupt("the digest of a portal session is not 32 bytes".to_owned()))?;
        let user = ObjectId::parse(&self.user)
            .map_err(|error| Corrupt(format!("the user of a portal session, {:?}: {error}", self.user)))?;
        Ok(PortalSession {
            digest,
            user,
            created: parse_millis(self.created)?,
            seen: parse_millis(self.seen)?,
            expires: parse_millis(self.expires)?,
        })
    }
}

/// The error of a session whose digest another session has (a secret drawn twice).
pub(crate) fn duplicate_session() -> DirectoryError {
    DirectoryError::Conflict("a portal session with this secret already exists; draw a new secret".to_owned())
}

/// The error of a session for a user who does not exist.
pub(crate) fn session_user_not_found(user: &ObjectId) -> DirectoryError {
    DirectoryError::NotFound { kind: "user", id: user.to_string() }
}

#[cfg(test)]
mod tests {
    use roster_directory::audit::Initiator;
    use roster_directory::{ObjectId, UserPrincipalName};
    use time::OffsetDateTime;

    use super::*;

    #[test]
    fn token_rows_round_trip_to_the_millisecond() {
        let created = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        let token = AdminToken {
            name: "ci".into(),
            id: "t-1".into(),
            role: Role::ApplicationOwner("github".into()),
            digest: [7; 32],
            created,
            expires: None,
        };
        let row = TokenRow::new(&token).unwrap();
        assert_eq!(row.role, "application-owner:github");
        let back = row.into_token().unwrap();
        assert_eq!(back.created.unix_timestamp_nanos(), 1_700_000_000_123_000_000);
        assert_eq!(AdminToken { created, ..back }, token);
        let short = TokenRow { digest: vec![1; 31], ..TokenRow::new(&token).unwrap() };
        assert!(short.into_token().unwrap_err().0.contains("32 bytes"));
        assert!(TokenRow::new(&AdminToken { name: " ".into(), ..token }).is_err());
    }

    #[test]
    fn entries_name_the_user_the_role_and_the_token() {
        let actor = Actor::new(Initiator::system(), OffsetDateTime::UNIX_EPOCH);
        let user = User::new(ObjectId::from_u128(1), UserPrincipalName::parse("ada@x.example").unwrap());
        let entry = role_changed(&actor, &user, &Role::GlobalAdministrator, true);
        let targets: Vec<(&str, &str)> =
            entry.target_resources.iter().map(|target| (target.kind.as_str(), target.id.as_str())).collect();
        assert_eq!(targets, [("User", user.id().as_str()), ("Role", "global-administrator")]);
        assert_eq!(entry.category, Category::RoleManagement);
        let revoked = admin_token_changed(&actor, "t-1", "ci", &Role::ReportsReader, false);
        assert_eq!(revoked.activity_display_name, "Remove service principal credentials");
        let property = &revoked.target_resources[0].modified_properties[0];
        assert_eq!((property.old_value.as_deref(), property.new_value.as_deref()), (Some("\"Reports Reader\""), None));
        assert!(password_reset(&actor, &user).target_resources[0].modified_properties.is_empty());
        assert!(check_password_hash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").is_ok());
        let refused = check_password_hash("hunter2").unwrap_err().to_string();
        assert!(!refused.contains("hunter2"), "{refused}");
    }
}

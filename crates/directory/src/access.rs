//! Who may administer roster: directory roles with Entra's names, held by directory users, and API tokens that act
//! with one role. Pure: the store keeps them, the service layer decides with them.

use std::fmt;

use time::OffsetDateTime;

use crate::model::ObjectId;

/// A directory role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Everything.
    GlobalAdministrator,
    /// Every application, its provisioning, assignments and logs; not roles.
    ApplicationAdministrator,
    /// Reads status, provisioning logs and audit logs only.
    ReportsReader,
    /// One application (by its name), as an Application Administrator of it alone.
    ApplicationOwner(String),
}

/// A role that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role {0:?}: use global-administrator, application-administrator, reports-reader or application-owner:APPNAME"
)]
pub struct RoleError(pub String);

impl Role {
    /// Parses the command line's form: `global-administrator`, `application-administrator`, `reports-reader`,
    /// `application-owner:APPNAME`. Entra's display names ("Global Administrator") are accepted too.
    pub fn parse(text: &str) -> Result<Role, RoleError> {
        let trimmed = text.trim();
        if let Some(application) = trimmed.strip_prefix("application-owner:") {
            if application.is_empty() {
                return Err(RoleError(text.to_owned()));
            }
            return Ok(Role::ApplicationOwner(application.to_owned()));
        }
        match trimmed.to_ascii_lowercase().replace(' ', "-").as_str() {
            "global-administrator" => Ok(Role::GlobalAdministrator),
            "application-administrator" => Ok(Role::ApplicationAdministrator),
            "reports-reader" => Ok(Role::ReportsReader),
            _ => Err(RoleError(text.to_owned())),
        }
    }

    /// The command line's form, which [`Role::parse`] reads back (and the store keeps).
    pub fn as_key(&self) -> String {
        match self {
            Role::GlobalAdministrator => "global-administrator".to_owned(),
            Role::ApplicationAdministrator => "application-administrator".to_owned(),
            Role::ReportsReader => "reports-reader".to_owned(),
            Role::ApplicationOwner(application) => format!("application-owner:{application}"),
        }
    }

    /// Entra's display name.
    pub fn display_name(&self) -> &'static str {
        match self {
            Role::GlobalAdministrator => "Global Administrator",
            Role::ApplicationAdministrator => "Application Administrator",
            Role::ReportsReader => "Reports Reader",
            Role::ApplicationOwner(_) => "Application Owner",
        }
    }

    /// Entra's role template id (Application Owner has none in Entra; roster gives it one).
    pub fn template_id(&self) -> &'static str {
        match self {
            Role::GlobalAdministrator => "62e90394-69f5-4237-9190-012177145e10",
            Role::ApplicationAdministrator => "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
            Role::ReportsReader => "4a5d8f65-41da-4de4-8968-e035b65339cf",
            Role::ApplicationOwner(_) => "a0b1c2d3-0000-4000-8000-0000000000a0",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::ApplicationOwner(application) => write!(f, "Application Owner of {application}"),
            other => f.write_str(other.display_name()),
        }
    }
}

/// An admin API token as stored: its secret only as a SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminToken {
    /// Its unique name (`roster admin token revoke NAME`).
    pub name: String,
    /// Its id (a GUID), which audit entries name.
    pub id: String,
    /// The role it acts with.
    pub role: Role,
    /// SHA-256 of the secret.
    pub digest: [u8; 32],
    /// When it was created.
    pub created: OffsetDateTime,
    /// When it stops working, if ever.
    pub expires: Option<OffsetDateTime>,
}

/// A signed-in portal session as stored: the cookie holds its secret, the store only the secret's SHA-256 digest,
/// so that a copy of the database signs nobody in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    /// SHA-256 of the cookie's secret.
    pub digest: [u8; 32],
    /// The directory user signed in.
    pub user: ObjectId,
    /// When the user signed in.
    pub created: OffsetDateTime,
    /// When the session was last used (idle expiry counts from here).
    pub seen: OffsetDateTime,
    /// When it ends whatever its use (absolute expiry).
    pub expires: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_what_they_print() {
        for role in [
            Role::GlobalAdministrator,
            Role::ApplicationAdministrator,
            Role::ReportsReader,
            Role::ApplicationOwner("github".to_owned()),
        ] {
            assert_eq!(Role::parse(&role.as_key()), Ok(role.clone()));
        }
        assert_eq!(Role::parse("Global Administrator"), Ok(Role::GlobalAdministrator));
        assert!(Role::parse("application-owner:").is_err());
        assert!(Role::parse("root").unwrap_err().to_string().contains("reports-reader"));
    }
}

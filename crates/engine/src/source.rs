//! Directory objects as the expression language and the scoping filters see them: Graph attribute names, plus the
//! computed attributes Entra offers (`objectId`, `IsSoftDeleted`, `appRoleAssignments`,
//! `originalUserPrincipalName`).

use roster_directory::{ExtensionValue, Group, User};
use roster_expr::{AppRoleAssignment, Source, Value};

/// The computed attributes of a user, beside the directory's ([`roster_directory::USER_ATTRIBUTES`] and its
/// extensions), as the expression builder and the mapping editor offer them.
pub const COMPUTED_USER_ATTRIBUTES: &[&str] =
    &["objectId", "IsSoftDeleted", "appRoleAssignments", "originalUserPrincipalName"];

/// The attributes of a group, as [`GroupSource`] answers them.
pub const GROUP_ATTRIBUTES: &[&str] =
    &["objectId", "displayName", "mailNickname", "description", "securityEnabled", "IsSoftDeleted"];

/// A user being provisioned, with what the engine computed about it.
#[derive(Debug, Clone, Copy)]
pub struct UserSource<'a> {
    /// The directory user.
    pub user: &'a User,
    /// Entra's `IsSoftDeleted`: out of scope (unassigned or filtered), disabled, or soft-deleted.
    pub is_soft_deleted: bool,
    /// The user's app role assignments for the application, direct and through groups.
    pub roles: &'a [AppRoleAssignment],
}

impl Source for UserSource<'_> {
    fn attribute(&self, name: &str) -> Option<Value> {
        let user = self.user;
        if let Some(value) = user.string_attribute(name) {
            return value.as_deref().map(Value::from);
        }
        match name {
            "id" | "objectId" => Some(Value::from(user.id().as_str())),
            "userPrincipalName" => Some(Value::from(guest_principal_name(user.user_principal_name().as_str()))),
            "originalUserPrincipalName" => Some(Value::from(user.user_principal_name().as_str())),
            "IsSoftDeleted" => Some(Value::Boolean(self.is_soft_deleted)),
            "appRoleAssignments" => Some(Value::AppRoleAssignments(self.roles.to_vec())),
            "accountEnabled" => Some(Value::Boolean(user.account_enabled)),
            "businessPhones" => {
                (!user.business_phones.is_empty()).then(|| Value::strings(user.business_phones.iter().cloned()))
            }
            "manager" => user.manager.as_ref().map(|manager| Value::from(manager.as_str())),
            "deletedDateTime" => user.deleted_date_time.map(Value::DateTime),
            other => user.extensions().get(other).map(extension_value),
        }
    }
}

/// A group being provisioned.
#[derive(Debug, Clone, Copy)]
pub struct GroupSource<'a> {
    /// The directory group.
    pub group: &'a Group,
    /// Out of scope.
    pub is_soft_deleted: bool,
}

impl Source for GroupSource<'_> {
    fn attribute(&self, name: &str) -> Option<Value> {
        let group = self.group;
        match name {
            "id" | "objectId" => Some(Value::from(group.id().as_str())),
            "displayName" => Some(Value::from(group.display_name())),
            "mailNickname" => group.mail_nickname.as_deref().map(Value::from),
            "description" => group.description.as_deref().map(Value::from),
            "securityEnabled" => group.security_enabled.map(Value::Boolean),
            "IsSoftDeleted" => Some(Value::Boolean(self.is_soft_deleted)),
            _ => None,
        }
    }
}

/// Entra's rule for B2B guests: a UPN `alias_theirdomain#EXT#@yourdomain` becomes `alias@theirdomain` when used as a
/// source (the raw one stays available as `originalUserPrincipalName`). The guest's own domain is what follows the
/// last `_` before `#EXT#`.
pub fn guest_principal_name(upn: &str) -> String {
    let Some(marker) = upn.find("#EXT#@") else {
        return upn.to_owned();
    };
    let local = &upn[..marker];
    match local.rfind('_') {
        Some(split) if split > 0 && split + 1 < local.len() => format!("{}@{}", &local[..split], &local[split + 1..]),
        _ => upn.to_owned(),
    }
}

fn extension_value(value: &ExtensionValue) -> Value {
    match value {
        ExtensionValue::String(text) => Value::from(text.as_str()),
        ExtensionValue::Bool(flag) => Value::Boolean(*flag),
        ExtensionValue::Number(number) => match number.as_i64() {
            Some(integer) => Value::Number(integer),
            None => Value::String(number.to_string()),
        },
        ExtensionValue::List(items) => Value::strings(items.iter().cloned()),
    }
}

#[cfg(test)]
mod tests {
    use roster_directory::{ObjectId, UserPrincipalName};

    use super::*;

    #[test]
    fn guests_are_renamed_as_entra_does() {
        let cases = [
            ("ada_fabrikam.com#EXT#@contoso.onmicrosoft.com", "ada@fabrikam.com"),
            ("ada.lovelace_mail_fabrikam.com#EXT#@contoso.com", "ada.lovelace_mail@fabrikam.com"),
            ("ada@contoso.com", "ada@contoso.com"),
            ("_x#EXT#@contoso.com", "_x#EXT#@contoso.com"),
        ];
        for (upn, expected) in cases {
            assert_eq!(guest_principal_name(upn), expected, "{upn}");
        }
    }

    #[test]
    fn attributes_by_graph_name() {
        let mut user = User::new(ObjectId::from_u128(7), UserPrincipalName::parse("ada@contoso.com").unwrap());
        user.given_name = Some("Ada".into());
        user.business_phones = vec!["+1 555".into()];
        user.insert_extension("extension_abc_costCenter", ExtensionValue::Number(42.into())).unwrap();
        let roles = [AppRoleAssignment { id: "r".into(), value: "user".into(), display_name: "User".into() }];
        let source = UserSource { user: &user, is_soft_deleted: false, roles: &roles };
        assert_eq!(source.attribute("givenName"), Some(Value::from("Ada")));
        assert_eq!(source.attribute("surname"), None);
        assert_eq!(source.attribute("objectId"), Some(Value::from(user.id().as_str())));
        assert_eq!(source.attribute("IsSoftDeleted"), Some(Value::Boolean(false)));
        assert_eq!(source.attribute("businessPhones"), Some(Value::strings(["+1 555"])));
        assert_eq!(source.attribute("extension_abc_costCenter"), Some(Value::Number(42)));
        assert_eq!(source.attribute("appRoleAssignments"), Some(Value::AppRoleAssignments(roles.to_vec())));
    }
}

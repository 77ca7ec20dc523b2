//! The application templates: `github-emu` (the defaults of Microsoft's GitHub Enterprise Managed User (OIDC)
//! tutorial) and `scim` (Entra's default mappings for a generic SCIM application).

use crate::definition::{
    Actions, AppRole, Apply, Definition, Mapping, MappingKind, ObjectMapping, RateLimit, Scope, Target,
};

/// The template names.
pub const TEMPLATES: [&str; 2] = ["github-emu", "scim"];

/// A new application's definition from a template; `None` for an unknown template.
pub fn from_template(template: &str, name: &str, tenant_url: &str) -> Option<Definition> {
    match template {
        "github-emu" => Some(github_emu(name, tenant_url)),
        "scim" => Some(scim(name, tenant_url)),
        _ => None,
    }
}

fn map(target: &str, kind: MappingKind, source: &str) -> Mapping {
    Mapping {
        target: target.to_owned(),
        kind,
        source: Some(source.to_owned()),
        default: None,
        apply: Apply::Always,
        matching: None,
    }
}

fn matching(mut mapping: Mapping, precedence: u32) -> Mapping {
    mapping.matching = Some(precedence);
    mapping
}

fn target(tenant_url: &str, rate_limit: RateLimit) -> Target {
    Target {
        tenant_url: tenant_url.to_owned(),
        dialect: crate::definition::Dialect::Rfc,
        rate_limit,
        concurrency: 16,
        members_per_patch: 100,
        timeout_seconds: 30,
    }
}

/// GitHub Enterprise Managed Users: users matched on `externalId` (the object id, which GitHub treats as the IdP's
/// user id), `userName` from the UPN, `active` from `Not([IsSoftDeleted])`, `roles` from the app role assignments,
/// the name and the work e-mail; groups matched on `externalId`, with `displayName` and `members`. GitHub's roles
/// are the app roles; its documented rate limits are the budget.
pub fn github_emu(name: &str, tenant_url: &str) -> Definition {
    use MappingKind::{Direct, Expression};
    Definition {
        display_name: None,
        name: name.to_owned(),
        template: "github-emu".to_owned(),
        enabled: true,
        target: target(tenant_url, RateLimit::Github),
        scope: Scope::Assigned,
        include_nested_members: false,
        interval: std::time::Duration::from_secs(40 * 60),
        prevent_accidental_deletions: true,
        deletion_threshold: 500,
        retry_after: crate::escrow::RetrySchedule::default().gaps,
        notifications: crate::definition::Notifications::default(),
        app_roles: vec![
            role("27d9891d-2c17-4f45-a262-781a0e55c80a", "user", "User"),
            role("1ebc4a02-e56c-43a6-92a5-02ee09b90824", "guest_collaborator", "Guest Collaborator"),
            role("981df190-8801-4618-a08a-d91f6206c954", "enterprise_owner", "Enterprise Owner"),
            role("0e338b8c-cc7f-498a-928d-ea3470d7e7e3", "billing_manager", "Billing Manager"),
        ],
        users: objects(vec![
            matching(map("externalId", Direct, "objectId"), 1),
            map("userName", Direct, "userPrincipalName"),
            map("active", Expression, "Not([IsSoftDeleted])"),
            map("roles", Expression, "AppRoleAssignmentsComplex([appRoleAssignments])"),
            map("displayName", Direct, "displayName"),
            map("name.givenName", Direct, "givenName"),
            map("name.familyName", Direct, "surname"),
            map("name.formatted", Expression, "Join(\" \", [givenName], [surname])"),
            map("emails[type eq \"work\"].value", Expression, "Coalesce([mail], [userPrincipalName])"),
        ]),
        groups: objects(vec![
            matching(map("externalId", Direct, "objectId"), 1),
            map("displayName", Direct, "displayName"),
            map("members", Direct, "members"),
        ]),
        secret_token: None,
    }
}

/// A generic SCIM 2.0 application with Entra's default mappings: users matched on `userName` (from the UPN),
/// `externalId` from `mailNickname`, the name, title, e-mail, phones, address and enterprise attributes; groups
/// matched on `displayName`, with `externalId` from the object id and `members`.
pub fn scim(name: &str, tenant_url: &str) -> Definition {
    use MappingKind::{Direct, Expression};
    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    Definition {
        display_name: None,
        name: name.to_owned(),
        template: "scim".to_owned(),
        enabled: true,
        target: target(tenant_url, RateLimit::Unlimited),
        scope: Scope::Assigned,
        include_nested_members: false,
        interval: std::time::Duration::from_secs(40 * 60),
        prevent_accidental_deletions: true,
        deletion_threshold: 500,
        retry_after: crate::escrow::RetrySchedule::default().gaps,
        notifications: crate::definition::Notifications::default(),
        app_roles: Vec::new(),
        users: objects(vec![
            matching(map("userName", Direct, "userPrincipalName"), 1),
            map("active", Expression, "Not([IsSoftDeleted])"),
            map("displayName", Direct, "displayName"),
            map("title", Direct, "jobTitle"),
            map("emails[type eq \"work\"].value", Direct, "mail"),
            map("preferredLanguage", Direct, "preferredLanguage"),
            map("name.givenName", Direct, "givenName"),
            map("name.familyName", Direct, "surname"),
            map("name.formatted", Expression, "Join(\" \", [givenName], [surname])"),
            map("addresses[type eq \"work\"].locality", Direct, "city"),
            map("addresses[type eq \"work\"].country", Direct, "country"),
            map("phoneNumbers[type eq \"mobile\"].value", Direct, "mobilePhone"),
            map("phoneNumbers[type eq \"work\"].value", Expression, "Item([businessPhones], 1)"),
            map("externalId", Direct, "mailNickname"),
            map(&format!("{ENTERPRISE}:employeeNumber"), Direct, "employeeId"),
            map(&format!("{ENTERPRISE}:department"), Direct, "department"),
            map(&format!("{ENTERPRISE}:organization"), Direct, "companyName"),
        ]),
        groups: objects(vec![
            matching(map("displayName", Direct, "displayName"), 1),
            map("externalId", Direct, "objectId"),
            map("members", Direct, "members"),
        ]),
        secret_token: None,
    }
}

/// Provisioned, every target action allowed, no scoping filter.
fn objects(mappings: Vec<Mapping>) -> ObjectMapping {
    ObjectMapping { enabled: true, actions: Actions::default(), scoping_filters: Vec::new(), mappings }
}

fn role(id: &str, value: &str, display_name: &str) -> AppRole {
    AppRole { id: id.to_owned(), value: value.to_owned(), display_name: display_name.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::Mapper;

    #[test]
    fn templates_compile_and_round_trip() {
        for template in TEMPLATES {
            let definition = from_template(template, "app", "https://example.com/scim").unwrap();
            Mapper::compile(&definition.users.mappings).unwrap();
            let groups = Mapper::compile(&definition.groups.mappings).unwrap();
            assert!(groups.maps_members());
            let json = serde_json::to_string(&definition).unwrap();
            assert_eq!(serde_json::from_str::<Definition>(&json).unwrap(), definition);
        }
        assert!(from_template("okta", "app", "x").is_none());
    }
}

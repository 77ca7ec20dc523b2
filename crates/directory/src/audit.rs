//! The audit log: who changed what, shaped like Microsoft Graph's `directoryAudit`, with Entra's activity names.
//!
//! Every write through the directory's port (and the engine's admin writes) takes an [`Actor`]: who acts, the
//! correlation id that ties the entries of one request together, and the time. The store writes one
//! [`AuditEntry`] per object the write changed, in the same transaction as the change, built by the functions of
//! this module from the object's state before and after, so the entries of both backends are the same.
//! Secrets never appear in an entry: a changed secret shows as [`REDACTED`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::model::{Group, ObjectId, User};

/// What an entry shows instead of a secret's value.
pub const REDACTED: &str = "[redacted]";

/// Who is acting: a directory user signed in (admin API, portal), an API token, the command line on the server's
/// disk, or roster itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Initiator {
    /// A directory user.
    #[serde(rename_all = "camelCase")]
    User {
        /// The user's object id.
        id: String,
        /// The user principal name.
        user_principal_name: String,
        /// The display name.
        display_name: String,
        /// The client's address, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ip_address: Option<String>,
    },
    /// An API token or client (Graph's `app` initiator), or the command line.
    #[serde(rename_all = "camelCase")]
    App {
        /// The token's or client's id (for the command line, `roster-cli`).
        app_id: String,
        /// Its name, as an admin reads it.
        display_name: String,
    },
}

impl Initiator {
    /// The command line run on the server's disk, by the operating-system user `os_user`.
    pub fn command_line(os_user: &str) -> Initiator {
        Initiator::App { app_id: "roster-cli".to_owned(), display_name: format!("roster command line ({os_user})") }
    }

    /// roster itself (the scheduler, the demo seed).
    pub fn system() -> Initiator {
        Initiator::App { app_id: "roster".to_owned(), display_name: "roster".to_owned() }
    }

    /// A short name for tables: the UPN or the app's display name.
    pub fn name(&self) -> &str {
        match self {
            Initiator::User { user_principal_name, .. } => user_principal_name,
            Initiator::App { display_name, .. } => display_name,
        }
    }

    /// The id: the user's object id or the app's id.
    pub fn id(&self) -> &str {
        match self {
            Initiator::User { id, .. } => id,
            Initiator::App { app_id, .. } => app_id,
        }
    }
}

/// Who acts in one request, under which correlation id, at what time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Who.
    pub initiator: Initiator,
    /// Ties together the entries one request writes (a GUID).
    pub correlation_id: String,
    /// When.
    pub at: OffsetDateTime,
}

impl Actor {
    /// An actor with a fresh correlation id.
    pub fn new(initiator: Initiator, at: OffsetDateTime) -> Actor {
        Actor { initiator, correlation_id: new_id(), at }
    }
}

/// A new GUID, time-ordered (RFC 9562's version 7): 48 bits of Unix milliseconds, a 12-bit counter that orders the
/// ids made in one millisecond by this process, then 62 random bits. Audit entries written together (one change's,
/// in one transaction, at one time) therefore list in the order they were made.
pub fn new_id() -> String {
    static LAST: std::sync::Mutex<(u64, u16)> = std::sync::Mutex::new((0, 0));
    let now = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    let (millis, counter) = {
        let mut last = LAST.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *last = match *last {
            (millis, counter) if now <= millis && counter < 0xfff => (millis, counter + 1),
            (millis, _) if now <= millis => (millis + 1, 0),
            _ => (now, 0),
        };
        *last
    };
    v7(millis, counter, rand::random())
}

fn v7(millis: u64, counter: u16, random: u64) -> String {
    let value = (u128::from(millis & 0xffff_ffff_ffff) << 80)
        | (0x7 << 76)
        | (u128::from(counter & 0xfff) << 64)
        | (0x2 << 62)
        | u128::from(random >> 2);
    ObjectId::from_u128(value).as_str().to_owned()
}

/// Graph's audit categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Category {
    /// Users.
    UserManagement,
    /// Groups and memberships.
    GroupManagement,
    /// Applications, service principals, app role assignments to service principals.
    ApplicationManagement,
    /// Directory roles.
    RoleManagement,
    /// Provisioning jobs.
    ProvisioningManagement,
    /// roster's own service provider: enterprises and their tokens.
    Other,
}

impl Category {
    /// The name Graph uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::UserManagement => "UserManagement",
            Category::GroupManagement => "GroupManagement",
            Category::ApplicationManagement => "ApplicationManagement",
            Category::RoleManagement => "RoleManagement",
            Category::ProvisioningManagement => "ProvisioningManagement",
            Category::Other => "Other",
        }
    }
}

/// One changed property of a target resource. Values are JSON text, as Graph shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModifiedProperty {
    /// The property's name.
    pub display_name: String,
    /// Its value before, as JSON text (`null` when it had none).
    pub old_value: Option<String>,
    /// Its value after.
    pub new_value: Option<String>,
}

/// An object an entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetResource {
    /// Its id (object id, application name, token name).
    pub id: String,
    /// Its display name.
    pub display_name: Option<String>,
    /// `User`, `Group`, `App`, `ServicePrincipal`, `Role`, `Other`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A user's UPN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
    /// What changed.
    #[serde(default)]
    pub modified_properties: Vec<ModifiedProperty>,
}

impl TargetResource {
    /// A target of a kind with an id and display name, no properties.
    pub fn new(kind: &str, id: impl Into<String>, display_name: impl Into<String>) -> TargetResource {
        TargetResource {
            id: id.into(),
            display_name: Some(display_name.into()),
            kind: kind.to_owned(),
            user_principal_name: None,
            modified_properties: Vec::new(),
        }
    }

    /// A user as a target.
    pub fn user(user: &User) -> TargetResource {
        TargetResource {
            user_principal_name: Some(user.user_principal_name().as_str().to_owned()),
            ..TargetResource::new("User", user.id().as_str(), user.display_name.clone().unwrap_or_default())
        }
    }

    /// A group as a target.
    pub fn group(group: &Group) -> TargetResource {
        TargetResource::new("Group", group.id().as_str(), group.display_name())
    }

    /// With these modified properties.
    pub fn with_properties(mut self, properties: Vec<ModifiedProperty>) -> TargetResource {
        self.modified_properties = properties;
        self
    }
}

/// One audit log entry (Graph's `directoryAudit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Its id (a GUID).
    pub id: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub activity_date_time: OffsetDateTime,
    /// Entra's activity name, e.g. "Add user".
    pub activity_display_name: String,
    /// The category.
    pub category: Category,
    /// `Add`, `Update`, `Delete`, `Assign`, `Unassign`.
    pub operation_type: String,
    /// Ties together the entries of one request.
    pub correlation_id: String,
    /// `success` or `failure`.
    pub result: String,
    /// Why, for a failure.
    #[serde(default)]
    pub result_reason: String,
    /// Who.
    pub initiated_by: Initiator,
    /// What.
    pub target_resources: Vec<TargetResource>,
    /// More, as key and value.
    #[serde(default)]
    pub additional_details: Vec<(String, String)>,
}

impl AuditEntry {
    /// A successful entry by `actor` about `target`.
    pub fn new(
        actor: &Actor,
        activity: &str,
        category: Category,
        operation: &str,
        target: TargetResource,
    ) -> AuditEntry {
        AuditEntry {
            id: new_id(),
            activity_date_time: actor.at,
            activity_display_name: activity.to_owned(),
            category,
            operation_type: operation.to_owned(),
            correlation_id: actor.correlation_id.clone(),
            result: "success".to_owned(),
            result_reason: String::new(),
            initiated_by: actor.initiator.clone(),
            target_resources: vec![target],
            additional_details: Vec::new(),
        }
    }

    /// With another target (the member of a membership, the principal of an assignment).
    pub fn and_target(mut self, target: TargetResource) -> AuditEntry {
        self.target_resources.push(target);
        self
    }

    /// With a detail.
    pub fn with_detail(mut self, key: &str, value: impl Into<String>) -> AuditEntry {
        self.additional_details.push((key.to_owned(), value.into()));
        self
    }
}

/// The properties that differ between two JSON objects, by name (nested objects by dotted path), in name order.
/// Properties whose name is in `secret` show [`REDACTED`] on both sides.
pub fn modified_properties(
    old: Option<&Map<String, Value>>,
    new: Option<&Map<String, Value>>,
    secret: &[&str],
) -> Vec<ModifiedProperty> {
    let empty = Map::new();
    let mut changes = Vec::new();
    diff_objects("", old.unwrap_or(&empty), new.unwrap_or(&empty), secret, &mut changes);
    changes
}

fn diff_objects(
    prefix: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    secret: &[&str],
    out: &mut Vec<ModifiedProperty>,
) {
    let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
        match (old.get(name), new.get(name)) {
            (Some(Value::Object(before)), Some(Value::Object(after))) => {
                diff_objects(&path, before, after, secret, out);
            }
            (before, after) if before != after => {
                let shown = |value: Option<&Value>| match value {
                    None | Some(Value::Null) => None,
                    Some(_) if secret.contains(&name.as_str()) => Some(REDACTED.to_owned()),
                    Some(value) => Some(value.to_string()),
                };
                out.push(ModifiedProperty { display_name: path, old_value: shown(before), new_value: shown(after) });
            }
            _ => {}
        }
    }
}

/// The entry of a user created (`old` is `None`) or updated by an import or an API write; `None` when nothing
/// changed.
pub fn user_written(actor: &Actor, old: Option<&User>, new: &User) -> Option<AuditEntry> {
    let object = |user: &User| crate::export::user_to_object(user).ok();
    let before = old.and_then(object);
    let properties = modified_properties(before.as_ref(), object(new).as_ref(), &[]);
    if old.is_some() && properties.is_empty() {
        return None;
    }
    let (activity, operation) = if old.is_some() { ("Update user", "Update") } else { ("Add user", "Add") };
    Some(AuditEntry::new(
        actor,
        activity,
        Category::UserManagement,
        operation,
        TargetResource::user(new).with_properties(properties),
    ))
}

/// The entry of a group created or updated (attributes or members); `None` when nothing changed.
pub fn group_written(actor: &Actor, old: Option<&Group>, new: &Group) -> Option<AuditEntry> {
    let before = old.map(crate::export::group_to_object);
    let properties = modified_properties(before.as_ref(), Some(&crate::export::group_to_object(new)), &[]);
    if old.is_some() && properties.is_empty() {
        return None;
    }
    let (activity, operation) = if old.is_some() { ("Update group", "Update") } else { ("Add group", "Add") };
    Some(AuditEntry::new(
        actor,
        activity,
        Category::GroupManagement,
        operation,
        TargetResource::group(new).with_properties(properties),
    ))
}

/// The entry of a user's lifecycle change, from the user before it; `None` when it changes nothing.
pub fn lifecycle_changed(actor: &Actor, change: crate::port::Lifecycle, user: &User) -> Option<AuditEntry> {
    use crate::port::Lifecycle;
    let deleted = user.deleted_date_time.is_some();
    let (activity, operation, property) = match change {
        Lifecycle::Disable if user.account_enabled || deleted => {
            ("Disable account", "Update", Some(("accountEnabled", "true", "false")))
        }
        Lifecycle::Enable if !user.account_enabled || deleted => {
            ("Enable account", "Update", Some(("accountEnabled", "false", "true")))
        }
        Lifecycle::SoftDelete if !deleted => ("Delete user", "Delete", None),
        Lifecycle::Restore if deleted => ("Restore user", "Update", None),
        Lifecycle::HardDelete => ("Hard Delete user", "Delete", None),
        _ => return None,
    };
    let properties = property
        .map(|(name, old, new)| {
            vec![ModifiedProperty {
                display_name: name.to_owned(),
                old_value: Some(old.to_owned()),
                new_value: Some(new.to_owned()),
            }]
        })
        .unwrap_or_default();
    Some(AuditEntry::new(
        actor,
        activity,
        Category::UserManagement,
        operation,
        TargetResource::user(user).with_properties(properties),
    ))
}

/// The entry of a group deleted for good.
pub fn group_deleted(actor: &Actor, group: &Group) -> AuditEntry {
    AuditEntry::new(actor, "Hard Delete group", Category::GroupManagement, "Delete", TargetResource::group(group))
}

/// The entry of a member added to or removed from a group (`member` is the member's target resource).
pub fn membership_changed(actor: &Actor, group: &Group, member: TargetResource, added: bool) -> AuditEntry {
    let (activity, operation) =
        if added { ("Add member to group", "Assign") } else { ("Remove member from group", "Unassign") };
    AuditEntry::new(actor, activity, Category::GroupManagement, operation, TargetResource::group(group))
        .and_target(member)
}

/// The entry of an application's definition created or changed, under the caller's activity name (Entra's
/// provisioning activities name why). `secret_changed` adds a `SecretToken` property whose values are
/// [`REDACTED`]. `None` when nothing changed.
pub fn application_written(
    actor: &Actor,
    activity: &str,
    name: &str,
    old: Option<&Value>,
    new: &Value,
    secret_changed: bool,
) -> Option<AuditEntry> {
    let mut properties = modified_properties(old.and_then(Value::as_object), new.as_object(), &["secret_token"]);
    if secret_changed {
        properties.push(ModifiedProperty {
            display_name: "SecretToken".to_owned(),
            old_value: old.map(|_| REDACTED.to_owned()),
            new_value: Some(REDACTED.to_owned()),
        });
    }
    if old.is_some() && properties.is_empty() {
        return None;
    }
    let category = if activity.contains("provisioning") || activity == "Update attribute mappings or scope" {
        Category::ProvisioningManagement
    } else {
        Category::ApplicationManagement
    };
    let operation = if old.is_some() { "Update" } else { "Add" };
    Some(AuditEntry::new(
        actor,
        activity,
        category,
        operation,
        TargetResource::new("App", name, name).with_properties(properties),
    ))
}

/// The entry of an app role assignment of a user or group (`principal`, its target resource) to an application
/// added (or replaced) or removed, with Entra's names. `role` is the app role's value (`None`: the default access
/// role), shown as the principal's modified property `AppRole.Value`; the application is the second target, as a
/// service principal.
pub fn assignment_changed(
    actor: &Actor,
    application: &str,
    principal: TargetResource,
    role: Option<&str>,
    added: bool,
) -> AuditEntry {
    let user = principal.kind == "User";
    let (activity, category) = match (added, user) {
        (true, true) => ("Add app role assignment grant to user", Category::UserManagement),
        (true, false) => ("Add app role assignment to group", Category::GroupManagement),
        (false, true) => ("Remove app role assignment from user", Category::UserManagement),
        (false, false) => ("Remove app role assignment from group", Category::GroupManagement),
    };
    let value = role.map(|role| Value::from(role).to_string());
    let (old_value, new_value) = if added { (None, value) } else { (value, None) };
    let property = ModifiedProperty { display_name: "AppRole.Value".to_owned(), old_value, new_value };
    let operation = if added { "Assign" } else { "Unassign" };
    AuditEntry::new(actor, activity, category, operation, principal.with_properties(vec![property]))
        .and_target(TargetResource::new("ServicePrincipal", application, application))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids are version 7 GUIDs in the order they were made, within a millisecond too.
    #[test]
    fn ids_are_time_ordered() {
        let ids: Vec<String> = (0..5000).map(|_| new_id()).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "increasing");
        for id in &ids {
            assert_eq!(&id[14..15], "7", "{id}");
            assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        }
        assert_eq!(v7(0x0190_0000_0000, 5, u64::MAX), "01900000-0000-7005-bfff-ffffffffffff");
    }
    use crate::UserPrincipalName;
    use serde_json::json;

    fn actor() -> Actor {
        Actor::new(Initiator::command_line("ops"), OffsetDateTime::UNIX_EPOCH)
    }

    fn user() -> User {
        let mut user = User::new(ObjectId::from_u128(1), UserPrincipalName::parse("ada@contoso.example").unwrap());
        user.display_name = Some("Ada".to_owned());
        user
    }

    #[test]
    fn properties_are_compared_by_path_and_secrets_redacted() {
        let old = json!({"a": 1, "t": {"url": "x", "n": 2}, "secret_token": "s1"});
        let new = json!({"a": 1, "t": {"url": "y", "n": 2}, "b": true, "secret_token": "s2"});
        let changes = modified_properties(old.as_object(), new.as_object(), &["secret_token"]);
        let shown: Vec<_> = changes
            .iter()
            .map(|change| (change.display_name.as_str(), change.old_value.as_deref(), change.new_value.as_deref()))
            .collect();
        assert_eq!(
            shown,
            [
                ("b", None, Some("true")),
                ("secret_token", Some(REDACTED), Some(REDACTED)),
                ("t.url", Some("\"x\""), Some("\"y\""))
            ]
        );
    }

    #[test]
    fn user_entries_name_what_changed_and_skip_repeats() {
        let actor = actor();
        let created = user_written(&actor, None, &user()).unwrap();
        assert_eq!(created.activity_display_name, "Add user");
        assert_eq!(created.target_resources[0].user_principal_name.as_deref(), Some("ada@contoso.example"));
        assert!(user_written(&actor, Some(&user()), &user()).is_none());
        let mut renamed = user();
        renamed.display_name = Some("Ada L.".to_owned());
        let updated = user_written(&actor, Some(&user()), &renamed).unwrap();
        assert_eq!(updated.activity_display_name, "Update user");
        assert_eq!(updated.target_resources[0].modified_properties.len(), 1);
        assert_eq!(updated.target_resources[0].modified_properties[0].display_name, "displayName");
    }

    #[test]
    fn lifecycle_entries_follow_entra_names() {
        use crate::port::Lifecycle;
        let actor = actor();
        let enabled = user();
        let names = |user: &User| {
            [Lifecycle::Disable, Lifecycle::Enable, Lifecycle::SoftDelete, Lifecycle::Restore, Lifecycle::HardDelete]
                .map(|change| lifecycle_changed(&actor, change, user).map(|entry| entry.activity_display_name))
        };
        assert_eq!(
            names(&enabled),
            [
                Some("Disable account".to_owned()),
                None,
                Some("Delete user".to_owned()),
                None,
                Some("Hard Delete user".to_owned())
            ]
        );
    }

    #[test]
    fn an_application_secret_is_never_shown() {
        let actor = actor();
        let entry = application_written(
            &actor,
            "Update provisioning setting or credentials",
            "github",
            Some(&json!({"target": {"tenant_url": "a"}})),
            &json!({"target": {"tenant_url": "b"}}),
            true,
        )
        .unwrap();
        assert_eq!(entry.category, Category::ProvisioningManagement);
        let text = serde_json::to_string(&entry).unwrap();
        assert!(text.contains("SecretToken") && text.contains(REDACTED), "{text}");
        let ids = (new_id(), new_id());
        assert_ne!(ids.0, ids.1);
        assert_eq!(ObjectId::parse(&ids.0).unwrap().as_str(), ids.0);
    }

    #[test]
    fn assignment_entries_follow_entra_names() {
        let actor = actor();
        let group = Group::new(ObjectId::from_u128(2), "Staff").unwrap();
        let cases = [
            (TargetResource::user(&user()), true, "Add app role assignment grant to user", Category::UserManagement),
            (TargetResource::group(&group), true, "Add app role assignment to group", Category::GroupManagement),
            (TargetResource::user(&user()), false, "Remove app role assignment from user", Category::UserManagement),
            (TargetResource::group(&group), false, "Remove app role assignment from group", Category::GroupManagement),
        ];
        for (principal, added, activity, category) in cases {
            let kind = principal.kind.clone();
            let entry = assignment_changed(&actor, "github", principal, Some("admin"), added);
            assert_eq!((entry.activity_display_name.as_str(), entry.category), (activity, category));
            assert_eq!(entry.operation_type, if added { "Assign" } else { "Unassign" });
            let kinds: Vec<&str> = entry.target_resources.iter().map(|target| target.kind.as_str()).collect();
            assert_eq!(kinds, [kind.as_str(), "ServicePrincipal"]);
            assert_eq!(entry.target_resources[1].id, "github");
            let property = &entry.target_resources[0].modified_properties[0];
            assert_eq!(property.display_name, "AppRole.Value");
            let shown = if added { &property.new_value } else { &property.old_value };
            assert_eq!(shown.as_deref(), Some("\"admin\""));
        }
        let default_access = assignment_changed(&actor, "github", TargetResource::user(&user()), None, true);
        let property = &default_access.target_resources[0].modified_properties[0];
        assert_eq!((property.old_value.as_deref(), property.new_value.as_deref()), (None, None));
    }
}

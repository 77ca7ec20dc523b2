//! The schema's two `directoryDefinition`s: the source (roster's directory, with the attributes the engine's
//! `source` module gives expressions and scoping filters) and the target (the application, with the SCIM attribute
//! paths its mappings write). Both are informational: a PUT reads neither.

use roster_engine::definition::Definition;
use serde_json::{Value, json};

use super::Kind;
use crate::applications::display_name;

/// The source directory's name.
pub const SOURCE_DIRECTORY: &str = "roster directory";

/// One attribute of the source directory.
#[derive(Debug, Clone, Copy)]
pub struct Attribute {
    /// The Graph name.
    pub name: &'static str,
    /// Graph's type: String, Boolean, DateTime, Reference.
    pub kind: &'static str,
    /// Multi-valued.
    pub multivalued: bool,
    /// Computed by the engine or kept by the directory, not changed through it.
    pub read_only: bool,
    /// Every object has it.
    pub required: bool,
    /// The objects a Reference points to.
    pub referenced: &'static [&'static str],
}

const fn text(name: &'static str) -> Attribute {
    Attribute { name, kind: "String", multivalued: false, read_only: false, required: false, referenced: &[] }
}

const fn flag(name: &'static str) -> Attribute {
    Attribute { kind: "Boolean", ..text(name) }
}

const fn computed(attribute: Attribute) -> Attribute {
    Attribute { read_only: true, ..attribute }
}

const fn required(attribute: Attribute) -> Attribute {
    Attribute { required: true, ..attribute }
}

const fn many(attribute: Attribute) -> Attribute {
    Attribute { multivalued: true, ..attribute }
}

/// A user's attributes, as `roster_engine::source::UserSource` answers them (its extension attributes aside).
pub const USER: &[Attribute] = &[
    required(computed(text("objectId"))),
    required(text("userPrincipalName")),
    computed(text("originalUserPrincipalName")),
    computed(flag("IsSoftDeleted")),
    computed(many(text("appRoleAssignments"))),
    flag("accountEnabled"),
    text("displayName"),
    text("givenName"),
    text("surname"),
    text("mail"),
    text("mailNickname"),
    text("department"),
    text("jobTitle"),
    text("employeeId"),
    text("companyName"),
    text("country"),
    text("city"),
    text("officeLocation"),
    text("mobilePhone"),
    text("preferredLanguage"),
    many(text("businessPhones")),
    Attribute { kind: "Reference", referenced: &["User"], ..text("manager") },
    computed(Attribute { kind: "DateTime", ..text("deletedDateTime") }),
];

/// A group's attributes, as `roster_engine::source::GroupSource` answers them, and its members.
pub const GROUP: &[Attribute] = &[
    required(computed(text("objectId"))),
    required(text("displayName")),
    text("mailNickname"),
    text("description"),
    flag("securityEnabled"),
    computed(flag("IsSoftDeleted")),
    many(Attribute { kind: "Reference", referenced: &["User", "Group"], ..text("members") }),
];

fn attribute_definition(name: &str, attribute: &Attribute, anchor: bool) -> Value {
    let referenced: Vec<Value> = attribute
        .referenced
        .iter()
        .map(|object| json!({"referencedObjectName": object, "referencedProperty": null}))
        .collect();
    json!({
        "name": name,
        "type": attribute.kind,
        "anchor": anchor,
        "caseExact": false,
        "defaultValue": null,
        "flowNullValues": false,
        "multivalued": attribute.multivalued,
        "mutability": if attribute.read_only { "ReadOnly" } else { "ReadWrite" },
        "required": attribute.required,
        "referencedObjects": referenced,
        "metadata": [],
    })
}

fn directory(id: &str, name: &str, read_only: bool, objects: Vec<Value>) -> Value {
    json!({
        "id": id,
        "name": name,
        "objects": Value::Array(objects),
        "readOnly": read_only,
        "version": null,
        "discoveryDateTime": null,
        "discoverabilities": "None",
        "metadata": [],
    })
}

/// The source directory.
pub fn source() -> Value {
    let object = |kind: Kind| {
        let attributes = match kind {
            Kind::User => USER,
            Kind::Group => GROUP,
        };
        let attributes: Vec<Value> = attributes
            .iter()
            .map(|attribute| attribute_definition(attribute.name, attribute, attribute.name == "objectId"))
            .collect();
        json!({
            "name": kind.source_name(),
            "attributes": attributes,
            "metadata": [{"key": "PropertyNameSoftDeleted", "value": "IsSoftDeleted"}],
            "supportedApis": [],
        })
    };
    directory("roster", SOURCE_DIRECTORY, true, vec![object(Kind::User), object(Kind::Group)])
}

/// A target attribute path's definition: `id` is the anchor, `active` and `...primary` are booleans, `members` the
/// group's references, `roles` and `emails` whole multi-valued attributes.
fn target_attribute(path: &str) -> Attribute {
    let lower = path.to_ascii_lowercase();
    let mut attribute = text("");
    if lower == "active" || lower.ends_with(".primary") {
        attribute.kind = "Boolean";
    }
    if lower == "members" {
        attribute = many(Attribute { kind: "Reference", referenced: &["Group", "User"], ..attribute });
    }
    if matches!(lower.as_str(), "roles" | "emails" | "phonenumbers" | "addresses") {
        attribute.multivalued = true;
    }
    if lower == "id" {
        attribute = required(computed(attribute));
    }
    attribute
}

/// The target directory: the application, with the attributes its mappings write.
pub fn target(definition: &Definition) -> Value {
    let object = |kind: Kind| {
        let mapping = match kind {
            Kind::User => &definition.users,
            Kind::Group => &definition.groups,
        };
        let mut paths: Vec<&str> = vec!["id"];
        for mapping in &mapping.mappings {
            if !paths.iter().any(|path| path.eq_ignore_ascii_case(&mapping.target)) {
                paths.push(&mapping.target);
            }
        }
        let attributes: Vec<Value> =
            paths.iter().map(|path| attribute_definition(path, &target_attribute(path), *path == "id")).collect();
        json!({"name": kind.target_name(), "attributes": attributes, "metadata": [], "supportedApis": []})
    };
    directory(&definition.template, display_name(definition), false, vec![object(Kind::User), object(Kind::Group)])
}

#[cfg(test)]
mod tests {
    use roster_directory::{ExtensionValue, Group, ObjectId, User, UserPrincipalName};
    use roster_engine::source::{GroupSource, UserSource};
    use roster_expr::{AppRoleAssignment, Source};

    use super::*;

    /// Every listed attribute is one the engine answers for an object that has everything set.
    #[test]
    fn the_source_attributes_are_the_engines() {
        let mut user = User::new(ObjectId::from_u128(7), UserPrincipalName::parse("ada@contoso.com").unwrap());
        for field in [
            &mut user.display_name,
            &mut user.given_name,
            &mut user.surname,
            &mut user.mail,
            &mut user.mail_nickname,
            &mut user.department,
            &mut user.job_title,
            &mut user.employee_id,
            &mut user.company_name,
            &mut user.country,
            &mut user.city,
            &mut user.office_location,
            &mut user.mobile_phone,
            &mut user.preferred_language,
        ] {
            *field = Some("x".into());
        }
        user.business_phones = vec!["+1".into()];
        user.manager = Some(ObjectId::from_u128(8));
        user.deleted_date_time = Some(time::OffsetDateTime::UNIX_EPOCH);
        user.insert_extension("extension_a_b", ExtensionValue::Bool(true)).unwrap();
        let roles = [AppRoleAssignment { id: "r".into(), value: "user".into(), display_name: "User".into() }];
        let source = UserSource { user: &user, is_soft_deleted: false, roles: &roles };
        for attribute in USER {
            assert!(source.attribute(attribute.name).is_some(), "{}", attribute.name);
        }
        let mut group = Group::new(ObjectId::from_u128(9), "Sales").unwrap();
        group.mail_nickname = Some("sales".into());
        group.description = Some("d".into());
        group.security_enabled = Some(true);
        let source = GroupSource { group: &group, is_soft_deleted: false };
        for attribute in GROUP.iter().filter(|attribute| attribute.name != "members") {
            assert!(source.attribute(attribute.name).is_some(), "{}", attribute.name);
        }
    }
}

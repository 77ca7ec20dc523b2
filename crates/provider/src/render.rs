//! The wire representation of stored resources: `schemas`, `id`, the attributes, derived `groups` / `members`,
//! the GitHub login extension and `meta`.

use serde_json::{Map, Value, json};

use crate::clock::format_date_time;
use crate::emu::GITHUB_USER_URN;
use crate::port::{MemberRef, ResourceKind, StoredResource};

/// The ETag of a resource version.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// The full representation of a resource. `base_url` is the enterprise's SCIM base, for example
/// `http://127.0.0.1:8080/scim/v2/enterprises/octo-corp`; `meta.location` and `$ref`s are built from it.
pub fn render(kind: ResourceKind, stored: &StoredResource, base_url: &str) -> Map<String, Value> {
    into_representation(kind, stored.clone(), base_url)
}

/// [`render`], taking the stored resource so that its attributes move into the representation uncopied.
pub fn into_representation(kind: ResourceKind, mut stored: StoredResource, base_url: &str) -> Map<String, Value> {
    // The stored attributes become the representation: `schemas` and `id` go in front, the derived attributes
    // and `meta` after them, and nothing is copied or rehashed.
    let mut out = std::mem::take(&mut stored.attributes);
    let mut schemas: Vec<Value> = match out.shift_remove("schemas") {
        Some(Value::Array(schemas)) => schemas,
        _ => vec![json!(kind.resource_type().schema.id)],
    };
    if kind == ResourceKind::User && stored.login.is_some() && !schemas.iter().any(|s| s == GITHUB_USER_URN) {
        schemas.push(json!(GITHUB_USER_URN));
    }
    out.shift_insert(0, "schemas".into(), Value::Array(schemas));
    out.shift_insert(1, "id".into(), Value::String(stored.id.clone()));
    if let Some(groups) = &stored.groups
        && !groups.is_empty()
    {
        let groups: Vec<Value> = groups
            .iter()
            .map(|group| {
                let mut entry = Map::new();
                entry.insert("value".into(), json!(group.id));
                entry.insert("$ref".into(), json!(format!("{base_url}/Groups/{}", group.id)));
                if let Some(display) = &group.display {
                    entry.insert("display".into(), json!(display));
                }
                entry.insert("type".into(), json!("direct"));
                Value::Object(entry)
            })
            .collect();
        out.insert("groups".into(), Value::Array(groups));
    }
    if let Some(members) = &stored.members
        && !members.is_empty()
    {
        let members: Vec<Value> = members.iter().map(|member| member_entry(member, Some(base_url))).collect();
        out.insert("members".into(), Value::Array(members));
    }
    if let Some(login) = &stored.login {
        out.insert(GITHUB_USER_URN.into(), json!({ "login": login }));
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": kind.as_str(),
            "created": format_date_time(stored.created),
            "lastModified": format_date_time(stored.last_modified),
            "location": format!("{base_url}/{}/{}", kind.endpoint(), stored.id),
            "version": etag(stored.version),
        }),
    );
    out
}

/// A group member as clients see it in `members`: `value`, `$ref` (when a base URL is given), `display`, `type`.
pub fn member_entry(member: &MemberRef, base_url: Option<&str>) -> Value {
    let mut entry = Map::new();
    entry.insert("value".into(), json!(member.id));
    if let Some(base_url) = base_url {
        entry.insert("$ref".into(), json!(format!("{base_url}/{}/{}", member.kind.endpoint(), member.id)));
    }
    if let Some(display) = &member.display {
        entry.insert("display".into(), json!(display));
    }
    entry.insert("type".into(), json!(member.kind.as_str()));
    Value::Object(entry)
}

/// The representation filters are evaluated on when they cannot run in SQL: the full representation with
/// `$ref`s and `meta.location` relative to the enterprise base (`/Users/{id}`).
pub fn filterable(kind: ResourceKind, stored: &StoredResource) -> Map<String, Value> {
    render(kind, stored, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::{GroupRef, MemberRef};
    use time::OffsetDateTime;

    fn stored(attributes: &Value) -> StoredResource {
        StoredResource {
            id: "u1".into(),
            attributes: attributes.as_object().unwrap().clone(),
            created: OffsetDateTime::UNIX_EPOCH,
            last_modified: OffsetDateTime::UNIX_EPOCH,
            version: 3,
            login: None,
            members: None,
            groups: None,
        }
    }

    #[test]
    fn user_with_login_and_groups() {
        let mut user = stored(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a"}));
        user.login = Some("a_octo".into());
        user.groups = Some(vec![GroupRef { id: "g1".into(), display: Some("Eng".into()) }]);
        let out = Value::Object(render(ResourceKind::User, &user, "http://h/scim/v2/enterprises/e"));
        assert_eq!(
            out,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", GITHUB_USER_URN],
                "id": "u1",
                "userName": "a",
                "groups": [{"value": "g1", "$ref": "http://h/scim/v2/enterprises/e/Groups/g1", "display": "Eng", "type": "direct"}],
                GITHUB_USER_URN: {"login": "a_octo"},
                "meta": {
                    "resourceType": "User",
                    "created": "1970-01-01T00:00:00.000Z",
                    "lastModified": "1970-01-01T00:00:00.000Z",
                    "location": "http://h/scim/v2/enterprises/e/Users/u1",
                    "version": "W/\"3\"",
                },
            })
        );
    }

    #[test]
    fn group_members_have_refs_and_types() {
        let mut group = stored(&json!({"displayName": "Eng"}));
        group.members =
            Some(vec![MemberRef { id: "u1".into(), kind: ResourceKind::User, display: Some("Ann".into()) }]);
        let out = render(ResourceKind::Group, &group, "");
        assert_eq!(out["members"], json!([{"value": "u1", "$ref": "/Users/u1", "display": "Ann", "type": "User"}]));
        assert_eq!(out["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:Group"]));
    }
}

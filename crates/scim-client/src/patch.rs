//! Semantic PATCH operations and their wire shape in each [`Dialect`] (reference §1.7 and §2.5).
//!
//! - replace: `{"op":"replace","path":p,"value":v}` (RFC); `{"op":"Replace","path":p,"value":v}` (legacy).
//! - replace `active`: `{"op":"replace","path":"active","value":false}` (RFC);
//!   `{"op":"Replace","path":"active","value":"False"}` (legacy: the boolean as the string `"True"`/`"False"`).
//! - remove: `{"op":"remove","path":p}` (RFC); `{"op":"Remove","path":p}` (legacy).
//! - add members: `{"op":"add","path":"members","value":[{"value":id},...]}` (RFC);
//!   `{"op":"Add","path":"members","value":[{"value":id},...]}` (legacy).
//! - remove members: one `{"op":"remove","path":"members[value eq \"id\"]"}` per member, all in the same
//!   request (RFC 7644 §3.5.2.2); `{"op":"Remove","path":"members","value":[{"value":id},...]}` (legacy).
//!
//! Every body is `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[...]}`. A replace
//! with a `null` value is sent as a remove (Entra never sends nulls); empty member lists send nothing.

use serde_json::{Value, json};

use crate::config::Dialect;
use crate::filter::escape_filter_value;

/// The schema URN of PATCH bodies.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// One semantic change to a resource; the [`Dialect`] decides its wire shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Sets an attribute: `path` is an attribute path such as `displayName`, `name.givenName`,
    /// `emails[type eq "work"].value`, `active`, `roles` or
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`.
    Replace {
        /// The attribute path.
        path: String,
        /// The new value.
        value: Value,
    },
    /// Clears an attribute.
    Remove {
        /// The attribute path.
        path: String,
    },
    /// Adds members to a group: the members' ids in the target.
    AddMembers(Vec<String>),
    /// Removes members from a group: the members' ids in the target.
    RemoveMembers(Vec<String>),
}

impl Change {
    /// A replace.
    pub fn replace(path: impl Into<String>, value: impl Into<Value>) -> Self {
        Change::Replace { path: path.into(), value: value.into() }
    }

    /// A remove.
    pub fn remove(path: impl Into<String>) -> Self {
        Change::Remove { path: path.into() }
    }

    /// How many member ids the change carries.
    fn member_count(&self) -> usize {
        match self {
            Change::AddMembers(ids) | Change::RemoveMembers(ids) => ids.len(),
            Change::Replace { .. } | Change::Remove { .. } => 0,
        }
    }
}

/// The PATCH body for these changes in this dialect.
pub fn patch_body(dialect: Dialect, changes: &[Change]) -> Value {
    json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations(dialect, changes)})
}

/// The `Operations` for these changes in this dialect.
pub fn operations(dialect: Dialect, changes: &[Change]) -> Vec<Value> {
    let legacy = dialect == Dialect::EntraLegacy;
    let op = |rfc: &'static str, entra: &'static str| if legacy { entra } else { rfc };
    let mut out = Vec::new();
    for change in changes {
        match change {
            Change::Replace { path, value: Value::Null } | Change::Remove { path } => {
                out.push(json!({"op": op("remove", "Remove"), "path": path}));
            }
            Change::Replace { path, value } => {
                let value = match value {
                    Value::Bool(active) if legacy && is_active(path) => {
                        Value::String(if *active { "True" } else { "False" }.to_owned())
                    }
                    other => other.clone(),
                };
                out.push(json!({"op": op("replace", "Replace"), "path": path, "value": value}));
            }
            Change::AddMembers(ids) if !ids.is_empty() => {
                out.push(json!({"op": op("add", "Add"), "path": "members", "value": member_values(ids)}));
            }
            Change::RemoveMembers(ids) if !ids.is_empty() => {
                if legacy {
                    out.push(json!({"op": "Remove", "path": "members", "value": member_values(ids)}));
                } else {
                    out.extend(ids.iter().map(|id| {
                        json!({"op": "remove", "path": format!("members[value eq \"{}\"]", escape_filter_value(id))})
                    }));
                }
            }
            Change::AddMembers(_) | Change::RemoveMembers(_) => {}
        }
    }
    out
}

/// `[{"value": id}, ...]`.
fn member_values(ids: &[String]) -> Value {
    Value::Array(ids.iter().map(|id| json!({"value": id})).collect())
}

/// Whether a path names the core `active` attribute.
fn is_active(path: &str) -> bool {
    path.eq_ignore_ascii_case("active")
        || path.eq_ignore_ascii_case("urn:ietf:params:scim:schemas:core:2.0:User:active")
}

/// Splits changes into the PATCH requests that carry them, each with at most `max_members` member ids (at least
/// 1). The attribute changes go in the first request, with as many members as fit; the rest of the members
/// follow in order, so a group is renamed before its members change. An empty list gives no request.
pub fn split_changes(changes: &[Change], max_members: usize) -> Vec<Vec<Change>> {
    let max_members = max_members.max(1);
    let changes: Vec<&Change> =
        changes.iter().filter(|change| !is_member_change(change) || change.member_count() > 0).collect();
    if changes.iter().map(|change| change.member_count()).sum::<usize>() <= max_members {
        return if changes.is_empty() { Vec::new() } else { vec![changes.into_iter().cloned().collect()] };
    }
    let mut requests: Vec<Vec<Change>> = Vec::new();
    let mut current: Vec<Change> =
        changes.iter().filter(|change| !is_member_change(change)).map(|c| (*c).clone()).collect();
    let mut room = max_members;
    for change in changes {
        let (ids, add) = match change {
            Change::AddMembers(ids) => (ids, true),
            Change::RemoveMembers(ids) => (ids, false),
            Change::Replace { .. } | Change::Remove { .. } => continue,
        };
        let mut rest = ids.as_slice();
        while !rest.is_empty() {
            if room == 0 {
                requests.push(std::mem::take(&mut current));
                room = max_members;
            }
            let (chunk, tail) = rest.split_at(room.min(rest.len()));
            let chunk = chunk.to_vec();
            current.push(if add { Change::AddMembers(chunk) } else { Change::RemoveMembers(chunk) });
            room -= current.last().map_or(0, Change::member_count);
            rest = tail;
        }
    }
    if !current.is_empty() {
        requests.push(current);
    }
    requests
}

/// Whether a change is about members (even an empty list).
fn is_member_change(change: &Change) -> bool {
    matches!(change, Change::AddMembers(_) | Change::RemoveMembers(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|id| (*id).to_owned()).collect()
    }

    #[test]
    fn operations_table() {
        let enterprise_department = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
        // (change, RFC operations, Entra legacy operations)
        let cases: Vec<(Change, Value, Value)> = vec![
            (
                Change::replace("displayName", "Mona"),
                json!([{"op": "replace", "path": "displayName", "value": "Mona"}]),
                json!([{"op": "Replace", "path": "displayName", "value": "Mona"}]),
            ),
            (
                Change::replace("name.givenName", "Mona"),
                json!([{"op": "replace", "path": "name.givenName", "value": "Mona"}]),
                json!([{"op": "Replace", "path": "name.givenName", "value": "Mona"}]),
            ),
            (
                Change::replace("emails[type eq \"work\"].value", "m@example.com"),
                json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "m@example.com"}]),
                json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "m@example.com"}]),
            ),
            (
                Change::replace("active", false),
                json!([{"op": "replace", "path": "active", "value": false}]),
                json!([{"op": "Replace", "path": "active", "value": "False"}]),
            ),
            (
                Change::replace("active", true),
                json!([{"op": "replace", "path": "active", "value": true}]),
                json!([{"op": "Replace", "path": "active", "value": "True"}]),
            ),
            (
                Change::replace("urn:ietf:params:scim:schemas:core:2.0:User:active", false),
                json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:active", "value": false}]),
                json!([{
                    "op": "Replace",
                    "path": "urn:ietf:params:scim:schemas:core:2.0:User:active",
                    "value": "False"
                }]),
            ),
            (
                // Only booleans of `active` become strings.
                Change::replace("emailVerified", false),
                json!([{"op": "replace", "path": "emailVerified", "value": false}]),
                json!([{"op": "Replace", "path": "emailVerified", "value": false}]),
            ),
            (
                Change::replace("roles", json!([{"value": "user", "primary": false}])),
                json!([{"op": "replace", "path": "roles", "value": [{"value": "user", "primary": false}]}]),
                json!([{"op": "Replace", "path": "roles", "value": [{"value": "user", "primary": false}]}]),
            ),
            (
                Change::replace(enterprise_department, "R&D"),
                json!([{"op": "replace", "path": enterprise_department, "value": "R&D"}]),
                json!([{"op": "Replace", "path": enterprise_department, "value": "R&D"}]),
            ),
            (
                Change::remove("nickName"),
                json!([{"op": "remove", "path": "nickName"}]),
                json!([{"op": "Remove", "path": "nickName"}]),
            ),
            (
                Change::replace("title", Value::Null),
                json!([{"op": "remove", "path": "title"}]),
                json!([{"op": "Remove", "path": "title"}]),
            ),
            (
                Change::AddMembers(ids(&["u1", "u2"])),
                json!([{"op": "add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}]),
                json!([{"op": "Add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}]),
            ),
            (
                Change::RemoveMembers(ids(&["u1", "u\"2"])),
                json!([
                    {"op": "remove", "path": "members[value eq \"u1\"]"},
                    {"op": "remove", "path": "members[value eq \"u\\\"2\"]"}
                ]),
                json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}, {"value": "u\"2"}]}]),
            ),
            (Change::AddMembers(Vec::new()), json!([]), json!([])),
            (Change::RemoveMembers(Vec::new()), json!([]), json!([])),
        ];
        for (change, rfc, legacy) in cases {
            let changes = [change];
            assert_eq!(Value::Array(operations(Dialect::Rfc, &changes)), rfc, "RFC: {changes:?}");
            assert_eq!(Value::Array(operations(Dialect::EntraLegacy, &changes)), legacy, "legacy: {changes:?}");
        }
    }

    #[test]
    fn a_body_carries_every_operation_in_order_under_the_patch_op_schema() {
        let changes = [
            Change::replace("displayName", "Team"),
            Change::AddMembers(ids(&["a"])),
            Change::RemoveMembers(ids(&["b", "c"])),
        ];
        assert_eq!(
            patch_body(Dialect::Rfc, &changes),
            json!({
                "schemas": [PATCH_OP_SCHEMA],
                "Operations": [
                    {"op": "replace", "path": "displayName", "value": "Team"},
                    {"op": "add", "path": "members", "value": [{"value": "a"}]},
                    {"op": "remove", "path": "members[value eq \"b\"]"},
                    {"op": "remove", "path": "members[value eq \"c\"]"}
                ]
            })
        );
        assert_eq!(
            patch_body(Dialect::EntraLegacy, &changes),
            json!({
                "schemas": [PATCH_OP_SCHEMA],
                "Operations": [
                    {"op": "Replace", "path": "displayName", "value": "Team"},
                    {"op": "Add", "path": "members", "value": [{"value": "a"}]},
                    {"op": "Remove", "path": "members", "value": [{"value": "b"}, {"value": "c"}]}
                ]
            })
        );
    }

    #[test]
    fn splitting_keeps_attribute_changes_first_and_chunks_members() {
        let rename = Change::replace("displayName", "Team");
        assert!(split_changes(&[], 10).is_empty());
        assert!(split_changes(&[Change::AddMembers(Vec::new()), Change::RemoveMembers(Vec::new())], 10).is_empty());
        assert_eq!(split_changes(std::slice::from_ref(&rename), 10), vec![vec![rename.clone()]]);
        let changes =
            [Change::AddMembers(ids(&["a", "b", "c"])), rename.clone(), Change::RemoveMembers(ids(&["d", "e"]))];
        assert_eq!(split_changes(&changes, 5), vec![changes.to_vec()]);
        assert_eq!(
            split_changes(&changes, 2),
            vec![
                vec![rename.clone(), Change::AddMembers(ids(&["a", "b"]))],
                vec![Change::AddMembers(ids(&["c"])), Change::RemoveMembers(ids(&["d"]))],
                vec![Change::RemoveMembers(ids(&["e"]))],
            ]
        );
        assert_eq!(
            split_changes(&changes, 0),
            vec![
                vec![rename, Change::AddMembers(ids(&["a"]))],
                vec![Change::AddMembers(ids(&["b"]))],
                vec![Change::AddMembers(ids(&["c"]))],
                vec![Change::RemoveMembers(ids(&["d"]))],
                vec![Change::RemoveMembers(ids(&["e"]))],
            ]
        );
        // Every id is sent exactly once, in order.
        let many: Vec<String> = (0..2500).map(|n| n.to_string()).collect();
        let requests = split_changes(&[Change::AddMembers(many.clone())], 1000);
        assert_eq!(requests.len(), 3);
        let sent: Vec<String> = requests
            .into_iter()
            .flatten()
            .flat_map(|change| match change {
                Change::AddMembers(ids) => ids,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(sent, many);
    }
}

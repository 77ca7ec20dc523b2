//! The smallest set of attribute changes that takes a target object from what roster knows it holds to what the
//! mappings want. Pure: values in, changes out.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::definition::Apply;
use crate::mapping::{Desired, stored_form};

/// One attribute to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeChange {
    /// The target path.
    pub path: String,
    /// What the target held, as far as roster knows (secrets as digests).
    pub old: Option<Value>,
    /// The new value; `None` removes it.
    pub new: Option<Value>,
    /// Whether the value is secret (logs show `[Redact]`).
    pub secret: bool,
}

/// The changes from `previous` (the shadow's exported values, or what a matched target object holds) to
/// `desired`. Only Always mappings are compared: on-create values are never updated, and values that
/// IgnoreFlowIfNullOrEmpty dropped are left alone. A null value removes what was exported before. An absent
/// attribute, null and an empty array are the same state (RFC 7643 §2.5): going from one to another is no change
/// (a target omits an empty `roles`, which a mapping evaluates to `[]`).
pub fn attribute_changes(previous: &BTreeMap<String, Value>, desired: &Desired) -> Vec<AttributeChange> {
    let mut changes = Vec::new();
    for (path, wanted) in &desired.values {
        if wanted.apply == Apply::OnCreate {
            continue;
        }
        let old = previous.get(path);
        if unassigned(old) && unassigned(wanted.value.as_ref()) {
            continue;
        }
        match &wanted.value {
            Some(value) => {
                if old != Some(&stored_form(value, wanted.secret)) {
                    changes.push(AttributeChange {
                        path: path.clone(),
                        old: old.cloned(),
                        new: Some(value.clone()),
                        secret: wanted.secret,
                    });
                }
            }
            None => {
                if old.is_some() {
                    changes.push(AttributeChange {
                        path: path.clone(),
                        old: old.cloned(),
                        new: None,
                        secret: wanted.secret,
                    });
                }
            }
        }
    }
    changes
}

/// Whether a value is unassigned: absent, null or an empty array.
fn unassigned(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Array(items)) => items.is_empty(),
        Some(_) => false,
    }
}

/// The exported values after `changes` were applied to `previous`.
pub fn apply_changes(previous: &BTreeMap<String, Value>, changes: &[AttributeChange]) -> BTreeMap<String, Value> {
    let mut exported = previous.clone();
    for change in changes {
        match &change.new {
            Some(value) => exported.insert(change.path.clone(), stored_form(value, change.secret)),
            None => exported.remove(&change.path),
        };
    }
    exported
}

/// Members to add and to remove, from the members exported so far to the members wanted.
pub fn member_changes<T: Ord + Clone>(exported: &BTreeSet<T>, wanted: &BTreeSet<T>) -> (Vec<T>, Vec<T>) {
    let added = wanted.difference(exported).cloned().collect();
    let removed = exported.difference(wanted).cloned().collect();
    (added, removed)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::mapping::DesiredValue;

    fn desired(values: &[(&str, Option<Value>, Apply)]) -> Desired {
        Desired {
            values: values
                .iter()
                .map(|(path, value, apply)| {
                    ((*path).to_owned(), DesiredValue { value: value.clone(), secret: false, apply: *apply })
                })
                .collect(),
        }
    }

    #[test]
    fn changes_table() {
        let previous: BTreeMap<String, Value> =
            [("userName", json!("a")), ("title", json!("Dev")), ("nickName", json!("x")), ("locale", json!("en"))]
                .into_iter()
                .map(|(path, value)| (path.to_owned(), value))
                .collect();
        let wanted = desired(&[
            ("userName", Some(json!("a")), Apply::Always),
            ("title", Some(json!("Lead")), Apply::Always),
            ("nickName", None, Apply::Always),
            ("locale", Some(json!("fr")), Apply::OnCreate),
            ("displayName", Some(json!("Ada")), Apply::Always),
        ]);
        let changes = attribute_changes(&previous, &wanted);
        let summary: Vec<(&str, Option<Value>, Option<Value>)> =
            changes.iter().map(|change| (change.path.as_str(), change.old.clone(), change.new.clone())).collect();
        assert_eq!(
            summary,
            vec![
                ("displayName", None, Some(json!("Ada"))),
                ("nickName", Some(json!("x")), None),
                ("title", Some(json!("Dev")), Some(json!("Lead"))),
            ]
        );
        let after = apply_changes(&previous, &changes);
        assert!(attribute_changes(&after, &wanted).is_empty());
        assert_eq!(after.get("locale"), Some(&json!("en")));
    }

    /// Absent, null and an empty array are one state: a matched target object that omits an empty `roles` needs no
    /// PATCH to `[]`; a value that leaves or arrives is still a change.
    #[test]
    fn unassigned_values_are_one_state() {
        // (what the target holds, what the mapping wants, whether that is a change)
        let cases = [
            (None, Some(json!([])), false),
            (Some(json!(null)), Some(json!([])), false),
            (Some(json!([])), None, false),
            (None, None, false),
            (Some(json!([])), Some(json!([{"value": "user"}])), true),
            (Some(json!([{"value": "user"}])), Some(json!([])), true),
            (None, Some(json!("")), true),
            (Some(json!([{"value": "user"}])), None, true),
        ];
        for (held, wanted, changed) in cases {
            let previous: BTreeMap<String, Value> =
                held.clone().map(|value| ("roles".to_owned(), value)).into_iter().collect();
            let changes = attribute_changes(&previous, &desired(&[("roles", wanted.clone(), Apply::Always)]));
            assert_eq!(!changes.is_empty(), changed, "{held:?} -> {wanted:?}");
        }
    }

    proptest! {
        /// After applying the changes, there is nothing left to change, and untouched paths keep their values.
        #[test]
        fn diff_then_apply_converges(
            previous in proptest::collection::btree_map("[a-d]", 0u8..3, 0..4),
            wanted in proptest::collection::btree_map("[a-d]", proptest::option::of(0u8..3), 0..4),
        ) {
            let previous: BTreeMap<String, Value> = previous.into_iter().map(|(k, v)| (k, json!(v))).collect();
            let wanted = Desired {
                values: wanted
                    .into_iter()
                    .map(|(k, v)| (k, DesiredValue { value: v.map(|v| json!(v)), secret: false, apply: Apply::Always }))
                    .collect(),
            };
            let changes = attribute_changes(&previous, &wanted);
            let after = apply_changes(&previous, &changes);
            prop_assert!(attribute_changes(&after, &wanted).is_empty());
            for (path, value) in &previous {
                if !wanted.values.contains_key(path) {
                    prop_assert_eq!(after.get(path), Some(value));
                }
            }
        }

        #[test]
        fn member_changes_reach_the_wanted_set(
            exported in proptest::collection::btree_set(0u16..50, 0..30),
            wanted in proptest::collection::btree_set(0u16..50, 0..30),
        ) {
            let (added, removed) = member_changes(&exported, &wanted);
            let mut result = exported.clone();
            result.extend(added.iter().copied());
            for member in &removed {
                result.remove(member);
            }
            prop_assert_eq!(&result, &wanted);
            prop_assert!(added.iter().all(|member| !exported.contains(member)));
            prop_assert!(removed.iter().all(|member| exported.contains(member)));
        }
    }
}

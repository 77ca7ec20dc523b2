//! The values of a resource that live in their own columns, next to the attributes JSON: what uniqueness is
//! enforced on, and what filters and sorting can use without parsing JSON. Backend-neutral.

use roster_provider::port::{ResourceKind, StoreError};
use serde_json::{Map, Value};

/// Folds a value for case-insensitive uniqueness, comparison and sorting: [`str::to_lowercase`], full Unicode
/// lowercasing, which is what the in-Rust filter evaluator applies to both sides of a comparison on an attribute
/// that is not `caseExact`. Computed in Rust, never with SQL's `lower()`, which only knows ASCII.
pub(crate) fn fold(value: &str) -> String {
    value.to_lowercase()
}

/// The member `key` of a resource, exactly or else ignoring ASCII case: the evaluator's lookup.
fn get<'m>(map: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    map.get(key).or_else(|| map.iter().find(|(name, _)| name.eq_ignore_ascii_case(key)).map(|(_, value)| value))
}

/// The column values of one resource. Only values of the right JSON type fill a column; canonical resources
/// always have that type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Derived<'a> {
    pub(crate) user_name: Option<&'a str>,
    pub(crate) external_id: Option<&'a str>,
    pub(crate) display_name: Option<&'a str>,
    pub(crate) login: Option<&'a str>,
    pub(crate) active: Option<bool>,
}

impl<'a> Derived<'a> {
    /// The columns of a resource with these attributes (and, for a user, this login).
    pub(crate) fn of(kind: ResourceKind, attributes: &'a Map<String, Value>, login: Option<&'a str>) -> Self {
        let text = |name: &str| get(attributes, name).and_then(Value::as_str);
        match kind {
            ResourceKind::User => Self {
                user_name: text("userName"),
                external_id: text("externalId"),
                display_name: text("displayName"),
                login,
                active: get(attributes, "active").and_then(Value::as_bool),
            },
            ResourceKind::Group => Self {
                user_name: None,
                external_id: text("externalId"),
                display_name: text("displayName"),
                login: None,
                active: None,
            },
        }
    }

    /// Whether the two have the same values in every indexed column (all but `active`). Equal values fold
    /// equally, so the folded columns need no comparison of their own.
    pub(crate) fn same_keys(&self, other: &Derived<'_>) -> bool {
        (self.user_name, self.external_id, self.display_name, self.login)
            == (other.user_name, other.external_id, other.display_name, other.login)
    }
}

/// The conflict a uniqueness violation of an indexed column is, as the port names it: the SCIM attribute and the
/// value already taken (`id` for the SCIM id). `column` is the violated column (`user_name_folded`, `external_id`,
/// `login_folded`, `display_name_folded`, `id`); `None` for another column.
pub(crate) fn conflict(column: &str, id: &str, derived: &Derived<'_>) -> Option<StoreError> {
    let (attribute, value) = match column {
        "user_name_folded" => ("userName", derived.user_name),
        "external_id" => ("externalId", derived.external_id),
        "login_folded" => ("login", derived.login),
        "display_name_folded" => ("displayName", derived.display_name),
        "id" => ("id", Some(id)),
        _ => return None,
    };
    Some(StoreError::Conflict { attribute, value: value.unwrap_or_default().to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn folding_is_full_unicode_lowercase() {
        for (input, expected) in [
            ("ÆRØ", "ærø"),
            ("İstanbul", "i\u{307}stanbul"),
            ("STRASSE", "strasse"),
            ("Straße", "straße"),
            ("ΟΔΟΣ", "οδος"),
        ] {
            assert_eq!(fold(input), expected, "{input}");
        }
    }

    #[test]
    fn only_typed_values_fill_columns() {
        let attributes = json!({"userName": "a", "externalId": 5, "active": true, "displayName": "A"});
        let attributes = attributes.as_object().cloned().unwrap_or_default();
        let derived = Derived::of(ResourceKind::User, &attributes, Some("a_octo"));
        assert_eq!(
            derived,
            Derived {
                user_name: Some("a"),
                external_id: None,
                display_name: Some("A"),
                login: Some("a_octo"),
                active: Some(true)
            }
        );
        let group = Derived::of(ResourceKind::Group, &attributes, Some("ignored"));
        assert_eq!((group.user_name, group.login, group.active), (None, None, None));
    }
}

//! Target attribute paths as mappings name them, and how a value is put into (or read from) a SCIM resource at such
//! a path. The forms are those Entra's mapping editor produces:
//! - `userName`, `active`, `externalId`;
//! - `name.givenName`;
//! - `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department` (and `...:manager.value`);
//! - `emails[type eq "work"].value`, `roles[primary eq "True"].value`: one element of a multi-valued attribute,
//!   selected by one sub-attribute's value;
//! - `roles`, `emails`: a whole multi-valued attribute.

use std::fmt;

use roster_scim_proto::filter::{CompValue, CompareOp, Filter};
use roster_scim_proto::path::PatchPath;
use serde_json::{Map, Value};

/// A parsed target path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TargetPath {
    text: String,
    urn: Option<String>,
    name: String,
    selector: Option<(String, Value)>,
    sub: Option<String>,
}

/// A target path roster cannot write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("target attribute \"{path}\": {reason}")]
pub struct TargetPathError {
    /// The path as written.
    pub path: String,
    /// Why.
    pub reason: String,
}

impl TargetPath {
    /// Parses a path; value filters must have the form `subAttr eq "value"` (or `eq true`).
    pub fn parse(text: &str) -> Result<TargetPath, TargetPathError> {
        let error = |reason: String| TargetPathError { path: text.to_owned(), reason };
        let parsed = PatchPath::parse(text).map_err(|scim| error(scim.detail))?;
        let selector = match &parsed.filter {
            None => None,
            Some(Filter::Compare(comparison))
                if comparison.op == CompareOp::Eq && comparison.path.sub_attr.is_none() =>
            {
                let value = match &comparison.value {
                    CompValue::String(text) => Value::String(text.clone()),
                    CompValue::Bool(flag) => Value::Bool(*flag),
                    other => return Err(error(format!("the filter value {other:?} is not a string or boolean"))),
                };
                Some((comparison.path.name.clone(), value))
            }
            Some(_) => return Err(error("only filters of the form subAttribute eq \"value\" can be mapped".into())),
        };
        let sub = if selector.is_some() { parsed.sub_attr } else { parsed.attr.sub_attr };
        Ok(TargetPath { text: text.to_owned(), urn: parsed.attr.urn, name: parsed.attr.name, selector, sub })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The extension schema URN, for extension attributes.
    pub fn urn(&self) -> Option<&str> {
        self.urn.as_deref()
    }

    /// Whether the path names this top-level attribute (ignoring case), with no sub-attribute or selector.
    pub fn is(&self, name: &str) -> bool {
        self.urn.is_none() && self.selector.is_none() && self.sub.is_none() && self.name.eq_ignore_ascii_case(name)
    }

    /// Puts `value` at this path in `resource`, creating what is missing. A new element selected by
    /// `type eq "work"` becomes the primary one when the attribute has no primary element yet, as Entra sends it.
    pub fn put(&self, resource: &mut Map<String, Value>, value: Value) {
        let container = match &self.urn {
            Some(urn) => object_at(resource, urn),
            None => resource,
        };
        match (&self.selector, &self.sub) {
            (None, None) => {
                container.insert(self.name.clone(), value);
            }
            (None, Some(sub)) => {
                object_at(container, &self.name).insert(sub.clone(), value);
            }
            (Some((key, selected)), sub) => {
                let slot = container.entry(self.name.clone()).or_insert_with(|| Value::Array(Vec::new()));
                if !slot.is_array() {
                    *slot = Value::Array(Vec::new());
                }
                let Value::Array(elements) = slot else { return };
                let position = elements.iter().position(|element| selects(element, key, selected));
                let index = match position {
                    Some(index) => index,
                    None => {
                        let mut element = Map::new();
                        element.insert(key.clone(), selected.clone());
                        let has_primary =
                            elements.iter().any(|element| element.get("primary") == Some(&Value::Bool(true)));
                        if key == "type" && selected == "work" && !has_primary {
                            element.insert("primary".to_owned(), Value::Bool(true));
                        }
                        elements.push(Value::Object(element));
                        elements.len() - 1
                    }
                };
                match (sub, &mut elements[index]) {
                    (Some(sub), Value::Object(element)) => {
                        element.insert(sub.clone(), value);
                    }
                    (None, element) => *element = value,
                    (Some(_), _) => {}
                }
            }
        }
    }

    /// The value at this path in `resource`, matching names without regard to case; `None` when absent.
    pub fn get<'a>(&self, resource: &'a Map<String, Value>) -> Option<&'a Value> {
        let container = match &self.urn {
            Some(urn) => get_ignoring_case(resource, urn)?.as_object()?,
            None => resource,
        };
        let attribute = get_ignoring_case(container, &self.name)?;
        match (&self.selector, &self.sub) {
            (None, None) => Some(attribute),
            (None, Some(sub)) => get_ignoring_case(attribute.as_object()?, sub),
            (Some((key, selected)), sub) => {
                let element = attribute.as_array()?.iter().find(|element| selects(element, key, selected))?;
                match sub {
                    Some(sub) => get_ignoring_case(element.as_object()?, sub),
                    None => Some(element),
                }
            }
        }
    }
}

impl fmt::Display for TargetPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Whether an element's `key` sub-attribute has the selected value (strings ignore case, as SCIM `eq` does for
/// case-insensitive attributes such as `type`; `"True"` selects a boolean true, as Entra writes it).
fn selects(element: &Value, key: &str, selected: &Value) -> bool {
    let Some(actual) = element.as_object().and_then(|object| get_ignoring_case(object, key)) else {
        return false;
    };
    match (actual, selected) {
        (Value::String(actual), Value::String(selected)) => actual.eq_ignore_ascii_case(selected),
        (Value::Bool(actual), Value::String(selected)) => {
            selected.eq_ignore_ascii_case(if *actual { "true" } else { "false" })
        }
        (actual, selected) => actual == selected,
    }
}

fn object_at<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map.entry(key.to_owned()).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    let Value::Object(object) = slot else { unreachable!("the slot was just made an object") };
    object
}

fn get_ignoring_case<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| map.iter().find(|(name, _)| name.eq_ignore_ascii_case(key)).map(|(_, value)| value))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn build(paths: &[(&str, Value)]) -> Value {
        let mut resource = Map::new();
        for (path, value) in paths {
            TargetPath::parse(path).unwrap().put(&mut resource, value.clone());
        }
        Value::Object(resource)
    }

    #[test]
    fn put_builds_what_entra_sends() {
        let resource = build(&[
            ("userName", json!("ada@contoso.com")),
            ("name.givenName", json!("Ada")),
            ("name.familyName", json!("Lovelace")),
            ("emails[type eq \"work\"].value", json!("ada@contoso.com")),
            ("emails[type eq \"home\"].value", json!("ada@home.example")),
            ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", json!("R&D")),
            ("roles[primary eq \"True\"].value", json!("user")),
        ]);
        assert_eq!(
            resource,
            json!({
                "userName": "ada@contoso.com",
                "name": {"givenName": "Ada", "familyName": "Lovelace"},
                "emails": [{"type": "work", "primary": true, "value": "ada@contoso.com"},
                           {"type": "home", "value": "ada@home.example"}],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"},
                "roles": [{"primary": "True", "value": "user"}],
            })
        );
    }

    #[test]
    fn get_reads_what_a_server_returns() {
        let resource = json!({
            "UserName": "ada", "name": {"givenName": "Ada"},
            "emails": [{"type": "Work", "value": "a@x"}, {"type": "home", "value": "h@x"}],
            "roles": [{"primary": true, "value": "user"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"},
        });
        let resource = resource.as_object().unwrap();
        let cases = [
            ("userName", Some(json!("ada"))),
            ("name.givenName", Some(json!("Ada"))),
            ("name.familyName", None),
            ("emails[type eq \"work\"].value", Some(json!("a@x"))),
            ("emails[type eq \"other\"].value", None),
            ("roles[primary eq \"True\"].value", Some(json!("user"))),
            ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", Some(json!("R&D"))),
        ];
        for (path, expected) in cases {
            assert_eq!(TargetPath::parse(path).unwrap().get(resource).cloned(), expected, "{path}");
        }
    }

    #[test]
    fn unsupported_paths_are_refused() {
        let error = TargetPath::parse("emails[type eq \"work\" or primary eq true].value").unwrap_err();
        assert_eq!(
            error.to_string(),
            "target attribute \"emails[type eq \"work\" or primary eq true].value\": only filters of the form \
             subAttribute eq \"value\" can be mapped"
        );
        assert!(TargetPath::parse("name..x").is_err());
        assert!(TargetPath::parse("userName").unwrap().is("username"));
    }
}

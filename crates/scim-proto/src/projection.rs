//! Partial representations (RFC 7644 §3.9, §3.4.2.5) under the `returned` rules of RFC 7643 §7.
//!
//! Rules, in order:
//! - `schemas` and every attribute (or sub-attribute) with `returned: always` (`id`) are always kept.
//! - `returned: never` (`password`) is always removed.
//! - With `attributes`, only the named attributes are kept; naming a sub-attribute (`name.givenName`,
//!   `emails.value`) keeps the attribute with just the named sub-attributes (in every element when multi-valued);
//!   naming an extension URN keeps all of its attributes. `returned: request` attributes appear only when named.
//! - With `excludedAttributes`, the named attributes or sub-attributes are removed; `returned: request`
//!   attributes are not returned.
//! - RFC 7644 §3.9 calls the two parameters mutually exclusive but names no error; when both are given,
//!   `attributes` wins and `excludedAttributes` is ignored.
//! - Names compare case-insensitively; a path that names nothing the resource type knows is ignored (it cannot
//!   select anything, and rejecting it would break clients that ask for attributes of other providers).
//!
//! Compile the paths once per request with [`Projection::new`] and apply it to each resource of a page.

use serde_json::{Map, Value};

use crate::path::AttrPath;
use crate::resource::{Resolved, resolve};
use crate::schema::{AttributeDef, ResourceType, Returned, Schema};

/// Projects one resource; see the module documentation. For a page of resources, build a [`Projection`] once.
pub fn project(
    resource: &Map<String, Value>,
    rt: &ResourceType,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> Map<String, Value> {
    Projection::new(rt, attributes, excluded).apply(resource)
}

/// `attributes` / `excludedAttributes`, resolved against a resource type once.
#[derive(Debug, Clone)]
pub struct Projection {
    rt: ResourceType,
    mode: Mode,
    selections: Vec<Selection>,
    /// Whether some sub-attribute of the resource type is returned only on request or never; then the default
    /// projection must look inside attributes, and [`Projection::apply_owned`] takes the copying path.
    hides_sub_attributes: bool,
}

/// Whether the selections are an allow list, a deny list, or absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Default,
    Include,
    Exclude,
}

/// One named attribute, whole or some of its sub-attributes.
#[derive(Debug, Clone)]
struct Selection {
    schema: &'static str,
    name: &'static str,
    /// `None` selects the whole attribute.
    subs: Option<Vec<&'static str>>,
}

impl Projection {
    /// Resolves the paths. `attributes` wins when both lists are non-empty.
    pub fn new(rt: &ResourceType, attributes: &[AttrPath], excluded: &[AttrPath]) -> Self {
        let (mode, paths) = if !attributes.is_empty() {
            (Mode::Include, attributes)
        } else if !excluded.is_empty() {
            (Mode::Exclude, excluded)
        } else {
            (Mode::Default, &[][..])
        };
        let hidden = |def: &AttributeDef| matches!(def.returned, Returned::Never | Returned::Request);
        let hides_sub_attributes = std::iter::once(rt.schema)
            .chain(rt.extensions.iter().map(|ext| ext.schema))
            .flat_map(|schema| schema.attributes.iter())
            .chain(crate::schema::COMMON_ATTRIBUTES)
            .any(|def| def.sub_attributes.iter().any(hidden));
        let mut projection = Self { rt: *rt, mode, selections: Vec::new(), hides_sub_attributes };
        for path in paths {
            match resolve(rt, path) {
                Some(Resolved::Attribute { attr, sub }) => projection.select(attr.schema.id, attr.def.name, sub),
                Some(Resolved::Schema { schema, in_extension }) => {
                    if !in_extension {
                        for def in crate::schema::COMMON_ATTRIBUTES {
                            projection.select(schema.id, def.name, None);
                        }
                    }
                    for def in schema.attributes {
                        projection.select(schema.id, def.name, None);
                    }
                }
                None => {}
            }
        }
        projection
    }

    /// The projected copy of a canonical resource.
    pub fn apply(&self, resource: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::with_capacity(resource.len());
        for (key, value) in resource {
            if key == "schemas" {
                out.insert(key.clone(), value.clone());
                continue;
            }
            if let Some((schema, true)) = self.rt.schema(key) {
                if let Value::Object(attrs) = value {
                    let projected = self.apply_schema(schema, attrs);
                    if !projected.is_empty() {
                        out.insert(key.clone(), Value::Object(projected));
                    }
                }
                continue;
            }
            match self.rt.attribute(None, key) {
                Some(attr) => {
                    if let Some(value) = self.project_attribute(self.rt.schema.id, attr.def, value) {
                        out.insert(key.clone(), value);
                    }
                }
                None if self.mode != Mode::Include => {
                    out.insert(key.clone(), value.clone());
                }
                None => {}
            }
        }
        out
    }

    /// The projection of a resource the caller no longer needs. Without `attributes` and `excludedAttributes`
    /// (the common case, as for every page of a list) it removes what is not returned by default in place instead
    /// of copying everything else; otherwise it is [`Projection::apply`].
    pub fn apply_owned(&self, mut resource: Map<String, Value>) -> Map<String, Value> {
        if self.mode != Mode::Default || self.hides_sub_attributes {
            return self.apply(&resource);
        }
        let shown = |def: &AttributeDef| !matches!(def.returned, Returned::Never | Returned::Request);
        resource.retain(|key, value| {
            if key == "schemas" {
                return true;
            }
            if let Some((schema, true)) = self.rt.schema(key) {
                if let Value::Object(attrs) = value {
                    attrs.retain(|name, _| schema.attribute(name).is_none_or(shown));
                    return !attrs.is_empty();
                }
                return true;
            }
            self.rt.attribute(None, key).is_none_or(|attr| shown(attr.def))
        });
        resource
    }

    /// Projects the attributes of one extension object.
    fn apply_schema(&self, schema: &'static Schema, attrs: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in attrs {
            match schema.attribute(key) {
                Some(def) => {
                    if let Some(value) = self.project_attribute(schema.id, def, value) {
                        out.insert(key.clone(), value);
                    }
                }
                None if self.mode != Mode::Include => {
                    out.insert(key.clone(), value.clone());
                }
                None => {}
            }
        }
        out
    }

    /// The projected value of one attribute, or `None` when it is not returned.
    fn project_attribute(&self, schema: &'static str, def: &'static AttributeDef, value: &Value) -> Option<Value> {
        match def.returned {
            Returned::Never => return None,
            Returned::Always => return Some(value.clone()),
            Returned::Default | Returned::Request => {}
        }
        let selection = self.selections.iter().find(|sel| sel.name == def.name && sel.schema == schema);
        let subs = match (self.mode, selection) {
            (Mode::Include, None) | (Mode::Exclude, Some(Selection { subs: None, .. })) => return None,
            (Mode::Exclude | Mode::Default, _) if def.returned == Returned::Request => return None,
            (Mode::Include, Some(Selection { subs: None, .. })) | (Mode::Exclude | Mode::Default, None) => {
                return Some(value.clone());
            }
            (_, Some(Selection { subs: Some(subs), .. })) => subs,
            (Mode::Default, Some(Selection { subs: None, .. })) => return Some(value.clone()),
        };
        let include = self.mode == Mode::Include;
        keep_subs(value, |name| subs.contains(&name) == include || is_always(def, name))
    }

    /// Adds (or widens) the selection of an attribute.
    fn select(&mut self, schema: &'static str, name: &'static str, sub: Option<&'static AttributeDef>) {
        let existing = self.selections.iter_mut().find(|sel| sel.name == name && sel.schema == schema);
        match (existing, sub) {
            (Some(sel), None) => sel.subs = None,
            (Some(Selection { subs: Some(subs), .. }), Some(sub)) => subs.push(sub.name),
            (Some(_), Some(_)) => {}
            (None, sub) => self.selections.push(Selection { schema, name, subs: sub.map(|sub| vec![sub.name]) }),
        }
    }
}

/// Whether a sub-attribute is always returned.
fn is_always(def: &AttributeDef, sub: &str) -> bool {
    def.sub_attributes.iter().any(|candidate| candidate.name == sub && candidate.returned == Returned::Always)
}

/// Keeps the sub-attributes `keep` accepts, in an object or in each object of an array; `None` when nothing is left.
fn keep_subs(value: &Value, keep: impl Fn(&str) -> bool) -> Option<Value> {
    let filter_object = |object: &Map<String, Value>| {
        let kept: Map<String, Value> = object
            .iter()
            .filter(|(key, _)| keep(key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        (!kept.is_empty()).then_some(kept)
    };
    match value {
        Value::Object(object) => filter_object(object).map(Value::Object),
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .iter()
                .filter_map(|item| match item {
                    Value::Object(object) => filter_object(object).map(Value::Object),
                    other => Some(other.clone()),
                })
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        other => Some(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::path::AttrPath;
    use crate::schema::{GROUP, USER};

    const EXT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
            "id": "u1",
            "externalId": "e1",
            "userName": "bjensen",
            "password": "secret",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "b@x.org", "type": "work", "primary": true}, {"value": "b@home.org", "type": "home"}],
            "meta": {"resourceType": "User"},
            EXT: {"employeeNumber": "7", "department": "R&D"},
        })
    }

    fn paths(list: &str) -> Vec<AttrPath> {
        list.split(',').filter(|item| !item.is_empty()).map(|item| AttrPath::parse(item).unwrap()).collect()
    }

    /// Projects the fixture user (or `resource`) with `attributes` / `excludedAttributes` given as comma lists.
    fn check_on(resource: &Value, group: bool, attributes: &str, excluded: &str, expected: &Value) {
        let rt = if group { GROUP } else { USER };
        let got = super::project(resource.as_object().unwrap(), &rt, &paths(attributes), &paths(excluded));
        assert_eq!(&Value::Object(got), expected, "attributes={attributes:?} excluded={excluded:?}");
    }

    fn check(attributes: &str, excluded: &str, expected: &Value) {
        check_on(&user(), false, attributes, excluded, expected);
    }

    const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    #[test]
    fn default_drops_never() {
        let mut expected = user();
        expected.as_object_mut().unwrap().remove("password");
        check("", "", &expected);
    }

    #[test]
    fn owned_projection_equals_the_copying_one() {
        let resource = user().as_object().unwrap().clone();
        for (attributes, excluded) in [("", ""), ("userName", ""), ("", "emails"), ("name.givenName", "userName")] {
            let projection = super::Projection::new(&USER, &paths(attributes), &paths(excluded));
            assert_eq!(
                projection.apply_owned(resource.clone()),
                projection.apply(&resource),
                "{attributes} {excluded}"
            );
        }
    }

    #[test]
    fn attributes() {
        let schemas = json!([CORE, EXT]);
        check("userName", "", &json!({"schemas": schemas, "id": "u1", "userName": "bjensen"}));
        check("USERNAME,password", "", &json!({"schemas": schemas, "id": "u1", "userName": "bjensen"}));
        check("name.givenName", "", &json!({"schemas": schemas, "id": "u1", "name": {"givenName": "Barbara"}}));
        check(
            "emails.value",
            "",
            &json!({"schemas": schemas, "id": "u1", "emails": [{"value": "b@x.org"}, {"value": "b@home.org"}]}),
        );
        check("name.givenName,name", "", &json!({"schemas": schemas, "id": "u1", "name": user()["name"]}));
        check(&format!("{EXT}:department"), "", &json!({"schemas": schemas, "id": "u1", EXT: {"department": "R&D"}}));
        check(EXT, "", &json!({"schemas": schemas, "id": "u1", EXT: user()[EXT]}));
        check("department", "", &json!({"schemas": schemas, "id": "u1", EXT: {"department": "R&D"}}));
        check(&format!("{CORE}:userName"), "", &json!({"schemas": schemas, "id": "u1", "userName": "bjensen"}));
        check("nosuch", "", &json!({"schemas": schemas, "id": "u1"}));
        check("id", "", &json!({"schemas": schemas, "id": "u1"}));
        check("userName", "userName", &json!({"schemas": schemas, "id": "u1", "userName": "bjensen"}));
    }

    #[test]
    fn excluded_attributes() {
        let mut without_emails = user();
        let base = without_emails.as_object_mut().unwrap();
        base.remove("password");
        base.remove("emails");
        check("", "emails", &Value::Object(base.clone()));
        check("", "EMAILS,id,password", &Value::Object(base.clone()));
        base.insert("name".into(), json!({"familyName": "Jensen"}));
        check("", "emails,name.givenName", &Value::Object(base.clone()));
        base.insert(EXT.into(), json!({"employeeNumber": "7"}));
        check("", &format!("emails,name.givenName,{EXT}:department"), &Value::Object(base.clone()));
        base.remove(EXT);
        check("", &format!("emails,name.givenName,{EXT}"), &Value::Object(base.clone()));
    }

    #[test]
    fn group_members_excluded() {
        let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g", "displayName": "G",
                           "members": [{"value": "u1"}]});
        let expected =
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g", "displayName": "G"});
        check_on(&group, true, "", "members", &expected);
        check_on(&group, true, "displayName", "", &expected);
    }
}

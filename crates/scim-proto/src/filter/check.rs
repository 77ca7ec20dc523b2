//! The semantic check, which is also the compiler: it resolves every path against the schema and turns every
//! comparison into a typed test, or says why it cannot.
//!
//! One walk serves both [`Filter::check`] and evaluation. In strict mode the first problem is the answer (a 400
//! `invalidFilter` detail); in lenient mode a comparison with a problem becomes a node that never matches.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::eval::{Access, Leaf, Node, Target, Test};
use super::{CompValue, CompareOp, Comparison, Filter};
use crate::path::AttrPath;
use crate::schema::{AttrType, AttributeDef, ResourceType};

/// Whether a problem stops the walk or turns the comparison into one that never matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strictness {
    Strict,
    Lenient,
}

/// Checks and compiles a filter over resources of `resource_type`.
pub(crate) fn for_resource(
    filter: &Filter,
    resource_type: &ResourceType,
    strictness: Strictness,
) -> Result<Node, String> {
    Walk { strictness, scope: Scope::Resource(resource_type) }.lower(filter)
}

/// Checks and compiles a value filter over the elements of `attr`.
pub(crate) fn for_element(filter: &Filter, attr: &AttributeDef, strictness: Strictness) -> Result<Node, String> {
    Walk { strictness, scope: Scope::Element { name: attr.name, attr } }.lower(filter)
}

/// The `schemas` attribute every resource has (RFC 7643 §3), which the schema data leaves out.
static SCHEMAS: AttributeDef = AttributeDef::reference("schemas", &["uri"]).multi();

/// What paths are relative to.
#[derive(Clone, Copy)]
enum Scope<'s> {
    /// A resource of this type.
    Resource(&'s ResourceType),
    /// An element of the named attribute, inside its value filter.
    Element { name: &'s str, attr: &'s AttributeDef },
}

/// Whether a comparison on a complex attribute goes through its `value` sub-attribute.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Through {
    Value,
    Itself,
}

struct Walk<'s> {
    strictness: Strictness,
    scope: Scope<'s>,
}

impl Walk<'_> {
    fn lower(&self, filter: &Filter) -> Result<Node, String> {
        match filter {
            Filter::And(left, right) => Ok(Node::And(Box::new(self.lower(left)?), Box::new(self.lower(right)?))),
            Filter::Or(left, right) => Ok(Node::Or(Box::new(self.lower(left)?), Box::new(self.lower(right)?))),
            Filter::Not(inner) => Ok(Node::Not(Box::new(self.lower(inner)?))),
            Filter::Present(path) => self.settle(self.resolve(path, Through::Itself).map(Node::Present)),
            Filter::Compare(comparison) => self.settle(self.comparison(comparison)),
            Filter::ValuePath(path, inner) => self.value_path(path, inner),
        }
    }

    /// In lenient mode, a problem becomes a node that never matches.
    fn settle(&self, node: Result<Node, String>) -> Result<Node, String> {
        match (node, self.strictness) {
            (Err(_), Strictness::Lenient) => Ok(Node::Never),
            (node, _) => node,
        }
    }

    fn value_path(&self, path: &AttrPath, inner: &Filter) -> Result<Node, String> {
        let resource_type = match self.scope {
            Scope::Resource(resource_type) => resource_type,
            Scope::Element { name, .. } => {
                return self.settle(Err(format!(
                    "value filters cannot be nested: '{path}[...]' is inside the value filter of '{name}'"
                )));
            }
        };
        let attr = match top_level(path, resource_type) {
            Ok(attr) => attr,
            Err(message) => return self.settle(Err(message)),
        };
        if let Some(sub_attr) = &path.sub_attr {
            return self.settle(Err(format!(
                "a value filter applies to an attribute, not to a sub-attribute: '{}[...]' rather than '{path}[...]' \
                 ('{sub_attr}' can be named inside the brackets)",
                AttrPath { sub_attr: None, ..path.clone() }
            )));
        }
        if !attr.def.multi_valued && attr.def.kind != AttrType::Complex {
            return self.settle(Err(format!(
                "'{path}' is a single {} value, so it cannot take a value filter; value filters apply to \
                 multi-valued or complex attributes",
                attr.def.kind.as_str()
            )));
        }
        let walk = Walk { strictness: self.strictness, scope: Scope::Element { name: &path.name, attr: attr.def } };
        let inner = walk.lower(inner)?;
        Ok(Node::ValuePath(attr.access(None), Box::new(inner)))
    }

    fn comparison(&self, comparison: &Comparison) -> Result<Node, String> {
        let Comparison { path, op, value } = comparison;
        let negate = |node| if *op == CompareOp::Ne { Node::Not(Box::new(node)) } else { node };
        if *value == CompValue::Null {
            if !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                return Err(format!(
                    "'{op}' cannot compare with null; use '{path} eq null' (absent) or '{path} pr' (present)"
                ));
            }
            // `eq null` is `not pr`, and `ne null` is `pr`.
            let present = Node::Present(self.resolve(path, Through::Itself)?);
            return Ok(if *op == CompareOp::Eq { Node::Not(Box::new(present)) } else { present });
        }
        let target = self.resolve(path, Through::Value)?;
        let test = test(path, target.leaf, *op, value)?;
        Ok(negate(Node::Compare(target, test)))
    }

    /// Resolves a path in the current scope to the values it names.
    fn resolve(&self, path: &AttrPath, through: Through) -> Result<Target, String> {
        match self.scope {
            Scope::Resource(resource_type) => {
                let attr = top_level(path, resource_type)?;
                let sub = match &path.sub_attr {
                    Some(sub_attr) => Some(sub_attribute(attr.def, &attr.display(path), sub_attr)?),
                    None if through == Through::Value && attr.def.kind == AttrType::Complex => {
                        Some(attr.def.sub_attribute("value").ok_or_else(|| complex_without_value(path, attr.def))?)
                    }
                    None => None,
                };
                let leaf = Leaf::of(sub.unwrap_or(attr.def));
                Ok(Target { access: attr.access(sub), leaf })
            }
            Scope::Element { name, attr } => {
                if path.urn.is_some() {
                    return Err(format!(
                        "inside the value filter of '{name}', name its sub-attributes without a schema URN, as in \
                         '{}'",
                        AttrPath { urn: None, ..path.clone() }
                    ));
                }
                if attr.kind != AttrType::Complex {
                    if !path.name.eq_ignore_ascii_case("value") || path.sub_attr.is_some() {
                        return Err(format!(
                            "the elements of '{name}' are simple values, called 'value' inside its value filter, so \
                             '{path}' names nothing"
                        ));
                    }
                    return Ok(Target { access: Access::ElementItself, leaf: Leaf::of(attr) });
                }
                let sub = sub_attribute(attr, name, &path.name)?;
                if path.sub_attr.is_some() {
                    return Err(format!("'{name}.{}' has no sub-attributes, so '{path}' names nothing", sub.name));
                }
                if through == Through::Value && sub.kind == AttrType::Complex {
                    return Err(complex_without_value(path, sub));
                }
                Ok(Target { access: Access::ElementMember(sub.name), leaf: Leaf::of(sub) })
            }
        }
    }
}

/// A resolved top-level attribute.
struct TopLevel {
    def: &'static AttributeDef,
    /// The extension URN under whose key the attribute lives, if any.
    extension: Option<&'static str>,
    /// For the `schemas` attribute, which a resource may leave implicit, how to read it.
    schemas: Option<Access>,
}

impl TopLevel {
    fn access(&self, sub: Option<&'static AttributeDef>) -> Access {
        match &self.schemas {
            Some(schemas) => schemas.clone(),
            None => Access::Resource { extension: self.extension, key: self.def.name, member: sub.map(|sub| sub.name) },
        }
    }

    /// The attribute as the path names it, without its sub-attribute.
    fn display(&self, path: &AttrPath) -> String {
        AttrPath { sub_attr: None, ..path.clone() }.to_string()
    }
}

/// Looks up the top-level attribute of a path, with a message naming it if it does not exist.
fn top_level(path: &AttrPath, resource_type: &ResourceType) -> Result<TopLevel, String> {
    let urn = path.urn.as_deref();
    if let Some(urn) = urn
        && resource_type.schema(urn).is_none()
    {
        let known: Vec<&str> = resource_type.schema_urns().collect();
        return Err(format!(
            "unknown schema '{urn}' in '{path}'; {} resources have the schemas {}",
            resource_type.id,
            known.join(", ")
        ));
    }
    if let Some(attr) = resource_type.attribute(urn, &path.name) {
        return Ok(TopLevel { def: attr.def, extension: attr.in_extension.then_some(attr.schema.id), schemas: None });
    }
    let core = urn.is_none_or(|urn| resource_type.schema(urn).is_some_and(|(_, in_extension)| !in_extension));
    if core && path.name.eq_ignore_ascii_case(SCHEMAS.name) {
        let schemas = Access::Schemas { core: resource_type.schema.id, extensions: resource_type.extensions };
        return Ok(TopLevel { def: &SCHEMAS, extension: None, schemas: Some(schemas) });
    }
    let extension = resource_type.extensions.iter().find(|ext| ext.schema.attribute(&path.name).is_some());
    if urn.is_none()
        && let Some(extension) = extension
    {
        return Err(format!(
            "unknown attribute '{path}': {} is an attribute of the extension {}, so write '{}:{path}'",
            path.name, extension.schema.id, extension.schema.id
        ));
    }
    Err(match urn {
        Some(urn) => format!("unknown attribute '{path}': the schema {urn} has no attribute '{}'", path.name),
        None => format!("unknown attribute '{path}': {} resources have no attribute '{}'", resource_type.id, path.name),
    })
}

/// The sub-attribute `sub_attr` of `def` (named `name` in messages).
fn sub_attribute(def: &AttributeDef, name: &str, sub_attr: &str) -> Result<&'static AttributeDef, String> {
    if def.kind != AttrType::Complex {
        return Err(format!("'{name}' is a {} attribute, so it has no sub-attribute '{sub_attr}'", def.kind.as_str()));
    }
    def.sub_attribute(sub_attr).ok_or_else(|| {
        let known: Vec<&str> = def.sub_attributes.iter().map(|sub| sub.name).collect();
        format!("'{name}' has no sub-attribute '{sub_attr}'; its sub-attributes are {}", known.join(", "))
    })
}

fn complex_without_value(path: &AttrPath, def: &AttributeDef) -> String {
    let example = def.sub_attributes.first().map_or("name", |sub| sub.name);
    format!(
        "'{path}' is complex and has no 'value' sub-attribute, so compare one of its sub-attributes, such as \
         '{path}.{example}'"
    )
}

/// The typed test of `op value` on values of type `leaf`, or why the operator or literal does not suit it.
fn test(path: &AttrPath, leaf: Leaf, op: CompareOp, value: &CompValue) -> Result<Test, String> {
    // `ne` is compiled as `not eq`.
    let test_op = if op == CompareOp::Ne { CompareOp::Eq } else { op };
    let kind = leaf.kind.as_str();
    let ordering = matches!(op, CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le);
    let substring = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
    match leaf.kind {
        AttrType::String | AttrType::Reference | AttrType::Binary => {
            if leaf.kind == AttrType::Binary && ordering {
                return Err(format!("'{op}' cannot compare the binary attribute '{path}'; use eq, ne, co, sw or ew"));
            }
            let CompValue::String(text) = value else {
                return Err(format!("'{path}' is a {kind} attribute, so compare it with a quoted string, not {value}"));
            };
            Ok(Test::Text { op: test_op, text: leaf.fold(text), case_exact: leaf.case_exact })
        }
        AttrType::Boolean => {
            if !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                return Err(format!("'{op}' cannot compare the boolean attribute '{path}'; use eq or ne"));
            }
            match value {
                CompValue::Bool(expected) => Ok(Test::Bool(*expected)),
                _ => Err(format!("'{path}' is a boolean attribute, so compare it with true or false, not {value}")),
            }
        }
        AttrType::Integer | AttrType::Decimal => {
            if substring {
                return Err(format!(
                    "'{op}' cannot compare the {kind} attribute '{path}'; use eq, ne, gt, ge, lt or le"
                ));
            }
            match value {
                CompValue::Number(number) => Ok(Test::Number { op: test_op, number: number.clone() }),
                _ => Err(format!("'{path}' is an {kind} attribute, so compare it with a number, not {value}")),
            }
        }
        AttrType::DateTime => {
            if substring {
                return Err(format!(
                    "'{op}' cannot compare the dateTime attribute '{path}'; use eq, ne, gt, ge, lt or le"
                ));
            }
            let instant = match value {
                CompValue::String(text) => OffsetDateTime::parse(text, &Rfc3339).ok(),
                _ => None,
            };
            let Some(instant) = instant else {
                return Err(format!(
                    "'{path}' is a dateTime attribute, so compare it with an RFC 3339 date-time such as \
                     \"2011-05-13T04:42:34Z\", not {value}"
                ));
            };
            Ok(Test::DateTime { op: test_op, instant })
        }
        AttrType::Complex => Err(format!("'{path}' is complex, so compare one of its sub-attributes")),
    }
}

#[cfg(test)]
mod tests {
    use crate::filter::Filter;
    use crate::schema::{GROUP, USER};

    /// Parses `input`, checks it against the User type, and compares "ok" or the error detail.
    fn check(input: &str, expected: &str) {
        let filter = Filter::parse(input).unwrap();
        let actual = match filter.check(&USER) {
            Ok(()) => "ok".to_owned(),
            Err(error) => {
                assert_eq!(error.scim_type, Some(crate::ScimType::InvalidFilter));
                assert_eq!(error.status, 400);
                error.detail
            }
        };
        assert_eq!(actual, expected, "input: {input}");
    }

    #[test]
    fn accepts_rfc_examples_and_friends() {
        check(r#"userName eq "bjensen""#, "ok");
        check(r#"name.familyName co "O'Malley""#, "ok");
        check(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#, "ok");
        check("title pr", "ok");
        check(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, "ok");
        check(r#"meta.created le "2011-05-13T04:42:34.5+02:00""#, "ok");
        check(r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#, "ok");
        check(r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#, "ok");
        check(r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#, "ok");
        check(
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            "ok",
        );
        check(r#"USERNAME eq "x" and Name.FamilyName pr and EMAILS[TYPE eq "work"]"#, "ok");
        check(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1""#, "ok");
        check(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "1""#, "ok");
        check(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "1""#, "ok");
        check(r#"urn:ietf:params:scim:schemas:core:2.0:User:id eq "1""#, "ok");
        check(r#"groups.$ref co "Groups""#, "ok");
        check("active eq true and active ne false", "ok");
        check("name eq null and name ne null and active eq null and meta pr", "ok");
        check(r#"x509Certificates.value eq "TUlJ""#, "ok");
        check(r#"x509Certificates co "TUlJ""#, "ok");
        check(r#"emails[not (primary eq true)]"#, "ok");
        check(r#"name[familyName eq "x"]"#, "ok");
        check(r#"emails[value eq null]"#, "ok");
    }

    #[test]
    fn rejects_unknown_attributes() {
        check("nope pr", "unknown attribute 'nope': User resources have no attribute 'nope'");
        check(
            "employeeNumber pr",
            "unknown attribute 'employeeNumber': employeeNumber is an attribute of the extension urn:ietf:params:scim:schemas:extension:enterprise:2.0:User, so write 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber'",
        );
        check(
            "urn:x:y:userName pr",
            "unknown schema 'urn:x:y' in 'urn:x:y:userName'; User resources have the schemas urn:ietf:params:scim:schemas:core:2.0:User, urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        );
        check(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName pr",
            "unknown attribute 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName': the schema urn:ietf:params:scim:schemas:extension:enterprise:2.0:User has no attribute 'userName'",
        );
        check(
            "name.nope pr",
            "'name' has no sub-attribute 'nope'; its sub-attributes are formatted, familyName, givenName, middleName, honorificPrefix, honorificSuffix",
        );
        check("userName.x pr", "'userName' is a string attribute, so it has no sub-attribute 'x'");
        check(
            "emails[nope pr]",
            "'emails' has no sub-attribute 'nope'; its sub-attributes are value, display, type, primary",
        );
        check("emails[value.x pr]", "'emails.value' has no sub-attributes, so 'value.x' names nothing");
        check(
            "emails[urn:ietf:params:scim:schemas:core:2.0:User:value pr]",
            "inside the value filter of 'emails', name its sub-attributes without a schema URN, as in 'value'",
        );
        check(
            r#"emails[type eq "work"] and emails[nope pr]"#,
            "'emails' has no sub-attribute 'nope'; its sub-attributes are value, display, type, primary",
        );
    }

    #[test]
    fn rejects_misplaced_value_filters() {
        check(
            "userName[value pr]",
            "'userName' is a single string value, so it cannot take a value filter; value filters apply to multi-valued or complex attributes",
        );
        check(
            "name.givenName[value pr]",
            "a value filter applies to an attribute, not to a sub-attribute: 'name[...]' rather than 'name.givenName[...]' ('givenName' can be named inside the brackets)",
        );
    }

    #[test]
    fn rejects_type_mismatches() {
        check(
            r#"active eq "true""#,
            r#"'active' is a boolean attribute, so compare it with true or false, not "true""#,
        );
        check("active gt true", "'gt' cannot compare the boolean attribute 'active'; use eq or ne");
        check("active co true", "'co' cannot compare the boolean attribute 'active'; use eq or ne");
        check("userName eq 1", "'userName' is a string attribute, so compare it with a quoted string, not 1");
        check("userName eq true", "'userName' is a string attribute, so compare it with a quoted string, not true");
        check(
            "userName gt null",
            "'gt' cannot compare with null; use 'userName eq null' (absent) or 'userName pr' (present)",
        );
        check(
            r#"meta.created gt "yesterday""#,
            r#"'meta.created' is a dateTime attribute, so compare it with an RFC 3339 date-time such as "2011-05-13T04:42:34Z", not "yesterday""#,
        );
        check(
            "meta.created gt 5",
            r#"'meta.created' is a dateTime attribute, so compare it with an RFC 3339 date-time such as "2011-05-13T04:42:34Z", not 5"#,
        );
        check(
            r#"meta.created sw "2011""#,
            "'sw' cannot compare the dateTime attribute 'meta.created'; use eq, ne, gt, ge, lt or le",
        );
        check(
            r#"x509Certificates.value gt "A""#,
            "'gt' cannot compare the binary attribute 'x509Certificates.value'; use eq, ne, co, sw or ew",
        );
        check(
            r#"name eq "x""#,
            "'name' is complex and has no 'value' sub-attribute, so compare one of its sub-attributes, such as 'name.formatted'",
        );
        check(
            r#"meta co "x""#,
            "'meta' is complex and has no 'value' sub-attribute, so compare one of its sub-attributes, such as 'meta.resourceType'",
        );
        check(
            r#"emails[primary eq "yes"]"#,
            r#"'primary' is a boolean attribute, so compare it with true or false, not "yes""#,
        );
    }

    #[test]
    fn group_type() {
        let check = |input: &str, expected: &str| {
            let actual =
                Filter::parse(input).unwrap().check(&GROUP).map_or_else(|error| error.detail, |()| "ok".into());
            assert_eq!(actual, expected, "input: {input}");
        };
        check(r#"displayName eq "Admins" and members[value eq "1"]"#, "ok");
        check(r#"members.value eq "1" and members.$ref pr and schemas pr"#, "ok");
        check("userName pr", "unknown attribute 'userName': Group resources have no attribute 'userName'");
    }
}

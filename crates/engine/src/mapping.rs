//! Attribute mappings, compiled once per cycle and evaluated per object: from a source object to the target
//! attributes roster wants, in the target's JSON shapes.

use std::collections::BTreeMap;

use rand::RngCore;
use roster_expr::{Context, EvalError, Expression, Outcome, Source, Value as ExprValue};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::definition::{Apply, Mapping, MappingKind};
use crate::target::{TargetPath, TargetPathError};

/// A mapping that cannot be used as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// The target path is not one roster can write.
    #[error(transparent)]
    Target(#[from] TargetPathError),
    /// The expression does not parse.
    #[error("mapping to \"{target}\": {message}")]
    Expression {
        /// The target attribute.
        target: String,
        /// The parser's message, with the column.
        message: String,
    },
    /// Direct, Constant and Expression mappings need a source.
    #[error("mapping to \"{target}\": a {kind} mapping needs a source")]
    MissingSource {
        /// The target attribute.
        target: String,
        /// `direct`, `constant` or `expression`.
        kind: &'static str,
    },
    /// Two mappings write the same target attribute.
    #[error("two mappings write \"{0}\"")]
    Duplicate(String),
    /// A matching attribute must be written by an Always mapping, so every object has it.
    #[error("the matching attribute \"{0}\" must be mapped with apply = \"always\"")]
    MatchingOnCreate(String),
}

/// One compiled mapping.
#[derive(Debug, Clone)]
pub struct CompiledMapping {
    /// Where the value goes.
    pub path: TargetPath,
    expression: Option<Expression>,
    default: Option<String>,
    /// Always or only on create.
    pub apply: Apply,
    /// Matching precedence.
    pub matching: Option<u32>,
}

/// The compiled mappings of one object kind. A mapping to `members` (groups) is not evaluated: memberships are
/// reconciled on their own; [`Mapper::maps_members`] tells whether it exists.
#[derive(Debug, Clone)]
pub struct Mapper {
    mappings: Vec<CompiledMapping>,
    members: bool,
}

/// What one mapping produced for one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredValue {
    /// The target value; `None` when the source is null (roster then removes a value it exported before).
    pub value: Option<Value>,
    /// Whether logs must hide it (`Redact`), and the shadow keep only its digest.
    pub secret: bool,
    /// Always or only on create.
    pub apply: Apply,
}

/// Everything the mappings produced for one object, by target path (mappings whose expression said
/// IgnoreFlowIfNullOrEmpty are absent).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Desired {
    /// By target path as written in the mapping.
    pub values: BTreeMap<String, DesiredValue>,
}

impl Mapper {
    /// Compiles mappings: parses target paths and expressions, and checks them.
    pub fn compile(mappings: &[Mapping]) -> Result<Mapper, MappingError> {
        let mut compiled = Vec::with_capacity(mappings.len());
        let mut members = false;
        let mut seen = std::collections::BTreeSet::new();
        for mapping in mappings {
            if !seen.insert(mapping.target.to_ascii_lowercase()) {
                return Err(MappingError::Duplicate(mapping.target.clone()));
            }
            let path = TargetPath::parse(&mapping.target)?;
            if path.is("members") {
                members = true;
                continue;
            }
            let source = |kind: &'static str| {
                mapping
                    .source
                    .as_deref()
                    .ok_or_else(|| MappingError::MissingSource { target: mapping.target.clone(), kind })
            };
            let text = match mapping.kind {
                MappingKind::Direct => Some(format!("[{}]", source("direct")?)),
                MappingKind::Constant => Some(quote(source("constant")?)),
                MappingKind::Expression => Some(source("expression")?.to_owned()),
                MappingKind::None => None,
            };
            let expression = text
                .map(|text| {
                    Expression::parse(&text).map_err(|error| MappingError::Expression {
                        target: mapping.target.clone(),
                        message: error.to_string(),
                    })
                })
                .transpose()?;
            if mapping.matching.is_some() && (mapping.apply == Apply::OnCreate || expression.is_none()) {
                return Err(MappingError::MatchingOnCreate(mapping.target.clone()));
            }
            compiled.push(CompiledMapping {
                path,
                expression,
                default: mapping.default.clone(),
                apply: mapping.apply,
                matching: mapping.matching,
            });
        }
        Ok(Mapper { mappings: compiled, members })
    }

    /// Whether group members are provisioned.
    pub fn maps_members(&self) -> bool {
        self.members
    }

    /// The mappings, in definition order.
    pub fn mappings(&self) -> &[CompiledMapping] {
        &self.mappings
    }

    /// The matching attributes in precedence order.
    pub fn matching(&self) -> Vec<&CompiledMapping> {
        let mut matching: Vec<&CompiledMapping> =
            self.mappings.iter().filter(|mapping| mapping.matching.is_some()).collect();
        matching.sort_by_key(|mapping| mapping.matching);
        matching
    }

    /// The mapping of a target path.
    pub fn mapping(&self, path: &str) -> Option<&CompiledMapping> {
        self.mappings.iter().find(|mapping| mapping.path.as_str() == path)
    }

    /// Evaluates every mapping against a source object. `creating` applies defaults for null values (Entra sends
    /// the default only on create).
    pub fn evaluate(
        &self,
        source: &dyn Source,
        creating: bool,
        now: OffsetDateTime,
        rng: &mut dyn RngCore,
    ) -> Result<Desired, (String, EvalError)> {
        let mut desired = Desired::default();
        for mapping in &self.mappings {
            let outcome = match &mapping.expression {
                Some(expression) => {
                    let mut context = Context::new(now, rng);
                    expression.evaluate(source, &mut context).map_err(|error| (mapping.path.to_string(), error))?
                }
                None => Outcome::Null,
            };
            let (value, secret) = match outcome {
                Outcome::Ignore => continue,
                Outcome::Value { value, secret } => (to_json(&mapping.path, &value), secret),
                Outcome::Null => (None, false),
            };
            let value = match (value, &mapping.default) {
                (None, Some(default)) if creating => Some(coerce(&mapping.path, Value::String(default.clone()))),
                // A None mapping leaves the target attribute alone, and so does a null source where a default was
                // sent on create: roster does not remove what only the create gave.
                (None, _) if !creating && (mapping.expression.is_none() || mapping.default.is_some()) => continue,
                (value, _) => value,
            };
            desired.values.insert(mapping.path.to_string(), DesiredValue { value, secret, apply: mapping.apply });
        }
        Ok(desired)
    }
}

impl Desired {
    /// The body of a create: every value, at its path, with the schemas the extension paths need.
    pub fn create_body(&self, mapper: &Mapper, core_schema: &str) -> Value {
        let mut body = Map::new();
        let mut schemas = vec![Value::String(core_schema.to_owned())];
        for mapping in mapper.mappings() {
            let Some(DesiredValue { value: Some(value), .. }) = self.values.get(mapping.path.as_str()) else {
                continue;
            };
            if let Some(urn) = mapping.path.urn()
                && !schemas.iter().any(|schema| schema.as_str() == Some(urn))
            {
                schemas.push(Value::String(urn.to_owned()));
            }
            mapping.path.put(&mut body, value.clone());
        }
        body.insert("schemas".to_owned(), Value::Array(schemas));
        Value::Object(body)
    }

    /// What the shadow keeps of this object after it was exported whole: every value (secrets as digests).
    pub fn exported(&self) -> BTreeMap<String, Value> {
        self.values
            .iter()
            .filter_map(|(path, desired)| {
                desired.value.as_ref().map(|value| (path.clone(), stored_form(value, desired.secret)))
            })
            .collect()
    }
}

/// What a shadow stores for a value: the value, or for a secret its SHA-256 digest, so that a change is still
/// detected but the secret is not kept.
pub fn stored_form(value: &Value, secret: bool) -> Value {
    if !secret {
        return value.clone();
    }
    let digest = Sha256::digest(value.to_string().as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    Value::String(format!("sha256:{hex}"))
}

/// `"text"` as an expression string literal.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// An expression value in the target's JSON shape; `None` for null.
pub fn to_json(path: &TargetPath, value: &ExprValue) -> Option<Value> {
    let json = match value {
        ExprValue::Null => return None,
        ExprValue::String(text) => Value::String(text.clone()),
        ExprValue::Boolean(flag) => Value::Bool(*flag),
        ExprValue::Number(number) => Value::from(*number),
        ExprValue::DateTime(at) => Value::String(
            at.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| value.to_string()),
        ),
        ExprValue::List(items) => {
            Value::Array(items.iter().filter_map(|item| to_json(path, item)).collect())
        }
        ExprValue::AppRoleAssignments(assignments) => Value::Array(
            assignments
                .iter()
                .map(|assignment| {
                    serde_json::json!({"value": assignment.value, "display": assignment.display_name})
                })
                .collect(),
        ),
        ExprValue::Roles(roles) => Value::Array(
            roles
                .iter()
                .map(|role| {
                    serde_json::json!({"primary": role.primary, "type": role.kind, "display": role.display, "value": role.value})
                })
                .collect(),
        ),
    };
    Some(coerce(path, json))
}

/// Booleans for boolean targets (`active`, `...primary`): Entra's expressions produce `"True"`/`"False"` strings.
fn coerce(path: &TargetPath, value: Value) -> Value {
    let boolean_target = path.is("active") || path.as_str().to_ascii_lowercase().ends_with(".primary");
    match value {
        Value::String(text) if boolean_target && text.eq_ignore_ascii_case("true") => Value::Bool(true),
        Value::String(text) if boolean_target && text.eq_ignore_ascii_case("false") => Value::Bool(false),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn mapping(target: &str, kind: MappingKind, source: Option<&str>) -> Mapping {
        Mapping {
            target: target.into(),
            kind,
            source: source.map(Into::into),
            default: None,
            apply: Apply::Always,
            matching: None,
        }
    }

    fn evaluate(mappings: &[Mapping], source: &BTreeMap<String, ExprValue>, creating: bool) -> Desired {
        let mapper = Mapper::compile(mappings).unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        mapper.evaluate(source, creating, datetime!(2026-01-01 0:00 UTC), &mut rng).unwrap()
    }

    #[test]
    fn the_four_kinds_and_defaults() {
        let mut source = BTreeMap::new();
        source.insert("userPrincipalName".to_owned(), ExprValue::from("ada@contoso.com"));
        source.insert("IsSoftDeleted".to_owned(), ExprValue::Boolean(false));
        let mut with_default = mapping("title", MappingKind::Direct, Some("jobTitle"));
        with_default.default = Some("Staff".into());
        let mappings = [
            mapping("userName", MappingKind::Direct, Some("userPrincipalName")),
            mapping("active", MappingKind::Expression, Some("Not([IsSoftDeleted])")),
            mapping("userType", MappingKind::Constant, Some("Employee \"A\"")),
            mapping("nickName", MappingKind::None, None),
            with_default,
            mapping("locale", MappingKind::Expression, Some("IgnoreFlowIfNullOrEmpty([preferredLanguage])")),
        ];
        let created = evaluate(&mappings, &source, true);
        let value = |desired: &Desired, path: &str| desired.values.get(path).map(|value| value.value.clone());
        assert_eq!(value(&created, "userName"), Some(Some(json!("ada@contoso.com"))));
        assert_eq!(value(&created, "active"), Some(Some(json!(true))));
        assert_eq!(value(&created, "userType"), Some(Some(json!("Employee \"A\""))));
        assert_eq!(value(&created, "nickName"), Some(None));
        assert_eq!(value(&created, "title"), Some(Some(json!("Staff"))));
        assert_eq!(value(&created, "locale"), None);
        let updated = evaluate(&mappings, &source, false);
        assert_eq!(value(&updated, "title"), None, "the default stays: not removed on update");
        assert_eq!(value(&updated, "nickName"), None, "a None mapping leaves the attribute alone");
        let mapper = Mapper::compile(&mappings).unwrap();
        assert_eq!(
            created.create_body(&mapper, "urn:ietf:params:scim:schemas:core:2.0:User"),
            json!({"userName": "ada@contoso.com", "active": true, "userType": "Employee \"A\"", "title": "Staff",
                   "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]})
        );
    }

    #[test]
    fn bad_mappings_are_refused() {
        let cases = [
            (
                vec![mapping("userName", MappingKind::Direct, None)],
                "mapping to \"userName\": a direct mapping needs a source",
            ),
            (vec![mapping("userName", MappingKind::Expression, Some("Join(\",\""))], "mapping to \"userName\": "),
            (
                vec![
                    mapping("userName", MappingKind::Direct, Some("a")),
                    mapping("USERNAME", MappingKind::Direct, Some("b")),
                ],
                "two mappings write \"USERNAME\"",
            ),
        ];
        for (mappings, expected) in cases {
            let error = Mapper::compile(&mappings).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{error}");
        }
        let mut on_create = mapping("externalId", MappingKind::Direct, Some("objectId"));
        on_create.apply = Apply::OnCreate;
        on_create.matching = Some(1);
        assert_eq!(
            Mapper::compile(&[on_create]).unwrap_err().to_string(),
            "the matching attribute \"externalId\" must be mapped with apply = \"always\""
        );
    }

    #[test]
    fn secrets_are_stored_as_digests() {
        let mut source = BTreeMap::new();
        source.insert("employeeId".to_owned(), ExprValue::from("hunter2"));
        let desired =
            evaluate(&[mapping("password", MappingKind::Expression, Some("Redact([employeeId])"))], &source, true);
        let stored = desired.exported();
        let Value::String(digest) = &stored["password"] else { panic!("{stored:?}") };
        assert!(digest.starts_with("sha256:") && !digest.contains("hunter2"), "{digest}");
    }
}

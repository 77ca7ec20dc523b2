//! Request bodies into canonical resources: case folding, URN placement, type checks with the tolerance real
//! clients need, required attributes, the single-primary rule and PUT replacement (RFC 7643 §2, §7; RFC 7644
//! §3.3, §3.5.1).
//!
//! A *canonical* resource is a `serde_json::Map` whose top-level keys are `schemas` and the core and common
//! attributes under their schema-cased names, whose extension attributes are nested under their extension's URN,
//! and which holds no `null`, no empty array and no empty object.
//!
//! Decisions, where the RFCs leave room:
//! - An unknown attribute of a schema the resource type knows (the core schema, or a declared extension) is a
//!   400 `invalidSyntax` naming it: a typo must not silently lose data. Keys qualified with a schema URN the
//!   resource type does not know (Entra's custom extensions, Microsoft's ADSCIM group schema) are ignored, and so
//!   are unknown *sub*-attributes (clients written for GitHub send `members[].displayName`).
//! - Read-only attributes and sub-attributes in a body (`id`, `meta`, `groups`, `members[].display`, ...) are
//!   dropped silently (RFC 7643 §7: "any values provided SHALL be ignored").
//! - Tolerance: `"True"`/`"False"` in any case for booleans; a single value for a multi-valued attribute is
//!   wrapped into an array; a one-element array for a single-valued attribute is unwrapped (Entra sends
//!   `manager` as `[{"value": ...}]`); a bare string for a complex attribute that has a `value` sub-attribute
//!   becomes `{"value": s}` (Entra's `manager` string and its test tool's `members`). Numbers are never turned
//!   into strings or the other way round.
//! - A plain name that is not a core or common attribute is looked up in the extensions (`"manager"` at the top
//!   level lands under the enterprise URN), as PATCH paths are.
//! - `schemas` must be present and list the core schema (case-insensitive); the output lists the core schema and
//!   the extensions actually present, whatever the client listed (Entra omits extension URNs).

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::path::AttrPath;
use crate::schema::{AttrRef, AttrType, AttributeDef, COMMON_ATTRIBUTES, Mutability, ResourceType, Schema};

/// Canonicalizes a POST or PUT body: checks `schemas`, folds names to their schema case, moves URN-qualified keys
/// to their place, drops `null`s and read-only attributes, and checks and coerces every value's type.
///
/// It does not check required attributes or the single-primary rule; [`prepare_create`] and [`apply_put`] do.
pub fn canonicalize(input: &Value, rt: &ResourceType) -> Result<Map<String, Value>, ScimError> {
    let object =
        input.as_object().ok_or_else(|| ScimError::invalid_syntax("the request body must be a JSON object"))?;
    check_schemas(object, rt)?;
    let mut out = canonicalize_fragment_map(object, rt)?;
    refresh_schemas(&mut out, rt);
    Ok(out)
}

/// Canonicalizes a partial resource, such as the value of a path-less PATCH operation: like [`canonicalize`],
/// but `schemas` is neither required nor produced.
pub fn canonicalize_fragment(input: &Value, rt: &ResourceType) -> Result<Map<String, Value>, ScimError> {
    let object = input.as_object().ok_or_else(|| ScimError::invalid_syntax("the value must be a JSON object"))?;
    canonicalize_fragment_map(object, rt)
}

/// Checks and coerces one attribute's value with the same rules as [`canonicalize`]. `Ok(None)` means the value
/// is unassigned (`null`, or an empty array or object).
pub fn canonicalize_value(def: &'static AttributeDef, value: &Value) -> Result<Option<Value>, ScimError> {
    coerce(def, None, value)
}

/// Canonicalizes a POST body and checks it as a new resource: [`canonicalize`], then [`validate_required`] and
/// [`at_most_one_primary`].
pub fn prepare_create(input: &Value, rt: &ResourceType) -> Result<Map<String, Value>, ScimError> {
    let resource = canonicalize(input, rt)?;
    validate_required(&resource, rt)?;
    at_most_one_primary(&resource, rt)?;
    Ok(resource)
}

/// Checks that every required attribute of the core schema and of each present (or required) extension has a
/// value, and that every element of a present complex attribute has its required sub-attributes. A missing value
/// is a 400 `invalidValue` (RFC 7644 §3.12: "A required value was missing").
pub fn validate_required(resource: &Map<String, Value>, rt: &ResourceType) -> Result<(), ScimError> {
    for attr in all_attributes(rt) {
        if attr.in_extension {
            let present = resource.get(attr.schema.id).is_some();
            let required = rt.extensions.iter().any(|ext| ext.schema.id == attr.schema.id && ext.required);
            if !present && !required {
                continue;
            }
        }
        let Some(value) = attr_value(resource, &attr) else {
            if attr.def.required {
                return Err(ScimError::invalid_value(format!("attribute '{}' is required", attr.def.name)));
            }
            continue;
        };
        for sub in attr.def.sub_attributes.iter().filter(|sub| sub.required) {
            let elements: &[Value] = match value {
                Value::Array(items) => items,
                other => std::slice::from_ref(other),
            };
            if elements.iter().any(|element| element.get(sub.name).is_none_or(Value::is_null)) {
                return Err(ScimError::invalid_value(format!(
                    "attribute '{}.{}' is required",
                    attr.def.name, sub.name
                )));
            }
        }
    }
    Ok(())
}

/// Enforces RFC 7643 §2.4 on a whole resource: a multi-valued attribute may have at most one element with
/// `"primary": true`; two or more are a 400 `invalidValue`. (PATCH instead clears the other elements' flag; see
/// [`crate::patch`].)
pub fn at_most_one_primary(resource: &Map<String, Value>, rt: &ResourceType) -> Result<(), ScimError> {
    for attr in all_attributes(rt).filter(|attr| attr.def.multi_valued) {
        let Some(Value::Array(items)) = attr_value(resource, &attr) else { continue };
        let n_primary = items.iter().filter(|item| item.get("primary") == Some(&Value::Bool(true))).count();
        if n_primary > 1 {
            return Err(ScimError::invalid_value(format!(
                "attribute '{}' has {n_primary} values with \"primary\": true; at most one may be primary",
                attr.def.name
            )));
        }
    }
    Ok(())
}

/// Replaces a resource with a PUT body (RFC 7644 §3.5.1), Okta and GitHub style: attributes the body does not
/// supply are removed. `incoming` must come from [`canonicalize`].
///
/// Per attribute mutability:
/// - `readOnly` (`id`, `meta`, `groups`): the existing values are kept, whatever the body says.
/// - `immutable`: a value may be set when there is none; a different value is a 400 `mutability`; an omitted
///   value keeps the existing one (omitting is not asking for a change the client may not make).
/// - `writeOnly` (`password`): an omitted value keeps the existing one, because a client that read the resource
///   never saw it and so cannot send it back.
/// - `readWrite`: the body's value, or nothing.
///
/// Immutable *sub*-attributes of multi-valued elements (`members[].value`) are not compared, since elements have
/// no identity across a replacement. The result is checked with [`validate_required`] and
/// [`at_most_one_primary`].
pub fn apply_put(
    existing: &Map<String, Value>,
    mut incoming: Map<String, Value>,
    rt: &ResourceType,
) -> Result<Map<String, Value>, ScimError> {
    let mut out = Map::new();
    for attr in all_attributes(rt) {
        let old = attr_value(existing, &attr).cloned();
        let new = take_attr(&mut incoming, &attr);
        let kept = match attr.def.mutability {
            Mutability::ReadOnly => old,
            Mutability::Immutable => match (old, new) {
                (Some(old), Some(new)) if !value_eq(attr.def, &old, &new) => {
                    return Err(ScimError::mutability(format!(
                        "attribute '{}' is immutable and already has a value",
                        attr.def.name
                    )));
                }
                (Some(old), None) => Some(old),
                (_, new) => new,
            },
            Mutability::WriteOnly => new.or(old),
            Mutability::ReadWrite => new,
        };
        if let Some(value) = kept {
            container_mut(&mut out, &attr)?.insert(attr.def.name.to_owned(), value);
        }
    }
    refresh_schemas(&mut out, rt);
    validate_required(&out, rt)?;
    at_most_one_primary(&out, rt)?;
    Ok(out)
}

/// What an attribute path names in a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// An attribute, and the sub-attribute when the path has one.
    Attribute {
        /// The attribute and the schema it lives in.
        attr: AttrRef,
        /// The sub-attribute named after the dot.
        sub: Option<&'static AttributeDef>,
    },
    /// A whole schema, by its URN (in practice an extension: `urn:...:enterprise:2.0:User`).
    Schema {
        /// The schema.
        schema: &'static Schema,
        /// Whether the schema is an extension of the resource type.
        in_extension: bool,
    },
}

/// Resolves an attribute path against a resource type, case-insensitively. A path without a URN is looked up in
/// the common attributes and the core schema first, then (tolerance) in the extensions. `None` when the path
/// names nothing the type knows.
pub fn resolve(rt: &ResourceType, path: &AttrPath) -> Option<Resolved> {
    let attr = match &path.urn {
        Some(urn) => match rt.attribute(Some(urn), &path.name) {
            Some(attr) => attr,
            None => {
                let schema = rt.schema_urns().find(|candidate| is_urn_plus_name(candidate, urn, &path.name))?;
                let (schema, in_extension) = rt.schema(schema)?;
                return path.sub_attr.is_none().then_some(Resolved::Schema { schema, in_extension });
            }
        },
        None if path.name.contains(':') => match classify_key(rt, &path.name) {
            KeyKind::Schema(schema, in_extension) if path.sub_attr.is_none() => {
                return Some(Resolved::Schema { schema, in_extension });
            }
            KeyKind::Qualified(schema, rest) => rt.attribute(Some(schema.id), rest)?,
            _ => return None,
        },
        None => rt
            .attribute(None, &path.name)
            .or_else(|| rt.extensions.iter().find_map(|ext| rt.attribute(Some(ext.schema.id), &path.name)))?,
    };
    let sub = match &path.sub_attr {
        Some(name) => Some(attr.def.sub_attribute(name)?),
        None => None,
    };
    Some(Resolved::Attribute { attr, sub })
}

/// The value of an attribute in a canonical resource (looking under the extension URN when it is one).
pub fn attr_value<'a>(resource: &'a Map<String, Value>, attr: &AttrRef) -> Option<&'a Value> {
    if attr.in_extension {
        resource.get(attr.schema.id)?.as_object()?.get(attr.def.name)
    } else {
        resource.get(attr.def.name)
    }
}

/// Removes an attribute from a canonical resource and returns its value.
fn take_attr(resource: &mut Map<String, Value>, attr: &AttrRef) -> Option<Value> {
    if attr.in_extension {
        resource.get_mut(attr.schema.id)?.as_object_mut()?.remove(attr.def.name)
    } else {
        resource.remove(attr.def.name)
    }
}

/// Sets `schemas` to the core schema plus the extensions that have attributes, in the resource type's order, and
/// removes empty extension objects.
pub fn refresh_schemas(resource: &mut Map<String, Value>, rt: &ResourceType) {
    let mut schemas = vec![Value::String(rt.schema.id.to_owned())];
    for ext in rt.extensions {
        match resource.get(ext.schema.id) {
            Some(Value::Object(attrs)) if !attrs.is_empty() => schemas.push(Value::String(ext.schema.id.to_owned())),
            Some(_) => {
                resource.shift_remove(ext.schema.id);
            }
            None => {}
        }
    }
    if let Some(slot) = resource.get_mut("schemas") {
        *slot = Value::Array(schemas);
    } else {
        resource.shift_insert(0, "schemas".to_owned(), Value::Array(schemas));
    }
}

/// Every attribute definition of a resource type: common, core, then each extension's.
pub(crate) fn all_attributes(rt: &ResourceType) -> impl Iterator<Item = AttrRef> + '_ {
    let common = COMMON_ATTRIBUTES.iter().map(|def| AttrRef { schema: rt.schema, def, in_extension: false });
    let core = rt.schema.attributes.iter().map(|def| AttrRef { schema: rt.schema, def, in_extension: false });
    let extensions = rt.extensions.iter().flat_map(|ext| {
        ext.schema.attributes.iter().map(|def| AttrRef { schema: ext.schema, def, in_extension: true })
    });
    common.chain(core).chain(extensions)
}

/// The map that holds an attribute: the resource itself, or its extension object (created when missing).
pub(crate) fn container_mut<'a>(
    resource: &'a mut Map<String, Value>,
    attr: &AttrRef,
) -> Result<&'a mut Map<String, Value>, ScimError> {
    if !attr.in_extension {
        return Ok(resource);
    }
    let slot = resource.entry(attr.schema.id.to_owned()).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut().ok_or_else(|| ScimError::status(500, "extension slot is not an object"))
}

/// Compares two values of an attribute, honouring `caseExact` for strings (recursively for sub-attributes and
/// elements). Object comparison ignores key order.
pub(crate) fn value_eq(def: &AttributeDef, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) if !def.case_exact => str_eq_ignore_case(a, b),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| value_eq(def, a, b)),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter().all(|(key, a_value)| {
                    b.get(key).is_some_and(|b_value| match def.sub_attribute(key) {
                        Some(sub) => value_eq(sub, a_value, b_value),
                        None => a_value == b_value,
                    })
                })
        }
        (a, b) => a == b,
    }
}

/// Unicode case-insensitive equality without allocating.
pub(crate) fn str_eq_ignore_case(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || a.chars().flat_map(char::to_lowercase).eq(b.chars().flat_map(char::to_lowercase))
}

/// Removes `null`s, empty arrays and empty objects, recursively, so the resource stays canonical.
pub(crate) fn prune(map: &mut Map<String, Value>) {
    map.retain(|_, value| prune_value(value));
}

/// Prunes a value in place and says whether it should be kept.
fn prune_value(value: &mut Value) -> bool {
    match value {
        Value::Null => false,
        Value::Array(items) => {
            items.retain_mut(prune_value);
            !items.is_empty()
        }
        Value::Object(map) => {
            prune(map);
            !map.is_empty()
        }
        _ => true,
    }
}

/// How a top-level key relates to the resource type's schemas.
pub(crate) enum KeyKind<'k> {
    /// A plain attribute name.
    Plain,
    /// Exactly a schema URN: the value holds that schema's attributes.
    Schema(&'static Schema, bool),
    /// `URN:rest`, where URN is one of the type's schemas.
    Qualified(&'static Schema, &'k str),
    /// A URN (or URL) the type does not know.
    Foreign,
}

/// Classifies a key: plain name, a known schema URN, a URN-qualified attribute, or foreign.
pub(crate) fn classify_key<'k>(rt: &ResourceType, key: &'k str) -> KeyKind<'k> {
    if !key.contains(':') {
        return KeyKind::Plain;
    }
    for urn in rt.schema_urns() {
        let Some((schema, in_extension)) = rt.schema(urn) else { continue };
        if key.eq_ignore_ascii_case(urn) {
            return KeyKind::Schema(schema, in_extension);
        }
        if let Some(head) = key.get(..urn.len())
            && head.eq_ignore_ascii_case(urn)
            && let Some(rest) = key.get(urn.len()..).and_then(|rest| rest.strip_prefix(':'))
        {
            return KeyKind::Qualified(schema, rest);
        }
    }
    KeyKind::Foreign
}

/// Whether `candidate` is `urn + ":" + name`, ignoring ASCII case.
fn is_urn_plus_name(candidate: &str, urn: &str, name: &str) -> bool {
    candidate.len() == urn.len() + 1 + name.len()
        && candidate.get(..urn.len()).is_some_and(|head| head.eq_ignore_ascii_case(urn))
        && candidate.as_bytes().get(urn.len()) == Some(&b':')
        && candidate.get(urn.len() + 1..).is_some_and(|tail| tail.eq_ignore_ascii_case(name))
}

/// Checks that `schemas` is present and lists the core schema.
fn check_schemas(object: &Map<String, Value>, rt: &ResourceType) -> Result<(), ScimError> {
    let core = rt.schema.id;
    let missing = || ScimError::invalid_syntax(format!("'schemas' must be an array that lists \"{core}\""));
    let schemas = object.iter().find(|(key, _)| key.eq_ignore_ascii_case("schemas")).map(|(_, value)| value);
    let lists_core = match schemas.ok_or_else(missing)? {
        Value::Array(items) => items.iter().any(|item| item.as_str().is_some_and(|urn| urn.eq_ignore_ascii_case(core))),
        Value::String(urn) => urn.eq_ignore_ascii_case(core),
        _ => false,
    };
    if lists_core { Ok(()) } else { Err(missing()) }
}

/// Canonicalizes the attributes of a body or fragment, without `schemas`.
fn canonicalize_fragment_map(object: &Map<String, Value>, rt: &ResourceType) -> Result<Map<String, Value>, ScimError> {
    let mut out = Map::new();
    canonicalize_into(object, rt, rt.schema, false, &mut out)?;
    prune(&mut out);
    Ok(out)
}

/// Canonicalizes the keys of `object`, whose plain names belong to `schema`, into `out`.
fn canonicalize_into(
    object: &Map<String, Value>,
    rt: &ResourceType,
    schema: &'static Schema,
    in_extension: bool,
    out: &mut Map<String, Value>,
) -> Result<(), ScimError> {
    for (key, value) in object {
        if key.eq_ignore_ascii_case("schemas") || value.is_null() {
            continue;
        }
        let attr = match classify_key(rt, key) {
            KeyKind::Plain => {
                let urn = in_extension.then_some(schema.id);
                let in_extensions = || rt.extensions.iter().find_map(|ext| rt.attribute(Some(ext.schema.id), key));
                rt.attribute(urn, key).or_else(|| if in_extension { None } else { in_extensions() }).ok_or_else(
                    || ScimError::invalid_syntax(format!("unknown attribute '{key}' of schema \"{}\"", schema.id)),
                )?
            }
            KeyKind::Schema(schema, in_extension) => {
                let inner = value.as_object().ok_or_else(|| {
                    ScimError::invalid_syntax(format!("'{}' must be an object of that schema's attributes", schema.id))
                })?;
                canonicalize_into(inner, rt, schema, in_extension, out)?;
                continue;
            }
            KeyKind::Qualified(schema, rest) => rt.attribute(Some(schema.id), rest).ok_or_else(|| {
                ScimError::invalid_syntax(format!("unknown attribute '{rest}' of schema \"{}\"", schema.id))
            })?,
            KeyKind::Foreign => continue,
        };
        if attr.def.mutability == Mutability::ReadOnly {
            continue;
        }
        let Some(value) = coerce(attr.def, None, value)? else { continue };
        let container = container_mut(out, &attr)?;
        match (container.get_mut(attr.def.name), value) {
            (Some(Value::Object(existing)), Value::Object(more)) => existing.extend(more),
            (_, value) => {
                container.insert(attr.def.name.to_owned(), value);
            }
        }
    }
    Ok(())
}

/// Checks and coerces a value of `def`; `parent` names the enclosing complex attribute, for messages.
fn coerce(def: &'static AttributeDef, parent: Option<&str>, value: &Value) -> Result<Option<Value>, ScimError> {
    match value {
        Value::Null => Ok(None),
        Value::Array(items) if def.multi_valued => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if item.is_array() {
                    return Err(type_error(def, parent, "a value or an object per element", item));
                }
                if let Some(item) = coerce_one(def, parent, item)? {
                    out.push(item);
                }
            }
            Ok((!out.is_empty()).then_some(Value::Array(out)))
        }
        single if def.multi_valued => Ok(coerce_one(def, parent, single)?.map(|item| Value::Array(vec![item]))),
        Value::Array(items) => match items.as_slice() {
            [] => Ok(None),
            [only] if !only.is_array() => coerce_one(def, parent, only),
            _ => Err(type_error(def, parent, "a single value", value)),
        },
        single => coerce_one(def, parent, single),
    }
}

/// Checks and coerces one (non-array) value of `def`'s type.
fn coerce_one(def: &'static AttributeDef, parent: Option<&str>, value: &Value) -> Result<Option<Value>, ScimError> {
    let ok = |value: &Value| Ok(Some(value.clone()));
    match (def.kind, value) {
        (_, Value::Null) => Ok(None),
        (AttrType::Complex, Value::Object(object)) => coerce_complex(def, object),
        (AttrType::Complex, Value::String(_)) if def.sub_attribute("value").is_some() => {
            let mut object = Map::new();
            object.insert("value".to_owned(), value.clone());
            coerce_complex(def, &object)
        }
        (AttrType::Boolean, Value::Bool(_))
        | (AttrType::Decimal, Value::Number(_))
        | (AttrType::String | AttrType::Reference, Value::String(_)) => ok(value),
        (AttrType::Integer, Value::Number(number)) if number.is_i64() || number.is_u64() => ok(value),
        (AttrType::Boolean, Value::String(text)) if text.eq_ignore_ascii_case("true") => Ok(Some(Value::Bool(true))),
        (AttrType::Boolean, Value::String(text)) if text.eq_ignore_ascii_case("false") => Ok(Some(Value::Bool(false))),
        (AttrType::DateTime, Value::String(text)) if is_date_time(text) => ok(value),
        (AttrType::Binary, Value::String(text)) if is_base64(text) => ok(value),
        (kind, _) => {
            let expected = match kind {
                AttrType::String => "a string",
                AttrType::Boolean => "a boolean",
                AttrType::Decimal => "a number",
                AttrType::Integer => "an integer",
                AttrType::DateTime => "an RFC 3339 dateTime string",
                AttrType::Binary => "a base64 string",
                AttrType::Reference => "a reference (URI string)",
                AttrType::Complex => "an object",
            };
            Err(type_error(def, parent, expected, value))
        }
    }
}

/// Coerces the sub-attributes of a complex value: canonical names, unknown and read-only ones dropped.
fn coerce_complex(def: &'static AttributeDef, object: &Map<String, Value>) -> Result<Option<Value>, ScimError> {
    let mut out = Map::new();
    for (key, value) in object {
        let Some(sub) = def.sub_attribute(key) else { continue };
        if sub.mutability == Mutability::ReadOnly {
            continue;
        }
        if let Some(value) = coerce(sub, Some(def.name), value)? {
            out.insert(sub.name.to_owned(), value);
        }
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

/// A 400 `invalidValue` that names the attribute, what it must be and what it got.
fn type_error(def: &AttributeDef, parent: Option<&str>, expected: &str, got: &Value) -> ScimError {
    let name = match parent {
        Some(parent) => format!("{parent}.{}", def.name),
        None => def.name.to_owned(),
    };
    ScimError::invalid_value(format!("attribute '{name}' must be {expected}, got {}", describe(got)))
}

/// A short description of a JSON value for error messages.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(flag) => format!("the boolean {flag}"),
        Value::Number(number) => format!("the number {number}"),
        Value::String(text) if text.chars().count() > 64 => {
            let head: String = text.chars().take(64).collect();
            format!("the string {}...", Value::String(head))
        }
        Value::String(_) => format!("the string {value}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// Whether a string is an RFC 3339 date-time.
fn is_date_time(text: &str) -> bool {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_ok()
}

/// Whether a string is base64 (standard or URL-safe alphabet; padding optional but correct when present; MIME
/// line breaks allowed).
fn is_base64(text: &str) -> bool {
    let mut n_data = 0usize;
    let mut n_padding = 0usize;
    for byte in text.bytes().filter(|byte| !matches!(byte, b'\r' | b'\n')) {
        match byte {
            b'=' => n_padding += 1,
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'-' | b'_' if n_padding == 0 => n_data += 1,
            _ => return false,
        }
    }
    let padding_ok = n_padding == 0 || (n_padding <= 2 && (n_data + n_padding).is_multiple_of(4));
    padding_ok && n_data % 4 != 1
}

#[cfg(test)]
mod tests;

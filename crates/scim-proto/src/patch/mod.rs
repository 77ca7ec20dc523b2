//! PATCH (RFC 7644 §3.5.2): parsing and normalizing the body, with the dialects real clients send, and applying
//! the operations to a canonical resource.
//!
//! [`parse_patch`] turns a body into a list of [`PatchOperation`]s that *all have a path*, with attribute names
//! in their schema case, core attributes without a URN and extension attributes with their extension's URN, and
//! values already checked and coerced by the rules of [`crate::resource`]. [`apply_patch`] applies such a list.
//!
//! A provider that keeps group members in their own table inspects the operations whose `path.attr.name` is
//! `"members"` (`path.attr.urn` is `None`) and turns them into membership deltas: `Add` with a value array adds
//! [`PatchOperation::element_values`]; `Remove` without a filter removes those values, or every member when the
//! operation has no value; `Remove` with a filter removes [`PatchOperation::filter_eq_value`] when the filter is
//! `value eq "..."`; `Replace` without a filter sets the members to the value's elements. Anything else it can
//! run through [`apply_patch`] on the loaded members.
//!
//! Decisions, where the RFC leaves room or real clients disagree with it:
//! - `schemas` must list the PatchOp URN (any case); `Operations` may be spelled in any case, as may `op`,
//!   `path` and `value` and the operation names (Entra sends `Add`, `Replace`, `Remove`).
//! - An empty `Operations` array is accepted as a no-op, although RFC 7644 asks for "one or more": Entra's
//!   validator sends one, and doing nothing is the only sensible reading.
//! - A path-less `add`/`replace` becomes one operation per key of its object value. Keys may be plain names,
//!   dotted (`name.givenName`), URN-qualified, or an extension URN whose object value holds that extension's
//!   attributes (Entra's `aadOptscim062020`, Okta, GitHub). Keys are treated as in a request body: `schemas`,
//!   read-only attributes and keys of schemas the resource type does not know are skipped; an unknown attribute
//!   of a known schema is a 400 `invalidPath`. A path-less `remove` is a 400 `noTarget` (RFC 7644 §3.5.2.2).
//! - A path that is an extension URN, with an object value, is expanded the same way; `remove` on it removes all
//!   of the extension's attributes.
//! - `null` as the value of `replace` means unassigned: the operation becomes a `remove`. `add` with `null` is a
//!   no-op. `add`/`replace` without a value is a 400 `invalidValue`.
//! - An explicit path to an unknown attribute or sub-attribute is a 400 `invalidPath`, never ignored; a value
//!   filter on a single-valued attribute, or one that names an unknown sub-attribute, is a 400 `invalidPath` too.
//! - An explicit path to a read-only attribute or sub-attribute is a 400 `mutability`. An `immutable` attribute
//!   may be set while it has no value; changing or removing its value is a 400 `mutability`. The same holds for an
//!   immutable sub-attribute of an existing element (`members[value eq "a"].value`); replacing whole elements or
//!   the whole list is allowed.
//! - Removing a required attribute (or a required sub-attribute of a present complex attribute) is a 400
//!   `mutability`, as RFC 7644 §3.5.2.2 says.
//! - See [`apply_patch`] for the semantics of each operation.

mod apply;

use serde_json::{Map, Value};

pub use apply::apply_patch;

use crate::error::ScimError;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::path::{AttrPath, PatchPath};
use crate::resource::{KeyKind, Resolved, canonicalize_value, classify_key, resolve};
use crate::schema::{AttrType, AttributeDef, Mutability, ResourceType, Schema};

/// The kind of a PATCH operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchOpKind {
    /// `add`.
    Add,
    /// `replace`.
    Replace,
    /// `remove`.
    Remove,
}

impl PatchOpKind {
    /// The lowercase name, as RFC 7644 writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            PatchOpKind::Add => "add",
            PatchOpKind::Replace => "replace",
            PatchOpKind::Remove => "remove",
        }
    }
}

/// One normalized PATCH operation: it always has a path, whose attribute and sub-attribute names are in their
/// schema case, and whose value (if any) is checked and coerced.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    /// The operation.
    pub op: PatchOpKind,
    /// The target. `path.attr.urn` is `None` for core and common attributes and the extension URN for extension
    /// attributes.
    pub path: PatchPath,
    /// The value: for a multi-valued attribute without filter or sub-attribute, an array; for a filtered path
    /// without sub-attribute, one element (an object); otherwise a value of the target's type. `None` for
    /// `remove` without value.
    pub value: Option<Value>,
}

impl PatchOperation {
    /// The `value` sub-attribute of each element of the operation's value (or of the value itself when it is one
    /// object), for example the member ids of `{"op": "add", "path": "members", "value": [{"value": "u1"}]}`.
    pub fn element_values(&self) -> Vec<&str> {
        match &self.value {
            Some(Value::Array(items)) => items.iter().filter_map(|item| item.get("value")?.as_str()).collect(),
            Some(Value::Object(object)) => object.get("value").and_then(Value::as_str).into_iter().collect(),
            _ => Vec::new(),
        }
    }

    /// The compared string when the path's filter is exactly `value eq "..."`, as in
    /// `members[value eq "2819c223"]`.
    pub fn filter_eq_value(&self) -> Option<&str> {
        match &self.path.filter {
            Some(Filter::Compare(comparison))
                if comparison.op == CompareOp::Eq
                    && comparison.path.urn.is_none()
                    && comparison.path.sub_attr.is_none()
                    && comparison.path.name.eq_ignore_ascii_case("value") =>
            {
                match &comparison.value {
                    CompValue::String(text) => Some(text),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// Parses and normalizes a PATCH body; see the module documentation for the rules.
pub fn parse_patch(body: &Value, rt: &ResourceType) -> Result<Vec<PatchOperation>, ScimError> {
    let object = body.as_object().ok_or_else(|| ScimError::invalid_syntax("the PATCH body must be a JSON object"))?;
    let lists_patch_op = match get_ignore_case(object, "schemas") {
        Some(Value::Array(items)) => items.iter().any(|item| item.as_str().is_some_and(is_patch_op_urn)),
        Some(Value::String(urn)) => is_patch_op_urn(urn),
        _ => false,
    };
    if !lists_patch_op {
        return Err(ScimError::invalid_syntax(format!("'schemas' must list \"{}\"", crate::PATCH_OP_SCHEMA)));
    }
    let operations = match get_ignore_case(object, "Operations") {
        Some(Value::Array(operations)) => operations,
        Some(_) => return Err(ScimError::invalid_syntax("'Operations' must be an array")),
        None => return Err(ScimError::invalid_syntax("the PATCH body has no 'Operations' array")),
    };
    let mut out = Vec::with_capacity(operations.len());
    for (index, operation) in operations.iter().enumerate() {
        parse_operation(operation, rt, &mut out).map_err(|mut error| {
            error.detail = format!("operation {}: {}", index + 1, error.detail);
            error
        })?;
    }
    Ok(out)
}

/// Parses one operation into zero or more normalized operations.
fn parse_operation(operation: &Value, rt: &ResourceType, out: &mut Vec<PatchOperation>) -> Result<(), ScimError> {
    let object = operation.as_object().ok_or_else(|| ScimError::invalid_syntax("an operation must be an object"))?;
    let op = match get_ignore_case(object, "op") {
        Some(Value::String(name)) if name.eq_ignore_ascii_case("add") => PatchOpKind::Add,
        Some(Value::String(name)) if name.eq_ignore_ascii_case("replace") => PatchOpKind::Replace,
        Some(Value::String(name)) if name.eq_ignore_ascii_case("remove") => PatchOpKind::Remove,
        Some(other) => {
            return Err(ScimError::invalid_syntax(format!(
                "'op' must be \"add\", \"replace\" or \"remove\", got {}",
                crate::resource::describe(other)
            )));
        }
        None => return Err(ScimError::invalid_syntax("the operation has no 'op'")),
    };
    let value = get_ignore_case(object, "value");
    let path = match get_ignore_case(object, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.trim().is_empty() => None,
        Some(Value::String(text)) => Some(text.trim()),
        Some(other) => {
            return Err(ScimError::invalid_path(format!(
                "'path' must be a string, got {}",
                crate::resource::describe(other)
            )));
        }
    };
    let Some(path) = path else {
        if op == PatchOpKind::Remove {
            return Err(ScimError::no_target("a remove operation needs a 'path'"));
        }
        let Some(Value::Object(attributes)) = value else {
            return Err(ScimError::invalid_value("an add or replace without 'path' needs an object 'value'"));
        };
        return expand(op, attributes, rt, None, out);
    };
    match classify_key(rt, path) {
        KeyKind::Schema(schema, in_extension) => return expand_schema(op, schema, in_extension, value, rt, out),
        // A path under a schema this resource type does not have (an Entra custom extension such as
        // `urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:costCenter`) is ignored, as the same
        // key in a POST body or a path-less value is: a client that sends it on every update must not fail them all.
        KeyKind::Foreign if path.get(..4).is_some_and(|head| head.eq_ignore_ascii_case("urn:")) => return Ok(()),
        _ => {}
    }
    let path = PatchPath::parse(path)?;
    normalize(op, path, value, rt, true, out)
}

/// Expands the object value of a path-less operation (or of an operation whose path is a schema URN) into one
/// operation per key. `extension` is the schema whose attributes plain keys name, when not the core schema.
fn expand(
    op: PatchOpKind,
    attributes: &Map<String, Value>,
    rt: &ResourceType,
    extension: Option<&'static Schema>,
    out: &mut Vec<PatchOperation>,
) -> Result<(), ScimError> {
    for (key, value) in attributes {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        let path = match (classify_key(rt, key), extension) {
            (KeyKind::Schema(schema, in_extension), _) => {
                expand_schema(op, schema, in_extension, Some(value), rt, out)?;
                continue;
            }
            (KeyKind::Foreign, _) => continue,
            (KeyKind::Plain, Some(schema)) => {
                let mut path = PatchPath::parse(key)?;
                path.attr.urn = Some(schema.id.to_owned());
                path
            }
            (KeyKind::Plain | KeyKind::Qualified(..), _) => PatchPath::parse(key)?,
        };
        normalize(op, path, Some(value), rt, false, out)?;
    }
    Ok(())
}

/// Expands an operation on a whole schema (`"path": "urn:...:enterprise:2.0:User"`).
fn expand_schema(
    op: PatchOpKind,
    schema: &'static Schema,
    in_extension: bool,
    value: Option<&Value>,
    rt: &ResourceType,
    out: &mut Vec<PatchOperation>,
) -> Result<(), ScimError> {
    let extension = in_extension.then_some(schema);
    match (op, value) {
        (PatchOpKind::Remove, _) if in_extension => {
            for def in schema.attributes.iter().filter(|def| def.mutability != Mutability::ReadOnly) {
                let path = PatchPath {
                    attr: AttrPath { urn: Some(schema.id.to_owned()), name: def.name.to_owned(), sub_attr: None },
                    filter: None,
                    sub_attr: None,
                };
                out.push(PatchOperation { op, path, value: None });
            }
            Ok(())
        }
        (PatchOpKind::Add | PatchOpKind::Replace, Some(Value::Object(attributes))) => {
            expand(op, attributes, rt, extension, out)
        }
        (PatchOpKind::Add | PatchOpKind::Replace, Some(Value::Null)) => Ok(()),
        _ => Err(ScimError::invalid_value(format!(
            "an operation on the whole schema \"{}\" needs an object value of its attributes",
            schema.id
        ))),
    }
}

/// Resolves, checks and coerces one operation with a parsed path. `explicit` is false for operations made from
/// the keys of a path-less value, whose read-only keys are skipped rather than refused.
fn normalize(
    op: PatchOpKind,
    path: PatchPath,
    value: Option<&Value>,
    rt: &ResourceType,
    explicit: bool,
    out: &mut Vec<PatchOperation>,
) -> Result<(), ScimError> {
    let (attr, sub) = match resolve(rt, &path.attr) {
        Some(Resolved::Attribute { attr, sub }) => (attr, sub),
        Some(Resolved::Schema { schema, in_extension }) if path.filter.is_none() && path.sub_attr.is_none() => {
            return expand_schema(op, schema, in_extension, value, rt, out);
        }
        _ => return Err(ScimError::invalid_path(format!("no attribute '{path}' in the {} schema", rt.id))),
    };
    let def = attr.def;
    let after_filter = match &path.sub_attr {
        Some(name) => Some(
            def.sub_attribute(name)
                .ok_or_else(|| ScimError::invalid_path(format!("'{}' has no sub-attribute '{name}'", def.name)))?,
        ),
        None => None,
    };
    if let Some(filter) = &path.filter {
        if !def.multi_valued {
            return Err(ScimError::invalid_path(format!(
                "'{}' is single-valued, so it cannot have a value filter",
                def.name
            )));
        }
        filter.compile_element(def).map_err(|error| ScimError::invalid_path(error.detail))?;
    }
    if sub.is_some() && def.kind != AttrType::Complex {
        return Err(ScimError::invalid_path(format!("'{}' has no sub-attributes", def.name)));
    }
    let leaf = sub.or(after_filter);
    let read_only =
        def.mutability == Mutability::ReadOnly || leaf.is_some_and(|leaf| leaf.mutability == Mutability::ReadOnly);
    if read_only {
        if !explicit {
            return Ok(());
        }
        let name =
            if def.mutability == Mutability::ReadOnly { def.name } else { leaf.map_or(def.name, |leaf| leaf.name) };
        return Err(ScimError::mutability(format!("attribute '{name}' is read-only")));
    }
    let canonical = PatchPath {
        attr: AttrPath {
            urn: attr.in_extension.then(|| attr.schema.id.to_owned()),
            name: def.name.to_owned(),
            sub_attr: sub.map(|sub| sub.name.to_owned()),
        },
        filter: path.filter,
        sub_attr: after_filter.map(|sub| sub.name.to_owned()),
    };
    // A null sub-attribute in the object value of an add or replace on a single-valued complex attribute
    // (`{"op": "replace", "path": "name", "value": {"givenName": null}}`) unassigns that sub-attribute only; the
    // others are "left unchanged" (RFC 7644 §3.5.2.3), so it becomes a remove of the sub-attribute.
    let without_nulls;
    let value = match value {
        Some(Value::Object(fields))
            if op != PatchOpKind::Remove
                && leaf.is_none()
                && canonical.filter.is_none()
                && def.kind == AttrType::Complex
                && !def.multi_valued
                && fields.values().any(Value::is_null) =>
        {
            for key in fields.iter().filter(|(_, value)| value.is_null()).map(|(key, _)| key) {
                let Some(sub_def) = def.sub_attribute(key) else { continue };
                if sub_def.mutability == Mutability::ReadOnly {
                    continue;
                }
                let mut path = canonical.clone();
                path.attr.sub_attr = Some(sub_def.name.to_owned());
                out.push(PatchOperation { op: PatchOpKind::Remove, path, value: None });
            }
            let rest: Map<String, Value> =
                fields.iter().filter(|(_, value)| !value.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect();
            if rest.is_empty() {
                return Ok(());
            }
            without_nulls = Value::Object(rest);
            Some(&without_nulls)
        }
        other => other,
    };
    let value = match (op, value) {
        (PatchOpKind::Remove, Some(value))
            if !value.is_null() && leaf.is_none() && canonical.filter.is_none() && def.multi_valued =>
        {
            // Entra's dialect: remove exactly these elements. A value that names no element removes nothing; it
            // must never turn into "remove all".
            match canonicalize_value(def, value)? {
                Some(value) => Some(value),
                None => return Ok(()),
            }
        }
        (PatchOpKind::Remove, _) => None,
        (_, None) => return Err(ScimError::invalid_value(format!("a {} operation needs a 'value'", op.as_str()))),
        (_, Some(value)) => coerce_for(def, leaf, canonical.filter.is_some(), value)?,
    };
    let op = match (op, &value) {
        (PatchOpKind::Add, None) => return Ok(()),
        (PatchOpKind::Replace, None) => PatchOpKind::Remove,
        (op, _) => op,
    };
    out.push(PatchOperation { op, path: canonical, value });
    Ok(())
}

/// Coerces the value of an add or replace: of the sub-attribute, of one element (filtered path), or of the
/// attribute.
fn coerce_for(
    def: &'static AttributeDef,
    leaf: Option<&'static AttributeDef>,
    filtered: bool,
    value: &Value,
) -> Result<Option<Value>, ScimError> {
    if let Some(leaf) = leaf {
        return canonicalize_value(leaf, value);
    }
    if !filtered {
        return canonicalize_value(def, value);
    }
    match canonicalize_value(def, value)? {
        Some(Value::Array(mut items)) if items.len() == 1 => Ok(items.pop()),
        Some(_) => Err(ScimError::invalid_value(format!(
            "a filtered path of '{}' takes one element as its value, not several",
            def.name
        ))),
        None => Ok(None),
    }
}

/// A key of an object, compared case-insensitively (an exact match wins).
fn get_ignore_case<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object
        .get(key)
        .or_else(|| object.iter().find(|(candidate, _)| candidate.eq_ignore_ascii_case(key)).map(|(_, value)| value))
}

/// Whether a URN is the PatchOp message schema.
fn is_patch_op_urn(urn: &str) -> bool {
    urn.eq_ignore_ascii_case(crate::PATCH_OP_SCHEMA)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod model_tests;

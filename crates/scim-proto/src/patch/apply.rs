//! Applying normalized PATCH operations to a canonical resource (RFC 7644 §3.5.2.1-3).

use serde_json::{Map, Value};

use super::{PatchOpKind, PatchOperation};
use crate::error::ScimError;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::resource::{
    Resolved, attr_value, canonicalize_value, container_mut, prune, refresh_schemas, resolve, value_eq,
};
use crate::schema::{AttrRef, AttrType, AttributeDef, Mutability, ResourceType};

/// Applies operations from [`super::parse_patch`] to a canonical resource, atomically: the operations run on a
/// copy, and `resource` is replaced only when all succeed, so on error it is unchanged.
///
/// Semantics, per target:
/// - `add` on a single-valued attribute sets it; on a complex one merges the given sub-attributes; on a
///   multi-valued one appends the given elements, skipping any already there (an element is already there when
///   it is equal, or has the same `value` and agrees on every sub-attribute both have; the new sub-attributes are
///   merged into it). Re-adding an existing member therefore succeeds and changes nothing.
/// - `replace` on a single-valued attribute sets it; on a complex one merges the given sub-attributes (RFC 7644
///   §3.5.2.3: "Sub-attributes that are not specified ... are left unchanged"); on a multi-valued one without a
///   filter replaces all elements.
/// - A sub-attribute path (`name.givenName`) sets or removes the sub-attribute, creating the complex value when
///   absent; on a multi-valued attribute without filter (`emails.type`) it applies to every element.
/// - A filtered path (`emails[type eq "work"]`): `replace` replaces each matching element wholly, `add` merges
///   into each; with a sub-attribute (`emails[type eq "work"].value`) both set it on each matching element.
///   When nothing matches, both *create* the element, built from the filter's `eq` comparisons plus the value or
///   sub-attribute (Entra expects this upsert; RFC 7644 asks for 400 `noTarget`). A filter that is not `eq`
///   comparisons joined by `and` cannot build an element: 400 `noTarget`.
/// - `remove` removes the attribute, the sub-attribute, the matching elements, or the sub-attribute of the
///   matching elements; a filter that matches nothing removes nothing. With a value and no filter (Entra's
///   `{"op":"Remove","path":"members","value":[{"value":"u1"}]}`) it removes exactly the given elements, matched
///   by their `value` sub-attribute (by equality when they have none).
/// - When an operation leaves an element with `"primary": true`, every other element of that attribute gets
///   `"primary": false` (RFC 7643 §2.4: at most one primary). An `add` or `replace` that itself carries two
///   primaries is a 400 `invalidValue`.
/// - Mutability and required attributes: see the module documentation. Empty values left behind are removed and
///   `schemas` is recomputed, so the result stays canonical.
pub fn apply_patch(
    resource: &mut Map<String, Value>,
    ops: &[PatchOperation],
    rt: &ResourceType,
) -> Result<(), ScimError> {
    let mut work = resource.clone();
    for (index, op) in ops.iter().enumerate() {
        apply_one(&mut work, op, rt).map_err(|mut error| {
            error.detail = format!("operation {} ({} {}): {}", index + 1, op.op.as_str(), op.path, error.detail);
            error
        })?;
    }
    prune(&mut work);
    refresh_schemas(&mut work, rt);
    *resource = work;
    Ok(())
}

/// Applies one operation.
fn apply_one(resource: &mut Map<String, Value>, op: &PatchOperation, rt: &ResourceType) -> Result<(), ScimError> {
    let Some(Resolved::Attribute { attr, sub }) = resolve(rt, &op.path.attr) else {
        return Err(ScimError::invalid_path(format!("no attribute '{}' in the {} schema", op.path.attr, rt.id)));
    };
    let def = attr.def;
    let after_filter = match &op.path.sub_attr {
        Some(name) => Some(
            def.sub_attribute(name)
                .ok_or_else(|| ScimError::invalid_path(format!("'{}' has no sub-attribute '{name}'", def.name)))?,
        ),
        None => None,
    };
    for target in [Some(def), sub, after_filter].into_iter().flatten() {
        if target.mutability == Mutability::ReadOnly {
            return Err(ScimError::mutability(format!("attribute '{}' is read-only", target.name)));
        }
    }
    let immutable_before =
        if def.mutability == Mutability::Immutable { Some(attr_value(resource, &attr).cloned()) } else { None };
    let value = op.value.as_ref();
    let container = container_mut(resource, &attr)?;
    match (&op.path.filter, sub) {
        (Some(filter), _) => apply_filtered(container, def, filter, after_filter, op.op, value)?,
        (None, Some(sub)) => apply_sub(container, def, sub, op.op, value)?,
        (None, None) => apply_whole(container, def, op.op, value)?,
    }
    check_after(resource, &attr, immutable_before)
}

/// Enforces immutability and required attributes once an operation has run.
fn check_after(
    resource: &Map<String, Value>,
    attr: &AttrRef,
    immutable_before: Option<Option<Value>>,
) -> Result<(), ScimError> {
    let after = attr_value(resource, attr);
    if let Some(Some(before)) = immutable_before
        && !after.is_some_and(|after| value_eq(attr.def, &before, after))
    {
        return Err(ScimError::mutability(format!(
            "attribute '{}' is immutable and already has a value",
            attr.def.name
        )));
    }
    if attr.def.required && after.is_none() {
        return Err(ScimError::mutability(format!("attribute '{}' is required and cannot be removed", attr.def.name)));
    }
    Ok(())
}

/// An operation on a whole attribute.
fn apply_whole(
    container: &mut Map<String, Value>,
    def: &'static AttributeDef,
    op: PatchOpKind,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let name = def.name;
    match (op, value) {
        (PatchOpKind::Remove, Some(Value::Array(given))) if def.multi_valued => {
            let mut items = take_items(container, name);
            items.retain(|item| !given.iter().any(|given| same_element(def, given, item)));
            put_items(container, name, items);
        }
        (PatchOpKind::Remove, _) => {
            container.shift_remove(name);
        }
        (PatchOpKind::Add, Some(value)) if def.multi_valued => {
            let incoming = as_items(value);
            check_primaries(def, &incoming)?;
            let mut items = take_items(container, name);
            let mut touched = Vec::with_capacity(incoming.len());
            for element in incoming {
                touched.push(add_element(def, &mut items, element));
            }
            fix_primary(&mut items, &touched);
            put_items(container, name, items);
        }
        (PatchOpKind::Replace, Some(value)) if def.multi_valued => {
            let incoming = as_items(value);
            check_primaries(def, &incoming)?;
            let mut items: Vec<Value> = Vec::with_capacity(incoming.len());
            for element in incoming {
                add_element(def, &mut items, element);
            }
            put_items(container, name, items);
        }
        (PatchOpKind::Add | PatchOpKind::Replace, Some(Value::Object(given))) if def.kind == AttrType::Complex => {
            match container.get_mut(name) {
                Some(Value::Object(existing)) => {
                    for (key, value) in given {
                        existing.insert(key.clone(), value.clone());
                    }
                }
                _ => {
                    container.insert(name.to_owned(), Value::Object(given.clone()));
                }
            }
        }
        (PatchOpKind::Add | PatchOpKind::Replace, Some(value)) => {
            container.insert(name.to_owned(), value.clone());
        }
        (PatchOpKind::Add | PatchOpKind::Replace, None) => return Err(missing_value(op)),
    }
    Ok(())
}

/// An operation on a sub-attribute without a filter (`name.givenName`, `emails.type`).
fn apply_sub(
    container: &mut Map<String, Value>,
    def: &'static AttributeDef,
    sub: &'static AttributeDef,
    op: PatchOpKind,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let name = def.name;
    if def.multi_valued {
        let mut items = take_items(container, name);
        let indices: Vec<usize> = (0..items.len()).collect();
        let result = set_sub_on(&mut items, &indices, sub, op, value);
        if result.is_ok() && op != PatchOpKind::Remove && items.is_empty() {
            put_items(container, name, items);
            return Err(ScimError::no_target(format!("'{name}' has no elements to set '{}' on", sub.name)));
        }
        put_items(container, name, items);
        return result;
    }
    match (op, value) {
        (PatchOpKind::Remove, _) => {
            if let Some(Value::Object(object)) = container.get_mut(name) {
                if sub.required && object.contains_key(sub.name) {
                    return Err(required_sub(def, sub));
                }
                check_immutable_sub(object, sub, None)?;
                object.shift_remove(sub.name);
                if object.is_empty() {
                    container.shift_remove(name);
                }
            }
        }
        (_, Some(value)) => {
            let slot = container.entry(name.to_owned()).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(object) = slot {
                check_immutable_sub(object, sub, Some(value))?;
                object.insert(sub.name.to_owned(), value.clone());
            }
        }
        (_, None) => return Err(missing_value(op)),
    }
    Ok(())
}

/// An operation on a filtered path (`emails[type eq "work"]`, `emails[type eq "work"].value`).
fn apply_filtered(
    container: &mut Map<String, Value>,
    def: &'static AttributeDef,
    filter: &Filter,
    sub: Option<&'static AttributeDef>,
    op: PatchOpKind,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let name = def.name;
    let compiled = filter.compile_element(def).map_err(|error| ScimError::invalid_path(error.detail))?;
    let mut items = take_items(container, name);
    let matching: Vec<usize> =
        items.iter().enumerate().filter(|(_, item)| compiled.matches(item)).map(|(index, _)| index).collect();
    let result = apply_filtered_items(&mut items, &matching, def, filter, sub, op, value);
    if matching.len() > 1 && op != PatchOpKind::Remove {
        drop_repeated(&mut items);
    }
    put_items(container, name, items);
    result
}

/// Removes elements equal to an earlier one, `primary` aside (the kept element is primary if either was). A
/// filtered add or replace that matches several elements gives them all the same value (RFC 7644 §3.5.2.3: "all
/// matching record values SHALL be replaced"), which would otherwise leave the same e-mail address twice.
fn drop_repeated(items: &mut Vec<Value>) {
    fn without_primary(item: &Value) -> Value {
        let mut item = item.clone();
        if let Value::Object(object) = &mut item {
            object.shift_remove("primary");
        }
        item
    }
    let mut kept: Vec<Value> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        let key = without_primary(&item);
        match kept.iter_mut().find(|earlier| without_primary(earlier) == key) {
            Some(earlier) => {
                if item.get("primary") == Some(&Value::Bool(true))
                    && let Value::Object(object) = earlier
                {
                    object.insert("primary".into(), Value::Bool(true));
                }
            }
            None => kept.push(item),
        }
    }
    *items = kept;
}

/// The body of [`apply_filtered`], on the taken-out elements.
fn apply_filtered_items(
    items: &mut Vec<Value>,
    matching: &[usize],
    def: &'static AttributeDef,
    filter: &Filter,
    sub: Option<&'static AttributeDef>,
    op: PatchOpKind,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    if let Some(sub) = sub {
        if matching.is_empty() && op != PatchOpKind::Remove {
            let mut element = element_from_filter(filter, def)?;
            if let Some(value) = value {
                element.insert(sub.name.to_owned(), value.clone());
            }
            items.push(Value::Object(element));
            let last = items.len() - 1;
            fix_primary(items, &[last]);
            return Ok(());
        }
        return set_sub_on(items, matching, sub, op, value);
    }
    match (op, value) {
        (PatchOpKind::Remove, _) => {
            let mut index = 0;
            items.retain(|_| {
                let keep = !matching.contains(&index);
                index += 1;
                keep
            });
        }
        (_, None) => return Err(missing_value(op)),
        (_, Some(value)) if matching.is_empty() => {
            let mut element = element_from_filter(filter, def)?;
            match value {
                Value::Object(given) => element.extend(given.iter().map(|(key, value)| (key.clone(), value.clone()))),
                other if def.kind != AttrType::Complex => {
                    items.push(other.clone());
                    return Ok(());
                }
                _ => {}
            }
            items.push(Value::Object(element));
            let last = items.len() - 1;
            fix_primary(items, &[last]);
        }
        (_, Some(value)) => {
            for &index in matching {
                let Some(item) = items.get_mut(index) else { continue };
                match (op, item, value) {
                    (PatchOpKind::Add, Value::Object(existing), Value::Object(given)) => {
                        existing.extend(given.iter().map(|(key, value)| (key.clone(), value.clone())));
                    }
                    (_, item, value) => *item = value.clone(),
                }
            }
            fix_primary(items, matching);
        }
    }
    Ok(())
}

/// Sets or removes a sub-attribute on the elements at `indices`, dropping elements left empty.
fn set_sub_on(
    items: &mut Vec<Value>,
    indices: &[usize],
    sub: &'static AttributeDef,
    op: PatchOpKind,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let value = match (op, value) {
        (PatchOpKind::Remove, _) => None,
        (_, Some(value)) => Some(value),
        (_, None) => return Err(missing_value(op)),
    };
    for &index in indices {
        let Some(Value::Object(element)) = items.get_mut(index) else { continue };
        check_immutable_sub(element, sub, value)?;
        match value {
            Some(value) => {
                element.insert(sub.name.to_owned(), value.clone());
            }
            None if sub.required && element.contains_key(sub.name) => {
                return Err(ScimError::mutability(format!("sub-attribute '{}' is required", sub.name)));
            }
            None => {
                element.shift_remove(sub.name);
            }
        }
    }
    if value.is_some() {
        fix_primary(items, indices);
    }
    items.retain(|item| !matches!(item, Value::Object(element) if element.is_empty()));
    Ok(())
}

/// Builds a new element from a filter of `eq` comparisons joined by `and` (the Entra upsert).
fn element_from_filter(filter: &Filter, def: &'static AttributeDef) -> Result<Map<String, Value>, ScimError> {
    let mut element = Map::new();
    collect_eq(filter, def, &mut element)?;
    Ok(element)
}

/// Adds the comparisons of an `and` of `eq`s to `element`.
fn collect_eq(filter: &Filter, def: &'static AttributeDef, element: &mut Map<String, Value>) -> Result<(), ScimError> {
    let no_target = || {
        ScimError::no_target(format!(
            "no element of '{}' matches the filter, and an element can only be created from a filter of \
             'eq' comparisons joined by 'and'",
            def.name
        ))
    };
    match filter {
        Filter::And(a, b) => {
            collect_eq(a, def, element)?;
            collect_eq(b, def, element)
        }
        Filter::Compare(comparison)
            if comparison.op == CompareOp::Eq
                && comparison.path.urn.is_none()
                && comparison.path.sub_attr.is_none() =>
        {
            let sub = def.sub_attribute(&comparison.path.name).ok_or_else(no_target)?;
            let literal = match &comparison.value {
                CompValue::Bool(flag) => Value::Bool(*flag),
                CompValue::Number(number) => Value::Number(number.clone()),
                CompValue::String(text) => Value::String(text.clone()),
                CompValue::Null => return Err(no_target()),
            };
            let value = canonicalize_value(sub, &literal)?.ok_or_else(no_target)?;
            element.insert(sub.name.to_owned(), value);
            Ok(())
        }
        _ => Err(no_target()),
    }
}

/// Appends an element unless it is already there; returns the index of the new or existing element.
fn add_element(def: &AttributeDef, items: &mut Vec<Value>, element: Value) -> usize {
    if let Some(index) = items.iter().position(|item| value_eq(def, item, &element)) {
        return index;
    }
    let same_value = items.iter().position(|item| match (item, &element) {
        (Value::Object(existing), Value::Object(given)) => {
            given.contains_key("value")
                && given.iter().all(|(key, value)| match (existing.get(key), def.sub_attribute(key)) {
                    (None, _) => true,
                    (Some(existing), Some(sub)) => value_eq(sub, existing, value),
                    (Some(existing), None) => existing == value,
                })
        }
        _ => false,
    });
    match (same_value, element) {
        (Some(index), Value::Object(given)) => {
            if let Some(Value::Object(existing)) = items.get_mut(index) {
                existing.extend(given);
            }
            index
        }
        (_, element) => {
            items.push(element);
            items.len() - 1
        }
    }
}

/// Whether an element given to a `remove` with value names an existing element: by `value` when the given
/// element has one, else by equality.
fn same_element(def: &AttributeDef, given: &Value, item: &Value) -> bool {
    match (given.get("value"), item.get("value"), def.sub_attribute("value")) {
        (Some(given), Some(existing), Some(sub)) => value_eq(sub, given, existing),
        (Some(_), None, _) => false,
        _ => value_eq(def, given, item),
    }
}

/// After elements at `touched` were set, keeps only the last touched primary element primary.
fn fix_primary(items: &mut [Value], touched: &[usize]) {
    let Some(&winner) = touched.iter().rev().find(|&&index| items.get(index).is_some_and(is_primary)) else {
        return;
    };
    for (index, item) in items.iter_mut().enumerate() {
        if index != winner
            && is_primary(item)
            && let Value::Object(element) = item
        {
            element.insert("primary".to_owned(), Value::Bool(false));
        }
    }
}

/// Refuses an add or replace whose own elements have more than one primary.
fn check_primaries(def: &AttributeDef, incoming: &[Value]) -> Result<(), ScimError> {
    if incoming.iter().filter(|item| is_primary(item)).count() > 1 {
        return Err(ScimError::invalid_value(format!(
            "the value of '{}' has more than one element with \"primary\": true",
            def.name
        )));
    }
    Ok(())
}

/// Whether an element has `"primary": true`.
fn is_primary(item: &Value) -> bool {
    item.get("primary") == Some(&Value::Bool(true))
}

/// Refuses to change an immutable sub-attribute that already has a (different) value.
fn check_immutable_sub(
    element: &Map<String, Value>,
    sub: &AttributeDef,
    new_value: Option<&Value>,
) -> Result<(), ScimError> {
    if sub.mutability != Mutability::Immutable {
        return Ok(());
    }
    match (element.get(sub.name), new_value) {
        (Some(old), Some(new)) if value_eq(sub, old, new) => Ok(()),
        (Some(_), _) => {
            Err(ScimError::mutability(format!("sub-attribute '{}' is immutable and already has a value", sub.name)))
        }
        (None, _) => Ok(()),
    }
}

/// The error for removing a required sub-attribute.
fn required_sub(def: &AttributeDef, sub: &AttributeDef) -> ScimError {
    ScimError::mutability(format!("sub-attribute '{}.{}' is required and cannot be removed", def.name, sub.name))
}

/// The error for an add or replace without a value.
fn missing_value(op: PatchOpKind) -> ScimError {
    ScimError::invalid_value(format!("a {} operation needs a 'value'", op.as_str()))
}

/// Takes the elements of a multi-valued attribute out of its container, leaving `null` in its place (so that
/// [`put_items`] keeps the attribute's position).
fn take_items(container: &mut Map<String, Value>, name: &str) -> Vec<Value> {
    match container.get_mut(name).map(Value::take) {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other],
    }
}

/// Puts elements back, or removes the attribute when there are none.
fn put_items(container: &mut Map<String, Value>, name: &str, items: Vec<Value>) {
    if items.is_empty() {
        container.shift_remove(name);
    } else if let Some(slot) = container.get_mut(name) {
        *slot = Value::Array(items);
    } else {
        container.insert(name.to_owned(), Value::Array(items));
    }
}

/// The elements of a value: the array's, or the value itself.
fn as_items(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

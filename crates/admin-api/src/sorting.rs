//! `$orderby` on a directory collection: a page in the order of its sort keys (then the object id, so that the
//! order is total), with a keyset cursor of the last object's keys in its `$skiptoken`. The directory keeps its
//! objects in id order only, so a sorted page reads the whole collection once and keeps the `$top` first objects
//! after the cursor (memory bounded by `$top`, time by the collection's size). Strings compare without regard to
//! case, then exactly; null and absent come first in ascending order, as OData says.

use std::cmp::Ordering;

use roster_directory::port::DirectoryStore;
use serde_json::{Value, json};

use crate::error::GraphError;
use crate::odata::{self, OrderBy};
use crate::paging::{Listed, SCAN_LIMIT};

/// One sort key's value: absent or null, then a text (booleans as `false`/`true`), folded then exact.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum KeyValue {
    Null,
    Text(String, String),
}

impl KeyValue {
    fn of(value: Option<&Value>) -> KeyValue {
        match value {
            None | Some(Value::Null) => KeyValue::Null,
            Some(Value::String(text)) => KeyValue::Text(text.to_lowercase(), text.clone()),
            Some(other) => KeyValue::Text(other.to_string(), other.to_string()),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            KeyValue::Null => Value::Null,
            KeyValue::Text(_, exact) => Value::from(exact.as_str()),
        }
    }
}

/// An object's position in the order: its key values and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Position {
    keys: Vec<KeyValue>,
    id: String,
}

fn compare(left: &Position, right: &Position, descending: &[bool]) -> Ordering {
    for ((left, right), descending) in left.keys.iter().zip(&right.keys).zip(descending) {
        let order = left.cmp(right);
        if order != Ordering::Equal {
            return if *descending { order.reverse() } else { order };
        }
    }
    left.id.cmp(&right.id)
}

/// Refuses sort keys that are not among `sortable` (400, naming them).
pub fn check(keys: &[OrderBy], sortable: &[&str]) -> Result<(), GraphError> {
    for key in keys {
        let name = key.path.to_string();
        if !sortable.iter().any(|property| property.eq_ignore_ascii_case(&name)) {
            let message = match sortable {
                [] => format!("$orderby ('{name}') is not supported on this collection: it comes in its own order"),
                _ => format!("$orderby on '{name}' is not supported: sort on {}", sortable.join(", ")),
            };
            return Err(GraphError::new(axum::http::StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", message));
        }
    }
    Ok(())
}

/// Refuses any `$orderby` but the collection's own order, newest first (`activityDateTime desc`), which it takes.
pub fn check_newest_first(keys: &[OrderBy]) -> Result<(), GraphError> {
    match keys {
        [] => Ok(()),
        [key] if key.descending && key.path.to_string().eq_ignore_ascii_case("activityDateTime") => Ok(()),
        _ => Err(GraphError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            "$orderby: this collection comes newest first, the one order it has ($orderby=activityDateTime desc)",
        )),
    }
}

/// A sorted page: every object of the collection that `keep` keeps (filtering is its business; it returns the
/// object's whole JSON), in the order of `keys`, the first `top` after the `$skiptoken`'s cursor; then `show` makes
/// each one what the page shows (`$select`). Returns the page and the next cursor, if there are more.
pub async fn page<T: Listed>(
    store: &dyn DirectoryStore,
    keys: &[OrderBy],
    skiptoken: Option<&str>,
    top: usize,
    mut keep: impl FnMut(T) -> Result<Option<serde_json::Map<String, Value>>, GraphError> + Send,
    show: impl Fn(serde_json::Map<String, Value>) -> Value,
) -> Result<(Vec<Value>, Option<Value>), GraphError> {
    let descending: Vec<bool> = keys.iter().map(|key| key.descending).collect();
    let after = skiptoken.map(|token| cursor(token, keys.len())).transpose()?;
    let position = |object: &serde_json::Map<String, Value>| Position {
        keys: keys.iter().map(|key| KeyValue::of(property(object, &key.path))).collect(),
        id: object.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
    };
    // The first `top + 1` objects after the cursor, in order (one more than the page: whether there is a next).
    let mut best: Vec<(Position, serde_json::Map<String, Value>)> = Vec::with_capacity(top + 1);
    let mut last = None;
    loop {
        let batch = T::fetch(store, last.as_ref(), SCAN_LIMIT).await?;
        let full = batch.len() == SCAN_LIMIT;
        last = batch.last().map(|object| object.key().clone());
        for object in batch {
            let Some(object) = keep(object)? else { continue };
            let at = position(&object);
            if after.as_ref().is_some_and(|after| compare(&at, after, &descending) != Ordering::Greater) {
                continue;
            }
            if best.len() > top
                && best.last().is_some_and(|(worst, _)| compare(&at, worst, &descending) != Ordering::Less)
            {
                continue;
            }
            let index = best.partition_point(|(other, _)| compare(other, &at, &descending) == Ordering::Less);
            best.insert(index, (at, object));
            best.truncate(top + 1);
        }
        if !full {
            break;
        }
    }
    let more = best.len() > top;
    best.truncate(top);
    let next = match best.last() {
        Some((at, _)) if more => {
            Some(json!({"order": at.keys.iter().map(KeyValue::to_json).collect::<Vec<_>>(), "after": at.id}))
        }
        _ => None,
    };
    Ok((best.into_iter().map(|(_, object)| show(object)).collect(), next))
}

/// A property of an object by its path, case-insensitively as OData names are.
fn property<'o>(object: &'o serde_json::Map<String, Value>, path: &odata::PropertyPath) -> Option<&'o Value> {
    let mut segments = path.segments.iter();
    let first = segments.next()?;
    let mut value = object.iter().find(|(name, _)| name.eq_ignore_ascii_case(first)).map(|(_, value)| value)?;
    for segment in segments {
        let Value::Object(inner) = value else { return None };
        value = inner.iter().find(|(name, _)| name.eq_ignore_ascii_case(segment)).map(|(_, value)| value)?;
    }
    Some(value)
}

/// The position a sorted page's `$skiptoken` names.
fn cursor(token: &str, keys: usize) -> Result<Position, GraphError> {
    let invalid =
        || GraphError::bad_request("$skiptoken is not valid for this $orderby: use the @odata.nextLink as given");
    let cursor = odata::decode_skiptoken(token)?;
    let order =
        cursor.get("order").and_then(Value::as_array).filter(|order| order.len() == keys).ok_or_else(invalid)?;
    let id = cursor.get("after").and_then(Value::as_str).ok_or_else(invalid)?;
    Ok(Position { keys: order.iter().map(|value| KeyValue::of(Some(value))).collect(), id: id.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(keys: &[Option<&str>], id: &str) -> Position {
        Position {
            keys: keys.iter().map(|key| KeyValue::of(key.map(Value::from).as_ref())).collect(),
            id: id.to_owned(),
        }
    }

    #[test]
    fn positions_order_by_keys_without_case_then_by_id() {
        use Ordering::{Greater, Less};
        let cases = [
            (at(&[Some("ada")], "2"), at(&[Some("Bob")], "1"), &[false][..], Less),
            (at(&[Some("ada")], "2"), at(&[Some("Bob")], "1"), &[true][..], Greater),
            (at(&[Some("Ada")], "1"), at(&[Some("ada")], "2"), &[false][..], Less),
            (at(&[Some("ada")], "1"), at(&[Some("ada")], "2"), &[true][..], Less),
            (at(&[None], "9"), at(&[Some("a")], "1"), &[false][..], Less),
            (at(&[None], "9"), at(&[Some("a")], "1"), &[true][..], Greater),
            (at(&[Some("x"), Some("b")], "1"), at(&[Some("x"), Some("a")], "2"), &[false, false][..], Greater),
            (at(&[Some("x"), Some("b")], "1"), at(&[Some("x"), Some("a")], "2"), &[false, true][..], Less),
        ];
        for (left, right, descending, expected) in cases {
            assert_eq!(compare(&left, &right, descending), expected, "{left:?} {right:?} {descending:?}");
            assert_eq!(compare(&right, &left, descending), expected.reverse());
        }
    }

    #[test]
    fn a_cursor_reads_back_the_position_it_was_made_from() {
        let position = at(&[Some("Ada Lovelace"), None], "ec2d0d8a-3c1f-4c32-9d1b-4e0a2f3b5c6d");
        let token = odata::encode_skiptoken(
            &json!({"order": position.keys.iter().map(KeyValue::to_json).collect::<Vec<_>>(), "after": position.id}),
        );
        assert_eq!(cursor(&token, 2).unwrap(), position);
        assert!(cursor(&token, 1).is_err(), "a cursor of another $orderby");
        assert!(cursor(&odata::encode_skiptoken(&json!({"after": "x"})), 1).is_err());
    }
}

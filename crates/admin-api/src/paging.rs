//! Collection responses: Graph's envelope (`@odata.context`, `@odata.count`, `@odata.nextLink`, `value`) and the
//! keyset cursor behind `$skiptoken`.

use std::future::Future;
use std::pin::Pin;

use axum::Json;
use roster_directory::ObjectId;
use roster_directory::port::{DirectoryError, DirectoryStore};
use serde_json::{Map, Value, json};

use crate::error::GraphError;
use crate::odata;

/// The most objects one list request reads while looking for filter matches: a selective filter over a large
/// directory answers a short (even empty) page with a nextLink instead of scanning everything at once.
pub const SCAN_LIMIT: usize = 5_000;

/// A collection page.
pub struct Page {
    /// The entity set's name for `@odata.context` (`users`, `groups`, ...).
    pub context: &'static str,
    /// The objects.
    pub value: Vec<Value>,
    /// `@odata.count`, on the first page when asked for.
    pub count: Option<u64>,
    /// The cursor of the next page, if there is one.
    pub next: Option<Value>,
}

/// The request a page answers: where it was asked, to build the nextLink from.
pub struct Origin<'a> {
    /// The public base URL of the API (`https://host/api/v1.0`).
    pub base: &'a str,
    /// The path below the base (`/users`).
    pub path: &'a str,
    /// The raw query string as received.
    pub query: Option<&'a str>,
}

impl Page {
    /// The JSON response.
    pub fn into_json(self, origin: &Origin<'_>) -> Json<Value> {
        let mut body = Map::new();
        body.insert("@odata.context".to_owned(), json!(format!("{}/$metadata#{}", origin.base, self.context)));
        if let Some(count) = self.count {
            body.insert("@odata.count".to_owned(), json!(count));
        }
        if let Some(next) = &self.next {
            body.insert("@odata.nextLink".to_owned(), json!(next_link(origin, next)));
        }
        body.insert("value".to_owned(), Value::Array(self.value));
        Json(Value::Object(body))
    }
}

/// The nextLink: the same request with every option kept but `$skiptoken` (and `$count`, first page only).
fn next_link(origin: &Origin<'_>, cursor: &Value) -> String {
    let mut parts: Vec<&str> = origin
        .query
        .unwrap_or_default()
        .split('&')
        .filter(|part| {
            let name = part.split('=').next().unwrap_or_default().trim_start_matches('$').to_ascii_lowercase();
            !part.is_empty() && name != "skiptoken" && name != "count"
        })
        .collect();
    let token = format!("$skiptoken={}", odata::encode_skiptoken(cursor));
    parts.push(&token);
    format!("{}{}?{}", origin.base, origin.path, parts.join("&"))
}

/// The `after` id of a cursor made by a list of objects in id order.
pub fn after_id(skiptoken: Option<&str>) -> Result<Option<String>, GraphError> {
    let Some(token) = skiptoken else { return Ok(None) };
    let cursor = odata::decode_skiptoken(token)?;
    cursor
        .get("after")
        .and_then(Value::as_str)
        .map(|after| Some(after.to_owned()))
        .ok_or_else(|| GraphError::bad_request("$skiptoken is not valid: use the @odata.nextLink as given"))
}

/// Keeps the `$select`ed properties of an object (`id` always), or the default ones when nothing was selected.
pub fn select(mut object: Map<String, Value>, select: Option<&[String]>, default: &[&str]) -> Value {
    if select.is_none() && default.is_empty() {
        return Value::Object(object);
    }
    let names: Vec<&str> = match select {
        Some(names) => names.iter().map(String::as_str).collect(),
        None => default.to_vec(),
    };
    let mut kept = Map::with_capacity(names.len() + 2);
    for name in names {
        // Names are case-insensitive, answered in the property's own case; a property with no value is null.
        let key = match object.contains_key(name) {
            true => Some(name.to_owned()),
            false => object.keys().find(|key| key.eq_ignore_ascii_case(name)).cloned(),
        };
        match key.and_then(|key| object.remove(&key).map(|value| (key, value))) {
            Some((key, value)) => kept.insert(key, value),
            None => kept.insert(name.to_owned(), Value::Null),
        };
    }
    // The id and annotations (`@odata.type`) stay whatever is selected, as in Graph.
    for (name, value) in object {
        if name == "id" || name.starts_with('@') {
            kept.insert(name, value);
        }
    }
    Value::Object(kept)
}

/// The `after` object id of a `$skiptoken`, for collections in id order.
pub fn after_object(skiptoken: Option<&str>) -> Result<Option<ObjectId>, GraphError> {
    after_id(skiptoken)?
        .map(|id| ObjectId::parse(&id))
        .transpose()
        .map_err(|_| GraphError::bad_request("$skiptoken is not valid: use the @odata.nextLink as given"))
}

/// A directory collection kept in id order: users or groups.
pub trait Listed: Sized + Send {
    /// The object's id, the collection's order.
    fn key(&self) -> &ObjectId;

    /// Up to `limit` objects with ids greater than `after`.
    fn fetch<'a>(store: &'a dyn DirectoryStore, after: Option<&'a ObjectId>, limit: usize) -> Fetch<'a, Self>;
}

/// The future of [`Listed::fetch`].
pub type Fetch<'a, T> = Pin<Box<dyn Future<Output = Result<Vec<T>, DirectoryError>> + Send + 'a>>;

impl Listed for roster_directory::User {
    fn key(&self) -> &ObjectId {
        self.id()
    }

    fn fetch<'a>(store: &'a dyn DirectoryStore, after: Option<&'a ObjectId>, limit: usize) -> Fetch<'a, Self> {
        store.users_after(after, limit)
    }
}

impl Listed for roster_directory::Group {
    fn key(&self) -> &ObjectId {
        self.id()
    }

    fn fetch<'a>(store: &'a dyn DirectoryStore, after: Option<&'a ObjectId>, limit: usize) -> Fetch<'a, Self> {
        store.groups_after(after, limit)
    }
}

/// One page of a directory collection: reads batches after `after`, keeps what `keep` turns into a JSON object
/// (filtering and `$select` are its business) until `top` are kept or [`SCAN_LIMIT`] were read, and answers the
/// page with the cursor of the next one (none after the last object).
pub async fn scan<T: Listed>(
    store: &dyn DirectoryStore,
    mut after: Option<ObjectId>,
    top: usize,
    mut keep: impl FnMut(T) -> Result<Option<Value>, GraphError> + Send,
) -> Result<(Vec<Value>, Option<Value>), GraphError> {
    // One object more than a batch: when the page fills before it, it shows there is a next page without another
    // read.
    let batch_size = top.min(SCAN_LIMIT);
    let (mut value, mut scanned) = (Vec::new(), 0);
    let mut more = false;
    'batches: loop {
        let batch = T::fetch(store, after.as_ref(), batch_size + 1).await?;
        let full = batch.len() > batch_size;
        for object in batch.into_iter().take(batch_size) {
            if value.len() == top || scanned >= SCAN_LIMIT {
                more = true;
                break 'batches;
            }
            scanned += 1;
            after = Some(object.key().clone());
            if let Some(kept) = keep(object)? {
                value.push(kept);
            }
        }
        if !full {
            break;
        }
        if value.len() == top || scanned >= SCAN_LIMIT {
            // The batch's extra object is the next page's first.
            more = true;
            break;
        }
    }
    let next = match after {
        Some(last) if more => Some(json!({"after": last.as_str()})),
        _ => None,
    };
    Ok((value, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object() -> Map<String, Value> {
        let value = json!({"@odata.type": "#microsoft.graph.user", "id": "1", "displayName": "Ada", "mail": "a@x"});
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn select_keeps_what_is_asked_and_the_id() {
        let names = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect::<Vec<String>>();
        // ($select, the default set, the object shown)
        type Case<'a> = (Option<Vec<String>>, &'a [&'a str], Value);
        let cases: &[Case] = &[
            (
                Some(names(&["DISPLAYNAME"])),
                &[],
                json!({"displayName": "Ada", "@odata.type": "#microsoft.graph.user", "id": "1"}),
            ),
            (
                Some(names(&["jobTitle", "id"])),
                &[],
                json!({"jobTitle": null, "id": "1", "@odata.type": "#microsoft.graph.user"}),
            ),
            (None, &["mail", "id"], json!({"mail": "a@x", "id": "1", "@odata.type": "#microsoft.graph.user"})),
            (None, &[], Value::Object(object())),
        ];
        for (select_, default, expected) in cases {
            let selected = select(object(), select_.as_deref(), default);
            assert_eq!(&selected, expected, "{select_:?} {default:?}");
            let order: Vec<&String> = selected.as_object().map(|map| map.keys().collect()).unwrap_or_default();
            let expected_order: Vec<&String> = expected.as_object().map(|map| map.keys().collect()).unwrap_or_default();
            assert_eq!(order, expected_order);
        }
    }
}

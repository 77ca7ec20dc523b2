//! List queries (RFC 7644 §3.4.2, §3.4.3): query-string and `/.search` parameters, sorting, and the
//! `ListResponse` message.
//!
//! Decisions:
//! - Parameter names are matched case-insensitively (`startindex`, `StartIndex`), and unknown parameters are
//!   ignored; values keep their case except `sortOrder`, which is matched case-insensitively too.
//! - `startIndex` below 1 means 1 and a negative `count` means 0 (RFC 7644 §3.4.2.4); a number that does not parse
//!   is a 400 `invalidValue`; a number too large for the platform saturates.
//! - A filter that does not parse is a 400 `invalidFilter`. Checking it against a resource type is
//!   [`ListQuery::check`], because only the endpoint knows the type.
//! - Both `attributes` and `excludedAttributes` may be given; [`crate::projection`] lets `attributes` win.
//! - A `/.search` body may omit `schemas`; when present it must list the SearchRequest URN (400 `invalidSyntax`).
//! - Sorting follows RFC 7644 §3.4.2.3: by the primary value of a multi-valued attribute, else its first value;
//!   case-insensitive unless `caseExact`; by type (numbers numerically, booleans false first, dateTimes as
//!   instants); resources without a value are last when ascending and first when descending.

use std::cmp::Ordering;

use serde_json::{Map, Value, json};

use crate::error::ScimError;
use crate::filter::Filter;
use crate::path::AttrPath;
use crate::resource::{Resolved, attr_value, resolve};
use crate::schema::{AttrType, AttributeDef, ResourceType};

/// The order of a sorted list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Smallest first (the default).
    #[default]
    Ascending,
    /// Largest first.
    Descending,
}

/// The parameters of a list request: `GET /Users?...` or `POST /Users/.search`.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// The `filter`.
    pub filter: Option<Filter>,
    /// The `attributes` to return.
    pub attributes: Vec<AttrPath>,
    /// The `excludedAttributes`.
    pub excluded_attributes: Vec<AttrPath>,
    /// The `sortBy` attribute.
    pub sort_by: Option<AttrPath>,
    /// The `sortOrder`.
    pub sort_order: SortOrder,
    /// The 1-based `startIndex` (at least 1).
    pub start_index: usize,
    /// The `count`: the page size asked for; `None` lets the server choose.
    pub count: Option<usize>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            filter: None,
            attributes: Vec::new(),
            excluded_attributes: Vec::new(),
            sort_by: None,
            sort_order: SortOrder::Ascending,
            start_index: 1,
            count: None,
        }
    }
}

impl ListQuery {
    /// Reads decoded query-string pairs. Keys are matched case-insensitively; `attributes` and
    /// `excludedAttributes` are comma-separated lists; a repeated key overrides the earlier one.
    pub fn from_params<I, K, V>(params: I) -> Result<Self, ScimError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut query = Self::default();
        for (key, value) in params {
            query.set(key.as_ref(), Param::Text(value.as_ref()))?;
        }
        Ok(query)
    }

    /// Reads a `POST /.search` body (RFC 7644 §3.4.3): `attributes` and `excludedAttributes` as arrays (or comma
    /// lists), `startIndex` and `count` as numbers (or numeric strings).
    pub fn from_search_request(body: &Value) -> Result<Self, ScimError> {
        let object =
            body.as_object().ok_or_else(|| ScimError::invalid_syntax("the request body must be a JSON object"))?;
        let mut query = Self::default();
        for (key, value) in object {
            if key.eq_ignore_ascii_case("schemas") {
                let lists = match value {
                    Value::Array(items) => items.iter().any(|item| item.as_str().is_some_and(is_search_request)),
                    Value::String(urn) => is_search_request(urn),
                    _ => false,
                };
                if !lists {
                    return Err(ScimError::invalid_syntax(format!(
                        "'schemas' must list \"{}\"",
                        crate::SEARCH_REQUEST_SCHEMA
                    )));
                }
                continue;
            }
            let param = match value {
                Value::Null => continue,
                Value::String(text) => Param::Text(text),
                Value::Number(number) => Param::Number(number),
                Value::Array(items) => Param::List(items),
                other => {
                    return Err(ScimError::invalid_value(format!(
                        "'{key}' must be a string, number or array, got {}",
                        crate::resource::describe(other)
                    )));
                }
            };
            query.set(key, param)?;
        }
        Ok(query)
    }

    /// Checks the filter against the resource type (unknown attributes, for example).
    pub fn check(&self, rt: &ResourceType) -> Result<(), ScimError> {
        match &self.filter {
            Some(filter) => filter.check(rt),
            None => Ok(()),
        }
    }

    /// Sets one parameter.
    fn set(&mut self, key: &str, value: Param<'_>) -> Result<(), ScimError> {
        let is = |name: &str| key.eq_ignore_ascii_case(name);
        if is("filter") {
            let text = value.text(key)?;
            self.filter = if text.trim().is_empty() {
                None
            } else {
                let filter = Filter::parse(text).map_err(|error| {
                    let error: ScimError = error.into();
                    ScimError::invalid_filter(error.detail)
                })?;
                Some(filter)
            };
        } else if is("attributes") {
            self.attributes = value.paths(key)?;
        } else if is("excludedAttributes") {
            self.excluded_attributes = value.paths(key)?;
        } else if is("sortBy") {
            let text = value.text(key)?.trim();
            self.sort_by = if text.is_empty() { None } else { Some(AttrPath::parse(text)?) };
        } else if is("sortOrder") {
            let text = value.text(key)?.trim();
            self.sort_order = if text.eq_ignore_ascii_case("ascending") {
                SortOrder::Ascending
            } else if text.eq_ignore_ascii_case("descending") {
                SortOrder::Descending
            } else {
                return Err(ScimError::invalid_value(format!(
                    "'sortOrder' must be \"ascending\" or \"descending\", got \"{text}\""
                )));
            };
        } else if is("startIndex") {
            self.start_index =
                usize::try_from(value.integer(key)?).unwrap_or(if value.is_negative() { 1 } else { usize::MAX }).max(1);
        } else if is("count") {
            self.count =
                Some(usize::try_from(value.integer(key)?).unwrap_or(if value.is_negative() { 0 } else { usize::MAX }));
        }
        Ok(())
    }
}

/// A parameter value from a query string or a search body.
#[derive(Clone, Copy)]
enum Param<'a> {
    Text(&'a str),
    Number(&'a serde_json::Number),
    List(&'a [Value]),
}

impl Param<'_> {
    /// The value as a string.
    fn text(&self, key: &str) -> Result<&str, ScimError> {
        match self {
            Param::Text(text) => Ok(text),
            _ => Err(ScimError::invalid_value(format!("'{key}' must be a string"))),
        }
    }

    /// The value as a list of attribute paths.
    fn paths(&self, key: &str) -> Result<Vec<AttrPath>, ScimError> {
        let mut out = Vec::new();
        let mut push = |item: &str| -> Result<(), ScimError> {
            let item = item.trim();
            if !item.is_empty() {
                out.push(AttrPath::parse(item)?);
            }
            Ok(())
        };
        match self {
            Param::Text(text) => text.split(',').try_for_each(&mut push)?,
            Param::List(items) => {
                for item in *items {
                    let text = item.as_str().ok_or_else(|| {
                        ScimError::invalid_value(format!("'{key}' must be an array of attribute paths"))
                    })?;
                    text.split(',').try_for_each(&mut push)?;
                }
            }
            Param::Number(_) => return Err(ScimError::invalid_value(format!("'{key}' must be attribute paths"))),
        }
        Ok(out)
    }

    /// The value as an integer; values beyond `i128` saturate.
    fn integer(&self, key: &str) -> Result<i128, ScimError> {
        let invalid = || ScimError::invalid_value(format!("'{key}' must be an integer"));
        match self {
            Param::Text(text) => {
                let text = text.trim();
                match text.parse::<i128>() {
                    Ok(number) => Ok(number),
                    Err(_)
                        if !text.is_empty()
                            && text.trim_start_matches(['-', '+']).bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        Ok(if text.starts_with('-') { i128::MIN } else { i128::MAX })
                    }
                    Err(_) => Err(invalid()),
                }
            }
            Param::Number(number) => {
                number.as_i64().map(i128::from).or_else(|| number.as_u64().map(i128::from)).ok_or_else(invalid)
            }
            Param::List(_) => Err(invalid()),
        }
    }

    /// Whether the value is a negative number (for saturation).
    fn is_negative(&self) -> bool {
        match self {
            Param::Text(text) => text.trim().starts_with('-'),
            Param::Number(number) => number.as_i64().is_some_and(|n| n < 0),
            Param::List(_) => false,
        }
    }
}

/// Whether a URN is the SearchRequest schema.
fn is_search_request(urn: &str) -> bool {
    urn.eq_ignore_ascii_case(crate::SEARCH_REQUEST_SCHEMA)
}

/// A `ListResponse` (RFC 7644 §3.4.2): `itemsPerPage` is the number of resources in this page.
pub fn list_response(total_results: usize, start_index: usize, resources: Vec<Value>) -> Value {
    let mut out = Map::new();
    out.insert("schemas".to_owned(), json!([crate::LIST_RESPONSE_SCHEMA]));
    out.insert("totalResults".to_owned(), json!(total_results));
    out.insert("itemsPerPage".to_owned(), json!(resources.len()));
    out.insert("startIndex".to_owned(), json!(start_index));
    out.insert("Resources".to_owned(), Value::Array(resources));
    Value::Object(out)
}

/// Compares two canonical resources by `sort_by` in *ascending* order (RFC 7644 §3.4.2.3); reverse it for
/// descending. A resource without a value sorts after every resource with one, so it is last when ascending and
/// first when descending, as the RFC asks. An unknown path compares everything equal.
pub fn compare_for_sort(
    a: &Map<String, Value>,
    b: &Map<String, Value>,
    sort_by: &AttrPath,
    rt: &ResourceType,
) -> Ordering {
    let Some(key) = SortKey::new(sort_by, rt) else { return Ordering::Equal };
    key.compare(a, b)
}

/// Sorts canonical resources in place (a stable sort) by `sort_by` and `order`.
pub fn sort_resources(resources: &mut [Map<String, Value>], sort_by: &AttrPath, order: SortOrder, rt: &ResourceType) {
    let Some(key) = SortKey::new(sort_by, rt) else { return };
    resources.sort_by(|a, b| match order {
        SortOrder::Ascending => key.compare(a, b),
        SortOrder::Descending => key.compare(b, a),
    });
}

/// A resolved `sortBy`.
struct SortKey {
    attr: crate::schema::AttrRef,
    /// The sub-attribute compared in complex values (`value` when the path names none).
    sub: Option<&'static AttributeDef>,
}

impl SortKey {
    /// Resolves the path; `None` when it names no attribute.
    fn new(sort_by: &AttrPath, rt: &ResourceType) -> Option<Self> {
        let Resolved::Attribute { attr, sub } = resolve(rt, sort_by)? else { return None };
        let sub = sub.or_else(|| attr.def.sub_attribute("value"));
        Some(Self { attr, sub })
    }

    /// The definition of the compared value.
    fn leaf(&self) -> &'static AttributeDef {
        match (self.attr.def.kind, self.sub) {
            (AttrType::Complex, Some(sub)) => sub,
            _ => self.attr.def,
        }
    }

    /// The value a resource is sorted by.
    fn value<'a>(&self, resource: &'a Map<String, Value>) -> Option<&'a Value> {
        let value = attr_value(resource, &self.attr)?;
        let single = match value {
            Value::Array(items) => {
                items.iter().find(|item| item.get("primary") == Some(&Value::Bool(true))).or_else(|| items.first())?
            }
            other => other,
        };
        match (self.attr.def.kind, self.sub) {
            (AttrType::Complex, Some(sub)) => single.get(sub.name),
            (AttrType::Complex, None) => None,
            _ => Some(single),
        }
        .filter(|value| !value.is_null())
    }

    /// Ascending comparison, missing values last.
    fn compare(&self, a: &Map<String, Value>, b: &Map<String, Value>) -> Ordering {
        match (self.value(a), self.value(b)) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => compare_values(self.leaf(), a, b),
        }
    }
}

/// Compares two values of one attribute by its type.
fn compare_values(def: &AttributeDef, a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::String(a), Value::String(b)) => {
            if def.kind == AttrType::DateTime {
                let parse =
                    |text: &str| time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok();
                if let (Some(a), Some(b)) = (parse(a), parse(b)) {
                    return a.cmp(&b);
                }
            }
            if def.case_exact {
                a.cmp(b)
            } else {
                // `str::to_lowercase`, as the filter evaluator and the stores' folded columns fold (it differs from
                // folding char by char on a word-final sigma).
                a.to_lowercase().cmp(&b.to_lowercase())
            }
        }
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => {
                let (a, b) = (a.as_f64().unwrap_or(f64::NAN), b.as_f64().unwrap_or(f64::NAN));
                a.total_cmp(&b)
            }
        },
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (a, b) => type_rank(a).cmp(&type_rank(b)),
    }
}

/// An arbitrary but fixed order between JSON types, for values of the wrong type.
fn type_rank(value: &Value) -> u8 {
    match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

#[cfg(test)]
mod tests;

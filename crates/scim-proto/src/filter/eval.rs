//! The evaluator: compiled filters and how they test resources and elements.
//!
//! The semantics are listed in the `filter` module documentation. Compiling resolves names to the keys a
//! canonical resource uses, lowercases case-insensitive literals and parses dateTime literals, so that testing a
//! resource reads its JSON directly and allocates only to lowercase a stored string that has upper-case or
//! non-ASCII characters.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Map, Number, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::CompareOp;
use crate::schema::{AttrType, AttributeDef, SchemaExtension};

/// A filter checked and compiled against a resource type, ready to test many resources.
///
/// Made by [`Filter::compile`](super::Filter::compile).
#[derive(Debug, Clone)]
pub struct CompiledFilter {
    root: Node,
}

/// A value filter (the inside of `emails[...]`) checked and compiled against its attribute, ready to test many
/// elements.
///
/// Made by [`Filter::compile_element`](super::Filter::compile_element).
#[derive(Debug, Clone)]
pub struct CompiledValueFilter {
    root: Node,
}

impl CompiledFilter {
    pub(crate) fn new(root: Node) -> Self {
        CompiledFilter { root }
    }

    /// Whether a resource in canonical form matches.
    pub fn matches(&self, resource: &Map<String, Value>) -> bool {
        self.root.eval(Scope::Resource(resource))
    }
}

impl CompiledValueFilter {
    pub(crate) fn new(root: Node) -> Self {
        CompiledValueFilter { root }
    }

    /// Whether one element of the attribute matches.
    pub fn matches(&self, element: &Value) -> bool {
        self.root.eval(Scope::Element(element))
    }
}

/// A compiled filter node.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// A comparison that cannot match: its path did not resolve, or its literal does not suit the attribute.
    Never,
    /// `pr`: some value of the target is non-empty.
    Present(Target),
    /// Some value of the target passes the test.
    Compare(Target, Test),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    /// Some element of the attribute matches the inner node, which reads from the element.
    ValuePath(Access, Box<Node>),
}

/// The values a path names, and their type.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) access: Access,
    pub(crate) leaf: Leaf,
}

/// Where a path's values are.
#[derive(Debug, Clone)]
pub(crate) enum Access {
    /// `resource[key]`, or `resource[extension][key]`; then each element's `member`, if set.
    Resource { extension: Option<&'static str>, key: &'static str, member: Option<&'static str> },
    /// The `schemas` attribute: the resource's `schemas` array, or else the core schema and the extensions
    /// the resource has keys for.
    Schemas { core: &'static str, extensions: &'static [SchemaExtension] },
    /// `element[key]`, in a value filter.
    ElementMember(&'static str),
    /// The element itself, in a value filter on simple values.
    ElementItself,
}

/// The type of the values a comparison reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Leaf {
    pub(crate) kind: AttrType,
    pub(crate) case_exact: bool,
}

/// A comparison, with its literal ready for the attribute's type. `ne` is compiled as `not eq`.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    /// Strings, references and binary values; `text` is already lowercased unless `case_exact`.
    Text {
        op: CompareOp,
        text: String,
        case_exact: bool,
    },
    Bool(bool),
    Number {
        op: CompareOp,
        number: Number,
    },
    DateTime {
        op: CompareOp,
        instant: OffsetDateTime,
    },
}

/// What the paths of a node are relative to.
#[derive(Clone, Copy)]
enum Scope<'v> {
    Resource(&'v Map<String, Value>),
    Element(&'v Value),
}

impl Leaf {
    pub(crate) fn of(def: &AttributeDef) -> Leaf {
        // Binary values are base64, which is case-sensitive (RFC 7643 §2.3.6).
        Leaf { kind: def.kind, case_exact: def.case_exact || def.kind == AttrType::Binary }
    }

    /// A literal as compiled: lowercased unless the attribute is case-exact.
    pub(crate) fn fold(self, text: &str) -> String {
        if self.case_exact { text.to_owned() } else { text.to_lowercase() }
    }
}

impl Node {
    fn eval(&self, scope: Scope<'_>) -> bool {
        match self {
            Node::Never => false,
            Node::Present(target) => target.access.any(scope, is_present),
            Node::Compare(target, test) => target.access.any(scope, |value| test.passes(value)),
            Node::And(left, right) => left.eval(scope) && right.eval(scope),
            Node::Or(left, right) => left.eval(scope) || right.eval(scope),
            Node::Not(inner) => !inner.eval(scope),
            Node::ValuePath(access, inner) => access.any(scope, |element| inner.eval(Scope::Element(element))),
        }
    }
}

impl Access {
    /// Whether `test` holds for some value this access reads in `scope`. Arrays count as their elements.
    fn any(&self, scope: Scope<'_>, mut test: impl FnMut(&Value) -> bool) -> bool {
        match (self, scope) {
            (Access::Resource { extension, key, member }, Scope::Resource(resource)) => {
                let container = match extension {
                    None => resource,
                    Some(urn) => match get(resource, urn) {
                        Some(Value::Object(container)) => container,
                        _ => return false,
                    },
                };
                let Some(value) = get(container, key) else { return false };
                let Some(member) = member else { return elements(value).iter().any(test) };
                elements(value).iter().any(|element| match element {
                    Value::Object(element) => {
                        get(element, member).is_some_and(|value| elements(value).iter().any(&mut test))
                    }
                    _ => false,
                })
            }
            (Access::Schemas { core, extensions }, Scope::Resource(resource)) => {
                if let Some(schemas) = get(resource, "schemas") {
                    return elements(schemas).iter().any(test);
                }
                // The resource leaves its schemas implicit: the core schema, and each extension it has data for.
                let present = extensions.iter().map(|ext| ext.schema.id).filter(|urn| get(resource, urn).is_some());
                std::iter::once(*core).chain(present).any(|urn| test(&Value::String(urn.to_owned())))
            }
            (Access::ElementMember(key), Scope::Element(Value::Object(element))) => {
                get(element, key).is_some_and(|value| elements(value).iter().any(test))
            }
            (Access::ElementItself, Scope::Element(element)) => test(element),
            _ => false,
        }
    }
}

impl Test {
    fn passes(&self, value: &Value) -> bool {
        match (self, value) {
            (Test::Text { op, text, case_exact }, Value::String(stored)) => {
                if *case_exact {
                    return compare_text(*op, stored, text);
                }
                // An ASCII value equals a lowercased literal exactly when their ASCII lowercasings agree, so
                // the most frequent test needs no allocation.
                if *op == CompareOp::Eq && stored.is_ascii() {
                    return stored.eq_ignore_ascii_case(text);
                }
                compare_text(*op, &lowercase(stored), text)
            }
            (Test::Bool(expected), Value::Bool(stored)) => stored == expected,
            (Test::Number { op, number }, Value::Number(stored)) => {
                compare_numbers(stored, number).is_some_and(|ordering| holds(*op, ordering))
            }
            (Test::DateTime { op, instant }, Value::String(stored)) => {
                OffsetDateTime::parse(stored, &Rfc3339).is_ok_and(|stored| holds(*op, stored.cmp(instant)))
            }
            _ => false,
        }
    }
}

/// `str::to_lowercase`, without allocating for a value that is ASCII and already lower-case.
fn lowercase(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        if text.bytes().any(|byte| byte.is_ascii_uppercase()) {
            return Cow::Owned(text.to_ascii_lowercase());
        }
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.to_lowercase())
}

fn compare_text(op: CompareOp, stored: &str, literal: &str) -> bool {
    match op {
        CompareOp::Eq => stored == literal,
        CompareOp::Ne => stored != literal,
        CompareOp::Co => stored.contains(literal),
        CompareOp::Sw => stored.starts_with(literal),
        CompareOp::Ew => stored.ends_with(literal),
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => holds(op, stored.cmp(literal)),
    }
}

/// Whether `stored <op> literal` holds, given how `stored` orders against `literal`.
fn holds(op: CompareOp, ordering: Ordering) -> bool {
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// Orders two JSON numbers: exactly if both are whole, otherwise as `f64`.
fn compare_numbers(left: &Number, right: &Number) -> Option<Ordering> {
    fn whole(number: &Number) -> Option<i128> {
        number.as_i64().map(i128::from).or_else(|| number.as_u64().map(i128::from))
    }
    match (whole(left), whole(right)) {
        (Some(left), Some(right)) => Some(left.cmp(&right)),
        _ => left.as_f64()?.partial_cmp(&right.as_f64()?),
    }
}

/// Whether a value is present in the sense of `pr`: not null, and not an empty string, array or object (an
/// array or object counts when some member is present).
fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(members) => members.values().any(is_present),
    }
}

/// A value's elements: an array's items, or the value alone.
fn elements(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

/// The member `key`, exactly or else ignoring ASCII case.
fn get<'m>(map: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    // Scanning a handful of short keys is faster than hashing one with SipHash, and finds a differently-cased
    // key in the same pass.
    const SCAN_LIMIT: usize = 16;
    if map.len() <= SCAN_LIMIT {
        let mut folded = None;
        for (name, value) in map {
            if name == key {
                return Some(value);
            }
            if folded.is_none() && name.eq_ignore_ascii_case(key) {
                folded = Some(value);
            }
        }
        return folded;
    }
    map.get(key).or_else(|| map.iter().find(|(name, _)| name.eq_ignore_ascii_case(key)).map(|(_, value)| value))
}

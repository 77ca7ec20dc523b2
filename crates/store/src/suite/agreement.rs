//! The property "SQL and in-memory evaluation agree": random users (mixed case, non-ASCII, absent values) and
//! random filters over the pushable attributes and others; every page of `query`, concatenated, must list
//! exactly the users `Filter::matches` accepts on their `filterable` form, in creation order (or in
//! `compare_for_sort` order when sorted), with the right total.

use std::cmp::Ordering;
use std::sync::atomic::{self, AtomicU32};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use roster_provider::port::{Relations, ResourceKind, ResourceQuery, ResourceStore, StoreError, TenantStore};
use roster_provider::render::filterable;
use roster_scim_proto::filter::{CompValue, CompareOp, Comparison, Filter};
use roster_scim_proto::path::AttrPath;
use roster_scim_proto::query::compare_for_sort;
use serde_json::{Map, Value, json};

use super::{enterprise, new_user};

/// Words the data and the literals are made of: case variants, non-ASCII letters whose lowercase changes length
/// or needs context (`İ`, `ß`, `Σ`), the Kelvin sign (lowercase ASCII `k`), LIKE metacharacters, the empty string.
const WORDS: &[&str] = &[
    "alice",
    "Alice",
    "ALICE",
    "Ærø",
    "ærø",
    "İstanbul",
    "istanbul",
    "straße",
    "STRASSE",
    "Strasse",
    "ΟΔΟΣ",
    "bob",
    "Bob-2",
    "zoë",
    "a%b_c",
    "",
    "\u{212A}elvin",
    "kelvin",
    "x\u{0}y",
];

/// A user to store.
#[derive(Debug, Clone)]
pub struct SeedUser {
    /// `userName`.
    pub user_name: String,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `externalId`.
    pub external_id: Option<String>,
    /// `active`.
    pub active: Option<bool>,
    /// `title`.
    pub title: Option<String>,
    /// The values of `emails`.
    pub emails: Vec<String>,
    /// The GitHub login.
    pub login: Option<String>,
}

impl SeedUser {
    /// A user with this `userName` and nothing else.
    pub fn named(user_name: &str) -> Self {
        SeedUser {
            user_name: user_name.into(),
            display_name: None,
            external_id: None,
            active: None,
            title: None,
            emails: Vec::new(),
            login: None,
        }
    }
}

/// A query to compare: the filter, and optionally a sort.
#[derive(Debug, Clone)]
pub struct Probe {
    /// The filter.
    pub filter: Filter,
    /// `sortBy` and whether descending.
    pub sort: Option<(AttrPath, bool)>,
    /// The page size used to walk the result.
    pub page_size: usize,
}

/// A value as data: a word, or a word with a digit.
pub fn value() -> BoxedStrategy<String> {
    prop_oneof![
        select(WORDS).prop_map(str::to_owned),
        (select(WORDS), 0..4u8).prop_map(|(word, n)| format!("{word}{n}"))
    ]
    .boxed()
}

/// A literal: a data value, or a piece of a word with its case changed.
pub fn literal() -> BoxedStrategy<String> {
    let piece = (select(WORDS), any::<Index>(), any::<Index>(), 0..3u8).prop_map(|(word, a, b, case)| {
        let chars: Vec<char> = word.chars().collect();
        let (a, b) = (a.index(chars.len() + 1), b.index(chars.len() + 1));
        let piece: String = chars[a.min(b)..a.max(b)].iter().collect();
        match case {
            0 => piece,
            1 => piece.to_uppercase(),
            _ => piece.to_lowercase(),
        }
    });
    prop_oneof![value(), piece, select(&["u1x", "U1X", "u1", "x", "e-3", "E-3"][..]).prop_map(str::to_owned)].boxed()
}

/// A random user.
pub fn seed_user() -> impl Strategy<Value = SeedUser> {
    (
        value(),
        proptest::option::of(value()),
        proptest::option::of((0..6u8).prop_map(|n| if n % 2 == 0 { format!("e-{n}") } else { format!("E-{n}") })),
        proptest::option::of(any::<bool>()),
        proptest::option::of(value()),
        proptest::collection::vec(value(), 0..3),
        proptest::option::of(value()),
    )
        .prop_map(|(user_name, display_name, external_id, active, title, emails, login)| SeedUser {
            user_name,
            display_name,
            external_id,
            active,
            title,
            emails,
            login,
        })
}

const PATHS: &[&str] = &[
    "userName",
    "USERNAME",
    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
    "displayName",
    "externalId",
    "urn:ietf:params:scim:schemas:core:2.0:User:externalId",
    "id",
    "ID",
    "active",
    "title",
    "emails.value",
    "emails",
    "login",
    "urn:roster:params:scim:schemas:extension:github:2.0:User:login",
    "meta.resourceType",
];

const OPS: &[CompareOp] = &[
    CompareOp::Eq,
    CompareOp::Ne,
    CompareOp::Co,
    CompareOp::Sw,
    CompareOp::Ew,
    CompareOp::Gt,
    CompareOp::Ge,
    CompareOp::Lt,
    CompareOp::Le,
];

fn path(text: &str) -> AttrPath {
    AttrPath::parse(text).unwrap_or_else(|error| panic!("{text}: {error:?}"))
}

/// A random filter over the pushable attributes and some others, with `and`, `or`, `not` and value paths.
pub fn filter() -> impl Strategy<Value = Filter> {
    let comp_value = prop_oneof![
        6 => literal().prop_map(CompValue::String),
        2 => any::<bool>().prop_map(CompValue::Bool),
        1 => Just(CompValue::Null),
        1 => Just(CompValue::Number(3.into())),
    ];
    let comparison = (select(PATHS), select(OPS), comp_value)
        .prop_map(|(name, op, value)| Filter::Compare(Comparison { path: path(name), op, value }));
    let present = select(PATHS).prop_map(|name| Filter::Present(path(name)));
    let value_path = (select(OPS), literal()).prop_map(|(op, text)| {
        let inner = Filter::Compare(Comparison { path: path("value"), op, value: CompValue::String(text) });
        Filter::ValuePath(path("emails"), Box::new(inner))
    });
    let leaf = prop_oneof![6 => comparison, 2 => present, 1 => value_path];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
}

/// A random probe: a filter, sometimes a sort, and a page size.
pub fn probe() -> impl Strategy<Value = Probe> {
    let sort = proptest::option::weighted(
        0.4,
        (
            select(&["userName", "displayName", "externalId", "title", "id", "login", "active", "emails"][..]),
            any::<bool>(),
        )
            .prop_map(|(name, descending)| (path(name), descending)),
    );
    (filter(), sort, 1..8usize).prop_map(|(filter, sort, page_size)| Probe { filter, sort, page_size })
}

/// Runs the property: `cases` random cases on `runtime`, each a new enterprise of the store with up to 30 random
/// users and up to 11 random probes ([`check`]). Panics with the smallest failing case proptest finds.
pub fn run(runtime: &tokio::runtime::Runtime, tenants: &dyn TenantStore, resources: &dyn ResourceStore, cases: u32) {
    let case = AtomicU32::new(0);
    let mut runner = TestRunner::new(Config { cases, ..Config::default() });
    let result = runner.run(&(vec(seed_user(), 0..30), vec(probe(), 1..12)), |(users, probes)| {
        let case = case.fetch_add(1, atomic::Ordering::Relaxed);
        runtime.block_on(check(tenants, resources, case, &users, &probes)).map_err(TestCaseError::fail)
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// Stores the users in a new enterprise (numbered `case`), then checks every probe. Users whose values collide
/// with an earlier one's unique values are skipped.
pub async fn check(
    tenants: &dyn TenantStore,
    resources: &dyn ResourceStore,
    case: u32,
    users: &[SeedUser],
    probes: &[Probe],
) -> Result<(), String> {
    let enterprise = enterprise(tenants, &format!("case-{case}"), &format!("c{case:06}")).await.id;
    let kind = ResourceKind::User;
    let rt = kind.resource_type();
    let mut stored = Vec::new();
    for (index, user) in users.iter().enumerate() {
        let mut attributes = json!({"userName": user.user_name});
        let object = attributes.as_object_mut().ok_or("an object")?;
        let mut put = |name: &str, value: Option<Value>| {
            if let Some(value) = value {
                object.insert(name.into(), value);
            }
        };
        put("displayName", user.display_name.clone().map(Value::String));
        put("externalId", user.external_id.clone().map(Value::String));
        put("active", user.active.map(Value::Bool));
        put("title", user.title.clone().map(Value::String));
        let emails: Vec<Value> = user.emails.iter().map(|email| json!({"value": email, "type": "work"})).collect();
        put("emails", (!emails.is_empty()).then_some(Value::Array(emails)));
        let new = new_user(&format!("u{index}x"), attributes, user.login.as_deref());
        match resources.create(enterprise, kind, new, Relations::default()).await {
            Ok(resource) => stored.push(resource),
            Err(StoreError::Conflict { .. }) => {}
            Err(error) => return Err(format!("create failed: {error}")),
        }
    }
    let rendered: Vec<Map<String, Value>> = stored.iter().map(|resource| filterable(kind, resource)).collect();
    for probe in probes {
        let mut expected: Vec<usize> =
            (0..stored.len()).filter(|&index| probe.filter.matches(&rendered[index], rt)).collect();
        if let Some((sort_by, descending)) = &probe.sort {
            expected.sort_by(|&a, &b| -> Ordering {
                let (a, b) = (&rendered[a], &rendered[b]);
                if *descending { compare_for_sort(b, a, sort_by, rt) } else { compare_for_sort(a, b, sort_by, rt) }
            });
        }
        let expected: Vec<&str> = expected.iter().map(|&index| stored[index].id.as_str()).collect();
        let mut actual = Vec::new();
        let mut start_index = 1;
        loop {
            let query = ResourceQuery {
                filter: Some(probe.filter.clone()),
                sort_by: probe.sort.as_ref().map(|(path, _)| path.clone()),
                descending: probe.sort.as_ref().is_some_and(|(_, descending)| *descending),
                start_index,
                count: probe.page_size,
                relations: Relations::default(),
            };
            let page = resources.query(enterprise, kind, &query).await.map_err(|error| error.to_string())?;
            if page.total_results != expected.len() {
                return Err(format!(
                    "filter `{}` (sort {:?}): total {} at startIndex {start_index}, expected {} ({expected:?})",
                    probe.filter,
                    probe.sort,
                    page.total_results,
                    expected.len()
                ));
            }
            let done = page.resources.len() < probe.page_size;
            actual.extend(page.resources.into_iter().map(|resource| resource.id));
            if done {
                break;
            }
            start_index += probe.page_size;
        }
        if actual != expected {
            return Err(format!(
                "filter `{}` (sort {:?}): got {actual:?}, expected {expected:?}",
                probe.filter, probe.sort
            ));
        }
        let count_only = ResourceQuery {
            filter: Some(probe.filter.clone()),
            sort_by: None,
            descending: false,
            start_index: 1,
            count: 0,
            relations: Relations::default(),
        };
        let page = resources.query(enterprise, kind, &count_only).await.map_err(|error| error.to_string())?;
        if (page.total_results, page.resources.len()) != (expected.len(), 0) {
            return Err(format!("filter `{}` with count 0: total {}", probe.filter, page.total_results));
        }
    }
    Ok(())
}

//! Property tests across the filter parser, printer, checker and evaluator.

use proptest::prelude::*;
use serde_json::{Number, Value, json};
use time::{OffsetDateTime, UtcOffset};

use super::*;

/// Identifiers, with the words the grammar gives a meaning to over-represented.
fn identifier() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-zA-Z_][a-zA-Z0-9_]{0,6}",
        1 => prop::sample::select(vec![
            "not", "NOT", "and", "Or", "in", "eq", "ge", "any", "all", "has", "startswith", "endsWith", "contains",
            "true", "null", "x", "_",
        ])
        .prop_map(str::to_owned),
    ]
    .boxed()
}

/// A property path; inside a lambda it starts with the variable.
fn path(variable: Option<String>) -> BoxedStrategy<PropertyPath> {
    match variable {
        None => prop::collection::vec(identifier(), 1..4).prop_map(|segments| PropertyPath { segments }).boxed(),
        Some(variable) => prop::collection::vec(identifier(), 0..3)
            .prop_map(move |rest| PropertyPath { segments: std::iter::once(variable.clone()).chain(rest).collect() })
            .boxed(),
    }
}

fn date_time() -> impl Strategy<Value = OffsetDateTime> {
    (-2_208_988_800_i64..=4_102_444_800, 0..1_000_000_000_u32, -1439..=1439_i32).prop_map(
        |(seconds, nanos, minutes)| {
            let offset = UtcOffset::from_whole_seconds(minutes * 60).unwrap();
            OffsetDateTime::from_unix_timestamp(seconds).unwrap().replace_nanosecond(nanos).unwrap().to_offset(offset)
        },
    )
}

fn literal() -> BoxedStrategy<Literal> {
    prop_oneof![
        Just(Literal::Null),
        any::<bool>().prop_map(Literal::Bool),
        any::<i64>().prop_map(|n| Literal::Number(n.into())),
        any::<u64>().prop_map(|n| Literal::Number(n.into())),
        any::<f64>().prop_filter_map("finite", |n| Number::from_f64(n).map(Literal::Number)),
        any::<String>().prop_map(Literal::String),
        "['a-z ()/,:]{0,8}".prop_map(Literal::String),
        any::<u128>().prop_map(Literal::Guid),
        date_time().prop_map(Literal::DateTime),
    ]
    .boxed()
}

fn compare_op() -> impl Strategy<Value = CompareOp> {
    prop::sample::select(vec![CompareOp::Eq, CompareOp::Ne, CompareOp::Lt, CompareOp::Le, CompareOp::Gt, CompareOp::Ge])
}

fn function() -> impl Strategy<Value = StringFunction> {
    prop::sample::select(vec![StringFunction::StartsWith, StringFunction::EndsWith, StringFunction::Contains])
}

/// A condition without a lambda body (but maybe `any()`), its paths starting with `variable` if given.
fn condition(variable: Option<String>) -> BoxedStrategy<Filter> {
    prop_oneof![
        3 => (path(variable.clone()), compare_op(), literal()).prop_map(|(path, op, value)| {
            // The parser refuses ordering operators with null and booleans.
            let op = if op.is_ordering() && matches!(value, Literal::Null | Literal::Bool(_)) { CompareOp::Eq } else { op };
            Filter::Compare { path, op, value }
        }),
        1 => (path(variable.clone()), prop::collection::vec(literal(), 1..4))
            .prop_map(|(path, values)| Filter::In { path, values }),
        1 => (path(variable.clone()), function(), any::<String>())
            .prop_map(|(path, function, value)| Filter::Function { function, path, value }),
        1 => path(variable).prop_map(|path| Filter::Any { path, lambda: None }),
    ]
    .boxed()
}

/// `and`, `or` and `not` over the leaves.
fn tree(leaf: BoxedStrategy<Filter>, depth: u32) -> BoxedStrategy<Filter> {
    leaf.prop_recursive(depth, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
    .boxed()
}

/// `path/any(x: body)`.
fn lambda() -> BoxedStrategy<Filter> {
    (path(None), identifier())
        .prop_flat_map(|(path, variable)| {
            tree(condition(Some(variable.clone())), 3).prop_map(move |body| Filter::Any {
                path: path.clone(),
                lambda: Some(Lambda { variable: variable.clone(), body: Box::new(body) }),
            })
        })
        .boxed()
}

fn filter() -> BoxedStrategy<Filter> {
    tree(prop_oneof![3 => condition(None), 1 => lambda()].boxed(), 5)
}

/// Text made of the grammar's tokens, to reach deeper into the parser than arbitrary strings do.
fn token_soup() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "(",
        ")",
        ",",
        ":",
        "/",
        "'",
        "''",
        "'x'",
        "'O''Brien'",
        "eq",
        "ne",
        "lt",
        "ge",
        "in",
        "has",
        "and",
        "or",
        "not",
        "NOT",
        "startswith",
        "startsWith",
        "endswith",
        "contains",
        "any",
        "all",
        "any(",
        "x",
        "x:",
        "a/b",
        "displayName",
        "1",
        "-1.5e3",
        "1e400",
        "01",
        "true",
        "null",
        "2026-01-01T00:00:00Z",
        "2026-01-01",
        "ec2d0d8a-3c1f-4c32-9d1b-4e0a2f3b5c6d",
        " ",
        "\t",
        "é",
        "$",
        "/any(",
        "/all(",
    ]);
    (prop::collection::vec(token, 0..40), any::<bool>())
        .prop_map(|(tokens, spaced)| tokens.join(if spaced { " " } else { "" }))
}

/// Text made of whole phrases, so that a good share of it parses.
fn phrase_soup() -> impl Strategy<Value = String> {
    let phrase = prop::sample::select(vec![
        "x eq 'a'",
        "x ne null",
        "a/b gt 2026-01-01T00:00:00Z",
        "n le -1.5",
        "id in ('a',1,null)",
        "and",
        "or",
        "not",
        "not(",
        "(",
        ")",
        "startswith(displayName,'A')",
        "contains(x,'')",
        "x/any(y:",
        "y eq 'a'",
        "y/z lt 3",
        "x/any()",
        "startswith(y,'b')",
        "_/any(z:z/any(w:w eq z",
        "displayName ge 'a'",
        "' '",
        ",",
    ]);
    prop::collection::vec(phrase, 0..12).prop_map(|phrases| phrases.join(" "))
}

/// A printed filter with one edit: characters removed, or a token inserted.
fn mutated_filter() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec!["(", ")", "'", ",", ":", "/", " ", "not ", " and ", "any(", "eq", "1", "x"]);
    (filter(), any::<prop::sample::Index>(), 0..4_usize, token, any::<bool>()).prop_map(
        |(filter, at, length, token, insert)| {
            let mut chars: Vec<char> = filter.to_string().chars().collect();
            let at = at.index(chars.len() + 1);
            if insert {
                chars.splice(at..at, token.chars());
            } else {
                chars.drain(at..(at + length).min(chars.len()));
            }
            chars.into_iter().collect()
        },
    )
}

fn fixture() -> Value {
    json!({
        "id": "ec2d0d8a-3c1f-4c32-9d1b-4e0a2f3b5c6d", "displayName": "Ada", "x": ["a", "B", null, 1, {"x": "y"}],
        "not": true, "and": 1, "a": {"b": "2026-01-01T00:00:00Z", "any": [1.5, -2]}, "n": null, "_": [],
    })
}

const TABLE: Capabilities<'static> = &[
    ("displayName", &[Operator::Eq, Operator::StartsWith, Operator::Not]),
    ("x", &[Operator::Any, Operator::Eq, Operator::In]),
    ("a/b", &[Operator::Eq, Operator::Gt]),
];

/// Parsing is total and the printer's output parses back.
fn parses_back(text: &str) -> Result<(), TestCaseError> {
    if let Ok(filter) = Filter::parse(text) {
        let printed = filter.to_string();
        prop_assert_eq!(Filter::parse(&printed), Ok(filter), "input {:?}, printed {:?}", text, printed);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn printed_filters_parse_back(filter in filter()) {
        let printed = filter.to_string();
        if printed.chars().count() <= MAX_FILTER_LENGTH {
            prop_assert_eq!(Filter::parse(&printed), Ok(filter.clone()), "printed: {}", printed);
        } else {
            prop_assert!(Filter::parse(&printed).is_err());
        }
        let object = fixture();
        let _ = filter.matches(&object, MatchOptions::CASE_INSENSITIVE);
        let _ = filter.matches(&object, MatchOptions::CASE_SENSITIVE);
        let _ = filter.check(TABLE, "Fixture");
        // `ne` is `not eq`, whatever the values.
        if let Filter::Compare { path, op: CompareOp::Eq, value } = &filter {
            let ne = Filter::Compare { path: path.clone(), op: CompareOp::Ne, value: value.clone() };
            prop_assert_ne!(filter.matches(&object, MatchOptions::CASE_INSENSITIVE), ne.matches(&object, MatchOptions::CASE_INSENSITIVE));
        }
        prop_assert_eq!(
            Filter::Not(Box::new(filter.clone())).matches(&object, MatchOptions::CASE_SENSITIVE),
            !filter.matches(&object, MatchOptions::CASE_SENSITIVE)
        );
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(text in any::<String>()) {
        parses_back(&text)?;
    }

    #[test]
    fn parsing_printable_text_never_panics(text in "\\PC{0,80}") {
        parses_back(&text)?;
    }

    #[test]
    fn parsing_token_soup_never_panics(text in token_soup()) {
        parses_back(&text)?;
        if let Ok(filter) = Filter::parse(&text) {
            let _ = filter.matches(&fixture(), MatchOptions::CASE_INSENSITIVE);
            let _ = filter.check(TABLE, "Fixture");
        }
    }

    #[test]
    fn parsing_phrase_soup_never_panics(text in phrase_soup()) {
        parses_back(&text)?;
        if let Ok(filter) = Filter::parse(&text) {
            let _ = filter.matches(&fixture(), MatchOptions::CASE_SENSITIVE);
        }
    }

    #[test]
    fn parsing_mutated_filters_never_panics(text in mutated_filter()) {
        parses_back(&text)?;
    }

    #[test]
    fn parse_query_never_panics(raw in "([$a-z%0-9+=&' ()]|%2[0-9A-F]|\\$filter=|\\$top=|\\$select=|\\$orderby=){0,40}") {
        let _ = parse_query(&raw);
    }
}

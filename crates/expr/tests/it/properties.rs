//! Property tests: printing round-trips, parsing never panics, evaluation never panics.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use roster_expr::{AppRoleAssignment, CompareOp, Context, Expr, Expression, Function, Value, VbConstant};

fn attribute_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("list".to_owned()),
        Just("roles".to_owned()),
        Just("date".to_owned()),
        "[a-zA-Z0-9_.: -]{1,12}",
    ]
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        attribute_name().prop_map(Expr::Attribute),
        any::<String>().prop_map(Expr::String),
        prop_oneof![
            Just(r#"[a-z]+"#.to_owned()),
            Just("yyyy-MM-dd".to_owned()),
            Just("2021-08-24".to_owned()),
            Just("d".to_owned()),
            Just("".to_owned()),
            "[a-zA-Z0-9 ,.]{0,6}",
        ]
        .prop_map(Expr::String),
        prop_oneof![any::<i64>(), -5i64..300].prop_map(Expr::Number),
        prop_oneof![Just(VbConstant::BinaryCompare), Just(VbConstant::TextCompare)].prop_map(Expr::Name),
    ]
}

fn compare_op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Equal),
        Just(CompareOp::NotEqual),
        Just(CompareOp::Less),
        Just(CompareOp::LessOrEqual),
        Just(CompareOp::Greater),
        Just(CompareOp::GreaterOrEqual),
    ]
}

/// A valid tree: argument counts within each function's arity, no nested SelectUniqueValue, no
/// comparison inside a comparison, no call whose only argument is omitted (it would print as `F()`).
fn expr() -> impl Strategy<Value = Expr> {
    let functions: Vec<Function> =
        Function::all().filter(|function| *function != Function::SelectUniqueValue).collect();
    leaf().prop_recursive(5, 48, 6, move |inner| {
        let functions = functions.clone();
        let call = (
            proptest::sample::select(functions),
            proptest::collection::vec(proptest::option::weighted(0.85, inner.clone()), 0..8),
        )
            .prop_filter_map("arity", |(function, mut args)| {
                let arity = function.arity();
                while args.len() < arity.min {
                    args.push(Some(Expr::String("x".to_owned())));
                }
                if let Some(max) = arity.max {
                    args.truncate(max);
                }
                if function == Function::Switch && args.len() % 2 == 1 {
                    args.pop();
                }
                if args.len() == 1 && args[0].is_none() {
                    args[0] = Some(Expr::Number(1));
                }
                function.accepts(args.len()).then_some(Expr::Call { function, args })
            });
        let operand = inner.prop_filter("no nested comparison", |expr| !matches!(expr, Expr::Compare { .. }));
        let compare = (compare_op(), operand.clone(), operand).prop_map(|(op, left, right)| Expr::Compare {
            op,
            left: Box::new(left),
            right: Box::new(right),
        });
        prop_oneof![4 => call, 1 => compare]
    })
}

fn top_level() -> impl Strategy<Value = Expr> {
    prop_oneof![
        8 => expr(),
        1 => proptest::collection::vec(expr(), 2..4).prop_map(|rules| Expr::Call {
            function: Function::SelectUniqueValue,
            args: rules.into_iter().map(Some).collect(),
        }),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<String>().prop_map(Value::String),
        "[a-zA-Z0-9 ,.@-]{0,12}".prop_map(Value::String),
        Just(Value::from("2021-08-24T10:00:00Z")),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::Number),
        (-62_135_596_800i64..253_402_300_799).prop_map(|seconds| {
            Value::DateTime(
                time::OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
            )
        }),
    ];
    prop_oneof![
        4 => scalar.clone(),
        1 => proptest::collection::vec(scalar, 0..4).prop_map(Value::List),
        1 => proptest::collection::vec(("[a-z]{0,4}", "[A-Za-z]{0,6}"), 0..3).prop_map(|items| {
            Value::AppRoleAssignments(
                items
                    .into_iter()
                    .map(|(value, display_name)| AppRoleAssignment { id: "id".to_owned(), value, display_name })
                    .collect(),
            )
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn print_then_parse_gives_the_same_tree(root in top_level()) {
        let printed = Expression::from_expr(root.clone()).to_string();
        prop_assume!(printed.chars().count() <= roster_expr::MAX_LENGTH);
        let parsed = Expression::parse(&printed).map_err(|error| TestCaseError::fail(format!("{printed}: {error}")))?;
        prop_assert_eq!(parsed.root(), &root);
    }

    #[test]
    fn parse_never_panics(input in any::<String>()) {
        let _ = Expression::parse(&input);
    }

    #[test]
    fn parse_never_panics_on_near_expressions(input in r#"[A-Za-z\[\]\(\)", &=<>0-9\\-]{0,40}"#) {
        if let Ok(expression) = Expression::parse(&input) {
            prop_assert_eq!(Expression::parse(&expression.to_string()), Ok(expression));
        }
    }

    #[test]
    fn evaluate_never_panics(root in top_level(), attributes in proptest::collection::btree_map(prop_oneof![Just("a".to_owned()), Just("b".to_owned()), Just("list".to_owned()), Just("roles".to_owned()), Just("date".to_owned())], value(), 0..5), seed in any::<u64>()) {
        let attributes: BTreeMap<String, Value> = attributes;
        let mut rng = StdRng::seed_from_u64(seed);
        let unique = |value: &Value| value.to_string().len().is_multiple_of(2);
        let mut context = Context::new(time::OffsetDateTime::UNIX_EPOCH, &mut rng).with_uniqueness_check(&unique);
        let _ = Expression::from_expr(root).evaluate(&attributes, &mut context);
    }
}

//! Integration tests for roster-expr: tables of documented examples, parse errors, and properties.

mod functions;
mod parse;
mod properties;

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand::rngs::StdRng;
use roster_expr::{AppRoleAssignment, Context, Expression, Outcome, Value};
use time::macros::datetime;

/// The fixed "now" of every test: the doc's `Now()` example, 7/2/2021 3:33:38 PM.
const NOW: time::OffsetDateTime = datetime!(2021-07-02 15:33:38 UTC);

/// Parses and evaluates `expression` against `attributes`, with the values in `taken` already present in
/// the target, and renders the result: the value's text, `[Redact] text` for secrets, `<null>`,
/// `<ignore>`, `parse error: ...` or `error: ...`. The only caller of the crate's API in these tables.
fn run(expression: &str, attributes: &[(&str, Value)], taken: &[&str]) -> String {
    let expression = match Expression::parse(expression) {
        Ok(expression) => expression,
        Err(error) => return format!("parse error: {error}"),
    };
    let source: BTreeMap<String, Value> =
        attributes.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect();
    let mut rng = StdRng::seed_from_u64(42);
    let check = |value: &Value| !taken.contains(&value.to_string().as_str());
    let mut context = Context::new(NOW, &mut rng).with_uniqueness_check(&check);
    match expression.evaluate(&source, &mut context) {
        Ok(Outcome::Value { value, secret: true }) => format!("[Redact] {value}"),
        Ok(Outcome::Value { value, secret: false }) => value.to_string(),
        Ok(Outcome::Null) => "<null>".to_owned(),
        Ok(Outcome::Ignore) => "<ignore>".to_owned(),
        Err(error) => format!("error: {error}"),
    }
}

#[track_caller]
fn check(expression: &str, attributes: &[(&str, Value)], expected: &str) {
    assert_eq!(run(expression, attributes, &[]), expected, "{expression}  with {attributes:?}");
}

#[track_caller]
fn check_taken(expression: &str, attributes: &[(&str, Value)], taken: &[&str], expected: &str) {
    assert_eq!(run(expression, attributes, taken), expected, "{expression}  with {attributes:?}, taken {taken:?}");
}

fn s(text: &str) -> Value {
    Value::from(text)
}

fn list(items: &[&str]) -> Value {
    Value::strings(items.iter().copied())
}

fn roles(items: &[(&str, &str)]) -> Value {
    Value::AppRoleAssignments(
        items
            .iter()
            .map(|(value, display_name)| AppRoleAssignment {
                id: format!("id-{value}"),
                value: (*value).to_owned(),
                display_name: (*display_name).to_owned(),
            })
            .collect(),
    )
}

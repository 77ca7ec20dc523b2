//! `GET .../schema/filterOperators`: roster's 14 scoping operators as Graph's `filterOperatorSchema`, named as
//! scoping filters are written (`EQUALS`, `NOT EQUALS`, `Greater_Than`, ...).

use roster_engine::scoping::Operator;
use serde_json::{Value, json};

/// Every scoping operator, in Entra's order.
pub const OPERATORS: [Operator; 14] = [
    Operator::In,
    Operator::NotIn,
    Operator::EndsWith,
    Operator::Equals,
    Operator::NotEquals,
    Operator::IsTrue,
    Operator::IsFalse,
    Operator::IsNull,
    Operator::IsNotNull,
    Operator::RegexMatch,
    Operator::NotRegexMatch,
    Operator::GreaterThan,
    Operator::GreaterThanOrEquals,
    Operator::Includes,
];

/// Whether the operator compares with a value, and the attribute types it takes. (Multi-valued attributes count as
/// null in every clause, as Entra's documentation says, so every operator compares all values.)
fn shape(operator: Operator) -> (&'static str, &'static [&'static str]) {
    const TEXT: &[&str] = &["String"];
    match operator {
        Operator::In
        | Operator::NotIn
        | Operator::EndsWith
        | Operator::Includes
        | Operator::RegexMatch
        | Operator::NotRegexMatch => ("Binary", TEXT),
        Operator::Equals | Operator::NotEquals => ("Binary", &["String", "Integer", "Boolean"]),
        Operator::GreaterThan | Operator::GreaterThanOrEquals => ("Binary", &["Integer", "String"]),
        Operator::IsTrue | Operator::IsFalse => ("Unary", &["Boolean", "String"]),
        Operator::IsNull | Operator::IsNotNull => ("Unary", &["String", "Integer", "Boolean", "DateTime", "Reference"]),
    }
}

/// The operators' list.
pub fn filter_operators() -> Value {
    let value: Vec<Value> = OPERATORS
        .iter()
        .map(|operator| {
            let (arity, types) = shape(*operator);
            json!({
                "name": operator.as_str(),
                "arity": arity,
                "multivaluedComparisonType": "All",
                "supportedAttributeTypes": types,
            })
        })
        .collect();
    json!({ "value": value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourteen_distinct_operators_that_parse_back() {
        let names: std::collections::BTreeSet<&str> = OPERATORS.iter().map(|operator| operator.as_str()).collect();
        assert_eq!(names.len(), 14);
        for operator in OPERATORS {
            assert_eq!(Operator::parse(operator.as_str()), Some(operator));
        }
        let list = filter_operators();
        assert_eq!(
            list["value"][3],
            json!({"name": "EQUALS", "arity": "Binary", "multivaluedComparisonType": "All",
            "supportedAttributeTypes": ["String", "Integer", "Boolean"]})
        );
        assert_eq!(list["value"][5]["arity"], json!("Unary"));
    }
}

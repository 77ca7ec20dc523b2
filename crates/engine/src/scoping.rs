//! Attribute scoping filters, as Entra defines them: a filter is a list of clauses that must all hold; an object is
//! in scope when it passes any filter (or when there are none). A clause compares one single-valued source
//! attribute with a value using one of 14 operators; a null or empty attribute fails every clause except `IS NULL`
//! (and `IS FALSE` on an absent boolean, which is false).

use std::fmt;

use regex::Regex;
use roster_expr::{Source, Value};
use serde::{Deserialize, Serialize};

/// One filter: its clauses are ANDed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopingFilter {
    /// A title for logs (Entra shows `{title} {attribute} {operator} {value}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The clauses.
    pub clauses: Vec<Clause>,
}

/// One clause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clause {
    /// The source attribute (Graph name, or `IsSoftDeleted`-like computed ones).
    pub attribute: String,
    /// The operator.
    pub operator: Operator,
    /// The value to compare with (unused by `IS TRUE`, `IS FALSE`, `IS NULL`, `IS NOT NULL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Entra's 14 scoping operators, written as Entra names them (`EQUALS`, `NOT EQUALS`, `Greater_Than`, ...);
/// parsing ignores case and accepts `_` for spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `&`: the attribute's value occurs in the clause's value.
    In,
    /// `!&`: the attribute's value does not occur in the clause's value.
    NotIn,
    /// `ENDS_WITH`.
    EndsWith,
    /// `EQUALS`, case-sensitive.
    Equals,
    /// `NOT EQUALS`, case-sensitive.
    NotEquals,
    /// `IS TRUE`.
    IsTrue,
    /// `IS FALSE`.
    IsFalse,
    /// `IS NULL`: absent or empty.
    IsNull,
    /// `IS NOT NULL`.
    IsNotNull,
    /// `REGEX MATCH`, case-sensitive, anchored at neither end (.NET `Regex.IsMatch`).
    RegexMatch,
    /// `NOT REGEX MATCH`; false when the attribute is null or empty.
    NotRegexMatch,
    /// `Greater_Than`, integers.
    GreaterThan,
    /// `Greater_Than_OR_EQUALS`, integers.
    GreaterThanOrEquals,
    /// `Includes`: contains the value, case-sensitive.
    Includes,
}

const OPERATORS: [(Operator, &str); 14] = [
    (Operator::In, "&"),
    (Operator::NotIn, "!&"),
    (Operator::EndsWith, "ENDS_WITH"),
    (Operator::Equals, "EQUALS"),
    (Operator::NotEquals, "NOT EQUALS"),
    (Operator::IsTrue, "IS TRUE"),
    (Operator::IsFalse, "IS FALSE"),
    (Operator::IsNull, "IS NULL"),
    (Operator::IsNotNull, "IS NOT NULL"),
    (Operator::RegexMatch, "REGEX MATCH"),
    (Operator::NotRegexMatch, "NOT REGEX MATCH"),
    (Operator::GreaterThan, "Greater_Than"),
    (Operator::GreaterThanOrEquals, "Greater_Than_OR_EQUALS"),
    (Operator::Includes, "Includes"),
];

impl Operator {
    /// The 14 operators, in Entra's order, with their names.
    pub fn all() -> impl Iterator<Item = (Operator, &'static str)> {
        OPERATORS.into_iter()
    }

    /// Whether the operator compares with a value (all but `IS TRUE`, `IS FALSE`, `IS NULL`, `IS NOT NULL`).
    pub fn takes_value(self) -> bool {
        self.needs_value()
    }

    /// Entra's name.
    pub fn as_str(self) -> &'static str {
        OPERATORS.iter().find(|(operator, _)| *operator == self).map_or("", |(_, name)| name)
    }

    /// Parses Entra's name, ignoring case and treating `_` and ` ` alike.
    pub fn parse(text: &str) -> Option<Operator> {
        let wanted = normalize(text);
        OPERATORS.iter().find(|(_, name)| normalize(name) == wanted).map(|(operator, _)| *operator)
    }

    fn needs_value(self) -> bool {
        !matches!(self, Operator::IsTrue | Operator::IsFalse | Operator::IsNull | Operator::IsNotNull)
    }
}

fn normalize(text: &str) -> String {
    text.trim().to_ascii_uppercase().replace('_', " ")
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Operator {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Operator {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Operator, D::Error> {
        let text = String::deserialize(deserializer)?;
        Operator::parse(&text).ok_or_else(|| {
            let names: Vec<&str> = OPERATORS.iter().map(|(_, name)| *name).collect();
            serde::de::Error::custom(format!("unknown scoping operator \"{text}\"; use one of {}", names.join(", ")))
        })
    }
}

/// A clause that cannot be evaluated as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopingError {
    /// The operator needs a value.
    #[error("scoping clause on {attribute}: {operator} needs a value")]
    MissingValue {
        /// The attribute.
        attribute: String,
        /// The operator.
        operator: Operator,
    },
    /// A regular expression that does not compile.
    #[error("scoping clause on {attribute}: invalid regular expression: {message}")]
    BadRegex {
        /// The attribute.
        attribute: String,
        /// Why.
        message: String,
    },
    /// Greater_Than needs an integer.
    #[error("scoping clause on {attribute}: {operator} needs an integer value, not \"{value}\"")]
    NotAnInteger {
        /// The attribute.
        attribute: String,
        /// The operator.
        operator: Operator,
        /// The value given.
        value: String,
    },
}

/// Scoping filters checked once and ready to evaluate.
#[derive(Debug, Clone, Default)]
pub struct CompiledScoping {
    filters: Vec<Vec<CompiledClause>>,
}

#[derive(Debug, Clone)]
struct CompiledClause {
    clause: Clause,
    regex: Option<Regex>,
    integer: Option<i64>,
}

/// A clause and whether it held, for the scoping step's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClauseResult {
    /// `{title} {attribute} {operator} {value}`.
    pub description: String,
    /// Whether it held.
    pub passed: bool,
}

impl CompiledScoping {
    /// Checks every clause (operators with their values, regular expressions, integers).
    pub fn compile(filters: &[ScopingFilter]) -> Result<CompiledScoping, ScopingError> {
        let mut compiled = Vec::with_capacity(filters.len());
        for filter in filters {
            let mut clauses = Vec::with_capacity(filter.clauses.len());
            for clause in &filter.clauses {
                clauses.push(compile_clause(clause)?);
            }
            compiled.push(clauses);
        }
        Ok(CompiledScoping { filters: compiled })
    }

    /// Whether there are no filters.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Whether the object passes: no filters, or every clause of some filter holds.
    pub fn passes(&self, source: &dyn Source) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|clauses| clauses.iter().all(|clause| clause.holds(source)))
    }

    /// Every clause with its result, for logs.
    pub fn explain(&self, source: &dyn Source, titles: &[ScopingFilter]) -> Vec<ClauseResult> {
        let mut results = Vec::new();
        for (index, clauses) in self.filters.iter().enumerate() {
            let title = titles.get(index).and_then(|filter| filter.title.clone()).unwrap_or_default();
            for clause in clauses {
                let value = clause.clause.value.as_deref().unwrap_or("");
                let description =
                    format!("{title} {} {} {value}", clause.clause.attribute, clause.clause.operator).trim().to_owned();
                results.push(ClauseResult { description, passed: clause.holds(source) });
            }
        }
        results
    }
}

fn compile_clause(clause: &Clause) -> Result<CompiledClause, ScopingError> {
    let operator = clause.operator;
    let value = match (&clause.value, operator.needs_value()) {
        (Some(value), true) => value.as_str(),
        (None, true) => {
            return Err(ScopingError::MissingValue { attribute: clause.attribute.clone(), operator });
        }
        (_, false) => "",
    };
    let regex = match operator {
        Operator::RegexMatch | Operator::NotRegexMatch => Some(Regex::new(value).map_err(|error| {
            ScopingError::BadRegex { attribute: clause.attribute.clone(), message: error.to_string() }
        })?),
        _ => None,
    };
    let integer = match operator {
        Operator::GreaterThan | Operator::GreaterThanOrEquals => Some(value.trim().parse::<i64>().map_err(|_| {
            ScopingError::NotAnInteger { attribute: clause.attribute.clone(), operator, value: value.to_owned() }
        })?),
        _ => None,
    };
    Ok(CompiledClause { clause: clause.clone(), regex, integer })
}

impl CompiledClause {
    fn holds(&self, source: &dyn Source) -> bool {
        let attribute = source.attribute(&self.clause.attribute).unwrap_or(Value::Null);
        let expected = self.clause.value.as_deref().unwrap_or("");
        let text = scalar_text(&attribute);
        match self.clause.operator {
            Operator::IsNull => text.as_deref().is_none_or(str::is_empty),
            Operator::IsNotNull => text.is_some_and(|text| !text.is_empty()),
            Operator::IsTrue => boolean(&attribute) == Some(true),
            Operator::IsFalse => boolean(&attribute) == Some(false),
            operator => {
                // Every other operator is false on a null or empty value (multi-valued attributes are not
                // supported by Entra's scoping filters, so they count as null too).
                let Some(text) = text.filter(|text| !text.is_empty()) else {
                    return false;
                };
                match operator {
                    Operator::In => expected.contains(text.as_str()),
                    Operator::NotIn => !expected.contains(text.as_str()),
                    Operator::EndsWith => text.ends_with(expected),
                    Operator::Equals => text == expected,
                    Operator::NotEquals => text != expected,
                    Operator::Includes => text.contains(expected),
                    Operator::RegexMatch => self.regex.as_ref().is_some_and(|regex| regex.is_match(&text)),
                    Operator::NotRegexMatch => self.regex.as_ref().is_some_and(|regex| !regex.is_match(&text)),
                    Operator::GreaterThan | Operator::GreaterThanOrEquals => {
                        let (Ok(actual), Some(limit)) = (text.trim().parse::<i64>(), self.integer) else {
                            return false;
                        };
                        if operator == Operator::GreaterThan { actual > limit } else { actual >= limit }
                    }
                    Operator::IsNull | Operator::IsNotNull | Operator::IsTrue | Operator::IsFalse => false,
                }
            }
        }
    }
}

/// The text of a single value; `None` for null and for multi-valued attributes.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Null | Value::List(_) | Value::AppRoleAssignments(_) | Value::Roles(_) => None,
        other => Some(other.to_string()),
    }
}

fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Boolean(value) => Some(*value),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Some(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn source() -> BTreeMap<String, Value> {
        let mut source = BTreeMap::new();
        source.insert("department".to_owned(), Value::from("Sales"));
        source.insert("userPrincipalName".to_owned(), Value::from("ada@contoso.com"));
        source.insert("employeeId".to_owned(), Value::from("1234567"));
        source.insert("accountEnabled".to_owned(), Value::Boolean(true));
        source.insert("empty".to_owned(), Value::from(""));
        source.insert("phones".to_owned(), Value::strings(["1", "2"]));
        source
    }

    fn clause(attribute: &str, operator: &str, value: Option<&str>) -> Clause {
        Clause {
            attribute: attribute.to_owned(),
            operator: Operator::parse(operator).unwrap(),
            value: value.map(str::to_owned),
        }
    }

    #[test]
    fn every_operator() {
        let cases: &[(&str, &str, Option<&str>, bool)] = &[
            ("department", "EQUALS", Some("Sales"), true),
            ("department", "EQUALS", Some("sales"), false),
            ("department", "NOT EQUALS", Some("sales"), true),
            ("missing", "NOT EQUALS", Some("sales"), false),
            ("department", "&", Some("Sales,Marketing"), true),
            ("department", "&", Some("Marketing"), false),
            ("department", "!&", Some("Marketing"), true),
            ("userPrincipalName", "ENDS_WITH", Some("@contoso.com"), true),
            ("userPrincipalName", "ends with", Some("@fabrikam.com"), false),
            ("accountEnabled", "IS TRUE", None, true),
            ("accountEnabled", "IS FALSE", None, false),
            ("missing", "IS FALSE", None, false),
            ("missing", "IS NULL", None, true),
            ("empty", "IS NULL", None, true),
            ("department", "IS NULL", None, false),
            ("department", "IS NOT NULL", None, true),
            ("phones", "IS NOT NULL", None, false),
            ("userPrincipalName", "REGEX MATCH", Some(".*@contoso.com"), true),
            ("employeeId", "REGEX MATCH", Some("(1[0-9][0-9][0-9][0-9][0-9][0-9])"), true),
            ("department", "NOT REGEX MATCH", Some("^S"), false),
            ("missing", "NOT REGEX MATCH", Some("^S"), false),
            ("employeeId", "Greater_Than", Some("1234566"), true),
            ("employeeId", "Greater_Than", Some("1234567"), false),
            ("employeeId", "GREATER_THAN_OR_EQUALS", Some("1234567"), true),
            ("department", "Greater_Than", Some("1"), false),
            ("department", "Includes", Some("ale"), true),
            ("department", "Includes", Some("ALE"), false),
        ];
        let source = source();
        for (attribute, operator, value, expected) in cases {
            let filters = [ScopingFilter { title: None, clauses: vec![clause(attribute, operator, *value)] }];
            let compiled = CompiledScoping::compile(&filters).unwrap();
            assert_eq!(compiled.passes(&source), *expected, "{attribute} {operator} {value:?}");
        }
    }

    #[test]
    fn clauses_and_filters_combine() {
        let source = source();
        let sales = clause("department", "EQUALS", Some("Sales"));
        let fabrikam = clause("userPrincipalName", "ENDS_WITH", Some("@fabrikam.com"));
        let both = ScopingFilter { title: None, clauses: vec![sales.clone(), fabrikam.clone()] };
        assert!(!CompiledScoping::compile(std::slice::from_ref(&both)).unwrap().passes(&source));
        let either = [
            ScopingFilter { title: None, clauses: vec![fabrikam] },
            ScopingFilter { title: Some("Sales".into()), clauses: vec![sales] },
        ];
        let compiled = CompiledScoping::compile(&either).unwrap();
        assert!(compiled.passes(&source));
        let explained = compiled.explain(&source, &either);
        assert_eq!(explained[1].description, "Sales department EQUALS Sales");
        assert!(explained[1].passed && !explained[0].passed);
        assert!(CompiledScoping::compile(&[]).unwrap().passes(&source));
    }

    #[test]
    fn bad_clauses_are_refused() {
        let errors = [
            (clause("a", "EQUALS", None), "scoping clause on a: EQUALS needs a value"),
            (clause("a", "REGEX MATCH", Some("(")), "scoping clause on a: invalid regular expression"),
            (
                clause("a", "Greater_Than", Some("x")),
                "scoping clause on a: Greater_Than needs an integer value, not \"x\"",
            ),
        ];
        for (clause, expected) in errors {
            let error = CompiledScoping::compile(&[ScopingFilter { title: None, clauses: vec![clause] }]).unwrap_err();
            assert!(error.to_string().starts_with(expected), "{error}");
        }
        let unknown: Result<Operator, _> = serde_json::from_str("\"LIKE\"");
        assert!(unknown.unwrap_err().to_string().contains("unknown scoping operator \"LIKE\""));
        assert_eq!(serde_json::to_string(&Operator::NotEquals).unwrap(), "\"NOT EQUALS\"");
    }
}

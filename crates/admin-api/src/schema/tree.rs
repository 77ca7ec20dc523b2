//! Graph's `attributeMappingSource`, the expression tree of an attribute mapping, built from roster_expr's syntax
//! tree (`{expression, name, type, parameters: [{key, value}]}`), and read back from one; the functions'
//! parameters as `GET .../schema/functions` lists them.
//!
//! A node's `expression` is the canonical text of its subtree. A parameter's `key` is the function's parameter name
//! from its documented signature (`Replace(source, oldValue, regexPattern, ...)`); an omitted argument has no
//! parameter. A comparison (`[a] = "b"`, as IIF's condition takes it) is a `Function` node named by its operator
//! with the parameters `left` and `right`; a number or a VBA constant (`vbTextCompare`) is a `Constant` whose
//! expression is written without quotes.

use roster_engine::definition::{Mapping, MappingKind};
use roster_expr::{CompareOp, Expr, Expression, Function};
use serde_json::{Value, json};

use super::json::{At, PathError};

/// One parameter of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The documented name (`source`, `oldValue`, `NumChars`).
    pub name: &'static str,
    /// Graph's type: `String`, or `Integer` for counts and positions.
    pub kind: &'static str,
    /// Whether every call gives it.
    pub required: bool,
    /// Whether it repeats (`Join(separator, source1, source2, ...)`).
    pub multiple: bool,
}

const COMPARE_OPS: [CompareOp; 6] = [
    CompareOp::Equal,
    CompareOp::NotEqual,
    CompareOp::Less,
    CompareOp::LessOrEqual,
    CompareOp::Greater,
    CompareOp::GreaterOrEqual,
];

/// Parameters that take integers.
const INTEGERS: [&str; 9] = [
    "NumChars",
    "start",
    "length",
    "index",
    "WordNumber",
    "Length",
    "MinimumNumbers",
    "MinimumSpecialCharacters",
    "MinimumCapital",
];

fn param(name: &'static str, required: bool, multiple: bool) -> Param {
    let integer = INTEGERS.contains(&name) || name == "MinimumLowerCase";
    Param { name, kind: if integer { "Integer" } else { "String" }, required, multiple }
}

/// A function's parameters, from its documented signature; the repeating ones of the four variadic functions
/// (Coalesce, Join, SelectUniqueValue, Switch) are marked so.
pub fn params(function: Function) -> Vec<Param> {
    match function {
        Function::Coalesce => vec![param("source", true, true)],
        Function::Join => vec![param("separator", true, false), param("source", true, true)],
        Function::SelectUniqueValue => vec![param("uniqueValueRule", true, true)],
        Function::Switch => vec![
            param("source", true, false),
            param("defaultValue", true, false),
            param("key", false, true),
            param("value", false, true),
        ],
        fixed => {
            let signature = fixed.signature();
            let inside =
                signature.split_once('(').map_or("", |(_, rest)| rest.strip_suffix(')').unwrap_or(rest)).trim();
            let min = fixed.arity().min;
            inside
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .enumerate()
                .map(|(index, name)| {
                    let name = name.trim_matches(|c| c == '[' || c == ']');
                    let name = name.split('/').next().unwrap_or(name);
                    param(name, index < min, false)
                })
                .collect()
        }
    }
}

/// The parameter name of a function's argument at `index`: the repeating parameters cycle (Switch's `key`,
/// `value`, `key`, ...).
pub fn param_name(function: Function, index: usize) -> &'static str {
    let params = params(function);
    if let Some(param) = params.get(index).filter(|param| !param.multiple) {
        return param.name;
    }
    match params.iter().position(|param| param.multiple) {
        Some(first) if index >= first => {
            let repeating = &params[first..];
            repeating[(index - first) % repeating.len()].name
        }
        _ => "argument",
    }
}

/// `GET .../schema/functions`: every function with its parameters.
pub fn functions() -> Value {
    let value: Vec<Value> = Function::all()
        .map(|function| {
            let parameters: Vec<Value> = params(function)
                .iter()
                .map(|param| {
                    json!({
                        "name": param.name,
                        "type": param.kind,
                        "required": param.required,
                        "allowMultipleOccurrences": param.multiple,
                    })
                })
                .collect();
            json!({"name": function.name(), "parameters": parameters})
        })
        .collect();
    json!({ "value": value })
}

fn node(expr: &Expr, name: &str, kind: &str, parameters: Vec<Value>) -> Value {
    json!({"expression": expr.to_string(), "name": name, "type": kind, "parameters": Value::Array(parameters)})
}

fn parameter(key: &str, value: &Expr) -> Value {
    json!({"key": key, "value": tree(value)})
}

/// The `attributeMappingSource` of a syntax tree.
pub fn tree(expr: &Expr) -> Value {
    match expr {
        Expr::Attribute(name) => node(expr, name, "Attribute", Vec::new()),
        Expr::String(text) => node(expr, text, "Constant", Vec::new()),
        Expr::Number(number) => node(expr, &number.to_string(), "Constant", Vec::new()),
        Expr::Name(constant) => node(expr, constant.name(), "Constant", Vec::new()),
        Expr::Call { function, args } => {
            let parameters = args
                .iter()
                .enumerate()
                .filter_map(|(index, arg)| arg.as_ref().map(|arg| parameter(param_name(*function, index), arg)))
                .collect();
            node(expr, function.name(), "Function", parameters)
        }
        Expr::Compare { op, left, right } => {
            node(expr, op.symbol(), "Function", vec![parameter("left", left), parameter("right", right)])
        }
    }
}

/// The syntax tree a mapping evaluates (`[source]` for Direct, the quoted value for Constant), `None` for a None
/// mapping, or an expression that does not parse.
pub fn effective(mapping: &Mapping) -> Option<Expr> {
    let source = mapping.source.as_deref()?;
    let text = match mapping.kind {
        MappingKind::Direct => return Some(Expr::Attribute(source.to_owned())),
        MappingKind::Constant => return Some(Expr::String(source.to_owned())),
        MappingKind::Expression => source,
        MappingKind::None => return None,
    };
    Expression::parse(text).ok().map(|expression| expression.root().clone())
}

/// The `source` of a mapping's `attributeMapping`: null for a None mapping.
pub fn mapping_source(mapping: &Mapping) -> Value {
    if mapping.kind == MappingKind::None {
        return Value::Null;
    }
    match effective(mapping) {
        Some(expr) => tree(&expr),
        // Stored definitions are validated, so this is a mapping without its source or an expression that does not
        // parse: shown as written.
        None => json!({
            "expression": mapping.source.clone().unwrap_or_default(),
            "name": "",
            "type": "Function",
            "parameters": [],
        }),
    }
}

/// The tree with the omitted arguments at the end of every call dropped: `Replace([x], "a", , , "b", , )` and
/// `Replace([x], "a", , , "b")` evaluate alike, and a tree (which has no place for them) cannot tell them apart.
pub fn trimmed(expr: &Expr) -> Expr {
    match expr {
        Expr::Call { function, args } => {
            let mut args: Vec<Option<Expr>> = args.iter().map(|arg| arg.as_ref().map(trimmed)).collect();
            while matches!(args.last(), Some(None)) {
                args.pop();
            }
            Expr::Call { function: *function, args }
        }
        Expr::Compare { op, left, right } => {
            Expr::Compare { op: *op, left: Box::new(trimmed(left)), right: Box::new(trimmed(right)) }
        }
        other => other.clone(),
    }
}

/// A source read from a request: its syntax tree and the expression text to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// The syntax tree.
    pub root: Expr,
    /// The text: the request's `expression` as written, or the canonical text of the tree.
    pub text: String,
}

fn parse_at(at: &At<'_>, text: &str) -> Result<Expr, PathError> {
    Expression::parse(text)
        .map(|expression| expression.root().clone())
        .map_err(|error| at.error_at("expression", error.to_string()))
}

/// Reads an `attributeMappingSource`: from its `expression` when it has one (the tree is then informational), else
/// from the tree, whose canonical text must parse.
pub fn read(at: &At<'_>) -> Result<Read, PathError> {
    if let Some(text) = at.opt_str("expression")?.filter(|text| !text.trim().is_empty()) {
        return Ok(Read { root: parse_at(at, text)?, text: text.to_owned() });
    }
    let root = from_tree(at)?;
    let text = root.to_string();
    let checked =
        Expression::parse(&text).map_err(|error| at.error(format!("the expression {text} does not parse: {error}")))?;
    Ok(Read { root: checked.root().clone(), text })
}

/// A syntax tree from an `attributeMappingSource`; a node with an `expression` is that expression.
fn from_tree(at: &At<'_>) -> Result<Expr, PathError> {
    if let Some(text) = at.opt_str("expression")?.filter(|text| !text.trim().is_empty()) {
        return parse_at(at, text);
    }
    let kind = at.opt_str("type")?.unwrap_or("Attribute");
    if kind.eq_ignore_ascii_case("Attribute") {
        let name = at.need("name")?.str()?;
        if name.is_empty() {
            return Err(at.error_at("name", "an Attribute source needs the attribute's name"));
        }
        Ok(Expr::Attribute(name.to_owned()))
    } else if kind.eq_ignore_ascii_case("Constant") {
        Ok(Expr::String(at.opt_str("name")?.unwrap_or_default().to_owned()))
    } else if kind.eq_ignore_ascii_case("Function") {
        function(at)
    } else {
        Err(at.error_at("type", format!("expected Attribute, Constant or Function, found {kind:?}")))
    }
}

fn function(at: &At<'_>) -> Result<Expr, PathError> {
    let name = at.need("name")?.str()?;
    let parameters = at.opt_items("parameters")?;
    let value = |parameter: &At<'_>| from_tree(&parameter.need("value")?);
    if let Some(op) = COMPARE_OPS.iter().copied().find(|op| op.symbol() == name) {
        let [left, right] = parameters.as_slice() else {
            return Err(
                at.error_at("parameters", format!("the comparison {name} takes two parameters, left and right"))
            );
        };
        return Ok(Expr::Compare { op, left: Box::new(value(left)?), right: Box::new(value(right)?) });
    }
    let function = Function::from_name(name).ok_or_else(|| {
        at.error_at(
            "name",
            format!("unknown function {name:?}; GET .../schema/functions lists them (names are case-sensitive)"),
        )
    })?;
    if function.arity().max.is_none() {
        // The repeating parameters go in the order given.
        let args = parameters.iter().map(|parameter| value(parameter).map(Some)).collect::<Result<_, _>>()?;
        return Ok(Expr::Call { function, args });
    }
    let spec = params(function);
    let mut args: Vec<Option<Expr>> = Vec::new();
    for parameter in &parameters {
        let key = parameter.need("key")?.str()?;
        let Some(position) = spec.iter().position(|param| param.name.eq_ignore_ascii_case(key)) else {
            let names: Vec<&str> = spec.iter().map(|param| param.name).collect();
            return Err(parameter.error_at(
                "key",
                format!("{function} has no parameter {key:?}; its parameters are {}", names.join(", ")),
            ));
        };
        if args.len() <= position {
            args.resize(position + 1, None);
        }
        if args[position].is_some() {
            return Err(parameter.error_at("key", format!("{key} is given twice")));
        }
        args[position] = Some(value(parameter)?);
    }
    Ok(Expr::Call { function, args })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphs_example_tree() {
        let expression = Expression::parse("Not([IsSoftDeleted])").unwrap();
        assert_eq!(
            tree(expression.root()),
            json!({"expression": "Not([IsSoftDeleted])", "name": "Not", "type": "Function",
                   "parameters": [{"key": "source", "value": {"expression": "[IsSoftDeleted]",
                   "name": "IsSoftDeleted", "type": "Attribute", "parameters": []}}]})
        );
        let replace = Expression::parse(r#"Replace([preferredLanguage], "-", , , "_", , )"#).unwrap();
        let keys: Vec<Value> = tree(replace.root())["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|parameter| parameter["key"].clone())
            .collect();
        assert_eq!(keys, [json!("source"), json!("oldValue"), json!("replacementValue")]);
        let constant = tree(&Expr::String("1".into()));
        assert_eq!((constant["name"].clone(), constant["expression"].clone()), (json!("1"), json!("\"1\"")));
    }

    /// Every expression's tree, without its `expression` texts, reads back to the same syntax tree.
    #[test]
    fn trees_read_back_without_their_texts() {
        fn strip(value: &mut Value) {
            if let Some(object) = value.as_object_mut() {
                object.remove("expression");
                for parameter in object.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
                    if let Some(inner) = parameter.get_mut("value") {
                        strip(inner);
                    }
                }
            }
        }
        for text in [
            "Not([IsSoftDeleted])",
            r#"Replace([preferredLanguage], "-", , , "_", , )"#,
            r#"Join(" ", [givenName], [surname])"#,
            r#"Switch([country], "Other", "US", "United States", "DE", "Germany")"#,
            r#"IIF([department] = "Sales", "S", "O")"#,
            r#"SelectUniqueValue(Join("@", [mailNickname], "x.com"), Join("@", [givenName], "x.com"))"#,
            r#"Coalesce([mail], [userPrincipalName], "none")"#,
            "AppRoleAssignmentsComplex([appRoleAssignments])",
            r#"FormatDateTime([deletedDateTime], , "yyyyMMdd", "yyyy")"#,
        ] {
            let expression = Expression::parse(text).unwrap();
            let mut source = tree(expression.root());
            strip(&mut source);
            let read = read(&At::root(&source)).unwrap();
            assert_eq!(trimmed(&read.root), trimmed(expression.root()), "{text}: {source}");
            let again = Expression::parse(&read.text).unwrap();
            assert_eq!(trimmed(again.root()), trimmed(expression.root()), "{}", read.text);
        }
    }

    #[test]
    fn bad_trees_name_the_path() {
        let cases = [
            (json!({"type": "Function", "name": "Nope"}), "name: unknown function \"Nope\""),
            (
                json!({"type": "Function", "name": "Not", "parameters": [{"key": "x", "value": {"name": "a"}}]}),
                "parameters[0].key: Not has no parameter \"x\"; its parameters are source",
            ),
            (
                json!({"type": "Function", "name": "Left", "parameters": []}),
                "the expression Left() does not parse: column 1: Left takes 2",
            ),
            (json!({"type": "Thing"}), "type: expected Attribute, Constant or Function"),
            (json!({"expression": "Join(\"a\""}), "expression: column 9: expected `,` or `)`"),
        ];
        for (source, expected) in cases {
            let error = read(&At::root(&source)).unwrap_err().to_string();
            assert!(error.contains(expected), "{error} does not contain {expected}");
        }
    }

    #[test]
    fn every_function_has_its_parameters() {
        for function in Function::all() {
            let params = params(function);
            let required = params.iter().filter(|param| param.required).count();
            assert!(required <= function.arity().min.max(1), "{function}");
            if let Some(max) = function.arity().max {
                assert_eq!(params.len(), max, "{function}");
            }
        }
        assert_eq!(param_name(Function::Switch, 4), "key");
        assert_eq!(param_name(Function::Switch, 5), "value");
        assert_eq!(param_name(Function::Join, 3), "source");
        assert_eq!(functions()["value"].as_array().map(Vec::len), Some(43));
    }
}

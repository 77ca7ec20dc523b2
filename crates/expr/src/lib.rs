//! The attribute-mapping expression language of Microsoft Entra ID's provisioning service: a VBA-like
//! language of nested function calls over source attributes, with the 43 functions Entra documents.
//!
//! [`Expression::parse`] turns text into a syntax tree (errors carry a 1-based column), `Display` prints
//! it back in a canonical form that parses to the same tree, and [`Expression::evaluate`] computes it
//! against a [`Source`] of attribute values. Everything that would come from the world, the current time,
//! randomness and the target's uniqueness check, comes in through a [`Context`].
//!
//! ```
//! use std::collections::BTreeMap;
//! use rand::{SeedableRng, rngs::StdRng};
//! use roster_expr::{Context, Expression, Outcome, Value};
//! use time::macros::datetime;
//!
//! let expression = Expression::parse(r#"ToLower(Join("@", Join(".", [givenName], [surname]), "contoso.com"))"#)?;
//! let mut user = BTreeMap::new();
//! user.insert("givenName".to_owned(), Value::from("John"));
//! user.insert("surname".to_owned(), Value::from("Smith"));
//!
//! let mut rng = StdRng::seed_from_u64(7);
//! let mut context = Context::new(datetime!(2024-05-01 12:00 UTC), &mut rng);
//! let outcome = expression.evaluate(&user, &mut context)?;
//! assert_eq!(outcome, Outcome::Value { value: Value::from("john.smith@contoso.com"), secret: false });
//! assert_eq!(expression.to_string(), r#"ToLower(Join("@", Join(".", [givenName], [surname]), "contoso.com"))"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Syntax
//!
//! - `FunctionName(arg, ...)`, nestable up to [`MAX_DEPTH`] calls; names are case-sensitive (`Join`, not
//!   `join`); an unknown name or a wrong argument count is a parse error naming the signature.
//! - Arguments may be omitted, as Entra's examples do: `Replace([x], "a", , , "b", , )`.
//! - `[attributeName]`: any characters but `[`, `]` and control characters, so
//!   `[extension_<appid>_employeeType]` and SCIM URNs work.
//! - `"text"` with `\"` and `\\` escapes; any other backslash is kept, so `"\d"` is a two-character string.
//! - Integers (`3`, `-10`) and VBA hex literals (`&HF7`); the bare constants `vbBinaryCompare` and
//!   `vbTextCompare`; comparisons `= <> < <= > >=` between two operands, as IIF conditions use them.
//! - A bare attribute, string or number is a whole expression too (a Direct or Constant mapping).
//!
//! # Decisions where the documentation is vague
//!
//! Each function's rule is written on its implementation in the `eval` module; in short: string
//! transforms keep null as null and apply to each value of a multi-valued attribute; `Left` and `Word` give
//! "" for null, as documented; `Join` skips null and empty values; comparisons with a null operand fail, as
//! IIF's documentation says; `Not` is True for anything but True; `IsString` is true only for strings;
//! `ToLower`/`ToUpper` accept a culture and apply the invariant (Unicode) mapping; `NormalizeDiacritics`
//! applies the documented table and drops combining marks; `Split` trims each value, as the documented
//! example shows; `Redact` anywhere in an expression makes the whole result secret;
//! `IgnoreFlowIfNullOrEmpty` anywhere that finds null or "" drops the attribute. Values larger than
//! [`MAX_VALUE_SIZE`] are an error rather than a way to exhaust memory.
#![warn(missing_docs)]

mod datetime;
mod eval;
mod functions;
mod syntax;
mod text;
mod value;

use std::collections::BTreeMap;
use std::fmt;

use rand::RngCore;
use time::OffsetDateTime;

pub use eval::MAX_VALUE_SIZE;
pub use functions::{Arity, Function};
pub use syntax::{CompareOp, Expr, MAX_DEPTH, MAX_LENGTH, ParseError, VbConstant};
pub use value::{AppRoleAssignment, ROLE_TYPE, Role, Value};

/// A parsed mapping expression. Two expressions are equal when their syntax trees are.
#[derive(Debug, Clone)]
pub struct Expression {
    root: Expr,
    /// Replace's constant patterns, compiled once.
    regexes: Vec<regex::Regex>,
}

impl PartialEq for Expression {
    fn eq(&self, other: &Expression) -> bool {
        self.root == other.root
    }
}

impl Eq for Expression {}

impl Expression {
    /// Parses an expression: a function call, or a bare `[attribute]`, `"constant"` or number (a Direct or
    /// Constant mapping). Unknown functions and wrong argument counts are errors here, naming the
    /// function's signature.
    pub fn parse(input: &str) -> Result<Expression, ParseError> {
        syntax::parse(input).map(Expression::from_expr)
    }

    /// Wraps a syntax tree built by hand. The tree is not checked; print and re-parse it to check it.
    pub fn from_expr(root: Expr) -> Expression {
        let mut regexes = Vec::new();
        eval::constant_regexes(&root, &mut regexes);
        Expression { root, regexes }
    }

    /// The syntax tree.
    pub fn root(&self) -> &Expr {
        &self.root
    }

    /// Evaluates the expression against a source object's attributes.
    pub fn evaluate(&self, source: &dyn Source, context: &mut Context<'_>) -> Result<Outcome, EvalError> {
        let mut evaluator = eval::Evaluator { source, context, secret: false, ignore: false, regexes: &self.regexes };
        let value = evaluator.eval(&self.root)?;
        if evaluator.ignore {
            return Ok(Outcome::Ignore);
        }
        if value.is_null() {
            return Ok(Outcome::Null);
        }
        Ok(Outcome::Value { value, secret: evaluator.secret })
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root.fmt(f)
    }
}

/// Where attribute values come from: the source object being provisioned.
pub trait Source {
    /// The value of the attribute `name`, `None` when the object does not have it.
    fn attribute(&self, name: &str) -> Option<Value>;
}

impl Source for BTreeMap<String, Value> {
    fn attribute(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }
}

/// What an evaluation needs from outside: the current time (for `Now`), a random source (for `Guid` and
/// `RandomString`) and the target's uniqueness check (for `SelectUniqueValue`).
pub struct Context<'a> {
    now: OffsetDateTime,
    rng: &'a mut dyn RngCore,
    is_unique: Option<&'a dyn Fn(&Value) -> bool>,
}

impl<'a> Context<'a> {
    /// A context at `now` (converted to UTC), where every value counts as unique.
    pub fn new(now: OffsetDateTime, rng: &'a mut dyn RngCore) -> Context<'a> {
        Context { now: now.to_offset(time::UtcOffset::UTC), rng, is_unique: None }
    }

    /// Uses `check` to tell whether SelectUniqueValue's candidate is free in the target.
    pub fn with_uniqueness_check(mut self, check: &'a dyn Fn(&Value) -> bool) -> Context<'a> {
        self.is_unique = Some(check);
        self
    }
}

impl fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("now", &self.now)
            .field("uniqueness_check", &self.is_unique.is_some())
            .finish_non_exhaustive()
    }
}

/// What a mapping should do with the target attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Set the target attribute to `value`. When `secret` is true (Redact was evaluated anywhere in the
    /// expression), logs must show `[Redact]` instead of the value.
    Value {
        /// The value.
        value: Value,
        /// Whether the value must be hidden from logs.
        secret: bool,
    },
    /// The expression has no value (for instance its attribute is absent); Entra does not provision nulls.
    Null,
    /// IgnoreFlowIfNullOrEmpty (anywhere in the expression) found null or "": drop the attribute from this
    /// flow.
    Ignore,
}

impl Outcome {
    /// The text to write in provisioning logs: the value, `[Redact]` for secrets, empty for null and ignore.
    pub fn log_text(&self) -> String {
        match self {
            Outcome::Value { secret: true, .. } => "[Redact]".to_owned(),
            Outcome::Value { value, secret: false } => value.to_string(),
            Outcome::Null | Outcome::Ignore => String::new(),
        }
    }
}

/// Why an expression could not be evaluated for this object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// A function got an argument it cannot use.
    #[error("{function}: {message}")]
    Argument {
        /// The function.
        function: Function,
        /// What was wrong.
        message: String,
    },
    /// A comparison or an IIF condition met a null value; Entra fails the condition check.
    #[error("IIF: the condition uses a null or absent value")]
    NullInCondition,
    /// Every SelectUniqueValue rule gave a value that already exists (Entra escrows the object).
    #[error("SelectUniqueValue: none of the {rules} rules gave a unique value")]
    NoUniqueValue {
        /// How many rules there were.
        rules: usize,
    },
    /// A step produced a value larger than [`MAX_VALUE_SIZE`].
    #[error("{function}: the result is larger than {limit} bytes")]
    TooLarge {
        /// The function whose result was too large.
        function: Function,
        /// The limit.
        limit: usize,
    },
}

//! The evaluator and the 43 documented functions. Each function's doc comment records the decisions taken where the
//! documentation leaves the behaviour open.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use base64::Engine as _;
use time::OffsetDateTime;

use crate::datetime::{self, Interval};
use crate::functions::Function;
use crate::syntax::{CompareOp, Expr, VbConstant};
use crate::text;
use crate::value::{ROLE_TYPE, Role, Value};
use crate::{Context, EvalError, Source};

/// Largest value (in bytes of text) any step may produce; stops expressions like nested `Append(x, x)`
/// from exhausting memory.
pub const MAX_VALUE_SIZE: usize = 1 << 20;

pub(crate) struct Evaluator<'e, 'r> {
    pub(crate) source: &'e dyn Source,
    pub(crate) context: &'e mut Context<'r>,
    pub(crate) secret: bool,
    pub(crate) ignore: bool,
    /// Replace's constant patterns, compiled once when the expression was parsed.
    pub(crate) regexes: &'e [regex::Regex],
}

/// Compiles a Replace pattern, with a bound on the compiled size.
pub(crate) fn compile_regex(pattern: &str) -> std::result::Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern).size_limit(1 << 20).build()
}

/// Compiles the constant, valid regexPattern arguments of every Replace in the tree.
pub(crate) fn constant_regexes(expr: &Expr, out: &mut Vec<regex::Regex>) {
    match expr {
        Expr::Call { function, args } => {
            if *function == Function::Replace
                && let Some(Some(Expr::String(pattern))) = args.get(2)
                && !pattern.is_empty()
                && out.iter().all(|regex| regex.as_str() != pattern)
                && let Ok(regex) = compile_regex(pattern)
            {
                out.push(regex);
            }
            for arg in args.iter().flatten() {
                constant_regexes(arg, out);
            }
        }
        Expr::Compare { left, right, .. } => {
            constant_regexes(left, out);
            constant_regexes(right, out);
        }
        Expr::Attribute(_) | Expr::String(_) | Expr::Number(_) | Expr::Name(_) => {}
    }
}

type Result<T> = std::result::Result<T, EvalError>;

fn argument_error(function: Function, message: impl Into<String>) -> EvalError {
    EvalError::Argument { function, message: message.into() }
}

impl Evaluator<'_, '_> {
    pub(crate) fn eval(&mut self, expr: &Expr) -> Result<Value> {
        match expr {
            Expr::Attribute(name) => Ok(self.source.attribute(name).unwrap_or(Value::Null)),
            Expr::String(text) => Ok(Value::String(text.clone())),
            Expr::Number(n) => Ok(Value::Number(*n)),
            Expr::Name(VbConstant::BinaryCompare) => Ok(Value::Number(0)),
            Expr::Name(VbConstant::TextCompare) => Ok(Value::Number(1)),
            Expr::Compare { op, left, right } => {
                let left = self.eval(left)?;
                let right = self.eval(right)?;
                compare(*op, &left, &right).map(Value::Boolean)
            }
            Expr::Call { function, args } => {
                let value = self.call(*function, args)?;
                if value.size() > MAX_VALUE_SIZE {
                    return Err(EvalError::TooLarge { function: *function, limit: MAX_VALUE_SIZE });
                }
                Ok(value)
            }
        }
    }

    fn eval_optional(&mut self, arg: Option<&Option<Expr>>) -> Result<Value> {
        match arg {
            Some(Some(expr)) => self.eval(expr),
            _ => Ok(Value::Null),
        }
    }

    fn call(&mut self, function: Function, args: &[Option<Expr>]) -> Result<Value> {
        // The functions that evaluate their arguments lazily come first.
        match function {
            Function::Iif => return self.iif(args),
            Function::Switch => return self.switch(args),
            Function::Coalesce => return self.coalesce(args),
            Function::SelectUniqueValue => return self.select_unique_value(args),
            _ => {}
        }
        let mut values = Vec::with_capacity(args.len());
        for arg in args {
            values.push(match arg {
                Some(expr) => Some(self.eval(expr)?),
                None => None,
            });
        }
        let call = Call { function, args: &values, regexes: self.regexes };
        match function {
            Function::Append => append(&call),
            Function::AppRoleAssignmentsComplex => app_role_assignments_complex(&call),
            Function::BitAnd => bit_and(&call),
            Function::CBool => c_bool(&call),
            Function::CDate => c_date(&call),
            Function::ConvertToBase64 => call.map_text(0, |text| {
                let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
                Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
            }),
            Function::ConvertToUtf8Hex => {
                call.map_text(0, |text| Ok(text.bytes().map(|byte| format!("{byte:02X}")).collect()))
            }
            Function::Count => Ok(Value::Number(count(call.arg(0)))),
            Function::CStr => c_str(&call),
            Function::DateAdd => date_add(&call),
            Function::DateDiff => date_diff(&call),
            Function::DateFromNum => date_from_num(&call),
            Function::FormatDateTime => format_date_time(&call),
            Function::Guid => Ok(Value::String(text::guid(self.context.rng))),
            Function::IgnoreFlowIfNullOrEmpty => {
                let value = call.arg(0).clone();
                if value.is_null_or_empty() {
                    self.ignore = true;
                    return Ok(Value::Null);
                }
                Ok(value)
            }
            Function::InStr => in_str(&call),
            Function::IsNull => Ok(Value::Boolean(call.arg(0).is_null())),
            Function::IsNullOrEmpty => Ok(Value::Boolean(call.arg(0).is_null_or_empty())),
            Function::IsPresent => Ok(Value::Boolean(!call.arg(0).is_null_or_empty())),
            Function::IsString => Ok(Value::Boolean(matches!(call.arg(0), Value::String(_)))),
            Function::Item => item(&call),
            Function::Join => join(&call),
            Function::Left => left(&call),
            Function::Mid => mid(&call),
            Function::NormalizeDiacritics => call.map_text(0, |text| Ok(text::normalize_diacritics(text))),
            Function::Not => Ok(Value::Boolean(!is_true(call.arg(0)))),
            Function::Now => Ok(Value::DateTime(self.context.now)),
            Function::NumFromDate => num_from_date(&call),
            Function::PCase => p_case(&call),
            Function::RandomString => random_string(&call, self.context),
            Function::Redact => {
                self.secret = true;
                Ok(call.arg(0).clone())
            }
            Function::RemoveDuplicates => Ok(remove_duplicates(call.arg(0))),
            Function::Replace => replace(&call),
            Function::SingleAppRoleAssignment => single_app_role_assignment(&call),
            Function::Split => split(&call),
            Function::StripSpaces => call.map_text(0, |text| Ok(text.replace(' ', ""))),
            Function::ToLower => call.map_text(0, |text| Ok(text.to_lowercase())),
            Function::ToUpper => call.map_text(0, |text| Ok(text.to_uppercase())),
            Function::Word => word(&call),
            Function::Iif | Function::Switch | Function::Coalesce | Function::SelectUniqueValue => {
                Err(argument_error(function, "evaluated lazily"))
            }
        }
    }

    /// IIF(condition, valueIfTrue, valueIfFalse). Only the chosen branch is evaluated. The condition is
    /// true for the boolean True, the string "True" (any case) or a non-zero number. As documented ("if the
    /// source attribute used within the IIF function is empty or null, the condition check fails"), a
    /// comparison with a null operand is an error, and so is a null condition.
    fn iif(&mut self, args: &[Option<Expr>]) -> Result<Value> {
        let condition = self.eval_optional(args.first())?;
        let chosen = match condition {
            Value::Null => return Err(EvalError::NullInCondition),
            Value::Boolean(value) => value,
            Value::Number(n) => n != 0,
            Value::String(ref text) if text.eq_ignore_ascii_case("true") => true,
            Value::String(ref text) if text.eq_ignore_ascii_case("false") => false,
            other => {
                return Err(argument_error(
                    Function::Iif,
                    format!("the condition must be True or False, found {other:?}"),
                ));
            }
        };
        self.eval_optional(args.get(if chosen { 1 } else { 2 }))
    }

    /// Switch(source, defaultValue, key1, value1, ...). Case-sensitive comparison of the text forms; a null
    /// source matches the key "" (the documented way to test for an empty attribute). Only the chosen value
    /// is evaluated; an omitted default gives null.
    fn switch(&mut self, args: &[Option<Expr>]) -> Result<Value> {
        let source = self.eval_optional(args.first())?;
        let source = text_of(Function::Switch, &source)?;
        for pair in args.get(2..).unwrap_or_default().chunks(2) {
            let key = self.eval_optional(pair.first())?;
            if text_of(Function::Switch, &key)? == source {
                return self.eval_optional(pair.get(1));
            }
        }
        self.eval_optional(args.get(1))
    }

    /// Coalesce(source1, ..., defaultValue): the first value that is not null. The empty string is not
    /// null. Later arguments are not evaluated.
    fn coalesce(&mut self, args: &[Option<Expr>]) -> Result<Value> {
        for arg in args {
            let value = self.eval_optional(Some(arg))?;
            if !value.is_null() {
                return Ok(value);
            }
        }
        Ok(Value::Null)
    }

    /// SelectUniqueValue(rule1, rule2, ...): evaluates the rules in order and returns the first value the
    /// context's uniqueness check accepts (by default every value is unique). Rules that give null or an
    /// empty string are skipped. When no rule gives a unique value the result is an error (Entra escrows
    /// the entry).
    fn select_unique_value(&mut self, args: &[Option<Expr>]) -> Result<Value> {
        for arg in args {
            let value = self.eval_optional(Some(arg))?;
            if value.is_null_or_empty() {
                continue;
            }
            let unique = match self.context.is_unique {
                Some(check) => check(&value),
                None => true,
            };
            if unique {
                return Ok(value);
            }
        }
        Err(EvalError::NoUniqueValue { rules: args.len() })
    }
}

struct Call<'a> {
    function: Function,
    args: &'a [Option<Value>],
    regexes: &'a [regex::Regex],
}

static NULL: Value = Value::Null;

impl Call<'_> {
    /// The argument at `index`; null when omitted.
    fn arg(&self, index: usize) -> &Value {
        self.args.get(index).and_then(Option::as_ref).unwrap_or(&NULL)
    }

    /// Whether the argument at `index` was given (even as "" or a null attribute).
    fn given(&self, index: usize) -> bool {
        matches!(self.args.get(index), Some(Some(_)))
    }

    fn text(&self, index: usize) -> Result<String> {
        text_of(self.function, self.arg(index))
    }

    /// The text of a given argument, `None` when it was omitted.
    fn optional_text(&self, index: usize) -> Result<Option<String>> {
        if self.given(index) { self.text(index).map(Some) } else { Ok(None) }
    }

    /// An integer argument that must be present.
    fn integer(&self, index: usize, name: &str) -> Result<i64> {
        integer_of(self.function, self.arg(index))?
            .ok_or_else(|| argument_error(self.function, format!("{name} is required")))
    }

    fn date(&self, index: usize) -> Result<Option<OffsetDateTime>> {
        date_of(self.function, self.arg(index))
    }

    fn error(&self, message: impl Into<String>) -> EvalError {
        argument_error(self.function, message)
    }

    /// Applies a string transform: null stays null, a multi-valued attribute is transformed value by value.
    fn map_text(&self, index: usize, op: impl Fn(&str) -> Result<String>) -> Result<Value> {
        match self.arg(index) {
            Value::Null => Ok(Value::Null),
            Value::List(items) => items
                .iter()
                .map(|item| match item {
                    Value::Null => Ok(Value::Null),
                    item => op(&text_of(self.function, item)?).map(Value::String),
                })
                .collect::<Result<Vec<_>>>()
                .map(Value::List),
            value => op(&text_of(self.function, value)?).map(Value::String),
        }
    }
}

/// The text form of a single value; null is "". A multi-valued attribute with one value stands for that
/// value; with more it is an error.
fn text_of(function: Function, value: &Value) -> Result<String> {
    match value {
        Value::List(items) if items.len() == 1 => text_of(function, &items[0]),
        Value::List(_) | Value::AppRoleAssignments(_) | Value::Roles(_) => {
            Err(argument_error(function, "expected a single value, found a multi-valued attribute"))
        }
        value => Ok(value.to_string()),
    }
}

/// An integer from a number or a string holding one (decimal, or VBA hex `&H...`); null is `None`.
fn integer_of(function: Function, value: &Value) -> Result<Option<i64>> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(Some(*n)),
        Value::String(text) => parse_integer(text.trim())
            .map(Some)
            .ok_or_else(|| argument_error(function, format!("expected a number, found {text:?}"))),
        Value::List(items) if items.len() == 1 => integer_of(function, &items[0]),
        other => Err(argument_error(function, format!("expected a number, found {}", kind(other)))),
    }
}

fn parse_integer(text: &str) -> Option<i64> {
    if let Some(hex) = text.strip_prefix("&H").or_else(|| text.strip_prefix("&h")) {
        return u64::from_str_radix(hex, 16).ok().map(|n| n as i64);
    }
    text.parse().ok()
}

/// A date from a date or a string in one of the forms CDate accepts; null is `None`.
fn date_of(function: Function, value: &Value) -> Result<Option<OffsetDateTime>> {
    match value {
        Value::Null => Ok(None),
        Value::DateTime(at) => Ok(Some(*at)),
        Value::String(text) => datetime::parse_lenient(text)
            .map(Some)
            .ok_or_else(|| argument_error(function, format!("expected a date, found {text:?}"))),
        Value::List(items) if items.len() == 1 => date_of(function, &items[0]),
        other => Err(argument_error(function, format!("expected a date, found {}", kind(other)))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::String(_) => "a string",
        Value::Boolean(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::DateTime(_) => "a date",
        Value::List(_) => "a multi-valued attribute",
        Value::AppRoleAssignments(_) => "app role assignments",
        Value::Roles(_) => "roles",
    }
}

/// True for the boolean True, the string "True" in any case, and a non-zero number.
fn is_true(value: &Value) -> bool {
    match value {
        Value::Boolean(value) => *value,
        Value::String(text) => text.trim().eq_ignore_ascii_case("true"),
        Value::Number(n) => *n != 0,
        Value::List(items) if items.len() == 1 => is_true(&items[0]),
        _ => false,
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// The comparison operators of IIF conditions. Numbers compare as numbers (a string holding a number
/// counts), dates as dates, booleans as booleans, everything else as case-sensitive ordinal strings.
fn compare(op: CompareOp, left: &Value, right: &Value) -> Result<bool> {
    if left.is_null() || right.is_null() {
        return Err(EvalError::NullInCondition);
    }
    let text = |value: &Value| text_of(Function::Iif, value);
    let ordering = match (left, right) {
        (Value::Number(a), Value::Number(b)) => a.cmp(b),
        (Value::Number(a), Value::String(b)) if parse_integer(b.trim()).is_some() => {
            a.cmp(&parse_integer(b.trim()).unwrap_or_default())
        }
        (Value::String(a), Value::Number(b)) if parse_integer(a.trim()).is_some() => {
            parse_integer(a.trim()).unwrap_or_default().cmp(b)
        }
        (Value::DateTime(a), other) | (other, Value::DateTime(a)) => {
            let b = date_of(Function::Iif, other)?.unwrap_or(*a);
            if matches!(left, Value::DateTime(_)) { a.cmp(&b) } else { b.cmp(a) }
        }
        (Value::Boolean(a), other) | (other, Value::Boolean(a)) => match parse_bool(&text(other)?) {
            Some(b) if matches!(left, Value::Boolean(_)) => a.cmp(&b),
            Some(b) => b.cmp(a),
            None => text(left)?.cmp(&text(right)?),
        },
        _ => text(left)?.cmp(&text(right)?),
    };
    Ok(match op {
        CompareOp::Equal => ordering == Ordering::Equal,
        CompareOp::NotEqual => ordering != Ordering::Equal,
        CompareOp::Less => ordering == Ordering::Less,
        CompareOp::LessOrEqual => ordering != Ordering::Greater,
        CompareOp::Greater => ordering == Ordering::Greater,
        CompareOp::GreaterOrEqual => ordering != Ordering::Less,
    })
}

/// Append(source, suffix). A null source stays null (nothing to append to); a null suffix appends nothing.
fn append(call: &Call<'_>) -> Result<Value> {
    if call.arg(0).is_null() {
        return Ok(Value::Null);
    }
    Ok(Value::String(call.text(0)? + &call.text(1)?))
}

/// AppRoleAssignmentsComplex([appRoleAssignments]): every assignment as a SCIM role with
/// `primary: false` and type `WindowsAzureActiveDirectoryRole`, as Entra sends them.
fn app_role_assignments_complex(call: &Call<'_>) -> Result<Value> {
    match call.arg(0) {
        Value::Null => Ok(Value::Null),
        Value::AppRoleAssignments(assignments) => Ok(Value::Roles(
            assignments
                .iter()
                .map(|assignment| Role {
                    primary: false,
                    kind: ROLE_TYPE.to_owned(),
                    display: assignment.display_name.clone(),
                    value: assignment.value.clone(),
                })
                .collect(),
        )),
        Value::Roles(roles) => Ok(Value::Roles(roles.clone())),
        other => Err(call.error(format!("expected [appRoleAssignments], found {}", kind(other)))),
    }
}

/// SingleAppRoleAssignment([appRoleAssignments]): the value of the user's app role, as a string. Entra
/// does not support users with several assignments; this takes the first one given. No assignment is null.
fn single_app_role_assignment(call: &Call<'_>) -> Result<Value> {
    match call.arg(0) {
        Value::Null => Ok(Value::Null),
        Value::AppRoleAssignments(assignments) => {
            Ok(assignments.first().map_or(Value::Null, |assignment| Value::String(assignment.value.clone())))
        }
        other => Err(call.error(format!("expected [appRoleAssignments], found {}", kind(other)))),
    }
}

/// BitAnd(value1, value2): both must be numbers (or strings holding numbers, decimal or `&H` hex).
fn bit_and(call: &Call<'_>) -> Result<Value> {
    Ok(Value::Number(call.integer(0, "value1")? & call.integer(1, "value2")?))
}

/// CBool(expression): True for a non-zero number, the boolean True or the string "True" (any case); False
/// for zero, False, "False" and null. Other strings are an error.
fn c_bool(call: &Call<'_>) -> Result<Value> {
    let value = call.arg(0);
    match value {
        Value::Null => Ok(Value::Boolean(false)),
        Value::Boolean(value) => Ok(Value::Boolean(*value)),
        Value::Number(n) => Ok(Value::Boolean(*n != 0)),
        _ => {
            let text = call.text(0)?;
            if let Some(value) = parse_bool(&text) {
                return Ok(Value::Boolean(value));
            }
            match parse_integer(text.trim()) {
                Some(n) => Ok(Value::Boolean(n != 0)),
                None => Err(call.error(format!("expected a boolean or number, found {text:?}"))),
            }
        }
    }
}

/// CDate(expression): a UTC date from ISO 8601 text (with or without time and offset) or from the
/// `M/d/yyyy h:mm:ss tt` form. Null stays null.
fn c_date(call: &Call<'_>) -> Result<Value> {
    Ok(call.date(0)?.map_or(Value::Null, Value::DateTime))
}

/// Count(attribute): the number of values; null counts 0 and a single value 1.
fn count(value: &Value) -> i64 {
    let count = match value {
        Value::Null => 0,
        Value::List(items) => items.len(),
        Value::AppRoleAssignments(items) => items.len(),
        Value::Roles(items) => items.len(),
        _ => 1,
    };
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// CStr(value): the text form (`True`/`False`, decimal numbers, dates as `M/d/yyyy h:mm:ss tt`). Null
/// stays null.
fn c_str(call: &Call<'_>) -> Result<Value> {
    if call.arg(0).is_null() {
        return Ok(Value::Null);
    }
    call.text(0).map(Value::String)
}

fn interval(call: &Call<'_>) -> Result<Interval> {
    let text = call.text(0)?;
    Interval::parse(&text)
        .ok_or_else(|| call.error(format!("interval must be one of yyyy, m, d, ww, h, n, s; found {text:?}")))
}

/// DateAdd(interval, value, dateTime): VBA semantics; adding months keeps the day, clamped to the month's
/// end. A null date gives null.
fn date_add(call: &Call<'_>) -> Result<Value> {
    let interval = interval(call)?;
    let amount = call.integer(1, "value")?;
    let Some(at) = call.date(2)? else {
        return Ok(Value::Null);
    };
    datetime::add(interval, amount, at).map(Value::DateTime).ok_or_else(|| call.error("the date is out of range"))
}

/// DateDiff(interval, date1, date2): VBA semantics, counting the interval boundaries crossed (calendar
/// years, months and days in UTC; weeks starting on Sunday), positive when date2 is later. A null date
/// gives null.
fn date_diff(call: &Call<'_>) -> Result<Value> {
    let interval = interval(call)?;
    let (Some(first), Some(second)) = (call.date(1)?, call.date(2)?) else {
        return Ok(Value::Null);
    };
    Ok(Value::Number(datetime::diff(interval, first, second)))
}

/// DateFromNum(value): AD's FILETIME (100 ns since 1601-01-01 UTC) to a date. Null stays null.
fn date_from_num(call: &Call<'_>) -> Result<Value> {
    let Some(ticks) = integer_of(call.function, call.arg(0))? else {
        return Ok(Value::Null);
    };
    datetime::from_filetime(ticks)
        .map(Value::DateTime)
        .ok_or_else(|| call.error(format!("{ticks} is out of the supported date range")))
}

/// NumFromDate(value): an ISO 8601 date (or a date value) to AD's FILETIME number. Null stays null.
fn num_from_date(call: &Call<'_>) -> Result<Value> {
    let Some(at) = call.date(0)? else {
        return Ok(Value::Null);
    };
    datetime::to_filetime(at).map(Value::Number).ok_or_else(|| call.error("the date is out of range"))
}

/// FormatDateTime(source, dateTimeStyles, inputFormat, outputFormat). The three-argument form of older
/// documentation, (source, inputFormat, outputFormat), is accepted too. dateTimeStyles is accepted and
/// ignored: parsing always allows surrounding white space, converts an offset to UTC, and takes a time
/// without one as UTC. A date value as source is formatted directly. Null stays null.
fn format_date_time(call: &Call<'_>) -> Result<Value> {
    let (input_index, output_index) = if call.args.len() == 3 { (1, 2) } else { (2, 3) };
    let output_format = call.text(output_index)?;
    let at = match call.arg(0) {
        Value::Null => return Ok(Value::Null),
        Value::DateTime(at) => *at,
        _ => {
            let source = call.text(0)?;
            match call.optional_text(input_index)? {
                Some(input_format) if !input_format.is_empty() => {
                    datetime::parse_exact(&source, &input_format).map_err(|message| call.error(message))?
                }
                _ => datetime::parse_lenient(&source)
                    .ok_or_else(|| call.error(format!("expected a date, found {source:?}")))?,
            }
        }
    };
    datetime::format(at, &output_format).map(Value::String).map_err(|message| call.error(message))
}

/// InStr(value1, value2, start, compareType): the 1-based position of value2 in value1 from `start`
/// (default 1), 0 when absent. compareType is vbBinaryCompare (0, the default) or vbTextCompare (1,
/// case-insensitive), given as the constant, its number or its name as a string. A null value1 is null.
fn in_str(call: &Call<'_>) -> Result<Value> {
    if call.arg(0).is_null() {
        return Ok(Value::Null);
    }
    let haystack: Vec<char> = call.text(0)?.chars().collect();
    let needle: Vec<char> = call.text(1)?.chars().collect();
    let start = integer_of(call.function, call.arg(2))?.unwrap_or(1);
    if start < 1 {
        return Err(call.error(format!("start must be 1 or more, found {start}")));
    }
    let ignore_case = match call.arg(3) {
        Value::Null | Value::Number(0) => false,
        Value::Number(1) => true,
        Value::String(text) if text == "vbBinaryCompare" => false,
        Value::String(text) if text == "vbTextCompare" => true,
        other => {
            return Err(call.error(format!("compareType must be vbBinaryCompare or vbTextCompare, found {other:?}")));
        }
    };
    let start = usize::try_from(start - 1).unwrap_or(usize::MAX);
    if start > haystack.len() {
        return Ok(Value::Number(0));
    }
    let fold = |c: &char| if ignore_case { c.to_lowercase().next().unwrap_or(*c) } else { *c };
    let haystack: Vec<char> = haystack.iter().map(fold).collect();
    let needle: Vec<char> = needle.iter().map(fold).collect();
    if needle.is_empty() {
        return Ok(Value::Number(start as i64 + 1));
    }
    let found = haystack[start..]
        .windows(needle.len())
        .position(|window| window == needle.as_slice())
        .map_or(0, |position| (start + position + 1) as i64);
    Ok(Value::Number(found))
}

/// Item(attribute, index): the value at a 1-based index; out of range (including 0) gives null. A single
/// value is its own first item.
fn item(call: &Call<'_>) -> Result<Value> {
    let index = call.integer(1, "index")?;
    let position = usize::try_from(index.saturating_sub(1)).ok().filter(|_| index >= 1);
    let Some(position) = position else {
        return Ok(Value::Null);
    };
    Ok(match call.arg(0) {
        Value::List(items) => items.get(position).cloned().unwrap_or(Value::Null),
        Value::AppRoleAssignments(items) => {
            items.get(position).map_or(Value::Null, |assignment| Value::String(assignment.value.clone()))
        }
        Value::Roles(items) => items.get(position).map_or(Value::Null, |role| Value::Roles(vec![role.clone()])),
        Value::Null => Value::Null,
        single if position == 0 => single.clone(),
        _ => Value::Null,
    })
}

/// Join(separator, source1, ...): multi-valued sources contribute every value. Null and empty values are
/// skipped, so no separator doubles up (the documented `Join(", ", "", [surname], [givenName])` gives
/// "Doe, John").
fn join(call: &Call<'_>) -> Result<Value> {
    let separator = call.text(0)?;
    let mut parts = Vec::new();
    let mut size = 0usize;
    for value in call.args.iter().skip(1).flatten() {
        let values: &[Value] = match value {
            Value::List(items) => items,
            single => std::slice::from_ref(single),
        };
        for value in values {
            let text = text_of(call.function, value)?;
            if text.is_empty() {
                continue;
            }
            size = size.saturating_add(text.len() + separator.len());
            if size > MAX_VALUE_SIZE {
                return Err(EvalError::TooLarge { function: call.function, limit: MAX_VALUE_SIZE });
            }
            parts.push(text);
        }
    }
    Ok(Value::String(parts.join(&separator)))
}

/// Left(String, NumChars), as documented: 0 gives "", a negative count the whole string, null "".
fn left(call: &Call<'_>) -> Result<Value> {
    let count = call.integer(1, "NumChars")?;
    let text = call.text(0)?;
    Ok(Value::String(match count {
        0 => String::new(),
        n if n < 0 => text,
        n => text.chars().take(usize::try_from(n).unwrap_or(usize::MAX)).collect(),
    }))
}

/// Mid(source, start, length): 1-based start; a length past the end stops at the end; a start past the
/// end gives "". A start below 1 or a negative length is an error. Null stays null.
fn mid(call: &Call<'_>) -> Result<Value> {
    let start = call.integer(1, "start")?;
    let length = call.integer(2, "length")?;
    if start < 1 {
        return Err(call.error(format!("start must be 1 or more, found {start}")));
    }
    if length < 0 {
        return Err(call.error(format!("length must not be negative, found {length}")));
    }
    let skip = usize::try_from(start - 1).unwrap_or(usize::MAX);
    let take = usize::try_from(length).unwrap_or(usize::MAX);
    call.map_text(0, |text| Ok(text.chars().skip(skip).take(take).collect()))
}

/// PCase(source, wordSeparators): see `text::proper_case`. Null stays null.
fn p_case(call: &Call<'_>) -> Result<Value> {
    let separators = call.optional_text(1)?;
    call.map_text(0, |text| Ok(text::proper_case(text, separators.as_deref())))
}

/// RandomString(Length, MinimumNumbers, MinimumSpecialCharacters, MinimumCapital, MinimumLowerCase,
/// CharactersToAvoid): at most 256 characters; the minimums must fit in the length. Characters beyond the
/// minimums come from all four classes. Special characters are those of Windows' password complexity rules.
fn random_string(call: &Call<'_>, context: &mut Context<'_>) -> Result<Value> {
    let number = |index: usize, name: &str| -> Result<usize> {
        let value = call.integer(index, name)?;
        if !(0..=text::MAX_RANDOM_LENGTH).contains(&value) {
            return Err(call.error(format!("{name} must be between 0 and {}, found {value}", text::MAX_RANDOM_LENGTH)));
        }
        Ok(usize::try_from(value).unwrap_or_default())
    };
    let avoid = call.optional_text(5)?.unwrap_or_default();
    let spec = text::RandomSpec {
        length: number(0, "Length")?,
        numbers: number(1, "MinimumNumbers")?,
        special: number(2, "MinimumSpecialCharacters")?,
        capital: number(3, "MinimumCapital")?,
        lower: number(4, "MinimumLowerCase")?,
        avoid: &avoid,
    };
    text::random_string(&spec, context.rng).map(Value::String).map_err(|message| call.error(message))
}

/// RemoveDuplicates(attribute): keeps the first of equal values, in order. A single value is unchanged.
fn remove_duplicates(value: &Value) -> Value {
    match value {
        Value::List(items) => {
            let mut seen = BTreeSet::new();
            Value::List(items.iter().filter(|item| seen.insert(*item)).cloned().collect())
        }
        other => other.clone(),
    }
}

/// Replace(source, oldValue, regexPattern, regexGroupName, replacementValue, replacementAttributeName,
/// template), case-sensitive, in the five documented behaviours, chosen by which arguments are given:
///
/// 1. oldValue and replacementValue: every oldValue in source becomes replacementValue;
/// 2. oldValue and template: every oldValue in template becomes source;
/// 3. regexPattern and replacementValue: every match in source becomes replacementValue, where
///    `${name}` and `$1` refer to groups;
/// 4. regexPattern, regexGroupName and replacementValue: in every match, the named group's text becomes
///    replacementValue;
/// 5. regexPattern, regexGroupName and replacementAttributeName: source if it has a value, otherwise the
///    named group's text in the first match in replacementAttributeName's value ("" without a match).
///
/// An argument counts as given when it is written, even as "" (Example 3 removes characters with a
/// replacementValue of ""). A null source gives null in behaviours 1 to 4. Patterns use .NET syntax;
/// the `regex` crate reads `(?<name>...)` named groups natively (it also reads `(?P<name>...)`), but has no
/// look-around or backreferences, which are errors here.
fn replace(call: &Call<'_>) -> Result<Value> {
    let source = call.arg(0);
    let old_value = call.optional_text(1)?.filter(|text| !text.is_empty());
    let pattern = call.optional_text(2)?.filter(|text| !text.is_empty());
    let group = call.optional_text(3)?.filter(|text| !text.is_empty());
    let replacement = call.optional_text(4)?;
    let template = call.optional_text(6)?;
    if let Some(pattern) = pattern {
        let cached = call.regexes.iter().find(|regex| regex.as_str() == pattern);
        let regex = match cached {
            Some(regex) => regex.clone(),
            None => compile_regex(&pattern)
                .map_err(|error| call.error(format!("invalid regular expression {pattern:?}: {error}")))?,
        };
        if let Some(group) = group {
            if regex.capture_names().all(|name| name != Some(group.as_str())) {
                return Err(call.error(format!("the pattern has no group named {group:?}")));
            }
            if call.given(5) && !call.given(4) {
                if !source.is_null_or_empty() {
                    return Ok(source.clone());
                }
                let other = call.text(5)?;
                return Ok(Value::String(
                    regex
                        .captures(&other)
                        .and_then(|captures| captures.name(&group))
                        .map_or_else(String::new, |found| found.as_str().to_owned()),
                ));
            }
            let Some(replacement) = replacement else {
                return Err(call
                    .error("with regexPattern and regexGroupName, give replacementValue or replacementAttributeName"));
            };
            return call.map_text(0, |text| replace_group(call, &regex, &group, text, &replacement));
        }
        let Some(replacement) = replacement else {
            return Err(call.error("with regexPattern, give replacementValue"));
        };
        return call.map_text(0, |text| replace_regex(call, &regex, text, &replacement));
    }
    let Some(old_value) = old_value else {
        return Err(call.error("give oldValue or regexPattern"));
    };
    if let Some(template) = template {
        if source.is_null() {
            return Ok(Value::Null);
        }
        let source = call.text(0)?;
        return replace_literal(call, &template, &old_value, &source).map(Value::String);
    }
    let Some(replacement) = replacement else {
        return Err(call.error("with oldValue, give replacementValue or template"));
    };
    call.map_text(0, |text| replace_literal(call, text, &old_value, &replacement))
}

fn too_large(call: &Call<'_>) -> EvalError {
    EvalError::TooLarge { function: call.function, limit: MAX_VALUE_SIZE }
}

fn replace_literal(call: &Call<'_>, text: &str, from: &str, to: &str) -> Result<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(position) = rest.find(from) {
        out.push_str(&rest[..position]);
        out.push_str(to);
        rest = &rest[position + from.len()..];
        if out.len() > MAX_VALUE_SIZE {
            return Err(too_large(call));
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn replace_regex(call: &Call<'_>, regex: &regex::Regex, text: &str, replacement: &str) -> Result<String> {
    let mut out = String::new();
    let mut last = 0;
    for captures in regex.captures_iter(text) {
        let Some(whole) = captures.get(0) else { continue };
        out.push_str(&text[last..whole.start()]);
        captures.expand(replacement, &mut out);
        last = whole.end();
        if out.len() > MAX_VALUE_SIZE {
            return Err(too_large(call));
        }
    }
    out.push_str(&text[last..]);
    Ok(out)
}

fn replace_group(call: &Call<'_>, regex: &regex::Regex, group: &str, text: &str, replacement: &str) -> Result<String> {
    let mut out = String::new();
    let mut last = 0;
    for captures in regex.captures_iter(text) {
        let Some(found) = captures.name(group) else { continue };
        if found.start() < last {
            continue;
        }
        out.push_str(&text[last..found.start()]);
        out.push_str(replacement);
        last = found.end();
        if out.len() > MAX_VALUE_SIZE {
            return Err(too_large(call));
        }
    }
    out.push_str(&text[last..]);
    Ok(out)
}

/// Split(source, delimiter): a multi-valued result. As in the documented example ("PermissionSetOne,
/// PermissionSetTwo" split on "," gives "PermissionSetTwo" without its leading space), white space around
/// each value is trimmed. An empty delimiter gives the whole string as the one value. Null stays null.
fn split(call: &Call<'_>) -> Result<Value> {
    if call.arg(0).is_null() {
        return Ok(Value::Null);
    }
    let text = call.text(0)?;
    let delimiter = call.text(1)?;
    if delimiter.is_empty() {
        return Ok(Value::List(vec![Value::String(text.trim().to_owned())]));
    }
    Ok(Value::List(text.split(delimiter.as_str()).map(|part| Value::String(part.trim().to_owned())).collect()))
}

/// Word(String, WordNumber, Delimiters), as documented: words are the non-empty runs between any of the
/// delimiter characters; a number below 1, a null string or too few words give "".
fn word(call: &Call<'_>) -> Result<Value> {
    let number = call.integer(1, "WordNumber")?;
    let text = call.text(0)?;
    let delimiters = call.text(2)?;
    if number < 1 {
        return Ok(Value::String(String::new()));
    }
    let index = usize::try_from(number - 1).unwrap_or(usize::MAX);
    let found =
        text.split(|c: char| delimiters.contains(c)).filter(|word| !word.is_empty()).nth(index).unwrap_or_default();
    Ok(Value::String(found.to_owned()))
}

//! Import parsers: `.json`, `.jsonl` and `.csv` files of users and groups, from any reader.
//!
//! - `.json`: `{"users": [...], "groups": [...]}`; both keys are optional, no other key is allowed.
//! - `.jsonl`: one object a line, each with `"objectType": "user"` or `"group"`; blank lines are skipped.
//! - `.csv`: users only; a header row of Graph attribute names, `id` and `userPrincipalName` required.
//!   An empty cell means the attribute is absent. `accountEnabled` is `true` or `false` in any case
//!   (absent means true). `businessPhones` is a `;`-separated list (spaces around each number are
//!   trimmed). A column that is not a Graph attribute is an extension attribute with a string value.
//!   An `objectType` column, if present, must be empty or `user`.
//!
//! In JSON, `null` and `""` mean the attribute is absent. A user attribute Graph does not define
//! (such as `extension_<appid>_<name>`) is kept as an extension attribute: a string, a bool, a number
//! or a list of strings. Groups have only `id`, `displayName`, `mailNickname`, `description`,
//! `securityEnabled` and `members`. An id may appear only once in a file, across users and groups.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, Read};
use std::path::Path;

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::model::{Directory, ExtensionValue, Group, ObjectId, ObjectIdError, UpnError, User, UserPrincipalName};

/// The import file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.json`: one object with `users` and `groups` lists.
    Json,
    /// `.jsonl`: one object a line, each with an `objectType`.
    Jsonl,
    /// `.csv`: users only, a header row of Graph attribute names.
    Csv,
}

/// Where in a file an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// The user at this index of a JSON file's `users` list.
    User(usize),
    /// The group at this index of a JSON file's `groups` list.
    Group(usize),
    /// The object on this line (JSONL), or the record starting on it (CSV); 1-based.
    Line(u64),
}

impl fmt::Display for Position {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::User(index) => write!(formatter, "users[{index}]"),
            Position::Group(index) => write!(formatter, "groups[{index}]"),
            Position::Line(line) => write!(formatter, "line {line}"),
        }
    }
}

/// Why an import file cannot be read. Each message says where and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file's extension is none of the supported ones.
    #[error("cannot tell the format of \"{path}\": use a file ending in .json, .jsonl or .csv")]
    UnsupportedFormat {
        /// The path as given.
        path: String,
    },
    /// Reading failed.
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    /// A `.json` file is not valid JSON.
    #[error("not valid JSON: {message}")]
    Json {
        /// serde_json's message, with line and column.
        message: String,
    },
    /// A `.jsonl` line is not valid JSON.
    #[error("line {line}: not valid JSON: {message}")]
    JsonLine {
        /// The 1-based line.
        line: u64,
        /// serde_json's message.
        message: String,
    },
    /// A `.csv` file is not valid CSV.
    #[error("line {line}: not valid CSV: {message}")]
    Csv {
        /// The 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A `.json` file is not an object.
    #[error("the file must hold one JSON object {{\"users\": [...], \"groups\": [...]}}, not {found}")]
    TopLevel {
        /// What it holds.
        found: &'static str,
    },
    /// A `.json` file has a top-level key other than `users` and `groups`.
    #[error("unknown top-level key \"{key}\"; the supported keys are \"users\" and \"groups\"")]
    UnknownTopLevelKey {
        /// The key.
        key: String,
    },
    /// `users` or `groups` is not a list.
    #[error("\"{key}\" must be a list of objects, not {found}")]
    NotAList {
        /// `users` or `groups`.
        key: &'static str,
        /// What it is.
        found: &'static str,
    },
    /// An entry is not a JSON object.
    #[error("{at}: expected a JSON object, not {found}")]
    NotAnObject {
        /// Where.
        at: Position,
        /// What it is.
        found: &'static str,
    },
    /// A JSONL object has no `objectType`.
    #[error("{at}: objectType is missing; add \"objectType\": \"user\" or \"group\"")]
    MissingObjectType {
        /// Where.
        at: Position,
    },
    /// An `objectType` is not the expected one.
    #[error("{at}: objectType must be {expected}, not {found}")]
    BadObjectType {
        /// Where.
        at: Position,
        /// The accepted values.
        expected: &'static str,
        /// The value found.
        found: String,
    },
    /// An attribute has a wrong value.
    #[error("{at}: {attribute} {problem}")]
    Attribute {
        /// Where.
        at: Position,
        /// The attribute's name (for a list element, with its index: `members[2]`).
        attribute: String,
        /// What is wrong with it.
        problem: AttributeProblem,
    },
    /// A group has an attribute groups do not have.
    #[error(
        "{at}: unknown group attribute \"{attribute}\"; groups have id, displayName, mailNickname, description, securityEnabled and members"
    )]
    UnknownGroupAttribute {
        /// Where.
        at: Position,
        /// The attribute.
        attribute: String,
    },
    /// Two objects in one file have the same id.
    #[error("duplicate id {id}: {first} and {second}")]
    DuplicateId {
        /// The id.
        id: ObjectId,
        /// The first object with it.
        first: Position,
        /// The second one.
        second: Position,
    },
    /// A CSV header lacks a required column.
    #[error("line 1: missing column {column}; the header row needs id and userPrincipalName")]
    MissingColumn {
        /// The column.
        column: &'static str,
    },
    /// A CSV header names a column twice.
    #[error("line 1: column \"{column}\" appears twice")]
    DuplicateColumn {
        /// The column.
        column: String,
    },
}

/// What is wrong with one attribute's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributeProblem {
    /// A required attribute is absent or empty.
    #[error("is required")]
    Missing,
    /// Not a valid user principal name.
    #[error(transparent)]
    Upn(#[from] UpnError),
    /// Not a valid object id.
    #[error(transparent)]
    ObjectId(#[from] ObjectIdError),
    /// Not a string.
    #[error("must be a string, not {0}")]
    NotString(String),
    /// Not a bool.
    #[error("must be true or false, not {0}")]
    NotBool(String),
    /// Not a list of strings.
    #[error("must be a list of strings, not {0}")]
    NotStringList(String),
    /// Not an RFC 3339 timestamp.
    #[error("\"{0}\" is not an RFC 3339 date-time such as 2024-05-01T12:00:00Z")]
    NotTimestamp(String),
    /// An extension attribute's value is not a string, bool, number or list of strings.
    #[error("must be a string, true/false, a number or a list of strings, not {0}")]
    BadExtensionValue(String),
}

/// Chooses the format by the file's extension (`.json`, `.jsonl`, `.csv`, in any case).
pub fn format_from_path(path: &Path) -> Result<Format, ImportError> {
    let extension = path.extension().and_then(|extension| extension.to_str()).map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("json") => Ok(Format::Json),
        Some("jsonl") => Ok(Format::Jsonl),
        Some("csv") => Ok(Format::Csv),
        _ => Err(ImportError::UnsupportedFormat { path: path.display().to_string() }),
    }
}

/// Reads a file of the given format.
pub fn read(format: Format, reader: impl BufRead) -> Result<Directory, ImportError> {
    match format {
        Format::Json => read_json(reader),
        Format::Jsonl => read_jsonl(reader),
        Format::Csv => read_csv(reader),
    }
}

/// Reads a `.json` file: `{"users": [...], "groups": [...]}`.
pub fn read_json(reader: impl Read) -> Result<Directory, ImportError> {
    let value: Value = serde_json::from_reader(reader).map_err(|error| {
        if error.is_io() { ImportError::Io(error.into()) } else { ImportError::Json { message: error.to_string() } }
    })?;
    let Value::Object(top) = value else {
        return Err(ImportError::TopLevel { found: describe(&value) });
    };
    let mut directory = Directory::default();
    let mut seen = Seen::default();
    for (key, value) in &top {
        let (key, is_users): (&'static str, bool) = match key.as_str() {
            "users" => ("users", true),
            "groups" => ("groups", false),
            _ => return Err(ImportError::UnknownTopLevelKey { key: key.clone() }),
        };
        let entries = match value {
            Value::Array(entries) => entries.as_slice(),
            Value::Null => &[],
            other => return Err(ImportError::NotAList { key, found: describe(other) }),
        };
        for (index, entry) in entries.iter().enumerate() {
            let at = if is_users { Position::User(index) } else { Position::Group(index) };
            let Value::Object(object) = entry else {
                return Err(ImportError::NotAnObject { at, found: describe(entry) });
            };
            let expected = if is_users { "user" } else { "group" };
            if let Some(object_type) = object.get("objectType")
                && object_type.as_str() != Some(expected)
            {
                return Err(ImportError::BadObjectType {
                    at,
                    expected: if is_users { "\"user\"" } else { "\"group\"" },
                    found: object_type.to_string(),
                });
            }
            if is_users {
                let user = user_from_object(object, at)?;
                seen.check(user.id(), at)?;
                directory.users.push(user);
            } else {
                let group = group_from_object(object, at)?;
                seen.check(group.id(), at)?;
                directory.groups.push(group);
            }
        }
    }
    Ok(directory)
}

/// Reads a `.jsonl` file: one object a line, each with `"objectType": "user"` or `"group"`.
pub fn read_jsonl(reader: impl BufRead) -> Result<Directory, ImportError> {
    let mut directory = Directory::default();
    let mut seen = Seen::default();
    let mut line_number = 0;
    for line in reader.lines() {
        line_number += 1;
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let at = Position::Line(line_number);
        let value: Value = serde_json::from_str(&line)
            .map_err(|error| ImportError::JsonLine { line: line_number, message: error.to_string() })?;
        let Value::Object(object) = value else {
            return Err(ImportError::NotAnObject { at, found: describe(&value) });
        };
        match object.get("objectType") {
            None | Some(Value::Null) => return Err(ImportError::MissingObjectType { at }),
            Some(Value::String(kind)) if kind == "user" => {
                let user = user_from_object(&object, at)?;
                seen.check(user.id(), at)?;
                directory.users.push(user);
            }
            Some(Value::String(kind)) if kind == "group" => {
                let group = group_from_object(&object, at)?;
                seen.check(group.id(), at)?;
                directory.groups.push(group);
            }
            Some(other) => {
                return Err(ImportError::BadObjectType {
                    at,
                    expected: "\"user\" or \"group\"",
                    found: other.to_string(),
                });
            }
        }
    }
    Ok(directory)
}

/// Reads a `.csv` file of users (see the module documentation for the cell formats).
pub fn read_csv(reader: impl Read) -> Result<Directory, ImportError> {
    let mut csv_reader = csv::ReaderBuilder::new().has_headers(true).from_reader(reader);
    let headers = csv_reader.headers().map_err(csv_error)?.clone();
    let mut columns: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, name) in headers.iter().enumerate() {
        if columns.insert(name, index).is_some() {
            return Err(ImportError::DuplicateColumn { column: name.to_owned() });
        }
    }
    let id_column = *columns.get("id").ok_or(ImportError::MissingColumn { column: "id" })?;
    let upn_column =
        *columns.get("userPrincipalName").ok_or(ImportError::MissingColumn { column: "userPrincipalName" })?;

    let mut directory = Directory::default();
    let mut seen = Seen::default();
    let mut record = csv::StringRecord::new();
    while csv_reader.read_record(&mut record).map_err(csv_error)? {
        let line = record.position().map_or(0, csv::Position::line);
        let at = Position::Line(line);
        let attribute_error = attribute_error_at(at);
        let cell = |index: usize| record.get(index).unwrap_or("");
        let id = match cell(id_column) {
            "" => return Err(attribute_error("id", AttributeProblem::Missing)),
            text => ObjectId::parse(text).map_err(|error| attribute_error("id", error.into()))?,
        };
        let upn = match cell(upn_column) {
            "" => return Err(attribute_error("userPrincipalName", AttributeProblem::Missing)),
            text => {
                UserPrincipalName::parse(text).map_err(|error| attribute_error("userPrincipalName", error.into()))?
            }
        };
        let mut user = User::new(id, upn);
        for (name, text) in headers.iter().zip(record.iter()) {
            if text.is_empty() {
                continue;
            }
            let result = match name {
                "id" | "userPrincipalName" => Ok(()),
                "objectType" if text == "user" => Ok(()),
                "objectType" => {
                    return Err(ImportError::BadObjectType {
                        at,
                        expected: "\"user\" (a CSV file holds only users)",
                        found: format!("\"{text}\""),
                    });
                }
                "accountEnabled" => parse_csv_bool(text).map(|enabled| {
                    user.account_enabled = enabled;
                }),
                "businessPhones" => {
                    user.business_phones =
                        text.split(';').map(str::trim).filter(|phone| !phone.is_empty()).map(str::to_owned).collect();
                    Ok(())
                }
                "manager" => {
                    ObjectId::parse(text).map(|manager| user.manager = Some(manager)).map_err(AttributeProblem::from)
                }
                "deletedDateTime" => parse_timestamp(text).map(|deleted| {
                    user.deleted_date_time = Some(deleted);
                }),
                _ => {
                    match string_field(&mut user, name) {
                        Some(field) => *field = Some(text.to_owned()),
                        None => {
                            // The name is not reserved: every reserved name has a match arm above.
                            let _ = user.insert_extension(name, ExtensionValue::String(text.to_owned()));
                        }
                    }
                    Ok(())
                }
            };
            result.map_err(|problem| attribute_error(name, problem))?;
        }
        seen.check(user.id(), at)?;
        directory.users.push(user);
    }
    Ok(directory)
}

/// The ids seen so far in one file, with where.
#[derive(Default)]
struct Seen(BTreeMap<ObjectId, Position>);

impl Seen {
    fn check(&mut self, id: &ObjectId, at: Position) -> Result<(), ImportError> {
        if let Some(&first) = self.0.get(id) {
            return Err(ImportError::DuplicateId { id: id.clone(), first, second: at });
        }
        self.0.insert(id.clone(), at);
        Ok(())
    }
}

fn csv_error(error: csv::Error) -> ImportError {
    let line = error.position().map_or(1, csv::Position::line);
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("this record has {len} fields but the header row has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "the text is not UTF-8".to_owned(),
        _ => error.to_string(),
    };
    if error.is_io_error() {
        return match error.into_kind() {
            csv::ErrorKind::Io(io_error) => ImportError::Io(io_error),
            _ => ImportError::Csv { line, message },
        };
    }
    ImportError::Csv { line, message }
}

fn parse_csv_bool(text: &str) -> Result<bool, AttributeProblem> {
    if text.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if text.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(AttributeProblem::NotBool(format!("\"{text}\"")))
    }
}

pub(crate) fn parse_timestamp(text: &str) -> Result<OffsetDateTime, AttributeProblem> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| AttributeProblem::NotTimestamp(text.to_owned()))
}

/// The field of a user's optional string attribute with this Graph name.
pub(crate) fn string_field<'u>(user: &'u mut User, name: &str) -> Option<&'u mut Option<String>> {
    user.string_attribute_mut(name)
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(true) => "true",
        Value::Bool(false) => "false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The error of one attribute of the object at `at`.
fn attribute_error_at(at: Position) -> impl Fn(&str, AttributeProblem) -> ImportError {
    move |attribute, problem| ImportError::Attribute { at, attribute: attribute.to_owned(), problem }
}

/// The object's `id`, present and a GUID.
fn required_id(object: &Map<String, Value>) -> Result<ObjectId, AttributeProblem> {
    Ok(ObjectId::parse(required_string(object, "id")?)?)
}

fn required_string<'v>(object: &'v Map<String, Value>, name: &str) -> Result<&'v str, AttributeProblem> {
    match object.get(name) {
        None | Some(Value::Null) => Err(AttributeProblem::Missing),
        Some(Value::String(text)) if text.is_empty() => Err(AttributeProblem::Missing),
        Some(Value::String(text)) => Ok(text),
        Some(other) => Err(AttributeProblem::NotString(describe(other).to_owned())),
    }
}

fn optional_string(value: &Value) -> Result<Option<String>, AttributeProblem> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) if text.is_empty() => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        other => Err(AttributeProblem::NotString(describe(other).to_owned())),
    }
}

fn string_list(value: &Value) -> Result<Vec<String>, AttributeProblem> {
    let not_list = || AttributeProblem::NotStringList(describe(value).to_owned());
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.iter().map(|item| item.as_str().map(str::to_owned).ok_or_else(not_list)).collect(),
        _ => Err(not_list()),
    }
}

/// Reads one user from its Graph JSON object: an entry of a `.json` file's `users`, a `.jsonl` line (its
/// `objectType` is ignored here), or what [`crate::export::user_to_object`] wrote. `at` is where the object is,
/// for the error.
pub fn user_from_object(object: &Map<String, Value>, at: Position) -> Result<User, ImportError> {
    let attribute_error = attribute_error_at(at);
    let id = required_id(object).map_err(|problem| attribute_error("id", problem))?;
    let upn = required_string(object, "userPrincipalName")
        .and_then(|text| Ok(UserPrincipalName::parse(text)?))
        .map_err(|problem| attribute_error("userPrincipalName", problem))?;
    let mut user = User::new(id, upn);
    for (name, value) in object {
        let result = match name.as_str() {
            "id" | "userPrincipalName" | "objectType" => Ok(()),
            "accountEnabled" => match value {
                Value::Null => Ok(()),
                Value::Bool(enabled) => {
                    user.account_enabled = *enabled;
                    Ok(())
                }
                other => Err(AttributeProblem::NotBool(describe(other).to_owned())),
            },
            "businessPhones" => string_list(value).map(|phones| user.business_phones = phones),
            "manager" => optional_string(value).and_then(|text| {
                user.manager = text.as_deref().map(ObjectId::parse).transpose()?;
                Ok(())
            }),
            "deletedDateTime" => optional_string(value).and_then(|text| {
                user.deleted_date_time = text.as_deref().map(parse_timestamp).transpose()?;
                Ok(())
            }),
            _ => match string_field(&mut user, name) {
                Some(field) => optional_string(value).map(|text| *field = text),
                None => extension_value(value).map(|extension| {
                    if let Some(extension) = extension {
                        // The name is not reserved: every reserved name has a match arm above.
                        let _ = user.insert_extension(name, extension);
                    }
                }),
            },
        };
        result.map_err(|problem| attribute_error(name, problem))?;
    }
    Ok(user)
}

pub(crate) fn extension_value(value: &Value) -> Result<Option<ExtensionValue>, AttributeProblem> {
    Ok(Some(match value {
        Value::Null => return Ok(None),
        Value::String(text) => ExtensionValue::String(text.clone()),
        Value::Bool(flag) => ExtensionValue::Bool(*flag),
        Value::Number(number) => ExtensionValue::Number(number.clone()),
        Value::Array(_) => ExtensionValue::List(
            string_list(value).map_err(|_| AttributeProblem::BadExtensionValue("a list of non-strings".to_owned()))?,
        ),
        Value::Object(_) => return Err(AttributeProblem::BadExtensionValue("an object".to_owned())),
    }))
}

/// Reads one group, with its members, from its Graph JSON object: an entry of a `.json` file's `groups`, a
/// `.jsonl` line (its `objectType` is ignored here), or what [`crate::export::group_to_object`] wrote. `at` is
/// where the object is, for the error.
pub fn group_from_object(object: &Map<String, Value>, at: Position) -> Result<Group, ImportError> {
    let attribute_error = attribute_error_at(at);
    let id = required_id(object).map_err(|problem| attribute_error("id", problem))?;
    let display_name =
        required_string(object, "displayName").map_err(|problem| attribute_error("displayName", problem))?;
    let mut group =
        Group::new(id, display_name).map_err(|_| attribute_error("displayName", AttributeProblem::Missing))?;
    for (name, value) in object {
        let result = match name.as_str() {
            "id" | "displayName" | "objectType" => Ok(()),
            "mailNickname" => optional_string(value).map(|text| group.mail_nickname = text),
            "description" => optional_string(value).map(|text| group.description = text),
            "securityEnabled" => match value {
                Value::Null => Ok(()),
                Value::Bool(flag) => {
                    group.security_enabled = Some(*flag);
                    Ok(())
                }
                other => Err(AttributeProblem::NotBool(describe(other).to_owned())),
            },
            "members" => {
                let members = string_list(value).map_err(|problem| attribute_error(name, problem))?;
                for (index, member) in members.iter().enumerate() {
                    let member = ObjectId::parse(member)
                        .map_err(|error| attribute_error(&format!("members[{index}]"), error.into()))?;
                    group.members.push(member);
                }
                Ok(())
            }
            _ => return Err(ImportError::UnknownGroupAttribute { at, attribute: name.clone() }),
        };
        result.map_err(|problem| attribute_error(name, problem))?;
    }
    Ok(group)
}

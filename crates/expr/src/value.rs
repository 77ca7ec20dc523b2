//! Values that attributes hold and expressions produce.

use std::fmt;

use time::OffsetDateTime;

use crate::datetime;

/// A value: what a source attribute holds and what an expression evaluates to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    /// No value: an absent attribute.
    Null,
    /// A string.
    String(String),
    /// A boolean, shown as `True` / `False` as Entra does.
    Boolean(bool),
    /// An integer (Entra's `Num`; AD dates are 64-bit integers too).
    Number(i64),
    /// A point in time, always held in UTC; shown as `M/d/yyyy h:mm:ss tt`.
    DateTime(OffsetDateTime),
    /// A multi-valued attribute.
    List(Vec<Value>),
    /// A user's app role assignments for the application (`[appRoleAssignments]`).
    AppRoleAssignments(Vec<AppRoleAssignment>),
    /// SCIM roles, as `AppRoleAssignmentsComplex` produces them.
    Roles(Vec<Role>),
}

/// One app role assigned to a user for the application being provisioned.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AppRoleAssignment {
    /// The app role's id.
    pub id: String,
    /// The app role's value (what the application sees, e.g. `Admin`).
    pub value: String,
    /// The app role's display name.
    pub display_name: String,
}

/// A SCIM `roles` element: `{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"Admin","value":"Admin"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Role {
    /// Whether this is the primary role.
    pub primary: bool,
    /// The role type; Entra sends `WindowsAzureActiveDirectoryRole`.
    pub kind: String,
    /// The role's display name.
    pub display: String,
    /// The role's value.
    pub value: String,
}

/// The role type Entra puts on every role it provisions.
pub const ROLE_TYPE: &str = "WindowsAzureActiveDirectoryRole";

impl Value {
    /// A string value.
    pub fn string(text: impl Into<String>) -> Value {
        Value::String(text.into())
    }

    /// A multi-valued attribute of strings.
    pub fn strings<I, S>(items: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Value::List(items.into_iter().map(|item| Value::String(item.into())).collect())
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Null, the empty string, or an empty multi-valued attribute.
    pub fn is_null_or_empty(&self) -> bool {
        match self {
            Value::Null => true,
            Value::String(text) => text.is_empty(),
            Value::List(items) => items.is_empty(),
            Value::AppRoleAssignments(items) => items.is_empty(),
            Value::Roles(items) => items.is_empty(),
            Value::Boolean(_) | Value::Number(_) | Value::DateTime(_) => false,
        }
    }

    /// A rough size in bytes, used to stop runaway growth.
    pub(crate) fn size(&self) -> usize {
        match self {
            Value::Null | Value::Boolean(_) | Value::Number(_) | Value::DateTime(_) => 8,
            Value::String(text) => text.len(),
            Value::List(items) => items.iter().map(|item| item.size() + 1).sum(),
            Value::AppRoleAssignments(items) => {
                items.iter().map(|item| item.id.len() + item.value.len() + item.display_name.len() + 1).sum()
            }
            Value::Roles(items) => {
                items.iter().map(|item| item.kind.len() + item.value.len() + item.display.len() + 1).sum()
            }
        }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::String(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::String(text)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Value {
        Value::Boolean(value)
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Value {
        Value::Number(value)
    }
}

/// The text form: strings as they are, `True`/`False`, decimal numbers, dates as `M/d/yyyy h:mm:ss tt`,
/// multi-valued attributes and roles as JSON arrays, null as the empty string.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::String(text) => f.write_str(text),
            Value::Boolean(true) => f.write_str("True"),
            Value::Boolean(false) => f.write_str("False"),
            Value::Number(n) => write!(f, "{n}"),
            Value::DateTime(at) => f.write_str(&datetime::display(*at)),
            Value::List(items) => {
                f.write_str("[")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(",")?;
                    }
                    write_json_string(f, &item.to_string())?;
                }
                f.write_str("]")
            }
            Value::AppRoleAssignments(items) => {
                f.write_str("[")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str("{\"id\":")?;
                    write_json_string(f, &item.id)?;
                    f.write_str(",\"value\":")?;
                    write_json_string(f, &item.value)?;
                    f.write_str(",\"displayName\":")?;
                    write_json_string(f, &item.display_name)?;
                    f.write_str("}")?;
                }
                f.write_str("]")
            }
            Value::Roles(items) => {
                f.write_str("[")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{{\"primary\":{},\"type\":", item.primary)?;
                    write_json_string(f, &item.kind)?;
                    f.write_str(",\"display\":")?;
                    write_json_string(f, &item.display)?;
                    f.write_str(",\"value\":")?;
                    write_json_string(f, &item.value)?;
                    f.write_str("}")?;
                }
                f.write_str("]")
            }
        }
    }
}

fn write_json_string(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in text.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

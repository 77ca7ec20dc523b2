//! Reading a JSON body field by field, with errors that name the JSON path of what is wrong
//! (`synchronizationRules[0].objectMappings[1].attributeMappings[3].source.expression: ...`).

use std::fmt;

use serde_json::Value;

/// Something wrong at a place in a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    /// The JSON path, e.g. `synchronizationRules[0].objectMappings[1]`; empty for the whole body.
    pub path: String,
    /// What is wrong, and what roster takes instead.
    pub message: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() { f.write_str(&self.message) } else { write!(f, "{}: {}", self.path, self.message) }
    }
}

impl std::error::Error for PathError {}

/// A value of the body and where it is.
#[derive(Debug, Clone)]
pub struct At<'a> {
    value: &'a Value,
    path: String,
}

/// What kind of JSON value this is, in words.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> At<'a> {
    /// The whole body.
    pub fn root(value: &'a Value) -> At<'a> {
        At { value, path: String::new() }
    }

    /// The value.
    pub fn value(&self) -> &'a Value {
        self.value
    }

    /// The path of this value.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The path of one of this object's fields.
    pub fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) }
    }

    /// An error about this value.
    pub fn error(&self, message: impl Into<String>) -> PathError {
        PathError { path: self.path.clone(), message: message.into() }
    }

    /// An error about one of this object's fields.
    pub fn error_at(&self, key: &str, message: impl Into<String>) -> PathError {
        PathError { path: self.key_path(key), message: message.into() }
    }

    fn expected(&self, what: &str) -> PathError {
        self.error(format!("expected {what}, found {}", kind(self.value)))
    }

    /// A field of this object; `None` when it is absent or null.
    pub fn get(&self, key: &str) -> Result<Option<At<'a>>, PathError> {
        let object = self.value.as_object().ok_or_else(|| self.expected("an object"))?;
        Ok(object.get(key).filter(|value| !value.is_null()).map(|value| At { value, path: self.key_path(key) }))
    }

    /// A field that must be there (and not null).
    pub fn need(&self, key: &str) -> Result<At<'a>, PathError> {
        self.get(key)?.ok_or_else(|| self.error_at(key, "required, but missing"))
    }

    /// The elements of this array.
    pub fn items(&self) -> Result<Vec<At<'a>>, PathError> {
        let items = self.value.as_array().ok_or_else(|| self.expected("an array"))?;
        Ok(items
            .iter()
            .enumerate()
            .map(|(index, value)| At { value, path: format!("{}[{index}]", self.path) })
            .collect())
    }

    /// This string.
    pub fn str(&self) -> Result<&'a str, PathError> {
        self.value.as_str().ok_or_else(|| self.expected("a string"))
    }

    /// This boolean.
    pub fn bool(&self) -> Result<bool, PathError> {
        self.value.as_bool().ok_or_else(|| self.expected("true or false"))
    }

    /// This non-negative integer.
    pub fn u32(&self) -> Result<u32, PathError> {
        self.value
            .as_u64()
            .and_then(|number| u32::try_from(number).ok())
            .ok_or_else(|| self.expected("an integer from 0 to 4294967295"))
    }

    /// An optional string field.
    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, PathError> {
        self.get(key)?.map(|at| at.str()).transpose()
    }

    /// An optional boolean field.
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, PathError> {
        self.get(key)?.map(|at| at.bool()).transpose()
    }

    /// An optional array field; absent is empty.
    pub fn opt_items(&self, key: &str) -> Result<Vec<At<'a>>, PathError> {
        Ok(self.get(key)?.map(|at| at.items()).transpose()?.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn errors_name_the_path() {
        let body = json!({"a": [{"b": 1}, {"b": "x", "n": null}]});
        let root = At::root(&body);
        let items = root.need("a").unwrap().items().unwrap();
        assert_eq!(items[1].need("b").unwrap().str().unwrap(), "x");
        assert_eq!(
            items[0].need("b").unwrap().str().unwrap_err().to_string(),
            "a[0].b: expected a string, found a number"
        );
        assert_eq!(items[1].need("n").unwrap_err().to_string(), "a[1].n: required, but missing");
        assert_eq!(items[1].opt_items("n").unwrap().len(), 0);
        assert_eq!(At::root(&json!([])).get("x").unwrap_err().to_string(), "expected an object, found an array");
        assert_eq!(items[0].need("b").unwrap().u32().unwrap(), 1);
    }
}

//! A JSON value's type in words, for the messages that say what a field held
//! instead of what it should (each front door's event parser uses it).

use serde_json::Value;

/// `"a string"`, `"an object"`, `"null"`…: what a message says was found.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

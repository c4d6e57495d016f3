//! A check's `assert` list as operators write it: one key per assertion,
//! on the status, a header, the body text, a JSON value, the response time,
//! green's TLS certificate, or the body's shape as a JSON Schema.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Keeps an explicit `null` as `Some(Value::Null)`, so that it can be
/// asserted, unlike a missing key.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// One assertion on the response. Exactly one key.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum AssertSpec {
    /// The status code: `200`, `[200, 204]` or `{"min": 200, "max": 299}`.
    Status(StatusSpec),
    /// A response header.
    Header(HeaderAssertSpec),
    /// The response body as text.
    Body(TextAssertSpec),
    /// A value inside a JSON body, found by a JSONPath (RFC 9535) query.
    Json(JsonAssertSpec),
    /// Time from sending the request to the whole body received.
    DurationMs(DurationAssertSpec),
    /// The TLS certificate green presented: `{"expires_in_days_at_least": 14}`.
    Certificate(CertificateAssertSpec),
    /// The whole body, parsed as JSON, is valid against this JSON Schema.
    JsonSchema(JsonSchemaAssertSpec),
}

/// Accepted status codes.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "a status code 100..599, a list of them, or {\"min\": 200, \"max\": 299}"
)]
pub enum StatusSpec {
    /// Exactly this code.
    Equals(i64),
    /// One of these codes.
    OneOf(Vec<i64>),
    /// A range, both ends included.
    Range(StatusRange),
}

/// A range of status codes, both ends included.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRange {
    /// Lowest accepted code.
    pub min: i64,
    /// Highest accepted code.
    pub max: i64,
}

/// An assertion on a response header. Give `name` and exactly one predicate.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeaderAssertSpec {
    /// Header name (case-insensitive).
    pub name: String,
    /// The header is present (`true`) or absent (`false`).
    pub exists: Option<bool>,
    /// The value equals this string.
    pub equals: Option<String>,
    /// The value contains this string.
    pub contains: Option<String>,
    /// The value matches this regular expression.
    pub matches: Option<String>,
}

/// An assertion on the body text. Exactly one predicate.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextAssertSpec {
    /// The body equals this string.
    pub equals: Option<String>,
    /// The body contains this string.
    pub contains: Option<String>,
    /// The body matches this regular expression.
    pub matches: Option<String>,
}

/// An assertion on a JSON value in the body. Give `path` and exactly one
/// predicate.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonAssertSpec {
    /// JSONPath query (RFC 9535), e.g. `$.status` or `$.checks[0].ok`.
    pub path: String,
    /// The value equals this JSON value (`null` included).
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Value")]
    pub equals: Option<Value>,
    /// The value is present (`true`) or absent (`false`).
    pub exists: Option<bool>,
    /// The value is one of these JSON values.
    pub one_of: Option<Vec<Value>>,
    /// The value (a string) contains this string, or (an array) has this
    /// element.
    pub contains: Option<Value>,
    /// The value (a string) matches this regular expression.
    pub matches: Option<String>,
    /// The value is a number less than this.
    pub less_than: Option<f64>,
    /// The value is a number at most this.
    pub at_most: Option<f64>,
    /// The value is a number greater than this.
    pub greater_than: Option<f64>,
    /// The value is a number at least this.
    pub at_least: Option<f64>,
}

/// An assertion on the response time.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DurationAssertSpec {
    /// The response took less than this many milliseconds.
    pub less_than: u64,
}

/// An assertion on the leaf certificate green presented on the TLS
/// connection of the response (after redirects, the last response's). A
/// response over plain http fails it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateAssertSpec {
    /// The certificate is still valid this many days from now, at least
    /// (whole days, 1..=3650), e.g. 14: fail the deployment while there is
    /// still time to renew, not once clients reject it.
    #[schemars(range(min = 1, max = 3650))]
    pub expires_in_days_at_least: u32,
}

/// A JSON Schema the body, parsed as JSON, must be valid against: drafts 4,
/// 6, 7, 2019-09 and 2020-12 (by its `$schema`, 2020-12 when none is given).
/// Every `$ref` must point inside the schema: nothing is fetched from the
/// network or read from files. At most 64 KiB of schema text. Formats
/// (`"format": "email"`) are annotations only, as in drafts 2019-09 and
/// 2020-12: not checked.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct JsonSchemaAssertSpec(#[schemars(schema_with = "any_schema")] pub Value);

/// A JSON Schema is an object or a boolean.
fn any_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["object", "boolean"]})
}

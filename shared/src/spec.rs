//! The check spec as operators write it (JSON). These types define the wire
//! format and the published JSON Schema; `plan` validates them into something
//! that can run.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::hook::Hook;

/// What greenlight checks on the green task set, and how.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "greenlight check spec")]
pub struct Spec {
    /// Where the checks send their requests.
    pub target: TargetSpec,
    /// How many checks may run at the same time (1..=64).
    #[serde(default = "default_concurrency")]
    #[schemars(range(min = 1, max = 64))]
    pub concurrency: u32,
    /// Defaults applied to every check that does not set its own.
    #[serde(default)]
    pub defaults: DefaultsSpec,
    /// The checks. Each hook runs those that name it (all checks name all hooks
    /// by default).
    pub checks: Vec<CheckSpec>,
}

fn default_concurrency() -> u32 {
    8
}

/// The service under test.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// Base URL of the green task set, e.g. the load balancer's test listener:
    /// `http://my-alb-123.eu-west-1.elb.amazonaws.com:8080`. Check paths are
    /// appended to it.
    pub url: String,
}

/// Defaults for every check.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultsSpec {
    /// Per-request timeout in milliseconds (default 5000).
    pub timeout_ms: Option<u64>,
    /// Retry policy (default: 3 attempts, 1000 ms apart).
    pub retry: Option<RetrySpec>,
}

/// One HTTP check: a request and what its response must satisfy.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// Unique name, used in logs and in the verdict.
    pub name: String,
    /// Which hooks run this check (default: all three).
    pub hooks: Option<Vec<Hook>>,
    /// HTTP method (default GET).
    pub method: Option<String>,
    /// Path (and query) appended to the target URL; starts with `/`.
    #[serde(default = "default_path")]
    pub path: String,
    /// Request headers. A value is a string, or `{"value": "...", "secret": true}`
    /// to keep it out of every log line. Authorization, Proxy-Authorization,
    /// Cookie and X-Api-Key values are always treated as secret.
    #[serde(default)]
    pub headers: BTreeMap<String, HeaderValueSpec>,
    /// Request body, sent as is.
    pub body: Option<String>,
    /// Per-request timeout in milliseconds (overrides `defaults.timeout_ms`).
    pub timeout_ms: Option<u64>,
    /// Retry policy; fields it leaves out come from `defaults.retry`.
    pub retry: Option<RetrySpec>,
    /// Assertions; all must hold for an attempt to pass.
    #[serde(rename = "assert")]
    pub asserts: Vec<AssertSpec>,
}

fn default_path() -> String {
    "/".to_owned()
}

/// A request header value.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "a header value: a string, or {\"value\": \"...\", \"secret\": true}"
)]
pub enum HeaderValueSpec {
    /// A plain value.
    Plain(String),
    /// A value that may be secret.
    Detailed(DetailedHeaderValue),
}

/// A header value with options.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetailedHeaderValue {
    /// The header value.
    pub value: String,
    /// Never log this value (a misspelt key is an error, not a leak).
    #[serde(default)]
    pub secret: bool,
}

/// How often a check is tried before it fails.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Maximum number of attempts (1..=1000). Default 3, or unlimited within
    /// `within_ms` when that is set.
    pub attempts: Option<u32>,
    /// Pause between attempts in milliseconds (default 1000).
    pub interval_ms: Option<u64>,
    /// Keep trying until the check passes within this window, in milliseconds
    /// from the first attempt (bounded by the hook's deadline in any case).
    pub within_ms: Option<u64>,
    /// Passing attempts in a row needed for the check to pass (default 1).
    pub consecutive_passes: Option<u32>,
}

impl RetrySpec {
    /// This policy, with the fields it leaves out taken from `defaults`.
    pub fn or(&self, defaults: Option<&RetrySpec>) -> RetrySpec {
        let Some(d) = defaults else {
            return self.clone();
        };
        RetrySpec {
            attempts: self.attempts.or(d.attempts),
            interval_ms: self.interval_ms.or(d.interval_ms),
            within_ms: self.within_ms.or(d.within_ms),
            consecutive_passes: self.consecutive_passes.or(d.consecutive_passes),
        }
    }
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
    Range {
        /// Lowest accepted code.
        min: i64,
        /// Highest accepted code.
        max: i64,
    },
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
    /// The value equals this JSON value.
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

/// The JSON Schema of the spec, as published in `schema/greenlight-spec.schema.json`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Spec);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

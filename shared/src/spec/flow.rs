//! The parts of a check that span requests and listeners: steps, captures,
//! the listener and colour a request goes to, and the comparison of blue
//! with green.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AssertSpec, HeaderValueSpec, ListenerChoice, RedirectSpec};

/// One request of a flow. Steps run in order, each after the previous one
/// passed; values captured by a step are available to the steps after it
/// as `{{name}}` in their path, header values and body.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// Name for logs and the verdict (default `step N`, from 1).
    pub name: Option<String>,
    /// HTTP method (default GET).
    pub method: Option<String>,
    /// Path (and query) appended to the listener's URL; starts with `/`.
    /// May use `{{name}}` of earlier captures (percent-encoded).
    pub path: Option<String>,
    /// Request headers, as for a check. May use `{{name}}`; a header that
    /// uses a secret capture is secret.
    #[serde(default)]
    pub headers: BTreeMap<String, HeaderValueSpec>,
    /// Request body, sent as is after `{{name}}` are replaced.
    pub body: Option<String>,
    /// Which listener this step goes to (default: the hook's own, or the
    /// check's `listener`).
    pub listener: Option<ListenerChoice>,
    /// Which colour this step means to reach. Before AllowTraffic the
    /// production listener serves blue: a step on it must say
    /// `"expect": "blue"`, and its check may then run only before
    /// AllowTraffic.
    pub expect: Option<Colour>,
    /// Follow redirects, as for a check.
    pub follow_redirects: Option<RedirectSpec>,
    /// Per-request timeout in milliseconds (default: the check's).
    pub timeout_ms: Option<u64>,
    /// Values to take from the response, by name.
    #[serde(default)]
    pub capture: BTreeMap<String, CaptureSpec>,
    /// Assertions on the response; all must hold for the flow to go on.
    #[serde(default, rename = "assert")]
    pub asserts: Vec<AssertSpec>,
}

/// Where a captured value comes from: exactly one of `header`, `cookie`,
/// `json` and `regex`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureSpec {
    /// A response header's first value (name case-insensitive).
    pub header: Option<String>,
    /// A cookie's value, as set by this response or an earlier one of the
    /// flow. Always secret.
    pub cookie: Option<String>,
    /// A JSONPath (RFC 9535) query on the body that finds exactly one
    /// value; a string is taken as is, anything else as JSON text.
    pub json: Option<String>,
    /// A regular expression over the body: its first group, or the whole
    /// match when it has none.
    pub regex: Option<String>,
    /// Never show this value: it is redacted from every log line and
    /// verdict, in any encoding (cookies always are).
    #[serde(default)]
    pub secret: bool,
}

/// A colour of the deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    /// The task set serving production before the deployment.
    Blue,
    /// The task set being deployed.
    Green,
}

impl std::fmt::Display for Colour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Colour::Blue => "blue",
            Colour::Green => "green",
        })
    }
}

/// Send the check's request to blue and to green and compare the answers:
/// `"blue"`, or `{"with": "blue", "ignore": ["$.generated_at"]}`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "\"blue\", or {\"with\": \"blue\", \"ignore\": [JSONPath, ...]}"
)]
pub enum CompareSpec {
    /// Compare with this colour, ignoring nothing.
    With(Colour),
    /// Compare with a colour, ignoring some fields.
    Detailed(CompareDetail),
}

/// A comparison with options.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareDetail {
    /// The colour to compare green with (`blue`).
    pub with: Colour,
    /// Fields of blue's answer green need not have, or may have with
    /// another type: JSONPath queries such as `$.generated_at` or
    /// `$.items[*].legacy_id`.
    #[serde(default)]
    pub ignore: Vec<String>,
}

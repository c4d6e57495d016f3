//! Assertions as data, in the manner of hurl: a query picks a value out of the
//! response, a predicate judges it, and the result keeps both what was expected
//! and what was found, for the log line an operator reads at 3 a.m.

use std::cell::OnceCell;
use std::fmt;

use regex::Regex;
use serde_json::Value;
use serde_json_path::JsonPath;

use crate::probe::ProbeResponse;

/// Texts longer than this are cut in results and logs.
const MAX_SHOWN_CHARS: usize = 300;

/// What part of the response an assertion looks at.
#[derive(Debug, Clone)]
pub enum Query {
    /// The status code, as a number.
    Status,
    /// The first value of a header (name lower-cased), as a string.
    Header(String),
    /// The body, as a string.
    Body,
    /// A JSONPath query on the body parsed as JSON.
    Json {
        /// The query as written in the spec.
        source: String,
        /// The parsed query.
        path: JsonPath,
    },
    /// Response time in milliseconds, as a number.
    DurationMs,
}

/// What must hold for the queried value.
#[derive(Debug, Clone)]
pub enum Predicate {
    /// Equal to this JSON value (numbers compare by value).
    Equals(Value),
    /// Equal to one of these.
    OneOf(Vec<Value>),
    /// A number in `min..=max`.
    Between(f64, f64),
    /// Present (`true`) or absent (`false`).
    Exists(bool),
    /// A string containing this text, or an array with this element.
    Contains(Value),
    /// A string matching this regular expression.
    Matches(Regex),
    /// A number less than this.
    LessThan(f64),
    /// A number at most this.
    AtMost(f64),
    /// A number greater than this.
    GreaterThan(f64),
    /// A number at least this.
    AtLeast(f64),
}

/// One assertion: query and predicate.
#[derive(Debug, Clone)]
pub struct Assertion {
    /// What to look at.
    pub query: Query,
    /// What must hold.
    pub predicate: Predicate,
}

/// The value a query found.
#[derive(Debug, Clone, PartialEq)]
pub enum Actual {
    /// A value.
    Value(Value),
    /// Nothing there (no such header, no JSON node).
    Missing,
    /// The query itself could not run (e.g. the body is not JSON).
    Error(String),
}

impl fmt::Display for Actual {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actual::Value(value) => write!(f, "{value}"),
            Actual::Missing => f.write_str("nothing"),
            Actual::Error(message) => f.write_str(message),
        }
    }
}

/// The outcome of one assertion on one response.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AssertionResult {
    /// Whether the predicate held.
    pub passed: bool,
    /// What was expected, e.g. `status in [200, 204]`.
    pub expected: String,
    /// What was found, e.g. `503`.
    pub actual: String,
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Query::Status => f.write_str("status"),
            Query::Header(name) => write!(f, "header {name}"),
            Query::Body => f.write_str("body"),
            Query::Json { source, .. } => write!(f, "json {source}"),
            Query::DurationMs => f.write_str("duration_ms"),
        }
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Predicate::Equals(v) => write!(f, "== {v}"),
            Predicate::OneOf(values) => {
                let list: Vec<String> = values.iter().map(Value::to_string).collect();
                write!(f, "in [{}]", list.join(", "))
            }
            Predicate::Between(min, max) => write!(f, "in {min}..={max}"),
            Predicate::Exists(true) => f.write_str("exists"),
            Predicate::Exists(false) => f.write_str("does not exist"),
            Predicate::Contains(v) => write!(f, "contains {v}"),
            Predicate::Matches(re) => write!(f, "matches /{}/", re.as_str()),
            Predicate::LessThan(n) => write!(f, "< {n}"),
            Predicate::AtMost(n) => write!(f, "<= {n}"),
            Predicate::GreaterThan(n) => write!(f, "> {n}"),
            Predicate::AtLeast(n) => write!(f, ">= {n}"),
        }
    }
}

/// One response as the assertions see it: the body is parsed as JSON at
/// most once, however many JSON assertions look at it.
#[derive(Debug)]
pub struct Evaluated<'a> {
    response: &'a ProbeResponse,
    json: OnceCell<Result<Value, String>>,
}

impl<'a> Evaluated<'a> {
    /// Wraps a response; nothing is parsed yet.
    pub fn new(response: &'a ProbeResponse) -> Self {
        Evaluated {
            response,
            json: OnceCell::new(),
        }
    }

    /// The body as JSON, or why it is not.
    fn json(&self) -> Result<&Value, &str> {
        self.json
            .get_or_init(|| {
                serde_json::from_str::<Value>(&self.response.body).map_err(|error| {
                    // Not cut to the display length here: the caller redacts
                    // secrets first, and a secret cut in two would escape.
                    // Enough is kept for any secret that starts in the part
                    // shown.
                    let head: String = self
                        .response
                        .body
                        .chars()
                        .take(MAX_SHOWN_CHARS + SECRET_ROOM_CHARS)
                        .collect();
                    format!(
                        "body is not JSON ({error}) [{} bytes{}]: {head}",
                        self.response.body.len(),
                        if self.response.truncated {
                            ", truncated"
                        } else {
                            ""
                        },
                    )
                })
            })
            .as_ref()
            .map_err(String::as_str)
    }
}

impl Assertion {
    /// Runs the query on the response and judges the value.
    pub fn evaluate(&self, response: &ProbeResponse) -> AssertionResult {
        self.evaluate_on(&Evaluated::new(response))
    }

    /// As `evaluate`, sharing the parsed body with the response's other
    /// assertions.
    pub fn evaluate_on(&self, response: &Evaluated<'_>) -> AssertionResult {
        let actual = self.query.select(response);
        let passed = self.predicate.holds(&actual);
        AssertionResult {
            passed,
            expected: self.describe(),
            actual: actual.to_string(),
        }
    }

    /// What the assertion expects, e.g. `status in [200, 204]`.
    pub fn describe(&self) -> String {
        format!("{} {}", self.query, self.predicate)
    }
}

impl Query {
    /// The value this query finds in the response.
    pub fn select(&self, evaluated: &Evaluated<'_>) -> Actual {
        let response = evaluated.response;
        match self {
            Query::Status => Actual::Value(Value::from(response.status)),
            Query::Header(name) => match response.headers.get(name.as_str()) {
                None => Actual::Missing,
                Some(value) => Actual::Value(Value::String(
                    String::from_utf8_lossy(value.as_bytes()).into(),
                )),
            },
            Query::Body => Actual::Value(Value::String(response.body.clone())),
            Query::Json { path, .. } => match evaluated.json() {
                Err(error) => Actual::Error(error.to_owned()),
                Ok(document) => {
                    let nodes = path.query(document).all();
                    match nodes.as_slice() {
                        [] => Actual::Missing,
                        [one] => Actual::Value((*one).clone()),
                        many => {
                            Actual::Value(Value::Array(many.iter().map(|v| (*v).clone()).collect()))
                        }
                    }
                }
            },
            Query::DurationMs => Actual::Value(Value::from(
                u64::try_from(response.duration.as_millis()).unwrap_or(u64::MAX),
            )),
        }
    }
}

impl Predicate {
    /// Whether the predicate holds for the value found. A missing value or a
    /// value of the wrong type fails every predicate but `Exists(false)`.
    pub fn holds(&self, actual: &Actual) -> bool {
        let value = match actual {
            Actual::Value(value) => value,
            Actual::Missing => return matches!(self, Predicate::Exists(false)),
            Actual::Error(_) => return false,
        };
        match self {
            Predicate::Exists(expected) => *expected,
            Predicate::Equals(expected) => same(value, expected),
            Predicate::OneOf(options) => options.iter().any(|option| same(value, option)),
            Predicate::Contains(needle) => match (value, needle) {
                (Value::String(hay), Value::String(needle)) => hay.contains(needle.as_str()),
                (Value::Array(items), needle) => items.iter().any(|item| same(item, needle)),
                _ => false,
            },
            Predicate::Matches(re) => value.as_str().is_some_and(|s| re.is_match(s)),
            Predicate::Between(min, max) => number(value).is_some_and(|n| *min <= n && n <= *max),
            Predicate::LessThan(limit) => number(value).is_some_and(|n| n < *limit),
            Predicate::AtMost(limit) => number(value).is_some_and(|n| n <= *limit),
            Predicate::GreaterThan(limit) => number(value).is_some_and(|n| n > *limit),
            Predicate::AtLeast(limit) => number(value).is_some_and(|n| n >= *limit),
        }
    }
}

/// JSON equality where `200` equals `200.0`.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn number(value: &Value) -> Option<f64> {
    value.as_f64()
}

/// Characters kept past the display length where a text is cut before it is
/// redacted: room for any header value (secret) that starts in the part shown.
const SECRET_ROOM_CHARS: usize = 16 * 1024;

/// Cuts a text for display, marking the cut. Redact before cutting: a secret
/// cut in two can no longer be found.
pub(crate) fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_SHOWN_CHARS {
        text.to_owned()
    } else {
        let head: String = text.chars().take(MAX_SHOWN_CHARS).collect();
        format!("{head}… ({} bytes)", text.len())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use reqwest::header::{HeaderMap, HeaderValue};
    use serde_json::json;

    use super::*;

    fn response(status: u16, body: &str) -> ProbeResponse {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        ProbeResponse {
            status,
            headers,
            body: body.to_owned(),
            truncated: false,
            duration: Duration::from_millis(120),
        }
    }

    fn json_query(path: &str) -> Query {
        Query::Json {
            source: path.to_owned(),
            path: JsonPath::parse(path).expect("test path parses"),
        }
    }

    fn check(query: Query, predicate: Predicate, response: &ProbeResponse) -> AssertionResult {
        Assertion { query, predicate }.evaluate(response)
    }

    #[test]
    fn status_equals_one_of_and_range() {
        let ok = response(200, "");
        let down = response(503, "");
        assert!(check(Query::Status, Predicate::Equals(json!(200)), &ok).passed);
        let failed = check(Query::Status, Predicate::Equals(json!(200)), &down);
        assert_eq!(
            failed,
            AssertionResult {
                passed: false,
                expected: "status == 200".into(),
                actual: "503".into()
            }
        );
        let one_of = Predicate::OneOf(vec![json!(200), json!(204)]);
        assert!(check(Query::Status, one_of.clone(), &ok).passed);
        assert_eq!(
            check(Query::Status, one_of, &down).expected,
            "status in [200, 204]"
        );
        assert!(check(Query::Status, Predicate::Between(200.0, 299.0), &ok).passed);
        assert!(!check(Query::Status, Predicate::Between(200.0, 299.0), &down).passed);
    }

    #[test]
    fn header_exists_equals_contains_matches() {
        let r = response(200, "");
        let content_type = || Query::Header("content-type".into());
        assert!(check(content_type(), Predicate::Exists(true), &r).passed);
        assert!(check(Query::Header("x-none".into()), Predicate::Exists(false), &r).passed);
        let missing = check(Query::Header("x-none".into()), Predicate::Exists(true), &r);
        assert_eq!(
            (missing.passed, missing.actual.as_str()),
            (false, "nothing")
        );
        assert!(check(content_type(), Predicate::Contains(json!("json")), &r).passed);
        assert!(!check(content_type(), Predicate::Equals(json!("text/html")), &r).passed);
        let re = Regex::new("^application/json").expect("regex");
        assert!(check(content_type(), Predicate::Matches(re), &r).passed);
    }

    #[test]
    fn body_contains_and_matches() {
        let r = response(200, "status: ok\nversion: 1.4.2");
        assert!(check(Query::Body, Predicate::Contains(json!("ok")), &r).passed);
        assert!(!check(Query::Body, Predicate::Contains(json!("degraded")), &r).passed);
        let version = Regex::new(r"version: 1\.\d+\.\d+").expect("regex");
        assert!(check(Query::Body, Predicate::Matches(version), &r).passed);
    }

    #[test]
    fn json_path_equals_exists_and_compares() {
        let r = response(
            200,
            r#"{"status":"ok","db":{"latency_ms":12},"features":["a","b"]}"#,
        );
        assert!(check(json_query("$.status"), Predicate::Equals(json!("ok")), &r).passed);
        let wrong = check(
            json_query("$.status"),
            Predicate::Equals(json!("degraded")),
            &r,
        );
        assert_eq!(
            (wrong.passed, wrong.expected.as_str(), wrong.actual.as_str()),
            (false, "json $.status == \"degraded\"", "\"ok\"")
        );
        assert!(check(json_query("$.db.latency_ms"), Predicate::LessThan(50.0), &r).passed);
        assert!(
            !check(
                json_query("$.db.latency_ms"),
                Predicate::GreaterThan(50.0),
                &r
            )
            .passed
        );
        assert!(check(json_query("$.db.latency_ms"), Predicate::AtLeast(12.0), &r).passed);
        assert!(check(json_query("$.db.latency_ms"), Predicate::AtMost(12.0), &r).passed);
        assert!(
            check(
                json_query("$.features"),
                Predicate::Contains(json!("b")),
                &r
            )
            .passed
        );
        assert!(check(json_query("$.version"), Predicate::Exists(false), &r).passed);
        assert!(!check(json_query("$.version"), Predicate::Exists(true), &r).passed);
        // A string is not a number, even if it looks like one.
        assert!(!check(json_query("$.status"), Predicate::LessThan(1.0), &r).passed);
    }

    #[test]
    fn json_on_a_non_json_body_fails_and_says_why() {
        let r = response(200, "<html>oops</html>");
        let result = check(json_query("$.status"), Predicate::Exists(false), &r);
        assert!(!result.passed);
        assert!(
            result.actual.starts_with("body is not JSON"),
            "{}",
            result.actual
        );
        assert!(result.actual.ends_with("<html>oops</html>"));
    }

    #[test]
    fn duration_less_than() {
        let r = response(200, "");
        assert!(check(Query::DurationMs, Predicate::LessThan(500.0), &r).passed);
        let slow = check(Query::DurationMs, Predicate::LessThan(100.0), &r);
        assert_eq!(
            (slow.passed, slow.expected.as_str(), slow.actual.as_str()),
            (false, "duration_ms < 100", "120")
        );
    }

    #[test]
    fn long_texts_are_shortened_for_display() {
        let shown = shorten(&"x".repeat(5000));
        assert!(shown.len() < 400, "{}", shown.len());
        assert!(shown.ends_with("(5000 bytes)"));
    }
}

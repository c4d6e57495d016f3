//! Assertions as data, in the manner of hurl: a query picks a value out of the
//! response, a predicate judges it, and the result keeps both what was expected
//! and what was found, for the log line an operator reads at 3 a.m.
//!
//! What was found is looked at where it lies (a JSONPath's nodes are borrowed
//! from the parsed body, never copied) and shown within bounds: at most
//! [`MAX_SHOWN_CHARS`] characters, rendered from at most a few KiB of it,
//! redacted before it is cut. A check that sends secrets never shows green's
//! raw body: an echo in an encoding nobody foresaw would carry them out.

use std::cell::OnceCell;
use std::fmt;
use std::io;
use std::time::SystemTime;

use regex::Regex;
use serde_json::{Number, Value};
use serde_json_path::JsonPath;

use crate::probe::ProbeResponse;
use crate::redaction::Redactor;

mod certificate;
mod json_schema;

pub use json_schema::{MAX_SCHEMA_BYTES, Schema, SchemaError};

/// Texts longer than this are cut in results and logs.
pub const MAX_SHOWN_CHARS: usize = 300;

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
    /// Whole days green's TLS certificate has left, as a number.
    Certificate,
}

/// What must hold for the queried value.
#[derive(Debug, Clone)]
pub enum Predicate {
    /// Equal to this JSON value (numbers compare by value, integers exactly).
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
    /// A JSON value valid against this schema.
    MatchesSchema(Schema),
}

/// One assertion: query and predicate.
#[derive(Debug, Clone)]
pub struct Assertion {
    /// What to look at.
    pub query: Query,
    /// What must hold.
    pub predicate: Predicate,
}

/// The value a query found, borrowed from the response where it lies.
#[derive(Debug, Clone, PartialEq)]
pub enum Actual<'a> {
    /// A small value made from the response (status, header, duration).
    Value(Value),
    /// The body, as text.
    Text(&'a str),
    /// The one node a JSONPath found.
    Node(&'a Value),
    /// The nodes a JSONPath found when it found several: judged as the array
    /// of them.
    Nodes(Vec<&'a Value>),
    /// Nothing there (no such header, no JSON node).
    Missing,
    /// The query itself could not run (e.g. the body is not JSON).
    Error(String),
    /// The days a certificate has left (judged as a number), and when it
    /// expires.
    Expires {
        /// Whole days left, rounded down (negative once expired).
        days: i64,
        /// Its `notAfter`.
        at: SystemTime,
    },
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
            Query::Certificate => f.write_str("certificate expires in"),
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
            Predicate::MatchesSchema(schema) => write!(f, "is valid against the schema {schema}"),
        }
    }
}

/// What the results of a check may show of what came back.
#[derive(Debug, Clone, Default)]
pub struct Disclosure {
    /// Every secret of the spec, redacted from expected and actual alike.
    pub redactor: Redactor,
    /// The check sends secret headers: green's raw body is not shown.
    pub sends_secrets: bool,
}

/// One response as the assertions see it: the body is parsed as JSON at
/// most once, however many JSON assertions look at it.
#[derive(Debug)]
pub struct Evaluated<'a> {
    response: &'a ProbeResponse,
    disclosure: Disclosure,
    json: OnceCell<Result<Value, String>>,
}

impl<'a> Evaluated<'a> {
    /// Wraps a response with nothing secret to hide; nothing is parsed yet.
    pub fn new(response: &'a ProbeResponse) -> Self {
        Self::disclosing(response, Disclosure::default())
    }

    /// Wraps a response whose results show only what `disclosure` allows.
    pub fn disclosing(response: &'a ProbeResponse, disclosure: Disclosure) -> Self {
        Evaluated {
            response,
            disclosure,
            json: OnceCell::new(),
        }
    }

    /// The body as JSON, or why it is not.
    fn json(&self) -> Result<&Value, &str> {
        self.json
            .get_or_init(|| {
                serde_json::from_str::<Value>(&self.response.body).map_err(|error| {
                    let size = format!(
                        "{} bytes{}",
                        self.response.body.len(),
                        if self.response.truncated {
                            ", truncated"
                        } else {
                            ""
                        },
                    );
                    if self.disclosure.sends_secrets {
                        return format!("body is not JSON ({error}) [{size}; {NOT_SHOWN}]");
                    }
                    // Not cut to the display length here: the caller redacts
                    // secrets first, and a secret cut in two would escape.
                    // Enough is kept for any secret that starts in the part
                    // shown.
                    let head: String = self
                        .response
                        .body
                        .chars()
                        .take(MAX_SHOWN_CHARS + self.disclosure.redactor.room_chars())
                        .collect();
                    format!("body is not JSON ({error}) [{size}]: {head}")
                })
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// Redacted, then cut for display.
    fn shown(&self, text: &str, size: Option<Size>) -> String {
        shorten(&self.disclosure.redactor.redact(text), size)
    }

    /// Bytes worth rendering of a value: what is shown, and room for a secret
    /// that starts there, however escaped.
    fn render_limit(&self) -> usize {
        4 * MAX_SHOWN_CHARS + self.disclosure.redactor.room_chars()
    }
}

/// Said instead of green's body by a check that sends secrets.
const NOT_SHOWN: &str = "not shown: the check sends secret headers";

impl Assertion {
    /// Runs the query on the response and judges the value.
    pub fn evaluate(&self, response: &ProbeResponse) -> AssertionResult {
        self.evaluate_on(&Evaluated::new(response))
    }

    /// As `evaluate`, sharing the parsed body with the response's other
    /// assertions; expected and actual are redacted and cut for display.
    pub fn evaluate_on(&self, response: &Evaluated<'_>) -> AssertionResult {
        let actual = self.query.select(response);
        let passed = self.predicate.holds(&actual);
        let (text, size) = match (&self.predicate, &actual, passed) {
            // What fails a schema says more than the document itself.
            (Predicate::MatchesSchema(schema), Actual::Node(document), false) => {
                (schema.explain(document, response), None)
            }
            _ => actual.render(response),
        };
        AssertionResult {
            passed,
            expected: response.shown(&self.describe(), None),
            actual: response.shown(&text, size),
        }
    }

    /// What the assertion expects, e.g. `status in [200, 204]`.
    pub fn describe(&self) -> String {
        let unit = match self.query {
            Query::Certificate => " days",
            _ => "",
        };
        format!("{} {}{unit}", self.query, self.predicate)
    }
}

impl Query {
    /// The value this query finds in the response.
    pub fn select<'a>(&self, evaluated: &'a Evaluated<'_>) -> Actual<'a> {
        let response = evaluated.response;
        match self {
            Query::Status => Actual::Value(Value::from(response.status)),
            Query::Header(name) => match response.headers.get(name.as_str()) {
                None => Actual::Missing,
                Some(value) => Actual::Value(Value::String(
                    String::from_utf8_lossy(value.as_bytes()).into(),
                )),
            },
            Query::Body => Actual::Text(&response.body),
            Query::Json { path, .. } => match evaluated.json() {
                Err(error) => Actual::Error(error.to_owned()),
                Ok(document) => {
                    let mut nodes = path.query(document).all();
                    match nodes.len() {
                        0 => Actual::Missing,
                        1 => Actual::Node(nodes.remove(0)),
                        _ => Actual::Nodes(nodes),
                    }
                }
            },
            Query::DurationMs => Actual::Value(Value::from(
                u64::try_from(response.duration.as_millis()).unwrap_or(u64::MAX),
            )),
            Query::Certificate => certificate::select(response, SystemTime::now()),
        }
    }
}

/// How big the whole of a shown value was, when it was cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Size {
    /// This many bytes.
    Bytes(usize),
    /// More than was rendered (rendering stopped at its bound).
    Cut,
}

impl Actual<'_> {
    /// The value as text for display, before redaction, rendered from at most
    /// a bounded prefix, and the whole's size if that was cut.
    fn render(&self, evaluated: &Evaluated<'_>) -> (String, Option<Size>) {
        let limit = evaluated.render_limit();
        match self {
            Actual::Value(value) => (value.to_string(), None),
            Actual::Text(body) if evaluated.disclosure.sends_secrets => {
                (format!("(body of {} bytes; {NOT_SHOWN})", body.len()), None)
            }
            Actual::Text(body) => {
                let head: String = body.chars().take(limit).collect();
                let cut = head.len() < body.len();
                let text = serde_json::to_string(&head).unwrap_or_default();
                (text, cut.then_some(Size::Bytes(body.len())))
            }
            Actual::Node(node) => bounded_json(std::slice::from_ref(node), false, limit),
            Actual::Nodes(nodes) => bounded_json(nodes, true, limit),
            Actual::Missing => ("nothing".to_owned(), None),
            Actual::Error(message) => (message.clone(), None),
            Actual::Expires { days, at } => (certificate::render(*days, *at), None),
        }
    }
}

/// JSON text of `nodes` (as an array if `array`), at most `limit` bytes of it.
fn bounded_json(nodes: &[&Value], array: bool, limit: usize) -> (String, Option<Size>) {
    let mut out = Bounded {
        bytes: Vec::new(),
        limit,
        full: false,
    };
    let written = (|| -> io::Result<()> {
        if array {
            io::Write::write_all(&mut out, b"[")?;
        }
        for (i, node) in nodes.iter().enumerate() {
            if i > 0 {
                io::Write::write_all(&mut out, b",")?;
            }
            serde_json::to_writer(&mut out, node)?;
        }
        if array {
            io::Write::write_all(&mut out, b"]")?;
        }
        Ok(())
    })();
    let cut = written.is_err() && out.full;
    (
        String::from_utf8_lossy(&out.bytes).into_owned(),
        cut.then_some(Size::Cut),
    )
}

/// A writer that keeps the first `limit` bytes and then refuses, so that
/// rendering a huge node stops there instead of copying it whole.
struct Bounded {
    bytes: Vec<u8>,
    limit: usize,
    full: bool,
}

impl io::Write for Bounded {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = self.limit.saturating_sub(self.bytes.len());
        if data.len() > room {
            self.bytes.extend_from_slice(&data[..room]);
            self.full = true;
            return Err(io::Error::other("display bound reached"));
        }
        self.bytes.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A found value as predicates see it.
enum View<'v> {
    One(&'v Value),
    Text(&'v str),
    Many(&'v [&'v Value]),
}

impl Predicate {
    /// Whether the predicate holds for the value found. A missing value or a
    /// value of the wrong type fails every predicate but `Exists(false)`.
    pub fn holds(&self, actual: &Actual<'_>) -> bool {
        let days;
        let view = match actual {
            Actual::Expires { days: left, .. } => {
                days = Value::from(*left);
                View::One(&days)
            }
            Actual::Value(value) => View::One(value),
            Actual::Node(value) => View::One(value),
            Actual::Text(text) => View::Text(text),
            Actual::Nodes(nodes) => View::Many(nodes),
            Actual::Missing => return matches!(self, Predicate::Exists(false)),
            Actual::Error(_) => return false,
        };
        match self {
            Predicate::Exists(expected) => *expected,
            Predicate::Equals(expected) => equals(&view, expected),
            Predicate::OneOf(options) => options.iter().any(|option| equals(&view, option)),
            Predicate::Contains(needle) => match (&view, needle) {
                (View::One(Value::String(hay)), Value::String(needle)) => {
                    hay.contains(needle.as_str())
                }
                (View::Text(hay), Value::String(needle)) => hay.contains(needle.as_str()),
                (View::One(Value::Array(items)), needle) => {
                    items.iter().any(|item| same(item, needle))
                }
                (View::Many(items), needle) => items.iter().any(|item| same(item, needle)),
                _ => false,
            },
            Predicate::Matches(re) => match view {
                View::One(value) => value.as_str().is_some_and(|s| re.is_match(s)),
                View::Text(text) => re.is_match(text),
                View::Many(_) => false,
            },
            Predicate::Between(min, max) => {
                number(&view).is_some_and(|n| at_least(n, *min) && at_most(n, *max))
            }
            Predicate::LessThan(limit) => number(&view).is_some_and(|n| !at_least(n, *limit)),
            Predicate::AtMost(limit) => number(&view).is_some_and(|n| at_most(n, *limit)),
            Predicate::GreaterThan(limit) => number(&view).is_some_and(|n| !at_most(n, *limit)),
            Predicate::AtLeast(limit) => number(&view).is_some_and(|n| at_least(n, *limit)),
            Predicate::MatchesSchema(schema) => match view {
                View::One(document) => schema.holds(document),
                View::Text(_) | View::Many(_) => false,
            },
        }
    }
}

fn equals(view: &View<'_>, expected: &Value) -> bool {
    match (view, expected) {
        (View::One(value), expected) => same(value, expected),
        (View::Text(text), Value::String(expected)) => text == expected,
        (View::Many(nodes), Value::Array(expected)) => {
            nodes.len() == expected.len() && nodes.iter().zip(expected).all(|(a, b)| same(a, b))
        }
        _ => false,
    }
}

/// JSON equality where `200` equals `200.0` and integers compare exactly
/// (`9007199254740993` is not `9007199254740992`, though both are the same
/// double).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => same_number(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, a)| y.get(key).is_some_and(|b| same(a, b)))
        }
        _ => a == b,
    }
}

fn same_number(x: &Number, y: &Number) -> bool {
    match (integer(x), integer(y)) {
        (Some(i), Some(j)) => i == j,
        (Some(i), None) => y.as_f64().is_some_and(|f| float_is_integer(f, i)),
        (None, Some(j)) => x.as_f64().is_some_and(|f| float_is_integer(f, j)),
        (None, None) => x.as_f64() == y.as_f64(),
    }
}

/// The number as an exact integer, if it is one.
fn integer(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

/// Whether the double `f` is exactly the integer `i`.
fn float_is_integer(f: f64, i: i128) -> bool {
    // Every double of magnitude below 2^127 that has no fraction converts to
    // i128 exactly.
    f.fract() == 0.0 && f.abs() < 1.7e38 && f as i128 == i
}

/// A found number, kept exact when it is an integer.
#[derive(Debug, Clone, Copy)]
enum Found {
    Integer(i128),
    Float(f64),
}

fn number(view: &View<'_>) -> Option<Found> {
    match view {
        View::One(Value::Number(n)) => Some(match integer(n) {
            Some(i) => Found::Integer(i),
            None => Found::Float(n.as_f64()?),
        }),
        _ => None,
    }
}

/// `n >= limit`, exactly.
fn at_least(n: Found, limit: f64) -> bool {
    match n {
        Found::Float(f) => f >= limit,
        Found::Integer(i) => compare(i, limit).is_some_and(|o| o.is_ge()),
    }
}

/// `n <= limit`, exactly.
fn at_most(n: Found, limit: f64) -> bool {
    match n {
        Found::Float(f) => f <= limit,
        Found::Integer(i) => compare(i, limit).is_some_and(|o| o.is_le()),
    }
}

/// An integer against a double without rounding the integer: `None` for NaN.
fn compare(i: i128, limit: f64) -> Option<std::cmp::Ordering> {
    if limit.is_nan() {
        return None;
    }
    if limit.fract() == 0.0 && limit.abs() < 1.7e38 {
        return Some(i.cmp(&(limit as i128)));
    }
    // A double with a fraction is below 2^53 in magnitude, or infinite: the
    // integer's rounding cannot cross it.
    (i as f64).partial_cmp(&limit)
}

/// Cuts a text for display, marking the cut with the whole's size when known.
/// Redact before cutting: a secret cut in two can no longer be found.
fn shorten(text: &str, size: Option<Size>) -> String {
    if size.is_none() && text.chars().count() <= MAX_SHOWN_CHARS {
        return text.to_owned();
    }
    let head: String = text.chars().take(MAX_SHOWN_CHARS).collect();
    match size {
        Some(Size::Cut) => format!("{head}… (cut)"),
        Some(Size::Bytes(bytes)) => format!("{head}… ({bytes} bytes)"),
        None => format!("{head}… ({} bytes)", text.len()),
    }
}

/// Cuts a text for display (after redaction).
pub(crate) fn shorten_text(text: &str) -> String {
    shorten(text, None)
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
            certificate: None,
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
    fn integers_compare_exactly_and_doubles_by_value() {
        let r = response(200, r#"{"id":9007199254740993,"n":200,"f":0.5}"#);
        let id = || json_query("$.id");
        assert!(
            !check(
                id(),
                Predicate::Equals(json!(9_007_199_254_740_992_u64)),
                &r
            )
            .passed
        );
        assert!(
            check(
                id(),
                Predicate::Equals(json!(9_007_199_254_740_993_u64)),
                &r
            )
            .passed
        );
        assert!(check(json_query("$.n"), Predicate::Equals(json!(200.0)), &r).passed);
        assert!(check(json_query("$.f"), Predicate::Equals(json!(0.5)), &r).passed);
        // 2^53 + 1 is above the double 2^53, though it rounds to it
        assert!(check(id(), Predicate::GreaterThan(9_007_199_254_740_992.0), &r).passed);
        assert!(!check(id(), Predicate::AtMost(9_007_199_254_740_992.0), &r).passed);
        assert!(check(json_query("$.n"), Predicate::Between(199.5, 200.0), &r).passed);
    }

    #[test]
    fn many_nodes_are_judged_as_an_array_and_shown_within_bounds() {
        // GIVEN a body where a descendant query finds nested nodes, each
        // holding a large array
        let zeros = vec!["0"; 50_000].join(",");
        let body = format!(r#"{{"a":{{"a":{{"a":[{zeros}]}}}}}}"#);
        let r = response(200, &body);
        let all = || json_query("$..a");
        // THEN predicates see the array of the nodes found
        assert!(check(all(), Predicate::Exists(true), &r).passed);
        assert!(!check(all(), Predicate::Exists(false), &r).passed);
        assert!(!check(all(), Predicate::Equals(json!([])), &r).passed);
        let shown = check(all(), Predicate::Exists(false), &r).actual;
        // AND what is shown is cut at the display length, marked as cut
        assert!(shown.starts_with(r#"[{"a":{"a":[0,0"#), "{shown}");
        assert!(shown.ends_with("… (cut)"), "{shown}");
        assert!(shown.chars().count() < MAX_SHOWN_CHARS + 20);
    }

    #[test]
    fn a_check_that_sends_secrets_shows_no_raw_body_and_redacts_both_sides() {
        // GIVEN a check that sends a secret, and green echoing it escaped
        let secret = "k3y&s3cr3t<value>0123456789abcdef+XYZ==";
        let disclosure = Disclosure {
            redactor: Redactor::new([secret.to_owned()]),
            sends_secrets: true,
        };
        let echoed = secret.replace('&', "\\u0026").replace('<', "\\u003c");
        let r = response(200, &format!(r#"{{"seen":"{echoed}"}}"#));
        let evaluated = Evaluated::disclosing(&r, disclosure);
        // WHEN the body and the echoed value are asserted on
        let body = Assertion {
            query: Query::Body,
            predicate: Predicate::Contains(json!("seen")),
        }
        .evaluate_on(&evaluated);
        let seen = Assertion {
            query: json_query("$.seen"),
            predicate: Predicate::Equals(json!(secret)),
        }
        .evaluate_on(&evaluated);
        // THEN both pass; the body is named by its size, the secret redacted
        // on both sides
        assert!(body.passed && seen.passed);
        assert_eq!(
            body.actual,
            format!(
                "(body of {} bytes; not shown: the check sends secret headers)",
                r.body.len()
            )
        );
        assert_eq!(seen.expected, r#"json $.seen == "<redacted>""#);
        assert_eq!(seen.actual, r#""<redacted>""#);
    }

    #[test]
    fn long_texts_are_shortened_for_display() {
        let shown = shorten_text(&"x".repeat(5000));
        assert!(shown.len() < 400, "{}", shown.len());
        assert!(shown.ends_with("(5000 bytes)"));
    }
}

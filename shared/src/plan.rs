//! Validation: turns an operator's [`Spec`] into a [`Plan`] that can run, or
//! into every problem found, each with the path of the field at fault.
//! Nothing is probed before the whole spec is known to be good.

use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use regex::Regex;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use serde_json::Value;
use serde_json_path::JsonPath;

use crate::assertion::{Assertion, Predicate, Query};
use crate::hook::Hook;
use crate::probe::{ProbeRequest, header_name, secret_header};
use crate::redaction::{ALWAYS_SECRET_HEADERS, Redactor};
use crate::retry::RetryPolicy;
use crate::spec::{
    AssertSpec, CheckSpec, HeaderAssertSpec, HeaderValueSpec, JsonAssertSpec, RetrySpec, Spec,
    StatusSpec, TextAssertSpec,
};

/// Per-request timeout when neither the check nor the defaults set one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(5000);
const MAX_TIMEOUT_MS: u64 = 300_000;
const MAX_INTERVAL_MS: u64 = 300_000;
/// A Lambda runs at most 15 minutes.
const MAX_WINDOW_MS: u64 = 900_000;
const MAX_ATTEMPTS: u32 = 1000;
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// One thing wrong with a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where, e.g. `checks[2].assert[0].status`.
    pub path: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found in a spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid spec: {}", .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct SpecError {
    /// The problems, in document order.
    pub problems: Vec<Problem>,
}

/// A validated spec, ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Checks that may run at once.
    pub concurrency: usize,
    /// All checks, in spec order.
    pub checks: Vec<Check>,
    /// Knows every secret header value in the spec.
    pub redactor: Redactor,
}

/// A validated check.
#[derive(Debug, Clone)]
pub struct Check {
    /// Unique name.
    pub name: String,
    /// Hooks that run it.
    pub hooks: Vec<Hook>,
    /// The request to send.
    pub request: ProbeRequest,
    /// Per-request timeout.
    pub timeout: Duration,
    /// When to try again.
    pub retry: RetryPolicy,
    /// What must hold, all of it.
    pub assertions: Vec<Assertion>,
}

impl Plan {
    /// Parses and validates a spec given as JSON text.
    pub fn from_json(text: &str) -> Result<Plan, SpecError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let spec: Spec = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let path = error.path().to_string();
            SpecError {
                problems: vec![Problem {
                    path: if path == "." { "spec".to_owned() } else { path },
                    message: error.into_inner().to_string(),
                }],
            }
        })?;
        Plan::from_spec(&spec)
    }

    /// Validates a parsed spec, collecting every problem.
    pub fn from_spec(spec: &Spec) -> Result<Plan, SpecError> {
        let mut v = Validator::default();
        let base = v.url("target.url", &spec.target.url);
        if !(1..=64).contains(&spec.concurrency) {
            v.problem(
                "concurrency",
                format!("expected 1..=64, got {}", spec.concurrency),
            );
        }
        let default_timeout = spec
            .defaults
            .timeout_ms
            .map(|ms| v.timeout("defaults.timeout_ms", ms))
            .unwrap_or(DEFAULT_TIMEOUT);
        let default_retry = spec
            .defaults
            .retry
            .as_ref()
            .map(|r| v.retry("defaults.retry", r))
            .unwrap_or_default();
        if spec.checks.is_empty() {
            v.problem("checks", "add at least one check".to_owned());
        }
        let mut names = HashSet::new();
        let mut checks = Vec::new();
        for (i, check) in spec.checks.iter().enumerate() {
            let at = format!("checks[{i}]");
            if !names.insert(check.name.as_str()) {
                v.problem(
                    &format!("{at}.name"),
                    format!("duplicate check name {:?}", check.name),
                );
            }
            if let Some(check) = v.check(&at, check, base.as_ref(), default_timeout, default_retry)
            {
                checks.push(check);
            }
        }
        if v.problems.is_empty() {
            Ok(Plan {
                concurrency: usize::try_from(spec.concurrency).unwrap_or(8),
                checks,
                redactor: Redactor::new(v.secrets),
            })
        } else {
            Err(SpecError {
                problems: v.problems,
            })
        }
    }

    /// The checks the given hook runs.
    pub fn checks_for(&self, hook: Hook) -> Vec<&Check> {
        self.checks
            .iter()
            .filter(|c| c.hooks.contains(&hook))
            .collect()
    }
}

#[derive(Default)]
struct Validator {
    problems: Vec<Problem>,
    secrets: Vec<String>,
}

impl Validator {
    fn problem(&mut self, path: &str, message: String) {
        self.problems.push(Problem {
            path: path.to_owned(),
            message,
        });
    }

    fn url(&mut self, path: &str, text: &str) -> Option<Url> {
        match Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Some(url)
            }
            Ok(url) => {
                self.problem(
                    path,
                    format!(
                        "expected an http:// or https:// URL with a host, got {:?}",
                        url.as_str()
                    ),
                );
                None
            }
            Err(error) => {
                self.problem(
                    path,
                    format!("expected an http:// or https:// URL, got {text:?} ({error})"),
                );
                None
            }
        }
    }

    fn timeout(&mut self, path: &str, ms: u64) -> Duration {
        if !(1..=MAX_TIMEOUT_MS).contains(&ms) {
            self.problem(
                path,
                format!("expected 1..={MAX_TIMEOUT_MS} milliseconds, got {ms}"),
            );
        }
        Duration::from_millis(ms)
    }

    fn retry(&mut self, path: &str, spec: &RetrySpec) -> RetryPolicy {
        let mut policy = RetryPolicy::default();
        if let Some(attempts) = spec.attempts
            && !(1..=MAX_ATTEMPTS).contains(&attempts)
        {
            self.problem(
                &format!("{path}.attempts"),
                format!("expected 1..={MAX_ATTEMPTS}, got {attempts}"),
            );
        }
        policy.attempts = match (spec.attempts, spec.within_ms) {
            (Some(n), _) => Some(n),
            (None, Some(_)) => None,
            (None, None) => policy.attempts,
        };
        if let Some(ms) = spec.interval_ms {
            if ms > MAX_INTERVAL_MS {
                self.problem(
                    &format!("{path}.interval_ms"),
                    format!("expected 0..={MAX_INTERVAL_MS}, got {ms}"),
                );
            }
            policy.interval = Duration::from_millis(ms);
        }
        if let Some(ms) = spec.within_ms {
            if !(1..=MAX_WINDOW_MS).contains(&ms) {
                self.problem(
                    &format!("{path}.within_ms"),
                    format!(
                        "expected 1..={MAX_WINDOW_MS} (a Lambda runs at most 15 minutes), got {ms}"
                    ),
                );
            }
            policy.within = Some(Duration::from_millis(ms));
        }
        if let Some(n) = spec.consecutive_passes {
            let max = policy.attempts.unwrap_or(MAX_ATTEMPTS);
            if n < 1 || n > max {
                self.problem(
                    &format!("{path}.consecutive_passes"),
                    format!("expected 1..={max} (at most the attempts), got {n}"),
                );
            }
            policy.consecutive_passes = n.max(1);
        }
        policy
    }

    fn check(
        &mut self,
        at: &str,
        spec: &CheckSpec,
        base: Option<&Url>,
        default_timeout: Duration,
        default_retry: RetryPolicy,
    ) -> Option<Check> {
        let before = self.problems.len();
        if spec.name.trim().is_empty() {
            self.problem(
                &format!("{at}.name"),
                "expected a non-empty name".to_owned(),
            );
        }
        let hooks = match &spec.hooks {
            None => Hook::ALL.to_vec(),
            Some(hooks) if hooks.is_empty() => {
                self.problem(
                    &format!("{at}.hooks"),
                    "expected at least one hook (or leave it out for all three)".to_owned(),
                );
                Vec::new()
            }
            Some(hooks) => hooks.clone(),
        };
        let method_text = spec.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
        let method = if METHODS.contains(&method_text.as_str()) {
            Method::from_bytes(method_text.as_bytes()).ok()
        } else {
            None
        };
        if method.is_none() {
            self.problem(
                &format!("{at}.method"),
                format!(
                    "expected one of {}, got {:?}",
                    METHODS.join(", "),
                    method_text
                ),
            );
        }
        let url = if spec.path.starts_with('/') {
            base.and_then(|base| match base.join(&spec.path) {
                Ok(url) => Some(url),
                Err(error) => {
                    self.problem(
                        &format!("{at}.path"),
                        format!("cannot be joined to the target URL: {error}"),
                    );
                    None
                }
            })
        } else {
            self.problem(
                &format!("{at}.path"),
                format!("expected a path starting with '/', got {:?}", spec.path),
            );
            None
        };
        let headers = self.headers(at, spec);
        let timeout = spec
            .timeout_ms
            .map(|ms| self.timeout(&format!("{at}.timeout_ms"), ms))
            .unwrap_or(default_timeout);
        let retry = spec
            .retry
            .as_ref()
            .map(|r| self.retry(&format!("{at}.retry"), r))
            .unwrap_or(default_retry);
        if spec.asserts.is_empty() {
            self.problem(
                &format!("{at}.assert"),
                "add at least one assertion, e.g. {\"status\": 200}".to_owned(),
            );
        }
        let assertions: Vec<Assertion> = spec
            .asserts
            .iter()
            .enumerate()
            .filter_map(|(j, a)| self.assertion(&format!("{at}.assert[{j}]"), a))
            .collect();
        if self.problems.len() > before {
            return None;
        }
        Some(Check {
            name: spec.name.clone(),
            hooks,
            request: ProbeRequest {
                method: method?,
                url: url?,
                headers,
                body: spec.body.clone(),
            },
            timeout,
            retry,
            assertions,
        })
    }

    fn headers(&mut self, at: &str, spec: &CheckSpec) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in &spec.headers {
            let path = format!("{at}.headers.{name}");
            let (text, marked) = match value {
                HeaderValueSpec::Plain(text) => (text, false),
                HeaderValueSpec::Detailed { value, secret } => (value, *secret),
            };
            let Ok(header) = header_name(name) else {
                self.problem(&path, "not a valid HTTP header name".to_owned());
                continue;
            };
            let secret = marked || ALWAYS_SECRET_HEADERS.contains(&header.as_str());
            let parsed = if secret {
                secret_header(text)
            } else {
                HeaderValue::from_str(text)
            };
            match parsed {
                Ok(value) => {
                    if secret {
                        self.secrets.push(text.clone());
                    }
                    headers.append(header, value);
                }
                // Never echo the value: it may be a secret the operator forgot to mark.
                Err(_) => self.problem(
                    &path,
                    "not a valid HTTP header value (control characters or non-ASCII?)".to_owned(),
                ),
            }
        }
        headers
    }

    fn assertion(&mut self, at: &str, spec: &AssertSpec) -> Option<Assertion> {
        match spec {
            AssertSpec::Status(status) => {
                let path = format!("{at}.status");
                let predicate = self.status(&path, status)?;
                Some(Assertion {
                    query: Query::Status,
                    predicate,
                })
            }
            AssertSpec::Header(header) => self.header_assertion(&format!("{at}.header"), header),
            AssertSpec::Body(text) => {
                let predicate = self.text_predicate(&format!("{at}.body"), text)?;
                Some(Assertion {
                    query: Query::Body,
                    predicate,
                })
            }
            AssertSpec::Json(json) => self.json_assertion(&format!("{at}.json"), json),
            AssertSpec::DurationMs(duration) => {
                if duration.less_than == 0 {
                    self.problem(
                        &format!("{at}.duration_ms.less_than"),
                        "expected a positive number of milliseconds".to_owned(),
                    );
                    return None;
                }
                #[allow(clippy::cast_precision_loss)]
                let limit = duration.less_than as f64;
                Some(Assertion {
                    query: Query::DurationMs,
                    predicate: Predicate::LessThan(limit),
                })
            }
        }
    }

    fn status(&mut self, path: &str, spec: &StatusSpec) -> Option<Predicate> {
        let codes: Vec<i64> = match spec {
            StatusSpec::Equals(code) => vec![*code],
            StatusSpec::OneOf(codes) => codes.clone(),
            StatusSpec::Range { min, max } => vec![*min, *max],
        };
        let bad: Vec<String> = codes
            .iter()
            .filter(|c| !(100..=599).contains(*c))
            .map(ToString::to_string)
            .collect();
        if !bad.is_empty() {
            self.problem(
                path,
                format!("expected a number 100..599, got {}", bad.join(", ")),
            );
            return None;
        }
        match spec {
            StatusSpec::Equals(code) => Some(Predicate::Equals(Value::from(*code))),
            StatusSpec::OneOf(codes) if codes.is_empty() => {
                self.problem(path, "expected at least one status code".to_owned());
                None
            }
            StatusSpec::OneOf(codes) => Some(Predicate::OneOf(
                codes.iter().map(|c| Value::from(*c)).collect(),
            )),
            StatusSpec::Range { min, max } if min > max => {
                self.problem(path, format!("min ({min}) is greater than max ({max})"));
                None
            }
            #[allow(clippy::cast_precision_loss)]
            StatusSpec::Range { min, max } => Some(Predicate::Between(*min as f64, *max as f64)),
        }
    }

    fn regex(&mut self, path: &str, pattern: &str) -> Option<Regex> {
        match Regex::new(pattern) {
            Ok(re) => Some(re),
            Err(error) => {
                self.problem(path, format!("invalid regular expression: {error}"));
                None
            }
        }
    }

    /// Exactly one predicate must be given; says which ones otherwise.
    fn one_of<T>(&mut self, path: &str, given: Vec<(&str, Option<T>)>) -> Option<(String, T)> {
        let names: Vec<&str> = given.iter().map(|(name, _)| *name).collect();
        let mut present: Vec<(String, T)> = given
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v)))
            .collect();
        match present.len() {
            1 => present.pop(),
            0 => {
                self.problem(path, format!("expected one of {}", names.join(", ")));
                None
            }
            _ => {
                let keys: Vec<&str> = present.iter().map(|(name, _)| name.as_str()).collect();
                self.problem(
                    path,
                    format!(
                        "expected exactly one of {}, got {}",
                        names.join(", "),
                        keys.join(" and ")
                    ),
                );
                None
            }
        }
    }

    fn text_predicate(&mut self, path: &str, spec: &TextAssertSpec) -> Option<Predicate> {
        let (key, text) = self.one_of(
            path,
            vec![
                ("equals", spec.equals.as_ref()),
                ("contains", spec.contains.as_ref()),
                ("matches", spec.matches.as_ref()),
            ],
        )?;
        match key.as_str() {
            "equals" => Some(Predicate::Equals(Value::String(text.clone()))),
            "contains" => Some(Predicate::Contains(Value::String(text.clone()))),
            _ => self
                .regex(&format!("{path}.matches"), text)
                .map(Predicate::Matches),
        }
    }

    fn header_assertion(&mut self, path: &str, spec: &HeaderAssertSpec) -> Option<Assertion> {
        let name = match header_name(&spec.name) {
            Ok(name) => Some(name.as_str().to_owned()),
            Err(_) => {
                self.problem(
                    &format!("{path}.name"),
                    format!("not a valid HTTP header name: {:?}", spec.name),
                );
                None
            }
        };
        let predicate = match spec.exists {
            Some(exists)
                if spec.equals.is_none() && spec.contains.is_none() && spec.matches.is_none() =>
            {
                Some(Predicate::Exists(exists))
            }
            Some(_) => {
                self.problem(
                    path,
                    "expected exactly one of exists, equals, contains, matches".to_owned(),
                );
                None
            }
            None => self.text_predicate(
                path,
                &TextAssertSpec {
                    equals: spec.equals.clone(),
                    contains: spec.contains.clone(),
                    matches: spec.matches.clone(),
                },
            ),
        };
        Some(Assertion {
            query: Query::Header(name?),
            predicate: predicate?,
        })
    }

    fn json_assertion(&mut self, path: &str, spec: &JsonAssertSpec) -> Option<Assertion> {
        let query = match JsonPath::parse(&spec.path) {
            Ok(parsed) => Some(Query::Json {
                source: spec.path.clone(),
                path: parsed,
            }),
            Err(error) => {
                self.problem(
                    &format!("{path}.path"),
                    format!("invalid JSONPath (RFC 9535, e.g. $.status): {error}"),
                );
                None
            }
        };
        let number = |n: Option<f64>| n.map(Value::from);
        let (key, value) = self.one_of(
            path,
            vec![
                ("equals", spec.equals.clone()),
                ("exists", spec.exists.map(Value::Bool)),
                ("one_of", spec.one_of.clone().map(Value::Array)),
                ("contains", spec.contains.clone()),
                ("matches", spec.matches.clone().map(Value::String)),
                ("less_than", number(spec.less_than)),
                ("at_most", number(spec.at_most)),
                ("greater_than", number(spec.greater_than)),
                ("at_least", number(spec.at_least)),
            ],
        )?;
        let limit = value.as_f64().unwrap_or(f64::NAN);
        let predicate = match key.as_str() {
            "equals" => Predicate::Equals(value),
            "exists" => Predicate::Exists(value.as_bool().unwrap_or(true)),
            "one_of" => match value {
                Value::Array(options) if !options.is_empty() => Predicate::OneOf(options),
                _ => {
                    self.problem(
                        &format!("{path}.one_of"),
                        "expected at least one value".to_owned(),
                    );
                    return None;
                }
            },
            "contains" => Predicate::Contains(value),
            "matches" => Predicate::Matches(self.regex(
                &format!("{path}.matches"),
                value.as_str().unwrap_or_default(),
            )?),
            "less_than" => Predicate::LessThan(limit),
            "at_most" => Predicate::AtMost(limit),
            "greater_than" => Predicate::GreaterThan(limit),
            _ => Predicate::AtLeast(limit),
        };
        Some(Assertion {
            query: query?,
            predicate,
        })
    }
}

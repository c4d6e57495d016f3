//! The spec's `checks` section: each check's name, hooks, path and request,
//! the defaults it falls back to, and its assertions.

use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::{Method, Url};

use super::error::PlanError;
use super::limits::{MAX_HEADERS, MAX_REQUEST_BODY_BYTES};
use super::problem::NOT_SHOWN;
use super::target::append_path;
use super::validator::Validator;
use crate::assertion::{Assertion, Query};
use crate::hook::Hook;
use crate::probe::ProbeRequest;
use crate::retry::RetryPolicy;
use crate::spec::{CheckSpec, RetrySpec};

/// The methods a check may send.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// A validated check.
#[derive(Debug, Clone)]
pub struct Check {
    /// Unique name.
    pub name: String,
    /// Path and query, appended to the target's base URL.
    pub path: String,
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

impl Check {
    /// Whether the request carries a secret header: then green's raw body is
    /// never shown in its results.
    pub fn sends_secrets(&self) -> bool {
        self.request.headers.values().any(HeaderValue::is_sensitive)
    }

    /// This check with its request sent to `base` instead.
    pub fn rebased(&self, base: &Url) -> Result<Check, PlanError> {
        let mut check = self.clone();
        check.request.url = append_path(base, &self.path)?;
        Ok(check)
    }
}

/// What a check falls back to.
pub(super) struct Defaults<'a> {
    pub(super) timeout: Duration,
    pub(super) retry: RetryPolicy,
    pub(super) retry_spec: Option<&'a RetrySpec>,
}

impl Validator {
    pub(super) fn check(
        &mut self,
        at: &str,
        spec: &CheckSpec,
        base: Option<&Url>,
        defaults: &Defaults<'_>,
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
            Some(hooks) => {
                let mut moments: Vec<Hook> = Vec::new();
                for hook in hooks.iter().map(|h| h.hook()) {
                    if !moments.contains(&hook) {
                        moments.push(hook);
                    }
                }
                moments
            }
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
                format!("expected one of {} ({NOT_SHOWN})", METHODS.join(", ")),
            );
        }
        let url = if spec.path.starts_with('/') {
            base.and_then(|base| match append_path(base, &spec.path) {
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
                format!("expected a path starting with '/' ({NOT_SHOWN})"),
            );
            None
        };
        let headers = self.headers(at, spec);
        if spec.headers.len() > MAX_HEADERS {
            self.problem(
                &format!("{at}.headers"),
                format!(
                    "expected at most {MAX_HEADERS} headers, got {}",
                    spec.headers.len()
                ),
            );
        }
        if let Some(body) = &spec.body
            && body.len() > MAX_REQUEST_BODY_BYTES
        {
            self.problem(
                &format!("{at}.body"),
                format!(
                    "expected at most {MAX_REQUEST_BODY_BYTES} bytes, got {}",
                    body.len()
                ),
            );
        }
        let redirects = self.redirects(&format!("{at}.follow_redirects"), spec);
        let timeout = spec
            .timeout_ms
            .map(|ms| self.timeout(&format!("{at}.timeout_ms"), ms))
            .unwrap_or(defaults.timeout);
        let retry = spec
            .retry
            .as_ref()
            .map(|r| self.retry(&format!("{at}.retry"), &r.or(defaults.retry_spec)))
            .unwrap_or(defaults.retry);
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
            path: spec.path.clone(),
            hooks,
            request: ProbeRequest {
                method: method?,
                url: url?,
                headers,
                body: spec.body.clone(),
                redirects,
                read_certificate: assertions
                    .iter()
                    .any(|assertion| matches!(assertion.query, Query::Certificate)),
            },
            timeout,
            retry,
            assertions,
        })
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;

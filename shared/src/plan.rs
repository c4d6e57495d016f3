//! Validation: turns an operator's [`Spec`] into a [`Plan`] that can run, or
//! into every problem found, each with the path of the field at fault.
//! Nothing is probed before the whole spec is known to be good.
//!
//! One file per section of the spec: `target`, `readiness`, `alarms`, `bake`
//! and `check` (with its `request`, `retry` and `assertions`). Each adds to
//! the `Validator`, which collects the problems and the secrets; `limits`
//! holds the bounds, `problem` what a problem may say, and `error` the
//! layer's [`PlanError`].

mod alarms;
mod assertions;
mod bake;
mod check;
mod error;
mod limits;
mod load;
mod problem;
mod readiness;
mod request;
mod retry;
mod step;
mod target;
mod template;
mod threshold;
mod validator;

use std::collections::HashSet;

use reqwest::Url;
use serde_json::Value;

pub use self::alarms::AlarmPolicy;
pub use self::bake::{Bake, GREEN_TARGET_GROUP, GateTally, LOAD_BALANCER, MetricGate, Tolerance};
use self::check::Defaults;
pub use self::check::{Check, CheckKind, Compare, RebaseError};
pub use self::error::{PlanError, UrlError};
pub use self::limits::{
    DEFAULT_TIMEOUT, MAX_ALARM_NAMES, MAX_CAPTURES, MAX_CHECKS, MAX_HEADERS, MAX_REDIRECTS,
    MAX_REQUEST_BODY_BYTES, MAX_SPEC_BYTES, MAX_STEPS,
};
pub use self::load::LoadPlan;
use self::problem::without_string_values;
pub use self::problem::{Problem, SpecError};
pub use self::readiness::Readiness;
pub use self::step::{HeaderTemplate, RequestError, Route, Step};
pub use self::target::{ListenerUrls, TargetPlan, UNDISCOVERED};
pub use self::template::{Escape, Template, TemplateError};
pub use self::threshold::{Baseline, BlueWindow, Breach};
use self::validator::Validator;
use crate::hook::Hook;
use crate::probe::Connection;
use crate::redaction::Redactor;
use crate::spec::{ListenerChoice, Spec, positional_arrays};

/// A validated spec, ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Where the checks go.
    pub target: TargetPlan,
    /// How long to wait for green to be ready; `None` when turned off.
    pub readiness: Option<Readiness>,
    /// Which alarms fail the hook.
    pub alarms: AlarmPolicy,
    /// The AfterAllowTraffic bake, if any.
    pub bake: Option<Bake>,
    /// Checks that may run at once.
    pub concurrency: usize,
    /// All checks, in spec order.
    pub checks: Vec<Check>,
    /// Knows every secret header value in the spec.
    pub redactor: Redactor,
}

impl Plan {
    /// Parses and validates a spec given as JSON text.
    pub fn from_json(text: &str) -> Result<Plan, SpecError> {
        if text.len() > MAX_SPEC_BYTES {
            return Err(SpecError {
                problems: vec![Problem {
                    path: "spec".to_owned(),
                    message: format!(
                        "expected at most {MAX_SPEC_BYTES} bytes, got {}",
                        text.len()
                    ),
                }],
            });
        }
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let spec: Spec = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let path = error.path().to_string();
            let (path, message) = without_string_values(&path, &error.into_inner().to_string());
            SpecError {
                problems: vec![Problem {
                    path: if path == "." || path.is_empty() {
                        "spec".to_owned()
                    } else {
                        path
                    },
                    message,
                }],
            }
        })?;
        // Anything after the spec (a second one pasted after it) is an error,
        // not silently ignored.
        deserializer.end().map_err(|error| SpecError {
            problems: vec![Problem {
                path: "spec".to_owned(),
                message: error.to_string(),
            }],
        })?;
        let written: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let read = serde_json::to_value(&spec).unwrap_or(Value::Null);
        let positional: Vec<Problem> = positional_arrays(&written, &read)
            .into_iter()
            .map(|path| Problem {
                path,
                message: "invalid type: sequence, expected an object".to_owned(),
            })
            .collect();
        if !positional.is_empty() {
            return Err(SpecError {
                problems: positional,
            });
        }
        Plan::from_spec(&spec)
    }

    /// Validates a parsed spec, collecting every problem.
    pub fn from_spec(spec: &Spec) -> Result<Plan, SpecError> {
        let mut v = Validator::default();
        let target = v.target(&spec.target);
        // Without a URL the base comes from the deployment at each invocation;
        // until then requests point at a name that cannot resolve.
        let base = match &spec.target.url {
            Some(_) => target.url.clone(),
            None => Url::parse(UNDISCOVERED).ok(),
        };
        let readiness = v.readiness(&spec.readiness);
        let alarms = v.alarms(&spec.alarms);
        let bake = spec.bake.as_ref().map(|bake| v.bake(bake));
        // A bake with nothing to watch only waits, then passes.
        if let Some(bake) = &spec.bake
            && bake.metrics.is_empty()
            && spec.alarms.names.is_empty()
            && !spec.alarms.deployment_group
        {
            v.problem(
                "bake",
                "nothing to watch: add bake.metrics or alarms.names, or turn alarms.deployment_group on (with the deployment group's alarm configuration enabled)".to_owned(),
            );
        }
        if !(1..=128).contains(&spec.concurrency) {
            v.problem(
                "concurrency",
                format!("expected 1..=128, got {}", spec.concurrency),
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
        if spec.checks.len() > MAX_CHECKS {
            v.problem(
                "checks",
                format!(
                    "expected at most {MAX_CHECKS} checks, got {}",
                    spec.checks.len()
                ),
            );
        }
        let mut names = HashSet::new();
        let mut checks = Vec::new();
        for (i, check) in spec.checks.iter().enumerate() {
            let at = format!("checks[{i}]");
            if !names.insert(check.name.as_str()) {
                v.problem(
                    &format!("{at}.name"),
                    "duplicate check name (names must be unique)".to_owned(),
                );
            }
            let defaults = Defaults {
                timeout: default_timeout,
                retry: default_retry,
                retry_spec: spec.defaults.retry.as_ref(),
            };
            if let Some(check) = v.check(&at, check, base.as_ref(), &defaults) {
                checks.push(check);
            }
        }
        // Before AllowTraffic, production still serves blue: probing it would
        // pass green on blue's health.
        if target.listener == Some(ListenerChoice::Production)
            && spec.target.url.is_none()
            && spec.checks.iter().any(|c| {
                c.hooks.as_ref().is_none_or(|hooks| {
                    hooks.iter().any(|h| {
                        matches!(
                            h.hook(),
                            Hook::AfterAllowTestTraffic | Hook::BeforeAllowTraffic
                        )
                    })
                })
            })
        {
            v.problem(
                "target.listener",
                "production still serves blue in AfterAllowTestTraffic and BeforeAllowTraffic: use it only for checks limited to AfterAllowTraffic (\"hooks\"), or leave it out".to_owned(),
            );
        }
        if let (Some(bake), Some(_)) = (&bake, &spec.target.url) {
            for (i, gate) in bake.metrics.iter().enumerate() {
                if gate
                    .stats()
                    .iter()
                    .flat_map(|stat| &stat.dimensions)
                    .any(|(_, value)| value.contains(LOAD_BALANCER))
                {
                    v.problem(
                        &format!("bake.metrics[{i}].dimensions"),
                        format!("{LOAD_BALANCER} needs the listener found from the deployment: leave target.url out, or give the dimensions explicitly"),
                    );
                }
            }
        }
        if v.problems.is_empty() {
            Ok(Plan {
                target,
                readiness,
                alarms,
                bake,
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

    /// How the HTTP client must connect for this plan.
    pub fn connection(&self) -> Connection {
        Connection {
            resolve: self
                .target
                .resolve
                .iter()
                .map(|(name, ip)| (name.clone(), vec![std::net::SocketAddr::new(*ip, 0)]))
                .collect(),
            ca_pem: self.target.ca_pem.clone(),
            max_body: Connection::body_limit(self.concurrency),
        }
    }

    /// Whether a hook needs to read the deployment from AWS.
    pub fn needs_discovery(&self, hook: Hook) -> bool {
        self.target.url.is_none()
            || !self.listeners_to_discover(hook).is_empty()
            || self.readiness.is_some()
            || self.alarms.deployment_group
            || self
                .bake
                .as_ref()
                .is_some_and(|b| b.hook == hook && !b.metrics.is_empty())
    }
}

impl Plan {
    /// The listeners other than the hook's own that checks running at
    /// `hook` name, and that have no URL in the spec: discovery finds them.
    pub fn listeners_to_discover(&self, hook: Hook) -> Vec<ListenerChoice> {
        // The hook's own listener is the target's URL, or found anyway.
        let own = self.target.listener.unwrap_or(hook.own_listener());
        let mut found = Vec::new();
        for check in self.checks.iter().filter(|c| c.hooks.contains(&hook)) {
            for listener in check.listeners_named() {
                if listener != own
                    && self.target.listener_urls.of(listener).is_none()
                    && !found.contains(&listener)
                {
                    found.push(listener);
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests;

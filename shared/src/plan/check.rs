//! The spec's `checks` section: each check's name, hooks and retry policy,
//! and its requests ([`Step`]s): one, a flow of several, or the same one
//! to green and to blue for a comparison.

use std::collections::BTreeMap;

use reqwest::Url;
use serde_json_path::JsonPath;

use super::error::PlanError;
use super::limits::MAX_STEPS;
use super::load::LoadPlan;
use super::step::{RequestFields, Route, Step};
use super::validator::Validator;
use crate::hook::Hook;
use crate::json_path::parse_bounded;
use crate::retry::RetryPolicy;
use crate::spec::{CheckSpec, Colour, CompareSpec, ListenerChoice, RetrySpec};

/// What a check does with its steps: exactly one of these.
#[derive(Debug, Clone)]
pub enum CheckKind {
    /// One request.
    Request,
    /// Requests in order, sharing captures and cookies.
    Flow,
    /// The same request to green (the first step) and to blue (the second),
    /// their answers compared.
    Compare(Compare),
    /// The one request, sent at a steady rate for a while.
    Load(LoadPlan),
}

/// What a comparison leaves out.
#[derive(Debug, Clone, Default)]
pub struct Compare {
    /// Blue's fields green need not have, as written and parsed.
    pub ignore: Vec<(String, JsonPath)>,
}

/// A validated check.
#[derive(Debug, Clone)]
pub struct Check {
    /// Unique name.
    pub name: String,
    /// Hooks that run it.
    pub hooks: Vec<Hook>,
    /// When to try again (the whole flow, for a flow).
    pub retry: RetryPolicy,
    /// Its requests, in order; never empty.
    pub steps: Vec<Step>,
    /// What it does with them.
    pub kind: CheckKind,
}

impl Check {
    /// Whether a request carries a secret: then green's raw body is never
    /// shown in its results.
    pub fn sends_secrets(&self) -> bool {
        self.steps.iter().any(Step::sends_secrets)
    }

    /// This check with each step sent where `base_of` says for its route.
    pub fn rebased(
        &self,
        hook: Hook,
        own: ListenerChoice,
        base_of: impl Fn(ListenerChoice) -> Option<Url>,
    ) -> Result<Check, RebaseError> {
        let mut check = self.clone();
        for step in &mut check.steps {
            let listener = step.listener.unwrap_or(own);
            let base = base_of(listener).ok_or(RebaseError::NoUrl(listener))?;
            let route = Route {
                listener,
                colour: hook.colour_on(listener),
            };
            *step = step.rebased(&base, route).map_err(RebaseError::Path)?;
        }
        Ok(check)
    }

    /// The listeners its steps name themselves.
    pub fn listeners_named(&self) -> impl Iterator<Item = ListenerChoice> + '_ {
        self.steps.iter().filter_map(|s| s.listener)
    }
}

/// Why a check cannot be sent where the judgement aims.
#[derive(Debug, thiserror::Error)]
pub enum RebaseError {
    /// A step names a listener with no URL.
    #[error(
        "no URL for the {0} listener: let it be discovered from the deployment (leave target.url out), or give target.listener_urls.{0}"
    )]
    NoUrl(ListenerChoice),
    /// A path does not join the base URL.
    #[error("{0}")]
    Path(PlanError),
}

/// One attempt, no more: a load probe's.
const ONCE: RetryPolicy = RetryPolicy {
    attempts: Some(1),
    interval: std::time::Duration::ZERO,
    within: None,
    consecutive_passes: 1,
};

/// What a check falls back to.
pub(super) struct Defaults<'a> {
    pub(super) timeout: std::time::Duration,
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
        let hooks = self.hooks(at, spec);
        // A flow's timeout is its steps' default; a request's is its own.
        let timeout = match &spec.steps {
            Some(_) => spec
                .timeout_ms
                .map(|ms| self.timeout(&format!("{at}.timeout_ms"), ms))
                .unwrap_or(defaults.timeout),
            None => defaults.timeout,
        };
        let mut known = BTreeMap::new();
        let (steps, kind) = match (&spec.steps, &spec.compare) {
            (Some(_), Some(_)) => {
                self.problem(
                    &format!("{at}.compare"),
                    "a flow (steps) cannot be compared: compare a check of one request".to_owned(),
                );
                (Vec::new(), CheckKind::Flow)
            }
            (Some(steps), None) => {
                self.request_fields_unused(at, spec);
                if steps.is_empty() || steps.len() > MAX_STEPS {
                    self.problem(
                        &format!("{at}.steps"),
                        format!("expected 1..={MAX_STEPS} steps, got {}", steps.len()),
                    );
                }
                let mut validated = Vec::new();
                for (j, step) in steps.iter().enumerate() {
                    let step_at = format!("{at}.steps[{j}]");
                    let fields = RequestFields {
                        name: step
                            .name
                            .clone()
                            .unwrap_or_else(|| format!("step {}", j + 1)),
                        method: step.method.as_deref(),
                        path: step.path.as_deref(),
                        headers: &step.headers,
                        body: step.body.as_deref(),
                        follow_redirects: step.follow_redirects.as_ref(),
                        timeout_ms: step.timeout_ms,
                        timeout,
                        listener: step.listener.or(spec.listener),
                        expect: step.expect,
                        capture: Some(&step.capture),
                        asserts: &step.asserts,
                        needs_assert: true,
                    };
                    if let Some(step) = self.step(&step_at, &fields, base, &mut known) {
                        self.route(&step_at, &step, &hooks);
                        validated.push(step);
                    }
                }
                (validated, CheckKind::Flow)
            }
            (None, compare) => {
                let fields = RequestFields {
                    name: spec.name.clone(),
                    method: spec.method.as_deref(),
                    path: spec.path.as_deref(),
                    headers: &spec.headers,
                    body: spec.body.as_deref(),
                    follow_redirects: spec.follow_redirects.as_ref(),
                    timeout_ms: spec.timeout_ms,
                    timeout,
                    listener: spec.listener,
                    expect: spec.expect,
                    capture: None,
                    asserts: &spec.asserts,
                    needs_assert: spec.compare.is_none(),
                };
                match compare {
                    None => {
                        let step = self.step(at, &fields, base, &mut known);
                        if let Some(step) = &step {
                            self.route(at, step, &hooks);
                        }
                        (step.into_iter().collect(), CheckKind::Request)
                    }
                    Some(compare) => self.compare(at, spec, compare, fields, base, &hooks),
                }
            }
        };
        let (kind, retry) = match (&spec.load, kind) {
            (Some(load), CheckKind::Request) => {
                let plan = self.load(&format!("{at}.load"), load);
                self.load_alone(at, spec, &steps);
                (
                    plan.map(CheckKind::Load).unwrap_or(CheckKind::Request),
                    ONCE,
                )
            }
            (Some(_), kind) => {
                self.problem(
                    &format!("{at}.load"),
                    "a load probe sends one request: leave out steps and compare".to_owned(),
                );
                (kind, ONCE)
            }
            (None, kind) => {
                let retry = spec
                    .retry
                    .as_ref()
                    .map(|r| self.retry(&format!("{at}.retry"), &r.or(defaults.retry_spec)))
                    .unwrap_or(defaults.retry);
                (kind, retry)
            }
        };
        if self.problems.len() > before || steps.is_empty() {
            return None;
        }
        Some(Check {
            name: spec.name.clone(),
            hooks,
            retry,
            steps,
            kind,
        })
    }

    /// A load probe runs once, on green.
    fn load_alone(&mut self, at: &str, spec: &CheckSpec, steps: &[Step]) {
        if spec.retry.is_some() {
            self.problem(
                &format!("{at}.retry"),
                "a load probe runs once: its figures are the judgement".to_owned(),
            );
        }
        if steps.iter().any(|s| s.expect == Some(Colour::Blue)) {
            self.problem(
                &format!("{at}.expect"),
                "a load probe goes to green only".to_owned(),
            );
        }
    }

    fn hooks(&mut self, at: &str, spec: &CheckSpec) -> Vec<Hook> {
        match &spec.hooks {
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
        }
    }

    /// A flow's requests are its steps': the check's own request fields
    /// would be ignored, which is refused.
    fn request_fields_unused(&mut self, at: &str, spec: &CheckSpec) {
        let written = [
            ("method", spec.method.is_some()),
            ("path", spec.path.is_some()),
            ("headers", !spec.headers.is_empty()),
            ("body", spec.body.is_some()),
            ("follow_redirects", spec.follow_redirects.is_some()),
            ("expect", spec.expect.is_some()),
            ("assert", !spec.asserts.is_empty()),
        ];
        for (field, _) in written.iter().filter(|(_, given)| *given) {
            self.problem(
                &format!("{at}.{field}"),
                "a flow's requests are its steps: move it into the steps".to_owned(),
            );
        }
    }

    /// A step that names its listener reaches the colour it says it means
    /// to, in every hook of its check: production before AllowTraffic is
    /// blue, and only a step that says so may go there.
    fn route(&mut self, at: &str, step: &Step, hooks: &[Hook]) {
        let Some(listener) = step.listener else {
            return;
        };
        for hook in hooks {
            let colour = hook.colour_on(listener);
            match step.expect {
                Some(expected) if expected != colour => {
                    self.problem(
                        &format!("{at}.expect"),
                        format!(
                            "the {listener} listener serves {colour} in {hook}, not {expected}: limit the check's hooks"
                        ),
                    );
                    return;
                }
                None if colour == Colour::Blue => {
                    self.problem(
                        &format!("{at}.listener"),
                        format!(
                            "the {listener} listener serves blue in {hook}: a check of blue says \"expect\": \"blue\"; a check of green goes to the test listener"
                        ),
                    );
                    return;
                }
                _ => {}
            }
        }
    }

    /// A comparison: the request to green on the test listener, and to blue
    /// on production, before AllowTraffic only.
    fn compare(
        &mut self,
        at: &str,
        spec: &CheckSpec,
        compare: &CompareSpec,
        fields: RequestFields<'_>,
        base: Option<&Url>,
        hooks: &[Hook],
    ) -> (Vec<Step>, CheckKind) {
        let (with, ignore) = match compare {
            CompareSpec::With(colour) => (*colour, &[][..]),
            CompareSpec::Detailed(detail) => (detail.with, detail.ignore.as_slice()),
        };
        if with != Colour::Blue {
            self.problem(
                &format!("{at}.compare"),
                "green is compared with blue: \"compare\": \"blue\"".to_owned(),
            );
        }
        for (field, given) in [
            ("listener", spec.listener.is_some()),
            ("expect", spec.expect.is_some()),
        ] {
            if given {
                self.problem(
                    &format!("{at}.{field}"),
                    "a comparison sends to green on the test listener and to blue on production: leave it out".to_owned(),
                );
            }
        }
        if hooks.contains(&Hook::AfterAllowTraffic) {
            self.problem(
                &format!("{at}.hooks"),
                "blue serves production only before AllowTraffic: limit a comparison to AfterAllowTestTraffic or BeforeAllowTraffic".to_owned(),
            );
        }
        let mut parsed = Vec::new();
        for (i, query) in ignore.iter().enumerate() {
            match parse_bounded(query) {
                Ok(path) => parsed.push((query.clone(), path)),
                Err(error) => self.problem(&format!("{at}.compare.ignore[{i}]"), error),
            }
        }
        let mut known = BTreeMap::new();
        let green = RequestFields {
            name: format!("{} (green)", fields.name),
            listener: Some(ListenerChoice::Test),
            expect: Some(Colour::Green),
            ..fields
        };
        let Some(green) = self.step(at, &green, base, &mut known) else {
            return (Vec::new(), CheckKind::Request);
        };
        let mut blue = green.clone();
        blue.name = format!("{} (blue)", spec.name);
        blue.listener = Some(ListenerChoice::Production);
        blue.expect = Some(Colour::Blue);
        (
            vec![green, blue],
            CheckKind::Compare(Compare { ignore: parsed }),
        )
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;

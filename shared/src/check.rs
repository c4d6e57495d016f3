//! Runs one check: attempts with its retry policy, every attempt bounded by the
//! per-request timeout and by the time left before the hook must stop probing.

use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::assertion::AssertionResult;
use crate::attempts::{Backoff, Step, until_done};
use crate::flow::{FlowReport, attempt};
use crate::plan::Check;
use crate::probe::HttpProbe;
use crate::redaction::Redactor;
use crate::retry::{GiveUp, Next, Tally};
use crate::time::millis;

/// Pass or fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// All assertions held (as many times in a row as the policy asks).
    Pass,
    /// Anything else.
    Fail,
    /// Not run because an earlier stage failed: listed in the verdict, adds
    /// no reason of its own, and is not a pass.
    Skipped,
}

impl Outcome {
    /// For log fields.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Skipped => "skipped",
        }
    }
}

/// The result of one check: a value, with what was expected and found on the
/// last attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// The check's name.
    pub name: String,
    /// Pass or fail.
    pub outcome: Outcome,
    /// Why it failed (which limit ended it), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Attempts made.
    pub attempts: u32,
    /// From the first attempt to the end.
    pub duration_ms: u64,
    /// Every assertion of the last attempt that got a response.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<AssertionResult>,
    /// The last attempt's transport error (timeout, refused…), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A flow's or a comparison's steps in the last attempt: which listener
    /// and colour each hit, which failed, and what was captured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<FlowReport>,
}

impl CheckResult {
    /// A check that failed without a normal end (panic, deadline).
    pub fn failed(name: &str, reason: String, duration: Duration) -> Self {
        CheckResult {
            name: name.to_owned(),
            outcome: Outcome::Fail,
            reason: Some(reason),
            attempts: 0,
            duration_ms: millis(duration),
            assertions: Vec::new(),
            error: None,
            flow: None,
        }
    }

    /// Whether the check passed.
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Pass
    }

    /// Whether the check failed (a skipped one neither passed nor failed).
    pub fn failed_outright(&self) -> bool {
        self.outcome == Outcome::Fail
    }

    /// What was expected: the failing assertions (all of them if it passed or
    /// no response came back).
    pub fn expected(&self) -> String {
        self.shown()
            .map(|a| a.expected.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// What was found, in the same order as [`CheckResult::expected`], or the
    /// transport error.
    pub fn actual(&self) -> String {
        if let Some(error) = &self.error {
            return error.clone();
        }
        if self.assertions.is_empty() {
            return self.reason.clone().unwrap_or_default();
        }
        self.shown()
            .map(|a| a.actual.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// One line for the verdict: `name: expected …, got … (reason)`; for a
    /// flow, the failing step with its listener and colour after the name,
    /// and what was captured at the end.
    pub fn summary(&self) -> String {
        let line = self.plain_summary();
        let Some(flow) = &self.flow else {
            return line;
        };
        let Some(step) = flow.failed().filter(|_| self.failed_outright()) else {
            return line;
        };
        let rest = line
            .strip_prefix(&format!("{}: ", self.name))
            .unwrap_or(&line);
        let mut line = format!("{}: {step}: {rest}", self.name);
        if let Some(captured) = flow.captured_line() {
            line.push_str(&format!("; captured: {captured}"));
        }
        line
    }

    fn plain_summary(&self) -> String {
        if self.assertions.is_empty() {
            let reason = self.reason.as_deref().unwrap_or("failed");
            // The error says which API failed and how: an operator needs it.
            return match &self.error {
                Some(error) => format!("{}: {reason}: {error}", self.name),
                None => format!("{}: {reason}", self.name),
            };
        }
        let mut line = match &self.error {
            Some(error) => format!("{}: {error}; expected {}", self.name, self.expected()),
            None => {
                let pairs: Vec<String> = self
                    .shown()
                    .map(|a| format!("expected {}, got {}", a.expected, a.actual))
                    .collect();
                if pairs.is_empty() {
                    // Failed on its retry policy alone (passes not in a row).
                    format!("{}: the last attempt passed", self.name)
                } else {
                    format!("{}: {}", self.name, pairs.join("; "))
                }
            }
        };
        if let Some(reason) = &self.reason {
            line.push_str(&format!(" ({reason})"));
        }
        line
    }

    /// Redacts every text of the result in place.
    pub fn redact(&mut self, redactor: &Redactor) {
        for text in [&mut self.reason, &mut self.error].into_iter().flatten() {
            *text = redactor.redact(text);
        }
        for assertion in &mut self.assertions {
            assertion.expected = redactor.redact(&assertion.expected);
            assertion.actual = redactor.redact(&assertion.actual);
        }
    }

    fn shown(&self) -> impl Iterator<Item = &AssertionResult> {
        let only_failures = !self.passed() && self.error.is_none();
        self.assertions
            .iter()
            .filter(move |a| !only_failures || !a.passed)
    }
}

/// In builds with the `fault-injection` feature (tests only), a check with
/// this name panics.
pub const INJECTED_PANIC_CHECK: &str = "greenlight-fault-injection-panic";

/// Runs `check` until its retry policy ends it or `stop_at` comes.
pub async fn run_check<P: HttpProbe>(
    check: &Check,
    probe: &P,
    stop_at: Instant,
    redactor: &Redactor,
) -> CheckResult {
    if cfg!(feature = "fault-injection") && check.name == INJECTED_PANIC_CHECK {
        panic!("injected panic in check {INJECTED_PANIC_CHECK}");
    }
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut result = CheckResult {
        name: check.name.clone(),
        outcome: Outcome::Fail,
        reason: None,
        attempts: 0,
        duration_ms: 0,
        assertions: Vec::new(),
        error: None,
        flow: None,
    };
    // Secrets captured by any attempt: the reason is redacted with them too.
    let mut redactor = redactor.clone();
    until_done(
        stop_at,
        Backoff::constant(check.retry.interval),
        async |_| {
            if Instant::now() >= stop_at {
                result.reason = Some(check.retry.reason(GiveUp::Deadline, &tally));
                return Step::Done(());
            }
            let attempt = attempt(check, probe, stop_at, &redactor).await;
            redactor = attempt.redactor;
            result.assertions = attempt.assertions;
            result.error = attempt.error;
            result.flow = attempt.flow;
            let left = stop_at.saturating_duration_since(Instant::now());
            match check
                .retry
                .after_attempt(&mut tally, attempt.passed, started.elapsed(), left)
            {
                Next::Pass => {
                    result.outcome = Outcome::Pass;
                    Step::Done(())
                }
                Next::GiveUp(why) => {
                    result.reason = Some(check.retry.reason(why, &tally));
                    Step::Done(())
                }
                Next::Retry => Step::Again,
            }
        },
    )
    .await;
    result.attempts = tally.attempts;
    result.duration_ms = millis(started.elapsed());
    result.redact(&redactor);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_that_failed_on_its_retry_policy_alone_says_the_last_attempt_passed() {
        // GIVEN a failed check whose last attempt met every assertion
        let result = CheckResult {
            name: "health".to_owned(),
            outcome: Outcome::Fail,
            reason: Some(
                "failed after 3 attempt(s): 2 consecutive passes needed, at most 1 in a row"
                    .to_owned(),
            ),
            attempts: 3,
            duration_ms: 12,
            assertions: vec![AssertionResult {
                passed: true,
                expected: "status == 200".to_owned(),
                actual: "200".to_owned(),
            }],
            error: None,
            flow: None,
        };
        // THEN its line says so, with the rule not met
        assert_eq!(
            result.summary(),
            "health: the last attempt passed (failed after 3 attempt(s): 2 consecutive passes needed, at most 1 in a row)"
        );
    }
}

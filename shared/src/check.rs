//! Runs one check: attempts with its retry policy, every attempt bounded by the
//! per-request timeout and by the time left before the hook must stop probing.

use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::assertion::{AssertionResult, Disclosure, shorten_text};
use crate::attempts::{Backoff, Step, until_done};
use crate::evaluation::evaluate;
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

    /// One line for the verdict: `name: expected …, got … (reason)`.
    pub fn summary(&self) -> String {
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
    };
    until_done(
        stop_at,
        Backoff::constant(check.retry.interval),
        async |_| {
            let left = stop_at.saturating_duration_since(Instant::now());
            if left.is_zero() {
                result.reason = Some(check.retry.reason(GiveUp::Deadline, &tally));
                return Step::Done(());
            }
            let timeout = check.timeout.min(left);
            let passed = match probe.send(&check.request, timeout).await {
                Ok(response) => {
                    let disclosure = Disclosure {
                        redactor: redactor.clone(),
                        sends_secrets: check.sends_secrets(),
                    };
                    match evaluate(
                        &check.assertions,
                        response,
                        disclosure,
                        check.timeout,
                        stop_at,
                    )
                    .await
                    {
                        Ok(assertions) => {
                            result.error = None;
                            result.assertions = assertions;
                            result.assertions.iter().all(|a| a.passed)
                        }
                        Err(error) => {
                            result.error = Some(error.to_string());
                            result.assertions = not_judged(check, redactor, "not judged");
                            false
                        }
                    }
                }
                Err(error) => {
                    let mut message = redactor.redact(&error.to_string());
                    if timeout < check.timeout {
                        message.push_str(" (cut short by the hook's deadline)");
                    }
                    result.error = Some(message);
                    result.assertions = not_judged(check, redactor, "no response");
                    false
                }
            };
            let left = stop_at.saturating_duration_since(Instant::now());
            match check
                .retry
                .after_attempt(&mut tally, passed, started.elapsed(), left)
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
    result
}

/// Every assertion of `check`, failed, with `actual` saying why.
fn not_judged(check: &Check, redactor: &Redactor, actual: &str) -> Vec<AssertionResult> {
    check
        .assertions
        .iter()
        .map(|a| AssertionResult {
            passed: false,
            expected: shorten_text(&redactor.redact(&a.describe())),
            actual: actual.to_owned(),
        })
        .collect()
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
        };
        // THEN its line says so, with the rule not met
        assert_eq!(
            result.summary(),
            "health: the last attempt passed (failed after 3 attempt(s): 2 consecutive passes needed, at most 1 in a row)"
        );
    }
}

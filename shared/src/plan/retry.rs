//! A check's `retry` (and `defaults.retry`): when to try again.

use std::time::Duration;

use super::limits::{MAX_ATTEMPTS, MAX_INTERVAL_MS, MAX_WINDOW_MS, MIN_UNBOUNDED_INTERVAL};
use super::validator::Validator;
use crate::retry::RetryPolicy;
use crate::spec::RetrySpec;

impl Validator {
    pub(super) fn retry(&mut self, path: &str, spec: &RetrySpec) -> RetryPolicy {
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
        if policy.attempts.is_none() && policy.interval < MIN_UNBOUNDED_INTERVAL {
            self.problem(
                &format!("{path}.interval_ms"),
                format!(
                    "expected at least {} when attempts are unlimited (within_ms without attempts), got {}",
                    MIN_UNBOUNDED_INTERVAL.as_millis(),
                    policy.interval.as_millis()
                ),
            );
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
}

#[cfg(test)]
#[path = "retry_tests.rs"]
mod tests;

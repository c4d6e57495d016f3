//! The spec's `readiness` section: how long to wait for green to be ready.

use std::time::Duration;

use super::limits::{MAX_INTERVAL_MS, MAX_WINDOW_MS};
use super::validator::Validator;
use crate::spec::ReadinessSpec;

/// Readiness limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// Give up after this long.
    pub timeout: Duration,
    /// Longest pause between polls.
    pub max_interval: Duration,
}

impl Validator {
    pub(super) fn readiness(&mut self, spec: &ReadinessSpec) -> Option<Readiness> {
        let timeout = spec.timeout_ms.unwrap_or(300_000);
        if !(1..=MAX_WINDOW_MS).contains(&timeout) {
            self.problem(
                "readiness.timeout_ms",
                format!("expected 1..={MAX_WINDOW_MS}, got {timeout}"),
            );
        }
        let interval = spec.interval_ms.unwrap_or(10_000);
        if !(100..=MAX_INTERVAL_MS).contains(&interval) {
            self.problem(
                "readiness.interval_ms",
                format!("expected 100..={MAX_INTERVAL_MS}, got {interval}"),
            );
        }
        spec.enabled.then(|| Readiness {
            timeout: Duration::from_millis(timeout),
            max_interval: Duration::from_millis(interval),
        })
    }
}

//! A check's `load`: the rate, the duration and the bounds of a load probe.

use std::time::Duration;

use super::limits::MAX_TIMEOUT_MS;
use super::validator::Validator;
use crate::spec::LoadSpec;

/// A validated load probe.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadPlan {
    /// Requests per second, on a fixed schedule.
    pub rps: u32,
    /// How long to send.
    pub duration: Duration,
    /// Most the median response time may be.
    pub p50: Option<Duration>,
    /// Most the 95th percentile may be.
    pub p95: Option<Duration>,
    /// Most the 99th percentile may be.
    pub p99: Option<Duration>,
    /// Largest share of errors allowed, 0 to 1.
    pub error_rate_at_most: Option<f64>,
}

impl LoadPlan {
    /// The fastest rate: 32 requests in flight at 200 rps still leave each
    /// 160 ms, and the hook stays one process on a small Lambda.
    pub const MAX_RPS: u32 = 200;
    /// The longest run: two minutes of load says what a longer one would,
    /// and leaves the hook time for everything else.
    pub const MAX_DURATION_S: u32 = 120;
    /// The most requests one run may plan, which bounds the memory kept for
    /// its latencies.
    pub const MAX_REQUESTS: u32 = Self::MAX_RPS * Self::MAX_DURATION_S;

    /// How many requests the schedule holds: one every `1/rps` from the
    /// start, while within the duration.
    pub fn requests(&self) -> u32 {
        let nanos = self.duration.as_nanos() * u128::from(self.rps);
        u32::try_from(nanos.div_ceil(1_000_000_000)).unwrap_or(u32::MAX)
    }
}

impl Validator {
    /// A check's `load` at `at` (`checks[3].load`), or `None` with every
    /// problem reported.
    pub(super) fn load(&mut self, at: &str, spec: &LoadSpec) -> Option<LoadPlan> {
        let before = self.problems.len();
        if !(1..=LoadPlan::MAX_RPS).contains(&spec.rps) {
            self.problem(
                &format!("{at}.rps"),
                format!("expected 1..={}, got {}", LoadPlan::MAX_RPS, spec.rps),
            );
        }
        if !(1..=LoadPlan::MAX_DURATION_S).contains(&spec.duration_s) {
            self.problem(
                &format!("{at}.duration_s"),
                format!(
                    "expected 1..={}, got {}",
                    LoadPlan::MAX_DURATION_S,
                    spec.duration_s
                ),
            );
        }
        let latency = spec.latency_ms.clone().unwrap_or_default();
        let mut bound = |name: &str, ms: Option<u64>| -> Option<Duration> {
            let ms = ms?;
            if !(1..=MAX_TIMEOUT_MS).contains(&ms) {
                self.problem(
                    &format!("{at}.latency_ms.{name}"),
                    format!("expected 1..={MAX_TIMEOUT_MS}, got {ms}"),
                );
            }
            Some(Duration::from_millis(ms))
        };
        let p50 = bound("p50", latency.p50);
        let p95 = bound("p95", latency.p95);
        let p99 = bound("p99", latency.p99);
        if let Some(rate) = spec.error_rate_at_most
            && !(0.0..=1.0).contains(&rate)
        {
            self.problem(
                &format!("{at}.error_rate_at_most"),
                format!("expected 0..=1 (0.01 is 1%), got {rate}"),
            );
        }
        let no_latency = p50.is_none() && p95.is_none() && p99.is_none();
        if spec.latency_ms.is_some() && no_latency {
            self.problem(
                &format!("{at}.latency_ms"),
                "expected at least one of p50, p95, p99".to_owned(),
            );
        } else if no_latency && spec.error_rate_at_most.is_none() {
            self.problem(
                at,
                "expected a bound: latency_ms (p50, p95, p99) or error_rate_at_most".to_owned(),
            );
        }
        if self.problems.len() > before {
            return None;
        }
        Some(LoadPlan {
            rps: spec.rps,
            duration: Duration::from_secs(u64::from(spec.duration_s)),
            p50,
            p95,
            p99,
            error_rate_at_most: spec.error_rate_at_most,
        })
    }
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;

//! The spec's `bake` section: watching alarms and metric thresholds for a
//! while after production moved to green.

use std::fmt;
use std::time::Duration;

use super::limits::{MAX_BAKE_MS, MAX_INTERVAL_MS};
use super::problem::NOT_SHOWN;
use super::validator::Validator;
use crate::spec::{BakeSpec, MetricGateSpec};

/// CloudWatch statistics besides percentiles.
const STATISTICS: [&str; 5] = ["Sum", "Average", "Minimum", "Maximum", "SampleCount"];
/// Placeholder for the green target group's `TargetGroup` dimension value.
pub const GREEN_TARGET_GROUP: &str = "{green_target_group}";
/// Placeholder for the load balancer's `LoadBalancer` dimension value.
pub const LOAD_BALANCER: &str = "{load_balancer}";

/// The AfterAllowTraffic bake.
#[derive(Debug, Clone, PartialEq)]
pub struct Bake {
    /// How long to watch.
    pub duration: Duration,
    /// Pause between looks.
    pub interval: Duration,
    /// Metric thresholds.
    pub metrics: Vec<MetricGate>,
}

/// A metric threshold, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricGate {
    /// For logs and the verdict.
    pub name: String,
    /// CloudWatch namespace.
    pub namespace: String,
    /// Metric name.
    pub metric: String,
    /// Statistic (`Sum`, `p99`…).
    pub stat: String,
    /// Period in seconds.
    pub period_s: u32,
    /// Dimensions, with `{green_target_group}` / `{load_balancer}` placeholders.
    pub dimensions: Vec<(String, String)>,
    /// When the value breaches.
    pub breach: Breach,
    /// Whether a bake in which it never had a datapoint fails.
    pub require_data: bool,
}

/// A threshold's side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Breach {
    /// Breached above this value.
    Above(f64),
    /// Breached below this value.
    Below(f64),
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Breach::Above(limit) => write!(f, "<= {limit}"),
            Breach::Below(limit) => write!(f, ">= {limit}"),
        }
    }
}

impl Breach {
    /// Whether `value` breaches the threshold.
    pub fn breached_by(self, value: f64) -> bool {
        match self {
            Breach::Above(limit) => value > limit,
            Breach::Below(limit) => value < limit,
        }
    }
}

impl Validator {
    pub(super) fn bake(&mut self, spec: &BakeSpec) -> Bake {
        if !(1..=MAX_BAKE_MS).contains(&spec.duration_ms) {
            self.problem(
                "bake.duration_ms",
                format!(
                    "expected 1..={MAX_BAKE_MS} (a day; a CodeDeploy hook's bake must also fit in its Lambda run), got {}",
                    spec.duration_ms
                ),
            );
        }
        let interval = spec.interval_ms.unwrap_or(10_000);
        if !(100..=MAX_INTERVAL_MS).contains(&interval) {
            self.problem(
                "bake.interval_ms",
                format!("expected 100..={MAX_INTERVAL_MS}, got {interval}"),
            );
        }
        let metrics = spec
            .metrics
            .iter()
            .enumerate()
            .filter_map(|(i, m)| self.metric(&format!("bake.metrics[{i}]"), m))
            .collect();
        Bake {
            duration: Duration::from_millis(spec.duration_ms),
            interval: Duration::from_millis(interval),
            metrics,
        }
    }

    fn metric(&mut self, at: &str, spec: &MetricGateSpec) -> Option<MetricGate> {
        let before = self.problems.len();
        if spec.metric.trim().is_empty() {
            self.problem(&format!("{at}.metric"), "expected a metric name".to_owned());
        }
        let stat_ok = STATISTICS.contains(&spec.stat.as_str())
            || spec
                .stat
                .strip_prefix('p')
                .and_then(|p| p.parse::<f64>().ok())
                .is_some_and(|p| (0.0..=100.0).contains(&p));
        if !stat_ok {
            self.problem(
                &format!("{at}.stat"),
                format!(
                    "expected one of {} or a percentile such as p99 ({NOT_SHOWN})",
                    STATISTICS.join(", "),
                ),
            );
        }
        let period_s = spec.period_s.unwrap_or(60);
        if !(period_s == 1
            || period_s == 5
            || period_s == 10
            || period_s == 30
            || (period_s >= 60 && period_s.is_multiple_of(60) && period_s <= 86_400))
        {
            self.problem(
                &format!("{at}.period_s"),
                format!("expected 1, 5, 10, 30 or a multiple of 60, got {period_s}"),
            );
        }
        let breach = match (spec.greater_than, spec.less_than) {
            (Some(limit), None) => Some(Breach::Above(limit)),
            (None, Some(limit)) => Some(Breach::Below(limit)),
            _ => {
                self.problem(
                    at,
                    "expected exactly one of greater_than, less_than".to_owned(),
                );
                None
            }
        };
        let namespace = spec
            .namespace
            .clone()
            .unwrap_or_else(|| "AWS/ApplicationELB".to_owned());
        let dimensions = match &spec.dimensions {
            Some(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            None if namespace == "AWS/ApplicationELB" => vec![
                ("TargetGroup".to_owned(), GREEN_TARGET_GROUP.to_owned()),
                ("LoadBalancer".to_owned(), LOAD_BALANCER.to_owned()),
            ],
            None => Vec::new(),
        };
        if self.problems.len() > before {
            return None;
        }
        Some(MetricGate {
            name: spec.name.clone().unwrap_or_else(|| spec.metric.clone()),
            namespace,
            metric: spec.metric.clone(),
            stat: spec.stat.clone(),
            period_s,
            dimensions,
            breach: breach?,
            require_data: spec.require_data,
        })
    }
}

#[cfg(test)]
#[path = "bake_tests.rs"]
mod tests;

//! The spec's `bake` section: watching alarms and metric thresholds for a
//! while after production moved to green.

use std::time::Duration;

use super::limits::{MAX_BAKE_METRICS, MAX_BAKE_MS, MAX_INTERVAL_MS};
use super::problem::NOT_SHOWN;
use super::threshold::{Baseline, Breach};
use super::validator::Validator;
use serde::{Deserialize, Serialize};

use crate::cloud::{EXPRESSION_ID, MetricSource, MetricStat};
use crate::hook::Hook;
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
    /// The hook whose judgement ends in it.
    pub hook: Hook,
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
    /// What is read, dimensions with `{green_target_group}` /
    /// `{load_balancer}` placeholders.
    pub source: MetricSource,
    /// Period in seconds.
    pub period_s: u32,
    /// When the value breaches.
    pub breach: Breach,
    /// How many breaches the bake tolerates.
    pub tolerance: Tolerance,
    /// Looks with a datapoint the bake needs (0: none; the verdict then
    /// warns when there was none).
    pub min_datapoints: u32,
    /// Blue's values, for a relative threshold.
    pub baseline: Option<Baseline>,
}

impl MetricGate {
    /// Every statistic the gate reads, for checking their dimensions.
    pub fn stats(&self) -> Vec<&MetricStat> {
        match &self.source {
            MetricSource::Stat(stat) => vec![stat],
            MetricSource::Expression { metrics, .. } => metrics.iter().map(|(_, m)| m).collect(),
        }
    }
}

/// How many breaches a gate tolerates over a bake, as Argo Rollouts'
/// `failureLimit` and `consecutiveErrorLimit` do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tolerance {
    /// Breaches allowed in all (`None`: no limit on the total).
    pub failure_limit: Option<u32>,
    /// Breaches in a row that fail (`None`: no limit on a run).
    pub consecutive: Option<u32>,
}

impl Default for Tolerance {
    /// The first breach fails.
    fn default() -> Self {
        Tolerance {
            failure_limit: Some(0),
            consecutive: None,
        }
    }
}

impl Tolerance {
    /// Whether `tally` is beyond what is tolerated.
    pub fn exceeded_by(self, tally: &GateTally) -> bool {
        self.failure_limit
            .is_some_and(|limit| tally.breaches > limit)
            || self.consecutive.is_some_and(|run| tally.run >= run)
    }

    /// How a verdict line says it, when it is not the default.
    pub fn describe(self) -> Option<String> {
        match (self.failure_limit, self.consecutive) {
            (Some(0), None) => None,
            (Some(limit), None) => Some(format!("failure_limit {limit}")),
            (None, Some(run)) => Some(format!("consecutive_breaches {run}")),
            (Some(limit), Some(run)) => {
                Some(format!("failure_limit {limit}, consecutive_breaches {run}"))
            }
            (None, None) => Some("no limit".to_owned()),
        }
    }
}

/// What one gate saw over the looks of a bake so far: kept between the
/// rounds of a bake that spans invocations, so small and plain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateTally {
    /// Looks that found a datapoint.
    #[serde(rename = "d")]
    pub datapoints: u32,
    /// Looks that breached.
    #[serde(rename = "b")]
    pub breaches: u32,
    /// Breaches in a row, up to the last look.
    #[serde(rename = "r")]
    pub run: u32,
}

impl GateTally {
    /// Counts one look: whether it found a datapoint, and whether it breached.
    pub fn count(&mut self, datapoint: bool, breached: bool) {
        self.datapoints = self.datapoints.saturating_add(u32::from(datapoint));
        if breached {
            self.breaches = self.breaches.saturating_add(1);
            self.run = self.run.saturating_add(1);
        } else {
            self.run = 0;
        }
    }
}

impl Validator {
    pub(super) fn bake(&mut self, spec: &BakeSpec) -> Bake {
        let hook = spec.hook.map_or(Hook::AfterAllowTraffic, |h| h.hook());
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
        if spec.metrics.len() > MAX_BAKE_METRICS {
            self.problem(
                "bake.metrics",
                format!(
                    "expected at most {MAX_BAKE_METRICS} metric gates, got {}",
                    spec.metrics.len()
                ),
            );
        }
        let metrics: Vec<MetricGate> = spec
            .metrics
            .iter()
            .take(MAX_BAKE_METRICS)
            .enumerate()
            .filter_map(|(i, m)| self.metric(&format!("bake.metrics[{i}]"), m))
            .collect();
        if hook == Hook::AfterAllowTraffic {
            for (i, gate) in spec.metrics.iter().enumerate() {
                if gate.baseline.as_ref().and_then(|b| b.when)
                    == Some(crate::spec::BlueWindowSpec::Concurrent)
                {
                    self.problem(
                        &format!("bake.metrics[{i}].baseline.when"),
                        "blue serves nothing after AllowTraffic: compare concurrently in a bake before it (bake.hook AfterAllowTestTraffic or BeforeAllowTraffic), or use before_deployment".to_owned(),
                    );
                }
            }
        }
        Bake {
            hook,
            duration: Duration::from_millis(spec.duration_ms),
            interval: Duration::from_millis(interval),
            metrics,
        }
    }

    fn metric(&mut self, at: &str, spec: &MetricGateSpec) -> Option<MetricGate> {
        let before = self.problems.len();
        let source = match (&spec.metric, &spec.expression) {
            (Some(metric), None) => {
                if spec.metrics.is_some() {
                    self.problem(&format!("{at}.metrics"), "only with expression".to_owned());
                }
                match &spec.stat {
                    None => {
                        self.problem(
                            &format!("{at}.stat"),
                            "expected a statistic with metric".to_owned(),
                        );
                        None
                    }
                    Some(stat) => self
                        .metric_stat(at, &spec.namespace, metric, stat, &spec.dimensions)
                        .map(MetricSource::Stat),
                }
            }
            (None, Some(expression)) => {
                for (field, present) in [
                    ("namespace", spec.namespace.is_some()),
                    ("stat", spec.stat.is_some()),
                    ("dimensions", spec.dimensions.is_some()),
                ] {
                    if present {
                        self.problem(
                            &format!("{at}.{field}"),
                            "only with metric: give it to each of metrics".to_owned(),
                        );
                    }
                }
                if spec.name.is_none() {
                    self.problem(
                        &format!("{at}.name"),
                        "expected a name for an expression".to_owned(),
                    );
                }
                self.expression(at, expression, spec.metrics.as_ref())
            }
            _ => {
                self.problem(at, "expected exactly one of metric, expression".to_owned());
                None
            }
        };
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
        let breach = self.threshold(at, spec);
        let baseline = self.baseline(at, spec.baseline.as_ref(), breach);
        if let Some(run) = spec.consecutive_breaches
            && !(1..=MAX_TALLY).contains(&run)
        {
            self.problem(
                &format!("{at}.consecutive_breaches"),
                format!("expected 1..={MAX_TALLY}, got {run}"),
            );
        }
        for (field, value) in [
            ("failure_limit", spec.failure_limit),
            ("min_datapoints", spec.min_datapoints),
        ] {
            if let Some(n) = value
                && n > MAX_TALLY
            {
                self.problem(
                    &format!("{at}.{field}"),
                    format!("expected 0..={MAX_TALLY}, got {n}"),
                );
            }
        }
        let tolerance = match (spec.failure_limit, spec.consecutive_breaches) {
            (None, None) => Tolerance::default(),
            (limit, run) => Tolerance {
                failure_limit: limit,
                consecutive: run,
            },
        };
        if self.problems.len() > before {
            return None;
        }
        let name = spec.name.clone().or_else(|| spec.metric.clone())?;
        Some(MetricGate {
            name,
            source: source?,
            period_s,
            breach: breach?,
            tolerance,
            min_datapoints: spec
                .min_datapoints
                .unwrap_or(0)
                .max(u32::from(spec.require_data)),
            baseline,
        })
    }

    /// A metric's statistic, with the default namespace and dimensions.
    fn metric_stat(
        &mut self,
        at: &str,
        namespace: &Option<String>,
        metric: &str,
        stat: &str,
        dimensions: &Option<std::collections::BTreeMap<String, String>>,
    ) -> Option<MetricStat> {
        let before = self.problems.len();
        if metric.trim().is_empty() {
            self.problem(&format!("{at}.metric"), "expected a metric name".to_owned());
        }
        let stat_ok = STATISTICS.contains(&stat)
            || stat
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
        let namespace = namespace
            .clone()
            .unwrap_or_else(|| "AWS/ApplicationELB".to_owned());
        let dimensions = match dimensions {
            Some(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            None if namespace == "AWS/ApplicationELB" => vec![
                ("TargetGroup".to_owned(), GREEN_TARGET_GROUP.to_owned()),
                ("LoadBalancer".to_owned(), LOAD_BALANCER.to_owned()),
            ],
            None => Vec::new(),
        };
        (self.problems.len() == before).then(|| MetricStat {
            namespace,
            metric: metric.to_owned(),
            stat: stat.to_owned(),
            dimensions,
        })
    }

    /// A metric math expression and the metrics it names. CloudWatch
    /// evaluates it; what can be checked here is that it is bounded, that
    /// every name is a valid query ID, and that every lowercase name the
    /// expression uses is one of `metrics` (CloudWatch's functions are upper
    /// case), which catches a typo before a deployment does.
    fn expression(
        &mut self,
        at: &str,
        expression: &str,
        metrics: Option<&std::collections::BTreeMap<String, crate::spec::MetricStatSpec>>,
    ) -> Option<MetricSource> {
        let before = self.problems.len();
        if expression.trim().is_empty() || expression.len() > MAX_EXPRESSION_BYTES {
            self.problem(
                &format!("{at}.expression"),
                format!("expected 1..={MAX_EXPRESSION_BYTES} bytes of metric math"),
            );
        }
        let Some(metrics) = metrics.filter(|m| !m.is_empty()) else {
            self.problem(
                &format!("{at}.metrics"),
                "expected the metrics the expression names".to_owned(),
            );
            return None;
        };
        if metrics.len() > MAX_EXPRESSION_METRICS {
            self.problem(
                &format!("{at}.metrics"),
                format!(
                    "expected at most {MAX_EXPRESSION_METRICS} metrics, got {}",
                    metrics.len()
                ),
            );
            return None;
        }
        let mut stats = Vec::new();
        for (id, metric) in metrics {
            let here = format!("{at}.metrics.{id}");
            if !valid_id(id) {
                self.problem(
                    &here,
                    format!("expected a name of a lowercase letter, then letters, digits or _ (at most 255), other than {EXPRESSION_ID}"),
                );
                continue;
            }
            if let Some(stat) = self.metric_stat(
                &here,
                &metric.namespace,
                &metric.metric,
                &metric.stat,
                &metric.dimensions,
            ) {
                stats.push((id.clone(), stat));
            }
        }
        for name in names_used(expression) {
            if !metrics.contains_key(name) {
                self.problem(
                    &format!("{at}.expression"),
                    format!("names {name}, which is not one of metrics"),
                );
            }
        }
        (self.problems.len() == before).then(|| MetricSource::Expression {
            expression: expression.to_owned(),
            metrics: stats,
        })
    }
}

/// Longest metric math expression, as CloudWatch's `Expression`.
pub const MAX_EXPRESSION_BYTES: usize = 2048;
/// Most metrics one expression combines.
pub const MAX_EXPRESSION_METRICS: usize = 10;
/// Largest `failure_limit`, `consecutive_breaches` and `min_datapoints`.
const MAX_TALLY: u32 = 100_000;

/// A CloudWatch query `Id`: a lowercase letter first, then letters, digits
/// and `_`; not the ID of the expression's own result.
fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    id.len() <= 255
        && id != EXPRESSION_ID
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The names an expression uses that could be query IDs: words starting
/// with a lowercase letter, outside quoted strings.
fn names_used(expression: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut quote = None;
    let mut start = None;
    for (i, c) in expression.char_indices() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        let word = c.is_ascii_alphanumeric() || c == '_';
        match (start, word) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                names.push(&expression[s..i]);
                start = None;
            }
            _ => {}
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
        }
    }
    if let Some(s) = start {
        names.push(&expression[s..]);
    }
    names.retain(|w| w.starts_with(|c: char| c.is_ascii_lowercase()));
    names
}

#[cfg(test)]
#[path = "bake_tests.rs"]
mod tests;

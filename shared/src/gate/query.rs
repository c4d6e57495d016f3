//! What a metric gate reads for one deployment: its queries, with the
//! placeholders (`{green_target_group}`, `{load_balancer}`) filled in from
//! what discovery found, and blue's for a gate with a baseline.

use crate::cloud::{MetricQuery, MetricSource, MetricStat};
use crate::discovery::Deployment;
use crate::plan::{BlueWindow, Breach, GREEN_TARGET_GROUP, LOAD_BALANCER, MetricGate};

/// What one look of a metric gate reads: green's value, and blue's for a
/// relative threshold (or why blue's cannot be read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateQuery {
    /// Green's value: the latest datapoint.
    pub green: MetricQuery,
    /// Blue's value, for a gate with a baseline.
    pub blue: Option<Result<BaselineRead, String>>,
}

/// How blue's values are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineRead {
    /// The query, on blue's target group: its period the whole window
    /// before the deployment, or the gate's own.
    pub query: MetricQuery,
    /// Over which time.
    pub span: BlueSpan,
}

/// The time blue's values are read over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlueSpan {
    /// A window that ends when the deployment began (Unix epoch
    /// milliseconds).
    Before {
        /// The window's start.
        from_ms: u64,
        /// The window's end: when the deployment began.
        to_ms: u64,
    },
    /// The same recent time as green's, while both serve traffic: this
    /// long back from each look (Unix epoch milliseconds).
    Concurrent {
        /// How far back a look reads.
        window_ms: u64,
    },
}

/// A metric gate's queries for this deployment, placeholders filled in.
pub fn metric_query(
    gate: &MetricGate,
    deployment: Option<&Deployment>,
) -> Result<GateQuery, String> {
    let green = MetricQuery {
        source: source(gate, deployment, None)?,
        period_s: gate.period_s,
    };
    let blue = gate.baseline.map(|baseline| {
        let (Some(found), Some(blue_group)) = (
            deployment,
            deployment.and_then(Deployment::blue_target_group_dimension),
        ) else {
            return Err("blue's target group is not known".to_owned());
        };
        let window_ms = u64::from(baseline.window_s) * 1000;
        // The statistical rule, and a comparison while both serve, read
        // blue period by period as green; a ratio or an increase against
        // the window before reads one value, the statistic over it all.
        let (span, period_s) = match (baseline.when, gate.breach) {
            (BlueWindow::Concurrent, _) => (BlueSpan::Concurrent { window_ms }, gate.period_s),
            (BlueWindow::BeforeDeployment, breach) => {
                let to_ms = found
                    .created_ms
                    .ok_or_else(|| "the deployment's start is not known".to_owned())?;
                let span = BlueSpan::Before {
                    from_ms: to_ms.saturating_sub(window_ms),
                    to_ms,
                };
                match breach {
                    Breach::MannWhitney { .. } => (span, gate.period_s),
                    _ => (span, baseline.window_s),
                }
            }
        };
        Ok(BaselineRead {
            query: MetricQuery {
                source: source(gate, deployment, Some(&blue_group))?,
                period_s,
            },
            span,
        })
    });
    Ok(GateQuery { green, blue })
}

/// The gate's source with its placeholders filled in; `{green_target_group}`
/// stands for `instead` when given (blue's, for a baseline).
fn source(
    gate: &MetricGate,
    deployment: Option<&Deployment>,
    instead: Option<&str>,
) -> Result<MetricSource, String> {
    let fill = |stat: &MetricStat| filled(gate, stat, deployment, instead);
    Ok(match &gate.source {
        MetricSource::Stat(stat) => MetricSource::Stat(fill(stat)?),
        MetricSource::Expression {
            expression,
            metrics,
        } => MetricSource::Expression {
            expression: expression.clone(),
            metrics: metrics
                .iter()
                .map(|(id, stat)| Ok((id.clone(), fill(stat)?)))
                .collect::<Result<_, String>>()?,
        },
    })
}

/// `stat` with its dimensions' placeholders filled in from `deployment`.
fn filled(
    gate: &MetricGate,
    stat: &MetricStat,
    deployment: Option<&Deployment>,
    instead: Option<&str>,
) -> Result<MetricStat, String> {
    let mut dimensions = Vec::new();
    for (name, value) in &stat.dimensions {
        let mut value = value.clone();
        if value.contains(GREEN_TARGET_GROUP) {
            let tg = deployment
                .map(|found| instead.map_or_else(|| found.target_group_dimension(), str::to_owned))
                .ok_or_else(|| {
                    format!(
                        "metric {}: {GREEN_TARGET_GROUP} needs the deployment's green target group",
                        gate.name
                    )
                })?;
            value = value.replace(GREEN_TARGET_GROUP, &tg);
        }
        if value.contains(LOAD_BALANCER) {
            let lb = deployment.and_then(Deployment::load_balancer_dimension).ok_or_else(|| {
                format!("metric {}: {LOAD_BALANCER} needs the deployment's load balancer (no listener was discovered: set dimensions explicitly)", gate.name)
            })?;
            value = value.replace(LOAD_BALANCER, &lb);
        }
        dimensions.push((name.clone(), value));
    }
    Ok(MetricStat {
        dimensions,
        ..stat.clone()
    })
}

//! Gates: CloudWatch alarms that fail the hook when in ALARM, and the
//! AfterAllowTraffic bake, which watches alarms and metric thresholds for a
//! while and fails at the first breach.

use std::time::Duration;

use tokio::time::Instant;

use crate::assertion::AssertionResult;
use crate::attempts::{Backoff, Step, until_done};
use crate::check::{CheckResult, Outcome};
use crate::cloud::MetricReads;
use crate::discovery::Deployment;
use crate::plan::{Bake, Breach, GateTally, MetricGate};
use crate::stage::Stage;
use crate::time::millis;

/// The name alarm results carry in the verdict.
pub const ALARMS: &str = Stage::Alarms.name();
/// The name bake results carry in the verdict.
pub const BAKE: &str = Stage::Bake.name();

/// One look at the alarms: each must be readable and not in ALARM.
/// `fail_if_unreadable` decides whether an alarm that cannot be read fails.
pub async fn check_alarms<M: MetricReads>(
    cloud: &M,
    names: &[String],
    fail_if_unreadable: bool,
) -> CheckResult {
    let started = Instant::now();
    let (assertions, error) = look_at_alarms(cloud, names, fail_if_unreadable).await;
    finish(ALARMS, started, 1, assertions, error, None)
}

async fn look_at_alarms<M: MetricReads>(
    cloud: &M,
    names: &[String],
    fail_if_unreadable: bool,
) -> (Vec<AssertionResult>, Option<String>) {
    match cloud.alarms(names).await {
        Err(error) => {
            let message = error.to_string();
            if fail_if_unreadable {
                (Vec::new(), Some(message))
            } else {
                tracing::warn!(error = %message, "alarm states unreadable; going on (alarms.fail_if_unreadable is false)");
                (Vec::new(), None)
            }
        }
        Ok(states) => {
            let assertions = names
                .iter()
                .map(|name| {
                    let state = states.iter().find(|s| &s.name == name);
                    let (passed, actual) = match state {
                        None => (!fail_if_unreadable, "not found".to_owned()),
                        Some(s) if s.state == "ALARM" => (
                            false,
                            format!(
                                "ALARM: {}",
                                s.reason.as_deref().unwrap_or("no reason given")
                            ),
                        ),
                        Some(s) => (true, s.state.clone()),
                    };
                    AssertionResult {
                        passed,
                        expected: format!("alarm {name} not in ALARM"),
                        actual,
                    }
                })
                .collect();
            (assertions, None)
        }
    }
}

/// What a bake found: its result, and what the verdict should mention even
/// when it passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baked {
    /// The bake's result.
    pub result: CheckResult,
    /// E.g. a metric gate that saw no datapoint in the whole bake.
    pub warnings: Vec<String>,
}

/// Why a bake would watch nothing, if it would: no metric gate and no alarm
/// (the spec names none, and the deployment group's alarm configuration is
/// disabled or empty). Such a bake only waits, and would pass.
pub fn nothing_to_watch(
    plan: &Bake,
    alarms: &[String],
    deployment: Option<&Deployment>,
) -> Option<String> {
    if !plan.metrics.is_empty() || !alarms.is_empty() {
        return None;
    }
    let group = match deployment {
        Some(found) if !found.alarms.enabled => format!(
            "the alarm configuration of deployment group {} is disabled",
            found.group
        ),
        Some(found) => format!(
            "the alarm configuration of deployment group {} lists no alarms",
            found.group
        ),
        None => "no deployment group alarms".to_owned(),
    };
    Some(format!(
        "nothing to watch: {group}, and the spec has no alarms.names or bake.metrics: enable the group's alarm configuration, or add alarms.names or bake.metrics"
    ))
}

/// Watches `alarms` and `metrics` for the bake's duration, failing at the
/// first breach or unreadable metric (unless `fail_if_unreadable` is off).
/// The whole bake must fit before `stop_at`, or it fails at once: a bake cut
/// short proves less than it promises. A metric gate that saw no datapoint
/// in the whole bake fails when it requires data, and is a warning otherwise.
pub async fn bake<M: MetricReads>(
    cloud: &M,
    plan: &Bake,
    alarms: &[String],
    fail_if_unreadable: bool,
    metrics: &[(MetricGate, GateQuery)],
    stop_at: Instant,
) -> Baked {
    let started = Instant::now();
    let left = stop_at.saturating_duration_since(started);
    if plan.duration > left {
        let result = finish(
            BAKE,
            started,
            0,
            Vec::new(),
            None,
            Some(format!(
                "the bake ({} ms) does not fit in the {} ms left before the hook must report: raise the function's timeout or shorten bake.duration_ms",
                plan.duration.as_millis(),
                left.as_millis()
            )),
        );
        return Baked {
            result,
            warnings: Vec::new(),
        };
    }
    let end = started + plan.duration;
    // What each metric gate saw so far.
    let mut tallies = vec![GateTally::default(); metrics.len()];
    until_done(end, Backoff::constant(plan.interval), async |looks| {
        let look = look(
            cloud,
            alarms,
            fail_if_unreadable,
            metrics,
            stop_at,
            &mut tallies,
        )
        .await;
        if let Some(reason) = look.failure(started.elapsed(), plan.duration) {
            return Step::Done(Baked {
                result: finish(
                    BAKE,
                    started,
                    looks,
                    look.assertions,
                    look.error,
                    Some(reason),
                ),
                warnings: Vec::new(),
            });
        }
        if Instant::now() >= end {
            return Step::Done(without_data(
                plan,
                metrics,
                &tallies,
                looks,
                started,
                look.assertions,
            ));
        }
        Step::Again
    })
    .await
}

/// What one look of a bake saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Look {
    /// Each alarm's and metric gate's assertion.
    pub assertions: Vec<AssertionResult>,
    /// Why the alarms could not be read, if they could not.
    pub error: Option<String>,
    /// Whether a metric could not be read (and that fails).
    pub unreadable: bool,
}

impl Look {
    /// Why this look ends the bake failed, `elapsed` into a bake of
    /// `duration`, if it does.
    pub fn failure(&self, elapsed: Duration, duration: Duration) -> Option<String> {
        let failed = self.error.is_some() || self.assertions.iter().any(|a| !a.passed);
        failed.then(|| {
            let what = if self.error.is_some() || self.unreadable {
                "could not read CloudWatch"
            } else {
                "breached"
            };
            format!(
                "{what} after {} ms of a {} ms bake",
                millis(elapsed),
                duration.as_millis()
            )
        })
    }
}

/// One look at `alarms` and `metrics`, each read ending by `stop_at`;
/// `tallies` counts what each metric gate saw, look after look. A gate
/// fails the look when its breaches go beyond its tolerance.
pub async fn look<M: MetricReads>(
    cloud: &M,
    alarms: &[String],
    fail_if_unreadable: bool,
    metrics: &[(MetricGate, GateQuery)],
    stop_at: Instant,
    tallies: &mut [GateTally],
) -> Look {
    let (mut assertions, error) = if alarms.is_empty() {
        (Vec::new(), None)
    } else {
        tokio::time::timeout_at(stop_at, look_at_alarms(cloud, alarms, fail_if_unreadable))
            .await
            .unwrap_or_else(|_| {
                (
                    Vec::new(),
                    Some("CloudWatch did not answer in time".to_owned()),
                )
            })
    };
    let mut unreadable = false;
    for ((gate, query), tally) in metrics.iter().zip(tallies.iter_mut()) {
        let expected = expected(gate);
        let read = match (gate.breach, &query.blue) {
            (Breach::MannWhitney { alpha, min_samples }, Some(blue)) => {
                let test = samples::Test { alpha, min_samples };
                samples::compare(cloud, gate, query, blue.as_ref(), test, stop_at).await
            }
            _ => read_one(cloud, gate, query, stop_at).await,
        };
        match read {
            Ok((data, judged)) => {
                tally.count(data, judged.breached);
                assertions.push(AssertionResult {
                    passed: !gate.tolerance.exceeded_by(tally),
                    expected,
                    // With a tolerance, what it has tolerated so far.
                    actual: match (tally.breaches, gate.tolerance.describe()) {
                        (0, _) | (_, None) => judged.shown,
                        (n, Some(_)) => {
                            format!(
                                "{} ({n} breaches so far, {} in a row)",
                                judged.shown, tally.run
                            )
                        }
                    },
                });
            }
            // The metric's own assertion, not the alarms': which metric
            // could not be read, and why.
            Err(e) if fail_if_unreadable => {
                unreadable = true;
                assertions.push(AssertionResult {
                    passed: false,
                    expected,
                    actual: format!("unreadable: {e}"),
                });
            }
            Err(e) => {
                tracing::warn!(metric = %gate.name, error = %e, "metric unreadable; going on (alarms.fail_if_unreadable is false)")
            }
        }
    }
    Look {
        assertions,
        error,
        unreadable,
    }
}

/// One look at a gate on one value: green's latest, and blue's over its
/// window for a relative threshold. Whether green had a datapoint, and the
/// judgement.
async fn read_one<M: MetricReads>(
    cloud: &M,
    gate: &MetricGate,
    query: &GateQuery,
    stop_at: Instant,
) -> Result<(bool, Judged), crate::cloud::AwsError> {
    let window = Duration::from_secs(u64::from(gate.period_s) * 2);
    let green = within(stop_at, cloud.latest(&query.green, window)).await?;
    let blue = match &query.blue {
        None => None,
        Some(Err(why)) => Some(Err(why.clone())),
        Some(Ok(blue)) => {
            let read = match blue.span {
                BlueSpan::Before { from_ms, to_ms } => {
                    within(stop_at, cloud.between(&blue.query, from_ms, to_ms)).await?
                }
                // Blue's latest, as green's.
                BlueSpan::Concurrent { .. } => {
                    within(stop_at, cloud.latest(&blue.query, window)).await?
                }
            };
            Some(Ok(read))
        }
    };
    Ok((green.is_some(), judge(gate, green, blue)))
}

/// A read that ends by `stop_at`, or says it did not.
async fn within<T>(
    stop_at: Instant,
    read: impl Future<Output = Result<T, crate::cloud::AwsError>>,
) -> Result<T, crate::cloud::AwsError> {
    tokio::time::timeout_at(stop_at, read)
        .await
        .unwrap_or_else(|_| {
            Err(crate::cloud::AwsError::new(
                "cloudwatch:GetMetricData",
                "no answer in time",
            ))
        })
}

/// One look's judgement of a gate.
struct Judged {
    breached: bool,
    /// What was seen, for the verdict line.
    shown: String,
}

/// Green's `value` against the gate's threshold; for a relative one,
/// against blue's (`blue`: its value, or why there is none).
fn judge(
    gate: &MetricGate,
    value: Option<f64>,
    blue: Option<Result<Option<f64>, String>>,
) -> Judged {
    let Some(green) = value else {
        // No datapoint: no breach of a ceiling (a 5xx count has none
        // without errors), but a floor is not proven (no traffic).
        return Judged {
            breached: matches!(gate.breach, Breach::Below(_)),
            shown: "no data".to_owned(),
        };
    };
    let Some(blue) = blue else {
        return Judged {
            breached: gate.breach.breached_by(green, None).unwrap_or(true),
            shown: green.to_string(),
        };
    };
    let inconclusive = |why: String| Judged {
        breached: !gate.baseline.is_some_and(|b| b.inconclusive_passes),
        shown: format!("green {green}, blue: {why} (inconclusive)"),
    };
    match blue {
        Err(why) => inconclusive(why),
        Ok(None) => inconclusive("no datapoint in its window before the deployment".to_owned()),
        Ok(Some(blue)) => {
            let ratio = if blue == 0.0 {
                "n/a".to_owned()
            } else {
                format!("{:.2}", green / blue)
            };
            Judged {
                breached: gate.breach.breached_by(green, Some(blue)).unwrap_or(true),
                shown: format!("green {green}, blue {blue}, ratio {ratio}"),
            }
        }
    }
}

/// What a gate's assertion expects: `metric error_rate (100 * e / r) <= 1`,
/// with its tolerance when it has one.
fn expected(gate: &MetricGate) -> String {
    let mut expected = format!("metric {} {} {}", gate.name, gate.source, gate.breach);
    if let Some(tolerance) = gate.tolerance.describe() {
        expected.push_str(&format!(" ({tolerance})"));
    }
    expected
}

/// The end of a whole bake: a gate that saw fewer datapoints than it needs
/// fails, and one that saw none and needs none is named in the warnings.
pub fn without_data(
    plan: &Bake,
    metrics: &[(MetricGate, GateQuery)],
    tallies: &[GateTally],
    looks: u32,
    started: Instant,
    mut assertions: Vec<AssertionResult>,
) -> Baked {
    let mut warnings = Vec::new();
    let mut reasons = Vec::new();
    for ((gate, _), tally) in metrics.iter().zip(tallies) {
        let saw = tally.datapoints;
        if saw >= gate.min_datapoints.max(1) {
            continue;
        }
        let over = plan.duration.as_millis();
        let nothing = match saw {
            0 => format!(
                "metric {} saw no datapoint in {looks} looks over {over} ms (a typo in its name or dimensions?)",
                gate.name
            ),
            _ => format!(
                "metric {} saw a datapoint in only {saw} of {looks} looks over {over} ms (min_datapoints {})",
                gate.name, gate.min_datapoints
            ),
        };
        if gate.min_datapoints > 0 {
            assertions.push(AssertionResult {
                passed: false,
                expected: match gate.min_datapoints {
                    1 => format!("metric {}: a datapoint (require_data)", gate.name),
                    n => format!(
                        "metric {}: a datapoint in {n} looks (min_datapoints)",
                        gate.name
                    ),
                },
                actual: match saw {
                    0 => format!("none in {looks} looks"),
                    _ => format!("{saw} in {looks} looks"),
                },
            });
            reasons.push(nothing);
        } else {
            warnings.push(nothing);
        }
    }
    let reason = (!reasons.is_empty()).then(|| reasons.join("; "));
    Baked {
        result: finish(BAKE, started, looks, assertions, None, reason),
        warnings,
    }
}

/// A gate's result from its looks.
pub fn finish(
    name: &str,
    started: Instant,
    looks: u32,
    assertions: Vec<AssertionResult>,
    error: Option<String>,
    reason: Option<String>,
) -> CheckResult {
    let passed = error.is_none() && reason.is_none() && assertions.iter().all(|a| a.passed);
    let reason = match (passed, reason) {
        (true, _) => None,
        (false, Some(reason)) => Some(reason),
        (false, None) if error.is_some() => Some("could not read the alarms".to_owned()),
        (false, None) => {
            let failing: Vec<&str> = assertions
                .iter()
                .filter(|a| !a.passed)
                .map(|a| a.expected.as_str())
                .collect();
            Some(format!("{} failed", failing.join(", ")))
        }
    };
    CheckResult {
        name: name.to_owned(),
        outcome: if passed { Outcome::Pass } else { Outcome::Fail },
        reason,
        attempts: looks,
        duration_ms: millis(started.elapsed()),
        assertions,
        error,
        flow: None,
    }
}

mod query;
mod samples;

pub use query::{BaselineRead, BlueSpan, GateQuery, metric_query};

#[cfg(test)]
#[path = "gate_tests.rs"]
mod tests;

#[cfg(test)]
mod baseline_tests;

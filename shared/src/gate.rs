//! Gates: CloudWatch alarms that fail the hook when in ALARM, and the
//! AfterAllowTraffic bake, which watches alarms and metric thresholds for a
//! while and fails at the first breach.

use std::time::Duration;

use tokio::time::Instant;

use crate::assertion::AssertionResult;
use crate::attempts::{Backoff, Step, until_done};
use crate::check::{CheckResult, Outcome};
use crate::cloud::{MetricQuery, MetricReads};
use crate::discovery::Deployment;
use crate::plan::{Bake, GREEN_TARGET_GROUP, LOAD_BALANCER, MetricGate};
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

/// A metric gate's query for this deployment, placeholders filled in.
pub fn metric_query(
    gate: &MetricGate,
    deployment: Option<&Deployment>,
) -> Result<MetricQuery, String> {
    let mut dimensions = Vec::new();
    for (name, value) in &gate.dimensions {
        let mut value = value.clone();
        if value.contains(GREEN_TARGET_GROUP) {
            let tg = deployment
                .map(Deployment::target_group_dimension)
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
    Ok(MetricQuery {
        namespace: gate.namespace.clone(),
        metric: gate.metric.clone(),
        stat: gate.stat.clone(),
        period_s: gate.period_s,
        dimensions,
    })
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
    metrics: &[(MetricGate, MetricQuery)],
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
    // Whether each metric gate saw a datapoint in any look.
    let mut seen = vec![false; metrics.len()];
    until_done(end, Backoff::constant(plan.interval), async |looks| {
        let look = look(
            cloud,
            alarms,
            fail_if_unreadable,
            metrics,
            stop_at,
            &mut seen,
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
                &seen,
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
/// `seen` notes which metric gates saw a datapoint.
pub async fn look<M: MetricReads>(
    cloud: &M,
    alarms: &[String],
    fail_if_unreadable: bool,
    metrics: &[(MetricGate, MetricQuery)],
    stop_at: Instant,
    seen: &mut [bool],
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
    for ((gate, query), seen) in metrics.iter().zip(seen.iter_mut()) {
        let window = Duration::from_secs(u64::from(gate.period_s) * 2);
        let read = tokio::time::timeout_at(stop_at, cloud.latest(query, window))
            .await
            .unwrap_or_else(|_| {
                Err(crate::cloud::AwsError::new(
                    "cloudwatch:GetMetricData",
                    "no answer in time",
                ))
            });
        let expected = format!("metric {} {} {}", gate.name, gate.stat, gate.breach);
        match read {
            // No datapoint: no breach of a ceiling (a 5xx count has none
            // without errors), but a floor is not proven (no traffic).
            Ok(value) => {
                *seen |= value.is_some();
                assertions.push(AssertionResult {
                    passed: match value {
                        Some(v) => !gate.breach.breached_by(v),
                        None => matches!(gate.breach, crate::plan::Breach::Above(_)),
                    },
                    expected,
                    actual: value.map_or_else(|| "no data".to_owned(), |v| v.to_string()),
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

/// The end of a whole bake: a gate that saw no datapoint in any look fails
/// if it requires data, and is named in the warnings otherwise.
pub fn without_data(
    plan: &Bake,
    metrics: &[(MetricGate, MetricQuery)],
    seen: &[bool],
    looks: u32,
    started: Instant,
    mut assertions: Vec<AssertionResult>,
) -> Baked {
    let mut warnings = Vec::new();
    let mut reasons = Vec::new();
    for ((gate, _), _) in metrics.iter().zip(seen).filter(|(_, seen)| !**seen) {
        let nothing = format!(
            "metric {} saw no datapoint in {looks} looks over {} ms (a typo in its name or dimensions?)",
            gate.name,
            plan.duration.as_millis()
        );
        if gate.require_data {
            assertions.push(AssertionResult {
                passed: false,
                expected: format!("metric {}: a datapoint (require_data)", gate.name),
                actual: format!("none in {looks} looks"),
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::fake::FakeCloud;
    use crate::plan::Breach;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn gate(metric: &str, breach: Breach) -> MetricGate {
        MetricGate {
            name: metric.to_owned(),
            namespace: "AWS/ApplicationELB".to_owned(),
            metric: metric.to_owned(),
            stat: "Sum".to_owned(),
            period_s: 60,
            dimensions: vec![
                ("TargetGroup".to_owned(), GREEN_TARGET_GROUP.to_owned()),
                ("LoadBalancer".to_owned(), LOAD_BALANCER.to_owned()),
            ],
            breach,
            require_data: false,
        }
    }

    fn bake_plan(duration_ms: u64) -> Bake {
        Bake {
            duration: Duration::from_millis(duration_ms),
            interval: Duration::from_millis(1000),
            metrics: Vec::new(),
        }
    }

    #[tokio::test]
    async fn an_alarm_in_alarm_fails_naming_it() {
        let cloud = FakeCloud::ready();
        cloud.set_alarm("green-5xx", "ALARM");
        cloud.set_alarm("green-latency", "OK");
        let result = check_alarms(&cloud, &names(&["green-latency", "green-5xx"]), true).await;
        assert!(!result.passed());
        assert_eq!(
            result.reason.as_deref(),
            Some("alarm green-5xx not in ALARM failed")
        );
        assert!(
            result
                .summary()
                .contains("expected alarm green-5xx not in ALARM, got ALARM: Threshold Crossed"),
            "{}",
            result.summary()
        );
    }

    #[tokio::test]
    async fn a_missing_alarm_fails_only_when_unreadable_alarms_fail() {
        let cloud = FakeCloud::ready();
        assert!(!check_alarms(&cloud, &names(&["nope"]), true).await.passed());
        assert!(
            check_alarms(&cloud, &names(&["nope"]), false)
                .await
                .passed()
        );
    }

    #[tokio::test]
    async fn alarms_all_ok_pass() {
        let cloud = FakeCloud::ready();
        cloud.set_alarm("green-5xx", "OK");
        assert!(
            check_alarms(&cloud, &names(&["green-5xx"]), true)
                .await
                .passed()
        );
    }

    #[test]
    fn metric_queries_fill_in_the_deployment() {
        let cloud = FakeCloud::ready();
        let deployment = cloud.deployment();
        let query = metric_query(
            &gate("HTTPCode_Target_5XX_Count", Breach::Above(5.0)),
            Some(&deployment),
        )
        .unwrap();
        assert_eq!(
            query.dimensions,
            vec![
                ("TargetGroup".to_owned(), "targetgroup/green/abc".to_owned()),
                ("LoadBalancer".to_owned(), "app/alb/123".to_owned())
            ]
        );
        assert!(metric_query(&gate("X", Breach::Above(1.0)), None).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_metric_breach_during_the_bake_fails_at_once_naming_metric_and_value() {
        // GIVEN a bake of 60 s and a 5xx count that breaches on the third look
        let cloud = FakeCloud::ready();
        cloud.set_metric(
            "HTTPCode_Target_5XX_Count",
            vec![Some(0.0), Some(1.0), Some(12.0)],
        );
        let gate = gate("HTTPCode_Target_5XX_Count", Breach::Above(5.0));
        let query = metric_query(&gate, Some(&cloud.deployment())).unwrap();
        let started = Instant::now();
        // WHEN it bakes
        let result = bake(
            &cloud,
            &bake_plan(60_000),
            &[],
            true,
            &[(gate, query)],
            started + Duration::from_secs(300),
        )
        .await
        .result;
        // THEN it fails at the third look, long before the 60 s are up
        assert!(!result.passed());
        assert_eq!(result.attempts, 3);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            result
                .summary()
                .contains("expected metric HTTPCode_Target_5XX_Count Sum <= 5, got 12"),
            "{}",
            result.summary()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_data_breaches_a_floor_but_not_a_ceiling() {
        let cloud = FakeCloud::ready();
        cloud.set_metric("RequestCount", vec![None]);
        let floor = gate("RequestCount", Breach::Below(1.0));
        let query = metric_query(&floor, Some(&cloud.deployment())).unwrap();
        let result = bake(
            &cloud,
            &bake_plan(2_000),
            &[],
            true,
            &[(floor, query.clone())],
            Instant::now() + Duration::from_secs(60),
        )
        .await
        .result;
        assert!(!result.passed());
        assert!(
            result.summary().contains("got no data"),
            "{}",
            result.summary()
        );
        let ceiling = gate("RequestCount", Breach::Above(100.0));
        let result = bake(
            &cloud,
            &bake_plan(2_000),
            &[],
            true,
            &[(ceiling, query)],
            Instant::now() + Duration::from_secs(60),
        )
        .await
        .result;
        assert!(result.passed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_bake_passes_after_its_duration() {
        let cloud = FakeCloud::ready();
        cloud.set_alarm("green-5xx", "OK");
        let gate = gate("TargetResponseTime", Breach::Above(0.5));
        let query = metric_query(&gate, Some(&cloud.deployment())).unwrap();
        let started = Instant::now();
        let result = bake(
            &cloud,
            &bake_plan(10_000),
            &names(&["green-5xx"]),
            true,
            &[(gate, query)],
            started + Duration::from_secs(60),
        )
        .await
        .result;
        assert!(result.passed(), "{result:?}");
        assert!(started.elapsed() >= Duration::from_secs(10));
        assert!(result.attempts >= 10);
    }

    #[tokio::test(start_paused = true)]
    async fn an_alarm_going_off_during_the_bake_fails() {
        let cloud = FakeCloud::ready();
        cloud.set_alarm("green-5xx", "OK");
        cloud.alarm_after("green-5xx", 2);
        let result = bake(
            &cloud,
            &bake_plan(30_000),
            &names(&["green-5xx"]),
            true,
            &[],
            Instant::now() + Duration::from_secs(60),
        )
        .await
        .result;
        assert!(!result.passed());
        assert_eq!(result.attempts, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_bake_that_cannot_fit_fails_before_starting() {
        let cloud = FakeCloud::ready();
        let result = bake(
            &cloud,
            &bake_plan(120_000),
            &[],
            true,
            &[],
            Instant::now() + Duration::from_secs(60),
        )
        .await
        .result;
        assert!(!result.passed());
        assert!(
            result
                .reason
                .as_deref()
                .unwrap_or_default()
                .starts_with("the bake (120000 ms) does not fit")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_unreadable_metric_fails_naming_the_metric_not_the_alarms() {
        // GIVEN a bake watching an alarm (OK) and a metric CloudWatch will not serve
        let cloud = FakeCloud::ready();
        cloud.set_alarm("green-5xx", "OK");
        cloud.fail("cloudwatch:GetMetricData");
        let gate = gate("HTTPCode_Target_5XX_Count", Breach::Above(5.0));
        let query = metric_query(&gate, Some(&cloud.deployment())).unwrap();
        // WHEN it bakes
        let result = bake(
            &cloud,
            &bake_plan(10_000),
            &names(&["green-5xx"]),
            true,
            &[(gate, query)],
            Instant::now() + Duration::from_secs(60),
        )
        .await
        .result;
        // THEN it fails at once, and the failing assertion is the metric's
        assert!(!result.passed());
        assert_eq!(result.attempts, 1);
        assert_eq!(
            result.expected(),
            "metric HTTPCode_Target_5XX_Count Sum <= 5"
        );
        assert_eq!(
            result.actual(),
            "unreadable: cloudwatch:GetMetricData failed: AccessDeniedException: not authorized"
        );
        assert!(
            result
                .reason
                .as_deref()
                .unwrap_or_default()
                .starts_with("could not read CloudWatch after"),
            "{result:?}"
        );
        // AND with unreadable metrics allowed, the bake goes on and passes
        let gate = self::gate("HTTPCode_Target_5XX_Count", Breach::Above(5.0));
        let query = metric_query(&gate, Some(&cloud.deployment())).unwrap();
        let result = bake(
            &cloud,
            &bake_plan(2_000),
            &names(&["green-5xx"]),
            false,
            &[(gate, query)],
            Instant::now() + Duration::from_secs(60),
        )
        .await
        .result;
        assert!(result.passed(), "{result:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_gate_that_saw_no_datapoint_is_a_warning_or_with_require_data_a_failure() {
        // GIVEN a metric with no datapoint at all during a 2 s bake
        let cloud = FakeCloud::ready();
        cloud.set_metric("HTTPCode_Target_5XX_Count", vec![None]);
        let mut ceiling = gate("HTTPCode_Target_5XX_Count", Breach::Above(5.0));
        ceiling.name = "green-5xx".to_owned();
        let query = metric_query(&ceiling, Some(&cloud.deployment())).unwrap();
        // WHEN it bakes without require_data
        let baked = bake(
            &cloud,
            &bake_plan(2_000),
            &[],
            true,
            &[(ceiling.clone(), query.clone())],
            Instant::now() + Duration::from_secs(60),
        )
        .await;
        // THEN it passes, with a warning naming the gate
        assert!(baked.result.passed(), "{baked:?}");
        assert_eq!(
            baked.warnings,
            vec![
                "metric green-5xx saw no datapoint in 3 looks over 2000 ms (a typo in its name or dimensions?)"
            ]
        );
        // AND with require_data it fails, saying the same
        ceiling.require_data = true;
        let baked = bake(
            &cloud,
            &bake_plan(2_000),
            &[],
            true,
            &[(ceiling, query)],
            Instant::now() + Duration::from_secs(60),
        )
        .await;
        assert!(!baked.result.passed());
        assert!(baked.warnings.is_empty());
        assert!(
            baked
                .result
                .summary()
                .contains("metric green-5xx saw no datapoint in 3 looks over 2000 ms"),
            "{}",
            baked.result.summary()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_gate_that_saw_data_once_gives_no_warning() {
        let cloud = FakeCloud::ready();
        cloud.set_metric("HTTPCode_Target_5XX_Count", vec![None, Some(0.0), None]);
        let mut gate = gate("HTTPCode_Target_5XX_Count", Breach::Above(5.0));
        gate.require_data = true;
        let query = metric_query(&gate, Some(&cloud.deployment())).unwrap();
        let baked = bake(
            &cloud,
            &bake_plan(3_000),
            &[],
            true,
            &[(gate, query)],
            Instant::now() + Duration::from_secs(60),
        )
        .await;
        assert!(baked.result.passed(), "{baked:?}");
        assert!(baked.warnings.is_empty());
    }

    #[test]
    fn a_bake_with_no_metric_and_no_alarm_watches_nothing() {
        // GIVEN a bake with no metrics, and no alarms to watch
        let mut deployment = FakeCloud::ready().deployment();
        deployment.alarms.enabled = false;
        // WHEN the runner asks
        let why = nothing_to_watch(&bake_plan(2_000), &[], Some(&deployment));
        // THEN it says what to fix
        assert_eq!(
            why.as_deref(),
            Some(
                "nothing to watch: the alarm configuration of deployment group group is disabled, and the spec has no alarms.names or bake.metrics: enable the group's alarm configuration, or add alarms.names or bake.metrics"
            )
        );
        deployment.alarms.enabled = true;
        deployment.alarms.names.clear();
        assert!(
            nothing_to_watch(&bake_plan(2_000), &[], Some(&deployment))
                .unwrap_or_default()
                .contains("lists no alarms")
        );
        assert_eq!(
            nothing_to_watch(&bake_plan(2_000), &names(&["a"]), Some(&deployment)),
            None
        );
    }
}

//! Gates: CloudWatch alarms that fail the hook when in ALARM, and the
//! AfterAllowTraffic bake, which watches alarms and metric thresholds for a
//! while and fails at the first breach.

use std::time::Duration;

use tokio::time::Instant;

use crate::assertion::AssertionResult;
use crate::check::{CheckResult, Outcome, millis};
use crate::cloud::{MetricQuery, MetricReads};
use crate::discovery::Deployment;
use crate::plan::{Bake, GREEN_TARGET_GROUP, LOAD_BALANCER, MetricGate};

/// The name alarm results carry in the verdict.
pub const ALARMS: &str = "alarms";
/// The name bake results carry in the verdict.
pub const BAKE: &str = "bake";

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

/// Watches `alarms` and `metrics` for the bake's duration, failing at the
/// first breach. The whole bake must fit before `stop_at`, or it fails at
/// once: a bake cut short proves less than it promises.
pub async fn bake<M: MetricReads>(
    cloud: &M,
    plan: &Bake,
    alarms: &[String],
    fail_if_unreadable: bool,
    metrics: &[(MetricGate, MetricQuery)],
    stop_at: Instant,
) -> CheckResult {
    let started = Instant::now();
    let left = stop_at.saturating_duration_since(started);
    if plan.duration > left {
        return finish(
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
    }
    let end = started + plan.duration;
    let mut looks = 0;
    loop {
        looks += 1;
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
        let mut error = error;
        for (gate, query) in metrics {
            let window = Duration::from_secs(u64::from(gate.period_s) * 2);
            let read = tokio::time::timeout_at(stop_at, cloud.latest(query, window))
                .await
                .unwrap_or_else(|_| {
                    Err(crate::cloud::AwsError::new(
                        "cloudwatch:GetMetricData",
                        "no answer in time",
                    ))
                });
            match read {
                // No datapoint: no breach of a ceiling (a 5xx count has none
                // without errors), but a floor is not proven (no traffic).
                Ok(value) => assertions.push(AssertionResult {
                    passed: match value {
                        Some(v) => !gate.breach.breached_by(v),
                        None => matches!(gate.breach, crate::plan::Breach::Above(_)),
                    },
                    expected: format!("metric {} {} {}", gate.name, gate.stat, gate.breach),
                    actual: value.map_or_else(|| "no data".to_owned(), |v| v.to_string()),
                }),
                Err(e) if fail_if_unreadable => error = Some(e.to_string()),
                Err(e) => {
                    tracing::warn!(error = %e, "metric unreadable; going on (alarms.fail_if_unreadable is false)")
                }
            }
        }
        let breached = error.is_some() || assertions.iter().any(|a| !a.passed);
        let now = Instant::now();
        if breached {
            let reason = format!(
                "breached after {} ms of a {} ms bake",
                millis(started.elapsed()),
                plan.duration.as_millis()
            );
            return finish(BAKE, started, looks, assertions, error, Some(reason));
        }
        if now >= end {
            return finish(BAKE, started, looks, assertions, None, None);
        }
        tokio::time::sleep(plan.interval.min(end - now)).await;
    }
}

fn finish(
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
        .await;
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
        .await;
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
        .await;
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
        .await;
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
        .await;
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
        .await;
        assert!(!result.passed());
        assert!(
            result
                .reason
                .as_deref()
                .unwrap_or_default()
                .starts_with("the bake (120000 ms) does not fit")
        );
    }
}

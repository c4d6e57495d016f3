//! The gates' tests: alarms, metric queries, and bakes on a paused clock.

use super::*;
use crate::cloud::fake::FakeCloud;
use crate::cloud::{MetricSource, MetricStat};
use crate::plan::{Breach, GREEN_TARGET_GROUP, LOAD_BALANCER, Tolerance};

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn stat(metric: &str) -> MetricStat {
    MetricStat {
        namespace: "AWS/ApplicationELB".to_owned(),
        metric: metric.to_owned(),
        stat: "Sum".to_owned(),
        dimensions: vec![
            ("TargetGroup".to_owned(), GREEN_TARGET_GROUP.to_owned()),
            ("LoadBalancer".to_owned(), LOAD_BALANCER.to_owned()),
        ],
    }
}

pub(super) fn gate(metric: &str, breach: Breach) -> MetricGate {
    MetricGate {
        name: metric.to_owned(),
        source: MetricSource::Stat(stat(metric)),
        period_s: 60,
        breach,
        tolerance: Tolerance::default(),
        min_datapoints: 0,
        baseline: None,
    }
}

fn bake_plan(duration_ms: u64) -> Bake {
    Bake {
        hook: crate::hook::Hook::AfterAllowTraffic,
        duration: Duration::from_millis(duration_ms),
        interval: Duration::from_millis(1000),
        metrics: Vec::new(),
    }
}

/// Bakes `gates` and `alarms` for `duration_ms` (looks 1 s apart), reading
/// CloudWatch until `stop_s` from now.
pub(super) async fn bake_for(
    cloud: &FakeCloud,
    duration_ms: u64,
    alarms: &[String],
    fail_if_unreadable: bool,
    gates: &[(MetricGate, GateQuery)],
    stop_s: u64,
) -> Baked {
    let stop_at = Instant::now() + Duration::from_secs(stop_s);
    bake(
        cloud,
        &bake_plan(duration_ms),
        alarms,
        fail_if_unreadable,
        gates,
        stop_at,
    )
    .await
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
    let MetricSource::Stat(read) = query.green.source else {
        panic!("a statistic: {query:?}")
    };
    assert_eq!(
        read.dimensions,
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
    let result = bake_for(&cloud, 60_000, &[], true, &[(gate, query)], 300)
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
    let result = bake_for(&cloud, 2_000, &[], true, &[(floor, query.clone())], 60)
        .await
        .result;
    assert!(!result.passed());
    assert!(
        result.summary().contains("got no data"),
        "{}",
        result.summary()
    );
    let ceiling = gate("RequestCount", Breach::Above(100.0));
    let result = bake_for(&cloud, 2_000, &[], true, &[(ceiling, query)], 60)
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
    let result = bake_for(
        &cloud,
        10_000,
        &names(&["green-5xx"]),
        true,
        &[(gate, query)],
        60,
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
    let result = bake_for(&cloud, 30_000, &names(&["green-5xx"]), true, &[], 60)
        .await
        .result;
    assert!(!result.passed());
    assert_eq!(result.attempts, 3);
}

#[tokio::test(start_paused = true)]
async fn a_bake_that_cannot_fit_fails_before_starting() {
    let cloud = FakeCloud::ready();
    let result = bake_for(&cloud, 120_000, &[], true, &[], 60).await.result;
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
    let result = bake_for(
        &cloud,
        10_000,
        &names(&["green-5xx"]),
        true,
        &[(gate, query)],
        60,
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
    let result = bake_for(
        &cloud,
        2_000,
        &names(&["green-5xx"]),
        false,
        &[(gate, query)],
        60,
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
    let baked = bake_for(
        &cloud,
        2_000,
        &[],
        true,
        &[(ceiling.clone(), query.clone())],
        60,
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
    ceiling.min_datapoints = 1;
    let baked = bake_for(&cloud, 2_000, &[], true, &[(ceiling, query)], 60).await;
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
    gate.min_datapoints = 1;
    let query = metric_query(&gate, Some(&cloud.deployment())).unwrap();
    let baked = bake_for(&cloud, 3_000, &[], true, &[(gate, query)], 60).await;
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

/// Bakes `gate` alone for `duration_ms`, looks 1 s apart, with time to
/// spare.
pub(super) async fn bake_gate(cloud: &FakeCloud, gate: MetricGate, duration_ms: u64) -> Baked {
    let query = metric_query(&gate, Some(&cloud.deployment())).unwrap();
    bake_for(cloud, duration_ms, &[], true, &[(gate, query)], 600).await
}

/// Bakes `gate` over `values` (one a look, 1 s apart, the last repeating)
/// for `looks` seconds.
async fn bake_series(mut gate: MetricGate, values: Vec<Option<f64>>, looks: u64) -> Baked {
    let cloud = FakeCloud::ready();
    cloud.set_metric("TargetResponseTime", values);
    gate.name = "latency".to_owned();
    bake_gate(&cloud, gate, looks * 1000).await
}

fn tolerating(failure_limit: Option<u32>, consecutive: Option<u32>) -> MetricGate {
    MetricGate {
        tolerance: Tolerance {
            failure_limit,
            consecutive,
        },
        ..gate("TargetResponseTime", Breach::Above(0.5))
    }
}

#[tokio::test(start_paused = true)]
async fn one_spike_passes_under_a_failure_limit_and_fails_one_breach_in_a_row() {
    // GIVEN a noisy latency series with one spike on the third look
    let noisy = || {
        vec![
            Some(0.2),
            Some(0.3),
            Some(2.0),
            Some(0.2),
            Some(0.3),
            Some(0.2),
        ]
    };
    // WHEN it bakes with failure_limit 2, THEN it passes, saying it saw a breach
    let baked = bake_series(tolerating(Some(2), None), noisy(), 5).await;
    assert!(baked.result.passed(), "{baked:?}");
    assert!(
        baked.result.summary().contains(
            "expected metric latency Sum <= 0.5 (failure_limit 2), got 0.2 (1 breaches so far, 0 in a row)"
        ),
        "{}",
        baked.result.summary()
    );
    // AND with consecutive_breaches 1 it fails at the spike
    let baked = bake_series(tolerating(None, Some(1)), noisy(), 5).await;
    assert!(!baked.result.passed());
    assert_eq!(baked.result.attempts, 3);
    assert!(
        baked
            .result
            .summary()
            .contains("(consecutive_breaches 1), got 2 (1 breaches so far, 1 in a row)"),
        "{}",
        baked.result.summary()
    );
    // AND with no tolerance (the default) it fails at the spike too
    let baked = bake_series(tolerating(Some(0), None), noisy(), 5).await;
    assert!(!baked.result.passed());
    assert_eq!(baked.result.attempts, 3);
}

#[tokio::test(start_paused = true)]
async fn breaches_fail_when_they_come_in_a_run_or_beyond_the_limit() {
    let apart = || vec![Some(2.0), Some(0.1), Some(2.0), Some(0.1), Some(0.1)];
    let together = || vec![Some(0.1), Some(2.0), Some(2.0), Some(0.1), Some(0.1)];
    // Two apart pass consecutive_breaches 2; two together fail it at the second.
    assert!(
        bake_series(tolerating(None, Some(2)), apart(), 4)
            .await
            .result
            .passed()
    );
    let baked = bake_series(tolerating(None, Some(2)), together(), 4).await;
    assert!(!baked.result.passed());
    assert_eq!(baked.result.attempts, 3);
    // A failure_limit of 1 fails at the second breach, wherever it comes.
    let baked = bake_series(tolerating(Some(1), None), apart(), 4).await;
    assert!(!baked.result.passed());
    assert_eq!(baked.result.attempts, 3);
    // Both limits: whichever trips first.
    let baked = bake_series(tolerating(Some(5), Some(2)), together(), 4).await;
    assert_eq!(baked.result.attempts, 3);
}

#[tokio::test(start_paused = true)]
async fn too_few_datapoints_fail_under_min_datapoints() {
    // GIVEN a gate that needs 3 looks with data, and data in 2 of 5
    let mut gate = gate("TargetResponseTime", Breach::Above(0.5));
    gate.min_datapoints = 3;
    let sparse = vec![Some(0.1), None, Some(0.1), None, None];
    // WHEN it bakes, THEN it fails at the end, saying how many it saw
    let baked = bake_series(gate.clone(), sparse.clone(), 4).await;
    assert!(!baked.result.passed());
    let summary = baked.result.summary();
    assert!(
        summary.contains(
            "expected metric latency: a datapoint in 3 looks (min_datapoints), got 2 in 5 looks"
        ),
        "{summary}"
    );
    assert!(
        summary.contains(
            "metric latency saw a datapoint in only 2 of 5 looks over 4000 ms (min_datapoints 3)"
        ),
        "{summary}"
    );
    // AND with 2 it passes, without a warning
    gate.min_datapoints = 2;
    let baked = bake_series(gate, sparse, 4).await;
    assert!(baked.result.passed(), "{baked:?}");
    assert!(baked.warnings.is_empty());
}

#[test]
fn an_expression_query_fills_in_each_metric_and_keeps_the_expression() {
    let cloud = FakeCloud::ready();
    let rate = MetricGate {
        name: "error_rate".to_owned(),
        source: MetricSource::Expression {
            expression: "100 * e / r".to_owned(),
            metrics: vec![
                ("e".to_owned(), stat("HTTPCode_Target_5XX_Count")),
                ("r".to_owned(), stat("RequestCount")),
            ],
        },
        ..gate("unused", Breach::Above(1.0))
    };
    let query = metric_query(&rate, Some(&cloud.deployment())).unwrap();
    let MetricSource::Expression {
        expression,
        metrics,
    } = &query.green.source
    else {
        panic!("an expression: {query:?}")
    };
    assert_eq!(expression, "100 * e / r");
    assert_eq!(metrics.len(), 2);
    for (_, read) in metrics {
        assert_eq!(
            read.dimensions[0],
            ("TargetGroup".to_owned(), "targetgroup/green/abc".to_owned())
        );
    }
    assert_eq!(expected(&rate), "metric error_rate (100 * e / r) <= 1");
    // AND without a deployment, the placeholders cannot be filled
    assert!(metric_query(&rate, None).is_err());
}

#[tokio::test(start_paused = true)]
async fn an_expression_gate_breaches_on_its_value() {
    let cloud = FakeCloud::ready();
    cloud.set_metric("100 * e / r", vec![Some(5.0)]);
    let rate = MetricGate {
        name: "error_rate".to_owned(),
        source: MetricSource::Expression {
            expression: "100 * e / r".to_owned(),
            metrics: vec![("e".to_owned(), stat("HTTPCode_Target_5XX_Count"))],
        },
        ..gate("unused", Breach::Above(1.0))
    };
    let baked = bake_gate(&cloud, rate, 3_000).await;
    assert!(
        baked
            .result
            .summary()
            .contains("expected metric error_rate (100 * e / r) <= 1, got 5"),
        "{}",
        baked.result.summary()
    );
}

//! The gates' tests against blue: a ratio or an increase over blue's window
//! before the deployment, the Mann–Whitney rule, and side by side.

use super::tests::{bake_for, bake_gate, gate};
use super::{Baked, BlueSpan, metric_query};
use crate::cloud::MetricSource;
use crate::cloud::fake::FakeCloud;
use crate::plan::{Breach, MetricGate};

/// A p99 latency gate: green at most `ratio` × blue's p99 in the hour
/// before the deployment.
fn against_blue(ratio: f64, inconclusive_passes: bool) -> MetricGate {
    MetricGate {
        name: "p99_vs_blue".to_owned(),
        breach: Breach::RatioAbove(ratio),
        baseline: Some(crate::plan::Baseline {
            when: crate::plan::BlueWindow::BeforeDeployment,
            window_s: 3600,
            inconclusive_passes,
        }),
        ..gate("TargetResponseTime", Breach::Above(0.0))
    }
}

/// Bakes `gate` for 2 s with green's and blue's values staged.
async fn bake_against_blue(gate: MetricGate, green: f64, blue: Option<f64>) -> Baked {
    let cloud = FakeCloud::ready();
    cloud.set_metric(
        "TargetResponseTime|targetgroup/green/abc",
        vec![Some(green)],
    );
    cloud.set_metric("TargetResponseTime|targetgroup/blue/def", vec![blue]);
    bake_gate(&cloud, gate, 2_000).await
}

#[tokio::test(start_paused = true)]
async fn green_is_judged_against_blue_before_the_deployment() {
    // GIVEN green's p99 at 1.5 × blue's, under a gate of at most 1.2 ×
    let baked = bake_against_blue(against_blue(1.2, false), 0.3, Some(0.2)).await;
    // THEN it fails, printing green, blue and the ratio
    assert!(!baked.result.passed());
    assert!(
        baked.result.summary().contains(
            "expected metric p99_vs_blue Sum <= 1.2 × blue, got green 0.3, blue 0.2, ratio 1.50"
        ),
        "{}",
        baked.result.summary()
    );
    // AND at 1.05 × it passes
    let baked = bake_against_blue(against_blue(1.2, false), 0.21, Some(0.2)).await;
    assert!(baked.result.passed(), "{baked:?}");
}

#[tokio::test(start_paused = true)]
async fn blue_without_data_is_inconclusive_and_fails_unless_told_otherwise() {
    let baked = bake_against_blue(against_blue(1.2, false), 0.2, None).await;
    assert!(!baked.result.passed());
    assert!(
        baked.result.summary().contains(
            "got green 0.2, blue: no datapoint in its window before the deployment (inconclusive)"
        ),
        "{}",
        baked.result.summary()
    );
    let baked = bake_against_blue(against_blue(1.2, true), 0.2, None).await;
    assert!(baked.result.passed(), "{baked:?}");
}

#[test]
fn blue_is_read_on_its_own_target_group_over_the_hour_before_the_deployment() {
    let cloud = FakeCloud::ready();
    let deployment = cloud.deployment();
    let query = metric_query(&against_blue(1.2, false), Some(&deployment)).unwrap();
    let blue = query.blue.expect("a baseline").expect("readable");
    assert_eq!(blue.query.period_s, 3600);
    let created = deployment.created_ms.unwrap();
    assert_eq!(
        blue.span,
        BlueSpan::Before {
            from_ms: created - 3_600_000,
            to_ms: created
        }
    );
    let MetricSource::Stat(stat) = blue.query.source else {
        panic!("a statistic")
    };
    assert_eq!(
        stat.dimensions[0],
        ("TargetGroup".to_owned(), "targetgroup/blue/def".to_owned())
    );
    // AND without blue's target group, the comparison says why it cannot be made
    let mut unknown = deployment;
    unknown.blue_target_group_arn = None;
    let query = metric_query(&against_blue(1.2, false), Some(&unknown)).unwrap();
    assert_eq!(
        query.blue,
        Some(Err("blue's target group is not known".to_owned()))
    );
}

/// A p99 latency gate judged by the Mann–Whitney rule against blue's hour
/// before the deployment.
fn not_worse_than_blue() -> MetricGate {
    MetricGate {
        name: "p99_mw".to_owned(),
        breach: Breach::MannWhitney {
            alpha: 0.05,
            min_samples: 10,
        },
        ..against_blue(1.0, false)
    }
}

/// Blue's p99 in 30 one-minute periods: 0.19 s to 0.21 s.
fn blue_p99() -> Vec<f64> {
    (0..30).map(|i| 0.19 + f64::from(i % 5) * 0.005).collect()
}

/// Bakes the Mann–Whitney gate for 2 s with both sides' values staged.
async fn bake_samples(green: Vec<f64>, blue: Vec<f64>) -> Baked {
    let cloud = FakeCloud::ready();
    cloud.set_series("TargetResponseTime|targetgroup/green/abc", green);
    cloud.set_series("TargetResponseTime|targetgroup/blue/def", blue);
    bake_gate(&cloud, not_worse_than_blue(), 2_000).await
}

#[tokio::test(start_paused = true)]
async fn the_statistical_rule_fails_a_regression_printing_medians_p_and_n() {
    // GIVEN green 30 % slower than blue in each of 30 periods
    let slow = blue_p99().iter().map(|v| v * 1.3).collect();
    let baked = bake_samples(slow, blue_p99()).await;
    // THEN it fails, with both medians, their ratio, the p-value and n
    assert!(!baked.result.passed());
    let summary = baked.result.summary();
    assert!(
        summary.contains("expected metric p99_mw Sum not above blue (Mann–Whitney U, p >= 0.05, n >= 10 a side), got green median 0.26"),
        "{summary}"
    );
    assert!(
        summary.contains("blue median 0.2, ratio 1.30, p 0.0000, n 30/30"),
        "{summary}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_statistical_rule_passes_one_spike_that_a_ratio_of_the_worst_would_not() {
    // GIVEN green like blue but for one period at 2 s
    let mut spiky = blue_p99();
    spiky[7] = 2.0;
    let baked = bake_samples(spiky, blue_p99()).await;
    // THEN it passes
    assert!(baked.result.passed(), "{}", baked.result.summary());
}

#[tokio::test(start_paused = true)]
async fn too_few_values_are_inconclusive_and_fail() {
    // GIVEN green with 4 periods of data so far
    let baked = bake_samples(blue_p99()[..4].to_vec(), blue_p99()).await;
    // THEN the look is inconclusive, and fails as doubt does
    assert!(!baked.result.passed());
    let summary = baked.result.summary();
    assert!(
        summary.contains("got n 4/30 values (green/blue), fewer than 10 a side (inconclusive)"),
        "{summary}"
    );
}

#[test]
fn the_statistical_rule_reads_blue_period_by_period() {
    let cloud = FakeCloud::ready();
    let query = metric_query(&not_worse_than_blue(), Some(&cloud.deployment())).unwrap();
    let blue = query.blue.expect("a baseline").expect("readable");
    assert_eq!(blue.query.period_s, 60);
    assert!(
        matches!(blue.span, BlueSpan::Before { from_ms, to_ms } if to_ms - from_ms == 3_600_000)
    );
}

/// The p99 gate against blue's p99 in the same periods, while both serve.
fn beside_blue(ratio: f64) -> MetricGate {
    let mut gate = against_blue(ratio, false);
    if let Some(baseline) = &mut gate.baseline {
        baseline.when = crate::plan::BlueWindow::Concurrent;
        baseline.window_s = 300;
    }
    gate
}

#[tokio::test(start_paused = true)]
async fn side_by_side_green_is_judged_against_blue_s_latest() {
    // GIVEN green's p99 at 1.5 × blue's now (the deployment's start unknown:
    // a concurrent comparison does not need it)
    let cloud = FakeCloud::ready();
    cloud.set_metric("TargetResponseTime|targetgroup/green/abc", vec![Some(0.3)]);
    cloud.set_metric("TargetResponseTime|targetgroup/blue/def", vec![Some(0.2)]);
    let mut deployment = cloud.deployment();
    deployment.created_ms = None;
    let gate = beside_blue(1.2);
    let query = metric_query(&gate, Some(&deployment)).unwrap();
    let blue = query.blue.clone().expect("a baseline").expect("readable");
    // THEN blue is read over the gate's own periods
    assert_eq!(blue.query.period_s, 60);
    assert_eq!(blue.span, BlueSpan::Concurrent { window_ms: 300_000 });
    // AND the look fails, printing both
    let baked = bake_for(&cloud, 2_000, &[], true, &[(gate, query)], 600).await;
    assert!(!baked.result.passed());
    assert!(
        baked
            .result
            .summary()
            .contains("got green 0.3, blue 0.2, ratio 1.50"),
        "{}",
        baked.result.summary()
    );
}

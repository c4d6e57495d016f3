//! The bake's judgement on CloudWatch values, with the test front computing
//! metric math from values staged on green's target group, one value a look:
//! an error *rate* where the count alone would pass, one noisy datapoint
//! tolerated or not, and too few datapoints.

use greenlight_e2e::aws_front::{MetricKey, Script};
use greenlight_e2e::row::{
    AFTER_ALLOW_TEST_TRAFFIC as AATT, AFTER_ALLOW_TRAFFIC as AAT, Area, Row, Spec,
};
use greenlight_e2e::world::World;
use serde_json::{Value, json};

/// A target group as CloudWatch's `TargetGroup` dimension.
fn dimension(target_group_arn: &str) -> &str {
    target_group_arn.rsplit(':').next().expect("a dimension")
}

/// Stages `metric` on green's target group only: one value a look, the
/// last repeating.
fn stage_green(world: &World, metric: &str, values: Vec<Option<f64>>) {
    let key =
        MetricKey::named(metric).with_dimension(dimension(&world.fixture.green.target_group_arn));
    world.front.set_metric(key, Script::per_call(values));
}

/// Stages `metric` on blue's target group: its value in the window before
/// the deployment.
fn stage_blue(world: &World, metric: &str, value: Option<f64>) {
    let key =
        MetricKey::named(metric).with_dimension(dimension(&world.fixture.blue.target_group_arn));
    world.front.set_metric(key, Script::per_call(vec![value]));
}

/// Stages 30 periods of p99 latency on a target group, each read.
fn stage_p99_series(world: &World, target_group_arn: &str, values: Vec<f64>) {
    let key = MetricKey::named("TargetResponseTime").with_dimension(dimension(target_group_arn));
    world.front.set_series(key, values);
}

/// Blue's p99 in 30 one-minute periods: 0.19 s to 0.21 s.
fn blue_p99() -> Vec<f64> {
    (0..30).map(|i| 0.19 + f64::from(i % 5) * 0.005).collect()
}

/// A p99 latency gate judged by the Mann–Whitney rule against blue's hour
/// before the deployment.
fn p99_not_worse_than_blue() -> Value {
    json!([{"name": "p99_mw", "metric": "TargetResponseTime", "stat": "p99",
            "mann_whitney": {"alpha": 0.05, "min_samples": 10}, "baseline": {"window_s": 3600}}])
}

/// A p99 latency gate: green at most 1.2 × blue's p99 in the hour before
/// the deployment.
fn p99_against_blue() -> Value {
    json!([{"name": "p99_vs_blue", "metric": "TargetResponseTime", "stat": "p99",
            "at_most_ratio": 1.2, "baseline": {"window_s": 3600}}])
}

/// Green's latency, one spike at the third look.
fn noisy_latency(world: &World) {
    stage_green(
        world,
        "TargetResponseTime",
        vec![
            Some(0.2),
            Some(0.3),
            Some(2.0),
            Some(0.2),
            Some(0.3),
            Some(0.2),
        ],
    );
}

/// A bake of `duration_ms` (looks 500 ms apart) with these metric gates.
fn bake(duration_ms: u64, metrics: Value) -> Spec {
    Spec::World(
        json!({"bake": {"duration_ms": duration_ms, "interval_ms": 500, "metrics": metrics}}),
    )
}

/// A p99 latency gate of 0.5 s with `extra` fields.
fn latency(extra: Value) -> Value {
    let mut gate = json!({"name": "latency", "metric": "TargetResponseTime", "stat": "p99", "greater_than": 0.5});
    if let (Value::Object(gate), Value::Object(extra)) = (&mut gate, extra) {
        gate.extend(extra);
    }
    gate
}

pub fn rows() -> Vec<Row> {
    let area = Area::Bake;
    vec![
        Row::new(
            "a_5xx_rate_breach_fails_where_the_count_alone_passes",
            area,
            "green answers 6 of every 100 requests with a 5xx: under a count gate of 10, over a rate gate of 1 %",
        )
        .hook(AAT)
        .aws(|s| s, |w| {
            stage_green(w, "HTTPCode_Target_5XX_Count", vec![Some(6.0)]);
            stage_green(w, "RequestCount", vec![Some(100.0)]);
        })
        .spec(bake(2000, json!([
            {"name": "green-5xx", "metric": "HTTPCode_Target_5XX_Count", "stat": "Sum", "greater_than": 10},
            {"name": "error_rate", "expression": "100 * e / r", "greater_than": 1, "metrics": {
                "e": {"metric": "HTTPCode_Target_5XX_Count", "stat": "Sum"},
                "r": {"metric": "RequestCount", "stat": "Sum"}
            }}
        ])))
        .fails("expected metric error_rate (100 * e / r) <= 1, got 6")
        .also(|run, _| {
            // The count gate passed the same look: only the rate fails.
            let why = run.reasons();
            assert!(!why.contains("green-5xx"), "{why}");
        }),
        Row::new(
            "one_noisy_datapoint_passes_under_a_failure_limit",
            area,
            "green's p99 latency spikes once in the bake, under `failure_limit: 2`",
        )
        .hook(AAT)
        .aws(|s| s, noisy_latency)
        .spec(bake(3000, json!([latency(json!({"failure_limit": 2}))])))
        .succeeds("metric latency p99 <= 0.5 (failure_limit 2)")
        .also(|run, _| {
            // The bake passed, and its line says that it saw the spike.
            let passed = run
                .log_fields("check passed")
                .into_iter()
                .find(|l| l["check"] == "bake")
                .unwrap_or_else(|| panic!("no bake line:\n{}", run.log_text()));
            assert!(
                passed["actual"]
                    .as_str()
                    .is_some_and(|a| a.ends_with("(1 breaches so far, 0 in a row)")),
                "{passed}"
            );
        }),
        Row::new(
            "one_noisy_datapoint_fails_under_one_consecutive_breach",
            area,
            "the same spike under `consecutive_breaches: 1`",
        )
        .hook(AAT)
        .aws(|s| s, noisy_latency)
        .spec(bake(3000, json!([latency(json!({"consecutive_breaches": 1}))])))
        .fails("expected metric latency p99 <= 0.5 (consecutive_breaches 1), got 2 (1 breaches so far, 1 in a row)"),
        Row::new(
            "too_few_datapoints_fail_under_min_datapoints",
            area,
            "green's latency has a datapoint in 1 look of the bake, under `min_datapoints: 3`",
        )
        .hook(AAT)
        .aws(|s| s, |w| stage_green(w, "TargetResponseTime", vec![Some(0.2), None]))
        .spec(bake(2000, json!([latency(json!({"min_datapoints": 3}))])))
        .fails("metric latency saw a datapoint in only 1 of"),
        Row::new(
            "green_p99_at_one_and_a_half_times_blues_fails",
            area,
            "green's p99 latency is 1.5 × blue's in the hour before the deployment, under `at_most_ratio: 1.2`",
        )
        .hook(AAT)
        .aws(|s| s, |w| {
            stage_green(w, "TargetResponseTime", vec![Some(0.3)]);
            stage_blue(w, "TargetResponseTime", Some(0.2));
        })
        .spec(bake(2000, p99_against_blue()))
        .fails("expected metric p99_vs_blue p99 <= 1.2 × blue, got green 0.3, blue 0.2, ratio 1.50"),
        Row::new(
            "green_p99_at_one_point_zero_five_times_blues_passes",
            area,
            "green's p99 latency is 1.05 × blue's, under the same gate",
        )
        .hook(AAT)
        .aws(|s| s, |w| {
            stage_green(w, "TargetResponseTime", vec![Some(0.21)]);
            stage_blue(w, "TargetResponseTime", Some(0.2));
        })
        .spec(bake(2000, p99_against_blue()))
        .succeeds("metric p99_vs_blue p99 <= 1.2 × blue")
        .also(|run, _| {
            let log = run.log_text();
            assert!(log.contains("green 0.21, blue 0.2, ratio 1.05"), "{log}");
        }),
        Row::new(
            "blue_without_data_before_the_deployment_is_inconclusive_and_fails",
            area,
            "blue has no p99 in the hour before the deployment (no traffic then)",
        )
        .hook(AAT)
        .aws(|s| s, |w| {
            stage_green(w, "TargetResponseTime", vec![Some(0.2)]);
            stage_blue(w, "TargetResponseTime", None);
        })
        .spec(bake(2000, p99_against_blue()))
        .fails("blue: no datapoint in its window before the deployment (inconclusive)"),
        Row::new(
            "green_on_the_test_listener_at_one_and_a_half_times_blue_in_production_fails",
            area,
            "AfterAllowTestTraffic bakes green on the test listener beside blue in production: green's p99 1.5 × blue's in the same periods",
        )
        .hook(AATT)
        .aws(|s| s, |w| {
            stage_green(w, "TargetResponseTime", vec![Some(0.3)]);
            stage_blue(w, "TargetResponseTime", Some(0.2));
        })
        .spec(Spec::World(json!({"bake": {"hook": "AfterAllowTestTraffic", "duration_ms": 2000, "interval_ms": 500,
            "metrics": [{"name": "p99_beside_blue", "metric": "TargetResponseTime", "stat": "p99",
                         "at_most_ratio": 1.2, "baseline": {"when": "concurrent", "window_s": 300}}]}})))
        .fails("expected metric p99_beside_blue p99 <= 1.2 × blue, got green 0.3, blue 0.2, ratio 1.50"),
        Row::new(
            "green_consistently_slower_than_blue_fails_the_statistical_rule",
            area,
            "green's p99 is 1.3 × blue's in each of 30 periods, under the Mann–Whitney rule",
        )
        .hook(AAT)
        .aws(|s| s, |w| {
            let slow = blue_p99().iter().map(|v| v * 1.3).collect();
            stage_p99_series(w, &w.fixture.green.target_group_arn, slow);
            stage_p99_series(w, &w.fixture.blue.target_group_arn, blue_p99());
        })
        .spec(bake(2000, p99_not_worse_than_blue()))
        .fails("blue median 0.2, ratio 1.30, p 0.0000, n 30/30"),
        Row::new(
            "one_slow_period_passes_the_statistical_rule",
            area,
            "green's p99 like blue's but for one period at 2 s, under the same rule",
        )
        .hook(AAT)
        .aws(|s| s, |w| {
            let mut spiky = blue_p99();
            spiky[7] = 2.0;
            stage_p99_series(w, &w.fixture.green.target_group_arn, spiky);
            stage_p99_series(w, &w.fixture.blue.target_group_arn, blue_p99());
        })
        .spec(bake(2000, p99_not_worse_than_blue()))
        .succeeds("metric p99_mw p99 not above blue (Mann–Whitney U, p >= 0.05, n >= 10 a side)"),
    ]
}

//! The bake: what it watches and its metric gates.

use serde_json::json;

use crate::plan::tests::{check, plan, problems, spec};
use crate::plan::{Breach, Plan};

#[test]
fn a_load_balancer_dimension_needs_a_discovered_listener() {
    let mut spec = spec(vec![check("health")]);
    spec["bake"] = json!({"duration_ms": 1000, "metrics": [{"metric": "HTTPCode_Target_5XX_Count", "stat": "Sum", "greater_than": 5}]});
    assert_eq!(
        problems(&spec),
        vec![
            "bake.metrics[0].dimensions: {load_balancer} needs the listener found from the deployment: leave target.url out, or give the dimensions explicitly"
        ]
    );
}

#[test]
fn a_bake_with_nothing_to_watch_is_refused_saying_what_to_add() {
    // GIVEN a bake with no metric, no alarm name, and the group's alarms off
    let mut spec = spec(vec![check("health")]);
    spec["alarms"] = json!({"deployment_group": false});
    spec["bake"] = json!({"duration_ms": 2000});
    // WHEN it is validated
    // THEN it is refused at `bake`
    assert_eq!(
        problems(&spec),
        vec![
            "bake: nothing to watch: add bake.metrics or alarms.names, or turn alarms.deployment_group on (with the deployment group's alarm configuration enabled)"
        ]
    );
    // AND an alarm name, or the group's alarms, is something to watch
    spec["alarms"] = json!({"deployment_group": false, "names": ["green-5xx"]});
    assert!(Plan::from_json(&spec.to_string()).is_ok());
    spec["alarms"] = json!({});
    assert!(Plan::from_json(&spec.to_string()).is_ok());
}

#[test]
fn a_metric_gate_may_require_data() {
    let mut spec = spec(vec![check("health")]);
    spec["bake"] = json!({"duration_ms": 1000, "metrics": [{"metric": "X", "stat": "Sum", "greater_than": 1, "dimensions": {}, "require_data": true}]});
    let plan = plan(&spec);
    assert_eq!(plan.bake.expect("a bake").metrics[0].min_datapoints, 1);
    spec["bake"]["metrics"][0]
        .as_object_mut()
        .expect("an object")
        .remove("require_data");
    assert_eq!(
        self::plan(&spec).bake.expect("a bake").metrics[0].min_datapoints,
        0
    );
}

#[test]
fn a_bake_may_last_a_day_and_no_longer() {
    let mut spec = spec(vec![check("health")]);
    spec["alarms"] = json!({"names": ["web-5xx"]});
    spec["bake"] = json!({"duration_ms": 3_600_000});
    assert!(plan(&spec).bake.is_some());
    spec["bake"] = json!({"duration_ms": 86_400_001});
    assert_eq!(
        problems(&spec),
        vec![
            "bake.duration_ms: expected 1..=86400000 (a day; a CodeDeploy hook's bake must also fit in its Lambda run), got 86400001"
        ]
    );
}

/// The problems of a spec whose bake has this one metric gate (none when
/// it is valid). Green is found from the deployment, so the default
/// dimensions' placeholders can be filled.
fn gate_problems(gate: serde_json::Value) -> Vec<String> {
    let mut spec = spec(vec![check("health")]);
    spec["target"] = json!({});
    spec["bake"] = json!({"duration_ms": 1000, "metrics": [gate]});
    match Plan::from_json(&spec.to_string()) {
        Ok(_) => Vec::new(),
        Err(error) => error.problems.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn an_expression_gate_names_its_metrics() {
    let rate = json!({
        "name": "error_rate",
        "expression": "100 * FILL(e, 0) / r",
        "metrics": {
            "e": {"metric": "HTTPCode_Target_5XX_Count", "stat": "Sum"},
            "r": {"metric": "RequestCount", "stat": "Sum"}
        },
        "greater_than": 1,
        "failure_limit": 2
    });
    assert_eq!(gate_problems(rate.clone()), Vec::<String>::new());
    // A lowercase name that is not one of metrics is a typo.
    let mut typo = rate.clone();
    typo["expression"] = json!("100 * e / rr");
    assert_eq!(
        gate_problems(typo),
        vec!["bake.metrics[0].expression: names rr, which is not one of metrics"]
    );
    // Names inside quotes (SEARCH strings) are not names.
    let mut quoted = rate.clone();
    quoted["expression"] = json!("100 * e / r + 0 * FILL(e, 'x y')");
    assert_eq!(gate_problems(quoted), Vec::<String>::new());
    // A name must be a CloudWatch query ID.
    let mut bad_id = rate.clone();
    bad_id["metrics"]["Errors"] = json!({"metric": "X", "stat": "Sum"});
    assert_eq!(
        gate_problems(bad_id),
        vec![
            "bake.metrics[0].metrics.Errors: expected a name of a lowercase letter, then letters, digits or _ (at most 255), other than greenlight"
        ]
    );
    // An expression needs a name, and keeps stat to its metrics.
    let mut unnamed = rate.clone();
    unnamed.as_object_mut().unwrap().remove("name");
    unnamed["stat"] = json!("Sum");
    assert_eq!(
        gate_problems(unnamed),
        vec![
            "bake.metrics[0].stat: only with metric: give it to each of metrics",
            "bake.metrics[0].name: expected a name for an expression"
        ]
    );
    // A bad statistic of one metric is found at its path.
    let mut bad_stat = rate;
    bad_stat["metrics"]["r"]["stat"] = json!("Median");
    assert_eq!(gate_problems(bad_stat).len(), 1);
}

#[test]
fn exactly_one_of_metric_and_expression() {
    let both = json!({"name": "x", "metric": "X", "stat": "Sum", "expression": "e", "metrics": {"e": {"metric": "X", "stat": "Sum"}}, "greater_than": 1});
    assert_eq!(
        gate_problems(both),
        vec!["bake.metrics[0]: expected exactly one of metric, expression"]
    );
    let neither = json!({"name": "x", "greater_than": 1});
    assert_eq!(
        gate_problems(neither),
        vec!["bake.metrics[0]: expected exactly one of metric, expression"]
    );
    let no_stat = json!({"metric": "X", "greater_than": 1, "dimensions": {}});
    assert_eq!(
        gate_problems(no_stat),
        vec!["bake.metrics[0].stat: expected a statistic with metric"]
    );
}

#[test]
fn tolerance_is_bounded_and_defaults_to_the_first_breach() {
    use crate::plan::Tolerance;
    let gate = |extra: serde_json::Value| {
        let mut gate = json!({"metric": "X", "stat": "Sum", "greater_than": 1, "dimensions": {}});
        gate.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        gate
    };
    let tolerance = |extra: serde_json::Value| {
        let mut spec = spec(vec![check("health")]);
        spec["bake"] = json!({"duration_ms": 1000, "metrics": [gate(extra)]});
        plan(&spec).bake.expect("a bake").metrics[0].tolerance
    };
    assert_eq!(tolerance(json!({})), Tolerance::default());
    assert_eq!(
        tolerance(json!({"consecutive_breaches": 3})),
        Tolerance {
            failure_limit: None,
            consecutive: Some(3)
        }
    );
    assert_eq!(
        gate_problems(gate(
            json!({"consecutive_breaches": 0, "failure_limit": 100_001, "min_datapoints": 100_001})
        )),
        vec![
            "bake.metrics[0].consecutive_breaches: expected 1..=100000, got 0",
            "bake.metrics[0].failure_limit: expected 0..=100000, got 100001",
            "bake.metrics[0].min_datapoints: expected 0..=100000, got 100001"
        ]
    );
}

#[test]
fn a_relative_threshold_needs_a_baseline_and_only_it_may_have_one() {
    let ratio = json!({"name": "p99_vs_blue", "metric": "TargetResponseTime", "stat": "p99",
                       "at_most_ratio": 1.2, "baseline": {"window_s": 1800}});
    assert_eq!(gate_problems(ratio.clone()), Vec::<String>::new());
    let mut spec = spec(vec![check("health")]);
    spec["target"] = json!({});
    spec["bake"] = json!({"duration_ms": 1000, "metrics": [ratio.clone()]});
    let gate = plan(&spec).bake.expect("a bake").metrics[0].clone();
    assert_eq!(
        gate.baseline,
        Some(crate::plan::Baseline {
            when: crate::plan::BlueWindow::BeforeDeployment,
            window_s: 1800,
            inconclusive_passes: false
        })
    );
    let mut without = ratio.clone();
    without.as_object_mut().unwrap().remove("baseline");
    assert_eq!(
        gate_problems(without),
        vec![
            "bake.metrics[0].baseline: at_most_ratio, at_most_increase and mann_whitney compare with blue: expected a baseline"
        ]
    );
    let mut absolute = ratio.clone();
    absolute.as_object_mut().unwrap().remove("at_most_ratio");
    absolute["greater_than"] = json!(0.5);
    assert_eq!(
        gate_problems(absolute),
        vec!["bake.metrics[0].baseline: only with at_most_ratio, at_most_increase or mann_whitney"]
    );
    let mut bad = ratio;
    bad["baseline"] = json!({"window_s": 90, "inconclusive": "pass"});
    bad["at_most_ratio"] = json!(0);
    assert_eq!(
        gate_problems(bad),
        vec![
            "bake.metrics[0].at_most_ratio: expected a ratio above 0",
            "bake.metrics[0].baseline.window_s: expected a multiple of 60 from 60 to 86400, got 90"
        ]
    );
}

#[test]
fn the_statistical_rule_has_its_defaults_and_bounds() {
    // GIVEN a gate with the rule and no parameters
    let rule = json!({"name": "p99_mw", "metric": "TargetResponseTime", "stat": "p99",
                      "mann_whitney": {}, "baseline": {}});
    let mut spec = spec(vec![check("health")]);
    spec["target"] = json!({});
    spec["bake"] = json!({"duration_ms": 1000, "metrics": [rule.clone()]});
    // THEN it tests at 5 % with 10 values a side
    let gate = plan(&spec).bake.expect("a bake").metrics[0].clone();
    assert_eq!(
        gate.breach,
        Breach::MannWhitney {
            alpha: 0.05,
            min_samples: 10
        }
    );
    // AND out-of-range parameters are named, and so is a missing baseline
    let mut bad = rule;
    bad["mann_whitney"] = json!({"alpha": 0.7, "min_samples": 2});
    bad.as_object_mut().unwrap().remove("baseline");
    assert_eq!(
        gate_problems(bad),
        vec![
            "bake.metrics[0].mann_whitney.alpha: expected more than 0 and at most 0.5, got 0.7",
            "bake.metrics[0].mann_whitney.min_samples: expected 5..=1440, got 2"
        ]
    );
}

#[test]
fn a_concurrent_baseline_needs_a_bake_before_allow_traffic() {
    // GIVEN a gate comparing green with blue in the same periods
    let beside = json!({"name": "p99_beside_blue", "metric": "TargetResponseTime", "stat": "p99",
                        "at_most_ratio": 1.2, "baseline": {"when": "concurrent", "window_s": 300}});
    let mut spec = spec(vec![check("health")]);
    spec["target"] = json!({});
    // WHEN the bake is AfterAllowTestTraffic's (green on the test listener,
    // blue on production)
    spec["bake"] =
        json!({"hook": "AfterAllowTestTraffic", "duration_ms": 1000, "metrics": [beside.clone()]});
    let bake = plan(&spec).bake.expect("a bake");
    // THEN it is that hook's, and the baseline is concurrent
    assert_eq!(bake.hook, crate::hook::Hook::AfterAllowTestTraffic);
    assert_eq!(
        bake.metrics[0].baseline.map(|b| b.when),
        Some(crate::plan::BlueWindow::Concurrent)
    );
    // AND the ECS stage names the same moment
    spec["bake"]["hook"] = json!("POST_TEST_TRAFFIC_SHIFT");
    assert_eq!(
        plan(&spec).bake.expect("a bake").hook,
        crate::hook::Hook::AfterAllowTestTraffic
    );
    // BUT in AfterAllowTraffic's bake, where blue serves nothing, it is refused
    assert_eq!(
        gate_problems(beside),
        vec![
            "bake.metrics[0].baseline.when: blue serves nothing after AllowTraffic: compare concurrently in a bake before it (bake.hook AfterAllowTestTraffic or BeforeAllowTraffic), or use before_deployment"
        ]
    );
}

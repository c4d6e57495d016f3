//! The bake: what it watches and its metric gates.

use serde_json::json;

use crate::plan::Plan;
use crate::plan::tests::{check, plan, problems, spec};

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
    assert!(plan.bake.expect("a bake").metrics[0].require_data);
    spec["bake"]["metrics"][0]
        .as_object_mut()
        .expect("an object")
        .remove("require_data");
    assert!(!self::plan(&spec).bake.expect("a bake").metrics[0].require_data);
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

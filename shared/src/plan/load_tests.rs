//! A check's load probe: its rate, duration and bounds.

use std::time::Duration;

use serde_json::json;

use super::super::validator::Validator;
use super::LoadPlan;
use crate::spec::LoadSpec;

const AT: &str = "checks[0].load";

fn load_spec(value: serde_json::Value) -> LoadSpec {
    serde_json::from_value(value).unwrap_or_else(|error| panic!("{error}"))
}

/// The plan, or the problems as `path: message`.
fn validate(value: serde_json::Value) -> Result<LoadPlan, Vec<String>> {
    let mut v = Validator::default();
    let plan = v.load(AT, &load_spec(value));
    match plan {
        Some(plan) if v.problems.is_empty() => Ok(plan),
        _ => Err(v.problems.iter().map(ToString::to_string).collect()),
    }
}

#[test]
fn a_full_load_spec_becomes_a_plan() {
    // GIVEN every field
    let spec = json!({
        "rps": 100,
        "duration_s": 10,
        "latency_ms": {"p50": 80, "p95": 150, "p99": 250},
        "error_rate_at_most": 0.01
    });
    // WHEN it is validated
    let plan = validate(spec).expect("valid");
    // THEN each bound is kept, and the schedule holds rps × duration requests
    assert_eq!(
        plan,
        LoadPlan {
            rps: 100,
            duration: Duration::from_secs(10),
            p50: Some(Duration::from_millis(80)),
            p95: Some(Duration::from_millis(150)),
            p99: Some(Duration::from_millis(250)),
            error_rate_at_most: Some(0.01),
        }
    );
    assert_eq!(plan.requests(), 1000);
}

#[test]
fn one_bound_is_enough() {
    // GIVEN only a p99, then only an error rate
    let latency = validate(json!({"rps": 1, "duration_s": 1, "latency_ms": {"p99": 1000}}));
    let errors = validate(json!({"rps": 200, "duration_s": 120, "error_rate_at_most": 0}));
    // WHEN they are validated
    // THEN both are plans, the largest within the memory bound
    assert!(latency.is_ok(), "{latency:?}");
    assert_eq!(errors.map(|p| p.requests()), Ok(LoadPlan::MAX_REQUESTS));
}

#[test]
fn rate_and_duration_are_bounded() {
    // GIVEN no rate and too long a run
    let found = validate(json!({"rps": 0, "duration_s": 121, "error_rate_at_most": 0.5}));
    // WHEN it is validated
    // THEN each field is named with its bounds
    assert_eq!(
        found,
        Err(vec![
            "checks[0].load.rps: expected 1..=200, got 0".to_owned(),
            "checks[0].load.duration_s: expected 1..=120, got 121".to_owned(),
        ])
    );
    assert_eq!(
        validate(json!({"rps": 201, "duration_s": 0, "error_rate_at_most": 0.5})),
        Err(vec![
            "checks[0].load.rps: expected 1..=200, got 201".to_owned(),
            "checks[0].load.duration_s: expected 1..=120, got 0".to_owned(),
        ])
    );
}

#[test]
fn bounds_out_of_range_are_reported() {
    // GIVEN a zero p50, a p95 beyond any timeout and an error rate over 1
    let spec = json!({
        "rps": 10,
        "duration_s": 5,
        "latency_ms": {"p50": 0, "p95": 300_001, "p99": 250},
        "error_rate_at_most": 1.5
    });
    // WHEN it is validated
    // THEN each is reported at its path
    assert_eq!(
        validate(spec),
        Err(vec![
            "checks[0].load.latency_ms.p50: expected 1..=300000, got 0".to_owned(),
            "checks[0].load.latency_ms.p95: expected 1..=300000, got 300001".to_owned(),
            "checks[0].load.error_rate_at_most: expected 0..=1 (0.01 is 1%), got 1.5".to_owned(),
        ])
    );
    assert_eq!(
        validate(json!({"rps": 10, "duration_s": 5, "error_rate_at_most": -0.1})),
        Err(vec![
            "checks[0].load.error_rate_at_most: expected 0..=1 (0.01 is 1%), got -0.1".to_owned()
        ])
    );
}

#[test]
fn a_load_without_a_bound_is_reported() {
    // GIVEN no bound at all, then an empty latency_ms
    let none = validate(json!({"rps": 10, "duration_s": 5}));
    let empty = validate(json!({"rps": 10, "duration_s": 5, "latency_ms": {}}));
    // WHEN they are validated
    // THEN each says what to add, where
    assert_eq!(
        none,
        Err(vec![
            "checks[0].load: expected a bound: latency_ms (p50, p95, p99) or error_rate_at_most"
                .to_owned()
        ])
    );
    assert_eq!(
        empty,
        Err(vec![
            "checks[0].load.latency_ms: expected at least one of p50, p95, p99".to_owned()
        ])
    );
}

#[test]
fn unknown_fields_are_refused() {
    // GIVEN a misspelt bound
    let spec = json!({"rps": 10, "duration_s": 5, "latency_ms": {"p90": 100}});
    // WHEN it is read
    let read: Result<LoadSpec, _> = serde_json::from_value(spec);
    // THEN it is an error, not a load without that bound
    let error = read.expect_err("p90 is not a field").to_string();
    assert!(error.contains("unknown field `p90`"), "{error}");
}

#[test]
fn a_schedule_that_is_not_whole_seconds_rounds_up() {
    // GIVEN 3 rps for 1.5 s: requests at 0, 1/3, 2/3, 1, 4/3 s
    let plan = LoadPlan {
        rps: 3,
        duration: Duration::from_millis(1500),
        p50: None,
        p95: None,
        p99: None,
        error_rate_at_most: Some(0.0),
    };
    // WHEN the requests are counted
    // THEN every slot that starts before the end counts
    assert_eq!(plan.requests(), 5);
}

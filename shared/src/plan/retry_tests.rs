//! Retry policies, a check's own and the defaults.

use std::time::Duration;

use serde_json::json;

use crate::plan::tests::{check, plan, problems, spec};
use crate::retry::RetryPolicy;

#[test]
fn zero_attempts_are_reported() {
    // GIVEN a retry policy with no attempt
    let mut spec = spec(vec![check("a")]);
    spec["checks"][0]["retry"] = json!({"attempts": 0});
    // WHEN it is validated
    // THEN the bounds are given
    assert_eq!(
        problems(&spec),
        ["checks[0].retry.attempts: expected 1..=1000, got 0"]
    );
}

#[test]
fn more_consecutive_passes_than_attempts_are_reported() {
    // GIVEN 4 passes in a row needed out of 3 attempts
    let mut spec = spec(vec![check("a")]);
    spec["checks"][0]["retry"] = json!({"attempts": 3, "consecutive_passes": 4});
    // WHEN it is validated
    // THEN the bound is the attempts
    assert_eq!(
        problems(&spec),
        ["checks[0].retry.consecutive_passes: expected 1..=3 (at most the attempts), got 4"]
    );
}

#[test]
fn retry_intervals_and_windows_are_bounded() {
    // GIVEN defaults with too long an interval and too long a window
    let mut spec = spec(vec![check("a")]);
    spec["defaults"] = json!({"retry": {"interval_ms": 300_001, "within_ms": 900_001}});
    // WHEN it is validated
    // THEN both are reported under defaults
    assert_eq!(
        problems(&spec),
        [
            "defaults.retry.interval_ms: expected 0..=300000, got 300001",
            "defaults.retry.within_ms: expected 1..=900000 (a Lambda runs at most 15 minutes), got 900001",
        ]
    );
}

#[test]
fn within_ms_without_attempts_means_unlimited_attempts() {
    // GIVEN a window and no attempts
    let mut spec = spec(vec![check("a")]);
    spec["checks"][0]["retry"] =
        json!({"within_ms": 60_000, "interval_ms": 2000, "consecutive_passes": 5});
    // WHEN it is validated
    let plan = plan(&spec);
    // THEN attempts are bounded by the window only
    assert_eq!(
        plan.checks[0].retry,
        RetryPolicy {
            attempts: None,
            interval: Duration::from_millis(2000),
            within: Some(Duration::from_millis(60_000)),
            consecutive_passes: 5,
        }
    );
}

#[test]
fn within_ms_with_attempts_keeps_the_attempts() {
    // GIVEN a window and attempts
    let mut spec = spec(vec![check("a")]);
    spec["checks"][0]["retry"] = json!({"within_ms": 60_000, "attempts": 7});
    // WHEN it is validated
    let plan = plan(&spec);
    // THEN both bound the retries
    assert_eq!(plan.checks[0].retry.attempts, Some(7));
    assert_eq!(
        plan.checks[0].retry.within,
        Some(Duration::from_millis(60_000))
    );
}

#[test]
fn defaults_apply_to_checks_that_do_not_set_their_own() {
    // GIVEN defaults and one check overriding them
    let mut spec = spec(vec![check("a"), check("b")]);
    spec["defaults"] = json!({"timeout_ms": 2000, "retry": {"attempts": 10, "interval_ms": 500}});
    spec["checks"][1]["timeout_ms"] = json!(100);
    spec["checks"][1]["retry"] = json!({"attempts": 1});
    // WHEN it is validated
    let plan = plan(&spec);
    // THEN the first check has the defaults, the second its own values
    let (a, b) = (&plan.checks[0], &plan.checks[1]);
    assert_eq!(a.steps[0].timeout, Duration::from_millis(2000));
    assert_eq!(a.retry.attempts, Some(10));
    assert_eq!(a.retry.interval, Duration::from_millis(500));
    assert_eq!(b.steps[0].timeout, Duration::from_millis(100));
    assert_eq!(b.retry.attempts, Some(1));
}

#[test]
fn a_check_retry_takes_missing_fields_from_the_defaults() {
    // GIVEN defaults with 5 attempts and a check that only sets its interval
    let mut c = check("health");
    c["retry"] = json!({"interval_ms": 250, "consecutive_passes": 4});
    let mut spec = spec(vec![c]);
    spec["defaults"] = json!({"retry": {"attempts": 5}});
    // WHEN it is validated
    let plan = plan(&spec);
    // THEN the check keeps the default attempts with its own interval
    let retry = plan.checks[0].retry;
    assert_eq!(retry.attempts, Some(5));
    assert_eq!(retry.interval, Duration::from_millis(250));
    assert_eq!(retry.consecutive_passes, 4);
}

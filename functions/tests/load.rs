//! End-to-end, the load probe: the real hook binary sends a check's request
//! at a steady rate to a local green and judges the latency percentiles and
//! the error rate, within the rate it was given and its deadline.

use std::time::Duration;

use greenlight_e2e::green::{Behaviour, GreenService};
use greenlight_e2e::hook::{Invocation, Run};
use serde_json::{Value, json};

/// A spec whose one check is a load probe of green's `/health`.
fn spec(url: &str, load: Value) -> String {
    json!({
        "target": {"url": url},
        "readiness": {"enabled": false},
        "alarms": {"deployment_group": false},
        "checks": [{
            "name": "load",
            "path": "/health",
            "timeout_ms": 2000,
            "assert": [{"status": 200}],
            "load": load
        }]
    })
    .to_string()
}

fn check_line(run: &Run) -> Value {
    run.log_fields("check ")
        .into_iter()
        .find(|fields| fields["check"] == "load")
        .unwrap_or_else(|| panic!("no line for the load check:\n{}", run.log_text()))
}

#[tokio::test]
async fn a_load_within_its_bounds_succeeds_at_the_rate_it_was_given() {
    greenlight_e2e::cargo_hooks!();
    // GIVEN a healthy green and 25 requests a second for 2 s, p99 under 1 s
    let green = GreenService::start(Behaviour::Healthy).await;
    let run = Invocation::new(
        "after-allow-test-traffic",
        &spec(
            &green.url(),
            json!({"rps": 25, "duration_s": 2, "latency_ms": {"p99": 1000}, "error_rate_at_most": 0.0}),
        ),
    )
    .run()
    .await;
    // THEN it succeeded, having sent exactly 50 requests, never more than
    // 25 (and one at the second's edge) in any second
    run.assert_reported_once("Succeeded");
    assert_eq!(green.requests(), 50);
    assert!(
        green.most_in_one_second() <= 26,
        "{} in one second",
        green.most_in_one_second()
    );
    // AND the figures are in its line
    let line = check_line(&run);
    let actual = line["actual"].as_str().unwrap_or_default();
    assert!(
        actual.contains("50 requests in 2.0 s")
            && actual.contains("p99 ")
            && actual.contains("errors 0 (0.0%)"),
        "{line}"
    );
}

#[tokio::test]
async fn a_load_whose_p99_exceeds_its_bound_fails_with_the_figures() {
    greenlight_e2e::cargo_hooks!();
    // GIVEN a green answering after 150 ms, and a p99 bound of 50 ms
    let green = GreenService::start(Behaviour::Slow(Duration::from_millis(150))).await;
    let run = Invocation::new(
        "after-allow-test-traffic",
        &spec(
            &green.url(),
            json!({"rps": 20, "duration_s": 1, "latency_ms": {"p50": 1000, "p99": 50}}),
        ),
    )
    .run()
    .await;
    // THEN it failed, naming the bound and the figure found
    run.assert_reported_once("Failed");
    let reasons = run.reasons();
    assert!(
        reasons.contains("load: expected p99 <= 50 ms, got 1"),
        "{reasons}"
    );
    assert_eq!(green.requests(), 20);
}

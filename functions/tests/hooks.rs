//! End-to-end: the real hook binaries, under a local Lambda Runtime API, against
//! a local green service and a local CodeDeploy stand-in. Every scenario
//! asserts how many status calls CodeDeploy received and which status it took,
//! so none can pass if the hook never reports. The faults are rows of the fault
//! matrix (`functions/tests/faults/rows.rs`).

use std::time::Duration;

use greenlight_e2e::green::{Behaviour, GreenService};
use greenlight_e2e::hook::{HOOKS, Invocation, Run};
use greenlight_e2e::tls::TlsGreen;
use serde_json::{Value, json};

/// A spec with one `/health` check on `url` and these assertions and retry.
fn spec(url: &str, asserts: Value, retry: Value) -> String {
    json!({
        "target": {"url": url},
        "readiness": {"enabled": false},
        "alarms": {"deployment_group": false},
        "checks": [{
            "name": "health",
            "path": "/health",
            "timeout_ms": 2000,
            "retry": retry,
            "assert": asserts
        }]
    })
    .to_string()
}

/// The assertions a careful operator writes for `/health`.
fn health_asserts() -> Value {
    json!([
        {"status": 200},
        {"header": {"name": "content-type", "contains": "application/json"}},
        {"json": {"path": "$.status", "equals": "ok"}},
        {"duration_ms": {"less_than": 1000}}
    ])
}

fn quick_retry() -> Value {
    json!({"attempts": 2, "interval_ms": 100})
}

/// Exactly one status call, accepted, with `status`, for the sample event.
fn assert_reported_once(run: &Run, status: &str) {
    run.assert_reported_once(status);
    assert_eq!(run.calls[0].deployment_id, "d-ABCDEF123");
}

/// The verdict line's fields.
fn verdict(run: &Run) -> Value {
    run.verdict()
}

/// The check result line's fields for `check`.
fn check_line(run: &Run, check: &str) -> Value {
    run.log_fields("check ")
        .into_iter()
        .find(|fields| fields["check"] == check)
        .unwrap_or_else(|| panic!("no log line for check {check}:\n{}", run.log_text()))
}

#[tokio::test]
async fn healthy_green_succeeds_in_every_hook() {
    greenlight_e2e::cargo_hooks!();
    // GIVEN a healthy green service
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = spec(&green.url(), health_asserts(), quick_retry());
    for hook in HOOKS {
        // WHEN each hook runs on its sample event
        let run = Invocation::new(hook, &spec).run().await;
        // THEN it reports Succeeded exactly once and answers the Runtime API
        assert_reported_once(&run, "Succeeded");
        let answer = run.answer.as_ref().expect("the hook answered");
        assert_eq!(answer.response()["reported"], "Succeeded");
        assert_eq!(answer.response()["delivery"], "accepted");
        let line = check_line(&run, "health");
        assert_eq!(line["outcome"], "pass");
        assert_eq!(line["attempts"], 1);
        let verdict = verdict(&run);
        assert_eq!(verdict["status"], "Succeeded");
        assert_eq!(verdict["deployment_id"], "d-ABCDEF123");
        // Each binary is wired to its own lifecycle event.
        let expected_hook = match hook {
            "after-allow-test-traffic" => "AfterAllowTestTraffic",
            "before-allow-traffic" => "BeforeAllowTraffic",
            _ => "AfterAllowTraffic",
        };
        assert_eq!(verdict["hook"], expected_hook);
    }
}

#[tokio::test]
async fn wrong_body_text_fails() {
    greenlight_e2e::cargo_hooks!();
    let green = GreenService::start(Behaviour::Healthy).await;
    let asserts = json!([{"body": {"matches": "\"version\":\"2\\.\\d+"}}]);
    let run = Invocation::new(
        "after-allow-traffic",
        &spec(&green.url(), asserts, quick_retry()),
    )
    .run()
    .await;
    assert_reported_once(&run, "Failed");
    let line = check_line(&run, "health");
    assert_eq!(line["expected"], "body matches /\"version\":\"2\\.\\d+/");
    // The check sends secret headers (every check here does): green's body
    // is named by its size, never shown.
    assert_eq!(
        line["actual"],
        "(body of 56 bytes; not shown: the check sends secret headers)"
    );
}

#[tokio::test]
async fn green_healthy_after_a_while_succeeds_within_the_retry_window() {
    greenlight_e2e::cargo_hooks!();
    let green = GreenService::start(Behaviour::HealthyAfter(Duration::from_secs(2))).await;
    let run = Invocation::new(
        "after-allow-test-traffic",
        &spec(
            &green.url(),
            health_asserts(),
            json!({"within_ms": 8000, "interval_ms": 300}),
        ),
    )
    .run()
    .await;
    assert_reported_once(&run, "Succeeded");
    let attempts = check_line(&run, "health")["attempts"]
        .as_u64()
        .unwrap_or_default();
    assert!(attempts > 1, "attempts {attempts}");
}

#[tokio::test]
async fn consecutive_passes_are_required() {
    greenlight_e2e::cargo_hooks!();
    let green = GreenService::start(Behaviour::Healthy).await;
    let retry = json!({"attempts": 5, "interval_ms": 50, "consecutive_passes": 3});
    let run = Invocation::new(
        "before-allow-traffic",
        &spec(&green.url(), health_asserts(), retry),
    )
    .run()
    .await;
    assert_reported_once(&run, "Succeeded");
    assert_eq!(check_line(&run, "health")["attempts"], 3);
    assert_eq!(green.requests(), 3);
}

#[tokio::test]
async fn dry_run_reports_succeeded_and_says_so_loudly() {
    greenlight_e2e::cargo_hooks!();
    let green = GreenService::start(Behaviour::Error500).await;
    let run = Invocation::new(
        "after-allow-test-traffic",
        &spec(&green.url(), health_asserts(), quick_retry()),
    )
    .env("GREENLIGHT_DRY_RUN", "true")
    .run()
    .await;
    assert_reported_once(&run, "Succeeded");
    let verdict = verdict(&run);
    assert_eq!(verdict["status"], "Failed");
    assert_eq!(verdict["dry_run"], true);
    assert!(run.log_text().contains("DRY RUN"));
    assert_eq!(
        run.answer.as_ref().expect("answered").response()["verdict"]["status"],
        "Failed"
    );
}

#[tokio::test]
async fn secret_header_values_never_reach_the_logs() {
    greenlight_e2e::cargo_hooks!();
    // GIVEN green echoing request headers, and a check sending two secrets
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = json!({
        "target": {"url": green.url()},
        "readiness": {"enabled": false},
        "alarms": {"deployment_group": false},
        "checks": [{
            "name": "echo",
            "path": "/echo",
            "headers": {
                "Authorization": "Bearer tok-AUTH-123",
                "X-Internal-Token": {"value": "tok-INTERNAL-456", "secret": true},
                "X-Plain": "visible-789"
            },
            "retry": {"attempts": 1},
            "assert": [{"body": {"contains": "this is not there"}}]
        }]
    })
    .to_string();
    // WHEN the check fails on the echo
    let run = Invocation::new("after-allow-test-traffic", &spec)
        .run()
        .await;
    // THEN the echo is not shown (the check sends secrets), and no secret is
    // in the logs or the answer
    assert_reported_once(&run, "Failed");
    let text = run.log_text();
    assert!(
        text.contains("bytes; not shown: the check sends secret headers"),
        "{text}"
    );
    assert!(!text.contains("tok-AUTH-123"), "{text}");
    assert!(!text.contains("tok-INTERNAL-456"), "{text}");
    let answer = run
        .answer
        .as_ref()
        .expect("answered")
        .response()
        .to_string();
    assert!(!answer.contains("tok-AUTH-123") && !answer.contains("tok-INTERNAL-456"));
}

#[tokio::test]
async fn checks_run_concurrently_and_only_in_their_hooks() {
    greenlight_e2e::cargo_hooks!();
    // GIVEN three slow checks, one of them only for AfterAllowTraffic
    let green = GreenService::start(Behaviour::Slow(Duration::from_millis(800))).await;
    let check = |name: &str, hooks: Value| json!({"name": name, "path": "/health", "hooks": hooks, "retry": {"attempts": 1}, "assert": [{"status": 200}]});
    let spec = json!({
        "target": {"url": green.url()},
        "readiness": {"enabled": false},
        "alarms": {"deployment_group": false},
        "checks": [
            check("a", json!(["AfterAllowTestTraffic", "AfterAllowTraffic"])),
            check("b", json!(["AfterAllowTestTraffic"])),
            check("c", json!(["AfterAllowTraffic"]))
        ]
    })
    .to_string();
    // WHEN AfterAllowTestTraffic runs
    let run = Invocation::new("after-allow-test-traffic", &spec)
        .run()
        .await;
    // THEN it ran a and b, not c, side by side
    assert_reported_once(&run, "Succeeded");
    let checks = run.answer.as_ref().expect("answered").response()["verdict"]["checks"].clone();
    let names: Vec<&str> = checks
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, vec!["a", "b"]);
    assert_eq!(green.requests(), 2);
    // Two 800 ms checks one after the other would take over 1.6 s.
    let took = verdict(&run)["duration_ms"].as_u64().unwrap_or(u64::MAX);
    assert!(took < 1600, "took {took} ms");
}

#[tokio::test]
async fn a_hook_with_no_checks_fails() {
    greenlight_e2e::cargo_hooks!();
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = json!({
        "target": {"url": green.url()},
        "readiness": {"enabled": false},
        "alarms": {"deployment_group": false},
        "checks": [{"name": "only-prod", "hooks": ["AfterAllowTraffic"], "assert": [{"status": 200}]}]
    })
    .to_string();
    let run = Invocation::new("before-allow-traffic", &spec).run().await;
    assert_reported_once(&run, "Failed");
    assert!(
        verdict(&run)["reasons"]
            .as_str()
            .unwrap_or_default()
            .contains("no check in the spec runs in BeforeAllowTraffic")
    );
}

/// The name green's test certificate is issued for.
const TLS_NAME: &str = "green.example.invalid";

/// A spec with one `/health` check of `green` over TLS, with these
/// assertions.
fn tls_spec(green: &TlsGreen, asserts: Value) -> String {
    json!({
        "target": {
            "url": format!("https://127.0.0.1:{}", green.addr().port()),
            "host": TLS_NAME,
            "ca_pem": green.ca_pem()
        },
        "readiness": {"enabled": false},
        "alarms": {"deployment_group": false},
        "checks": [{
            "name": "tls",
            "path": "/health",
            "retry": {"attempts": 1},
            "assert": asserts
        }]
    })
    .to_string()
}

fn wants_14_days() -> Value {
    json!([{"status": 200}, {"certificate": {"expires_in_days_at_least": 14}}])
}

#[tokio::test]
async fn a_certificate_that_expires_too_soon_fails_the_hook_naming_its_days() {
    greenlight_e2e::cargo_hooks!();
    // GIVEN green over TLS with a certificate that has 3 days left
    let green = TlsGreen::start_valid_for(TLS_NAME, Duration::from_secs(3 * 86_400 + 3600)).await;
    // WHEN a hook wants 14 days of it
    let run = Invocation::new(
        "after-allow-test-traffic",
        &tls_spec(&green, wants_14_days()),
    )
    .run()
    .await;
    // THEN it fails, and the verdict says what was wanted and what was found
    assert_reported_once(&run, "Failed");
    let reasons = run.reasons();
    assert!(
        reasons.contains("certificate expires in >= 14 days"),
        "{reasons}"
    );
    assert!(reasons.contains("expires in 3 days ("), "{reasons}");
}

#[tokio::test]
async fn a_certificate_with_time_to_spare_passes_the_hook() {
    greenlight_e2e::cargo_hooks!();
    // GIVEN green over TLS with a certificate valid for 90 days
    let green = TlsGreen::start_valid_for(TLS_NAME, Duration::from_secs(90 * 86_400)).await;
    // WHEN a hook wants 14 days of it
    let run = Invocation::new(
        "after-allow-test-traffic",
        &tls_spec(&green, wants_14_days()),
    )
    .run()
    .await;
    // THEN it succeeds
    assert_reported_once(&run, "Succeeded");
}

#[tokio::test]
async fn a_certificate_assertion_over_plain_http_fails_saying_so() {
    greenlight_e2e::cargo_hooks!();
    let green = GreenService::start(Behaviour::Healthy).await;
    let run = Invocation::new(
        "after-allow-test-traffic",
        &spec(&green.url(), wants_14_days(), json!({"attempts": 1})),
    )
    .run()
    .await;
    assert_reported_once(&run, "Failed");
    let reasons = run.reasons();
    assert!(
        reasons.contains("no TLS certificate: the response came over http"),
        "{reasons}"
    );
}

/// A schema for green's `/health`: `{"status":"ok","version":"1.4.2"}`,
/// with the version's type given.
fn health_schema(version_type: &str) -> Value {
    json!([{"json_schema": {
        "type": "object",
        "required": ["status", "version"],
        "properties": {
            "status": {"const": "ok"},
            "version": {"type": version_type}
        }
    }}])
}

#[tokio::test]
async fn a_body_that_violates_its_json_schema_fails_the_hook_saying_where() {
    greenlight_e2e::cargo_hooks!();
    // GIVEN green whose version is a string, and a schema that wants a number
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = spec(
        &green.url(),
        health_schema("number"),
        json!({"attempts": 1}),
    );
    // WHEN a hook checks it
    let run = Invocation::new("after-allow-test-traffic", &spec)
        .run()
        .await;
    // THEN it fails at the version, without its value (the check sends a
    // secret)
    assert_reported_once(&run, "Failed");
    let reasons = run.reasons();
    assert!(
        reasons.contains(r#"at /version: value is not of type "number""#),
        "{reasons}"
    );
    assert!(!reasons.contains("1.4.2"), "{reasons}");
}

#[tokio::test]
async fn a_body_that_conforms_to_its_json_schema_passes_the_hook() {
    greenlight_e2e::cargo_hooks!();
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = spec(
        &green.url(),
        health_schema("string"),
        json!({"attempts": 1}),
    );
    let run = Invocation::new("after-allow-test-traffic", &spec)
        .run()
        .await;
    assert_reported_once(&run, "Succeeded");
}

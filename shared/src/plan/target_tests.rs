//! The target: its URL and the listener chosen.

use serde_json::json;

use crate::plan::Plan;
use crate::plan::tests::{check, problems, spec};

#[test]
fn a_bad_target_url_is_reported() {
    // GIVEN a target that is not a URL, and one without a host
    let not_a_url = json!({"target": {"url": "green.internal:8080"}, "checks": [check("a")]});
    let relative = json!({"target": {"url": "/health"}, "checks": [check("a")]});
    // WHEN they are validated
    let not_a_url = problems(&not_a_url);
    let relative = problems(&relative);
    // THEN only the target is reported (the checks' paths are not joined
    // to a broken URL)
    assert_eq!(
        not_a_url,
        [
            "target.url: expected an http:// or https:// URL with a host, got something else (the value is not shown)"
        ]
    );
    assert_eq!(
        relative,
        [
            "target.url: expected an http:// or https:// URL, got something else (relative URL without a base; the value is not shown)"
        ]
    );
}

#[test]
fn credentials_in_the_target_url_are_refused_without_echoing_them() {
    // GIVEN a target URL with a password in it
    let mut spec = spec(vec![check("health")]);
    spec["target"]["url"] = json!("https://ops:hunter2@green.internal");
    // WHEN it is validated
    let problems = problems(&spec);
    // THEN it is refused, and the password is not in the message
    assert_eq!(
        problems,
        vec![
            "target.url: credentials in the URL would end up in logs: send them in a header marked secret"
        ]
    );
}

#[test]
fn a_query_in_the_target_url_is_refused_not_dropped() {
    let mut spec = spec(vec![check("health")]);
    spec["target"]["url"] = json!("https://green.internal/?token=x");
    assert_eq!(
        problems(&spec),
        vec![
            "target.url: expected a base URL without query or fragment (put queries in a check's path)"
        ]
    );
}

#[test]
fn the_production_listener_is_refused_for_checks_before_traffic_moves() {
    let mut spec = json!({"target": {"listener": "production"}, "checks": [check("health")]});
    assert_eq!(
        problems(&spec)[0],
        "target.listener: production still serves blue in AfterAllowTestTraffic and BeforeAllowTraffic: use it only for checks limited to AfterAllowTraffic (\"hooks\"), or leave it out"
    );
    spec["checks"][0]["hooks"] = json!(["AfterAllowTraffic"]);
    assert!(Plan::from_json(&spec.to_string()).is_ok());
}

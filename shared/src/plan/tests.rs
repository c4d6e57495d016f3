//! Validation as a whole: a spec's text in, a plan or every problem out.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use super::*;
use crate::hook::Hook;
use crate::retry::RetryPolicy;

pub(super) const TARGET: &str = "http://green.internal:8080";

/// A check that passes validation.
pub(super) fn check(name: &str) -> Value {
    json!({"name": name, "path": "/health", "assert": [{"status": 200}]})
}

/// A spec with these checks and nothing else.
pub(super) fn spec(checks: Vec<Value>) -> Value {
    json!({"target": {"url": TARGET}, "checks": checks})
}

pub(super) fn plan(spec: &Value) -> Plan {
    Plan::from_json(&spec.to_string()).unwrap_or_else(|error| panic!("{error}"))
}

/// The problems found in a spec given as JSON text, as `path: message`.
pub(super) fn problems_in(text: &str) -> Vec<String> {
    match Plan::from_json(text) {
        Ok(plan) => panic!("expected problems, got a plan: {plan:?}"),
        Err(error) => error.problems.iter().map(ToString::to_string).collect(),
    }
}

pub(super) fn problems(spec: &Value) -> Vec<String> {
    problems_in(&spec.to_string())
}

#[test]
fn sizes_are_bounded() {
    // GIVEN a request body over 1 MiB, too many headers and too many checks
    let mut big = check("big");
    big["body"] = json!("x".repeat(MAX_REQUEST_BODY_BYTES + 1));
    let mut headers = serde_json::Map::new();
    for i in 0..=MAX_HEADERS {
        headers.insert(format!("x-h{i}"), json!("v"));
    }
    big["headers"] = Value::Object(headers);
    let mut checks = vec![big];
    checks.extend((0..MAX_CHECKS).map(|i| check(&format!("c{i}"))));
    // THEN each limit is named, with the size found
    let found = problems(&spec(checks));
    assert_eq!(
        found,
        vec![
            "checks: expected at most 500 checks, got 501".to_owned(),
            "checks[0].headers: expected at most 64 headers, got 65".to_owned(),
            "checks[0].body: expected at most 262144 bytes, got 262145".to_owned(),
        ]
    );
}

#[test]
fn positional_arrays_are_refused_where_objects_belong() {
    // GIVEN structures written as arrays, which serde would fill in order
    let mut spec = spec(vec![check("a")]);
    spec["readiness"] = json!([false, null, null]);
    spec["checks"][0]["retry"] = json!([1, null, null, null]);
    spec["checks"][0]["headers"] = json!({"X-Token": ["v", true]});
    // WHEN it is validated
    let problems = problems(&spec);
    // THEN each is refused at its path
    assert_eq!(
        problems,
        vec![
            "checks[0].headers.X-Token: invalid type: sequence, expected an object",
            "checks[0].retry: invalid type: sequence, expected an object",
            "readiness: invalid type: sequence, expected an object",
        ]
    );
}

#[test]
fn serde_errors_quote_no_value_and_only_field_names_that_look_like_ours() {
    let mut listener = spec(vec![check("a")]);
    listener["target"]["listener"] = json!("Bearer tok-123456");
    let problems_of_listener = problems(&listener);
    assert!(
        problems_of_listener[0].starts_with(
            "target.listener: unknown variant (not shown), expected `test` or `production`"
        ),
        "{problems_of_listener:?}"
    );
    let mut field = spec(vec![check("a")]);
    field["checks"][0]["Bearer tok-123456"] = json!(1);
    let problems = problems(&field);
    assert!(
        problems[0].starts_with("checks[0]: unknown field (not shown), expected one of `name`"),
        "{problems:?}"
    );
    assert!(!problems[0].contains("tok-123456"), "{problems:?}");
}

#[test]
fn a_string_in_the_wrong_place_is_not_echoed() {
    // GIVEN a token written as the headers map itself
    let text = r#"{"target": {"url": "http://green.internal"}, "checks": [{"name": "a",
            "headers": "Authorization: Bearer s3cr3t-t0ken", "assert": [{"status": 200}]}]}"#;
    // THEN the field and the expected type are named, the value is not
    let found = problems_in(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("checks[0].headers: invalid type: string (not shown), expected a map"),
        "{found:?}"
    );
    assert!(!found[0].contains("s3cr3t"), "{found:?}");
}

#[test]
fn a_spec_over_one_mebibyte_is_refused_before_parsing() {
    let text = format!(
        "{{\"checks\": [], \"pad\": \"{}\"}}",
        "x".repeat(MAX_SPEC_BYTES)
    );
    assert_eq!(
        problems_in(&text),
        vec![format!(
            "spec: expected at most 1048576 bytes, got {}",
            text.len()
        )]
    );
}

#[test]
fn a_good_spec_builds_a_plan_with_the_defaults() {
    // GIVEN a spec that sets nothing but the target and one check
    let spec = spec(vec![check("health")]);
    // WHEN it is validated
    let plan = plan(&spec);
    // THEN the defaults apply
    assert_eq!(plan.concurrency, 8);
    assert_eq!(plan.checks.len(), 1);
    let check = &plan.checks[0];
    assert_eq!(check.name, "health");
    assert_eq!(check.hooks, Hook::ALL.to_vec());
    assert_eq!(check.steps[0].timeout, Duration::from_millis(5000));
    assert_eq!(check.steps[0].timeout, DEFAULT_TIMEOUT);
    assert_eq!(
        check.retry,
        RetryPolicy {
            attempts: Some(3),
            interval: Duration::from_millis(1000),
            within: None,
            consecutive_passes: 1,
        }
    );
    assert_eq!(check.steps[0].request.method, Method::GET);
    assert_eq!(
        check.steps[0].request.url.as_str(),
        "http://green.internal:8080/health"
    );
    assert!(check.steps[0].request.headers.is_empty());
    assert_eq!(check.steps[0].request.body, None);
    assert_eq!(check.steps[0].assertions.len(), 1);
    assert_eq!(check.steps[0].assertions[0].describe(), "status == 200");
    // AND white space after the spec (a file's last newline) is fine
    assert!(Plan::from_json(&format!("{spec}\n\n")).is_ok());
}

#[test]
fn the_path_defaults_to_the_root_and_the_method_is_case_insensitive() {
    // GIVEN a check without a path and with a lower-case method
    let spec = spec(vec![
        json!({"name": "root", "method": "post", "body": "{}", "assert": [{"status": 200}]}),
    ]);
    // WHEN it is validated
    let plan = plan(&spec);
    // THEN it posts to the target's root
    let request = &plan.checks[0].steps[0].request;
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.url.as_str(), "http://green.internal:8080/");
    assert_eq!(request.body.as_deref(), Some("{}"));
}

#[test]
fn several_problems_are_all_reported_in_document_order() {
    // GIVEN a spec with problems at the top, in several checks and in
    // several fields of one check
    let spec = json!({
        "target": {"url": "ftp://green.internal"},
        "concurrency": 0,
        "defaults": {"timeout_ms": 0},
        "checks": [
            {"name": "a", "path": "health", "assert": [{"status": 200}]},
            {"name": "b", "method": "FETCH", "timeout_ms": 999999,
             "assert": [{"status": 200}, {"status": 42}]},
            {"name": "a", "assert": [{"body": {"matches": "("}}]}
        ]
    });
    // WHEN it is validated
    let problems = problems(&spec);
    // THEN every problem is there, in the order of the document, each with
    // the path of the field at fault
    let paths: Vec<&str> = problems
        .iter()
        .map(|p| p.split_once(": ").map_or(p.as_str(), |(path, _)| path))
        .collect();
    assert_eq!(
        paths,
        [
            "target.url",
            "concurrency",
            "defaults.timeout_ms",
            "checks[0].path",
            "checks[1].method",
            "checks[1].timeout_ms",
            "checks[1].assert[1].status",
            "checks[2].name",
            "checks[2].assert[0].body.matches",
        ],
        "{problems:#?}"
    );
    assert_eq!(
        problems[0],
        "target.url: expected an http:// or https:// URL with a host, got something else (the value is not shown)"
    );
    assert_eq!(problems[1], "concurrency: expected 1..=128, got 0");
    assert_eq!(
        problems[2],
        "defaults.timeout_ms: expected 1..=300000 milliseconds, got 0"
    );
    assert_eq!(
        problems[5],
        "checks[1].timeout_ms: expected 1..=300000 milliseconds, got 999999"
    );
}

#[test]
fn the_error_lists_every_problem_on_one_line() {
    // GIVEN a spec with two problems
    let spec = json!({"target": {"url": TARGET}, "concurrency": 129, "checks": []});
    // WHEN it is validated
    let error = Plan::from_json(&spec.to_string()).expect_err("invalid spec");
    // THEN the error's text has both, separated by "; "
    assert_eq!(
        error.to_string(),
        "invalid spec: concurrency: expected 1..=128, got 129; checks: add at least one check"
    );
}

#[test]
fn a_string_where_a_number_is_expected_is_reported_with_its_path() {
    // GIVEN a timeout given as a string
    let text = r#"{"target": {"url": "http://green.internal"},
            "checks": [{"name": "a", "timeout_ms": "5000", "assert": [{"status": 200}]}]}"#;
    // WHEN it is parsed
    // THEN the path and serde's words are reported
    assert_eq!(
        problems_in(text),
        [
            "checks[0].timeout_ms: invalid type: string (not shown), expected u64 at line 2 column 57"
        ]
    );
}

#[test]
fn a_status_of_the_wrong_shape_says_what_is_accepted() {
    // GIVEN a status given as a string
    let text = r#"{"target": {"url": "http://green.internal"},
            "checks": [{"name": "a", "assert": [{"status": "200"}]}]}"#;
    // WHEN it is parsed
    let problems = problems_in(text);
    // THEN the problem is at the status and lists the accepted shapes
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
            problems[0].starts_with(
                "checks[0].assert[0].status: a status code 100..599, a list of them, or {\"min\": 200, \"max\": 299}"
            ),
            "{problems:?}"
        );
}

#[test]
fn an_unknown_assertion_is_reported_at_the_assertion() {
    // GIVEN a misspelt assertion key
    let text = r#"{"target": {"url": "http://green.internal"},
            "checks": [{"name": "a", "assert": [{"statuz": 200}]}]}"#;
    // WHEN it is parsed
    let problems = problems_in(text);
    // THEN the problem is at the assertion and lists the known ones
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
            problems[0].starts_with(
                "checks[0].assert[0]: unknown variant (not shown), expected one of `status`, `header`, `body`, `json`, `duration_ms`"
            ),
            "{problems:?}"
        );
}

#[test]
fn an_unknown_field_is_reported_at_that_field() {
    // GIVEN `timeout` instead of `timeout_ms` in a check, and an unknown
    // field at the top
    let in_check = r#"{"target": {"url": "http://green.internal"},
            "checks": [{"name": "a", "timeout": 5, "assert": [{"status": 200}]}]}"#;
    let at_top = r#"{"target": {"url": "http://green.internal"}, "check": []}"#;
    // WHEN they are parsed
    let in_check = problems_in(in_check);
    let at_top = problems_in(at_top);
    // THEN the field's path is given, with the fields expected there
    assert_eq!(in_check.len(), 1, "{in_check:?}");
    assert!(
            in_check[0].starts_with(
                "checks[0].timeout: unknown field `timeout`, expected one of `name`, `hooks`, `method`, `path`, `headers`, `body`, `follow_redirects`, `timeout_ms`, `retry`, `assert`"
            ),
            "{in_check:?}"
        );
    assert_eq!(at_top.len(), 1, "{at_top:?}");
    assert!(
        at_top[0].starts_with("check: unknown field `check`, expected one of"),
        "{at_top:?}"
    );
}

#[test]
fn a_missing_assert_field_is_reported_at_the_check() {
    // GIVEN a check without `assert`
    let text = r#"{"target": {"url": "http://green.internal"}, "checks": [{"name": "a"}]}"#;
    // WHEN it is parsed
    let problems = problems_in(text);
    // THEN the check's assert is named
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("checks[0].assert: add at least one assertion"),
        "{problems:?}"
    );
}

#[test]
fn text_that_is_not_json_is_reported_at_the_spec() {
    // GIVEN an empty text and a text that is not JSON
    // WHEN they are parsed
    let empty = problems_in("");
    let xml = problems_in("<spec/>");
    // THEN the whole spec is at fault
    assert_eq!(
        empty,
        ["spec: EOF while parsing a value at line 1 column 0"]
    );
    assert_eq!(xml, ["spec: expected value at line 1 column 1"]);
}

#[test]
fn text_after_the_spec_is_rejected() {
    // GIVEN a good spec followed by something else (e.g. two specs pasted
    // one after the other)
    let good = spec(vec![check("a")]).to_string();
    let text = format!("{good}\n{good}");
    // WHEN it is parsed
    let problems = problems_in(&text);
    // THEN it is not silently cut to its first value
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("spec: trailing characters"),
        "{problems:?}"
    );
}

#[test]
fn discovery_settings_are_validated_with_their_paths() {
    let mut spec = spec(vec![check("health")]);
    spec["target"]["resolve"] = json!({"alb.example": "not-an-ip"});
    spec["readiness"] = json!({"timeout_ms": 0});
    spec["bake"] = json!({"duration_ms": 1000, "metrics": [{"metric": "X", "stat": "p1000", "greater_than": 1, "less_than": 2}]});
    assert_eq!(
        problems(&spec),
        vec![
            "target.resolve.alb.example: expected an IP address (the value is not shown)",
            "readiness.timeout_ms: expected 1..=900000, got 0",
            "bake.metrics[0].stat: expected one of Sum, Average, Minimum, Maximum, SampleCount or a percentile such as p99 (the value is not shown)",
            "bake.metrics[0]: expected exactly one of greater_than, less_than, at_most_ratio, at_most_increase, mann_whitney",
        ]
    );
}

#[test]
fn a_spec_without_url_needs_discovery_and_one_with_everything_off_does_not() {
    let spec_without_url = json!({"checks": [check("health")]});
    assert!(plan(&spec_without_url).needs_discovery(Hook::AfterAllowTestTraffic));
    let mut local = spec(vec![check("health")]);
    local["readiness"] = json!({"enabled": false});
    local["alarms"] = json!({"deployment_group": false});
    assert!(!plan(&local).needs_discovery(Hook::AfterAllowTraffic));
}

#[test]
fn alarm_names_are_bounded_naming_the_path() {
    let mut spec = spec(vec![check("health")]);
    let names: Vec<String> = (0..=MAX_ALARM_NAMES).map(|i| format!("a{i}")).collect();
    spec["alarms"] = json!({"names": names});
    assert_eq!(
        problems(&spec),
        vec!["alarms.names: expected at most 1000 alarm names, got 1001"]
    );
    spec["alarms"]["names"].as_array_mut().expect("names").pop();
    assert!(Plan::from_json(&spec.to_string()).is_ok());
}

//! Requests: headers (and secrets among them) and redirects.

use serde_json::json;

use crate::plan::Plan;
use crate::plan::tests::{check, plan, problems, spec};
use crate::probe::Redirects;
use crate::redaction::REDACTED;

#[test]
fn redirects_are_not_followed_unless_the_check_says_so() {
    // GIVEN one check without follow_redirects and one with it
    let mut follows = check("follows");
    follows["follow_redirects"] = json!({"max": 3, "hosts": ["Login.Example.com"]});
    let plan = plan(&spec(vec![check("plain"), follows]));
    // THEN the first follows none, the second up to 3, with the host lowercased
    assert_eq!(
        plan.checks[0].steps[0].request.redirects,
        Redirects::default()
    );
    assert_eq!(
        plan.checks[1].steps[0].request.redirects,
        Redirects {
            max: 3,
            hosts: vec!["login.example.com".to_owned()]
        }
    );
}

#[test]
fn redirect_limits_and_hosts_are_validated() {
    let mut zero = check("zero");
    zero["follow_redirects"] = json!({"max": 0});
    let mut many = check("many");
    many["follow_redirects"] = json!({"max": 11, "hosts": ["ok.example", "http://x/"]});
    assert_eq!(
        problems(&spec(vec![zero, many])),
        vec![
            "checks[0].follow_redirects.max: expected 1..=10 (leave follow_redirects out to follow none), got 0",
            "checks[1].follow_redirects.max: expected 1..=10 (leave follow_redirects out to follow none), got 11",
            "checks[1].follow_redirects.hosts[1]: expected a host name such as login.example.com, or host:port (the value is not shown)",
        ]
    );
}

#[test]
fn secret_header_values_are_known_to_the_redactor_and_hidden_from_debug() {
    // GIVEN a header marked secret, an Authorization header not marked, and
    // a plain header
    let mut spec = spec(vec![check("a")]);
    spec["checks"][0]["headers"] = json!({
        "X-Token": {"value": "tok-marked-123", "secret": true},
        "Authorization": "Bearer unmarked-456",
        "X-Trace": "visible-789"
    });
    // WHEN it is validated
    let plan = plan(&spec);
    // THEN both secret values are redacted from any text, the plain one is not
    assert_eq!(
        plan.redactor
            .redact("echo tok-marked-123 / Bearer unmarked-456 / visible-789"),
        format!("echo {REDACTED} / {REDACTED} / visible-789")
    );
    // AND the request's Debug does not print them
    let debug = format!("{:?}", plan.checks[0].steps[0].request);
    assert!(!debug.contains("tok-marked-123"), "{debug}");
    assert!(!debug.contains("unmarked-456"), "{debug}");
    assert!(debug.contains("visible-789"), "{debug}");
    // AND the values are still sent as they are
    let headers = &plan.checks[0].steps[0].request.headers;
    assert_eq!(headers["x-token"], "tok-marked-123");
    assert_eq!(headers["authorization"], "Bearer unmarked-456");
    assert!(headers["authorization"].is_sensitive());
}

#[test]
fn always_secret_headers_are_secret_whatever_their_case() {
    // GIVEN cookie and API key headers in odd cases, not marked
    let mut spec = spec(vec![check("a")]);
    spec["checks"][0]["headers"] = json!({
        "COOKIE": "session=c00kie",
        "x-API-key": "k3y",
        "Proxy-Authorization": {"value": "Basic cHJveHk=", "secret": false}
    });
    // WHEN it is validated
    let plan = plan(&spec);
    // THEN all of them are redacted
    assert_eq!(
        plan.redactor.redact("session=c00kie k3y Basic cHJveHk="),
        format!("{REDACTED} {REDACTED} {REDACTED}")
    );
}

#[test]
fn an_invalid_header_value_is_reported_without_echoing_it() {
    // GIVEN header values with a control character, one of them not marked
    // secret though it is one
    let mut spec = spec(vec![check("a")]);
    spec["checks"][0]["headers"] = json!({
        "X-Api-Token": "hunter2\n",
        "X-Other": {"value": "s3cr3t\u{7}", "secret": true}
    });
    // WHEN it is validated
    let error = Plan::from_json(&spec.to_string()).expect_err("invalid header values");
    // THEN both are reported at their header
    let problems: Vec<String> = error.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            "checks[0].headers.X-Api-Token: not a valid HTTP header value (control characters or non-ASCII?)",
            "checks[0].headers.X-Other: not a valid HTTP header value (control characters or non-ASCII?)",
        ]
    );
    // AND no part of the error shows the values
    let text = format!("{error} {error:?}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!text.contains("s3cr3t"), "{text}");
}

#[test]
fn an_invalid_header_name_is_reported() {
    // GIVEN a header name with a space
    let mut spec = spec(vec![check("a")]);
    spec["checks"][0]["headers"] = json!({"X Trace": "1"});
    // WHEN it is validated
    // THEN it is reported at that header
    assert_eq!(
        problems(&spec),
        ["checks[0].headers: a name is not a valid HTTP header name (the value is not shown)"]
    );
}

#[test]
fn a_misspelt_secret_key_is_an_error_not_a_leak() {
    let mut c = check("health");
    c["headers"] = json!({"X-Token": {"value": "s3cr3t", "secrte": true}});
    let problems = problems(&spec(vec![c]));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("checks[0].headers.X-Token: "),
        "{problems:?}"
    );
    assert!(!problems[0].contains("s3cr3t"), "{problems:?}");
}

#[test]
fn the_token_of_a_secret_bearer_value_is_redacted_alone_too() {
    let mut c = check("health");
    c["headers"] = json!({"Authorization": "Bearer tok-123456"});
    let plan = plan(&spec(vec![c]));
    assert_eq!(
        plan.redactor.redact("echo: tok-123456"),
        format!("echo: {REDACTED}")
    );
}

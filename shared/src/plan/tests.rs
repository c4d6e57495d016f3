//! Validation as a whole: a spec's text in, a plan or every problem out.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use super::*;
use crate::assertion::Assertion;
use crate::probe::Redirects;
use crate::redaction::REDACTED;
use crate::retry::RetryPolicy;

const TARGET: &str = "http://green.internal:8080";

/// A check that passes validation.
fn check(name: &str) -> Value {
    json!({"name": name, "path": "/health", "assert": [{"status": 200}]})
}

/// A spec with these checks and nothing else.
fn spec(checks: Vec<Value>) -> Value {
    json!({"target": {"url": TARGET}, "checks": checks})
}

fn plan(spec: &Value) -> Plan {
    Plan::from_json(&spec.to_string()).unwrap_or_else(|error| panic!("{error}"))
}

/// The problems found in a spec given as JSON text, as `path: message`.
fn problems_in(text: &str) -> Vec<String> {
    match Plan::from_json(text) {
        Ok(plan) => panic!("expected problems, got a plan: {plan:?}"),
        Err(error) => error.problems.iter().map(ToString::to_string).collect(),
    }
}

fn problems(spec: &Value) -> Vec<String> {
    problems_in(&spec.to_string())
}

// --- limits and redirects ----------------------------------------------

#[test]
fn redirects_are_not_followed_unless_the_check_says_so() {
    // GIVEN one check without follow_redirects and one with it
    let mut follows = check("follows");
    follows["follow_redirects"] = json!({"max": 3, "hosts": ["Login.Example.com"]});
    let plan = plan(&spec(vec![check("plain"), follows]));
    // THEN the first follows none, the second up to 3, with the host lowercased
    assert_eq!(plan.checks[0].request.redirects, Redirects::default());
    assert_eq!(
        plan.checks[1].request.redirects,
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
fn a_deeply_nested_json_path_is_refused_without_parsing_it() {
    // GIVEN a filter nested 100000 deep (the parser recurses per level)
    let deep = format!("$[?{}@.a{}]", "(".repeat(100_000), ")".repeat(100_000));
    let mut nested = check("nested");
    nested["assert"] = json!([{"json": {"path": deep, "exists": true}}]);
    let mut fine = check("fine");
    fine["assert"] = json!([{"json": {"path": "$.a[?(@.b == 1)].c[0]", "exists": true}}]);
    // THEN it is a problem named at the field, and a normal path is not
    let found = problems(&spec(vec![nested, fine]));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("checks[0].assert[0].json.path: invalid JSONPath"),
        "{found:?}"
    );
    assert!(found[0].contains("at most 1024 bytes and 32 nested brackets"));
}

#[test]
fn json_paths_that_multiply_work_on_a_large_body_are_refused() {
    // GIVEN paths with two descendant segments, and unions that multiply
    // the nodes found by 6
    let mut spec = spec(vec![check("a")]);
    spec["checks"][0]["assert"] = json!([
        {"json": {"path": "$..a..b", "exists": true}},
        {"json": {"path": "$[0,1,2]['a','b']", "exists": true}},
        {"json": {"path": "$..error", "exists": false}},
        {"json": {"path": "$[?@.a == 'x..y,z']['p','q'][0,1]", "exists": true}}
    ]);
    // WHEN it is validated
    let problems = problems(&spec);
    // THEN the first two are refused with the reason, the others (one
    // descendant; a product of 4, dots and commas in a string) are not
    assert_eq!(
        problems,
        vec![
            "checks[0].assert[0].json.path: invalid JSONPath (RFC 9535, e.g. $.status): expected at most 1 descendant segment (..), got 2: each one more can multiply the work on a large body by its size",
            "checks[0].assert[1].json.path: invalid JSONPath (RFC 9535, e.g. $.status): expected unions that multiply the nodes found by at most 4 in all (the product of the selectors per bracket), got 6",
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

// --- a good spec --------------------------------------------------------

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
    assert_eq!(check.timeout, Duration::from_millis(5000));
    assert_eq!(check.timeout, DEFAULT_TIMEOUT);
    assert_eq!(
        check.retry,
        RetryPolicy {
            attempts: Some(3),
            interval: Duration::from_millis(1000),
            within: None,
            consecutive_passes: 1,
        }
    );
    assert_eq!(check.request.method, Method::GET);
    assert_eq!(
        check.request.url.as_str(),
        "http://green.internal:8080/health"
    );
    assert!(check.request.headers.is_empty());
    assert_eq!(check.request.body, None);
    assert_eq!(check.assertions.len(), 1);
    assert_eq!(check.assertions[0].describe(), "status == 200");
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
    let request = &plan.checks[0].request;
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.url.as_str(), "http://green.internal:8080/");
    assert_eq!(request.body.as_deref(), Some("{}"));
}

#[test]
fn every_kind_of_assertion_validates() {
    // GIVEN one check with every assertion kind
    let spec = spec(vec![json!({
        "name": "all",
        "assert": [
            {"status": [200, 204]},
            {"status": {"min": 200, "max": 299}},
            {"header": {"name": "Content-Type", "contains": "json"}},
            {"header": {"name": "x-none", "exists": false}},
            {"body": {"matches": "^ok"}},
            {"json": {"path": "$.db.latency_ms", "less_than": 50}},
            {"json": {"path": "$.features", "contains": "b"}},
            {"duration_ms": {"less_than": 500}}
        ]
    })]);
    // WHEN it is validated
    let plan = plan(&spec);
    // THEN each assertion says what it expects
    let described: Vec<String> = plan.checks[0]
        .assertions
        .iter()
        .map(Assertion::describe)
        .collect();
    assert_eq!(
        described,
        [
            "status in [200, 204]",
            "status in 200..=299",
            "header content-type contains \"json\"",
            "header x-none does not exist",
            "body matches /^ok/",
            "json $.db.latency_ms < 50",
            "json $.features contains \"b\"",
            "duration_ms < 500",
        ]
    );
}

// --- one problem, with its path ----------------------------------------

#[test]
fn a_status_out_of_range_names_the_check_and_the_assertion() {
    // GIVEN three checks, the third asserting an impossible status
    let mut spec = spec(vec![check("a"), check("b"), check("c")]);
    spec["checks"][2]["assert"][0]["status"] = json!(9999);
    // WHEN it is validated
    // THEN exactly that problem is reported, with its path
    assert_eq!(
        problems(&spec),
        ["checks[2].assert[0].status: expected a number 100..599, got 9999"]
    );
}

#[test]
fn status_lists_and_ranges_are_checked_too() {
    // GIVEN bad codes in a list, an empty list and a reversed range
    let spec = spec(vec![json!({
        "name": "a",
        "assert": [
            {"status": [200, 42, 700]},
            {"status": []},
            {"status": {"min": 299, "max": 200}}
        ]
    })]);
    // WHEN it is validated
    // THEN each is reported at its own assertion
    assert_eq!(
        problems(&spec),
        [
            "checks[0].assert[0].status: expected a number 100..599, got 42, 700",
            "checks[0].assert[1].status: expected at least one status code",
            "checks[0].assert[2].status: min (299) is greater than max (200)",
        ]
    );
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

// --- structural errors (serde) ------------------------------------------

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
    // THEN the check is named
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("checks[0]: missing field `assert`"),
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

// --- assertions ---------------------------------------------------------

#[test]
fn an_invalid_regex_is_reported_at_matches() {
    // GIVEN an unclosed group in a body and a header regex
    let spec = spec(vec![json!({
        "name": "a",
        "assert": [
            {"body": {"matches": "ok("}},
            {"header": {"name": "server", "matches": "[a-"}}
        ]
    })]);
    // WHEN it is validated
    let problems = problems(&spec);
    // THEN both are reported at their `matches`, with the regex error
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with("checks[0].assert[0].body.matches: invalid regular expression: "),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("checks[0].assert[1].header.matches: invalid regular expression: "),
        "{problems:?}"
    );
}

#[test]
fn an_invalid_jsonpath_is_reported_at_path() {
    // GIVEN a JSONPath without the root `$`, and a JSON regex that is bad
    let spec = spec(vec![json!({
        "name": "a",
        "assert": [
            {"json": {"path": "status", "equals": "ok"}},
            {"json": {"path": "$.version", "matches": "("}}
        ]
    })]);
    // WHEN it is validated
    let problems = problems(&spec);
    // THEN both are reported, each at its field
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with(
            "checks[0].assert[0].json.path: invalid JSONPath (RFC 9535, e.g. $.status): "
        ),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("checks[0].assert[1].json.matches: invalid regular expression: "),
        "{problems:?}"
    );
}

#[test]
fn a_json_assertion_needs_exactly_one_predicate() {
    // GIVEN json assertions with none, two predicates and an empty one_of
    let spec = spec(vec![json!({
        "name": "a",
        "assert": [
            {"json": {"path": "$.status"}},
            {"json": {"path": "$.n", "less_than": 5, "at_least": 1}},
            {"json": {"path": "$.status", "one_of": []}}
        ]
    })]);
    // WHEN it is validated
    // THEN each says what it expects
    assert_eq!(
        problems(&spec),
        [
            "checks[0].assert[0].json: expected one of equals, exists, one_of, contains, matches, less_than, at_most, greater_than, at_least",
            "checks[0].assert[1].json: expected exactly one of equals, exists, one_of, contains, matches, less_than, at_most, greater_than, at_least, got less_than and at_least",
            "checks[0].assert[2].json.one_of: expected at least one value",
        ]
    );
}

#[test]
fn a_header_assertion_with_two_predicates_says_expected_exactly_one() {
    // GIVEN header assertions with two predicates, with and without
    // `exists`, and with none
    let spec = spec(vec![json!({
        "name": "a",
        "assert": [
            {"header": {"name": "content-type", "equals": "text/plain", "contains": "json"}},
            {"header": {"name": "content-type", "exists": true, "equals": "text/plain"}},
            {"header": {"name": "content-type"}}
        ]
    })]);
    // WHEN it is validated
    // THEN every message lists all four predicates, and which were given
    assert_eq!(
        problems(&spec),
        [
            "checks[0].assert[0].header: expected exactly one of exists, equals, contains, matches, got equals and contains",
            "checks[0].assert[1].header: expected exactly one of exists, equals, contains, matches, got exists and equals",
            "checks[0].assert[2].header: expected one of exists, equals, contains, matches",
        ]
    );
}

#[test]
fn a_body_assertion_with_two_predicates_says_expected_exactly_one() {
    // GIVEN a body assertion with two predicates
    let spec = spec(vec![json!({
        "name": "a",
        "assert": [{"body": {"equals": "ok", "contains": "o"}}]
    })]);
    // WHEN it is validated
    // THEN the predicates given are named
    assert_eq!(
        problems(&spec),
        [
            "checks[0].assert[0].body: expected exactly one of equals, contains, matches, got equals and contains"
        ]
    );
}

#[test]
fn a_bad_header_name_or_duration_in_an_assertion_is_reported() {
    // GIVEN a header name with a space and a zero duration limit
    let spec = spec(vec![json!({
        "name": "a",
        "assert": [
            {"header": {"name": "content type", "exists": true}},
            {"duration_ms": {"less_than": 0}}
        ]
    })]);
    // WHEN it is validated
    // THEN both are reported at their fields
    assert_eq!(
        problems(&spec),
        [
            "checks[0].assert[0].header.name: not a valid HTTP header name (the value is not shown)",
            "checks[0].assert[1].duration_ms.less_than: expected a positive number of milliseconds",
        ]
    );
}

// --- checks -------------------------------------------------------------

#[test]
fn duplicate_check_names_are_reported_at_the_second() {
    // GIVEN two checks named alike among three
    let spec = spec(vec![check("health"), check("ready"), check("health")]);
    // WHEN it is validated
    // THEN the later one is at fault
    assert_eq!(
        problems(&spec),
        ["checks[2].name: duplicate check name (names must be unique)"]
    );
}

#[test]
fn an_empty_name_is_reported() {
    // GIVEN a blank name
    let spec = spec(vec![check("  ")]);
    // WHEN it is validated
    // THEN it is reported
    assert_eq!(
        problems(&spec),
        ["checks[0].name: expected a non-empty name"]
    );
}

#[test]
fn empty_checks_are_reported() {
    // GIVEN no checks at all
    let spec = spec(vec![]);
    // WHEN it is validated
    // THEN the operator is told to add one
    assert_eq!(problems(&spec), ["checks: add at least one check"]);
}

#[test]
fn an_empty_assert_list_is_reported() {
    // GIVEN a check with no assertion
    let mut spec = spec(vec![check("a")]);
    spec["checks"][0]["assert"] = json!([]);
    // WHEN it is validated
    // THEN the operator is told to add one, with an example
    assert_eq!(
        problems(&spec),
        ["checks[0].assert: add at least one assertion, e.g. {\"status\": 200}"]
    );
}

#[test]
fn an_empty_hooks_list_is_reported() {
    // GIVEN a check that names no hook
    let mut spec = spec(vec![check("a")]);
    spec["checks"][0]["hooks"] = json!([]);
    // WHEN it is validated
    // THEN it is reported (leaving it out means all three)
    assert_eq!(
        problems(&spec),
        ["checks[0].hooks: expected at least one hook (or leave it out for all three)"]
    );
}

#[test]
fn a_path_must_start_with_a_slash() {
    // GIVEN a path without its leading slash
    let mut spec = spec(vec![check("a")]);
    spec["checks"][0]["path"] = json!("health");
    // WHEN it is validated
    // THEN it is reported
    assert_eq!(
        problems(&spec),
        ["checks[0].path: expected a path starting with '/' (the value is not shown)"]
    );
}

#[test]
fn a_path_is_appended_to_the_target_url() {
    // GIVEN targets with and without a base path, and paths with a query
    let cases = [
        (
            "http://green.internal:8080",
            "/health",
            "http://green.internal:8080/health",
        ),
        (
            "http://green.internal:8080/",
            "/health?deep=1",
            "http://green.internal:8080/health?deep=1",
        ),
        (
            "https://api.example.com/prod",
            "/health",
            "https://api.example.com/prod/health",
        ),
        (
            "https://api.example.com/prod/",
            "/",
            "https://api.example.com/prod/",
        ),
    ];
    for (target, path, expected) in cases {
        let spec = json!({
            "target": {"url": target},
            "checks": [{"name": "a", "path": path, "assert": [{"status": 200}]}]
        });
        // WHEN it is validated
        let plan = plan(&spec);
        // THEN the check's URL is the target's followed by the path
        assert_eq!(
            plan.checks[0].request.url.as_str(),
            expected,
            "{target} + {path}"
        );
    }
}

#[test]
fn a_path_cannot_leave_the_target_host() {
    // GIVEN a path that reads as a scheme-relative URL
    let mut spec = spec(vec![check("a")]);
    spec["checks"][0]["path"] = json!("//evil.example/collect");
    // WHEN it is validated
    let plan = plan(&spec);
    // THEN the request still goes to the target (with its secret headers)
    let url = &plan.checks[0].request.url;
    assert_eq!(url.host_str(), Some("green.internal"));
    assert_eq!(url.port(), Some(8080));
}

#[test]
fn a_bad_method_is_reported_with_the_methods_accepted() {
    // GIVEN an unknown method
    let mut spec = spec(vec![check("a")]);
    spec["checks"][0]["method"] = json!("fetch");
    // WHEN it is validated
    // THEN the accepted methods are listed
    assert_eq!(
        problems(&spec),
        [
            "checks[0].method: expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS (the value is not shown)"
        ]
    );
}

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

// --- retry --------------------------------------------------------------

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
    assert_eq!(a.timeout, Duration::from_millis(2000));
    assert_eq!(a.retry.attempts, Some(10));
    assert_eq!(a.retry.interval, Duration::from_millis(500));
    assert_eq!(b.timeout, Duration::from_millis(100));
    assert_eq!(b.retry.attempts, Some(1));
}

// --- headers and secrets ------------------------------------------------

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
    let debug = format!("{:?}", plan.checks[0].request);
    assert!(!debug.contains("tok-marked-123"), "{debug}");
    assert!(!debug.contains("unmarked-456"), "{debug}");
    assert!(debug.contains("visible-789"), "{debug}");
    // AND the values are still sent as they are
    let headers = &plan.checks[0].request.headers;
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

// --- hooks --------------------------------------------------------------

#[test]
fn checks_for_a_hook_are_those_that_name_it_in_spec_order() {
    // GIVEN a check for every hook, one for the gate only, and one for the
    // test-traffic and after-traffic hooks
    let mut spec = spec(vec![check("all"), check("gate"), check("traffic")]);
    spec["checks"][1]["hooks"] = json!(["BeforeAllowTraffic"]);
    spec["checks"][2]["hooks"] = json!(["AfterAllowTestTraffic", "AfterAllowTraffic"]);
    // WHEN the plan is asked for each hook's checks
    let plan = plan(&spec);
    let names = |hook: Hook| -> Vec<&str> {
        plan.checks_for(hook)
            .into_iter()
            .map(|c| c.name.as_str())
            .collect()
    };
    // THEN each hook gets the checks that name it, in spec order
    assert_eq!(names(Hook::AfterAllowTestTraffic), ["all", "traffic"]);
    assert_eq!(names(Hook::BeforeAllowTraffic), ["all", "gate"]);
    assert_eq!(names(Hook::AfterAllowTraffic), ["all", "traffic"]);
}

#[test]
fn an_unknown_hook_is_a_structural_error() {
    // GIVEN a hook misspelt
    let mut spec = spec(vec![check("a")]);
    spec["checks"][0]["hooks"] = json!(["BeforeAllowTrafic"]);
    // WHEN it is validated
    let problems = problems(&spec);
    // THEN the hook's path and the known hooks are given
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
            problems[0].starts_with(
                "checks[0].hooks[0]: unknown variant (not shown), expected one of `AfterAllowTestTraffic`, `BeforeAllowTraffic`, `AfterAllowTraffic`"
            ),
            "{problems:?}"
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
            "bake.metrics[0]: expected exactly one of greater_than, less_than",
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
fn the_production_listener_is_refused_for_checks_before_traffic_moves() {
    let mut spec = json!({"target": {"listener": "production"}, "checks": [check("health")]});
    assert_eq!(
        problems(&spec)[0],
        "target.listener: production still serves blue in AfterAllowTestTraffic and BeforeAllowTraffic: use it only for checks limited to AfterAllowTraffic (\"hooks\"), or leave it out"
    );
    spec["checks"][0]["hooks"] = json!(["AfterAllowTraffic"]);
    assert!(Plan::from_json(&spec.to_string()).is_ok());
}

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

//! The checks: names, hooks, paths, methods, and which hook runs which check.

use serde_json::json;

use crate::hook::Hook;
use crate::plan::tests::{check, plan, problems, spec};

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
            plan.checks[0].steps[0].request.url.as_str(),
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
    let url = &plan.checks[0].steps[0].request.url;
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

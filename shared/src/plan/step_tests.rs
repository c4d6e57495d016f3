//! Flows, listeners and comparisons as the spec writes them: what a plan
//! accepts, and each refusal with the field at fault. The refusals are a
//! table: one row per mistake, one driver.

use serde_json::{Value, json};

use crate::plan::tests::{plan, problems, spec};
use crate::plan::{CheckKind, Route};
use crate::spec::{Colour, ListenerChoice};

/// A login on blue, then a call on green with the session.
fn session_flow() -> Value {
    json!({"name": "session", "hooks": ["AfterAllowTestTraffic"], "steps": [
        {"name": "login", "listener": "production", "expect": "blue", "method": "POST",
         "path": "/login", "capture": {"sid": {"cookie": "sid"}, "user": {"json": "$.user"}},
         "assert": [{"status": 200}]},
        {"name": "me", "listener": "test", "path": "/users/{{user}}",
         "headers": {"X-Session": "{{sid}}"}, "assert": [{"status": 200}]}
    ]})
}

#[test]
fn a_flow_is_planned_step_by_step_with_its_captures_and_routes() {
    // GIVEN a session flow
    let plan = plan(&spec(vec![session_flow()]));
    // THEN it is a flow of two steps, the second using what the first captured
    let check = &plan.checks[0];
    assert!(matches!(check.kind, CheckKind::Flow));
    assert_eq!(check.steps.len(), 2);
    assert_eq!(check.steps[0].captures.len(), 2);
    assert!(
        check.steps[0]
            .captures
            .iter()
            .all(|c| c.secret == (c.name == "sid")),
        "a cookie is secret, a JSON value is not unless marked"
    );
    assert!(check.steps[1].templated());
    assert!(check.steps[1].sends_secrets(), "it sends the secret cookie");
    assert_eq!(check.steps[1].listener, Some(ListenerChoice::Test));
    // AND rebased for BeforeAllowTraffic, each step knows whom it reaches
    let base = reqwest::Url::parse("http://alb.example:80").unwrap();
    let rebased = check
        .rebased(
            crate::hook::Hook::BeforeAllowTraffic,
            ListenerChoice::Test,
            |_| Some(base.clone()),
        )
        .unwrap();
    assert_eq!(
        rebased.steps[0].route,
        Some(Route {
            listener: ListenerChoice::Production,
            colour: Colour::Blue
        })
    );
    // AND the plan discovers the production listener for it
    assert_eq!(
        plan.listeners_to_discover(crate::hook::Hook::AfterAllowTestTraffic),
        [ListenerChoice::Production]
    );
}

#[test]
fn captured_values_are_put_in_path_headers_and_body_at_send_time() {
    let plan = plan(&spec(vec![json!({"name": "chain", "steps": [
        {"path": "/login", "capture": {"id": {"regex": "id=(\\w+)"}}, "assert": [{"status": 200}]},
        {"path": "/items/{{id}}", "method": "PUT", "headers": {"X-Id": "{{id}}"},
         "body": "{\"id\": \"{{id}}\"}", "assert": [{"status": 200}]}
    ]})]));
    let step = &plan.checks[0].steps[1];
    let values = [("id".to_owned(), "a b/c".to_owned())]
        .into_iter()
        .collect();
    let request = step.request_with(&values).unwrap();
    assert_eq!(request.url.path(), "/items/a%20b%2Fc");
    assert_eq!(request.headers["x-id"], "a b/c");
    assert_eq!(request.body.as_deref(), Some("{\"id\": \"a b/c\"}"));
}

/// One mistake: the check as written and the one problem expected.
struct Mistake {
    check: Value,
    problem: &'static str,
}

fn mistakes() -> Vec<Mistake> {
    let steps = |steps: Value| json!({"name": "f", "steps": steps});
    vec![
        Mistake {
            check: steps(json!([{"path": "/a/{{nope}}", "assert": [{"status": 200}]}])),
            problem: "checks[0].steps[0].path: uses {{nope}}, which no earlier step captures",
        },
        Mistake {
            check: steps(json!([
                {"path": "/a", "headers": {"X-T": "{{later}}"}, "assert": [{"status": 200}]},
                {"path": "/b", "capture": {"later": {"header": "x-t"}}, "assert": [{"status": 200}]}
            ])),
            problem: "checks[0].steps[0].headers.X-T: uses {{later}}, which no earlier step captures",
        },
        Mistake {
            check: steps(
                json!([{"path": "/a", "body": "{{unclosed", "assert": [{"status": 200}]}]),
            ),
            problem: "checks[0].steps[0].body: '{{' must start a reference such as {{token}} (a name of letters, digits and _)",
        },
        Mistake {
            check: steps(
                json!([{"path": "/a", "capture": {"t": {"json": "$.t", "header": "x"}},
                                 "assert": [{"status": 200}]}]),
            ),
            problem: "checks[0].steps[0].capture.t: expected exactly one of header, cookie, json, regex, got header and json",
        },
        Mistake {
            check: steps(json!([{"path": "/a"}])),
            problem: "checks[0].steps[0].assert: add at least one assertion, e.g. {\"status\": 200}",
        },
        Mistake {
            check: steps(json!([])),
            problem: "checks[0].steps: expected 1..=20 steps, got 0",
        },
        Mistake {
            check: json!({"name": "f", "path": "/x", "steps": [{"path": "/a", "assert": [{"status": 200}]}]}),
            problem: "checks[0].path: a flow's requests are its steps: move it into the steps",
        },
        Mistake {
            check: json!({"name": "blue", "listener": "production", "path": "/", "assert": [{"status": 200}]}),
            problem: "checks[0].listener: the production listener serves blue in AfterAllowTestTraffic: a check of blue says \"expect\": \"blue\"; a check of green goes to the test listener",
        },
        Mistake {
            check: json!({"name": "blue", "listener": "production", "expect": "blue", "path": "/",
                          "assert": [{"status": 200}]}),
            problem: "checks[0].expect: the production listener serves green in AfterAllowTraffic, not blue: limit the check's hooks",
        },
        Mistake {
            check: json!({"name": "t", "listener": "test", "expect": "blue", "path": "/",
                          "assert": [{"status": 200}]}),
            problem: "checks[0].expect: the test listener serves green in AfterAllowTestTraffic, not blue: limit the check's hooks",
        },
        Mistake {
            check: json!({"name": "c", "path": "/items", "compare": "blue"}),
            problem: "checks[0].hooks: blue serves production only before AllowTraffic: limit a comparison to AfterAllowTestTraffic or BeforeAllowTraffic",
        },
        Mistake {
            check: json!({"name": "c", "path": "/items", "hooks": ["BeforeAllowTraffic"],
                          "compare": {"with": "green"}}),
            problem: "checks[0].compare: green is compared with blue: \"compare\": \"blue\"",
        },
        Mistake {
            check: json!({"name": "c", "hooks": ["BeforeAllowTraffic"], "compare": "blue",
                          "steps": [{"path": "/a", "assert": [{"status": 200}]}]}),
            problem: "checks[0].compare: a flow (steps) cannot be compared: compare a check of one request",
        },
        Mistake {
            check: json!({"name": "l", "path": "/", "assert": [{"status": 200}], "retry": {"attempts": 2},
                          "load": {"rps": 10, "duration_s": 5, "latency_ms": {"p99": 100}}}),
            problem: "checks[0].retry: a load probe runs once: its figures are the judgement",
        },
        Mistake {
            check: json!({"name": "l", "steps": [{"path": "/a", "assert": [{"status": 200}]}],
                          "load": {"rps": 10, "duration_s": 5, "latency_ms": {"p99": 100}}}),
            problem: "checks[0].load: a load probe sends one request: leave out steps and compare",
        },
    ]
}

#[test]
fn each_mistake_in_a_flow_is_refused_naming_its_field() {
    for mistake in mistakes() {
        assert_eq!(
            problems(&spec(vec![mistake.check.clone()])),
            [mistake.problem],
            "{}",
            mistake.check
        );
    }
}

#[test]
fn a_comparison_sends_to_green_on_test_and_to_blue_on_production() {
    let plan = plan(&spec(vec![json!({
        "name": "items", "path": "/items", "hooks": ["AfterAllowTestTraffic"],
        "compare": {"with": "blue", "ignore": ["$.generated_at"]}
    })]));
    let check = &plan.checks[0];
    let CheckKind::Compare(compare) = &check.kind else {
        panic!("a comparison: {:?}", check.kind);
    };
    assert_eq!(compare.ignore.len(), 1);
    let routes: Vec<_> = check.steps.iter().map(|s| (s.listener, s.expect)).collect();
    assert_eq!(
        routes,
        [
            (Some(ListenerChoice::Test), Some(Colour::Green)),
            (Some(ListenerChoice::Production), Some(Colour::Blue))
        ]
    );
}

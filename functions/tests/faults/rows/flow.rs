//! Requests that span a flow or a while: a flow's step that never answers,
//! and a load probe longer than the time the hook has.

use std::time::Duration;

use greenlight_e2e::green::Behaviour;
use greenlight_e2e::row::{AFTER_ALLOW_TEST_TRAFFIC as AATT, Area, Row, ok_asserts, once};
use serde_json::json;

use super::{check_line, for_the_sample_deployment, reported_before_the_deadline};

pub fn rows() -> Vec<Row> {
    let area = Area::Green;
    vec![
        Row::new(
            "a_flow_step_that_hangs_fails_naming_the_step_before_the_deadline",
            area,
            "a flow's second step never answers (60 s request timeout, 4 s deadline)",
        )
        .hook(AATT)
        .behaviour(Behaviour::Hang)
        .check(json!({"retry": once(), "steps": [
            {"name": "list", "path": "/api/items",
             "capture": {"first": {"json": "$.items[0].name"}},
             "assert": [{"status": 200}]},
            {"name": "health", "path": "/health?item={{first}}", "timeout_ms": 60000,
             "assert": ok_asserts()}
        ]}))
        .timeout(Duration::from_secs(4))
        .fails("(test listener, green): no response headers within")
        .also(|run, _| {
            for_the_sample_deployment(run);
            reported_before_the_deadline(run);
            let line = check_line(run, "health");
            let actual = line["actual"].as_str().unwrap_or_default();
            assert!(actual.contains("cut short by the hook's deadline"), "{line}");
            assert_eq!(line["captured"], "first=first", "{line}");
            let steps = line["steps"].as_str().unwrap_or_default();
            assert!(
                steps.contains("1 \"list\" (test listener, green): pass 200; 2 \"health\" (test listener, green): fail"),
                "{line}"
            );
        }),
        Row::new(
            "a_load_probe_longer_than_the_deadline_is_cut_and_fails_in_time",
            area,
            "a load probe of 20 rps for 60 s, 4 s deadline",
        )
        .hook(AATT)
        .check(json!({"path": "/health", "assert": ok_asserts(),
                      "load": {"rps": 20, "duration_s": 60, "latency_ms": {"p99": 1000}}}))
        .timeout(Duration::from_secs(4))
        .fails("not sent (cut by the deadline)")
        .also(|run, scene| {
            for_the_sample_deployment(run);
            reported_before_the_deadline(run);
            let sent = scene.requests();
            assert!((20..=80).contains(&sent), "{sent} requests in under 4 s at 20 rps");
            let line = check_line(run, "health");
            let expected = line["expected"].as_str().unwrap_or_default();
            assert!(expected.contains("1200 requests at 20 rps"), "{line}");
        }),
    ]
}

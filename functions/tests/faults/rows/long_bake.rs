//! Bakes longer than one Lambda run: the hook hands the rest of its
//! judgement to a new run of itself (an asynchronous `Invoke` with a
//! continuation event), and the chain reports once. Runs here last 6 s (4.6
//! s to judge in), so that a bake of 7 s with a look every 2 s needs at
//! least three hand-offs: a run sleeps to its next look only with 2 s to
//! spare after it. Whether the first run also makes the first look depends
//! on how fast its checks were, so the rows count looks exactly and
//! hand-offs at least.

use greenlight_e2e::aws_front::{MetricKey, Script};
use greenlight_e2e::codedeploy::Fault;
use greenlight_e2e::hook::Run;
use greenlight_e2e::row::{
    AFTER_ALLOW_TEST_TRAFFIC as AATT, AFTER_ALLOW_TRAFFIC as AAT, Area, Calls, Row, Spec, Told,
};
use greenlight_e2e::world::World;
use serde_json::json;
use std::time::Duration;

/// What the test's Runtime API says the function is.
const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:CodeDeployHook_test";

/// Green's p99 latency, well under the gate, at every look.
fn calm_latency(world: &World) {
    let dimension = world
        .fixture
        .green
        .target_group_arn
        .rsplit(':')
        .next()
        .expect("a dimension")
        .to_owned();
    let key = MetricKey::named("TargetResponseTime").with_dimension(&dimension);
    world
        .front
        .set_metric(key, Script::per_call(vec![Some(0.2)]));
}

/// A bake of 5 s, a look every 2 s, on green's p99 latency.
fn long_bake() -> Spec {
    Spec::World(
        json!({"bake": {"duration_ms": 7000, "interval_ms": 2000, "metrics": [
            {"name": "latency", "metric": "TargetResponseTime", "stat": "p99", "greater_than": 0.5}
        ]}}),
    )
}

/// The looks the bake's result line counts.
fn looks(run: &Run) -> u64 {
    let line = run
        .log_fields("check passed")
        .into_iter()
        .find(|l| l["check"] == "bake")
        .unwrap_or_else(|| panic!("no bake line:\n{}", run.log_text()));
    line["attempts"]
        .as_u64()
        .unwrap_or_else(|| panic!("no attempts in the bake line {line}"))
}

/// Each hand-off went to the function itself, asynchronously, with the
/// deployment's IDs and the next hand-off number.
fn hand_offs_to_itself(run: &Run) {
    for (n, hand_off) in run.hand_offs.iter().enumerate() {
        assert_eq!(hand_off.function, ARN);
        assert_eq!(hand_off.invocation_type, "Event");
        let continuation = &hand_off.payload["greenlightContinuation"];
        assert_eq!(continuation["handOff"], n + 1, "{continuation}");
        assert!(hand_off.payload["DeploymentId"].is_string());
    }
}

/// A row of AfterAllowTraffic's long bake ([`long_bake`]) in runs of 6 s,
/// with green's latency calm and `stage` applied.
fn long_bake_row(id: &'static str, fault: &'static str, stage: fn(&World)) -> Row {
    Row::new(id, Area::Bake, fault)
        .hook(AAT)
        .timeout(Duration::from_secs(6))
        .aws(|s| s, stage)
        .spec(long_bake())
}

/// The one report carries the looks of every run, each counted once.
fn one_report_of_every_look(run: &Run) {
    hand_offs_to_itself(run);
    assert!(run.hand_offs.len() >= 3, "{}", run.log_text());
    assert_eq!(looks(run), 4, "{}", run.log_text());
}

pub fn rows() -> Vec<Row> {
    vec![
        long_bake_row(
            "a_bake_longer_than_a_run_hands_off_and_reports_once",
            "a bake of 7 s, a look every 2 s, in runs of 6 s: three or more hand-offs to a new run of itself",
            calm_latency,
        )
        .succeeds("handed off to a new run of this function")
        .also(|run, _| one_report_of_every_look(run)),
        long_bake_row(
            "a_denied_hand_off_fails_at_once",
            "the role may not invoke the function (lambda:InvokeFunction denied)",
            |w| {
                calm_latency(w);
                w.front.fail("Invoke", Fault::AccessDenied);
            },
        )
        .fails("hand-off: lambda:InvokeFunction failed: AccessDenied")
        .also(|run, _| {
            // In the first run, with nothing handed off.
            assert!(run.hand_offs.is_empty(), "{:?}", run.hand_offs);
            assert!(run.earlier_answers.is_empty(), "{:?}", run.earlier_answers);
        }),
        long_bake_row(
            "a_hand_off_delivered_twice_is_taken_once",
            "Lambda delivers every hand-off twice",
            calm_latency,
        )
        .hand_off_deliveries(2)
        .succeeds("hand-off delivered again; this run already took it")
        .also(|run, _| {
            // No fork: each hand-off was made once, and each look counted once.
            one_report_of_every_look(run);
            let duplicates = run.log_fields("hand-off delivered again");
            assert_eq!(duplicates.len(), run.hand_offs.len(), "{}", run.log_text());
        }),
        Row::new(
            "a_continuation_for_another_function_is_refused",
            Area::Event,
            "an event carrying a continuation written for another function",
        )
        .hook(AATT)
        .event_patch(json!({"greenlightContinuation": {"v": 1,
            "function": "arn:aws:lambda:us-east-1:123456789012:function:other",
            "handOff": 1, "expiresMs": 99_999_999_999_999_u64, "notBeforeMs": 0,
            "state": {"since_ms": 0, "rounds": 1}}}))
        .fails("event.greenlightContinuation.function: written for arn:aws:lambda:us-east-1:123456789012:function:other")
        .also(|run, scene| assert_eq!(scene.requests(), 0, "{}", run.log_text())),
        Row::new(
            "an_expired_continuation_is_refused",
            Area::Event,
            "an event carrying a continuation past its expiry (CodeDeploy's hour, less 5 minutes)",
        )
        .hook(AATT)
        .event_patch(json!({"greenlightContinuation": {"v": 1, "function": ARN,
            "handOff": 4, "expiresMs": 1_000, "notBeforeMs": 0,
            "state": {"since_ms": 0, "rounds": 1}}}))
        .expect(Told::Accepted("Failed"), Calls::Exactly(1), "event.greenlightContinuation.expiresMs: the chain expired")
        .also(|run, scene| assert_eq!(scene.requests(), 0, "{}", run.log_text())),
    ]
}

//! The event CodeDeploy sends: not an object, IDs missing or of the wrong
//! type, too big. Nobody can be told, so each is an invocation error.

use greenlight_e2e::row::{Area, Calls, Row};
use serde_json::json;

use super::{green_not_probed, health_check};

pub fn rows() -> Vec<Row> {
    let area = Area::Event;
    vec![
        Row::new("an_event_that_is_not_an_object_is_an_invocation_error", area, "not a JSON object")
            .event(json!("DeploymentId=d-ABCDEF123"))
            .invocation_error(
                "InvalidEvent",
                Calls::Exactly(0),
                "event: expected a JSON object with DeploymentId and LifecycleEventHookExecutionId, got a string",
            )
            .also(green_not_probed),
        Row::new("an_event_without_ids_is_an_invocation_error", area, "DeploymentId missing")
            .event(json!({"deploymentId": "d-ABCDEF123"}))
            .invocation_error("InvalidEvent", Calls::Exactly(0), "event.DeploymentId: missing")
            .also(green_not_probed),
        Row::new(
            "malformed_event_is_an_invocation_error_and_reports_nothing",
            area,
            "LifecycleEventHookExecutionId missing",
        )
        .check(health_check())
        .event(json!({"DeploymentId": "d-ABCDEF123"}))
        .invocation_error("InvalidEvent", Calls::Exactly(0), "nothing to report to")
        .also(|run, scene| {
            let error = match &run.answer {
                Some(greenlight_e2e::runtime_api::Answer::Error(error)) => error.to_string(),
                other => panic!("expected an invocation error, got {other:?}"),
            };
            assert!(
                error.contains("event.LifecycleEventHookExecutionId: missing"),
                "{error}"
            );
            assert!(
                run.log_text()
                    .contains("not a CodeDeploy lifecycle hook event; nothing to report to"),
                "{}",
                run.log_text()
            );
            assert_eq!(
                scene.requests(),
                0,
                "nothing is probed for an event nobody can be told about"
            );
        }),
        Row::new(
            "an_event_with_ids_of_the_wrong_type_is_an_invocation_error",
            area,
            "IDs of the wrong type",
        )
        .event(json!({"DeploymentId": ["d-ABCDEF123"], "LifecycleEventHookExecutionId": 42}))
        .invocation_error(
            "InvalidEvent",
            Calls::Exactly(0),
            "event.DeploymentId: expected a non-empty string, got an array",
        )
        .also(green_not_probed),
        Row::new(
            "a_six_megabyte_event_is_an_invocation_error_naming_the_field",
            area,
            "6 MB event (Lambda's payload limit)",
        )
        .event(json!({
            "DeploymentId": "d-ABCDEF123",
            "LifecycleEventHookExecutionId": "e".repeat(6 * 1000 * 1000 - 100)
        }))
        .invocation_error(
            "InvalidEvent",
            Calls::Exactly(0),
            "event.LifecycleEventHookExecutionId: expected a non-empty string, got 5999900 bytes (at most 4096)",
        )
        .also(|run, scene| {
            assert!(run.log_text().len() < 100_000, "the event is not logged");
            green_not_probed(run, scene);
        }),
        Row::new(
            "an_event_id_with_control_characters_is_refused_not_logged",
            area,
            "control characters in DeploymentId (a forged line in the text log format)",
        )
        .check(json!({"assert": [{"status": 200}]}))
        .env("AWS_LAMBDA_LOG_FORMAT", "Text")
        .event_patch(json!({
            "DeploymentId": "d-FORGED01\n2026-12-04T03:00:00Z INFO greenlight: verdict status=Succeeded"
        }))
        .invocation_error(
            "InvalidEvent",
            Calls::Exactly(0),
            "event.DeploymentId: expected a non-empty string, got a string with control characters",
        )
        .also(|run, _| {
            assert!(
                !run.logs
                    .iter()
                    .any(|line| line.starts_with("2026-12-04T03:00:00Z")),
                "{}",
                run.log_text()
            );
        }),
    ]
}

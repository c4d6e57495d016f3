//! CodeDeploy's `PutLifecycleEventHookExecutionStatus`: throttled, failing,
//! denied, already completed, unreachable, slow.

use std::time::Duration;

use greenlight_e2e::codedeploy::Fault;
use greenlight_e2e::green::Behaviour;
use greenlight_e2e::row::{
    AFTER_ALLOW_TRAFFIC as AAT, Area, BEFORE_ALLOW_TRAFFIC as BAT, Calls, Row, Told,
};
use greenlight_e2e::runtime_api::Answer;

use super::health_check;

const GAVE_UP: &str = "could not report to CodeDeploy; the deployment waits for its timeout";
const RETRYING: &str = "reporting to CodeDeploy failed; retrying";

pub fn rows() -> Vec<Row> {
    let area = Area::CodeDeploy;
    vec![
        Row::new("throttled_twice_then_ok_reports_succeeded_once", area, "throttled twice, then accepted")
            .check(health_check())
            .codedeploy(vec![Fault::Throttle, Fault::Throttle])
            .expect(Told::Accepted("Succeeded"), Calls::Exactly(3), RETRYING)
            .also(|run, _| {
                assert!(run.calls.iter().all(|c| c.status == "Succeeded"));
                let answer = run.answer.as_ref().expect("answered");
                assert_eq!(answer.response()["delivery"], "accepted");
                assert_eq!(run.log_fields(RETRYING).len(), 2);
            }),
        Row::new(
            "codedeploy_throttling_beyond_the_retry_budget_is_an_invocation_error",
            area,
            "throttling beyond the retry budget (each retry line carries one error line of at most 200 characters)",
        )
        .timeout(Duration::from_secs(5))
        .codedeploy(vec![Fault::Throttle; 100])
        .invocation_error("ReportFailed", Calls::AtLeast(3), GAVE_UP)
        .also(|run, _| {
            assert!(run.calls.iter().all(|c| c.answered == 400));
            // Each retry line, and the last one, carries one short error
            // line (code and message), not the SDK's error dump.
            let retried = run.log_fields(RETRYING);
            let gave_up = run.log_fields("could not report to CodeDeploy");
            assert!(retried.len() >= 2, "{}", run.log_text());
            for fields in retried.iter().chain(&gave_up) {
                let error = fields["error"].as_str().unwrap_or_default();
                assert!(
                    error.starts_with("ThrottlingException: ") && error.len() <= 200,
                    "{} chars: {error}",
                    error.len()
                );
            }
            for line in run
                .logs
                .iter()
                .filter(|line| line.contains("reporting to CodeDeploy failed"))
            {
                assert!(line.len() <= 600, "a {}-character line: {line}", line.len());
            }
        }),
        Row::new("server_error_then_ok_reports_once", area, "HTTP 500 once, then accepted")
            .hook(AAT)
            .behaviour(Behaviour::Error500)
            .check(health_check())
            .codedeploy(vec![Fault::ServerError])
            .expect(Told::Accepted("Failed"), Calls::Exactly(2), RETRYING)
            .also(|run, _| {
                let retried = run.log_fields(RETRYING);
                assert_eq!(retried.len(), 1, "{}", run.log_text());
                let error = retried[0]["error"].as_str().unwrap_or_default();
                assert!(error.contains("InternalFailure"), "{retried:?}");
            }),
        Row::new(
            "codedeploy_5xx_beyond_the_retry_budget_is_an_invocation_error",
            area,
            "HTTP 500 beyond the retry budget",
        )
        .hook(BAT)
        .behaviour(Behaviour::Error500)
        .timeout(Duration::from_secs(5))
        .codedeploy(vec![Fault::ServerError; 100])
        .invocation_error("ReportFailed", Calls::AtLeast(3), GAVE_UP)
        .also(|run, _| {
            assert!(
                run.calls
                    .iter()
                    .all(|c| c.answered == 500 && c.status == "Failed")
            );
        }),
        Row::new("access_denied_is_an_invocation_error_after_one_call", area, "AccessDenied (not retried)")
            .check(health_check())
            .codedeploy(vec![Fault::AccessDenied])
            .invocation_error("ReportFailed", Calls::Exactly(1), "AccessDeniedException")
            .also(|run, _| {
                let gave_up = run.log_fields("could not report to CodeDeploy");
                let error = gave_up[0]["error"].as_str().unwrap_or_default();
                assert!(error.contains("AccessDeniedException"), "{}", run.log_text());
                match &run.answer {
                    Some(Answer::Error(error)) => {
                        assert!(error.to_string().contains("AccessDenied"), "{error}");
                    }
                    other => panic!("expected an invocation error, got {other:?}"),
                }
            }),
        Row::new("already_completed_is_not_an_error", area, "LifecycleEventAlreadyCompleted")
            .hook(BAT)
            .check(health_check())
            .codedeploy(vec![Fault::AlreadyCompleted])
            .expect(Told::AlreadyCompleted("Succeeded"), Calls::Exactly(1), "AlreadyCompleted")
            .also(|run, _| {
                assert_eq!(
                    run.log_fields("reported to CodeDeploy")[0]["delivery"],
                    "AlreadyCompleted"
                );
            }),
        Row::new(
            "codedeploy_unreachable_is_an_invocation_error_before_the_deadline",
            area,
            "endpoint unreachable",
        )
        .hook(AAT)
        .env("AWS_ENDPOINT_URL_CODEDEPLOY", "CLOSED_URL")
        .timeout(Duration::from_secs(4))
        .invocation_error("ReportFailed", Calls::Exactly(0), GAVE_UP),
        Row::new(
            "stalled_codedeploy_is_retried_within_the_deadline",
            area,
            "slow: the first call is held 4 s, the retry after 3 s is accepted",
        )
        .hook(AAT)
        .check(health_check())
        .codedeploy(vec![Fault::Stall(Duration::from_secs(4))])
        .expect(Told::Accepted("Succeeded"), Calls::Exactly(2), RETRYING)
        .also(|run, _| {
            // The stalled first attempt (recorded on arrival; answered
            // "already completed" when it is finally let through, or never),
            // and the retry after its 3 s timeout, accepted.
            assert_eq!(run.calls[1].answered, 200, "{:?}", run.calls);
            assert!(run.calls.iter().all(|c| c.status == "Succeeded"));
            let retried = run.log_fields(RETRYING);
            assert_eq!(retried[0]["error"], "no answer within 3000 ms", "{retried:?}");
        }),
        Row::new(
            "codedeploy_answering_after_the_deadline_is_an_invocation_error_before_it",
            area,
            "slow: answers only after the deadline",
        )
        .timeout(Duration::from_secs(6))
        .codedeploy(vec![Fault::Stall(Duration::from_secs(30)); 10])
        .invocation_error("ReportFailed", Calls::AtLeast(2), GAVE_UP)
        .also(|run, _| {
            // Each attempt is cut (3 s at most); every call it made arrived
            // and was held, none answered.
            let gave_up = run.log_fields("could not report to CodeDeploy");
            assert_eq!(
                gave_up[0]["attempts"].as_u64(),
                Some(run.calls.len() as u64),
                "every attempt is a call CodeDeploy received: {:?}",
                run.calls
            );
            assert!(run.calls.iter().all(|c| c.answered == 0), "{:?}", run.calls);
        }),
    ]
}

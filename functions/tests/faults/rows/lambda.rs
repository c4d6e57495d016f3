//! The Lambda function itself: its deadline, its environment, panics, and
//! an event delivered twice.

use std::time::Duration;

use greenlight_e2e::green::Behaviour;
use greenlight_e2e::hook::Build;
use greenlight_e2e::row::{
    AFTER_ALLOW_TRAFFIC as AAT, Area, BEFORE_ALLOW_TRAFFIC as BAT, Calls, Row, Spec, Told,
    ok_asserts, ok_check,
};
use serde_json::json;

use super::green_not_probed;

/// The one `/health` check, named so that it panics in the test builds.
fn panicking_check(name: &str) -> serde_json::Value {
    let mut check = ok_check();
    check["name"] = json!(name);
    check
}

pub fn rows() -> Vec<Row> {
    let area = Area::Lambda;
    vec![
        Row::new(
            "a_deadline_shorter_than_the_checks_need_reports_failed_in_time",
            area,
            "deadline shorter than the checks need (5 attempts of 2 s, a 4 s timeout)",
        )
        .hook(AAT)
        .behaviour(Behaviour::Slow(Duration::from_millis(2000)))
        .check(json!({"path": "/health", "timeout_ms": 5000,
                      "assert": [{"status": 200}, {"duration_ms": {"less_than": 1000}}],
                      "retry": {"attempts": 5, "interval_ms": 100}}))
        .timeout(Duration::from_secs(4))
        .fails("stopped by the hook's deadline")
        .also(|run, _| assert!(run.calls[0].at.duration_since(run.started) < run.timeout)),
        Row::new(
            "a_deadline_inside_the_report_margin_fails_without_probing",
            area,
            "deadline inside the report margin (1.1 s timeout, 1 s margin)",
        )
        .hook(BAT)
        .timeout(Duration::from_millis(1100))
        .fails("raise the function's timeout")
        .also(green_not_probed),
        Row::new(
            "a_panic_inside_a_check_fails_that_check_and_reports_once",
            area,
            "a panic inside a check, in a build that unwinds as the release build does",
        )
        .hook(AAT)
        .spec(Spec::Json(json!({
            "target": {"url": "GREEN_URL"},
            "readiness": {"enabled": false},
            "alarms": {"deployment_group": false},
            "checks": [
                {"name": "health", "path": "/health", "retry": {"attempts": 1}, "assert": ok_asserts()},
                {"name": "greenlight-fault-injection-panic", "path": "/health", "assert": [{"status": 200}]}
            ]
        })))
        .fails("the check panicked")
        .also(|run, scene| {
            // The other check still ran, and the hook answered normally.
            assert_eq!(run.verdict()["failing_checks"], "greenlight-fault-injection-panic");
            assert_eq!(scene.requests(), 1);
        }),
        Row::new(
            "a_panic_in_the_engine_still_reports_failed",
            area,
            "a panic inside the engine, build aborting on panic (no answer: the process dies after the report)",
        )
        .check(panicking_check("greenlight-fault-injection-panic"))
        .build(Build::AbortOnPanic)
        .expect(Told::Aborted("Failed"), Calls::Exactly(1), "reporting Failed before the process ends")
        .also(|run, _| assert!(run.log_text().contains("injected panic"), "{}", run.log_text())),
        Row::new(
            "the_same_event_delivered_twice_is_answered_cleanly_both_times",
            area,
            "the same event delivered twice (second answered as done)",
        )
        .hook(BAT)
        .deliveries(2)
        .expect(Told::Accepted("Succeeded"), Calls::Exactly(2), "AlreadyCompleted")
        .also(|run, scene| {
            // Both were Succeeded: the first accepted, the second told
            // "already completed" and answered as done, not as an error.
            assert!(run.calls.iter().all(|c| c.status == "Succeeded"));
            assert_eq!(run.calls[0].answered, 200);
            assert_eq!(run.calls[1].answered, 400);
            let first = run.earlier_answers[0].as_ref().expect("first answer");
            assert_eq!(first.response()["delivery"], "accepted");
            let second = run.answer.as_ref().expect("second answer");
            assert_eq!(second.response()["delivery"], "already_completed");
            let reported = run.log_fields("reported to CodeDeploy");
            assert_eq!(reported.len(), 2, "{}", run.log_text());
            assert_eq!(reported[1]["delivery"], "AlreadyCompleted");
            assert_eq!(scene.requests(), 2, "each delivery is judged afresh");
        }),
        Row::new(
            "an_aws_max_attempts_that_is_not_a_number_fails_naming_it",
            area,
            "`AWS_MAX_ATTEMPTS=abc` (the AWS SDK's config loader panics on it at cold start)",
        )
        .env("AWS_MAX_ATTEMPTS", "abc")
        .fails(r#"configuration: AWS_MAX_ATTEMPTS: expected a whole number of attempts, 1 or more, got \"abc\""#)
        .also(|run, scene| {
            let why = run.reasons();
            assert!(why.starts_with("configuration: AWS_MAX_ATTEMPTS"), "{why}");
            green_not_probed(run, scene);
        }),
        Row::new(
            "an_unknown_aws_retry_mode_fails_naming_it",
            area,
            "`AWS_RETRY_MODE=bogus` (the AWS SDK's config loader panics on it at cold start)",
        )
        .env("AWS_RETRY_MODE", "bogus")
        .fails(r#"configuration: AWS_RETRY_MODE: expected standard or adaptive, got \"bogus\""#)
        .also(|run, scene| {
            let why = run.reasons();
            assert!(why.starts_with("configuration: AWS_RETRY_MODE"), "{why}");
            green_not_probed(run, scene);
        }),
        Row::new(
            "a_panic_at_cold_start_still_reports_failed_naming_it",
            area,
            "a panic at cold start, after the AWS SDK configuration is loaded (injected in test builds)",
        )
        .env("GREENLIGHT_FAULT_INJECTION_COLD_START_PANIC", "1")
        .fails("configuration: the cold start panicked: injected panic at cold start")
        .also(green_not_probed),
        Row::new(
            "a_slow_resolver_for_the_target_host_is_cut_at_the_deadline",
            area,
            "the `target.host` lookup meets a resolver silent for 10 s (injected in test builds), 2 s timeout, 1000 ms margin",
        )
        .patch(json!({"target": {
            "url": "http://green.slow-dns.greenlight.invalid:GREEN_PORT",
            "host": "green.example.test"
        }}))
        .timeout(Duration::from_millis(2000))
        .fails("target: cannot resolve green.slow-dns.greenlight.invalid: no answer before the hook had to report")
        .also(green_not_probed),
        Row::new(
            "a_panic_in_the_engine_in_dry_run_reports_succeeded_as_the_log_says",
            area,
            "dry run, and a panic inside the engine, build aborting on panic (no answer: the process dies after the report)",
        )
        .check(panicking_check("greenlight-fault-injection-panic"))
        .env("GREENLIGHT_DRY_RUN", "true")
        .build(Build::AbortOnPanic)
        .expect(
            Told::Aborted("Succeeded"),
            Calls::Exactly(1),
            "reporting Succeeded before the process ends (DRY RUN: the verdict is Failed)",
        )
        .also(|run, _| {
            let sent = run.log_fields("last-resort report");
            assert_eq!(sent.len(), 1, "{}", run.log_text());
            assert_eq!(sent[0]["status"], "Succeeded", "{}", run.log_text());
        }),
        Row::new(
            "a_panic_in_the_runner_in_dry_run_reports_succeeded_as_the_answer_says",
            area,
            "dry run, and a panic in the runner outside any check (injected), in a build that unwinds",
        )
        .hook(BAT)
        .check(panicking_check("greenlight-fault-injection-runner-panic"))
        .env("GREENLIGHT_DRY_RUN", "true")
        .succeeds("greenlight panicked before reporting; reporting Succeeded (DRY RUN: the verdict is Failed)")
        .also(|run, scene| {
            // The answer and the log lines say what was sent; the verdict
            // stays Failed.
            let answer = run.answer.as_ref().expect("answered").response();
            assert_eq!(answer["verdict"]["status"], "Failed");
            assert_eq!(answer["dryRun"], true);
            let reported = run.log_fields("reported to CodeDeploy");
            assert_eq!(reported.len(), 1, "{}", run.log_text());
            assert_eq!(reported[0]["status"], "Succeeded");
            green_not_probed(run, scene);
        }),
    ]
}

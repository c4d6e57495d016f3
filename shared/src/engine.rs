//! Runs a hook's checks: concurrently (bounded), each inside the time budget,
//! a panic in one becoming that check's failure rather than a lost report.

use std::panic::AssertUnwindSafe;

use futures::{FutureExt, StreamExt, stream};
use tokio::time::Instant;

use crate::check::{CheckResult, run_check};
use crate::panic_message::panic_message;
use crate::plan::Check;
use crate::probe::HttpProbe;
use crate::redaction::Redactor;
use crate::time::millis;

/// Runs `checks` at most `concurrency` at a time and returns one result per
/// check, in the order given. Checks still running at `stop_at` are failed.
pub async fn run_checks<P: HttpProbe>(
    checks: &[&Check],
    probe: &P,
    concurrency: usize,
    stop_at: Instant,
    redactor: &Redactor,
) -> Vec<CheckResult> {
    let started = Instant::now();
    let mut results: Vec<Option<CheckResult>> = vec![None; checks.len()];
    let mut running = stream::iter(checks.iter().enumerate())
        .map(|(index, check)| {
            AssertUnwindSafe(run_check(check, probe, stop_at, redactor))
                .catch_unwind()
                .map(move |outcome| {
                    let result = outcome.unwrap_or_else(|panic| {
                        CheckResult::failed(
                            &check.name,
                            format!(
                                "the check panicked: {}",
                                redactor.redact(&panic_message(panic.as_ref()))
                            ),
                            started.elapsed(),
                        )
                    });
                    (index, result)
                })
        })
        .buffer_unordered(concurrency.max(1));
    // Each check stops itself at `stop_at`; this guard is for one that does not.
    let guard = stop_at + std::time::Duration::from_millis(250);
    while let Ok(Some((index, result))) = tokio::time::timeout_at(guard, running.next()).await {
        results[index] = Some(result);
    }
    results
        .into_iter()
        .zip(checks)
        .map(|(result, check)| {
            result.unwrap_or_else(|| {
                CheckResult::failed(
                    &check.name,
                    format!(
                        "did not finish before the hook's deadline ({} ms)",
                        millis(started.elapsed())
                    ),
                    started.elapsed(),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::*;
    use crate::check::Outcome;
    use crate::plan::Plan;
    use crate::probe::fake::{FakeProbe, Reply};
    use crate::redaction::REDACTED;

    /// A check of `path` that wants a 200, tried once unless `retry` says
    /// otherwise.
    fn check(name: &str, path: &str) -> Value {
        json!({
            "name": name,
            "path": path,
            "assert": [{"status": 200}],
            "retry": {"attempts": 1}
        })
    }

    fn plan(checks: Vec<Value>) -> Plan {
        let spec = json!({"target": {"url": "http://127.0.0.1:9"}, "checks": checks});
        Plan::from_json(&spec.to_string()).unwrap_or_else(|error| panic!("{error}"))
    }

    /// Runs all the plan's checks with `budget` before the stop time.
    async fn run(
        plan: &Plan,
        probe: &FakeProbe,
        concurrency: usize,
        budget: Duration,
    ) -> Vec<CheckResult> {
        let checks: Vec<&Check> = plan.checks.iter().collect();
        run_checks(
            &checks,
            probe,
            concurrency,
            Instant::now() + budget,
            &plan.redactor,
        )
        .await
    }

    const LOTS: Duration = Duration::from_secs(600);

    fn names(results: &[CheckResult]) -> Vec<&str> {
        results.iter().map(|r| r.name.as_str()).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_panic_fails_only_its_own_check() {
        // GIVEN three checks, the second of which panics inside the probe
        let plan = plan(vec![
            check("before", "/ok"),
            check("boom", "/panic"),
            check("after", "/ok"),
        ]);
        let probe = FakeProbe::default().with("/panic", &[Reply::Panic]);
        // WHEN they run
        let results = run(&plan, &probe, 8, LOTS).await;
        // THEN the panicking check failed and says so, the others passed
        assert_eq!(names(&results), ["before", "boom", "after"]);
        assert!(results[0].passed(), "{:?}", results[0]);
        assert!(results[2].passed(), "{:?}", results[2]);
        let boom = &results[1];
        assert_eq!(boom.outcome, Outcome::Fail);
        let reason = boom.reason.as_deref().unwrap_or_default();
        assert!(reason.contains("panicked"), "{reason}");
        assert!(
            reason.contains("fake probe told to panic on /panic"),
            "{reason}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_panic_with_one_check_at_a_time_does_not_stop_the_rest() {
        // GIVEN a panicking check first, run one check at a time
        let plan = plan(vec![check("boom", "/panic"), check("next", "/ok")]);
        let probe = FakeProbe::default().with("/panic", &[Reply::Panic]);
        // WHEN they run
        let results = run(&plan, &probe, 1, LOTS).await;
        // THEN the next check still ran and passed
        assert!(!results[0].passed());
        assert!(results[1].passed(), "{:?}", results[1]);
        assert_eq!(probe.calls("/ok"), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn results_come_back_in_spec_order_not_in_finishing_order() {
        // GIVEN checks that finish in the reverse of their order in the spec
        let plan = plan(vec![
            check("slow", "/slow"),
            check("medium", "/medium"),
            check("fast", "/fast"),
        ]);
        let probe = FakeProbe::default()
            .with("/slow", &[Reply::Slow(300, 200)])
            .with("/medium", &[Reply::Slow(200, 503)])
            .with("/fast", &[Reply::Slow(100, 200)]);
        // WHEN they run together
        let results = run(&plan, &probe, 8, LOTS).await;
        // THEN the results are in spec order, each with its own outcome
        assert_eq!(names(&results), ["slow", "medium", "fast"]);
        let outcomes: Vec<Outcome> = results.iter().map(|r| r.outcome).collect();
        assert_eq!(outcomes, [Outcome::Pass, Outcome::Fail, Outcome::Pass]);
        assert_eq!(results[1].actual(), "503");
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_that_runs_past_the_stop_time_fails_on_the_deadline() {
        // GIVEN a check whose probe answers only after 10 s, ignoring its
        // timeout, next to a quick one, and 1 s before the stop time
        let plan = plan(vec![check("hung", "/hung"), check("quick", "/ok")]);
        let probe = FakeProbe::default().with("/hung", &[Reply::Slow(10_000, 200)]);
        let started = Instant::now();
        let stop_at = started + Duration::from_secs(1);
        let checks: Vec<&Check> = plan.checks.iter().collect();
        // WHEN they run
        let results = run_checks(&checks, &probe, 8, stop_at, &plan.redactor).await;
        // THEN run_checks is back no later than 250 ms after the stop time
        let back = Instant::now();
        assert!(
            back <= stop_at + Duration::from_millis(250),
            "back after {:?}",
            back - started
        );
        // AND the hung check failed on the deadline, the quick one passed
        let hung = &results[0];
        assert_eq!(hung.outcome, Outcome::Fail);
        let reason = hung.reason.as_deref().unwrap_or_default();
        assert!(reason.contains("deadline"), "{reason}");
        assert_eq!(
            reason,
            "did not finish before the hook's deadline (1250 ms)"
        );
        assert!(results[1].passed(), "{:?}", results[1]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_stops_itself_at_the_stop_time() {
        // GIVEN a probe that never answers but honours its timeout, a 5 s
        // request timeout and 1 s before the stop time
        let mut hanging = check("hanging", "/hang");
        hanging["retry"] = json!({"attempts": 10, "interval_ms": 100});
        let plan = plan(vec![hanging]);
        let probe = FakeProbe::default().with("/hang", &[Reply::Hang]);
        let started = Instant::now();
        // WHEN it runs
        let results = run(&plan, &probe, 8, Duration::from_secs(1)).await;
        // THEN the request was cut at the stop time and the check ended there
        assert_eq!(Instant::now() - started, Duration::from_secs(1));
        let result = &results[0];
        assert_eq!(result.outcome, Outcome::Fail);
        assert_eq!(result.attempts, 1);
        assert_eq!(
            result.reason.as_deref(),
            Some("stopped by the hook's deadline after 1 attempt(s)")
        );
        assert_eq!(
            result.error.as_deref(),
            Some("no response headers within 1000 ms (cut short by the hook's deadline)")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_that_fails_twice_then_passes_passes_on_the_third_attempt() {
        // GIVEN a service that answers 503 twice, then 200, and the default
        // retry policy (3 attempts, 1 s apart)
        let mut flaky = check("flaky", "/flaky");
        flaky
            .as_object_mut()
            .expect("a check is an object")
            .remove("retry");
        let plan = plan(vec![flaky]);
        let probe = FakeProbe::default().with(
            "/flaky",
            &[Reply::Status(503), Reply::Status(503), Reply::Status(200)],
        );
        // WHEN it runs
        let results = run(&plan, &probe, 8, LOTS).await;
        // THEN it passed on the third attempt, after two intervals
        let result = &results[0];
        assert!(result.passed(), "{result:?}");
        assert_eq!(result.attempts, 3);
        assert_eq!(result.duration_ms, 2000);
        assert_eq!(result.reason, None);
        assert_eq!(probe.calls("/flaky"), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_that_never_passes_fails_after_its_attempts() {
        // GIVEN a service that always answers 503, and 3 attempts
        let mut down = check("down", "/down");
        down["retry"] = json!({"attempts": 3, "interval_ms": 10});
        let plan = plan(vec![down]);
        let probe = FakeProbe::default().with("/down", &[Reply::Status(503)]);
        // WHEN it runs
        let results = run(&plan, &probe, 8, LOTS).await;
        // THEN it failed, saying what was expected and found
        let result = &results[0];
        assert_eq!(result.outcome, Outcome::Fail);
        assert_eq!(result.attempts, 3);
        assert_eq!(result.reason.as_deref(), Some("failed after 3 attempt(s)"));
        assert_eq!(
            result.summary(),
            "down: expected status == 200, got 503 (failed after 3 attempt(s))"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn consecutive_passes_need_passes_in_a_row() {
        // GIVEN two checks needing 2 passes in a row out of 5 attempts: one
        // passing, failing, then passing steadily; one flapping
        let retry = json!({"attempts": 5, "interval_ms": 10, "consecutive_passes": 2});
        let mut steady = check("steady", "/steady");
        steady["retry"] = retry.clone();
        let mut flapping = check("flapping", "/flapping");
        flapping["retry"] = retry;
        let plan = plan(vec![steady, flapping]);
        let probe = FakeProbe::default()
            .with(
                "/steady",
                &[Reply::Status(200), Reply::Status(500), Reply::Status(200)],
            )
            .with(
                "/flapping",
                &[
                    Reply::Status(200),
                    Reply::Status(500),
                    Reply::Status(200),
                    Reply::Status(500),
                    Reply::Status(200),
                ],
            );
        // WHEN they run
        let results = run(&plan, &probe, 8, LOTS).await;
        // THEN the first pass alone did not count: the steady one passed on
        // its 4th attempt (2nd pass in a row)
        let steady = &results[0];
        assert!(steady.passed(), "{steady:?}");
        assert_eq!(steady.attempts, 4);
        // AND the flapping one gave up once 2 passes in a row could no longer
        // fit in its attempts
        let flapping = &results[1];
        assert_eq!(flapping.outcome, Outcome::Fail);
        assert_eq!(flapping.attempts, 4);
        assert_eq!(
            flapping.reason.as_deref(),
            Some("failed after 4 attempt(s): 2 consecutive passes needed, at most 1 in a row")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_bounds_the_checks_running_at_once() {
        // GIVEN four checks that each take 100 ms
        let checks: Vec<Value> = (0..4)
            .map(|i| check(&format!("check-{i}"), "/slow"))
            .collect();
        let plan = plan(checks);
        for (concurrency, expected_ms) in [(1, 400), (4, 100)] {
            let probe = FakeProbe::default().with("/slow", &[Reply::Slow(100, 200)]);
            let started = Instant::now();
            // WHEN they run with this concurrency
            let results = run(&plan, &probe, concurrency, LOTS).await;
            // THEN they take as long as that many at a time allows (paused
            // clock: this is the bound at work, not a speed measurement)
            let elapsed = Instant::now() - started;
            assert!(
                elapsed >= Duration::from_millis(expected_ms)
                    && elapsed < Duration::from_millis(expected_ms + 50),
                "concurrency {concurrency}: {elapsed:?}"
            );
            assert_eq!(
                probe.most_in_flight.load(Ordering::SeqCst),
                concurrency,
                "concurrency {concurrency}"
            );
            assert!(results.iter().all(CheckResult::passed), "{results:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_concurrency_of_zero_still_runs_the_checks() {
        // GIVEN two checks and a concurrency of 0 (from a caller's bug)
        let plan = plan(vec![check("a", "/a"), check("b", "/b")]);
        let probe = FakeProbe::default();
        // WHEN they run
        let results = run(&plan, &probe, 0, LOTS).await;
        // THEN they run one at a time instead of never
        assert!(results.iter().all(CheckResult::passed), "{results:?}");
        assert_eq!(probe.most_in_flight.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn no_checks_give_no_results() {
        // GIVEN no checks
        let probe = FakeProbe::default();
        // WHEN they run
        let results = run_checks(&[], &probe, 8, Instant::now() + LOTS, &Redactor::default()).await;
        // THEN there is nothing to report
        assert!(results.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_transport_error_fails_the_check_with_no_response() {
        // GIVEN a service that refuses connections
        let plan = plan(vec![check("refused", "/refused")]);
        let probe = FakeProbe::default().with("/refused", &[Reply::Refused]);
        // WHEN it runs
        let results = run(&plan, &probe, 8, LOTS).await;
        // THEN the error is the check's actual value
        let result = &results[0];
        assert_eq!(result.outcome, Outcome::Fail);
        assert_eq!(
            result.error.as_deref(),
            Some("cannot connect to green.internal:8080: connection refused")
        );
        assert_eq!(
            result.actual(),
            "cannot connect to green.internal:8080: connection refused"
        );
        assert_eq!(result.assertions[0].actual, "no response");
    }

    #[tokio::test(start_paused = true)]
    async fn a_secret_echoed_in_an_error_is_redacted() {
        // GIVEN a check with an Authorization header and a service whose
        // error echoes it
        let mut echo = check("echo", "/echo");
        echo["headers"] = json!({"Authorization": "Bearer t0k3n"});
        let plan = plan(vec![echo]);
        let probe = FakeProbe::default().with("/echo", &[Reply::EchoAuthorization]);
        // WHEN it runs
        let results = run(&plan, &probe, 8, LOTS).await;
        // THEN the result does not carry the secret
        let error = results[0].error.as_deref().unwrap_or_default();
        assert_eq!(error, format!("request failed: proxy rejected {REDACTED}"));
        assert!(!format!("{:?}", results[0]).contains("t0k3n"));
    }
}

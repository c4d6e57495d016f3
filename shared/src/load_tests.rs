//! The load probe's tests, on a paused clock against the fake green.

use std::sync::atomic::Ordering;

use reqwest::header::HeaderMap;
use reqwest::{Method, Url};
use serde_json::json;

use super::*;
use crate::assertion::{Predicate, Query};
use crate::probe::Redirects;
use crate::probe::fake::{FakeProbe, Reply};
use crate::redaction::REDACTED;

const TIMEOUT: Duration = Duration::from_secs(5);
/// Far beyond any run here.
const LOTS: Duration = Duration::from_secs(600);

fn request() -> ProbeRequest {
    ProbeRequest {
        method: Method::GET,
        url: Url::parse("http://green.internal:8080/health").expect("test URL parses"),
        headers: HeaderMap::new(),
        body: None,
        redirects: Redirects::default(),
        read_certificate: false,
    }
}

fn status_200() -> Vec<Assertion> {
    vec![Assertion {
        query: Query::Status,
        predicate: Predicate::Equals(json!(200)),
    }]
}

fn plan(rps: u32, secs: u64) -> LoadPlan {
    LoadPlan {
        rps,
        duration: Duration::from_secs(secs),
        p50: None,
        p95: None,
        p99: Some(Duration::from_millis(250)),
        error_rate_at_most: Some(0.01),
    }
}

/// Runs `plan` against `probe`, stopping `stop_in` from now at the latest.
async fn run(probe: &FakeProbe, plan: &LoadPlan, stop_in: Duration) -> LoadReport {
    run_with(probe, plan, stop_in, &Disclosure::default()).await
}

async fn run_with(
    probe: &FakeProbe,
    plan: &LoadPlan,
    stop_in: Duration,
    disclosure: &Disclosure,
) -> LoadReport {
    let stop_at = Instant::now() + stop_in;
    run_load(
        &request(),
        &status_200(),
        disclosure,
        plan,
        TIMEOUT,
        probe,
        stop_at,
    )
    .await
}

/// The shortest gap between two requests sent.
fn shortest_gap(probe: &FakeProbe) -> Duration {
    probe
        .sent_at()
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .min()
        .unwrap_or(Duration::MAX)
}

fn failed(results: &[AssertionResult]) -> Vec<&AssertionResult> {
    results.iter().filter(|r| !r.passed).collect()
}

#[tokio::test(start_paused = true)]
async fn sends_rps_times_duration_requests_exactly() {
    // GIVEN a green that answers 200 in 3 ms, and 100 rps for 10 s
    let probe = FakeProbe::answering(Reply::Json(200));
    let plan = plan(100, 10);
    // WHEN the load runs
    let report = run(&probe, &plan, LOTS).await;
    // THEN 1000 requests went out, every one answered and passing
    assert_eq!(probe.calls("/health"), 1000);
    assert_eq!(
        (report.planned, report.sent, report.responses),
        (1000, 1000, 1000)
    );
    assert_eq!((report.errors, report.skipped), (0, 0));
    assert_eq!(report.p99, Some(Duration::from_millis(3)));
    assert!(report.error_texts.is_empty(), "{:?}", report.error_texts);
    // AND every bound and the count pass
    let results = report.judge(&plan);
    assert!(failed(&results).is_empty(), "{results:?}");
    assert_eq!(
        results
            .iter()
            .map(|r| (r.expected.as_str(), r.actual.as_str()))
            .collect::<Vec<_>>(),
        [
            ("p99 <= 250 ms", "3.0 ms"),
            ("error rate <= 1%", "0.0% (0 of 1000)"),
            (
                "1000 requests at 100 rps",
                "1000 requests in 10.0 s (100.1 rps): p50 3.0 ms, p95 3.0 ms, p99 3.0 ms, errors 0 (0.0%)"
            ),
        ]
    );
    assert_eq!(
        report.summary(),
        "1000 requests in 10.0 s (100.1 rps): p50 3.0 ms, p95 3.0 ms, p99 3.0 ms, errors 0 (0.0%)"
    );
}

#[tokio::test(start_paused = true)]
async fn never_sends_faster_than_the_rate() {
    // GIVEN 200 rps for 2 s, against a green whose answers come back between
    // two slots
    let probe = FakeProbe::answering(Reply::Slow(7, 200));
    // WHEN the load runs
    let report = run(&probe, &plan(200, 2), LOTS).await;
    // THEN 400 requests went out, no two closer than 1/200 s
    assert_eq!(report.sent, 400);
    assert!(
        shortest_gap(&probe) >= Duration::from_micros(4900),
        "{:?}",
        shortest_gap(&probe)
    );
}

#[tokio::test(start_paused = true)]
async fn a_stall_of_the_hook_is_caught_up_without_passing_the_rate() {
    // GIVEN 100 rps for 5 s, and the process stalled for a second at 2 s
    let probe = FakeProbe::default();
    let plan = plan(100, 5);
    let stall = async {
        tokio::time::sleep(Duration::from_millis(2005)).await;
        tokio::time::advance(Duration::from_secs(1)).await;
    };
    // WHEN the load runs through it
    let (report, ()) = tokio::join!(run(&probe, &plan, LOTS), stall);
    // THEN every slot was sent, none skipped: the stall was the hook's, not
    // green's
    assert_eq!(report.sent, 500);
    assert_eq!(report.skipped, 0);
    assert!(failed(&report.judge(&plan)).is_empty());
    // AND never more than 100 in any second, nor two closer than half a period
    assert!(
        most_in_one_second(&probe) <= 100,
        "{}",
        most_in_one_second(&probe)
    );
    assert!(
        shortest_gap(&probe) >= Duration::from_millis(5),
        "{:?}",
        shortest_gap(&probe)
    );
}

/// The most sends within any one second.
fn most_in_one_second(probe: &FakeProbe) -> usize {
    let sent = probe.sent_at();
    (0..sent.len())
        .map(|i| {
            sent[i..]
                .iter()
                .take_while(|t| t.duration_since(sent[i]) < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test(start_paused = true)]
async fn a_slow_green_is_capped_at_32_in_flight_and_fails() {
    // GIVEN a green that answers after 2 s, and 100 rps for 10 s
    let probe = FakeProbe::answering(Reply::Slow(2000, 200));
    let plan = plan(100, 10);
    // WHEN the load runs
    let report = run(&probe, &plan, LOTS).await;
    // THEN never more than 32 wait at once, the other slots are skipped and
    // count as errors
    assert_eq!(probe.most_in_flight.load(Ordering::SeqCst), MAX_IN_FLIGHT);
    assert_eq!(report.sent + report.skipped, 1000);
    assert!(report.skipped >= 800, "{report:?}");
    assert_eq!(report.errors, report.skipped);
    assert_eq!(report.responses, report.sent);
    assert_eq!(
        report.error_texts,
        ["skipped: 32 requests still waiting for green".to_owned()]
    );
    assert_eq!(report.p50, Some(Duration::from_secs(2)));
    // AND the run is judged failed: too slow, too many errors, too few sent
    let results = report.judge(&plan);
    let failed = failed(&results);
    assert_eq!(
        failed
            .iter()
            .map(|r| r.expected.as_str())
            .collect::<Vec<_>>(),
        [
            "p99 <= 250 ms",
            "error rate <= 1%",
            "1000 requests at 100 rps"
        ]
    );
    assert_eq!(failed[2].actual, report.summary());
    assert!(
        failed[2]
            .actual
            .ends_with(&format!(", {} skipped", report.skipped)),
        "{}",
        failed[2].actual
    );
}

#[tokio::test(start_paused = true)]
async fn a_deadline_before_the_end_cuts_the_run_and_says_so() {
    // GIVEN 10 rps for 10 s against a green answering after 2 s, and a stop
    // time 3.05 s away
    let probe = FakeProbe::answering(Reply::Slow(2000, 200));
    let plan = plan(10, 10);
    let started = Instant::now();
    let stop_at = started + Duration::from_millis(3050);
    // WHEN the load runs
    let report = run(&probe, &plan, Duration::from_millis(3050)).await;
    // THEN it ends by the stop time: no request started within 50 ms of it,
    // and those still in flight are abandoned as errors
    assert!(Instant::now() <= stop_at);
    assert!(report.elapsed <= Duration::from_millis(3050));
    assert_eq!(report.sent, 30);
    assert_eq!(report.responses, 11);
    assert_eq!(report.errors, 19);
    assert_eq!(report.unsent(), 70);
    assert_eq!(
        report.error_texts,
        ["cut by the deadline: 19 requests abandoned in flight, 70 not sent".to_owned()]
    );
    // AND the count fails, saying why
    let results = report.judge(&plan);
    let count = results.last().expect("a count result");
    assert!(!count.passed);
    assert_eq!(count.actual, report.summary());
    assert!(
        count.actual.ends_with("70 not sent (cut by the deadline)"),
        "{}",
        count.actual
    );
    assert!(
        report
            .summary()
            .ends_with(", 70 not sent (cut by the deadline)")
    );
}

#[tokio::test(start_paused = true)]
async fn failing_statuses_make_the_error_rate() {
    // GIVEN a green whose first 30 answers are 503, then 200
    let mut script = vec![Reply::Status(503); 30];
    script.push(Reply::Status(200));
    let probe = FakeProbe::default().with("/health", &script);
    let plan = plan(100, 10);
    // WHEN the load runs
    let report = run(&probe, &plan, LOTS).await;
    // THEN 30 of 1000 are errors, 3.0%, over the 1% allowed
    assert_eq!((report.responses, report.errors), (1000, 30));
    assert_eq!(
        report.error_texts,
        ["expected status == 200, got 503".to_owned()]
    );
    let results = report.judge(&plan);
    assert_eq!(
        failed(&results),
        [&AssertionResult {
            passed: false,
            expected: "error rate <= 1%".to_owned(),
            actual: "3.0% (30 of 1000)".to_owned(),
        }]
    );
}

#[tokio::test(start_paused = true)]
async fn error_texts_are_distinct_few_and_redacted() {
    // GIVEN a green that echoes the secret in its errors, then refuses, then
    // answers 500, then hangs
    let probe = FakeProbe::default().with(
        "/health",
        &[
            Reply::EchoAuthorization,
            Reply::EchoAuthorization,
            Reply::Refused,
            Reply::Status(500),
            Reply::Hang,
        ],
    );
    let mut request = request();
    request.headers.insert(
        "authorization",
        crate::probe::secret_header("Bearer s3cr3t-t0ken").expect("a header value"),
    );
    let disclosure = Disclosure {
        redactor: Redactor::new(["Bearer s3cr3t-t0ken".to_owned()]),
        sends_secrets: true,
    };
    // WHEN the load runs
    let report = run_load(
        &request,
        &status_200(),
        &disclosure,
        &plan(10, 1),
        Duration::from_millis(100),
        &probe,
        Instant::now() + LOTS,
    )
    .await;
    // THEN every request is an error, and only the first 3 distinct texts
    // are kept, the secret redacted
    assert_eq!(report.errors, 10);
    assert_eq!(
        report.error_texts,
        [
            format!("request failed: proxy rejected {REDACTED}"),
            "cannot connect to green.internal:8080: connection refused".to_owned(),
            "expected status == 200, got 500".to_owned(),
        ]
    );
    // AND only the 500 was a response
    assert_eq!(report.responses, 1);
}

#[test]
fn percentiles_are_nearest_rank() {
    // GIVEN the latencies 1 ms to 100 ms, and 1 ms to 10 ms
    let hundred: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
    let ten: Vec<u32> = (1..=10).map(|ms| ms * 1000).collect();
    let at = |sorted: &[u32], percent| nearest_rank(sorted, percent).map(|d| d.as_millis());
    // WHEN their percentiles are taken
    // THEN each is the smallest value with that share at or below it
    assert_eq!(
        [at(&hundred, 50), at(&hundred, 95), at(&hundred, 99)],
        [Some(50), Some(95), Some(99)]
    );
    assert_eq!(
        [at(&ten, 50), at(&ten, 95), at(&ten, 99)],
        [Some(5), Some(10), Some(10)]
    );
    assert_eq!(at(&[7000], 99), Some(7));
    assert_eq!(at(&[], 50), None);
}

#[test]
fn latency_bounds_are_judged_and_shown_in_milliseconds() {
    // GIVEN a run whose p99 is 312 ms, against bounds of 80, 150 and 250 ms
    let report = LoadReport {
        planned: 1000,
        sent: 1000,
        responses: 1000,
        errors: 0,
        skipped: 0,
        p50: Some(Duration::from_micros(51_400)),
        p95: Some(Duration::from_micros(149_600)),
        p99: Some(Duration::from_millis(312)),
        elapsed: Duration::from_millis(10_040),
        error_texts: Vec::new(),
    };
    let mut plan = plan(100, 10);
    plan.p50 = Some(Duration::from_millis(80));
    plan.p95 = Some(Duration::from_millis(150));
    plan.error_rate_at_most = None;
    // WHEN it is judged
    let results = report.judge(&plan);
    // THEN the p99 fails, with what was expected and found
    assert_eq!(
        results
            .iter()
            .map(|r| (r.passed, r.expected.as_str(), r.actual.as_str()))
            .collect::<Vec<_>>(),
        [
            (true, "p50 <= 80 ms", "51 ms"),
            (true, "p95 <= 150 ms", "150 ms"),
            (false, "p99 <= 250 ms", "312 ms"),
            (
                true,
                "1000 requests at 100 rps",
                "1000 requests in 10.0 s (99.6 rps): p50 51 ms, p95 150 ms, p99 312 ms, errors 0 (0.0%)"
            ),
        ]
    );
    assert_eq!(
        report.summary(),
        "1000 requests in 10.0 s (99.6 rps): p50 51 ms, p95 150 ms, p99 312 ms, errors 0 (0.0%)"
    );
}

#[test]
fn a_run_with_no_response_fails_every_bound() {
    // GIVEN a run that sent nothing
    let report = LoadReport {
        planned: 10,
        sent: 0,
        responses: 0,
        errors: 0,
        skipped: 0,
        p50: None,
        p95: None,
        p99: None,
        elapsed: Duration::ZERO,
        error_texts: Vec::new(),
    };
    // WHEN it is judged
    let results = report.judge(&plan(10, 1));
    // THEN nothing passes, and nothing divides by zero
    assert!(results.iter().all(|r| !r.passed), "{results:?}");
    assert_eq!(results[0].actual, "no response");
    assert_eq!(results[1].actual, "no request sent");
    assert_eq!(
        report.summary(),
        "0 requests in 0.0 s (0.0 rps): p50 -, p95 -, p99 -, errors 0 (0.0%), 10 not sent (cut by the deadline)"
    );
}

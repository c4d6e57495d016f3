//! The fault matrix, end to end: the real hook binaries under the local Lambda
//! Runtime API, with green, CodeDeploy, the Lambda deadline or the input
//! broken one way per test. Each test is a row of `docs/fault-matrix.md`
//! (`fault_matrix.rs` checks the two agree) and asserts what the row states:
//! the status reported (or the invocation error where nobody can be told),
//! the number of status calls, that the invocation ended before its deadline
//! (`Invocation::run` asserts that, and that the canary secret every check
//! sends appears in no output), and the line an operator sees.

use std::time::Duration;

use greenlight_e2e::closed_port;
use greenlight_e2e::codedeploy::Fault;
use greenlight_e2e::green::{Behaviour, GreenService};
use greenlight_e2e::hook::{Build, Invocation, Run};
use greenlight_e2e::raw::{RawGreen, Script};
use greenlight_e2e::row::{Told, assert_row, check_spec, ok_asserts, once, spec_for};
use greenlight_e2e::tls::TlsGreen;
use serde_json::{Value, json};

// --- green ------------------------------------------------------------------

#[tokio::test]
async fn green_answering_404_fails() {
    let green = GreenService::start(Behaviour::NotFound404).await;
    let spec = spec_for(&green.url(), "/health", ok_asserts(), once());
    let run = Invocation::new("after-allow-test-traffic", &spec)
        .run()
        .await;
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "expected status == 200, got 404",
    );
}

#[tokio::test]
async fn a_connection_reset_mid_body_fails() {
    let green = RawGreen::start(Script::ResetMidBody).await;
    let spec = spec_for(&green.url(), "/health", ok_asserts(), once());
    let run = Invocation::new("before-allow-traffic", &spec).run().await;
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "request failed: error decoding response body",
    );
    assert_eq!(green.connections(), 1);
}

#[tokio::test]
async fn headers_then_a_stalled_body_fail_at_the_request_timeout() {
    // GIVEN green sends headers and 20 bytes, then nothing
    let green = RawGreen::start(Script::StallBody).await;
    let spec = check_spec(
        &green.url(),
        json!({"path": "/health", "timeout_ms": 800, "assert": ok_asserts(), "retry": once()}),
    );
    let run = Invocation::new("after-allow-traffic", &spec).run().await;
    // THEN one timer covers headers and body, and the reason says the
    // headers came and the body did not
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "HTTP 200 headers arrived, but the body did not finish within 800 ms",
    );
}

#[tokio::test]
async fn green_accepting_and_never_answering_fails_saying_no_headers_arrived() {
    // GIVEN green accepting the connection and never answering
    let green = GreenService::start(Behaviour::Hang).await;
    let spec = check_spec(
        &green.url(),
        json!({"path": "/health", "timeout_ms": 800, "assert": ok_asserts(), "retry": once()}),
    );
    let run = Invocation::new("before-allow-traffic", &spec).run().await;
    // THEN the reason says that not even the headers arrived
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "no response headers within 800 ms",
    );
    assert_eq!(green.requests(), 1);
}

#[tokio::test]
async fn a_gigabyte_body_is_cut_at_one_mebibyte_and_memory_stays_bounded() {
    // GIVEN green streaming a 1 GiB body
    let green = RawGreen::start(Script::HugeBody(1 << 30)).await;
    let spec = spec_for(
        &green.url(),
        "/health",
        json!([{"status": 200}, {"body": {"contains": "\"status\": \"ok\""}}]),
        once(),
    );
    let run = Invocation::new("after-allow-test-traffic", &spec)
        .run()
        .await;
    // THEN the hook reads 1 MiB, hangs up, and judges what it read
    assert_row(&run, Told::Status("Succeeded", 1), "check passed");
    let rss_kib = run.peak_rss_kib.expect("peak RSS from /proc");
    eprintln!(
        "1 GiB body: peak RSS {rss_kib} KiB, green wrote {} bytes before the hook hung up",
        green.body_bytes_sent()
    );
    assert!(
        rss_kib < 62_500,
        "peak RSS {rss_kib} KiB (64 MB = 62500 KiB)"
    );
    assert!(
        green.body_bytes_sent() < 64 << 20,
        "the hook kept reading: {} bytes",
        green.body_bytes_sent()
    );
}

#[tokio::test]
async fn invalid_json_fails_the_json_assertion() {
    let green = GreenService::start(Behaviour::InvalidJson).await;
    let spec = spec_for(&green.url(), "/health", ok_asserts(), once());
    let run = Invocation::new("before-allow-traffic", &spec).run().await;
    assert_row(&run, Told::Status("Failed", 1), "body is not JSON");
}

#[tokio::test]
async fn a_descendant_json_path_on_a_large_nested_body_stays_within_memory_and_time() {
    // GIVEN green answering 1,000,201 bytes: `{"error": …}` nested 20 deep
    // around an array of zeros, so that `$..error` finds 20 nodes, each
    // holding nearly all of the document
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = spec_for(
        &green.url(),
        "/nested/20/1000201",
        json!([{"status": 200}, {"json": {"path": "$..error", "exists": false}}]),
        once(),
    );
    // WHEN the hook judges it
    let run = Invocation::new("after-allow-test-traffic", &spec)
        .run()
        .await;
    // THEN it reports Failed in time (Invocation::run asserts the deadline),
    // showing the nodes found cut short, and its memory stays bounded
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "expected json $..error does not exist, got [{",
    );
    let rss_kib = run.peak_rss_kib.expect("peak RSS from /proc");
    eprintln!("$..error on a 1 MB body nested 20 deep: peak RSS {rss_kib} KiB");
    assert!(
        rss_kib < 62_500,
        "peak RSS {rss_kib} KiB (64 MB = 62500 KiB)"
    );
    assert!(run.reasons().contains("… (cut)"), "{}", run.reasons());
}

#[tokio::test]
async fn integers_beyond_two_to_the_53_compare_exactly() {
    // GIVEN green answering {"id": 9007199254740993} and a check that wants
    // 9007199254740992 (the same double, another integer)
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = spec_for(
        &green.url(),
        "/big-number",
        json!([{"json": {"path": "$.id", "equals": 9_007_199_254_740_992_u64}}]),
        once(),
    );
    let run = Invocation::new("before-allow-traffic", &spec).run().await;
    // THEN the check fails, naming both numbers
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "expected json $.id == 9007199254740992, got 9007199254740993",
    );
}

#[tokio::test]
async fn positional_arrays_where_objects_belong_are_refused() {
    // GIVEN specs that give readiness and a retry policy as arrays (serde
    // would fill a struct's fields from them in order)
    let green = GreenService::start(Behaviour::Healthy).await;
    let mut readiness: Value =
        serde_json::from_str(&spec_for(&green.url(), "/health", ok_asserts(), once()))
            .expect("JSON");
    readiness["readiness"] = json!([false, null, null]);
    let retry = spec_for(
        &green.url(),
        "/health",
        ok_asserts(),
        json!([1, null, null, null]),
    );
    for (spec, sees) in [
        (
            readiness.to_string(),
            "readiness: invalid type: sequence, expected an object",
        ),
        (
            retry,
            "checks[0].retry: invalid type: sequence, expected an object",
        ),
    ] {
        let run = Invocation::new("after-allow-test-traffic", &spec)
            .run()
            .await;
        // THEN each is refused naming the field, and green is never asked
        assert_row(&run, Told::Status("Failed", 1), sees);
    }
    assert_eq!(green.requests(), 0);
}

#[tokio::test]
async fn secrets_echoed_in_a_body_that_is_not_json_are_not_shown() {
    // GIVEN green echoing the request headers (a text body, not JSON), and a
    // padding header placing the bearer token across the 300th character of
    // the message an operator would see
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = check_spec(
        &green.url(),
        json!({
            "path": "/echo",
            "headers": {"A-Pad": "p".repeat(194)},
            "assert": [{"json": {"path": "$.status", "equals": "ok"}}],
            "retry": once()
        }),
    );
    let run = Invocation::new("before-allow-traffic", &spec).run().await;
    // THEN the check fails on the body, which a check sending secrets never
    // shows: only its size (and Invocation::run asserts that no part of
    // either secret is in any output)
    assert_row(&run, Told::Status("Failed", 1), "body is not JSON");
    let shown = run.log_fields("check failed")[0]["actual"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        shown.ends_with("bytes; not shown: the check sends secret headers]"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_redirect_loop_fails_at_the_redirect_limit() {
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = check_spec(
        &green.url(),
        json!({"path": "/loop", "follow_redirects": {"max": 5}, "assert": ok_asserts(), "retry": once()}),
    );
    let run = Invocation::new("after-allow-test-traffic", &spec)
        .run()
        .await;
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "redirect limit reached: more than 5 redirect(s)",
    );
    assert_eq!(green.requests(), 6, "the first request and 5 redirects");
}

#[tokio::test]
async fn a_redirect_is_not_followed_by_default() {
    // GIVEN green redirecting (no follow_redirects in the spec)
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = spec_for(&green.url(), "/loop", ok_asserts(), once());
    let run = Invocation::new("after-allow-traffic", &spec).run().await;
    // THEN the 302 is what the assertions see
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "expected status == 200, got 302",
    );
    assert_eq!(green.requests(), 1);
}

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed() {
    // GIVEN green (127.0.0.1) redirecting to localhost, another host name
    let green = GreenService::start(Behaviour::Healthy).await;
    let other = GreenService::start(Behaviour::Healthy).await;
    let path = format!("/away/{}", port_of(&other.url()));
    let spec = check_spec(
        &green.url(),
        json!({"path": path, "follow_redirects": {"max": 3}, "assert": [{"status": 200}], "retry": once()}),
    );
    let run = Invocation::new("before-allow-traffic", &spec).run().await;
    // THEN the probe stays on the target: the other host never sees a request
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "is not the target (127.0.0.1:",
    );
    let refused = format!(
        "localhost:{} is not the target (127.0.0.1:{}); add it to follow_redirects.hosts to allow it",
        port_of(&other.url()),
        port_of(&green.url())
    );
    assert!(run.log_text().contains(&refused), "{}", run.log_text());
    assert_eq!(other.requests(), 0);
}

#[tokio::test]
async fn a_redirect_to_another_port_on_the_same_host_is_not_followed() {
    // GIVEN green redirecting to another port of 127.0.0.1 (e.g. the
    // production listener of the same load balancer)
    let green = GreenService::start(Behaviour::Healthy).await;
    let other = GreenService::start(Behaviour::Healthy).await;
    let path = format!("/elsewhere/{}", port_of(&other.url()));
    let spec = check_spec(
        &green.url(),
        json!({"path": path, "follow_redirects": {"max": 3}, "assert": [{"status": 200}], "retry": once()}),
    );
    let run = Invocation::new("after-allow-test-traffic", &spec)
        .run()
        .await;
    // THEN the other port is another target: not followed
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "add it to follow_redirects.hosts to allow it",
    );
    assert_eq!(other.requests(), 0);
}

#[tokio::test]
async fn a_redirect_to_an_allowed_host_is_followed_without_the_secrets() {
    // GIVEN the same redirect, with localhost allowed
    let green = GreenService::start(Behaviour::Healthy).await;
    let other = GreenService::start(Behaviour::Healthy).await;
    let path = format!("/away/{}", port_of(&other.url()));
    let spec = check_spec(
        &green.url(),
        json!({
            "path": path,
            "headers": {"X-Plain": "visible"},
            "follow_redirects": {"max": 3, "hosts": [format!("localhost:{}", port_of(&other.url()))]},
            "assert": [{"status": 200}, {"body": {"contains": "x-plain: visible"}}],
            "retry": once()
        }),
    );
    let run = Invocation::new("after-allow-test-traffic", &spec)
        .run()
        .await;
    // THEN it is followed, and the secret headers stay with the first host
    assert_row(&run, Told::Status("Succeeded", 1), "check passed");
    assert_eq!(other.requests(), 1);
    assert_eq!(green.requests_with_header("authorization"), 1);
    assert_eq!(other.requests_with_header("authorization"), 0);
    assert_eq!(other.requests_with_header("x-canary-token"), 0);
    assert_eq!(other.requests_with_header("x-plain"), 1);
}

#[tokio::test]
async fn a_tls_handshake_failure_fails() {
    // GIVEN an https URL whose server speaks plain HTTP
    let green = RawGreen::start(Script::NotTls).await;
    let url = format!("https://{}", green.addr());
    let spec = spec_for(&url, "/health", ok_asserts(), once());
    let run = Invocation::new("after-allow-traffic", &spec).run().await;
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "error sending request: client error (Connect): received corrupt message of type InvalidContentType",
    );
    let tried = format!("cannot connect to {}: error sending request", green.addr());
    assert!(run.reasons().contains(&tried), "{}", run.reasons());
}

/// One check on `https://green.example.test:PORT` (the name pinned to
/// 127.0.0.1), trusting `green`'s test CA.
fn tls_spec(green: &TlsGreen) -> String {
    let url = format!("https://green.example.test:{}", green.addr().port());
    let mut spec: Value =
        serde_json::from_str(&spec_for(&url, "/health", json!([{"status": 200}]), once()))
            .expect("JSON");
    spec["target"]["resolve"] = json!({"green.example.test": "127.0.0.1"});
    spec["target"]["ca_pem"] = json!(green.ca_pem());
    spec.to_string()
}

#[tokio::test]
async fn an_expired_certificate_fails() {
    // GIVEN green's certificate, from a trusted CA, expired in 2020
    let green = TlsGreen::start_expired("green.example.test").await;
    let spec = tls_spec(&green);
    let run = Invocation::new("before-allow-traffic", &spec).run().await;
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "invalid peer certificate: certificate expired",
    );
}

#[tokio::test]
async fn a_certificate_for_another_name_fails() {
    // GIVEN a trusted certificate for another name than the one connected to
    let green = TlsGreen::start("other.example.test").await;
    let spec = tls_spec(&green);
    let run = Invocation::new("after-allow-test-traffic", &spec)
        .run()
        .await;
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "certificate not valid for name \\\"green.example.test\\\"",
    );
}

#[tokio::test]
async fn a_name_that_does_not_resolve_fails() {
    // GIVEN a host name the resolver refuses without a query (a 64-character
    // label), so the test sends nothing off the machine
    let url = format!("http://{}.example.test:8080", "a".repeat(64));
    let spec = spec_for(&url, "/health", ok_asserts(), once());
    let run = Invocation::new("after-allow-traffic", &spec).run().await;
    assert_row(&run, Told::Status("Failed", 1), "dns error");
}

#[tokio::test]
async fn flapping_green_fails_a_consecutive_passes_policy() {
    // GIVEN green passing every other request, and 2 passes in a row required
    let green = GreenService::start(Behaviour::Flapping).await;
    let spec = spec_for(
        &green.url(),
        "/health",
        ok_asserts(),
        json!({"attempts": 4, "interval_ms": 100, "consecutive_passes": 2}),
    );
    let run = Invocation::new("before-allow-traffic", &spec).run().await;
    // THEN pass, fail, pass, fail is not good enough, and the reason says
    // that the rule not met was the consecutive passes
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "failed after 4 attempt(s): 2 consecutive passes needed, at most 1 in a row",
    );
    assert_eq!(green.requests(), 4);
}

// --- CodeDeploy -------------------------------------------------------------

#[tokio::test]
async fn codedeploy_throttling_beyond_the_retry_budget_is_an_invocation_error() {
    // GIVEN CodeDeploy throttling every status call
    let green = GreenService::start(Behaviour::Healthy).await;
    let mut invocation = Invocation::new(
        "after-allow-test-traffic",
        &spec_for(&green.url(), "/health", ok_asserts(), once()),
    );
    invocation.timeout = Duration::from_secs(5);
    invocation.faults = vec![Fault::Throttle; 100];
    let run = invocation.run().await;
    // THEN the hook retries until its deadline, then says it could not report
    assert_row(
        &run,
        Told::InvocationError {
            calls_at_least: 3,
            error_type: "ReportFailed",
        },
        "could not report to CodeDeploy; the deployment waits for its timeout",
    );
    assert!(run.calls.iter().all(|c| c.answered == 400));
    // AND each retry line, and the last one, carries one short error line
    // (code and message), not the SDK's error dump
    let retried = run.log_fields("reporting to CodeDeploy failed; retrying");
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
}

#[tokio::test]
async fn codedeploy_5xx_beyond_the_retry_budget_is_an_invocation_error() {
    let green = GreenService::start(Behaviour::Error500).await;
    let mut invocation = Invocation::new(
        "before-allow-traffic",
        &spec_for(&green.url(), "/health", ok_asserts(), once()),
    );
    invocation.timeout = Duration::from_secs(5);
    invocation.faults = vec![Fault::ServerError; 100];
    let run = invocation.run().await;
    assert_row(
        &run,
        Told::InvocationError {
            calls_at_least: 3,
            error_type: "ReportFailed",
        },
        "could not report to CodeDeploy; the deployment waits for its timeout",
    );
    assert!(
        run.calls
            .iter()
            .all(|c| c.answered == 500 && c.status == "Failed")
    );
}

#[tokio::test]
async fn codedeploy_unreachable_is_an_invocation_error_before_the_deadline() {
    // GIVEN the CodeDeploy endpoint refusing connections
    let green = GreenService::start(Behaviour::Healthy).await;
    let closed = closed_port().await;
    let mut invocation = Invocation::new(
        "after-allow-traffic",
        &spec_for(&green.url(), "/health", ok_asserts(), once()),
    )
    .env("AWS_ENDPOINT_URL_CODEDEPLOY", &format!("http://{closed}"));
    invocation.timeout = Duration::from_secs(4);
    let run = invocation.run().await;
    // THEN no call arrives anywhere, and the hook says so before its deadline
    assert_row(
        &run,
        Told::InvocationError {
            calls_at_least: 0,
            error_type: "ReportFailed",
        },
        "could not report to CodeDeploy; the deployment waits for its timeout",
    );
    assert!(run.calls.is_empty());
}

#[tokio::test]
async fn codedeploy_answering_after_the_deadline_is_an_invocation_error_before_it() {
    // GIVEN CodeDeploy holding every status call for 30 s
    let green = GreenService::start(Behaviour::Healthy).await;
    let mut invocation = Invocation::new(
        "after-allow-test-traffic",
        &spec_for(&green.url(), "/health", ok_asserts(), once()),
    );
    invocation.timeout = Duration::from_secs(6);
    invocation.faults = vec![Fault::Stall(Duration::from_secs(30)); 10];
    let run = invocation.run().await;
    // THEN each attempt is cut (3 s at most), and the hook gives up before the
    // deadline; every call it made arrived and was held, none answered
    assert_row(
        &run,
        Told::InvocationError {
            calls_at_least: 2,
            error_type: "ReportFailed",
        },
        "could not report to CodeDeploy; the deployment waits for its timeout",
    );
    let gave_up = run.log_fields("could not report to CodeDeploy");
    assert_eq!(
        gave_up[0]["attempts"].as_u64(),
        Some(run.calls.len() as u64),
        "every attempt is a call CodeDeploy received: {:?}",
        run.calls
    );
    assert!(run.calls.iter().all(|c| c.answered == 0), "{:?}", run.calls);
}

// --- Lambda -----------------------------------------------------------------

#[tokio::test]
async fn a_deadline_shorter_than_the_checks_need_reports_failed_in_time() {
    // GIVEN green answering in 2 s where 1 s is required, 5 attempts (10 s),
    // and a 4 s function timeout
    let green = GreenService::start(Behaviour::Slow(Duration::from_millis(2000))).await;
    let spec = check_spec(
        &green.url(),
        json!({"path": "/health", "timeout_ms": 5000,
               "assert": [{"status": 200}, {"duration_ms": {"less_than": 1000}}],
               "retry": {"attempts": 5, "interval_ms": 100}}),
    );
    let mut invocation = Invocation::new("after-allow-traffic", &spec);
    invocation.timeout = Duration::from_secs(4);
    let run = invocation.run().await;
    // THEN the checks stop at the deadline less the margin, and Failed is taken
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "stopped by the hook's deadline",
    );
    assert!(run.calls[0].at.duration_since(run.started) < run.timeout);
}

#[tokio::test]
async fn a_deadline_inside_the_report_margin_fails_without_probing() {
    // GIVEN a 1.1 s timeout with a 1 s report margin
    let green = GreenService::start(Behaviour::Healthy).await;
    let mut invocation = Invocation::new(
        "before-allow-traffic",
        &spec_for(&green.url(), "/health", ok_asserts(), once()),
    );
    invocation.timeout = Duration::from_millis(1100);
    let run = invocation.run().await;
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "raise the function's timeout",
    );
    assert_eq!(green.requests(), 0);
}

#[tokio::test]
async fn a_panic_inside_a_check_fails_that_check_and_reports_once() {
    // GIVEN two checks, one of which panics, in a build that unwinds (as the
    // release build does)
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = json!({
        "target": {"url": green.url()},
        "readiness": {"enabled": false},
        "alarms": {"deployment_group": false},
        "checks": [
            {"name": "health", "path": "/health", "retry": {"attempts": 1}, "assert": ok_asserts()},
            {"name": "greenlight-fault-injection-panic", "path": "/health", "assert": [{"status": 200}]}
        ]
    })
    .to_string();
    let run = Invocation::new("after-allow-traffic", &spec).run().await;
    // THEN the panic is that check's failure; the other check still ran, and
    // the hook answered normally after one report
    assert_row(&run, Told::Status("Failed", 1), "the check panicked");
    let verdict = run.verdict();
    assert_eq!(
        verdict["failing_checks"],
        "greenlight-fault-injection-panic"
    );
    assert_eq!(green.requests(), 1);
}

#[tokio::test]
async fn a_panic_in_the_engine_still_reports_failed() {
    // GIVEN a check that panics, in a build that aborts on panic
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = spec_for(&green.url(), "/health", ok_asserts(), once());
    let mut spec: Value = serde_json::from_str(&spec).expect("JSON");
    spec["checks"][0]["name"] = json!("greenlight-fault-injection-panic");
    let mut invocation = Invocation::new("after-allow-test-traffic", &spec.to_string());
    invocation.build = Build::AbortOnPanic;
    let run = invocation.run().await;
    // THEN the guard reported Failed once before the process died
    assert_eq!(run.calls.len(), 1, "{:?}", run.calls);
    assert_eq!(run.accepted_statuses(), vec!["Failed".to_owned()]);
    assert!(run.exited_after.is_some(), "the process aborted");
    assert!(
        run.answer.is_none(),
        "an aborted process answers nothing: {:?}",
        run.answer
    );
    assert!(
        run.log_text().contains("injected panic"),
        "{}",
        run.log_text()
    );
    assert!(
        run.log_text()
            .contains("reporting Failed before the process ends")
    );
}

#[tokio::test]
async fn a_panic_in_the_engine_in_dry_run_reports_succeeded_as_the_log_says() {
    // GIVEN dry run, and a check that panics, in a build that aborts on panic
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = spec_for(&green.url(), "/health", ok_asserts(), once());
    let mut spec: Value = serde_json::from_str(&spec).expect("JSON");
    spec["checks"][0]["name"] = json!("greenlight-fault-injection-panic");
    let mut invocation = Invocation::new("after-allow-test-traffic", &spec.to_string())
        .env("GREENLIGHT_DRY_RUN", "true");
    invocation.build = Build::AbortOnPanic;
    let run = invocation.run().await;
    // THEN the panic hook reported what dry run reports, Succeeded, once
    // before the process died, and its log lines say so
    assert_eq!(run.calls.len(), 1, "{:?}", run.calls);
    assert_eq!(
        run.accepted_statuses(),
        vec!["Succeeded".to_owned()],
        "{}",
        run.log_text()
    );
    assert!(run.exited_after.is_some(), "the process aborted");
    assert!(
        run.log_text().contains(
            "reporting Succeeded before the process ends (DRY RUN: the verdict is Failed)"
        ),
        "{}",
        run.log_text()
    );
    let sent = run.log_fields("last-resort report");
    assert_eq!(sent.len(), 1, "{}", run.log_text());
    assert_eq!(sent[0]["status"], "Succeeded", "{}", run.log_text());
}

#[tokio::test]
async fn a_panic_in_the_runner_in_dry_run_reports_succeeded_as_the_answer_says() {
    // GIVEN dry run, and a panic in the runner outside any check, in a build
    // that unwinds (as the release build does)
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = spec_for(&green.url(), "/health", ok_asserts(), once());
    let mut spec: Value = serde_json::from_str(&spec).expect("JSON");
    spec["checks"][0]["name"] = json!("greenlight-fault-injection-runner-panic");
    let run = Invocation::new("before-allow-traffic", &spec.to_string())
        .env("GREENLIGHT_DRY_RUN", "true")
        .run()
        .await;
    // THEN the runner's guard reported Succeeded, as dry run does, and the
    // answer and the log lines say what was sent; the verdict stays Failed
    assert_row(
        &run,
        Told::Status("Succeeded", 1),
        "greenlight panicked before reporting; reporting Succeeded (DRY RUN: the verdict is Failed)",
    );
    let answer = run.answer.as_ref().expect("answered").response();
    assert_eq!(answer["verdict"]["status"], "Failed");
    assert_eq!(answer["dryRun"], true);
    let reported = run.log_fields("reported to CodeDeploy");
    assert_eq!(reported.len(), 1, "{}", run.log_text());
    assert_eq!(reported[0]["status"], "Succeeded");
    assert_eq!(green.requests(), 0);
}

#[tokio::test]
async fn the_same_event_delivered_twice_is_answered_cleanly_both_times() {
    // GIVEN one hook process and the same event delivered twice
    let green = GreenService::start(Behaviour::Healthy).await;
    let mut invocation = Invocation::new(
        "before-allow-traffic",
        &spec_for(&green.url(), "/health", ok_asserts(), once()),
    );
    invocation.deliveries = 2;
    let run = invocation.run().await;
    // THEN both were Succeeded: the first accepted, the second told "already
    // completed" and answered as done, not as an error
    assert_eq!(run.calls.len(), 2, "{:?}", run.calls);
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
    assert_eq!(green.requests(), 2, "each delivery is judged afresh");
}

// --- input: the event -------------------------------------------------------

/// Runs after-allow-test-traffic on `event`, with a healthy green.
async fn run_event(event: Value) -> (Run, GreenService) {
    let green = GreenService::start(Behaviour::Healthy).await;
    let mut invocation = Invocation::new(
        "after-allow-test-traffic",
        &spec_for(&green.url(), "/health", ok_asserts(), once()),
    );
    invocation.event = event;
    (invocation.run().await, green)
}

#[tokio::test]
async fn an_event_that_is_not_an_object_is_an_invocation_error() {
    let (run, green) = run_event(json!("DeploymentId=d-ABCDEF123")).await;
    assert_row(
        &run,
        Told::InvocationError {
            calls_at_least: 0,
            error_type: "InvalidEvent",
        },
        "event: expected a JSON object with DeploymentId and LifecycleEventHookExecutionId, got a string",
    );
    assert!(run.calls.is_empty());
    assert_eq!(green.requests(), 0);
}

#[tokio::test]
async fn an_event_without_ids_is_an_invocation_error() {
    let (run, green) = run_event(json!({"deploymentId": "d-ABCDEF123"})).await;
    assert_row(
        &run,
        Told::InvocationError {
            calls_at_least: 0,
            error_type: "InvalidEvent",
        },
        "event.DeploymentId: missing",
    );
    assert!(run.calls.is_empty());
    assert_eq!(green.requests(), 0);
}

#[tokio::test]
async fn an_event_with_ids_of_the_wrong_type_is_an_invocation_error() {
    let (run, green) =
        run_event(json!({"DeploymentId": ["d-ABCDEF123"], "LifecycleEventHookExecutionId": 42}))
            .await;
    assert_row(
        &run,
        Told::InvocationError {
            calls_at_least: 0,
            error_type: "InvalidEvent",
        },
        "event.DeploymentId: expected a non-empty string, got an array",
    );
    assert!(run.calls.is_empty());
    assert_eq!(green.requests(), 0);
}

#[tokio::test]
async fn a_six_megabyte_event_is_an_invocation_error_naming_the_field() {
    // GIVEN an event at Lambda's 6 MB payload limit
    let huge = "e".repeat(6 * 1000 * 1000 - 100);
    let (run, green) =
        run_event(json!({"DeploymentId": "d-ABCDEF123", "LifecycleEventHookExecutionId": huge}))
            .await;
    // THEN the field and its size are named, the ID is not echoed back
    assert_row(
        &run,
        Told::InvocationError {
            calls_at_least: 0,
            error_type: "InvalidEvent",
        },
        "event.LifecycleEventHookExecutionId: expected a non-empty string, got 5999900 bytes (at most 4096)",
    );
    assert!(run.calls.is_empty());
    assert!(run.log_text().len() < 100_000, "the event is not logged");
    assert_eq!(green.requests(), 0);
}

// --- input: the spec --------------------------------------------------------

/// Runs before-allow-traffic with `spec` (text, `GREEN` standing for green's
/// URL), expecting `told` and a configuration reason that contains `reason`;
/// green is never probed.
async fn assert_spec_refused(spec: &str, told: Told, reason: &str) {
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = spec.replace("GREEN", &green.url());
    let run = Invocation::new("before-allow-traffic", &spec).run().await;
    assert_row(&run, told, reason);
    let why = run.reasons();
    assert!(why.starts_with("configuration: "), "{why}");
    assert!(why.contains(reason), "{why}");
    assert_eq!(green.requests(), 0, "nothing is probed with a bad spec");
}

#[tokio::test]
async fn a_spec_with_an_unknown_field_is_refused_naming_it() {
    assert_spec_refused(
        r#"{"target": {"url": "GREEN"}, "checks": [{"name": "a", "timeout": 5, "assert": [{"status": 200}]}]}"#,
        Told::Status("Failed", 1),
        "checks[0].timeout: unknown field `timeout`",
    )
    .await;
}

#[tokio::test]
async fn a_spec_with_a_wrong_type_is_refused_naming_the_field() {
    assert_spec_refused(
        r#"{"target": {"url": "GREEN"}, "concurrency": "eight", "checks": [{"name": "a", "assert": [{"status": 200}]}]}"#,
        Told::Status("Failed", 1),
        "concurrency: invalid type: string",
    )
    .await;
}

#[tokio::test]
async fn a_negative_timeout_is_refused_naming_the_field() {
    assert_spec_refused(
        r#"{"target": {"url": "GREEN"}, "checks": [{"name": "a", "timeout_ms": -5, "assert": [{"status": 200}]}]}"#,
        Told::Status("Failed", 1),
        "checks[0].timeout_ms: invalid value: integer `-5`, expected u64",
    )
    .await;
}

#[tokio::test]
async fn a_bad_regex_is_refused_naming_the_assertion() {
    assert_spec_refused(
        r#"{"target": {"url": "GREEN"}, "checks": [{"name": "a", "assert": [{"body": {"matches": "([unclosed"}}]}]}"#,
        Told::Status("Failed", 1),
        "checks[0].assert[0].body.matches",
    )
    .await;
}

#[tokio::test]
async fn a_bad_json_path_is_refused_naming_the_assertion() {
    assert_spec_refused(
        r#"{"target": {"url": "GREEN"}, "checks": [{"name": "a", "assert": [{"json": {"path": "$..[?(", "exists": true}}]}]}"#,
        Told::Status("Failed", 1),
        "checks[0].assert[0].json.path",
    )
    .await;
}

#[tokio::test]
async fn duplicate_check_names_are_refused() {
    assert_spec_refused(
        r#"{"target": {"url": "GREEN"}, "checks": [
            {"name": "a", "assert": [{"status": 200}]},
            {"name": "a", "assert": [{"status": 204}]}]}"#,
        Told::Status("Failed", 1),
        "checks[1].name: duplicate check name",
    )
    .await;
}

#[tokio::test]
async fn impossible_values_are_all_refused_at_once() {
    assert_spec_refused(
        r#"{"target": {"url": "GREEN"}, "concurrency": 0, "checks": [{"name": "a",
            "retry": {"attempts": 0, "consecutive_passes": 3}, "assert": [{"status": 999}]}]}"#,
        Told::Status("Failed", 1),
        "concurrency: expected 1..=128, got 0",
    )
    .await;
}

#[tokio::test]
async fn a_spec_that_is_not_json_is_refused() {
    assert_spec_refused(
        "checks: [health]",
        Told::Status("Failed", 1),
        "expected value at line 1 column 1",
    )
    .await;
}

#[tokio::test]
async fn a_slow_resolver_for_the_target_host_is_cut_at_the_deadline() {
    // GIVEN target.host pinning, whose lookup meets a resolver that answers
    // nothing for 10 s (the test builds' injection point), a 2 s function
    // timeout and a 1000 ms report margin
    let green = GreenService::start(Behaviour::Healthy).await;
    let url = format!(
        "http://green.slow-dns.greenlight.invalid:{}",
        port_of(&green.url())
    );
    let mut spec: Value =
        serde_json::from_str(&spec_for(&url, "/health", ok_asserts(), once())).expect("JSON");
    spec["target"]["host"] = json!("green.example.test");
    let mut invocation = Invocation::new("after-allow-test-traffic", &spec.to_string());
    invocation.timeout = Duration::from_millis(2000);
    let run = invocation.run().await;
    // THEN the lookup stops when the hook must stop probing, and Failed is
    // reported in time, naming the host and why
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "target: cannot resolve green.slow-dns.greenlight.invalid: no answer before the hook had to report",
    );
    assert_eq!(green.requests(), 0);
}

// --- reasons that name what failed ------------------------------------------

#[tokio::test]
async fn a_dns_error_names_the_host_and_port_it_tried() {
    // GIVEN a host name the resolver refuses without a query (a 64-character
    // label: nothing leaves the machine)
    const HOST: &str =
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.example.test";
    let spec = spec_for(
        &format!("http://{HOST}:8080"),
        "/health",
        ok_asserts(),
        once(),
    );
    let run = Invocation::new("after-allow-test-traffic", &spec)
        .run()
        .await;
    // THEN the reason says which host and port could not be reached
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "cannot connect to bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.example.test:8080",
    );
    assert!(run.reasons().contains("dns error"), "{}", run.reasons());
}

// --- cold start ---------------------------------------------------------------

/// Runs after-allow-test-traffic, with a healthy green, and `name=value` set
/// in its environment at cold start.
async fn run_with(name: &'static str, value: &str) -> (Run, GreenService) {
    let green = GreenService::start(Behaviour::Healthy).await;
    let invocation = Invocation::new(
        "after-allow-test-traffic",
        &spec_for(&green.url(), "/health", ok_asserts(), once()),
    )
    .env(name, value);
    (invocation.run().await, green)
}

#[tokio::test]
async fn an_aws_max_attempts_that_is_not_a_number_fails_naming_it() {
    // GIVEN AWS_MAX_ATTEMPTS=abc, which the AWS SDK's config loader panics on
    let (run, green) = run_with("AWS_MAX_ATTEMPTS", "abc").await;
    // THEN the hook still polls for its event and reports Failed, once, with
    // the variable in the reason; green is never probed
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "configuration: AWS_MAX_ATTEMPTS: expected a whole number of attempts, 1 or more, got \\\"abc\\\"",
    );
    assert!(
        run.reasons().starts_with("configuration: AWS_MAX_ATTEMPTS"),
        "{}",
        run.reasons()
    );
    assert_eq!(green.requests(), 0);
}

#[tokio::test]
async fn an_unknown_aws_retry_mode_fails_naming_it() {
    // GIVEN AWS_RETRY_MODE=bogus, which the AWS SDK's config loader panics on
    let (run, green) = run_with("AWS_RETRY_MODE", "bogus").await;
    // THEN the hook still polls for its event and reports Failed, once, with
    // the variable in the reason
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "configuration: AWS_RETRY_MODE: expected standard or adaptive, got \\\"bogus\\\"",
    );
    assert!(
        run.reasons().starts_with("configuration: AWS_RETRY_MODE"),
        "{}",
        run.reasons()
    );
    assert_eq!(green.requests(), 0);
}

#[tokio::test]
async fn a_panic_at_cold_start_still_reports_failed_naming_it() {
    // GIVEN a cold start that panics after loading the AWS SDK configuration
    // (the test builds' injection point), in a build that unwinds
    let (run, green) = run_with("GREENLIGHT_FAULT_INJECTION_COLD_START_PANIC", "1").await;
    // THEN the guard builds a runner that can still report: the hook polls
    // for its event and reports Failed once, naming the panic
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "configuration: the cold start panicked: injected panic at cold start",
    );
    assert_eq!(green.requests(), 0);
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port")
}

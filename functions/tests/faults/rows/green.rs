//! Green, as the checks reach it: HTTP errors, broken connections, TLS, DNS,
//! redirects, bodies too big or too deep, flapping.

use std::time::Duration;

use greenlight_e2e::green::Behaviour;
use greenlight_e2e::hook::Run;
use greenlight_e2e::raw::Script;
use greenlight_e2e::row::{
    AFTER_ALLOW_TRAFFIC as AAT, Area, BEFORE_ALLOW_TRAFFIC as BAT, Green, Row, ok_asserts, once,
};
use greenlight_e2e::scene::port_of;
use serde_json::json;

use super::{
    check_line, for_the_sample_deployment, health_asserts, health_check,
    reported_before_the_deadline,
};

/// A TLS green's spec target: `green.example.test` on its port, pinned to
/// 127.0.0.1, trusting its test CA.
fn tls_target() -> serde_json::Value {
    json!({"target": {
        "url": "https://green.example.test:GREEN_PORT",
        "resolve": {"green.example.test": "127.0.0.1"},
        "ca_pem": "GREEN_CA"
    }})
}

/// Peak RSS under 64 MB.
fn memory_bounded(run: &Run, what: &str) {
    let rss_kib = run.peak_rss_kib.expect("peak RSS from /proc");
    eprintln!("{what}: peak RSS {rss_kib} KiB");
    assert!(
        rss_kib < 62_500,
        "peak RSS {rss_kib} KiB (64 MB = 62500 KiB)"
    );
}

pub fn rows() -> Vec<Row> {
    let area = Area::Green;
    vec![
        Row::new("status_500_fails", area, "HTTP 500")
            .behaviour(Behaviour::Error500)
            .check(health_check())
            .fails("status == 200")
            .also(|run, _| {
                for_the_sample_deployment(run);
                let line = check_line(run, "health");
                assert_eq!(line["outcome"], "fail");
                assert_eq!(line["attempts"], 2);
                let expected = line["expected"].as_str().unwrap_or_default();
                assert!(expected.contains("status == 200"), "{line}");
                let actual = line["actual"].as_str().unwrap_or_default();
                assert!(actual.starts_with("500"), "{line}");
                let verdict = run.verdict();
                assert_eq!(verdict["status"], "Failed");
                assert_eq!(verdict["failing_checks"], "health");
            }),
        Row::new("green_answering_404_fails", area, "HTTP 404")
            .behaviour(Behaviour::NotFound404)
            .fails("expected status == 200, got 404"),
        Row::new("connection_refused_fails", area, "connection refused")
            .hook(AAT)
            .green(Green::Closed)
            .check(health_check())
            .fails("cannot connect")
            .also(|run, _| {
                for_the_sample_deployment(run);
                let line = check_line(run, "health");
                let actual = line["actual"].as_str().unwrap_or_default();
                assert!(actual.starts_with("cannot connect"), "{line}");
            }),
        Row::new("a_connection_reset_mid_body_fails", area, "connection reset mid-body")
            .hook(BAT)
            .green(Green::Raw(Script::ResetMidBody))
            .fails("request failed: error decoding response body")
            .also(|_, scene| assert_eq!(scene.raw().connections(), 1)),
        Row::new(
            "hung_green_still_reports_failed_before_the_deadline",
            area,
            "accepts and never answers (checks outlast the 4 s deadline)",
        )
        .behaviour(Behaviour::Hang)
        .check(json!({"path": "/health", "assert": health_asserts(),
                      "retry": {"within_ms": 60000, "interval_ms": 200}}))
        .timeout(Duration::from_secs(4))
        .fails("no response headers within")
        .also(|run, _| {
            for_the_sample_deployment(run);
            reported_before_the_deadline(run);
            let line = check_line(run, "health");
            let actual = line["actual"].as_str().unwrap_or_default();
            assert!(actual.contains("no response headers within"), "{line}");
            let reason = line["reason"].as_str().unwrap_or_default();
            assert!(reason.contains("deadline"), "{line}");
        }),
        Row::new("headers_then_a_stalled_body_fail_at_the_request_timeout", area, "headers, then the body stalls (800 ms request timeout)")
            .hook(AAT)
            .green(Green::Raw(Script::StallBody))
            .check(json!({"path": "/health", "timeout_ms": 800, "assert": ok_asserts(), "retry": once()}))
            .fails("HTTP 200 headers arrived, but the body did not finish within 800 ms"),
        Row::new(
            "green_accepting_and_never_answering_fails_saying_no_headers_arrived",
            area,
            "accepts the connection and never answers (800 ms request timeout)",
        )
        .hook(BAT)
        .behaviour(Behaviour::Hang)
        .check(json!({"path": "/health", "timeout_ms": 800, "assert": ok_asserts(), "retry": once()}))
        .fails("no response headers within 800 ms")
        .also(|_, scene| assert_eq!(scene.requests(), 1)),
        Row::new(
            "a_gigabyte_body_is_cut_at_one_mebibyte_and_memory_stays_bounded",
            area,
            "1 GiB body (read stops at 1 MiB; peak RSS asserted < 64 MB: 36 MiB in the test build, 15.5 MiB in the release build)",
        )
        .green(Green::Raw(Script::HugeBody(1 << 30)))
        .check(json!({"path": "/health", "retry": once(),
                      "assert": [{"status": 200}, {"body": {"contains": "\"status\": \"ok\""}}]}))
        .succeeds("check passed")
        .also(|run, scene| {
            memory_bounded(run, "1 GiB body");
            let sent = scene.raw().body_bytes_sent();
            assert!(sent < 64 << 20, "the hook kept reading: {sent} bytes");
        }),
        Row::new("invalid_json_fails_the_json_assertion", area, "invalid JSON where JSON is asserted")
            .hook(BAT)
            .behaviour(Behaviour::InvalidJson)
            .fails("body is not JSON"),
        Row::new(
            "secrets_echoed_in_a_body_that_is_not_json_are_not_shown",
            area,
            "echoes the secret headers in a body that is not JSON, a secret across the display cut (the body is not shown: the check sends secrets)",
        )
        .hook(BAT)
        .check(json!({
            "path": "/echo",
            "headers": {"A-Pad": "p".repeat(194)},
            "assert": [{"json": {"path": "$.status", "equals": "ok"}}],
            "retry": once()
        }))
        .fails("body is not JSON")
        .also(|run, _| {
            let shown = run.log_fields("check failed")[0]["actual"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(
                shown.ends_with("bytes; not shown: the check sends secret headers]"),
                "{shown}"
            );
        }),
        Row::new("wrong_json_value_fails_with_expected_and_actual_in_the_log", area, "wrong JSON value")
            .hook(BAT)
            .behaviour(Behaviour::WrongAnswer)
            .check(health_check())
            .fails(r#"got \"degraded\""#)
            .also(|run, _| {
                for_the_sample_deployment(run);
                let line = check_line(run, "health");
                assert_eq!(line["expected"], "json $.status == \"ok\"");
                assert_eq!(line["actual"], "\"degraded\"");
                assert!(run.reasons().contains("got \"degraded\""), "{}", run.reasons());
            }),
        Row::new("slow_response_over_the_limit_fails", area, "slower than the asserted response time")
            .behaviour(Behaviour::Slow(Duration::from_millis(1200)))
            .check(json!({"path": "/health", "retry": once(),
                          "assert": [{"status": 200}, {"duration_ms": {"less_than": 500}}]}))
            .fails("duration_ms < 500")
            .also(|run, _| {
                for_the_sample_deployment(run);
                let line = check_line(run, "health");
                assert_eq!(line["expected"], "duration_ms < 500");
                let took: u64 = line["actual"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .expect("a duration");
                assert!(took >= 1200, "{line}");
            }),
        Row::new("a_redirect_is_not_followed_by_default", area, "redirect, not followed by default")
            .hook(AAT)
            .check(json!({"path": "/loop", "assert": ok_asserts(), "retry": once()}))
            .fails("expected status == 200, got 302")
            .also(|_, scene| assert_eq!(scene.requests(), 1)),
        Row::new("a_redirect_loop_fails_at_the_redirect_limit", area, "redirect loop (`follow_redirects.max` 5)")
            .check(json!({"path": "/loop", "follow_redirects": {"max": 5}, "assert": ok_asserts(), "retry": once()}))
            .fails("redirect limit reached: more than 5 redirect(s)")
            .also(|_, scene| assert_eq!(scene.requests(), 6, "the first request and 5 redirects")),
        Row::new("a_redirect_to_another_host_is_not_followed", area, "redirect to another host")
            .hook(BAT)
            .check(json!({"path": "/away/OTHER_PORT", "follow_redirects": {"max": 3},
                          "assert": [{"status": 200}], "retry": once()}))
            .fails("is not the target (127.0.0.1:")
            .also(|run, scene| {
                let refused = format!(
                    "localhost:{} is not the target (127.0.0.1:{}); add it to follow_redirects.hosts to allow it",
                    port_of(&scene.other.url()),
                    scene.port()
                );
                assert!(run.log_text().contains(&refused), "{}", run.log_text());
                assert_eq!(scene.other.requests(), 0);
            }),
        Row::new(
            "a_redirect_to_another_port_on_the_same_host_is_not_followed",
            area,
            "redirect to another port of the same host",
        )
        .check(json!({"path": "/elsewhere/OTHER_PORT", "follow_redirects": {"max": 3},
                      "assert": [{"status": 200}], "retry": once()}))
        .fails("add it to follow_redirects.hosts to allow it")
        .also(|_, scene| assert_eq!(scene.other.requests(), 0)),
        Row::new(
            "a_redirect_to_an_allowed_host_is_followed_without_the_secrets",
            area,
            "redirect to a host the spec allows (secrets not forwarded)",
        )
        .check(json!({
            "path": "/away/OTHER_PORT",
            "headers": {"X-Plain": "visible"},
            "follow_redirects": {"max": 3, "hosts": ["localhost:OTHER_PORT"]},
            "assert": [{"status": 200}, {"body": {"contains": "x-plain: visible"}}],
            "retry": once()
        }))
        .succeeds("check passed")
        .also(|_, scene| {
            let (green, other) = (scene.service(), &scene.other);
            assert_eq!(other.requests(), 1);
            assert_eq!(green.requests_with_header("authorization"), 1);
            assert_eq!(other.requests_with_header("authorization"), 0);
            assert_eq!(other.requests_with_header("x-canary-token"), 0);
            assert_eq!(other.requests_with_header("x-plain"), 1);
        }),
        Row::new("a_tls_handshake_failure_fails", area, "TLS handshake failure (plain HTTP on https)")
            .hook(AAT)
            .green(Green::Raw(Script::NotTls))
            .patch(json!({"target": {"url": "https://127.0.0.1:GREEN_PORT"}}))
            .fails("error sending request: client error (Connect): received corrupt message of type InvalidContentType")
            .also(|run, scene| {
                let tried = format!(
                    "cannot connect to {}: error sending request",
                    scene.raw().addr()
                );
                assert!(run.reasons().contains(&tried), "{}", run.reasons());
            }),
        Row::new("an_expired_certificate_fails", area, "expired certificate")
            .hook(BAT)
            .green(Green::Tls { name: "green.example.test", expired: true })
            .check(json!({"path": "/health", "assert": [{"status": 200}], "retry": once()}))
            .patch(tls_target())
            .fails("invalid peer certificate: certificate expired"),
        Row::new("a_certificate_for_another_name_fails", area, "certificate for another name")
            .green(Green::Tls { name: "other.example.test", expired: false })
            .check(json!({"path": "/health", "assert": [{"status": 200}], "retry": once()}))
            .patch(tls_target())
            .fails(r#"certificate not valid for name \"green.example.test\""#),
        Row::new(
            "a_name_that_does_not_resolve_fails",
            area,
            "DNS name that cannot be resolved (a 64-character label the resolver refuses without sending a query: the tests send nothing off the machine)",
        )
        .hook(AAT)
        .green(Green::Url(
            "http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.test:8080",
        ))
        .fails("dns error"),
        Row::new(
            "a_dns_error_names_the_host_and_port_it_tried",
            area,
            "DNS name that cannot be resolved: the reason names the host and port tried",
        )
        .green(Green::Url(
            "http://bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.example.test:8080",
        ))
        .fails("cannot connect to bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.example.test:8080")
        .also(|run, _| assert!(run.reasons().contains("dns error"), "{}", run.reasons())),
        Row::new(
            "flapping_green_fails_a_consecutive_passes_policy",
            area,
            "flapping (pass, fail, pass, fail) against 2 consecutive passes",
        )
        .hook(BAT)
        .behaviour(Behaviour::Flapping)
        .check(json!({"path": "/health", "assert": ok_asserts(),
                      "retry": {"attempts": 4, "interval_ms": 100, "consecutive_passes": 2}}))
        .fails("failed after 4 attempt(s): 2 consecutive passes needed, at most 1 in a row")
        .also(|_, scene| assert_eq!(scene.requests(), 4)),
        Row::new(
            "a_descendant_json_path_on_a_large_nested_body_stays_within_memory_and_time",
            area,
            "`$..error` on a 1,000,201-byte body nested 20 deep (peak RSS asserted < 64 MB)",
        )
        .check(json!({"path": "/nested/20/1000201", "retry": once(),
                      "assert": [{"status": 200}, {"json": {"path": "$..error", "exists": false}}]}))
        .fails("expected json $..error does not exist, got [{")
        .also(|run, _| {
            memory_bounded(run, "$..error on a 1 MB body nested 20 deep");
            assert!(run.reasons().contains("… (cut)"), "{}", run.reasons());
        }),
        Row::new(
            "integers_beyond_two_to_the_53_compare_exactly",
            area,
            "an integer beyond 2^53 against its neighbour",
        )
        .hook(BAT)
        .check(json!({"path": "/big-number", "retry": once(),
                      "assert": [{"json": {"path": "$.id", "equals": 9_007_199_254_740_992_u64}}]}))
        .fails("expected json $.id == 9007199254740992, got 9007199254740993"),
    ]
}

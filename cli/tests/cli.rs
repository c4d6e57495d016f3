//! End-to-end tests of the `greenlight` binary: the real executable run on
//! spec files, against a real HTTP server on 127.0.0.1.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};

/// A secret header value: it must never be shown.
const SECRET: &str = "Bearer s3cr3t-7f1c9a2e-token";

/// A green service: `/health` answers 200 `{"status":"ok"}`, `/broken` 500
/// `{"status":"error"}`, `/slow` after 10 s, `/echo` the request's headers as
/// JSON.
struct Green {
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

impl Green {
    fn start() -> Green {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let router = Router::new()
            .route(
                "/health",
                get(|| async { axum::Json(json!({"status": "ok"})) }),
            )
            .route(
                "/broken",
                get(|| async {
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        axum::Json(json!({"status": "error"})),
                    )
                }),
            )
            // Two releases of one API: v2 sends the price as a string.
            .route(
                "/v1/items",
                get(|| async { axum::Json(json!({"items": [{"id": 1, "price": 9.5}]})) }),
            )
            .route(
                "/v2/items",
                get(|| async {
                    axum::Json(json!({"items": [{"id": 1, "price": "9.50", "currency": "EUR"}]}))
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
                    "late"
                }),
            )
            .route(
                "/echo",
                get(|headers: HeaderMap| async move {
                    let seen: serde_json::Map<String, Value> = headers
                        .iter()
                        .map(|(name, value)| {
                            (
                                name.to_string(),
                                Value::String(value.to_str().unwrap_or("").to_owned()),
                            )
                        })
                        .collect();
                    axum::Json(Value::Object(seen))
                }),
            );
        runtime.spawn(async move { axum::serve(listener, router).await });
        Green {
            addr,
            _runtime: runtime,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A file in this test target's scratch directory.
fn scratch(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Writes `spec` to a scratch file named `name`.
fn spec_file(name: &str, spec: &Value) -> PathBuf {
    let path = scratch(name);
    std::fs::write(&path, spec.to_string()).expect("write spec");
    path
}

fn greenlight(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_greenlight"))
        .args(args)
        .output()
        .expect("run greenlight")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A spec with no target (the command line gives it) and no AWS stage.
fn spec(checks: Value) -> Value {
    json!({
        "readiness": {"enabled": false},
        "alarms": {"deployment_group": false},
        "defaults": {"timeout_ms": 2000, "retry": {"attempts": 1}},
        "checks": checks,
    })
}

fn healthy_checks() -> Value {
    json!([
        {"name": "health", "path": "/health", "assert": [
            {"status": 200}, {"json": {"path": "$.status", "equals": "ok"}}]},
        {"name": "late", "hooks": ["AfterAllowTraffic"], "path": "/health",
         "assert": [{"status": 200}]}
    ])
}

fn path_str(path: &std::path::Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

#[test]
fn validate_a_good_spec_counts_the_checks_of_each_hook() {
    let path = spec_file("validate-ok.json", &spec(healthy_checks()));
    let run = greenlight(&["validate", path_str(&path)]);
    let stdout = text(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}{}", text(&run.stderr));
    assert!(
        stdout.contains(
            "valid, 2 check(s): AfterAllowTestTraffic 1, BeforeAllowTraffic 1, AfterAllowTraffic 2"
        ),
        "{stdout}"
    );
}

#[test]
fn validate_prints_every_problem_with_its_path() {
    let bad = json!({
        "readiness": {"enabled": false},
        "alarms": {"deployment_group": false},
        "concurrency": 0,
        "checks": [
            {"name": "a", "path": "/health", "assert": []},
            {"name": "a", "path": "/health", "assert": [{"status": 200}]}
        ]
    });
    let path = spec_file("validate-bad.json", &bad);
    let run = greenlight(&["validate", path_str(&path)]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    for at in ["concurrency:", "checks[0].assert:", "checks[1].name:"] {
        assert!(stderr.contains(at), "{at} missing from:\n{stderr}");
    }
    assert!(stderr.contains("3 problem(s)"), "{stderr}");
}

#[test]
fn a_missing_spec_file_is_exit_2() {
    let missing = scratch("no-such-spec.json");
    let run = greenlight(&["validate", path_str(&missing)]);
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run.stderr).contains("cannot read the spec"));
    let run = greenlight(&["check", path_str(&missing), "--url", "http://127.0.0.1:9"]);
    assert_eq!(run.status.code(), Some(2));
}

#[test]
fn usage_errors_are_exit_2() {
    let path = spec_file("usage.json", &spec(healthy_checks()));
    assert_eq!(
        greenlight(&["check", path_str(&path)]).status.code(),
        Some(2)
    );
    let bad_hook = greenlight(&[
        "check",
        path_str(&path),
        "--url",
        "http://127.0.0.1:9",
        "--hook",
        "Install",
    ]);
    assert_eq!(bad_hook.status.code(), Some(2));
    assert_eq!(greenlight(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn check_passing_exits_0_with_a_line_per_check() {
    let green = Green::start();
    let path = spec_file("check-pass.json", &spec(healthy_checks()));
    let run = greenlight(&["check", path_str(&path), "--url", &green.url()]);
    let stdout = text(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}{}", text(&run.stderr));
    assert!(
        stdout.contains("check passed check=health outcome=pass"),
        "{stdout}"
    );
    assert!(
        stdout.contains("verdict hook=AfterAllowTestTraffic status=Succeeded checks=1"),
        "{stdout}"
    );
    let after = greenlight(&[
        "check",
        path_str(&path),
        "--url",
        &green.url(),
        "--hook",
        "AfterAllowTraffic",
    ]);
    assert_eq!(after.status.code(), Some(0));
    assert!(text(&after.stdout).contains("checks=2"));
}

#[test]
fn check_failing_exits_1_and_writes_a_junit_failure() {
    let green = Green::start();
    let checks = json!([
        {"name": "health", "path": "/health", "assert": [{"status": 200}]},
        {"name": "broken", "path": "/broken", "assert": [
            {"status": 200}, {"json": {"path": "$.status", "equals": "ok"}}]}
    ]);
    let path = spec_file("check-fail.json", &spec(checks));
    let junit = scratch("check-fail.xml");
    let _ = std::fs::remove_file(&junit);
    let run = greenlight(&[
        "check",
        path_str(&path),
        "--url",
        &green.url(),
        "--junit",
        path_str(&junit),
    ]);
    let stdout = text(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}{}", text(&run.stderr));
    assert!(
        stdout.contains("check failed check=broken outcome=fail"),
        "{stdout}"
    );
    assert!(
        stdout.contains("    expected status == 200, got 500"),
        "{stdout}"
    );
    assert!(text(&run.stderr).contains("AfterAllowTestTraffic: Failed (1 of 2 check(s) failed)"));

    let xml = std::fs::read_to_string(&junit).expect("JUnit file written");
    let document = roxmltree::Document::parse(&xml).expect("JUnit is XML");
    let cases: Vec<roxmltree::Node> = document
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 2, "{xml}");
    let suite = document
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("a testsuite");
    assert_eq!(suite.attribute("name"), Some("AfterAllowTestTraffic"));
    assert_eq!(suite.attribute("tests"), Some("2"));
    assert_eq!(suite.attribute("failures"), Some("1"));
    let broken = cases
        .iter()
        .find(|c| c.attribute("name") == Some("broken"))
        .expect("the broken case");
    let failure = broken
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure element");
    let message = failure.attribute("message").unwrap_or_default();
    assert!(
        message.contains("expected status == 200, got 500"),
        "{message}"
    );
    let health = cases
        .iter()
        .find(|c| c.attribute("name") == Some("health"))
        .expect("the health case");
    assert!(!health.children().any(|n| n.has_tag_name("failure")));
}

#[test]
fn json_format_is_the_verdict() {
    let green = Green::start();
    let path = spec_file("check-json.json", &spec(healthy_checks()));
    let run = greenlight(&[
        "check",
        path_str(&path),
        "--url",
        &green.url(),
        "--format",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let verdict: Value = serde_json::from_slice(&run.stdout).expect("stdout is JSON");
    assert_eq!(verdict["status"], "Succeeded");
    assert_eq!(verdict["hook"], "AfterAllowTestTraffic");
    assert_eq!(verdict["checks"][0]["name"], "health");
    assert_eq!(verdict["checks"][0]["outcome"], "pass");
}

#[test]
fn junit_format_prints_the_report() {
    let green = Green::start();
    let path = spec_file("check-junit.json", &spec(healthy_checks()));
    let run = greenlight(&[
        "check",
        path_str(&path),
        "--url",
        &green.url(),
        "--format",
        "junit",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let xml = text(&run.stdout);
    let document = roxmltree::Document::parse(&xml).expect("stdout is XML");
    assert_eq!(
        document
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        1
    );
}

#[test]
fn a_secret_header_is_never_shown() {
    let green = Green::start();
    // Sent as a secret header, echoed back by green, and written into an
    // assertion's expected value: every place a value could leak from.
    let checks = json!([
        {"name": "echo", "path": "/echo",
         "headers": {"X-Token": {"value": SECRET, "secret": true}},
         "assert": [{"status": 500}, {"body": {"equals": SECRET}}]},
        {"name": "auth", "path": "/echo",
         "headers": {"Authorization": SECRET},
         "assert": [{"json": {"path": "$.authorization", "equals": "wrong"}}]}
    ]);
    let path = spec_file("check-secret.json", &spec(checks));
    for format in ["text", "json", "junit"] {
        let junit = scratch(&format!("check-secret-{format}.xml"));
        let run = greenlight(&[
            "check",
            path_str(&path),
            "--url",
            &green.url(),
            "--format",
            format,
            "--junit",
            path_str(&junit),
        ]);
        assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
        let stdout = text(&run.stdout);
        let stderr = text(&run.stderr);
        let xml = std::fs::read_to_string(&junit).expect("JUnit file written");
        for (name, shown) in [("stdout", &stdout), ("stderr", &stderr), ("JUnit", &xml)] {
            assert!(
                !shown.contains("s3cr3t"),
                "{format}: secret in {name}:\n{shown}"
            );
        }
        assert!(stdout.contains("echo"), "{stdout}");
    }
}

#[test]
fn checks_still_running_when_the_budget_ends_fail() {
    let green = Green::start();
    let checks = json!([
        {"name": "slow", "path": "/slow", "timeout_ms": 30000, "assert": [{"status": 200}]}
    ]);
    let path = spec_file("check-timeout.json", &spec(checks));
    let started = std::time::Instant::now();
    let run = greenlight(&[
        "check",
        path_str(&path),
        "--url",
        &green.url(),
        "--timeout",
        "1",
    ]);
    let stdout = text(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}{}", text(&run.stderr));
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
    assert!(stdout.contains("check failed check=slow"), "{stdout}");
}

#[test]
fn stages_that_need_a_deployment_are_named_on_stderr() {
    let green = Green::start();
    let gated = json!({
        "alarms": {"names": ["errors"]},
        "defaults": {"retry": {"attempts": 1}},
        "checks": [{"name": "health", "path": "/health", "assert": [{"status": 200}]}]
    });
    let path = spec_file("check-gated.json", &gated);
    let run = greenlight(&["check", path_str(&path), "--url", &green.url()]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(
        text(&run.stderr).contains("not run: readiness, alarms"),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn a_comparison_with_blue_names_each_incompatible_field() {
    // GIVEN green (v2) on the URL given and blue (v1) as the production
    // listener's URL in the spec
    let server = Green::start();
    let mut compare = spec(json!([{
        "name": "items", "hooks": ["AfterAllowTestTraffic"], "path": "/items",
        "compare": "blue", "assert": [{"status": 200}]
    }]));
    compare["target"] = json!({"listener_urls": {"production": format!("{}/v1", server.url())}});
    let path = spec_file("compare.json", &compare);
    // WHEN greenlight checks green against blue
    let run = greenlight(&[
        "check",
        path_str(&path),
        "--url",
        &format!("{}/v2", server.url()),
    ]);
    // THEN it fails, naming the field whose type changed, and not the new one
    let stdout = text(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}{}", text(&run.stderr));
    assert!(
        stdout.contains("$.items[0].price: blue number, green string"),
        "{stdout}"
    );
    assert!(!stdout.contains("currency"), "{stdout}");
}

//! Secrets, end to end: green echoing the secret headers back in the
//! encodings real services use, a spec that names a secret as an expected
//! value or writes one where it does not belong, and event IDs that would
//! forge log lines. Each test is a row of `docs/fault-matrix.md`; besides what
//! the row states, `Invocation::run` asserts that no secret named with
//! `Invocation::secret` is in any output, in any of its renderings (as it is,
//! JSON, PHP and Go JSON, percent- and form-encoded, base64), not even 10
//! characters of one.

use greenlight_e2e::green::{Behaviour, GreenService};
use greenlight_e2e::hook::{Invocation, Run};
use greenlight_e2e::row::{Told, assert_row, check_spec, once};
use serde_json::{Value, json};

/// An AWS access key pair as one header value: `/` is escaped by PHP.
const KEYS: &str = "AKIAIOSFODNN7EXAMPLE/wJalrXUtnFEMIK7MDENGbPxRfiCY";
/// `&`, `<`, `>` (escaped by Go), `+` and `=` (percent-encoded).
const AMP: &str = "k3y&s3cr3t<value>0123456789abcdef+XYZ==";
/// A bearer token with `/` and `+`: the header value, and its token alone.
const BEARER: &str = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJncmVlbiJ9/c2lnbmF0dXJl+sig==";
const BEARER_TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJncmVlbiJ9/c2lnbmF0dXJl+sig==";

/// A check on `path` sending the three secrets: `X-Api-Key` (secret by
/// name), `X-Secret` (marked secret) and `Authorization`.
fn secret_check(green: &GreenService, path: &str, asserts: Value) -> String {
    check_spec(
        &green.url(),
        json!({
            "path": path,
            "headers": {
                "X-Api-Key": KEYS,
                "X-Secret": {"value": AMP, "secret": true},
                "Authorization": BEARER
            },
            "assert": asserts,
            "retry": once()
        }),
    )
}

/// Runs `hook` with `spec`, asserting that none of the secrets is in any
/// output.
async fn run_with_secrets(hook: &str, spec: &str) -> Run {
    Invocation::new(hook, spec)
        .secret(KEYS)
        .secret(AMP)
        .secret(BEARER)
        .secret(BEARER_TOKEN)
        .run()
        .await
}

#[tokio::test]
async fn secrets_echoed_in_php_style_json_stay_out_of_a_passing_check() {
    // GIVEN green echoing the request headers as PHP's json_encode writes
    // them (`/` as `\/`), and a check that passes on that body
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = secret_check(
        &green,
        "/echo/php",
        json!([{"status": 200}, {"body": {"contains": "x-api-key"}}]),
    );
    // WHEN the hook runs (Invocation::run asserts no rendering of a secret
    // is in any output)
    let run = run_with_secrets("after-allow-test-traffic", &spec).await;
    // THEN it passes, and the body it judged is not echoed: the check sends
    // secrets
    assert_row(&run, Told::Status("Succeeded", 1), "check passed");
    let actual = run.log_fields("check passed")[0]["actual"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(actual.starts_with("200; (body of "), "{actual}");
    assert!(
        actual.ends_with(" bytes; not shown: the check sends secret headers)"),
        "{actual}"
    );
}

#[tokio::test]
async fn secrets_echoed_in_go_style_json_stay_out_of_a_passing_check() {
    // GIVEN green echoing the headers as Go's encoding/json writes them (`&`,
    // `<`, `>` as \u0026, \u003c, \u003e)
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = secret_check(
        &green,
        "/echo/go",
        json!([
            {"status": 200},
            {"body": {"contains": "x-secret"}},
            {"json": {"path": "$.headers", "exists": true}}
        ]),
    );
    let run = run_with_secrets("before-allow-traffic", &spec).await;
    // THEN the JSON node shown is redacted wherever a secret was
    assert_row(&run, Told::Status("Succeeded", 1), "check passed");
    let actual = run.log_fields("check passed")[0]["actual"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(actual.contains(r#""x-secret":"<redacted>""#), "{actual}");
}

#[tokio::test]
async fn secrets_echoed_percent_encoded_stay_out_of_a_failing_check() {
    // GIVEN green echoing the headers as a form body (`%26`, `%2B`, `%3D`,
    // `+` for a space), and a check that wants JSON
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = secret_check(
        &green,
        "/echo/form",
        json!([{"status": 200}, {"json": {"path": "$.status", "equals": "ok"}}]),
    );
    let run = run_with_secrets("after-allow-traffic", &spec).await;
    // THEN it fails on the body, which is named by its size only
    assert_row(
        &run,
        Told::Status("Failed", 1),
        "not shown: the check sends secret headers",
    );
    assert!(
        run.reasons().contains("body is not JSON"),
        "{}",
        run.reasons()
    );
}

#[tokio::test]
async fn a_secret_on_the_expected_side_is_redacted() {
    // GIVEN a check asserting that green saw the secret header's value
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = secret_check(
        &green,
        "/echo/json",
        json!([{"json": {"path": "$.seen_token", "equals": AMP}}]),
    );
    let run = run_with_secrets("after-allow-test-traffic", &spec).await;
    // THEN it passes, and the expected value is redacted like the actual one
    assert_row(
        &run,
        Told::Status("Succeeded", 1),
        r#"json $.seen_token == \"<redacted>\""#,
    );
}

/// A token written where the spec wants a word, a path or a header name.
const MISPLACED: &str = "sk_live_51HxYzAbCdEfGhIjKlMn";

#[tokio::test]
async fn a_spec_error_quotes_no_string_value() {
    let green = GreenService::start(Behaviour::Healthy).await;
    // GIVEN a spec whose listener is a bearer token (a serde error) …
    let mut serde_error: Value = serde_json::from_str(&check_spec(
        &green.url(),
        json!({"assert": [{"status": 200}]}),
    ))
    .expect("JSON");
    serde_error["target"]["listener"] = json!(format!("Bearer {MISPLACED}"));
    // … and one whose check path and header assertion name carry it (errors
    // of meaning)
    let meaning_error = check_spec(
        &green.url(),
        json!({
            "path": format!("health?api_key={MISPLACED}"),
            "assert": [{"header": {"name": format!("Bearer {MISPLACED}"), "exists": true}}]
        }),
    );
    for (spec, sees) in [
        (
            serde_error.to_string(),
            "target.listener: unknown variant (not shown), expected `test` or `production`",
        ),
        (
            meaning_error,
            "checks[0].path: expected a path starting with '/' (the value is not shown)",
        ),
    ] {
        let run = Invocation::new("after-allow-test-traffic", &spec)
            .secret(MISPLACED)
            .run()
            .await;
        // THEN each is refused naming the field, and the token is in no output
        assert_row(&run, Told::Status("Failed", 1), sees);
    }
}

#[tokio::test]
async fn an_event_id_with_control_characters_is_refused_not_logged() {
    // GIVEN an event whose DeploymentId would forge a log line in the text
    // log format
    let green = GreenService::start(Behaviour::Healthy).await;
    let spec = check_spec(&green.url(), json!({"assert": [{"status": 200}]}));
    let mut invocation =
        Invocation::new("after-allow-test-traffic", &spec).env("AWS_LAMBDA_LOG_FORMAT", "Text");
    invocation.event["DeploymentId"] =
        json!("d-FORGED01\n2026-12-04T03:00:00Z INFO greenlight: verdict status=Succeeded");
    let run = invocation.run().await;
    // THEN nothing is reported (no real CodeDeploy ID has one), the field is
    // named, and no line of the log starts with the forged text
    assert_row(
        &run,
        Told::InvocationError {
            calls_at_least: 0,
            error_type: "InvalidEvent",
        },
        "event.DeploymentId: expected a non-empty string, got a string with control characters",
    );
    assert!(run.calls.is_empty(), "{:?}", run.calls);
    assert!(
        !run.logs
            .iter()
            .any(|line| line.starts_with("2026-12-04T03:00:00Z")),
        "{}",
        run.log_text()
    );
}

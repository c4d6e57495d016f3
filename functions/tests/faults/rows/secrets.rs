//! Secrets a check sends, echoed back by green in the encodings real
//! services use, or expected as a value. Besides what the row states,
//! `Invocation::run` asserts that none of the secrets is in any output, in
//! any of its renderings (as it is, JSON, PHP and Go JSON, percent- and
//! form-encoded, base64), not even 10 characters of one.

use greenlight_e2e::row::{
    AFTER_ALLOW_TRAFFIC as AAT, Area, BEFORE_ALLOW_TRAFFIC as BAT, Row, once,
};
use serde_json::{Value, json};

/// An AWS access key pair as one header value: `/` is escaped by PHP.
const KEYS: &str = "AKIAIOSFODNN7EXAMPLE/wJalrXUtnFEMIK7MDENGbPxRfiCY";
/// `&`, `<`, `>` (escaped by Go), `+` and `=` (percent-encoded).
const AMP: &str = "k3y&s3cr3t<value>0123456789abcdef+XYZ==";
/// A bearer token with `/` and `+`: the header value, and its token alone.
const BEARER: &str = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJncmVlbiJ9/c2lnbmF0dXJl+sig==";
const BEARER_TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJncmVlbiJ9/c2lnbmF0dXJl+sig==";

/// A row whose check on `path` sends the three secrets — `X-Api-Key`
/// (secret by name), `X-Secret` (marked secret) and `Authorization` — and
/// asserts `asserts`; none of them may be in any output.
fn secret_row(id: &'static str, fault: &'static str, path: &str, asserts: Value) -> Row {
    Row::new(id, Area::Secrets, fault)
        .check(json!({
            "path": path,
            "headers": {
                "X-Api-Key": KEYS,
                "X-Secret": {"value": AMP, "secret": true},
                "Authorization": BEARER
            },
            "assert": asserts,
            "retry": once()
        }))
        .secret(KEYS)
        .secret(AMP)
        .secret(BEARER)
        .secret(BEARER_TOKEN)
}

/// The `actual` of the one passing check line.
fn passed_actual(run: &greenlight_e2e::hook::Run) -> String {
    run.log_fields("check passed")[0]["actual"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub fn rows() -> Vec<Row> {
    vec![
        secret_row(
            "secrets_echoed_in_php_style_json_stay_out_of_a_passing_check",
            "green echoes the secret headers in PHP-style JSON (`/` as `\\/`); the check passes on that body",
            "/echo/php",
            json!([{"status": 200}, {"body": {"contains": "x-api-key"}}]),
        )
        .succeeds("not shown: the check sends secret headers")
        .also(|run, _| {
            // The body it judged is not echoed: the check sends secrets.
            let actual = passed_actual(run);
            assert!(actual.starts_with("200; (body of "), "{actual}");
            assert!(
                actual.ends_with(" bytes; not shown: the check sends secret headers)"),
                "{actual}"
            );
        }),
        secret_row(
            "secrets_echoed_in_go_style_json_stay_out_of_a_passing_check",
            "green echoes them in Go-style JSON (`&`, `<`, `>` as `\\u0026`, `\\u003c`, `\\u003e`); the check passes",
            "/echo/go",
            json!([
                {"status": 200},
                {"body": {"contains": "x-secret"}},
                {"json": {"path": "$.headers", "exists": true}}
            ]),
        )
        .hook(BAT)
        .succeeds(r#"\"x-secret\":\"<redacted>\""#)
        .also(|run, _| {
            // The JSON node shown is redacted wherever a secret was.
            let actual = passed_actual(run);
            assert!(actual.contains(r#""x-secret":"<redacted>""#), "{actual}");
        }),
        secret_row(
            "secrets_echoed_percent_encoded_stay_out_of_a_failing_check",
            "green echoes them percent-encoded in a form body (`%26`, `%2B`, `%3D`, `+`); the JSON check fails",
            "/echo/form",
            json!([{"status": 200}, {"json": {"path": "$.status", "equals": "ok"}}]),
        )
        .hook(AAT)
        .fails("not shown: the check sends secret headers")
        .also(|run, _| assert!(run.reasons().contains("body is not JSON"), "{}", run.reasons())),
        secret_row(
            "a_secret_on_the_expected_side_is_redacted",
            "a check expects a secret header's value (`json … equals` the secret)",
            "/echo/json",
            json!([{"json": {"path": "$.seen_token", "equals": AMP}}]),
        )
        .succeeds(r#"json $.seen_token == \"<redacted>\""#),
    ]
}

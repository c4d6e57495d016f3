//! What `check` prints: the hooks' per-check log lines and verdict line as
//! text (`message field=value …`), or the verdict as JSON, as the hooks
//! answer it. Everything rendered here was redacted by the judgement.

use std::fmt::Write as _;
use std::time::Duration;

use greenlight::Verdict;
use greenlight::check::{CheckResult, Outcome};

/// One line per check, the failing assertions indented under a failed one,
/// then the verdict line; `took` is the judgement's duration.
pub fn text(verdict: &Verdict, took: Duration) -> String {
    let mut out = String::new();
    for check in &verdict.checks {
        out.push_str(&check_line(check));
        out.push('\n');
        if check.failed_outright() {
            if let Some(error) = &check.error {
                let _ = writeln!(out, "    error: {error}");
            }
            for assertion in check.assertions.iter().filter(|a| !a.passed) {
                let _ = writeln!(
                    out,
                    "    expected {}, got {}",
                    assertion.expected, assertion.actual
                );
            }
        }
    }
    out.push_str(&verdict_line(verdict, took));
    out.push('\n');
    out
}

/// The verdict as one pretty-printed JSON document.
pub fn json(verdict: &Verdict) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(verdict)?;
    text.push('\n');
    Ok(text)
}

/// The hooks' per-check line: the same message and fields, in order.
fn check_line(result: &CheckResult) -> String {
    let reason = result.reason.as_deref().unwrap_or("");
    let outcome = result.outcome.as_str();
    if result.outcome == Outcome::Skipped {
        return line(
            "check skipped",
            &[
                ("check", &result.name),
                ("outcome", outcome),
                ("reason", reason),
            ],
        );
    }
    let attempts = result.attempts.to_string();
    let duration = result.duration_ms.to_string();
    let (expected, actual) = (result.expected(), result.actual());
    let mut fields = vec![
        ("check", result.name.as_str()),
        ("outcome", outcome),
        ("expected", expected.as_str()),
        ("actual", actual.as_str()),
        ("attempts", attempts.as_str()),
        ("duration_ms", duration.as_str()),
    ];
    if result.passed() {
        line("check passed", &fields)
    } else {
        fields.push(("reason", reason));
        line("check failed", &fields)
    }
}

/// The hooks' verdict line, without the deployment (there is none).
fn verdict_line(verdict: &Verdict, took: Duration) -> String {
    let hook = verdict.hook.to_string();
    let status = verdict.status.to_string();
    let checks = verdict.checks.len().to_string();
    let duration = took.as_millis().to_string();
    let failing = verdict.failing_checks().join(", ");
    let reasons = verdict.reasons.join(" | ");
    let warnings = verdict.warnings.join(" | ");
    let mut fields = vec![("hook", hook.as_str()), ("status", status.as_str())];
    if !failing.is_empty() || !reasons.is_empty() {
        fields.push(("failing_checks", failing.as_str()));
        fields.push(("reasons", reasons.as_str()));
    }
    fields.push(("checks", checks.as_str()));
    fields.push(("duration_ms", duration.as_str()));
    if !warnings.is_empty() {
        fields.push(("warnings", warnings.as_str()));
    }
    line("verdict", &fields)
}

/// `message key=value …`, a value quoted (as a JSON string) when it is
/// empty or holds a space, a quote, `=` or a control character.
fn line(message: &str, fields: &[(&str, &str)]) -> String {
    let mut out = message.to_owned();
    for (key, value) in fields {
        let plain = !value.is_empty()
            && !value
                .chars()
                .any(|c| c.is_whitespace() || c == '"' || c == '=' || c.is_control());
        if plain {
            let _ = write!(out, " {key}={value}");
        } else {
            let quoted = serde_json::Value::String((*value).to_owned()).to_string();
            let _ = write!(out, " {key}={quoted}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use greenlight::Hook;
    use greenlight::assertion::AssertionResult;

    use super::*;

    fn passed() -> CheckResult {
        CheckResult {
            name: "health".to_owned(),
            outcome: Outcome::Pass,
            reason: None,
            attempts: 1,
            duration_ms: 4,
            assertions: vec![AssertionResult {
                passed: true,
                expected: "status 200".to_owned(),
                actual: "200".to_owned(),
            }],
            error: None,
            flow: None,
        }
    }

    fn failed() -> CheckResult {
        CheckResult {
            name: "items".to_owned(),
            outcome: Outcome::Fail,
            reason: Some("attempts exhausted (1)".to_owned()),
            attempts: 1,
            duration_ms: 7,
            assertions: vec![
                AssertionResult {
                    passed: true,
                    expected: "status 200".to_owned(),
                    actual: "200".to_owned(),
                },
                AssertionResult {
                    passed: false,
                    expected: "json $.status == \"ok\"".to_owned(),
                    actual: "\"degraded\"".to_owned(),
                },
            ],
            error: None,
            flow: None,
        }
    }

    #[test]
    fn text_has_a_line_per_check_and_the_verdict() {
        let verdict = Verdict::from_checks(Hook::AfterAllowTestTraffic, vec![passed(), failed()]);
        let text = text(&verdict, Duration::from_millis(12));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            r#"check passed check=health outcome=pass expected="status 200" actual=200 attempts=1 duration_ms=4"#
        );
        assert!(lines[1].starts_with("check failed check=items outcome=fail"));
        assert!(lines[1].ends_with(r#"reason="attempts exhausted (1)""#));
        assert_eq!(
            lines[2],
            r#"    expected json $.status == "ok", got "degraded""#
        );
        assert!(lines[3].starts_with(
            "verdict hook=AfterAllowTestTraffic status=Failed failing_checks=items reasons="
        ));
        assert!(lines[3].ends_with("checks=2 duration_ms=12"));
    }

    #[test]
    fn json_is_the_verdict() {
        let verdict = Verdict::from_checks(Hook::AfterAllowTestTraffic, vec![passed()]);
        let value: serde_json::Value =
            serde_json::from_str(&json(&verdict).expect("serializes")).expect("parses");
        assert_eq!(value["status"], "Succeeded");
        assert_eq!(value["checks"][0]["name"], "health");
    }
}

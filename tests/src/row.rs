//! A fault-matrix row's assertions (`docs/fault-matrix.md`): what CodeDeploy
//! was told, and the line an operator sees; and the one-check specs most rows
//! run.

use serde_json::{Value, json};

use crate::hook::Run;
use crate::runtime_api::Answer;

/// What a row expects CodeDeploy to have been told.
#[derive(Debug, Clone, Copy)]
pub enum Told {
    /// Exactly this many status calls, one of them accepted with this status.
    Status(&'static str, usize),
    /// An invocation error of this `errorType`, with this many status calls
    /// or more, none accepted.
    InvocationError {
        /// Status calls made, at least.
        calls_at_least: usize,
        /// The `errorType` posted to the Runtime API.
        error_type: &'static str,
    },
}

/// Asserts a row: what CodeDeploy was told, and the line an operator sees in
/// the logs (a substring of one line).
pub fn assert_row(run: &Run, told: Told, operator_sees: &str) {
    match told {
        Told::Status(status, calls) => {
            assert_eq!(
                run.calls.len(),
                calls,
                "status calls: {:?}\n{}",
                run.calls,
                run.log_text()
            );
            assert_eq!(
                run.accepted_statuses(),
                vec![status.to_owned()],
                "{}",
                run.log_text()
            );
            let answer = run.answer.as_ref().expect("answered");
            assert_eq!(answer.response()["reported"], status);
        }
        Told::InvocationError {
            calls_at_least,
            error_type,
        } => {
            assert!(
                run.calls.len() >= calls_at_least,
                "status calls: {:?}\n{}",
                run.calls,
                run.log_text()
            );
            assert!(
                run.accepted_statuses().is_empty(),
                "nothing may be accepted: {:?}",
                run.calls
            );
            match &run.answer {
                Some(Answer::Error(error)) => assert_eq!(
                    error["errorType"], error_type,
                    "the errorType the runtime posted: {error}"
                ),
                other => panic!(
                    "expected an invocation error, got {other:?}\n{}",
                    run.log_text()
                ),
            }
        }
    }
    assert!(
        run.logs.iter().any(|line| line.contains(operator_sees)),
        "no log line contains {operator_sees:?}:\n{}",
        run.log_text()
    );
}

/// A spec with one check on `url` + `path`, these assertions and retry.
pub fn spec_for(url: &str, path: &str, asserts: Value, retry: Value) -> String {
    check_spec(
        url,
        json!({"path": path, "assert": asserts, "retry": retry}),
    )
}

/// A spec with one check named `health` on `url`, built from `check`.
pub fn check_spec(url: &str, check: Value) -> String {
    let mut full = json!({"name": "health", "timeout_ms": 2000});
    if let (Some(full), Value::Object(check)) = (full.as_object_mut(), check) {
        full.extend(check);
    }
    json!({
        "target": {"url": url},
        "readiness": {"enabled": false},
        "alarms": {"deployment_group": false},
        "checks": [full]
    })
    .to_string()
}

pub fn ok_asserts() -> Value {
    json!([{"status": 200}, {"json": {"path": "$.status", "equals": "ok"}}])
}

pub fn once() -> Value {
    json!({"attempts": 1})
}

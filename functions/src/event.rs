//! The CodeDeploy lifecycle hook event.
//!
//! Parsed by hand from JSON so that a malformed event names the exact field that
//! is wrong: with no valid IDs there is nobody to report to, so the message is
//! all an operator gets.

use greenlight::json_kind::json_kind;
use serde_json::Value;
use thiserror::Error;

/// The longest ID accepted. CodeDeploy's deployment IDs are 11 characters and
/// its execution IDs a few hundred; anything near Lambda's 6 MB payload limit
/// is not from CodeDeploy, and echoing it back would only be refused.
pub const MAX_ID_BYTES: usize = 4096;

/// The two IDs CodeDeploy sends to a lifecycle hook, and that the status report
/// must echo back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookEvent {
    /// `DeploymentId`, e.g. `d-ABCDEF123`.
    pub deployment_id: String,
    /// `LifecycleEventHookExecutionId`, an opaque token.
    pub execution_id: String,
}

/// Why an event could not be used. Nothing can be reported to CodeDeploy then.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EventError {
    /// The payload is not a JSON object.
    #[error(
        "event: expected a JSON object with DeploymentId and LifecycleEventHookExecutionId, got {0}"
    )]
    NotAnObject(&'static str),
    /// A required field is absent.
    #[error(
        "event.{0}: missing (CodeDeploy always sends it; is this a CodeDeploy lifecycle hook event?)"
    )]
    Missing(&'static str),
    /// A field has the wrong type, is empty, or is far longer than any ID
    /// CodeDeploy issues.
    #[error("event.{field}: expected a non-empty string, got {got}")]
    Invalid {
        /// The field name as CodeDeploy spells it.
        field: &'static str,
        /// What was found instead.
        got: String,
    },
}

impl HookEvent {
    /// Reads the event CodeDeploy sends:
    /// `{"DeploymentId":"d-…","LifecycleEventHookExecutionId":"…"}`.
    pub fn parse(payload: &Value) -> Result<Self, EventError> {
        let object = payload
            .as_object()
            .ok_or_else(|| EventError::NotAnObject(json_kind(payload)))?;
        let field = |name: &'static str| -> Result<String, EventError> {
            match object.get(name) {
                None => Err(EventError::Missing(name)),
                Some(Value::String(s)) if s.len() > MAX_ID_BYTES => Err(EventError::Invalid {
                    field: name,
                    got: format!("{} bytes (at most {MAX_ID_BYTES})", s.len()),
                }),
                // A control character would forge lines in a text log, and
                // no ID CodeDeploy issues has one.
                Some(Value::String(s)) if s.chars().any(char::is_control) => {
                    Err(EventError::Invalid {
                        field: name,
                        got: "a string with control characters".to_owned(),
                    })
                }
                Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
                Some(Value::String(_)) => Err(EventError::Invalid {
                    field: name,
                    got: "an empty string".to_owned(),
                }),
                Some(other) => Err(EventError::Invalid {
                    field: name,
                    got: json_kind(other).to_owned(),
                }),
            }
        };
        Ok(HookEvent {
            deployment_id: field("DeploymentId")?,
            execution_id: field("LifecycleEventHookExecutionId")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_a_codedeploy_event() {
        // GIVEN the event CodeDeploy sends
        let payload =
            json!({"DeploymentId": "d-ABCDEF123", "LifecycleEventHookExecutionId": "eyJ0"});
        // WHEN it is parsed
        let event = HookEvent::parse(&payload);
        // THEN both IDs are kept
        assert_eq!(
            event,
            Ok(HookEvent {
                deployment_id: "d-ABCDEF123".into(),
                execution_id: "eyJ0".into()
            })
        );
    }

    #[test]
    fn names_the_missing_field() {
        let err = HookEvent::parse(&json!({"DeploymentId": "d-1"})).unwrap_err();
        assert_eq!(err, EventError::Missing("LifecycleEventHookExecutionId"));
        assert!(
            err.to_string()
                .starts_with("event.LifecycleEventHookExecutionId: missing")
        );
    }

    #[test]
    fn names_a_field_of_the_wrong_type() {
        let err =
            HookEvent::parse(&json!({"DeploymentId": 7, "LifecycleEventHookExecutionId": "x"}))
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "event.DeploymentId: expected a non-empty string, got a number"
        );
    }

    #[test]
    fn rejects_an_empty_id() {
        let err =
            HookEvent::parse(&json!({"DeploymentId": " ", "LifecycleEventHookExecutionId": "x"}))
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "event.DeploymentId: expected a non-empty string, got an empty string"
        );
    }

    #[test]
    fn rejects_an_id_no_codedeploy_would_send() {
        // GIVEN an execution ID of 6 MB
        let huge = "e".repeat(6 * 1024 * 1024);
        let err = HookEvent::parse(
            &json!({"DeploymentId": "d-1", "LifecycleEventHookExecutionId": huge}),
        )
        .unwrap_err();
        // THEN the field and its size are named, not echoed
        assert_eq!(
            err.to_string(),
            "event.LifecycleEventHookExecutionId: expected a non-empty string, got 6291456 bytes (at most 4096)"
        );
    }

    #[test]
    fn rejects_an_id_with_control_characters_without_echoing_it() {
        // GIVEN a deployment ID that would start a new line in a text log
        let err = HookEvent::parse(
            &json!({"DeploymentId": "d-1\nINFO verdict status=Succeeded", "LifecycleEventHookExecutionId": "x"}),
        )
        .unwrap_err();
        // THEN it is refused, naming the field and not the text
        assert_eq!(
            err.to_string(),
            "event.DeploymentId: expected a non-empty string, got a string with control characters"
        );
    }

    #[test]
    fn rejects_a_non_object() {
        let err = HookEvent::parse(&json!(["d-1"])).unwrap_err();
        assert_eq!(err, EventError::NotAnObject("an array"));
    }
}

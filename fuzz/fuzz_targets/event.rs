//! Any bytes that are JSON, read as a CodeDeploy lifecycle hook event: never
//! a panic, and an event that parses has both IDs, as sent.

#![no_main]

use greenlight_codedeploy::event::HookEvent;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    match HookEvent::parse(&payload) {
        Ok(event) => {
            assert!(!event.deployment_id.trim().is_empty());
            assert!(!event.execution_id.trim().is_empty());
            assert_eq!(
                payload.get("DeploymentId").and_then(Value::as_str),
                Some(event.deployment_id.as_str())
            );
            assert_eq!(
                payload
                    .get("LifecycleEventHookExecutionId")
                    .and_then(Value::as_str),
                Some(event.execution_id.as_str())
            );
        }
        Err(error) => {
            // The message is all an operator gets: it names the event.
            assert!(error.to_string().starts_with("event"), "{error}");
        }
    }
});

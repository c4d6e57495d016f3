//! The event ECS sends a lifecycle hook.
//!
//! Read by hand from JSON so that a malformed event names the field that is
//! wrong. AWS's pages show two shapes: the four execution details inside
//! `executionDetails`, and (an older page) at the top level; both are read.

use std::collections::BTreeMap;

use greenlight::hook::EcsStage;
use greenlight::json_kind::json_kind;
use serde_json::{Map, Value};
use thiserror::Error;

/// The longest ARN or ID accepted: ECS's are a few hundred bytes.
pub const MAX_ID_BYTES: usize = 2048;
/// The most revisions a weights map may name: a deployment has two.
const MAX_WEIGHTS: usize = 16;

/// A lifecycle hook invocation, as far as greenlight needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct EcsEvent {
    /// `executionId`.
    pub execution_id: String,
    /// `lifecycleStage`.
    pub stage: EcsStage,
    /// `resourceArn`: the service deployment.
    pub deployment_arn: String,
    /// `executionDetails.targetServiceRevisionArn`: green.
    pub target_revision_arn: String,
    /// `executionDetails.testTrafficWeights`: revision ARN → percent.
    pub test_weights: BTreeMap<String, f64>,
    /// `executionDetails.productionTrafficWeights`: revision ARN → percent.
    pub production_weights: BTreeMap<String, f64>,
    /// `hookDetails`: the service's own, or what the last `IN_PROGRESS`
    /// answer carried.
    pub hook_details: Map<String, Value>,
}

/// Why an event cannot be judged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EventError {
    /// The payload is not a JSON object.
    #[error("event: expected a JSON object from an ECS lifecycle hook, got {0}")]
    NotAnObject(&'static str),
    /// A required field is absent.
    #[error("event.{0}: missing (is this an ECS lifecycle hook event?)")]
    Missing(&'static str),
    /// A field has the wrong type or value.
    #[error("event.{field}: expected {expected}, got {got}")]
    Invalid {
        /// The field's path.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What was found instead.
        got: String,
    },
}

fn invalid(field: &'static str, expected: &'static str, got: String) -> EventError {
    EventError::Invalid {
        field,
        expected,
        got,
    }
}

/// A required, non-empty, bounded string.
fn text(
    object: &Map<String, Value>,
    name: &'static str,
    path: &'static str,
) -> Result<String, EventError> {
    match object.get(name) {
        None | Some(Value::Null) => Err(EventError::Missing(path)),
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= MAX_ID_BYTES => Ok(s.clone()),
        Some(Value::String(s)) if s.len() > MAX_ID_BYTES => {
            Err(invalid(path, "an ID or ARN", format!("{} bytes", s.len())))
        }
        Some(other) => Err(invalid(
            path,
            "a non-empty string",
            json_kind(other).to_owned(),
        )),
    }
}

/// A weights map; absent is empty.
fn weights(
    object: &Map<String, Value>,
    name: &'static str,
    path: &'static str,
) -> Result<BTreeMap<String, f64>, EventError> {
    let map = match object.get(name) {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(map)) if map.len() <= MAX_WEIGHTS => map,
        Some(Value::Object(map)) => {
            return Err(invalid(
                path,
                "a map of a few revisions to weights",
                format!("{} entries", map.len()),
            ));
        }
        Some(other) => {
            return Err(invalid(
                path,
                "a map of revision ARNs to weights",
                json_kind(other).to_owned(),
            ));
        }
    };
    map.iter()
        .map(|(arn, weight)| match weight.as_f64() {
            Some(w) if (0.0..=100.0).contains(&w) => Ok((arn.clone(), w)),
            _ => Err(invalid(path, "weights from 0 to 100", weight.to_string())),
        })
        .collect()
}

impl EcsEvent {
    /// Reads an ECS lifecycle hook event.
    pub fn parse(payload: &Value) -> Result<EcsEvent, EventError> {
        let Value::Object(event) = payload else {
            return Err(EventError::NotAnObject(json_kind(payload)));
        };
        let stage_name = text(event, "lifecycleStage", "lifecycleStage")?;
        let stage = EcsStage::from_name(&stage_name).ok_or_else(|| {
            invalid(
                "lifecycleStage",
                "an ECS lifecycle stage (RECONCILE_SERVICE … POST_PRODUCTION_TRAFFIC_SHIFT)",
                stage_name.chars().take(64).collect(),
            )
        })?;
        // The details inside executionDetails, or (the older shape) beside
        // the other fields.
        let (details, prefix) = match event.get("executionDetails") {
            None | Some(Value::Null) => (event, false),
            Some(Value::Object(details)) => (details, true),
            Some(other) => {
                return Err(invalid(
                    "executionDetails",
                    "an object",
                    json_kind(other).to_owned(),
                ));
            }
        };
        let (target, test, production) = if prefix {
            (
                "executionDetails.targetServiceRevisionArn",
                "executionDetails.testTrafficWeights",
                "executionDetails.productionTrafficWeights",
            )
        } else {
            (
                "targetServiceRevisionArn",
                "testTrafficWeights",
                "productionTrafficWeights",
            )
        };
        let hook_details = match event.get("hookDetails") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map.clone(),
            Some(other) => {
                return Err(invalid(
                    "hookDetails",
                    "an object",
                    json_kind(other).to_owned(),
                ));
            }
        };
        Ok(EcsEvent {
            execution_id: text(event, "executionId", "executionId")?,
            stage,
            deployment_arn: text(event, "resourceArn", "resourceArn")?,
            target_revision_arn: text(details, "targetServiceRevisionArn", target)?,
            test_weights: weights(details, "testTrafficWeights", test)?,
            production_weights: weights(details, "productionTrafficWeights", production)?,
            hook_details,
        })
    }

    /// Whether this invocation is a rollback passing through: a stage that
    /// ECS runs again on rollback, with its listener's weights turned back
    /// (green 0, another revision above 0).
    pub fn is_rollback(&self) -> bool {
        let weights = match self.stage {
            EcsStage::TestTrafficShift => &self.test_weights,
            EcsStage::ProductionTrafficShift => &self.production_weights,
            _ => return false,
        };
        let green = weights
            .get(&self.target_revision_arn)
            .copied()
            .unwrap_or(0.0);
        let others: f64 = weights
            .iter()
            .filter(|(arn, _)| **arn != self.target_revision_arn)
            .map(|(_, w)| w)
            .sum();
        green == 0.0 && others > 0.0
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const GREEN: &str = "arn:aws:ecs:us-east-1:1:service-revision/c/s/2";
    const BLUE: &str = "arn:aws:ecs:us-east-1:1:service-revision/c/s/1";

    fn nested(stage: &str, green_test: u32) -> Value {
        json!({
            "executionId": "exec-1",
            "lifecycleStage": stage,
            "resourceArn": "arn:aws:ecs:us-east-1:1:service-deployment/c/s/d1",
            "executionDetails": {
                "serviceArn": "arn:aws:ecs:us-east-1:1:service/c/s",
                "targetServiceRevisionArn": GREEN,
                "testTrafficWeights": {GREEN: green_test, BLUE: 100 - green_test},
                "productionTrafficWeights": {GREEN: 0, BLUE: 100}
            },
            "hookDetails": {"team": "web"}
        })
    }

    #[test]
    fn both_shapes_read_the_same() {
        let inside = EcsEvent::parse(&nested("POST_TEST_TRAFFIC_SHIFT", 100)).unwrap();
        let mut flat = nested("POST_TEST_TRAFFIC_SHIFT", 100);
        let details = flat["executionDetails"].take();
        let object = flat.as_object_mut().unwrap();
        object.remove("executionDetails");
        for (key, value) in details.as_object().unwrap() {
            object.insert(key.clone(), value.clone());
        }
        assert_eq!(EcsEvent::parse(&flat).unwrap(), inside);
        assert_eq!(inside.stage, EcsStage::PostTestTrafficShift);
        assert_eq!(inside.hook_details["team"], "web");
        assert_eq!(inside.test_weights[GREEN], 100.0);
    }

    #[test]
    fn a_traffic_shift_back_to_blue_is_a_rollback() {
        let back = EcsEvent::parse(&nested("TEST_TRAFFIC_SHIFT", 0)).unwrap();
        assert!(back.is_rollback());
        let forward = EcsEvent::parse(&nested("TEST_TRAFFIC_SHIFT", 100)).unwrap();
        assert!(!forward.is_rollback());
        // POST_ stages are never run again on rollback
        let post = EcsEvent::parse(&nested("POST_TEST_TRAFFIC_SHIFT", 0)).unwrap();
        assert!(!post.is_rollback());
    }

    #[test]
    fn a_bad_field_is_named() {
        let cases = [
            (
                json!([1]),
                "event: expected a JSON object from an ECS lifecycle hook, got an array",
            ),
            (
                json!({"lifecycleStage": "POST_TEST_TRAFFIC_SHIFT"}),
                "event.executionId: missing",
            ),
            (
                json!({"lifecycleStage": "BAKE_TIME", "executionId": "e"}),
                "event.lifecycleStage: expected an ECS lifecycle stage",
            ),
            (
                json!({"lifecycleStage": "PRE_SCALE_UP", "executionId": "e", "resourceArn": 7}),
                "event.resourceArn: expected a non-empty string, got a number",
            ),
            (
                json!({"lifecycleStage": "PRE_SCALE_UP", "executionId": "e", "resourceArn": "a", "executionDetails": {"targetServiceRevisionArn": "r", "testTrafficWeights": {"r": 300}}}),
                "event.executionDetails.testTrafficWeights: expected weights from 0 to 100, got 300",
            ),
            (
                json!({"lifecycleStage": "PRE_SCALE_UP", "executionId": "e", "resourceArn": "a", "targetServiceRevisionArn": "r", "hookDetails": "x"}),
                "event.hookDetails: expected an object, got a string",
            ),
        ];
        for (payload, expected) in cases {
            let problem = EcsEvent::parse(&payload).unwrap_err().to_string();
            assert!(problem.starts_with(expected), "{problem}");
        }
    }
}

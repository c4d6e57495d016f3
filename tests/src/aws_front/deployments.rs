//! CodeDeploy's deployment-target APIs (moto has none) and the alarm
//! configuration of a deployment group (moto always reports an empty one).

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{Reply, State, json_error, json_reply};

/// A deployment group's alarm configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmConfiguration {
    /// Whether CodeDeploy watches the alarms.
    pub enabled: bool,
    /// Whether a failure to read the alarms lets the deployment go on.
    pub ignore_poll_alarm_failure: bool,
    /// CloudWatch alarm names.
    pub alarms: Vec<String>,
}

impl AlarmConfiguration {
    /// Enabled, watching `alarms`, failing when they cannot be read.
    pub fn watching(alarms: &[&str]) -> Self {
        AlarmConfiguration {
            enabled: true,
            ignore_poll_alarm_failure: false,
            alarms: alarms.iter().map(|name| (*name).to_owned()).collect(),
        }
    }

    /// As CodeDeploy's JSON has it.
    pub fn to_json(&self) -> Value {
        let alarms: Vec<Value> = self
            .alarms
            .iter()
            .map(|name| json!({"name": name}))
            .collect();
        json!({
            "enabled": self.enabled,
            "ignorePollAlarmFailure": self.ignore_poll_alarm_failure,
            "alarms": alarms
        })
    }
}

/// `taskSetLabel`: which side of the blue/green pair a task set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskSetLabel {
    /// `Blue`: the running release.
    Blue,
    /// `Green`: the new release.
    Green,
}

impl TaskSetLabel {
    /// The wire value (`TargetLabel` in the SDK).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskSetLabel::Blue => "Blue",
            TaskSetLabel::Green => "Green",
        }
    }
}

/// One entry of an ECS target's `taskSetsInfo`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSetInfo {
    /// The task set ID (`identifer` on the wire, sic).
    pub identifier: String,
    /// `desiredCount`.
    pub desired_count: i64,
    /// `pendingCount`.
    pub pending_count: i64,
    /// `runningCount`.
    pub running_count: i64,
    /// `PRIMARY` or `ACTIVE`.
    pub status: String,
    /// Percent of production traffic, 0..=100.
    pub traffic_weight: f64,
    /// The target group's name.
    pub target_group: String,
    /// Blue or green.
    pub label: TaskSetLabel,
}

impl TaskSetInfo {
    fn to_json(&self) -> Value {
        json!({
            "identifer": self.identifier,
            "desiredCount": self.desired_count,
            "pendingCount": self.pending_count,
            "runningCount": self.running_count,
            "status": self.status,
            "trafficWeight": self.traffic_weight,
            "targetGroup": {"name": self.target_group},
            "taskSetLabel": self.label.as_str()
        })
    }
}

/// One ECS deployment target (an ECS service) as `BatchGetDeploymentTargets`
/// describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct EcsTarget {
    /// `cluster:service`.
    pub target_id: String,
    /// The service's ARN.
    pub target_arn: String,
    /// `Pending`, `InProgress`, `Succeeded`, `Failed`, `Skipped`, `Ready`.
    pub status: String,
    /// `(lifecycleEventName, status)`, in order.
    pub lifecycle_events: Vec<(String, String)>,
    /// Blue and green.
    pub task_sets: Vec<TaskSetInfo>,
}

impl EcsTarget {
    fn to_json(&self, deployment_id: &str) -> Value {
        let updated = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs_f64();
        let events: Vec<Value> = self
            .lifecycle_events
            .iter()
            .map(|(name, status)| json!({"lifecycleEventName": name, "status": status}))
            .collect();
        let task_sets: Vec<Value> = self.task_sets.iter().map(TaskSetInfo::to_json).collect();
        json!({
            "deploymentTargetType": "ECSTarget",
            "ecsTarget": {
                "deploymentId": deployment_id,
                "targetId": self.target_id,
                "targetArn": self.target_arn,
                "lastUpdatedAt": (updated * 1000.0).round() / 1000.0,
                "lifecycleEvents": events,
                "status": self.status,
                "taskSetsInfo": task_sets
            }
        })
    }
}

/// CodeDeploy's error: its `__type` and message.
type CodeDeployError = (&'static str, String);

/// The targets of the deployment the request names.
fn targets<'a>(
    state: &'a State,
    request: &Value,
) -> Result<(&'a str, &'a [EcsTarget]), CodeDeployError> {
    let Some(id) = request["deploymentId"].as_str() else {
        return Err((
            "DeploymentIdRequiredException",
            "At least one deployment ID must be specified.".to_owned(),
        ));
    };
    state
        .targets
        .get_key_value(id)
        .map(|(id, targets)| (id.as_str(), targets.as_slice()))
        .ok_or_else(|| {
            (
                "DeploymentDoesNotExistException",
                format!("The deployment {id} could not be found."),
            )
        })
}

/// `ListDeploymentTargets`: every target ID, in one page.
pub(super) fn list(state: &State, request: &Value) -> Reply {
    reply(targets(state, request).map(|(_, targets)| {
        let ids: Vec<&str> = targets.iter().map(|t| t.target_id.as_str()).collect();
        json!({"targetIds": ids})
    }))
}

/// `BatchGetDeploymentTargets`: the targets asked for, in the order asked.
pub(super) fn batch_get(state: &State, request: &Value) -> Reply {
    reply(
        targets(state, request).and_then(|(deployment_id, targets)| {
            let found = request["targetIds"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|id| {
                    let id = id.as_str().unwrap_or_default();
                    targets
                        .iter()
                        .find(|t| t.target_id == id)
                        .map(|target| target.to_json(deployment_id))
                        .ok_or_else(|| {
                            (
                                "DeploymentTargetDoesNotExistException",
                                format!(
                                    "The target {id} does not exist in deployment {deployment_id}."
                                ),
                            )
                        })
                })
                .collect::<Result<Vec<Value>, CodeDeployError>>()?;
            Ok(json!({"deploymentTargets": found}))
        }),
    )
}

fn reply(result: Result<Value, CodeDeployError>) -> Reply {
    match result {
        Ok(body) => json_reply(StatusCode::OK, &body),
        Err((kind, message)) => json_error(StatusCode::BAD_REQUEST, kind, &message),
    }
}

/// `GetDeploymentGroup`: the staged alarm configuration replaces moto's.
pub(super) fn patch_group(state: &State, request: &Value, body: &mut Value) {
    let group = request["deploymentGroupName"].as_str().unwrap_or_default();
    if let Some(config) = state.alarm_configurations.get(group)
        && let Some(info) = body.get_mut("deploymentGroupInfo")
    {
        info["alarmConfiguration"] = config.to_json();
    }
}

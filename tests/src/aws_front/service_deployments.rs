//! ECS's service-deployment APIs for ECS-native blue/green (moto has none):
//! `DescribeServiceDeployments` and `DescribeServiceRevisions`, answered from
//! what the test staged.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{Playing, Reply, Script, State, json_reply};

/// A service deployment and its target (green) revision, as staged.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDeployment {
    /// `serviceDeploymentArn`.
    pub arn: String,
    /// `serviceArn`.
    pub service_arn: String,
    /// `clusterArn`.
    pub cluster_arn: String,
    /// `targetServiceRevision.arn`: green.
    pub target_revision_arn: String,
    /// `targetServiceRevision.requestedTaskCount`.
    pub requested: i32,
    /// `status`.
    pub status: String,
    /// The target revision's load balancer: the primary target group.
    pub target_group_arn: String,
    /// `advancedConfiguration.alternateTargetGroupArn`.
    pub alternate_target_group_arn: String,
    /// `advancedConfiguration.productionListenerRule`.
    pub production_listener_rule: String,
    /// `advancedConfiguration.testListenerRule`, if any.
    pub test_listener_rule: Option<String>,
}

/// A staged deployment, and green's running tasks as they change.
#[derive(Debug)]
pub(super) struct Staged {
    deployment: ServiceDeployment,
    running: Playing<i32>,
}

impl Staged {
    pub(super) fn arn(&self) -> &str {
        &self.deployment.arn
    }

    pub(super) fn new(deployment: ServiceDeployment, running: Script<i32>) -> Self {
        Staged {
            deployment,
            running: Playing::new(running),
        }
    }
}

fn arns<'a>(request: &'a Value, field: &str) -> Vec<&'a str> {
    request[field]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// `DescribeServiceDeployments`: the staged ones asked for; the others in
/// `failures`, as ECS answers.
pub(super) fn describe_deployments(state: &mut State, request: &Value) -> Reply {
    let mut found = Vec::new();
    let mut failures = Vec::new();
    for arn in arns(request, "serviceDeploymentArns") {
        match state
            .service_deployments
            .iter_mut()
            .find(|s| s.deployment.arn == arn)
        {
            Some(staged) => {
                let running = staged.running.next();
                let d = &staged.deployment;
                found.push(json!({
                    "serviceDeploymentArn": d.arn,
                    "serviceArn": d.service_arn,
                    "clusterArn": d.cluster_arn,
                    "status": d.status,
                    // A minute ago, in epoch seconds as the JSON protocol
                    // sends timestamps.
                    "createdAt": std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0.0, |d| d.as_secs_f64() - 60.0),
                    "targetServiceRevision": {
                        "arn": d.target_revision_arn,
                        "requestedTaskCount": d.requested,
                        "runningTaskCount": running,
                        "pendingTaskCount": (d.requested - running).max(0)
                    }
                }));
            }
            None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
        }
    }
    json_reply(
        StatusCode::OK,
        &json!({"serviceDeployments": found, "failures": failures}),
    )
}

/// `DescribeServiceRevisions`: the target revisions of the staged
/// deployments.
pub(super) fn describe_revisions(state: &State, request: &Value) -> Reply {
    let mut found = Vec::new();
    let mut failures = Vec::new();
    for arn in arns(request, "serviceRevisionArns") {
        match state
            .service_deployments
            .iter()
            .find(|s| s.deployment.target_revision_arn == arn)
        {
            Some(staged) => {
                let d = &staged.deployment;
                let mut advanced = json!({
                    "alternateTargetGroupArn": d.alternate_target_group_arn,
                    "productionListenerRule": d.production_listener_rule,
                    "roleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole"
                });
                if let Some(rule) = &d.test_listener_rule {
                    advanced["testListenerRule"] = json!(rule);
                }
                found.push(json!({
                    "serviceRevisionArn": arn,
                    "serviceArn": d.service_arn,
                    "clusterArn": d.cluster_arn,
                    "loadBalancers": [{
                        "targetGroupArn": d.target_group_arn,
                        "containerName": "web",
                        "containerPort": 8080,
                        "advancedConfiguration": advanced
                    }]
                }));
            }
            None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
        }
    }
    json_reply(
        StatusCode::OK,
        &json!({"serviceRevisions": found, "failures": failures}),
    )
}

//! A cloud without AWS: every read fails, saying that this mode reads no
//! AWS. For a judgement of green at a URL, where no stage should read AWS
//! at all; a read that happens anyway fails clearly instead of reaching for
//! credentials.

use crate::cloud::{
    AlarmState, AwsError, BalancerReads, DeploymentGroupInfo, DeploymentInfo, DeploymentReads,
    DeploymentTarget, Listener, ListenerRule, LoadBalancer, MetricQuery, MetricReads, ObjectReads,
    ParameterReads, RevisionLoadBalancer, ServiceDeploymentInfo, ServiceDeploymentReads,
    TargetHealth, TaskSetReads, TaskSetState,
};

/// What every read of [`NoCloud`] answers.
pub const NO_AWS: &str = "no AWS in this mode: green was given as a URL";

/// The cloud of a judgement that reads no AWS.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCloud;

fn refused<T>(api: &'static str) -> Result<T, AwsError> {
    Err(AwsError::new(api, NO_AWS))
}

impl DeploymentReads for NoCloud {
    async fn deployment(&self, _: &str) -> Result<DeploymentInfo, AwsError> {
        refused("codedeploy:GetDeployment")
    }

    async fn deployment_group(&self, _: &str, _: &str) -> Result<DeploymentGroupInfo, AwsError> {
        refused("codedeploy:GetDeploymentGroup")
    }

    async fn deployment_target(&self, _: &str) -> Result<DeploymentTarget, AwsError> {
        refused("codedeploy:ListDeploymentTargets")
    }
}

impl ServiceDeploymentReads for NoCloud {
    async fn service_deployment(&self, _: &str) -> Result<ServiceDeploymentInfo, AwsError> {
        refused("ecs:DescribeServiceDeployments")
    }

    async fn service_revision(&self, _: &str) -> Result<Vec<RevisionLoadBalancer>, AwsError> {
        refused("ecs:DescribeServiceRevisions")
    }
}

impl BalancerReads for NoCloud {
    async fn rule(&self, _: &str) -> Result<ListenerRule, AwsError> {
        refused("elasticloadbalancing:DescribeRules")
    }

    async fn listener(&self, _: &str) -> Result<Listener, AwsError> {
        refused("elasticloadbalancing:DescribeListeners")
    }

    async fn load_balancer(&self, _: &str) -> Result<LoadBalancer, AwsError> {
        refused("elasticloadbalancing:DescribeLoadBalancers")
    }

    async fn target_group_arn(&self, _: &str) -> Result<String, AwsError> {
        refused("elasticloadbalancing:DescribeTargetGroups")
    }

    async fn target_health(&self, _: &str) -> Result<Vec<TargetHealth>, AwsError> {
        refused("elasticloadbalancing:DescribeTargetHealth")
    }
}

impl TaskSetReads for NoCloud {
    async fn task_set(&self, _: &str, _: &str, _: &str) -> Result<TaskSetState, AwsError> {
        refused("ecs:DescribeTaskSets")
    }
}

impl MetricReads for NoCloud {
    async fn alarms(&self, _: &[String]) -> Result<Vec<AlarmState>, AwsError> {
        refused("cloudwatch:DescribeAlarms")
    }

    async fn series(&self, _: &MetricQuery, _: u64, _: u64) -> Result<Vec<f64>, AwsError> {
        refused("cloudwatch:GetMetricData")
    }
}

impl ParameterReads for NoCloud {
    async fn parameter(&self, _: &str) -> Result<String, AwsError> {
        refused("ssm:GetParameter")
    }
}

impl ObjectReads for NoCloud {
    async fn object(&self, _: &str, _: &str, _: usize) -> Result<Vec<u8>, AwsError> {
        refused("s3:GetObject")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_read_fails_naming_its_api_and_the_mode() {
        let error = NoCloud.deployment("d-1").await.unwrap_err();
        assert_eq!(error.api, "codedeploy:GetDeployment");
        assert_eq!(
            error.to_string(),
            "codedeploy:GetDeployment failed: no AWS in this mode: green was given as a URL"
        );
        assert!(NoCloud.alarms(&[]).await.is_err());
        assert!(
            NoCloud
                .latest(&MetricQuery::default(), std::time::Duration::ZERO)
                .await
                .is_err()
        );
        assert!(NoCloud.task_set("c", "s", "t").await.is_err());
        assert!(NoCloud.target_health("tg").await.is_err());
        assert!(NoCloud.parameter("p").await.is_err());
        assert!(NoCloud.object("b", "k", 1).await.is_err());
    }
}

//! Discovery: from the DeploymentId alone, what a hook gates. CodeDeploy names
//! the application, group, ECS service, listeners and target groups; the
//! deployment's ECS target says which task set and target group are green;
//! ELBv2 gives the listener's port and protocol and the load balancer's name.

use std::fmt;

use reqwest::Url;

use crate::cloud::{AlarmConfiguration, AwsError, Cloud, LifecycleEvent};
use crate::spec::ListenerChoice;

mod service_deployment;

pub use service_deployment::discover_service_deployment;

/// What a hook knows of its deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deployment {
    /// CodeDeploy application.
    pub application: String,
    /// Deployment group.
    pub group: String,
    /// ECS cluster.
    pub cluster: String,
    /// ECS service.
    pub service: String,
    /// Green's tasks.
    pub green: GreenTasks,
    /// Green target group name.
    pub green_target_group: String,
    /// Green target group ARN.
    pub green_target_group_arn: String,
    /// Blue's target group ARN, when it was found: where a baseline of blue
    /// is read.
    pub blue_target_group_arn: Option<String>,
    /// When the deployment was created (Unix epoch milliseconds), when
    /// known: where a baseline of blue before the deployment ends.
    pub created_ms: Option<u64>,
    /// The listener probed, when the URL is discovered.
    pub endpoint: Option<Endpoint>,
    /// Other listeners that requests name (`"listener": "production"`),
    /// when found.
    pub named_endpoints: Vec<Endpoint>,
    /// The deployment group's alarms.
    pub alarms: AlarmConfiguration,
    /// The lifecycle events of the deployment's ECS target, in order.
    pub lifecycle_events: Vec<LifecycleEvent>,
}

/// Where green's tasks are, as each controller groups them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GreenTasks {
    /// CodeDeploy: the green task set's ID.
    TaskSet(String),
    /// ECS-native blue/green: the target revision of a service deployment.
    Revision {
        /// The service deployment's ARN.
        deployment_arn: String,
        /// Green's service revision ARN.
        revision_arn: String,
    },
}

impl Default for GreenTasks {
    fn default() -> Self {
        GreenTasks::TaskSet(String::new())
    }
}

impl fmt::Display for GreenTasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GreenTasks::TaskSet(id) => write!(f, "task set {id}"),
            GreenTasks::Revision { revision_arn, .. } => {
                write!(f, "service revision {revision_arn}")
            }
        }
    }
}

/// The listener a hook probes, and its load balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Test or production.
    pub listener: ListenerChoice,
    /// Listener ARN.
    pub listener_arn: String,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// Listener port.
    pub port: u16,
    /// Load balancer ARN.
    pub load_balancer_arn: String,
    /// Load balancer DNS name.
    pub dns_name: String,
}

impl Endpoint {
    /// The base URL of the listener.
    pub fn url(&self) -> Result<Url, String> {
        Url::parse(&format!(
            "{}://{}:{}",
            self.scheme, self.dns_name, self.port
        ))
        .map_err(|error| {
            format!(
                "the listener gives no usable URL ({}): {error}",
                self.dns_name
            )
        })
    }
}

impl Deployment {
    /// The green target group's `TargetGroup` dimension value
    /// (`targetgroup/name/id`).
    pub fn target_group_dimension(&self) -> String {
        self.green_target_group_arn
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// Blue's target group's `TargetGroup` dimension value, when known.
    pub fn blue_target_group_dimension(&self) -> Option<String> {
        let arn = self.blue_target_group_arn.as_ref()?;
        arn.rsplit(':').next().map(str::to_owned)
    }

    /// The load balancer's `LoadBalancer` dimension value (`app/name/id`).
    pub fn load_balancer_dimension(&self) -> Option<String> {
        let arn = &self.endpoint.as_ref()?.load_balancer_arn;
        arn.split_once(":loadbalancer/")
            .map(|(_, rest)| rest.to_owned())
    }
}

/// Why the deployment could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    /// An AWS read failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The deployment is not what greenlight gates, or lacks what a hook needs.
    #[error("{0}")]
    Unsupported(String),
}

impl fmt::Display for ListenerChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ListenerChoice::Test => "test",
            ListenerChoice::Production => "production",
        })
    }
}

/// Reads the deployment. `listener` is the listener to probe, or `None` when
/// the spec gives the URL (no ELBv2 listener reads then).
pub async fn discover<C: Cloud>(
    cloud: &C,
    deployment_id: &str,
    listener: Option<ListenerChoice>,
) -> Result<Deployment, DiscoveryError> {
    let unsupported = |message: String| DiscoveryError::Unsupported(message);
    let info = cloud.deployment(deployment_id).await?;
    if info.compute_platform.as_deref() != Some("ECS") {
        return Err(unsupported(format!(
            "deployment {deployment_id} is not an ECS blue/green deployment (compute platform {}): greenlight gates ECS deployments",
            info.compute_platform.as_deref().unwrap_or("unknown")
        )));
    }
    let group = cloud
        .deployment_group(&info.application, &info.group)
        .await?;
    let Some((cluster, service)) = group.ecs_services.first().cloned() else {
        return Err(unsupported(format!(
            "deployment group {} has no ECS service (ecsServices is empty)",
            info.group
        )));
    };
    let Some(pair) = group.target_group_pairs.first().cloned() else {
        return Err(unsupported(format!(
            "deployment group {} has no target group pair (loadBalancerInfo.targetGroupPairInfoList is empty): not an ECS blue/green deployment behind a load balancer",
            info.group
        )));
    };
    let target = cloud.deployment_target(deployment_id).await?;
    let green = target
        .task_sets
        .iter()
        .find(|set| {
            set.label
                .as_deref()
                .is_some_and(|l| l.eq_ignore_ascii_case("green"))
        })
        .ok_or_else(|| {
            unsupported(format!(
                "deployment {deployment_id} has no GREEN task set in its ECS target yet"
            ))
        })?;
    let green_target_group = green.target_group.clone().ok_or_else(|| {
        unsupported(format!(
            "the GREEN task set {} of deployment {deployment_id} has no target group",
            green.identifier
        ))
    })?;
    let green_target_group_arn = cloud.target_group_arn(&green_target_group).await?;
    // Blue's is needed only by a baseline, which says so when it is missing:
    // a failure to find it fails nothing else.
    let blue_target_group_arn = match pair
        .target_groups
        .iter()
        .find(|n| **n != green_target_group)
    {
        Some(blue) => cloud.target_group_arn(blue).await.ok(),
        None => None,
    };
    let endpoint = match listener {
        None => None,
        Some(choice) => Some(endpoint(cloud, &info.group, &pair, choice).await?),
    };
    Ok(Deployment {
        application: info.application,
        group: info.group,
        cluster,
        service,
        green: GreenTasks::TaskSet(green.identifier.clone()),
        green_target_group,
        green_target_group_arn,
        blue_target_group_arn,
        created_ms: info.created_ms,
        endpoint,
        named_endpoints: Vec::new(),
        alarms: group.alarms,
        lifecycle_events: target.lifecycle_events,
    })
}

/// The listener's URL parts: its ARN, port, scheme and load balancer.
pub(crate) async fn listener_endpoint<C: Cloud>(
    cloud: &C,
    listener_arn: String,
    choice: ListenerChoice,
) -> Result<Endpoint, DiscoveryError> {
    let listener = cloud.listener(&listener_arn).await?;
    let scheme = match listener.protocol.as_str() {
        "HTTP" => "http",
        "HTTPS" => "https",
        other => {
            return Err(DiscoveryError::Unsupported(format!(
                "the {choice} listener {listener_arn} speaks {other}, not HTTP or HTTPS: give target.url"
            )));
        }
    };
    let load_balancer = cloud.load_balancer(&listener.load_balancer_arn).await?;
    Ok(Endpoint {
        listener: choice,
        listener_arn,
        scheme,
        port: listener.port,
        load_balancer_arn: listener.load_balancer_arn,
        dns_name: load_balancer.dns_name,
    })
}

/// The `choice` listener of a deployment already found: for requests that
/// name a listener other than the one probed. Unlike the probed listener,
/// it may serve blue: the plan has made sure such requests say so.
pub async fn listener_of<C: Cloud>(
    cloud: &C,
    found: &Deployment,
    choice: ListenerChoice,
) -> Result<Endpoint, DiscoveryError> {
    match &found.green {
        GreenTasks::TaskSet(_) => {
            let group = cloud
                .deployment_group(&found.application, &found.group)
                .await?;
            let Some(pair) = group.target_group_pairs.first() else {
                return Err(DiscoveryError::Unsupported(format!(
                    "deployment group {} has no target group pair",
                    found.group
                )));
            };
            endpoint(cloud, &found.group, pair, choice).await
        }
        GreenTasks::Revision { revision_arn, .. } => {
            service_deployment::listener_of_revision(cloud, revision_arn, choice).await
        }
    }
}

async fn endpoint<C: Cloud>(
    cloud: &C,
    group: &str,
    pair: &crate::cloud::TargetGroupPair,
    choice: ListenerChoice,
) -> Result<Endpoint, DiscoveryError> {
    let (arns, route) = match choice {
        ListenerChoice::Test => (&pair.test_listeners, "testTrafficRoute"),
        ListenerChoice::Production => (&pair.prod_listeners, "prodTrafficRoute"),
    };
    let Some(listener_arn) = arns.first().cloned() else {
        return Err(DiscoveryError::Unsupported(format!(
            "deployment group {group} has no {choice} listener (loadBalancerInfo.targetGroupPairInfoList[0].{route} is empty): add one, or give target.url"
        )));
    };
    listener_endpoint(cloud, listener_arn, choice).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::fake::FakeCloud;

    #[tokio::test]
    async fn finds_green_and_the_test_listener() {
        let cloud = FakeCloud::ready();
        let found = discover(&cloud, "d-1", Some(ListenerChoice::Test))
            .await
            .unwrap();
        assert_eq!(found, cloud.deployment());
        assert_eq!(
            found.endpoint.unwrap().url().unwrap().as_str(),
            "http://alb-123.us-east-1.elb.amazonaws.com:8080/"
        );
    }

    #[tokio::test]
    async fn finds_the_production_listener() {
        let cloud = FakeCloud::ready();
        let found = discover(&cloud, "d-1", Some(ListenerChoice::Production))
            .await
            .unwrap();
        let endpoint = found.endpoint.unwrap();
        assert_eq!(
            (endpoint.port, endpoint.listener_arn.as_str()),
            (80, "arn:listener/prod")
        );
    }

    #[tokio::test]
    async fn with_a_url_in_the_spec_reads_no_listener() {
        let cloud = FakeCloud::ready();
        let found = discover(&cloud, "d-1", None).await.unwrap();
        assert!(found.endpoint.is_none());
        assert!(
            !cloud
                .calls()
                .contains(&"elasticloadbalancing:DescribeListeners")
        );
    }

    #[tokio::test]
    async fn a_deployment_that_is_not_ecs_says_so() {
        let cloud = FakeCloud::ready();
        cloud.set_platform("Server");
        let error = discover(&cloud, "d-1", Some(ListenerChoice::Test))
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "deployment d-1 is not an ECS blue/green deployment (compute platform Server): greenlight gates ECS deployments"
        );
    }

    #[tokio::test]
    async fn no_test_listener_says_which_field() {
        let cloud = FakeCloud::ready();
        cloud.remove_test_listener();
        let error = discover(&cloud, "d-1", Some(ListenerChoice::Test))
            .await
            .unwrap_err();
        assert!(
            error.to_string().starts_with(
                "deployment group group has no test listener (loadBalancerInfo.targetGroupPairInfoList[0].testTrafficRoute is empty)"
            ),
            "{error}"
        );
        // Production does not need it.
        assert!(
            discover(&cloud, "d-1", Some(ListenerChoice::Production))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn an_aws_error_names_the_api() {
        let cloud = FakeCloud::ready();
        cloud.fail("codedeploy:GetDeploymentGroup");
        let error = discover(&cloud, "d-1", Some(ListenerChoice::Test))
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "codedeploy:GetDeploymentGroup failed: AccessDeniedException: not authorized"
        );
    }

    #[test]
    fn dimensions_come_from_the_arns() {
        let deployment = FakeCloud::ready().deployment();
        assert_eq!(deployment.target_group_dimension(), "targetgroup/green/abc");
        assert_eq!(
            deployment.load_balancer_dimension().as_deref(),
            Some("app/alb/123")
        );
    }
}

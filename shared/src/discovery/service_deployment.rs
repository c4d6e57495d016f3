//! Discovery of an ECS-native blue/green deployment, from its service
//! deployment ARN alone: ECS names green's service revision, the revision
//! names its load balancer's two target groups and listener rules, and the
//! rules' weights say which target group is green and where each listener
//! sends its traffic.

use super::{Deployment, DiscoveryError, GreenTasks, listener_endpoint};
use crate::cloud::{AlarmConfiguration, Cloud, ListenerRule, RevisionLoadBalancer};
use crate::spec::ListenerChoice;

/// Finds green behind service deployment `arn`.
///
/// Green's target group is the one the test listener's rule sends more of
/// its traffic to: from the test traffic shift on, that is green, whatever
/// production does. Without a test listener, `routed_by` says which rule
/// to read instead (the production listener, once production has moved). `probe`, when the URL is
/// discovered, is the listener the checks go to; it must send traffic to
/// green, or the checks would judge blue, which is refused.
pub async fn discover_service_deployment<C: Cloud>(
    cloud: &C,
    arn: &str,
    routed_by: ListenerChoice,
    probe: Option<ListenerChoice>,
) -> Result<Deployment, DiscoveryError> {
    let unsupported = |message: String| DiscoveryError::Unsupported(message);
    let found = cloud.service_deployment(arn).await?;
    let revision = found.target_revision_arn.clone().ok_or_else(|| {
        unsupported(format!(
            "service deployment {arn} names no target service revision (status {})",
            found.status
        ))
    })?;
    let balancers = cloud.service_revision(&revision).await?;
    let Some(balancer) = balancers
        .into_iter()
        .find(|b| b.alternate_target_group_arn.is_some() && b.production_listener_rule.is_some())
    else {
        return Err(unsupported(format!(
            "service revision {revision} has no load balancer with advancedConfiguration (alternateTargetGroupArn, productionListenerRule): not a blue/green service behind a load balancer"
        )));
    };
    let routed_by = if balancer.test_listener_rule.is_some() {
        ListenerChoice::Test
    } else {
        routed_by
    };
    let routing = rule(cloud, &balancer, routed_by, &revision).await?;
    let green_target_group_arn = heavier(&balancer, &routing).ok_or_else(|| {
        unsupported(format!(
            "the {routed_by} listener rule sends no traffic to either target group of service revision {revision}: green cannot be told from blue"
        ))
    })?;
    let endpoint = match probe {
        None => None,
        Some(choice) => {
            let probed = if choice == routed_by {
                routing.clone()
            } else {
                rule(cloud, &balancer, choice, &revision).await?
            };
            let to_green = weight_of(&probed, &green_target_group_arn);
            if to_green == 0 {
                return Err(unsupported(format!(
                    "the {choice} listener sends no traffic to green's target group {} yet ({}): checks on it would judge blue; probe the {routed_by} listener",
                    name_of(&green_target_group_arn),
                    describe(&probed)
                )));
            }
            Some(listener_endpoint(cloud, probed.listener_arn, choice).await?)
        }
    };
    let (cluster, service) = cluster_and_service(&found.service_arn);
    Ok(Deployment {
        application: String::new(),
        group: String::new(),
        cluster,
        service,
        green: GreenTasks::Revision {
            deployment_arn: arn.to_owned(),
            revision_arn: revision,
        },
        green_target_group: name_of(&green_target_group_arn).to_owned(),
        blue_target_group_arn: [
            Some(&balancer.target_group_arn),
            balancer.alternate_target_group_arn.as_ref(),
        ]
        .into_iter()
        .flatten()
        .find(|arn| **arn != green_target_group_arn)
        .cloned(),
        created_ms: found.created_ms,
        green_target_group_arn,
        endpoint,
        named_endpoints: Vec::new(),
        // ECS watches the service's own alarms (deploymentConfiguration.alarms).
        alarms: AlarmConfiguration::default(),
        lifecycle_events: Vec::new(),
    })
}

/// The `choice` listener of service revision `revision`, whoever it sends
/// traffic to.
pub(crate) async fn listener_of_revision<C: Cloud>(
    cloud: &C,
    revision: &str,
    choice: ListenerChoice,
) -> Result<super::Endpoint, DiscoveryError> {
    let balancers = cloud.service_revision(revision).await?;
    let Some(balancer) = balancers
        .into_iter()
        .find(|b| b.alternate_target_group_arn.is_some() && b.production_listener_rule.is_some())
    else {
        return Err(DiscoveryError::Unsupported(format!(
            "service revision {revision} has no load balancer with advancedConfiguration"
        )));
    };
    let found = rule(cloud, &balancer, choice, revision).await?;
    listener_endpoint(cloud, found.listener_arn, choice).await
}

/// The listener rule of `choice`.
async fn rule<C: Cloud>(
    cloud: &C,
    balancer: &RevisionLoadBalancer,
    choice: ListenerChoice,
    revision: &str,
) -> Result<ListenerRule, DiscoveryError> {
    let (arn, field) = match choice {
        ListenerChoice::Test => (&balancer.test_listener_rule, "testListenerRule"),
        ListenerChoice::Production => {
            (&balancer.production_listener_rule, "productionListenerRule")
        }
    };
    let Some(arn) = arn else {
        return Err(DiscoveryError::Unsupported(format!(
            "service revision {revision} has no {choice} listener (loadBalancers[].advancedConfiguration.{field} is empty): add one, or give target.url"
        )));
    };
    Ok(cloud.rule(arn).await?)
}

/// Of the balancer's two target groups, the one `rule` sends more traffic
/// to, if it sends any.
fn heavier(balancer: &RevisionLoadBalancer, rule: &ListenerRule) -> Option<String> {
    let primary = &balancer.target_group_arn;
    let alternate = balancer.alternate_target_group_arn.as_ref()?;
    let (p, a) = (weight_of(rule, primary), weight_of(rule, alternate));
    match p.cmp(&a) {
        std::cmp::Ordering::Greater => Some(primary.clone()),
        std::cmp::Ordering::Less => Some(alternate.clone()),
        std::cmp::Ordering::Equal => None,
    }
}

fn weight_of(rule: &ListenerRule, target_group_arn: &str) -> i32 {
    rule.forwards
        .iter()
        .filter(|(arn, _)| arn == target_group_arn)
        .map(|(_, weight)| *weight)
        .sum()
}

/// `targetgroup/NAME/id` → NAME.
fn name_of(target_group_arn: &str) -> &str {
    target_group_arn
        .split_once(":targetgroup/")
        .and_then(|(_, rest)| rest.split('/').next())
        .unwrap_or(target_group_arn)
}

fn describe(rule: &ListenerRule) -> String {
    rule.forwards
        .iter()
        .map(|(arn, weight)| format!("{} {weight}", name_of(arn)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `arn:…:service/CLUSTER/SERVICE` → (CLUSTER, SERVICE).
fn cluster_and_service(service_arn: &str) -> (String, String) {
    let path = service_arn
        .split_once(":service/")
        .map_or(service_arn, |(_, rest)| rest);
    match path.split_once('/') {
        Some((cluster, service)) => (cluster.to_owned(), service.to_owned()),
        None => (String::new(), path.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::fake::{FakeCloud, SERVICE_DEPLOYMENT};

    #[tokio::test]
    async fn green_is_the_target_group_the_test_rule_sends_everything_to() {
        let cloud = FakeCloud::ready();
        let found = discover_service_deployment(
            &cloud,
            SERVICE_DEPLOYMENT,
            ListenerChoice::Test,
            Some(ListenerChoice::Test),
        )
        .await
        .unwrap();
        assert_eq!(found, cloud.service_deployment_found());
        assert_eq!(
            found.endpoint.unwrap().url().unwrap().as_str(),
            "http://alb-123.us-east-1.elb.amazonaws.com:8080/"
        );
    }

    #[tokio::test]
    async fn probing_a_listener_that_still_sends_everything_to_blue_is_refused() {
        let cloud = FakeCloud::ready();
        let refused = discover_service_deployment(
            &cloud,
            SERVICE_DEPLOYMENT,
            ListenerChoice::Test,
            Some(ListenerChoice::Production),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            refused.starts_with("the production listener sends no traffic to green's target group green yet (blue 100, green 0): checks on it would judge blue"),
            "{refused}"
        );
    }

    #[tokio::test]
    async fn a_revision_without_a_test_listener_says_which_field_is_empty() {
        let cloud = FakeCloud::ready();
        cloud.remove_test_listener();
        let refused =
            discover_service_deployment(&cloud, SERVICE_DEPLOYMENT, ListenerChoice::Test, None)
                .await
                .unwrap_err()
                .to_string();
        assert!(
            refused.contains("advancedConfiguration.testListenerRule is empty"),
            "{refused}"
        );
    }

    #[test]
    fn cluster_and_service_come_from_the_service_arn() {
        assert_eq!(
            cluster_and_service("arn:aws:ecs:us-east-1:1:service/prod/web"),
            ("prod".to_owned(), "web".to_owned())
        );
    }
}

//! The ECS-native blue/green reads on the AWS SDK: the service deployment,
//! its target revision's load balancers, and a listener rule's weights.

use aws_sdk_ecs::types::ServiceDeploymentStatus;
use greenlight::cloud::{
    AwsError, ListenerRule, RevisionLoadBalancer, ServiceDeploymentInfo, ServiceDeploymentReads,
};

use crate::SdkCloud;
use crate::sdk_error::{failed, missing};

/// Why ECS answered without the one item asked for.
fn not_found(api: &'static str, what: &str, failures: &[aws_sdk_ecs::types::Failure]) -> AwsError {
    let why = failures
        .first()
        .and_then(|f| f.reason())
        .unwrap_or("not found");
    AwsError::new(api, format!("{what}: {why}"))
}

impl ServiceDeploymentReads for SdkCloud {
    async fn service_deployment(&self, arn: &str) -> Result<ServiceDeploymentInfo, AwsError> {
        const API: &str = "ecs:DescribeServiceDeployments";
        let output = self
            .ecs
            .describe_service_deployments()
            .service_deployment_arns(arn)
            .send()
            .await
            .map_err(failed(API))?;
        let found = output.service_deployments().first().ok_or_else(|| {
            not_found(API, &format!("service deployment {arn}"), output.failures())
        })?;
        let target = found.target_service_revision();
        Ok(ServiceDeploymentInfo {
            service_arn: found.service_arn().unwrap_or_default().to_owned(),
            cluster_arn: found.cluster_arn().unwrap_or_default().to_owned(),
            target_revision_arn: target.and_then(|t| t.arn()).map(str::to_owned),
            target_tasks: target.map(|t| (t.requested_task_count(), t.running_task_count())),
            status: found
                .status()
                .map_or("unknown", ServiceDeploymentStatus::as_str)
                .to_owned(),
            created_ms: found.created_at().and_then(crate::cloud::epoch_ms),
        })
    }

    async fn service_revision(&self, arn: &str) -> Result<Vec<RevisionLoadBalancer>, AwsError> {
        const API: &str = "ecs:DescribeServiceRevisions";
        let output = self
            .ecs
            .describe_service_revisions()
            .service_revision_arns(arn)
            .send()
            .await
            .map_err(failed(API))?;
        let revision = output
            .service_revisions()
            .first()
            .ok_or_else(|| not_found(API, &format!("service revision {arn}"), output.failures()))?;
        Ok(revision
            .load_balancers()
            .iter()
            .map(|lb| {
                let advanced = lb.advanced_configuration();
                RevisionLoadBalancer {
                    target_group_arn: lb.target_group_arn().unwrap_or_default().to_owned(),
                    alternate_target_group_arn: advanced
                        .and_then(|a| a.alternate_target_group_arn())
                        .map(str::to_owned),
                    production_listener_rule: advanced
                        .and_then(|a| a.production_listener_rule())
                        .map(str::to_owned),
                    test_listener_rule: advanced
                        .and_then(|a| a.test_listener_rule())
                        .map(str::to_owned),
                }
            })
            .collect())
    }
}

/// `DescribeRules` for one rule: the weighted target groups of its forward
/// action, and its listener (named in the rule's ARN: the answer does not
/// carry it).
pub(crate) async fn rule(
    elbv2: &aws_sdk_elasticloadbalancingv2::Client,
    arn: &str,
) -> Result<ListenerRule, AwsError> {
    const API: &str = "elasticloadbalancing:DescribeRules";
    let output = elbv2
        .describe_rules()
        .rule_arns(arn)
        .send()
        .await
        .map_err(failed(API))?;
    let rule = output
        .rules()
        .first()
        .ok_or_else(|| missing(API, &format!("rule {arn}")))?;
    let mut forwards = Vec::new();
    for action in rule.actions() {
        match action.forward_config() {
            Some(config) => forwards.extend(config.target_groups().iter().filter_map(|tg| {
                tg.target_group_arn()
                    .map(|arn| (arn.to_owned(), tg.weight().unwrap_or(1)))
            })),
            None => forwards.extend(action.target_group_arn().map(|tg| (tg.to_owned(), 1))),
        }
    }
    let listener_arn = listener_of(arn).ok_or_else(|| {
        AwsError::new(
            API,
            format!("{arn} is not a listener rule ARN (listener-rule/…)"),
        )
    })?;
    Ok(ListenerRule {
        listener_arn,
        forwards,
    })
}

/// `arn:…:listener-rule/app/LB/ID/LISTENER/RULE` →
/// `arn:…:listener/app/LB/ID/LISTENER`.
fn listener_of(rule_arn: &str) -> Option<String> {
    let (prefix, path) = rule_arn.split_once(":listener-rule/")?;
    let (listener_path, _rule) = path.rsplit_once('/')?;
    Some(format!("{prefix}:listener/{listener_path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_names_its_listener() {
        assert_eq!(
            listener_of(
                "arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/web/50dc/f3a1/9e8b"
            )
            .as_deref(),
            Some("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/50dc/f3a1")
        );
        assert_eq!(
            listener_of("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/50dc/f3a1"),
            None
        );
    }
}

//! The engine's AWS read ports (CodeDeploy, ECS, ELBv2, CloudWatch) on the
//! AWS SDK for Rust. Clients are built once per process from one `SdkConfig`
//! (see [`crate::Clients`]).

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
use aws_sdk_cloudwatch::types::{
    AlarmType, Dimension, MessageData, Metric, MetricDataQuery, MetricStat, ScanBy, StatusCode,
};
use greenlight::cloud::{
    AlarmConfiguration, AlarmState, AwsError, BalancerReads, DeploymentGroupInfo, DeploymentInfo,
    DeploymentReads, DeploymentTarget, DeploymentTaskSet, EXPRESSION_ID, LifecycleEvent, Listener,
    ListenerRule, LoadBalancer, MAX_SERIES, MetricQuery, MetricReads, MetricSource,
    TargetGroupPair, TargetHealth, TaskSetReads, TaskSetState,
};

use crate::sdk_error::{failed, missing};

/// The SDK clients greenlight reads with.
#[derive(Debug, Clone)]
pub struct SdkCloud {
    codedeploy: aws_sdk_codedeploy::Client,
    pub(crate) ecs: aws_sdk_ecs::Client,
    pub(crate) elbv2: aws_sdk_elasticloadbalancingv2::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
}

impl SdkCloud {
    /// Builds the clients from one configuration.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        SdkCloud {
            codedeploy: aws_sdk_codedeploy::Client::new(config),
            ecs: aws_sdk_ecs::Client::new(config),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
        }
    }
}

/// CloudWatch takes at most this many `AlarmNames` per `DescribeAlarms`.
const ALARM_NAMES_PER_CALL: usize = 100;
/// More pages than names in a batch is a service that never stops paging.
const MAX_ALARM_PAGES: usize = ALARM_NAMES_PER_CALL;

/// Why a `GetMetricData` answer cannot be trusted, if it cannot: a result
/// whose `StatusCode` is not `Complete` (`InternalError`, `Forbidden`,
/// `PartialData`) or that carries messages, or messages on the answer.
fn unreadable(output: &GetMetricDataOutput) -> Option<String> {
    let mut problems = Vec::new();
    for result in output.metric_data_results() {
        let status = result
            .status_code()
            .map_or("without a StatusCode", StatusCode::as_str);
        if status != StatusCode::Complete.as_str() {
            problems.push(format!("the result is {status}, not Complete"));
        }
        if !result.messages().is_empty() {
            problems.push(format!("the result says {}", messages(result.messages())));
        }
    }
    if !output.messages().is_empty() {
        problems.push(format!("the answer says {}", messages(output.messages())));
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

fn messages(list: &[MessageData]) -> String {
    list.iter()
        .map(|m| {
            format!(
                "{}: {}",
                m.code().unwrap_or("(no code)"),
                m.value().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl DeploymentReads for SdkCloud {
    async fn deployment(&self, deployment_id: &str) -> Result<DeploymentInfo, AwsError> {
        const API: &str = "codedeploy:GetDeployment";
        let output = self
            .codedeploy
            .get_deployment()
            .deployment_id(deployment_id)
            .send()
            .await
            .map_err(failed(API))?;
        let info = output
            .deployment_info()
            .ok_or_else(|| missing(API, "deploymentInfo"))?;
        Ok(DeploymentInfo {
            application: info.application_name().unwrap_or_default().to_owned(),
            group: info.deployment_group_name().unwrap_or_default().to_owned(),
            compute_platform: info.compute_platform().map(|p| p.as_str().to_owned()),
            created_ms: info.create_time().and_then(epoch_ms),
        })
    }

    async fn deployment_group(
        &self,
        application: &str,
        group: &str,
    ) -> Result<DeploymentGroupInfo, AwsError> {
        const API: &str = "codedeploy:GetDeploymentGroup";
        let output = self
            .codedeploy
            .get_deployment_group()
            .application_name(application)
            .deployment_group_name(group)
            .send()
            .await
            .map_err(failed(API))?;
        let info = output
            .deployment_group_info()
            .ok_or_else(|| missing(API, "deploymentGroupInfo"))?;
        let pairs = info
            .load_balancer_info()
            .map(|lb| lb.target_group_pair_info_list())
            .unwrap_or_default()
            .iter()
            .map(|pair| TargetGroupPair {
                target_groups: pair
                    .target_groups()
                    .iter()
                    .filter_map(|tg| tg.name().map(str::to_owned))
                    .collect(),
                prod_listeners: pair
                    .prod_traffic_route()
                    .map(|r| r.listener_arns().to_vec())
                    .unwrap_or_default(),
                test_listeners: pair
                    .test_traffic_route()
                    .map(|r| r.listener_arns().to_vec())
                    .unwrap_or_default(),
            })
            .collect();
        let alarms =
            info.alarm_configuration()
                .map_or_else(AlarmConfiguration::default, |config| AlarmConfiguration {
                    enabled: config.enabled(),
                    ignore_poll_alarm_failure: config.ignore_poll_alarm_failure(),
                    names: config
                        .alarms()
                        .iter()
                        .filter_map(|a| a.name().map(str::to_owned))
                        .collect(),
                });
        Ok(DeploymentGroupInfo {
            compute_platform: info.compute_platform().map(|p| p.as_str().to_owned()),
            ecs_services: info
                .ecs_services()
                .iter()
                .map(|s| {
                    (
                        s.cluster_name().unwrap_or_default().to_owned(),
                        s.service_name().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            target_group_pairs: pairs,
            alarms,
        })
    }

    async fn deployment_target(&self, deployment_id: &str) -> Result<DeploymentTarget, AwsError> {
        let listed = self
            .codedeploy
            .list_deployment_targets()
            .deployment_id(deployment_id)
            .send()
            .await
            .map_err(failed("codedeploy:ListDeploymentTargets"))?;
        let ids = listed.target_ids().to_vec();
        if ids.is_empty() {
            return Ok(DeploymentTarget::default());
        }
        let targets = self
            .codedeploy
            .batch_get_deployment_targets()
            .deployment_id(deployment_id)
            .set_target_ids(Some(ids))
            .send()
            .await
            .map_err(failed("codedeploy:BatchGetDeploymentTargets"))?;
        let ecs: Vec<_> = targets
            .deployment_targets()
            .iter()
            .filter_map(|target| target.ecs_target())
            .collect();
        Ok(DeploymentTarget {
            task_sets: ecs
                .iter()
                .flat_map(|ecs| ecs.task_sets_info())
                .map(|set| DeploymentTaskSet {
                    identifier: set.identifer().unwrap_or_default().to_owned(),
                    label: set.task_set_label().map(|l| l.as_str().to_owned()),
                    target_group: set
                        .target_group()
                        .and_then(|tg| tg.name())
                        .map(str::to_owned),
                    traffic_weight: set.traffic_weight(),
                })
                .collect(),
            // An ECS deployment has one target: the service.
            lifecycle_events: ecs
                .first()
                .map(|ecs| ecs.lifecycle_events())
                .unwrap_or_default()
                .iter()
                .map(|event| LifecycleEvent {
                    name: event.lifecycle_event_name().unwrap_or_default().to_owned(),
                    status: event
                        .status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                })
                .collect(),
        })
    }
}

impl BalancerReads for SdkCloud {
    async fn rule(&self, arn: &str) -> Result<ListenerRule, AwsError> {
        crate::service_deployments::rule(&self.elbv2, arn).await
    }

    async fn listener(&self, arn: &str) -> Result<Listener, AwsError> {
        const API: &str = "elasticloadbalancing:DescribeListeners";
        let output = self
            .elbv2
            .describe_listeners()
            .listener_arns(arn)
            .send()
            .await
            .map_err(failed(API))?;
        let listener = output
            .listeners()
            .first()
            .ok_or_else(|| missing(API, &format!("listener {arn}")))?;
        Ok(Listener {
            port: listener
                .port()
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| missing(API, "port"))?,
            protocol: listener
                .protocol()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            load_balancer_arn: listener.load_balancer_arn().unwrap_or_default().to_owned(),
        })
    }

    async fn load_balancer(&self, arn: &str) -> Result<LoadBalancer, AwsError> {
        const API: &str = "elasticloadbalancing:DescribeLoadBalancers";
        let output = self
            .elbv2
            .describe_load_balancers()
            .load_balancer_arns(arn)
            .send()
            .await
            .map_err(failed(API))?;
        let lb = output
            .load_balancers()
            .first()
            .ok_or_else(|| missing(API, &format!("load balancer {arn}")))?;
        Ok(LoadBalancer {
            dns_name: lb
                .dns_name()
                .ok_or_else(|| missing(API, "DNSName"))?
                .to_owned(),
            scheme: lb.scheme().map(|s| s.as_str().to_owned()),
        })
    }

    async fn target_group_arn(&self, name: &str) -> Result<String, AwsError> {
        const API: &str = "elasticloadbalancing:DescribeTargetGroups";
        let output = self
            .elbv2
            .describe_target_groups()
            .names(name)
            .send()
            .await
            .map_err(failed(API))?;
        output
            .target_groups()
            .first()
            .and_then(|tg| tg.target_group_arn())
            .map(str::to_owned)
            .ok_or_else(|| missing(API, &format!("target group {name}")))
    }

    async fn target_health(&self, target_group_arn: &str) -> Result<Vec<TargetHealth>, AwsError> {
        const API: &str = "elasticloadbalancing:DescribeTargetHealth";
        let output = self
            .elbv2
            .describe_target_health()
            .target_group_arn(target_group_arn)
            .send()
            .await
            .map_err(failed(API))?;
        Ok(output
            .target_health_descriptions()
            .iter()
            .map(|d| TargetHealth {
                id: d
                    .target()
                    .and_then(|t| t.id())
                    .unwrap_or_default()
                    .to_owned(),
                port: d.target().and_then(|t| t.port()),
                state: d
                    .target_health()
                    .and_then(|h| h.state())
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                reason: d
                    .target_health()
                    .and_then(|h| h.reason())
                    .map(|r| r.as_str().to_owned()),
            })
            .collect())
    }
}

impl TaskSetReads for SdkCloud {
    async fn task_set(
        &self,
        cluster: &str,
        service: &str,
        task_set: &str,
    ) -> Result<TaskSetState, AwsError> {
        const API: &str = "ecs:DescribeTaskSets";
        let output = self
            .ecs
            .describe_task_sets()
            .cluster(cluster)
            .service(service)
            .task_sets(task_set)
            .send()
            .await
            .map_err(failed(API))?;
        let set = output.task_sets().first().ok_or_else(|| {
            let why = output
                .failures()
                .first()
                .and_then(|f| f.reason())
                .unwrap_or("not found");
            AwsError::new(API, format!("task set {task_set}: {why}"))
        })?;
        Ok(TaskSetState {
            status: set.status().map(str::to_owned),
            stability: set.stability_status().map(|s| s.as_str().to_owned()),
            desired: i64::from(set.computed_desired_count()),
            running: i64::from(set.running_count()),
            pending: i64::from(set.pending_count()),
        })
    }
}

impl MetricReads for SdkCloud {
    /// In batches of 100 names (CloudWatch's limit), following `NextToken`
    /// on each.
    async fn alarms(&self, names: &[String]) -> Result<Vec<AlarmState>, AwsError> {
        const API: &str = "cloudwatch:DescribeAlarms";
        let mut states = Vec::new();
        for batch in names.chunks(ALARM_NAMES_PER_CALL) {
            let mut next_token: Option<String> = None;
            let mut pages = 0;
            loop {
                pages += 1;
                if pages > MAX_ALARM_PAGES {
                    return Err(AwsError::new(
                        API,
                        format!("still paging after {MAX_ALARM_PAGES} pages"),
                    ));
                }
                let output = self
                    .cloudwatch
                    .describe_alarms()
                    .set_alarm_names(Some(batch.to_vec()))
                    .max_records(100)
                    .alarm_types(AlarmType::MetricAlarm)
                    .alarm_types(AlarmType::CompositeAlarm)
                    .set_next_token(next_token.take())
                    .send()
                    .await
                    .map_err(failed(API))?;
                let metric = output.metric_alarms().iter().map(|a| AlarmState {
                    name: a.alarm_name().unwrap_or_default().to_owned(),
                    state: a
                        .state_value()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    reason: a.state_reason().map(str::to_owned),
                });
                let composite = output.composite_alarms().iter().map(|a| AlarmState {
                    name: a.alarm_name().unwrap_or_default().to_owned(),
                    state: a
                        .state_value()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    reason: a.state_reason().map(str::to_owned),
                });
                states.extend(metric.chain(composite));
                match output.next_token() {
                    Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                    _ => break,
                }
            }
        }
        Ok(states)
    }

    async fn series(
        &self,
        query: &MetricQuery,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<Vec<f64>, AwsError> {
        const API: &str = "cloudwatch:GetMetricData";
        let period = i32::try_from(query.period_s).unwrap_or(60);
        let stat_query = |id: &str, stat: &greenlight::cloud::MetricStat, return_data: bool| {
            let mut metric = Metric::builder()
                .namespace(&stat.namespace)
                .metric_name(&stat.metric);
            for (name, value) in &stat.dimensions {
                metric = metric.dimensions(Dimension::builder().name(name).value(value).build());
            }
            MetricDataQuery::builder()
                .id(id)
                .metric_stat(
                    MetricStat::builder()
                        .metric(metric.build())
                        .period(period)
                        .stat(&stat.stat)
                        .build(),
                )
                .return_data(return_data)
                .build()
        };
        // The result to read: the one query that returns data.
        let queries = match &query.source {
            MetricSource::Stat(stat) => vec![stat_query(EXPRESSION_ID, stat, true)],
            MetricSource::Expression {
                expression,
                metrics,
            } => metrics
                .iter()
                .map(|(id, stat)| stat_query(id, stat, false))
                .chain(std::iter::once(
                    MetricDataQuery::builder()
                        .id(EXPRESSION_ID)
                        .expression(expression)
                        .return_data(true)
                        .build(),
                ))
                .collect(),
        };
        let at = |ms: u64| SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
        let output = self
            .cloudwatch
            .get_metric_data()
            .set_metric_data_queries(Some(queries))
            .start_time(at(from_ms).into())
            .end_time(at(to_ms).into())
            .scan_by(ScanBy::TimestampDescending)
            .max_datapoints(i32::try_from(MAX_SERIES).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(failed(API))?;
        if let Some(why) = unreadable(&output) {
            return Err(AwsError::new(API, why));
        }
        Ok(output
            .metric_data_results()
            .iter()
            .find(|r| r.id() == Some(EXPRESSION_ID))
            .map(|r| r.values().iter().take(MAX_SERIES).copied().collect())
            .unwrap_or_default())
    }
}

/// An AWS timestamp in Unix epoch milliseconds, if it is after 1970.
pub(crate) fn epoch_ms(time: &aws_smithy_types::DateTime) -> Option<u64> {
    u64::try_from(time.to_millis().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudwatch::types::MetricDataResult;

    use super::*;

    fn result(status: StatusCode, messages: &[(&str, &str)]) -> MetricDataResult {
        let mut result = MetricDataResult::builder()
            .id("m0")
            .status_code(status)
            .values(3.0);
        for (code, value) in messages {
            result = result.messages(MessageData::builder().code(*code).value(*value).build());
        }
        result.build()
    }

    #[test]
    fn a_complete_result_without_messages_is_readable() {
        let output = GetMetricDataOutput::builder()
            .metric_data_results(result(StatusCode::Complete, &[]))
            .build();
        assert_eq!(unreadable(&output), None);
    }

    #[test]
    fn a_result_that_is_not_complete_is_unreadable_naming_status_and_messages() {
        // GIVEN an InternalError result with a message
        let output = GetMetricDataOutput::builder()
            .metric_data_results(result(
                StatusCode::InternalError,
                &[("InternalError", "Internal service error")],
            ))
            .build();
        // WHEN it is read
        // THEN it is unreadable, saying why
        assert_eq!(
            unreadable(&output).as_deref(),
            Some(
                "the result is InternalError, not Complete; the result says InternalError: Internal service error"
            )
        );
        let partial = GetMetricDataOutput::builder()
            .metric_data_results(result(StatusCode::PartialData, &[]))
            .build();
        assert!(unreadable(&partial).is_some());
        let forbidden = GetMetricDataOutput::builder()
            .metric_data_results(result(StatusCode::Forbidden, &[]))
            .build();
        assert!(unreadable(&forbidden).is_some());
    }

    #[test]
    fn messages_on_the_answer_make_it_unreadable() {
        let output = GetMetricDataOutput::builder()
            .metric_data_results(result(StatusCode::Complete, &[]))
            .messages(
                MessageData::builder()
                    .code("MaxQueryTimeRangeExceed")
                    .value("too long")
                    .build(),
            )
            .build();
        assert_eq!(
            unreadable(&output).as_deref(),
            Some("the answer says MaxQueryTimeRangeExceed: too long")
        );
    }
}

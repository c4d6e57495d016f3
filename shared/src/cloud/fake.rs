//! A scriptable in-memory AWS for unit tests.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{
    AlarmConfiguration, AlarmState, AwsError, BalancerReads, DeploymentGroupInfo, DeploymentInfo,
    DeploymentReads, DeploymentTarget, DeploymentTaskSet, LifecycleEvent, Listener, ListenerRule,
    LoadBalancer, MetricQuery, MetricReads, MetricSource, RevisionLoadBalancer,
    ServiceDeploymentInfo, ServiceDeploymentReads, TargetGroupPair, TargetHealth, TaskSetReads,
    TaskSetState,
};
use crate::discovery::{Deployment, Endpoint, GreenTasks};
use crate::spec::ListenerChoice;

#[derive(Debug, Default)]
struct State {
    platform: String,
    test_listeners: Vec<String>,
    task_set: TaskSetState,
    targets: Vec<TargetHealth>,
    heal_after: Option<u32>,
    health_polls: u32,
    alarms: HashMap<String, String>,
    alarm_after: Option<(String, u32)>,
    alarm_looks: u32,
    metrics: HashMap<String, Vec<Option<f64>>>,
    series: HashMap<String, Vec<f64>>,
    failing: Vec<String>,
    calls: Vec<&'static str>,
    lifecycle_events: Vec<LifecycleEvent>,
}

/// When every fake deployment was created (Unix epoch milliseconds).
pub(crate) const CREATED_MS: u64 = 1_800_000_000_000;
/// An ECS blue/green deployment `d-1` (app `app`, group `group`, cluster
/// `cluster`, service `svc`, green task set `ts-green` on target group
/// `green`, test listener :8080, production listener :80).
#[derive(Debug)]
pub(crate) struct FakeCloud(Mutex<State>);

impl FakeCloud {
    /// Everything steady and healthy.
    pub(crate) fn ready() -> Self {
        FakeCloud(Mutex::new(State {
            platform: "ECS".to_owned(),
            test_listeners: vec!["arn:listener/test".to_owned()],
            task_set: TaskSetState {
                status: Some("ACTIVE".to_owned()),
                stability: Some("STEADY_STATE".to_owned()),
                desired: 2,
                running: 2,
                pending: 0,
            },
            targets: vec![target("10.0.1.5", "healthy", None)],
            lifecycle_events: lifecycle_events_during("AfterAllowTestTraffic"),
            ..State::default()
        }))
    }

    /// The deployment's lifecycle events while `event` runs (see
    /// [`lifecycle_events_during`]).
    pub(crate) fn set_lifecycle_event(&self, event: &str) {
        self.state().lifecycle_events = lifecycle_events_during(event);
    }

    /// The deployment's target lists no lifecycle events.
    pub(crate) fn clear_lifecycle_events(&self) {
        self.state().lifecycle_events.clear();
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().expect("fake cloud lock")
    }

    /// The deployment as discovery should find it (test listener).
    pub(crate) fn deployment(&self) -> Deployment {
        Deployment {
            application: "app".to_owned(),
            group: "group".to_owned(),
            cluster: "cluster".to_owned(),
            service: "svc".to_owned(),
            green: GreenTasks::TaskSet("ts-green".to_owned()),
            green_target_group: "green".to_owned(),
            green_target_group_arn:
                "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/green/abc".to_owned(),
            blue_target_group_arn: Some(BLUE_TG.to_owned()),
            created_ms: Some(CREATED_MS),
            named_endpoints: Vec::new(),
            endpoint: Some(Endpoint {
                listener: ListenerChoice::Test,
                listener_arn: "arn:listener/test".to_owned(),
                scheme: "http",
                port: 8080,
                load_balancer_arn:
                    "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/alb/123".to_owned(),
                dns_name: "alb-123.us-east-1.elb.amazonaws.com".to_owned(),
            }),
            alarms: AlarmConfiguration {
                enabled: true,
                ignore_poll_alarm_failure: false,
                names: vec!["group-alarm".to_owned()],
            },
            lifecycle_events: self.state().lifecycle_events.clone(),
        }
    }

    pub(crate) fn set_platform(&self, platform: &str) {
        self.state().platform = platform.to_owned();
    }

    pub(crate) fn remove_test_listener(&self) {
        self.state().test_listeners.clear();
    }

    pub(crate) fn set_task_set(&self, task_set: TaskSetState) {
        self.state().task_set = task_set;
    }

    pub(crate) fn set_targets(&self, targets: Vec<(&str, &str, Option<&str>)>) {
        self.state().targets = targets
            .into_iter()
            .map(|(id, state, reason)| target(id, state, reason))
            .collect();
    }

    /// Targets turn healthy from the `polls`+1-th health read on.
    pub(crate) fn heal_after(&self, polls: u32) {
        self.state().heal_after = Some(polls);
    }

    /// Every call of `api` fails with AccessDenied.
    pub(crate) fn fail(&self, api: &str) {
        self.state().failing.push(api.to_owned());
    }

    pub(crate) fn set_alarm(&self, name: &str, state: &str) {
        self.state()
            .alarms
            .insert(name.to_owned(), state.to_owned());
    }

    /// `name` goes into ALARM from the `looks`+1-th alarm read on.
    pub(crate) fn alarm_after(&self, name: &str, looks: u32) {
        self.state().alarm_after = Some((name.to_owned(), looks));
    }

    /// Successive values of a metric, or of an expression by its text (the
    /// last one repeats).
    pub(crate) fn set_metric(&self, metric: &str, values: Vec<Option<f64>>) {
        self.state().metrics.insert(metric.to_owned(), values);
    }

    /// The per-period values every read of a metric (keyed as in
    /// [`FakeCloud::set_metric`]) returns, newest first.
    pub(crate) fn set_series(&self, metric: &str, values: Vec<f64>) {
        self.state().series.insert(metric.to_owned(), values);
    }

    /// The APIs called, in order.
    pub(crate) fn calls(&self) -> Vec<&'static str> {
        self.state().calls.clone()
    }

    fn call(&self, api: &'static str) -> Result<(), AwsError> {
        let mut state = self.state();
        state.calls.push(api);
        if state.failing.iter().any(|f| f == api) {
            return Err(AwsError::new(api, "AccessDeniedException: not authorized"));
        }
        Ok(())
    }
}

/// The ECS lifecycle events with `running` in progress: those before it
/// succeeded, those after it pending.
pub(crate) fn lifecycle_events_during(running: &str) -> Vec<LifecycleEvent> {
    const ECS: [&str; 8] = [
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "AllowTestTraffic",
        "AfterAllowTestTraffic",
        "BeforeAllowTraffic",
        "AllowTraffic",
        "AfterAllowTraffic",
    ];
    let at = ECS.iter().position(|name| *name == running);
    ECS.iter()
        .enumerate()
        .map(|(i, name)| LifecycleEvent {
            name: (*name).to_owned(),
            status: match at.map(|at| i.cmp(&at)) {
                Some(std::cmp::Ordering::Less) => "Succeeded",
                Some(std::cmp::Ordering::Equal) => "InProgress",
                _ => "Pending",
            }
            .to_owned(),
        })
        .collect()
}

fn target(id: &str, state: &str, reason: Option<&str>) -> TargetHealth {
    TargetHealth {
        id: id.to_owned(),
        port: Some(80),
        state: state.to_owned(),
        reason: reason.map(str::to_owned),
    }
}

impl DeploymentReads for FakeCloud {
    async fn deployment(&self, _: &str) -> Result<DeploymentInfo, AwsError> {
        self.call("codedeploy:GetDeployment")?;
        Ok(DeploymentInfo {
            application: "app".to_owned(),
            group: "group".to_owned(),
            compute_platform: Some(self.state().platform.clone()),
            created_ms: Some(CREATED_MS),
        })
    }

    async fn deployment_group(&self, _: &str, _: &str) -> Result<DeploymentGroupInfo, AwsError> {
        self.call("codedeploy:GetDeploymentGroup")?;
        let alarms = self.deployment().alarms;
        let state = self.state();
        Ok(DeploymentGroupInfo {
            compute_platform: Some(state.platform.clone()),
            ecs_services: vec![("cluster".to_owned(), "svc".to_owned())],
            target_group_pairs: vec![TargetGroupPair {
                target_groups: vec!["blue".to_owned(), "green".to_owned()],
                prod_listeners: vec!["arn:listener/prod".to_owned()],
                test_listeners: state.test_listeners.clone(),
            }],
            alarms,
        })
    }

    async fn deployment_target(&self, _: &str) -> Result<DeploymentTarget, AwsError> {
        self.call("codedeploy:BatchGetDeploymentTargets")?;
        let task_sets = vec![
            DeploymentTaskSet {
                identifier: "ts-blue".to_owned(),
                label: Some("Blue".to_owned()),
                target_group: Some("blue".to_owned()),
                traffic_weight: 100.0,
            },
            DeploymentTaskSet {
                identifier: "ts-green".to_owned(),
                label: Some("Green".to_owned()),
                target_group: Some("green".to_owned()),
                traffic_weight: 0.0,
            },
        ];
        Ok(DeploymentTarget {
            task_sets,
            lifecycle_events: self.state().lifecycle_events.clone(),
        })
    }
}

/// The ECS-native service deployment of the fake: green is revision 2 on
/// target group `green` (the alternate), behind the test and production
/// listener rules.
pub(crate) const SERVICE_DEPLOYMENT: &str =
    "arn:aws:ecs:us-east-1:1:service-deployment/cluster/svc/dep-1";
const GREEN_REVISION: &str = "arn:aws:ecs:us-east-1:1:service-revision/cluster/svc/2";
const BLUE_TG: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/def";
const GREEN_TG: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/green/abc";

impl FakeCloud {
    /// The ECS-native deployment as discovery should find it (test listener).
    pub(crate) fn service_deployment_found(&self) -> Deployment {
        Deployment {
            application: String::new(),
            group: String::new(),
            green: GreenTasks::Revision {
                deployment_arn: SERVICE_DEPLOYMENT.to_owned(),
                revision_arn: GREEN_REVISION.to_owned(),
            },
            alarms: AlarmConfiguration::default(),
            lifecycle_events: Vec::new(),
            ..self.deployment()
        }
    }
}

impl ServiceDeploymentReads for FakeCloud {
    async fn service_deployment(&self, _: &str) -> Result<ServiceDeploymentInfo, AwsError> {
        self.call("ecs:DescribeServiceDeployments")?;
        let task_set = self.state().task_set.clone();
        let count = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
        Ok(ServiceDeploymentInfo {
            service_arn: "arn:aws:ecs:us-east-1:1:service/cluster/svc".to_owned(),
            cluster_arn: "arn:aws:ecs:us-east-1:1:cluster/cluster".to_owned(),
            target_revision_arn: Some(GREEN_REVISION.to_owned()),
            target_tasks: Some((count(task_set.desired), count(task_set.running))),
            status: "IN_PROGRESS".to_owned(),
            created_ms: Some(CREATED_MS),
        })
    }

    async fn service_revision(&self, _: &str) -> Result<Vec<RevisionLoadBalancer>, AwsError> {
        self.call("ecs:DescribeServiceRevisions")?;
        Ok(vec![RevisionLoadBalancer {
            target_group_arn: BLUE_TG.to_owned(),
            alternate_target_group_arn: Some(GREEN_TG.to_owned()),
            production_listener_rule: Some("arn:rule/prod".to_owned()),
            test_listener_rule: (!self.state().test_listeners.is_empty())
                .then(|| "arn:rule/test".to_owned()),
        }])
    }
}

impl BalancerReads for FakeCloud {
    async fn rule(&self, arn: &str) -> Result<ListenerRule, AwsError> {
        self.call("elasticloadbalancing:DescribeRules")?;
        let (listener, green_weight) = if arn.ends_with("prod") {
            ("arn:listener/prod", 0)
        } else {
            ("arn:listener/test", 100)
        };
        Ok(ListenerRule {
            listener_arn: listener.to_owned(),
            forwards: vec![
                (BLUE_TG.to_owned(), 100 - green_weight),
                (GREEN_TG.to_owned(), green_weight),
            ],
        })
    }

    async fn listener(&self, arn: &str) -> Result<Listener, AwsError> {
        self.call("elasticloadbalancing:DescribeListeners")?;
        let port = if arn.ends_with("prod") { 80 } else { 8080 };
        Ok(Listener {
            port,
            protocol: "HTTP".to_owned(),
            load_balancer_arn: "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/alb/123"
                .to_owned(),
        })
    }

    async fn load_balancer(&self, _: &str) -> Result<LoadBalancer, AwsError> {
        self.call("elasticloadbalancing:DescribeLoadBalancers")?;
        Ok(LoadBalancer {
            dns_name: "alb-123.us-east-1.elb.amazonaws.com".to_owned(),
            scheme: Some("internet-facing".to_owned()),
        })
    }

    async fn target_group_arn(&self, name: &str) -> Result<String, AwsError> {
        self.call("elasticloadbalancing:DescribeTargetGroups")?;
        Ok(match name {
            "blue" => BLUE_TG,
            _ => GREEN_TG,
        }
        .to_owned())
    }

    async fn target_health(&self, _: &str) -> Result<Vec<TargetHealth>, AwsError> {
        self.call("elasticloadbalancing:DescribeTargetHealth")?;
        let mut state = self.state();
        state.health_polls += 1;
        if state.heal_after.is_some_and(|n| state.health_polls > n) {
            for t in &mut state.targets {
                t.state = "healthy".to_owned();
                t.reason = None;
            }
        }
        Ok(state.targets.clone())
    }
}

impl TaskSetReads for FakeCloud {
    async fn task_set(&self, _: &str, _: &str, _: &str) -> Result<TaskSetState, AwsError> {
        self.call("ecs:DescribeTaskSets")?;
        Ok(self.state().task_set.clone())
    }
}

impl MetricReads for FakeCloud {
    async fn alarms(&self, names: &[String]) -> Result<Vec<AlarmState>, AwsError> {
        self.call("cloudwatch:DescribeAlarms")?;
        let mut state = self.state();
        state.alarm_looks += 1;
        if let Some((name, after)) = state.alarm_after.clone()
            && state.alarm_looks > after
        {
            state.alarms.insert(name, "ALARM".to_owned());
        }
        Ok(names
            .iter()
            .filter_map(|name| {
                state.alarms.get(name).map(|s| AlarmState {
                    name: name.clone(),
                    state: s.clone(),
                    reason: Some(
                        "Threshold Crossed: 1 datapoint [9.0] was greater than the threshold (5.0)"
                            .to_owned(),
                    ),
                })
            })
            .collect())
    }

    async fn series(&self, query: &MetricQuery, _: u64, _: u64) -> Result<Vec<f64>, AwsError> {
        self.call("cloudwatch:GetMetricData")?;
        let mut state = self.state();
        // A statistic by its metric's name (`name|target group dimension`
        // first, when staged so), an expression by its text.
        let key = match &query.source {
            MetricSource::Stat(stat) => {
                let on_group = stat
                    .dimensions
                    .iter()
                    .find(|(name, _)| name == "TargetGroup")
                    .map(|(_, group)| format!("{}|{group}", stat.metric));
                on_group
                    .filter(|key| state.metrics.contains_key(key) || state.series.contains_key(key))
                    .unwrap_or_else(|| stat.metric.clone())
            }
            MetricSource::Expression { expression, .. } => expression.clone(),
        };
        if let Some(series) = state.series.get(&key) {
            return Ok(series.clone());
        }
        let values = state.metrics.entry(key).or_default();
        let value = if values.len() > 1 {
            values.remove(0)
        } else {
            values.first().copied().flatten()
        };
        Ok(value.into_iter().collect())
    }
}

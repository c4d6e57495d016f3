//! The AWS ports: the few reads greenlight makes of CodeDeploy, ELBv2, ECS and
//! CloudWatch, as small traits returning plain values. The SDK adapter is the
//! `greenlight-aws` crate; tests use fakes or the real SDK against a local
//! emulator.

#[cfg(test)]
pub(crate) mod fake;

use std::future::Future;
use std::time::Duration;

/// An AWS read failed: which API, and what AWS said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{api} failed: {message}")]
pub struct AwsError {
    /// IAM-style action name, e.g. `codedeploy:GetDeploymentGroup`.
    pub api: &'static str,
    /// The error code and message.
    pub message: String,
}

impl AwsError {
    /// Whether retrying cannot help: the role lacks the permission.
    pub fn is_denied(&self) -> bool {
        ["AccessDenied", "UnauthorizedOperation", "not authorized"]
            .iter()
            .any(|m| self.message.contains(m))
    }

    /// An error for `api` with `message`, made one bounded line (see
    /// [`one_line`]): an AWS message may be a proxy's HTML page.
    pub fn new(api: &'static str, message: impl Into<String>) -> Self {
        AwsError {
            api,
            message: one_line(&message.into(), MAX_MESSAGE_CHARS),
        }
    }
}

/// Longest AWS error message kept, in characters.
pub const MAX_MESSAGE_CHARS: usize = 300;

/// `text` on one line of at most `max` characters (and `…` when cut):
/// control characters and runs of whitespace become one space, so that an
/// error body cannot break or flood a log line.
pub fn one_line(text: &str, max: usize) -> String {
    let mut line = String::with_capacity(text.len().min(max + 4));
    let mut kept = 0;
    let mut space = false;
    for c in text.trim().chars() {
        if c.is_whitespace() || c.is_control() {
            space = true;
            continue;
        }
        if kept + usize::from(space) + 1 > max {
            line.push('…');
            return line;
        }
        if space {
            line.push(' ');
            kept += 1;
            space = false;
        }
        line.push(c);
        kept += 1;
    }
    line
}

/// What `GetDeployment` tells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentInfo {
    /// CodeDeploy application.
    pub application: String,
    /// Deployment group.
    pub group: String,
    /// `ECS`, `Lambda` or `Server`.
    pub compute_platform: Option<String>,
    /// When the deployment was created (Unix epoch milliseconds): where a
    /// baseline of blue before the deployment ends.
    pub created_ms: Option<u64>,
}

/// What `GetDeploymentGroup` tells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentGroupInfo {
    /// `ECS`, `Lambda` or `Server`.
    pub compute_platform: Option<String>,
    /// (cluster, service) pairs.
    pub ecs_services: Vec<(String, String)>,
    /// The blue/green target group pairs with their listeners.
    pub target_group_pairs: Vec<TargetGroupPair>,
    /// The group's alarm configuration.
    pub alarms: AlarmConfiguration,
}

/// A target group pair of an ECS deployment group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetGroupPair {
    /// The two target group names.
    pub target_groups: Vec<String>,
    /// Production listener ARNs.
    pub prod_listeners: Vec<String>,
    /// Test listener ARNs.
    pub test_listeners: Vec<String>,
}

/// A deployment group's alarms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlarmConfiguration {
    /// Whether CodeDeploy itself watches them.
    pub enabled: bool,
    /// Whether CodeDeploy goes on when it cannot read them.
    pub ignore_poll_alarm_failure: bool,
    /// Alarm names.
    pub names: Vec<String>,
}

/// An ECS task set of the deployment, as CodeDeploy sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeploymentTaskSet {
    /// Task set ID.
    pub identifier: String,
    /// `Blue` or `Green`.
    pub label: Option<String>,
    /// Its target group's name.
    pub target_group: Option<String>,
    /// Share of production traffic, percent.
    pub traffic_weight: f64,
}

/// One lifecycle event of the deployment's target, e.g. `AfterAllowTraffic`
/// `InProgress`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifecycleEvent {
    /// `lifecycleEventName`.
    pub name: String,
    /// `Pending`, `InProgress`, `Succeeded`, `Failed`, `Skipped` or `Unknown`.
    pub status: String,
}

/// The deployment's ECS target, as `BatchGetDeploymentTargets` describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeploymentTarget {
    /// Blue and green.
    pub task_sets: Vec<DeploymentTaskSet>,
    /// The target's lifecycle events, in order.
    pub lifecycle_events: Vec<LifecycleEvent>,
}

/// An ELBv2 listener.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listener {
    /// Port.
    pub port: u16,
    /// `HTTP`, `HTTPS`, …
    pub protocol: String,
    /// Its load balancer.
    pub load_balancer_arn: String,
}

/// An ELBv2 load balancer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadBalancer {
    /// Public or private DNS name.
    pub dns_name: String,
    /// `internet-facing` or `internal`.
    pub scheme: Option<String>,
}

/// One target's health in a target group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetHealth {
    /// Target ID (IP or instance).
    pub id: String,
    /// Target port.
    pub port: Option<i32>,
    /// `healthy`, `unhealthy`, `initial`, `draining`, `unused`, `unavailable`.
    pub state: String,
    /// Reason code, e.g. `Target.FailedHealthChecks`.
    pub reason: Option<String>,
}

/// An ECS task set's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskSetState {
    /// `ACTIVE`, `PRIMARY` or `DRAINING`.
    pub status: Option<String>,
    /// `STEADY_STATE` or `STABILIZING`.
    pub stability: Option<String>,
    /// Tasks wanted.
    pub desired: i64,
    /// Tasks running.
    pub running: i64,
    /// Tasks pending.
    pub pending: i64,
}

/// A CloudWatch alarm's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlarmState {
    /// Alarm name.
    pub name: String,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: String,
    /// Why, as CloudWatch says.
    pub reason: Option<String>,
}

/// One CloudWatch metric statistic: what a metric gate reads, or one of the
/// named metrics its expression combines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricStat {
    /// Namespace.
    pub namespace: String,
    /// Metric name.
    pub metric: String,
    /// Statistic (`Sum`, `p99`…).
    pub stat: String,
    /// Dimensions (in a plan, values may hold placeholders).
    pub dimensions: Vec<(String, String)>,
}

/// What a metric gate's value is: exactly one statistic, or metric math
/// over named statistics that CloudWatch evaluates (`100 * e / r`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricSource {
    /// One statistic.
    Stat(MetricStat),
    /// A metric math expression over the named statistics.
    Expression {
        /// The expression, e.g. `100 * e / r`.
        expression: String,
        /// Each name the expression uses (a CloudWatch query `Id`), with its
        /// statistic.
        metrics: Vec<(String, MetricStat)>,
    },
}

impl Default for MetricSource {
    fn default() -> Self {
        MetricSource::Stat(MetricStat::default())
    }
}

impl std::fmt::Display for MetricSource {
    /// `Sum of HTTPCode_Target_5XX_Count`, or `(100 * e / r)`: how a verdict
    /// line says what was read.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetricSource::Stat(stat) => write!(f, "{}", stat.stat),
            MetricSource::Expression { expression, .. } => write!(f, "({expression})"),
        }
    }
}

/// The query `Id` of an expression's own result; a gate may not name a
/// metric so.
pub const EXPRESSION_ID: &str = "greenlight";

/// A metric gate's read, placeholders filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricQuery {
    /// What to read.
    pub source: MetricSource,
    /// Period in seconds.
    pub period_s: u32,
}

/// What `DescribeServiceDeployments` tells of an ECS-native (blue/green)
/// service deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceDeploymentInfo {
    /// The service's ARN.
    pub service_arn: String,
    /// The cluster's ARN.
    pub cluster_arn: String,
    /// The service revision being deployed: green.
    pub target_revision_arn: Option<String>,
    /// Green's tasks: (requested, running).
    pub target_tasks: Option<(i32, i32)>,
    /// `PENDING`, `IN_PROGRESS`, `SUCCESSFUL`, `ROLLBACK_IN_PROGRESS`, …
    pub status: String,
    /// When the service deployment was created (Unix epoch milliseconds).
    pub created_ms: Option<u64>,
}

/// A load balancer of a service revision, with the blue/green routing ECS
/// manages (`advancedConfiguration`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevisionLoadBalancer {
    /// The primary target group.
    pub target_group_arn: String,
    /// The alternate target group.
    pub alternate_target_group_arn: Option<String>,
    /// The production listener rule.
    pub production_listener_rule: Option<String>,
    /// The test listener rule.
    pub test_listener_rule: Option<String>,
}

/// An ELBv2 listener rule: its listener, and the weighted target groups it
/// forwards to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenerRule {
    /// Its listener's ARN.
    pub listener_arn: String,
    /// (target group ARN, weight) of its forward action.
    pub forwards: Vec<(String, i32)>,
}

/// CodeDeploy reads.
pub trait DeploymentReads: Send + Sync {
    /// `GetDeployment`.
    fn deployment(
        &self,
        deployment_id: &str,
    ) -> impl Future<Output = Result<DeploymentInfo, AwsError>> + Send;
    /// `GetDeploymentGroup`.
    fn deployment_group(
        &self,
        application: &str,
        group: &str,
    ) -> impl Future<Output = Result<DeploymentGroupInfo, AwsError>> + Send;
    /// `ListDeploymentTargets` + `BatchGetDeploymentTargets`: the ECS
    /// target's task sets and lifecycle events.
    fn deployment_target(
        &self,
        deployment_id: &str,
    ) -> impl Future<Output = Result<DeploymentTarget, AwsError>> + Send;
}

/// ECS-native blue/green reads.
pub trait ServiceDeploymentReads: Send + Sync {
    /// `DescribeServiceDeployments` for one deployment.
    fn service_deployment(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<ServiceDeploymentInfo, AwsError>> + Send;
    /// `DescribeServiceRevisions` for one revision: its load balancers.
    fn service_revision(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Vec<RevisionLoadBalancer>, AwsError>> + Send;
}

/// ELBv2 reads.
pub trait BalancerReads: Send + Sync {
    /// `DescribeRules` for one rule.
    fn rule(&self, arn: &str) -> impl Future<Output = Result<ListenerRule, AwsError>> + Send;
    /// `DescribeListeners` for one listener.
    fn listener(&self, arn: &str) -> impl Future<Output = Result<Listener, AwsError>> + Send;
    /// `DescribeLoadBalancers` for one load balancer.
    fn load_balancer(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<LoadBalancer, AwsError>> + Send;
    /// `DescribeTargetGroups` by name: the ARN.
    fn target_group_arn(&self, name: &str)
    -> impl Future<Output = Result<String, AwsError>> + Send;
    /// `DescribeTargetHealth`.
    fn target_health(
        &self,
        target_group_arn: &str,
    ) -> impl Future<Output = Result<Vec<TargetHealth>, AwsError>> + Send;
}

/// ECS reads.
pub trait TaskSetReads: Send + Sync {
    /// `DescribeTaskSets` for one task set.
    fn task_set(
        &self,
        cluster: &str,
        service: &str,
        task_set: &str,
    ) -> impl Future<Output = Result<TaskSetState, AwsError>> + Send;
}

/// CloudWatch reads.
/// The most per-period values one read returns: a day of one-minute
/// periods, enough for any comparison and bounded whatever the window.
pub const MAX_SERIES: usize = 1440;

pub trait MetricReads: Send + Sync {
    /// `DescribeAlarms` (metric and composite) by name; unknown names are absent.
    fn alarms(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<AlarmState>, AwsError>> + Send;
    /// `GetMetricData`: the value of each period from `from_ms` to `to_ms`
    /// (Unix epoch milliseconds) that has one, newest first, at most
    /// [`MAX_SERIES`] of them.
    fn series(
        &self,
        query: &MetricQuery,
        from_ms: u64,
        to_ms: u64,
    ) -> impl Future<Output = Result<Vec<f64>, AwsError>> + Send;

    /// The latest value from `from_ms` to `to_ms`, if any.
    fn between(
        &self,
        query: &MetricQuery,
        from_ms: u64,
        to_ms: u64,
    ) -> impl Future<Output = Result<Option<f64>, AwsError>> + Send {
        async move {
            self.series(query, from_ms, to_ms)
                .await
                .map(|values| values.first().copied())
        }
    }

    /// The latest value within `window` before now, if any.
    fn latest(
        &self,
        query: &MetricQuery,
        window: Duration,
    ) -> impl Future<Output = Result<Option<f64>, AwsError>> + Send {
        let to_ms = crate::time::now_ms();
        let from_ms = to_ms.saturating_sub(u64::try_from(window.as_millis()).unwrap_or(u64::MAX));
        self.between(query, from_ms, to_ms)
    }
}

/// Where a spec kept in SSM Parameter Store comes from (read once, at cold
/// start, so that the spec can change without redeploying the functions).
pub trait ParameterReads: Send + Sync {
    /// The decrypted value of parameter `name` (a name or an ARN).
    fn parameter(&self, name: &str) -> impl Future<Output = Result<String, AwsError>> + Send;
}

/// Where a spec kept in S3 comes from (read once, at cold start), for a spec
/// larger than an SSM parameter of the standard tier holds.
pub trait ObjectReads: Send + Sync {
    /// The bytes of object `key` in `bucket` (`GetObject`), read no further
    /// than `limit` + 1 bytes: a longer answer shows the object is too large,
    /// and the rest of it is never read.
    fn object(
        &self,
        bucket: &str,
        key: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<u8>, AwsError>> + Send;
}

/// All the AWS reads, as one bound.
pub trait Cloud:
    DeploymentReads + ServiceDeploymentReads + BalancerReads + TaskSetReads + MetricReads
{
}

impl<T> Cloud for T where
    T: DeploymentReads + ServiceDeploymentReads + BalancerReads + TaskSetReads + MetricReads
{
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_html_error_page_becomes_one_bounded_line() {
        // GIVEN a proxy's error page, lines and all
        let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\t<h1>502</h1>\u{7}\r\n</body>\r\n</html>\r\n";
        // WHEN it becomes an AWS error's message
        let error = AwsError::new("cloudwatch:GetMetricData", page);
        // THEN it is one line, whitespace and control characters collapsed
        assert_eq!(
            error.message,
            "<html> <head><title>502 Bad Gateway</title></head> <body> <h1>502</h1> </body> </html>"
        );
    }

    #[test]
    fn a_long_message_is_cut_with_a_mark() {
        let long = "x".repeat(1000);
        let error = AwsError::new("ecs:DescribeTaskSets", long);
        assert_eq!(error.message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(error.message.ends_with('…'));
        assert_eq!(one_line("a  b", 3), "a b");
        assert_eq!(one_line("a  bc", 3), "a b…");
    }
}

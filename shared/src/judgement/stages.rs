//! The stages of a judgement, one function each, in the order they run (see
//! [`super::run`]). Each announces itself to the progress port, logs what it
//! found, and returns a typed outcome: a result for the verdict, or a
//! [`StageFailure`] that ends the judgement.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;
use tracing::{info, warn};

use super::aim::{AimError, aim as aim_at};
use super::{BakeNow, Context, Green, Ports};
use crate::check::{CheckResult, Outcome};
use crate::cloud::Cloud;
use crate::discovery::{
    Deployment, DiscoveryError, discover as discover_deployment, discover_service_deployment,
    listener_of,
};
use crate::engine::run_checks;
use crate::gate::GateQuery;
use crate::gate::{
    ALARMS, BAKE, Baked, bake as bake_gates, check_alarms, metric_query, nothing_to_watch,
};
use crate::lifecycle::{self, LifecycleError};
use crate::plan::{Check, MetricGate, Plan};
use crate::probe::HttpProbe;
use crate::progress::Progress;
use crate::readiness::{READINESS, await_ready_after};
use crate::spec::ListenerChoice;
use crate::stage::{NotRun, Stage};

/// Less time than this before the stop time is none: no AWS read fits in it.
const MIN_STAGE_TIME: Duration = Duration::from_millis(100);

/// Why a judgement ended at a stage, before any verdict of its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageFailure {
    /// The deployment could not be read, or is not one greenlight gates.
    Discovery(DiscoveryError),
    /// AWS did not answer discovery's reads before the stop time.
    DiscoveryTimedOut,
    /// The deployment is not in this hook's lifecycle event.
    Lifecycle(LifecycleError),
    /// The checks have nowhere to go.
    Aim(AimError),
    /// A check's URL cannot be joined to the target.
    Rebase(String),
}

impl StageFailure {
    /// The stage that failed.
    pub fn stage(&self) -> Stage {
        match self {
            StageFailure::Discovery(_) | StageFailure::DiscoveryTimedOut => Stage::Discovery,
            StageFailure::Lifecycle(_) => Stage::Lifecycle,
            StageFailure::Aim(_) | StageFailure::Rebase(_) => Stage::Target,
        }
    }
}

impl fmt::Display for StageFailure {
    /// `stage: problem`, the stage by its name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.stage().name())?;
        match self {
            StageFailure::Discovery(problem) => problem.fmt(f),
            StageFailure::DiscoveryTimedOut => {
                f.write_str("AWS did not answer before the hook had to report")
            }
            StageFailure::Lifecycle(wrong) => wrong.fmt(f),
            StageFailure::Aim(problem) => problem.fmt(f),
            StageFailure::Rebase(problem) => f.write_str(problem),
        }
    }
}

impl std::error::Error for StageFailure {}

/// Time left before `stop_at`.
fn left(stop_at: Instant) -> Duration {
    stop_at.saturating_duration_since(Instant::now())
}

/// Whether a stage starting now would have no time to run.
fn no_time_left(stop_at: Instant) -> bool {
    left(stop_at) < MIN_STAGE_TIME
}

/// discover: the deployment, when green is one and the plan needs it, in
/// this hook's lifecycle event.
pub(super) async fn discover<P, C: Cloud, G: Progress>(
    plan: &Plan,
    context: &Context,
    ports: Ports<'_, P, C, G>,
) -> Result<Option<Deployment>, StageFailure> {
    let hook = context.hook;
    if matches!(context.green, Green::Url(_)) || !plan.needs_discovery(hook) {
        return Ok(None);
    }
    ports
        .progress
        .started(Stage::Discovery, left(context.stop_at));
    let listener = plan
        .target
        .url
        .is_none()
        .then(|| plan.target.listener.unwrap_or(hook.own_listener()));
    let found = match &context.green {
        Green::Url(_) => return Ok(None),
        Green::Deployment { id } => {
            let found = tokio::time::timeout_at(
                context.stop_at,
                discover_deployment(ports.cloud, id, listener),
            )
            .await
            .map_err(|_| StageFailure::DiscoveryTimedOut)?
            .map_err(StageFailure::Discovery)?;
            log_deployment(&found);
            // The event does not say which lifecycle event it is for: a hook
            // wired to the wrong one would gate the wrong moment.
            lifecycle::verify(hook, &found.lifecycle_events).map_err(StageFailure::Lifecycle)?;
            found
        }
        // The ECS event names its stage, so there is no lifecycle to verify;
        // green is the target group the hook's own listener sends to.
        Green::ServiceDeployment { arn } => {
            let found = tokio::time::timeout_at(
                context.stop_at,
                discover_service_deployment(ports.cloud, arn, hook.own_listener(), listener),
            )
            .await
            .map_err(|_| StageFailure::DiscoveryTimedOut)?
            .map_err(StageFailure::Discovery)?;
            log_deployment(&found);
            found
        }
    };
    let mut found = found;
    for listener in plan.listeners_to_discover(hook) {
        if found
            .endpoint
            .as_ref()
            .is_some_and(|e| e.listener == listener)
        {
            continue;
        }
        let endpoint =
            tokio::time::timeout_at(context.stop_at, listener_of(ports.cloud, &found, listener))
                .await
                .map_err(|_| StageFailure::DiscoveryTimedOut)?
                .map_err(StageFailure::Discovery)?;
        found.named_endpoints.push(endpoint);
    }
    Ok(Some(found))
}

/// ready: green's task set and targets, when the plan waits for them. With
/// green given as a URL there is nothing to wait on, which fails.
pub(super) async fn ready<P, C: Cloud, G: Progress>(
    plan: &Plan,
    context: &Context,
    deployment: Option<&Deployment>,
    ports: Ports<'_, P, C, G>,
) -> Option<CheckResult> {
    let policy = plan.readiness?;
    let result = match (deployment, &context.green) {
        (Some(found), _) => {
            let time_left = left(context.stop_at);
            ports.progress.started(Stage::Readiness, time_left);
            ports
                .progress
                .waiting(Stage::Readiness, policy.timeout.min(time_left));
            await_ready_after(ports.cloud, found, policy, context.stop_at, context.earlier).await
        }
        (None, Green::Url(_)) => CheckResult::failed(
            READINESS,
            "needs a deployment to wait for, and green was given as a URL: turn readiness off in the spec, or judge a deployment".to_owned(),
            Duration::ZERO,
        ),
        // A plan with readiness always discovers a deployment.
        (None, Green::Deployment { .. } | Green::ServiceDeployment { .. }) => return None,
    };
    log_check(&result);
    Some(result)
}

/// Where the checks go, and the checks rebased onto it.
pub(super) struct Aimed<P> {
    /// The hook's checks, their URLs joined to the target.
    checks: Vec<Check>,
    /// A probe pinned to `target.host`'s address, if any.
    probe: Option<P>,
}

/// aim: the checks' base URL (the one given, the spec's, or the discovered
/// listener's) and the checks rebased onto it.
pub(super) async fn aim<P: HttpProbe, C, G: Progress>(
    plan: &Plan,
    context: &Context,
    checks: &[&Check],
    deployment: Option<&Deployment>,
    ports: Ports<'_, P, C, G>,
) -> Result<Aimed<P>, StageFailure> {
    ports.progress.started(Stage::Target, left(context.stop_at));
    let url = match &context.green {
        Green::Url(url) => Some(url),
        Green::Deployment { .. } | Green::ServiceDeployment { .. } => plan.target.url.as_ref(),
    };
    let target = aim_at(ports.http, plan, url, deployment, context.stop_at)
        .await
        .map_err(StageFailure::Aim)?;
    let own = plan.target.listener.unwrap_or(context.hook.own_listener());
    let base_of = |listener: ListenerChoice| {
        if let Some(url) = plan.target.listener_urls.of(listener) {
            return Some(url.clone());
        }
        if listener == own {
            return Some(target.base.clone());
        }
        let endpoint = deployment?
            .named_endpoints
            .iter()
            .find(|e| e.listener == listener)?;
        let mut url = endpoint.url().ok()?;
        // The same load balancer: spoken to by the same name.
        if let Some(host) = &plan.target.host {
            url.set_host(Some(host)).ok()?;
        }
        Some(url)
    };
    let checks = checks
        .iter()
        .map(|check| check.rebased(context.hook, own, base_of))
        .collect::<Result<Vec<Check>, _>>()
        .map_err(|problem| StageFailure::Rebase(problem.to_string()))?;
    Ok(Aimed {
        checks,
        probe: target.probe,
    })
}

/// checks: the HTTP checks, at most `plan.concurrency` at a time.
pub(super) async fn checks<P: HttpProbe, C, G: Progress>(
    plan: &Plan,
    context: &Context,
    aimed: &Aimed<P>,
    ports: Ports<'_, P, C, G>,
) -> Vec<CheckResult> {
    ports.progress.started(Stage::Checks, left(context.stop_at));
    let checks: Vec<&Check> = aimed.checks.iter().collect();
    let probe = aimed.probe.as_ref().unwrap_or(ports.http);
    let outcomes = run_checks(
        &checks,
        probe,
        plan.concurrency,
        context.stop_at,
        &plan.redactor,
    )
    .await;
    outcomes.iter().for_each(log_check);
    outcomes
}

/// The alarms to watch: the deployment group's (if enabled there and in the
/// spec) and the spec's own.
pub(super) fn alarm_names(plan: &Plan, deployment: Option<&Deployment>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if plan.alarms.deployment_group
        && let Some(found) = deployment
        && found.alarms.enabled
    {
        names.extend(found.alarms.names.iter().cloned());
    }
    for name in &plan.alarms.names {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

/// alarms: one look at `alarms` after the checks. A look whose turn comes
/// after the stop time does not run and says so; `last_ran` becomes
/// [`Stage::Alarms`] when it runs. With green given as a URL, the deployment
/// group's alarms cannot be known, which fails.
pub(super) async fn alarms<P, C: Cloud, G: Progress>(
    plan: &Plan,
    context: &Context,
    alarms: &[String],
    last_ran: &mut Stage,
    ports: Ports<'_, P, C, G>,
) -> Option<CheckResult> {
    let group_unknown = plan.alarms.deployment_group && matches!(context.green, Green::Url(_));
    if alarms.is_empty() && !group_unknown {
        return None;
    }
    let gate = if group_unknown {
        CheckResult::failed(
            ALARMS,
            "the deployment group's alarms need a deployment, and green was given as a URL: set alarms.deployment_group to false in the spec, or judge a deployment".to_owned(),
            Duration::ZERO,
        )
    } else if no_time_left(context.stop_at) {
        NotRun::NoTimeLeft { after: *last_ran }.result(Stage::Alarms)
    } else {
        *last_ran = Stage::Alarms;
        ports.progress.started(Stage::Alarms, left(context.stop_at));
        tokio::time::timeout_at(
            context.stop_at,
            check_alarms(ports.cloud, alarms, plan.alarms.fail_if_unreadable),
        )
        .await
        .unwrap_or_else(|_| {
            CheckResult::failed(
                ALARMS,
                "CloudWatch did not answer before the hook had to report".to_owned(),
                Duration::ZERO,
            )
        })
    };
    log_check(&gate);
    Some(gate)
}

/// bake (AfterAllowTraffic, when the plan bakes): alarms and metrics watched
/// for the bake's duration. It does not run after a failure (it would only
/// delay the rollback by its whole duration) nor when the stop time has come.
pub(super) async fn bake<P, C: Cloud, G: Progress>(
    plan: &Plan,
    context: &Context,
    alarms: &[String],
    deployment: Option<&Deployment>,
    results: &[CheckResult],
    (last_ran, now): (Stage, BakeNow),
    ports: Ports<'_, P, C, G>,
) -> Option<Baked> {
    let bake_plan = plan.bake.as_ref().filter(|b| b.hook == context.hook)?;
    let stop_at = context.stop_at;
    let only = |result| Baked {
        result,
        warnings: Vec::new(),
    };
    let baked = if no_time_left(stop_at) {
        only(NotRun::NoTimeLeft { after: last_ran }.result(Stage::Bake))
    } else if results.iter().any(|r| !r.passed()) {
        only(NotRun::EarlierStageFailed.result(Stage::Bake))
    } else if let Some(why) = nothing_to_watch(bake_plan, alarms, deployment) {
        only(CheckResult::failed(BAKE, why, Duration::ZERO))
    } else {
        let queries: Result<Vec<(MetricGate, GateQuery)>, String> = bake_plan
            .metrics
            .iter()
            .map(|gate| metric_query(gate, deployment).map(|q| (gate.clone(), q)))
            .collect();
        match queries {
            Ok(_) if now == BakeNow::Later => return None,
            Ok(queries) => {
                let time_left = left(stop_at);
                ports.progress.started(Stage::Bake, time_left);
                ports
                    .progress
                    .waiting(Stage::Bake, bake_plan.duration.min(time_left));
                let baked = bake_gates(
                    ports.cloud,
                    bake_plan,
                    alarms,
                    plan.alarms.fail_if_unreadable,
                    &queries,
                    stop_at,
                )
                .await;
                let redact = |text: &str| plan.redactor.redact(text);
                let warnings = baked
                    .warnings
                    .iter()
                    .map(|w| redact(&format!("{BAKE}: {w}")))
                    .collect();
                let mut result = baked.result;
                for assertion in &mut result.assertions {
                    assertion.actual = redact(&assertion.actual);
                }
                Baked { result, warnings }
            }
            Err(problem) => only(CheckResult::failed(BAKE, problem, Duration::ZERO)),
        }
    };
    log_check(&baked.result);
    Some(baked)
}

/// What discovery found, once per judgement.
fn log_deployment(found: &Deployment) {
    let (listener, url) = found
        .endpoint
        .as_ref()
        .map(|e| {
            (
                e.listener.to_string(),
                format!("{}://{}:{}", e.scheme, e.dns_name, e.port),
            )
        })
        .unwrap_or_default();
    info!(
        application = %found.application,
        deployment_group = %found.group,
        cluster = %found.cluster,
        service = %found.service,
        green = %found.green,
        green_target_group = %found.green_target_group,
        lifecycle_event = %found
            .lifecycle_events
            .iter()
            .find(|e| e.status == lifecycle::IN_PROGRESS)
            .map_or("(none in progress)", |e| e.name.as_str()),
        listener = %listener,
        url = %url,
        group_alarms = %if found.alarms.enabled { found.alarms.names.join(", ") } else { "(alarm configuration disabled)".to_owned() },
        "deployment discovered"
    );
}

/// One structured line per check result.
pub(super) fn log_check(result: &CheckResult) {
    let reason = result.reason.as_deref().unwrap_or("");
    if result.outcome == Outcome::Skipped {
        info!(check = %result.name, outcome = result.outcome.as_str(), reason = %reason, "check skipped");
    } else if let Some(flow) = &result.flow {
        // A flow's line says where each step went, which failed, and what
        // was captured (secrets redacted).
        let steps = flow.steps_line();
        let captured = flow.captured_line().unwrap_or_default();
        if result.passed() {
            info!(check = %result.name, outcome = result.outcome.as_str(), steps = %steps, captured = %captured, expected = %result.expected(), actual = %result.actual(), attempts = result.attempts, duration_ms = result.duration_ms, "check passed");
        } else {
            warn!(check = %result.name, outcome = result.outcome.as_str(), steps = %steps, failed_step = %flow.failed().unwrap_or_default(), captured = %captured, expected = %result.expected(), actual = %result.actual(), attempts = result.attempts, duration_ms = result.duration_ms, reason = %reason, "check failed");
        }
    } else if result.passed() {
        info!(check = %result.name, outcome = result.outcome.as_str(), expected = %result.expected(), actual = %result.actual(), attempts = result.attempts, duration_ms = result.duration_ms, "check passed");
    } else {
        warn!(check = %result.name, outcome = result.outcome.as_str(), expected = %result.expected(), actual = %result.actual(), attempts = result.attempts, duration_ms = result.duration_ms, reason = %reason, "check failed");
    }
}

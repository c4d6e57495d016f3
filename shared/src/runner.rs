//! One hook invocation from event to report: parse, judge, log, report.
//! Everything that can go wrong after the event is parsed ends in a `Failed`
//! verdict that is still reported.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::FutureExt;

use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use tokio::time::Instant;
use tracing::{Instrument, error, info, info_span, warn};

use crate::check::{CheckResult, Outcome, millis};
use crate::cloud::{Cloud, MetricQuery};
use crate::discovery::{Deployment, discover};
use crate::engine::{panic_message, run_checks};
use crate::event::HookEvent;
use crate::gate::{ALARMS, BAKE, bake, check_alarms, metric_query, nothing_to_watch};
use crate::guard::Pending;
use crate::hook::Hook;
use crate::invocation_error::InvocationError;
use crate::lifecycle;
use crate::plan::{Check, MetricGate, Plan};
use crate::probe::HttpProbe;
use crate::readiness::await_ready;
use crate::report::{Delivery, ReportFailure, StatusReporter, deliver};
use crate::settings::{REPORT_MARGIN_VAR, Settings};
use crate::spec::ListenerChoice;
use crate::stage::{NotRun, Stage};
use crate::verdict::{Status, Verdict};

mod aim;
#[cfg(feature = "aws")]
mod cold_start;

use aim::aim;

/// Kept back from the deadline even for the report itself: the runtime still
/// has to post the invocation result.
const FINAL_SAFETY: Duration = Duration::from_millis(150);
/// The engine's guard for a check that ignores its deadline (see `engine`).
const CHECK_GUARD: Duration = Duration::from_millis(250);

/// A hook function's state, built once per cold start.
#[derive(Debug)]
pub struct HookRunner<P, R, C> {
    hook: Hook,
    settings: Settings,
    probe: P,
    reporter: R,
    cloud: C,
    pending: Pending,
}

impl<P: HttpProbe, R: StatusReporter, C: Cloud> HookRunner<P, R, C> {
    /// Assembles a runner from its parts.
    pub fn new(hook: Hook, settings: Settings, probe: P, reporter: R, cloud: C) -> Self {
        match &settings.plan {
            Ok(plan) => {
                let panic = if cfg!(panic = "abort") {
                    "abort"
                } else {
                    "unwind"
                };
                info!(hook = %hook, checks = plan.checks_for(hook).len(), panic, "greenlight hook ready");
            }
            Err(reason) => {
                error!(hook = %hook, reason = %reason, "greenlight cannot run its checks; every invocation will report Failed")
            }
        }
        if settings.dry_run {
            warn!(hook = %hook, "DRY RUN: verdicts are logged but Succeeded is always reported");
        }
        HookRunner {
            hook,
            settings,
            probe,
            reporter,
            cloud,
            pending: Pending::default(),
        }
    }

    /// Handles one Lambda invocation. Errs only when the event is unusable or
    /// the status could not be reported.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, InvocationError> {
        let deadline = deadline_instant(event.context.deadline);
        tracing::debug!(
            deadline_ms = event.context.deadline,
            time_left_ms = millis(deadline.saturating_duration_since(Instant::now())),
            "invocation"
        );
        let parsed = match HookEvent::parse(&event.payload) {
            Ok(parsed) => parsed,
            Err(problem) => {
                error!(hook = %self.hook, error = %problem, "not a CodeDeploy lifecycle hook event; nothing to report to");
                return Err(problem.into());
            }
        };
        let span = info_span!("hook", hook = %self.hook, deployment_id = %parsed.deployment_id);
        let until = deadline.checked_sub(FINAL_SAFETY).unwrap_or(deadline);
        self.pending.begin(&parsed, until, self.settings.dry_run);
        let outcome = AssertUnwindSafe(self.run(parsed, until).instrument(span.clone()))
            .catch_unwind()
            .await;
        match outcome {
            Ok(result) => result,
            Err(panic) => {
                self.report_after_panic(panic_message(panic.as_ref()))
                    .instrument(span)
                    .await
            }
        }
    }

    /// A panic outside the checks: if nobody has reported yet, report a
    /// `Failed` verdict as the normal path would (`Succeeded` in dry run).
    async fn report_after_panic(&self, message: String) -> Result<Value, InvocationError> {
        let Some(in_flight) = self.pending.take() else {
            error!(panic = %message, "greenlight panicked after reporting");
            return Err(InvocationError::PanicAfterReport(message));
        };
        let (status, note) = (in_flight.status(), in_flight.note());
        error!(panic = %message, status = %status, dry_run = in_flight.dry_run, "greenlight panicked before reporting; reporting {status}{note}");
        let verdict = Verdict::failed(self.hook, format!("greenlight panicked: {message}"));
        let delivered = deliver(&self.reporter, &in_flight.event, status, in_flight.until).await;
        self.answer(&in_flight.event, verdict, status, delivered)
    }

    /// Judges, logs and reports; `until` is when the report must be done.
    async fn run(&self, event: HookEvent, until: Instant) -> Result<Value, InvocationError> {
        let started = Instant::now();
        let verdict = self.judge(&event, until).await;
        let verdict = match &self.settings.plan {
            Ok(plan) => verdict.redacted(&plan.redactor),
            Err(_) => verdict,
        };
        let reported = verdict.status.to_report(self.settings.dry_run);
        log_verdict(&event, &verdict, self.settings.dry_run, started.elapsed());
        // Should this panic, the guard reports again: a status that already got
        // through then comes back as "already completed", which is fine.
        let delivered = deliver(&self.reporter, &event, reported, until).await;
        self.pending.take();
        self.answer(&event, verdict, reported, delivered)
    }

    /// Logs how the report of `reported` for `verdict` ended and answers the
    /// runtime with what was actually sent.
    fn answer(
        &self,
        event: &HookEvent,
        verdict: Verdict,
        reported: Status,
        delivered: Result<(Delivery, u32), ReportFailure>,
    ) -> Result<Value, InvocationError> {
        let dry_run = self.settings.dry_run;
        match delivered {
            Ok((delivery, attempts)) => {
                info!(status = %reported, delivery = ?delivery, attempts, dry_run, "reported to CodeDeploy");
                Ok(json!({
                    "deploymentId": event.deployment_id,
                    "hook": self.hook,
                    "reported": reported,
                    "delivery": delivery,
                    "dryRun": dry_run,
                    "verdict": verdict,
                }))
            }
            Err(failure) => {
                error!(status = %reported, attempts = failure.attempts, error = %failure.last_error, "could not report to CodeDeploy; the deployment waits for its timeout");
                Err(failure.into())
            }
        }
    }

    /// Runs the hook's checks within the time before `until`, less the
    /// report margin, and derives the verdict: discovery, readiness, the HTTP
    /// checks, then the alarm gates and (AfterAllowTraffic) the bake.
    pub async fn judge(&self, event: &HookEvent, until: Instant) -> Verdict {
        let hook = self.hook;
        let plan = match &self.settings.plan {
            Ok(plan) => plan,
            Err(reason) => return Verdict::failed(hook, format!("configuration: {reason}")),
        };
        let checks = plan.checks_for(hook);
        crate::fault_injection::runner_panic(checks.iter().map(|check| check.name.as_str()));
        if checks.is_empty() {
            return Verdict::from_checks(hook, Vec::new());
        }
        let left = until.saturating_duration_since(Instant::now());
        let Some(stop_at) = until
            .checked_sub(self.settings.report_margin + CHECK_GUARD)
            .filter(|at| *at > Instant::now())
        else {
            return Verdict::failed(
                hook,
                format!(
                    "only {} ms left before the Lambda deadline, within the report margin ({REPORT_MARGIN_VAR}={}): raise the function's timeout",
                    left.as_millis(),
                    self.settings.report_margin.as_millis()
                ),
            );
        };
        let deployment = if plan.needs_discovery(hook) {
            let listener = plan
                .target
                .url
                .is_none()
                .then(|| plan.target.listener.unwrap_or(default_listener(hook)));
            match tokio::time::timeout_at(
                stop_at,
                discover(&self.cloud, &event.deployment_id, listener),
            )
            .await
            {
                Ok(Ok(found)) => {
                    log_deployment(&found);
                    // The event does not say which lifecycle event it is for:
                    // a hook wired to the wrong one would gate the wrong moment.
                    if let Err(wrong) = lifecycle::verify(hook, &found.lifecycle_events) {
                        return Verdict::failed(
                            hook,
                            format!("{}: {wrong}", Stage::Lifecycle.name()),
                        );
                    }
                    Some(found)
                }
                Ok(Err(problem)) => return Verdict::failed(hook, format!("discovery: {problem}")),
                Err(_) => {
                    return Verdict::failed(
                        hook,
                        "discovery: AWS did not answer before the hook had to report".to_owned(),
                    );
                }
            }
        } else {
            None
        };
        let mut results = Vec::new();
        if let (Some(policy), Some(found)) = (plan.readiness, &deployment) {
            let ready = await_ready(&self.cloud, found, policy, stop_at).await;
            log_check(&ready);
            let passed = ready.passed();
            results.push(ready);
            if !passed {
                return Verdict::from_checks(hook, results);
            }
        }
        let target = match aim(&self.probe, plan, deployment.as_ref(), stop_at).await {
            Ok(target) => target,
            Err(problem) => return Verdict::failed(hook, format!("target: {problem}")),
        };
        let rebased: Result<Vec<Check>, _> =
            checks.iter().map(|c| c.rebased(&target.base)).collect();
        let rebased = match rebased {
            Ok(rebased) => rebased,
            Err(problem) => return Verdict::failed(hook, format!("target: {problem}")),
        };
        let rebased: Vec<&Check> = rebased.iter().collect();
        let probe = target.probe.as_ref().unwrap_or(&self.probe);
        let outcomes = run_checks(&rebased, probe, plan.concurrency, stop_at, &plan.redactor).await;
        outcomes.iter().for_each(log_check);
        results.extend(outcomes);
        // The gates after the checks. A stage whose turn comes after the stop
        // time does not run and says so; the bake, which would delay the
        // rollback by its whole duration, does not run after a failure.
        let mut last_ran = Stage::Checks;
        let alarms = self.alarm_names(plan, deployment.as_ref());
        if !alarms.is_empty() {
            let gate = if no_time_left(stop_at) {
                NotRun::NoTimeLeft { after: last_ran }.result(Stage::Alarms)
            } else {
                last_ran = Stage::Alarms;
                tokio::time::timeout_at(
                    stop_at,
                    check_alarms(&self.cloud, &alarms, plan.alarms.fail_if_unreadable),
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
            results.push(gate);
        }
        let mut warnings = Vec::new();
        if let (Hook::AfterAllowTraffic, Some(bake_plan)) = (hook, &plan.bake) {
            let baked = if no_time_left(stop_at) {
                NotRun::NoTimeLeft { after: last_ran }.result(Stage::Bake)
            } else if results.iter().any(|r| !r.passed()) {
                NotRun::EarlierStageFailed.result(Stage::Bake)
            } else if let Some(why) = nothing_to_watch(bake_plan, &alarms, deployment.as_ref()) {
                CheckResult::failed(BAKE, why, Duration::ZERO)
            } else {
                let queries: Result<Vec<(MetricGate, MetricQuery)>, String> = bake_plan
                    .metrics
                    .iter()
                    .map(|gate| metric_query(gate, deployment.as_ref()).map(|q| (gate.clone(), q)))
                    .collect();
                match queries {
                    Ok(queries) => {
                        let baked = bake(
                            &self.cloud,
                            bake_plan,
                            &alarms,
                            plan.alarms.fail_if_unreadable,
                            &queries,
                            stop_at,
                        )
                        .await;
                        let redact = |text: &str| plan.redactor.redact(text);
                        warnings.extend(
                            baked
                                .warnings
                                .iter()
                                .map(|w| redact(&format!("{BAKE}: {w}"))),
                        );
                        let mut result = baked.result;
                        for assertion in &mut result.assertions {
                            assertion.actual = redact(&assertion.actual);
                        }
                        result
                    }
                    Err(problem) => CheckResult::failed(BAKE, problem, Duration::ZERO),
                }
            };
            log_check(&baked);
            results.push(baked);
        }
        Verdict::from_checks(hook, results).with_warnings(warnings)
    }

    /// The alarms to watch: the deployment group's (if enabled there and in
    /// the spec) and the spec's own.
    fn alarm_names(&self, plan: &Plan, deployment: Option<&Deployment>) -> Vec<String> {
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
}

/// Less time than this before the stop time is none: no AWS read fits in it.
const MIN_STAGE_TIME: Duration = Duration::from_millis(100);

/// Whether a stage starting now would have no time to run.
fn no_time_left(stop_at: Instant) -> bool {
    stop_at.saturating_duration_since(Instant::now()) < MIN_STAGE_TIME
}

/// The listener a hook probes unless the spec says otherwise: the test
/// listener until production has moved.
fn default_listener(hook: Hook) -> ListenerChoice {
    match hook {
        Hook::AfterAllowTestTraffic | Hook::BeforeAllowTraffic => ListenerChoice::Test,
        Hook::AfterAllowTraffic => ListenerChoice::Production,
    }
}

/// What discovery found, once per invocation.
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
        green_task_set = %found.green_task_set,
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
fn log_check(result: &CheckResult) {
    let reason = result.reason.as_deref().unwrap_or("");
    if result.outcome == Outcome::Skipped {
        info!(check = %result.name, outcome = result.outcome.as_str(), reason = %reason, "check skipped");
    } else if result.passed() {
        info!(check = %result.name, outcome = result.outcome.as_str(), expected = %result.expected(), actual = %result.actual(), attempts = result.attempts, duration_ms = result.duration_ms, "check passed");
    } else {
        warn!(check = %result.name, outcome = result.outcome.as_str(), expected = %result.expected(), actual = %result.actual(), attempts = result.attempts, duration_ms = result.duration_ms, reason = %reason, "check failed");
    }
}

/// One structured line per invocation; `warnings` whenever there are some,
/// even when it succeeded.
fn log_verdict(event: &HookEvent, verdict: &Verdict, dry_run: bool, took: Duration) {
    let failing = verdict.failing_checks().join(", ");
    let reasons = verdict.reasons.join(" | ");
    let warnings = verdict.warnings.join(" | ");
    let warnings = (!warnings.is_empty()).then_some(warnings.as_str());
    match (verdict.status, dry_run) {
        (Status::Succeeded, _) => {
            info!(deployment_id = %event.deployment_id, hook = %verdict.hook, status = %verdict.status, checks = verdict.checks.len(), duration_ms = millis(took), warnings, "verdict")
        }
        (Status::Failed, false) => {
            warn!(deployment_id = %event.deployment_id, hook = %verdict.hook, status = %verdict.status, failing_checks = %failing, reasons = %reasons, checks = verdict.checks.len(), duration_ms = millis(took), warnings, "verdict")
        }
        (Status::Failed, true) => {
            warn!(deployment_id = %event.deployment_id, hook = %verdict.hook, status = %verdict.status, failing_checks = %failing, reasons = %reasons, checks = verdict.checks.len(), duration_ms = millis(took), warnings, dry_run = true, "verdict (DRY RUN: reporting Succeeded anyway; turn GREENLIGHT_DRY_RUN off to gate deployments)")
        }
    }
}

/// No real deadline is earlier than this (2001-09-09 in epoch milliseconds).
const EPOCH_MS_FLOOR: u64 = 1_000_000_000_000;
/// A Lambda runs at most 15 minutes.
const MAX_LAMBDA_RUN: Duration = Duration::from_secs(900);

/// The invocation's deadline as a monotonic instant. Lambda sends epoch
/// milliseconds; local emulators (`cargo lambda watch`) send the timeout in
/// milliseconds instead, which is read as "that long from now".
fn deadline_instant(deadline_ms: u64) -> Instant {
    Instant::now() + time_left(deadline_ms, SystemTime::now())
}

fn time_left(deadline_ms: u64, now: SystemTime) -> Duration {
    if deadline_ms < EPOCH_MS_FLOOR {
        warn!(
            deadline_ms,
            "the Runtime API sent a relative deadline (a local emulator?); reading it as milliseconds from now"
        );
        return Duration::from_millis(deadline_ms).min(MAX_LAMBDA_RUN);
    }
    let now_ms = now.duration_since(UNIX_EPOCH).map_or(0, millis);
    Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use lambda_runtime::Context;
    use reqwest::header::{HeaderMap, HeaderValue};

    use super::*;
    use crate::cloud::fake::FakeCloud;
    use crate::probe::{ProbeError, ProbeRequest, ProbeResponse};
    use crate::report::ReportError;

    const SPEC: &str = r#"{"target":{"url":"http://127.0.0.1:9"},"readiness":{"enabled":false},"alarms":{"deployment_group":false},"checks":[{"name":"health","retry":{"attempts":1},"assert":[{"status":200},{"json":{"path":"$.status","equals":"ok"}}]}]}"#;

    /// Answers every request with `status` and `{"status":"ok"}`.
    struct Green(u16);

    impl HttpProbe for Green {
        async fn send(&self, _: &ProbeRequest, _: Duration) -> Result<ProbeResponse, ProbeError> {
            let mut headers = HeaderMap::new();
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            Ok(ProbeResponse {
                status: self.0,
                headers,
                body: r#"{"status":"ok"}"#.to_owned(),
                truncated: false,
                duration: Duration::from_millis(3),
            })
        }

        fn pinned(&self, _: &str, _: &[std::net::SocketAddr]) -> Result<Self, String> {
            Ok(Green(self.0))
        }
    }

    /// Records statuses; panics on the first `panics` calls.
    #[derive(Clone, Default)]
    struct Recorder {
        statuses: Arc<Mutex<Vec<Status>>>,
        panics: Arc<AtomicUsize>,
    }

    impl StatusReporter for Recorder {
        async fn put_status(&self, _: &HookEvent, status: Status) -> Result<(), ReportError> {
            if self.panics.load(Ordering::SeqCst) > 0 {
                self.panics.fetch_sub(1, Ordering::SeqCst);
                panic!("reporter bug");
            }
            self.statuses.lock().expect("lock").push(status);
            Ok(())
        }
    }

    fn runner(
        vars: &[(&str, &str)],
        green: u16,
        reporter: Recorder,
    ) -> HookRunner<Green, Recorder, FakeCloud> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let settings = Settings::load(
            |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            None,
        );
        HookRunner::new(
            Hook::AfterAllowTestTraffic,
            settings,
            Green(green),
            reporter,
            FakeCloud::ready(),
        )
    }

    fn invocation(payload: Value) -> LambdaEvent<Value> {
        let mut context = Context::default();
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, millis);
        context.deadline = now_ms + 20_000;
        LambdaEvent::new(payload, context)
    }

    fn sample() -> Value {
        json!({"DeploymentId": "d-1", "LifecycleEventHookExecutionId": "x"})
    }

    #[tokio::test]
    async fn healthy_green_reports_succeeded_once() {
        let reporter = Recorder::default();
        let runner = runner(&[("GREENLIGHT_SPEC", SPEC)], 200, reporter.clone());
        let answer = runner.handle(invocation(sample())).await.expect("answered");
        assert_eq!(answer["reported"], "Succeeded");
        assert_eq!(
            *reporter.statuses.lock().expect("lock"),
            vec![Status::Succeeded]
        );
    }

    #[tokio::test]
    async fn failing_green_reports_failed_with_the_reason() {
        let reporter = Recorder::default();
        let runner = runner(&[("GREENLIGHT_SPEC", SPEC)], 503, reporter.clone());
        let answer = runner.handle(invocation(sample())).await.expect("answered");
        assert_eq!(
            answer["verdict"]["reasons"][0],
            "health: expected status == 200, got 503 (failed after 1 attempt(s))"
        );
        assert_eq!(
            *reporter.statuses.lock().expect("lock"),
            vec![Status::Failed]
        );
    }

    #[tokio::test]
    async fn a_panic_outside_the_checks_still_reports_failed_once() {
        // GIVEN a reporter whose first call panics
        let reporter = Recorder {
            panics: Arc::new(AtomicUsize::new(1)),
            ..Recorder::default()
        };
        let runner = runner(&[("GREENLIGHT_SPEC", SPEC)], 200, reporter.clone());
        // WHEN the hook runs
        let answer = runner.handle(invocation(sample())).await.expect("answered");
        // THEN the guard reported Failed, once, and says why
        assert_eq!(
            *reporter.statuses.lock().expect("lock"),
            vec![Status::Failed]
        );
        assert_eq!(answer["reported"], "Failed");
        assert_eq!(
            answer["verdict"]["reasons"][0],
            "greenlight panicked: reporter bug"
        );
    }

    #[tokio::test]
    async fn a_panic_outside_the_checks_in_dry_run_reports_succeeded_and_says_so() {
        // GIVEN dry run, and a reporter whose first call panics
        let reporter = Recorder {
            panics: Arc::new(AtomicUsize::new(1)),
            ..Recorder::default()
        };
        let runner = runner(
            &[("GREENLIGHT_SPEC", SPEC), ("GREENLIGHT_DRY_RUN", "true")],
            200,
            reporter.clone(),
        );
        // WHEN the hook runs
        let answer = runner.handle(invocation(sample())).await.expect("answered");
        // THEN the guard sent what dry run sends, and the answer says what
        // was sent; the verdict stays Failed
        assert_eq!(
            *reporter.statuses.lock().expect("lock"),
            vec![Status::Succeeded]
        );
        assert_eq!(answer["reported"], "Succeeded");
        assert_eq!(answer["verdict"]["status"], "Failed");
        assert_eq!(answer["dryRun"], true);
    }

    #[tokio::test]
    async fn a_malformed_event_reports_nothing() {
        let reporter = Recorder::default();
        let runner = runner(&[("GREENLIGHT_SPEC", SPEC)], 200, reporter.clone());
        let error = runner
            .handle(invocation(json!({"DeploymentId": "d-1"})))
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("event.LifecycleEventHookExecutionId: missing")
        );
        assert!(reporter.statuses.lock().expect("lock").is_empty());
    }

    #[tokio::test]
    async fn dry_run_reports_succeeded_for_a_failed_verdict() {
        let reporter = Recorder::default();
        let runner = runner(
            &[("GREENLIGHT_SPEC", SPEC), ("GREENLIGHT_DRY_RUN", "true")],
            500,
            reporter.clone(),
        );
        let answer = runner.handle(invocation(sample())).await.expect("answered");
        assert_eq!(answer["verdict"]["status"], "Failed");
        assert_eq!(
            *reporter.statuses.lock().expect("lock"),
            vec![Status::Succeeded]
        );
    }

    #[tokio::test]
    async fn too_little_time_fails_without_probing() {
        let reporter = Recorder::default();
        let runner = runner(
            &[
                ("GREENLIGHT_SPEC", SPEC),
                ("GREENLIGHT_REPORT_MARGIN_MS", "30000"),
            ],
            200,
            reporter.clone(),
        );
        let answer = runner.handle(invocation(sample())).await.expect("answered");
        let reason = answer["verdict"]["reasons"][0]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            reason.contains("within the report margin (GREENLIGHT_REPORT_MARGIN_MS=30000)"),
            "{reason}"
        );
        assert_eq!(
            *reporter.statuses.lock().expect("lock"),
            vec![Status::Failed]
        );
    }

    /// A runner for `hook` on `cloud`, with a spec that discovers its
    /// listener.
    fn discovering(hook: Hook, cloud: FakeCloud) -> HookRunner<Green, Recorder, FakeCloud> {
        const DISCOVERS: &str = r#"{"readiness":{"enabled":false},"alarms":{"deployment_group":false},"target":{"resolve":{"alb-123.us-east-1.elb.amazonaws.com":"127.0.0.1"}},"checks":[{"name":"health","retry":{"attempts":1},"assert":[{"status":200}]}]}"#;
        let settings = Settings::load(
            |name| (name == "GREENLIGHT_SPEC").then(|| DISCOVERS.to_owned()),
            None,
        );
        HookRunner::new(hook, settings, Green(200), Recorder::default(), cloud)
    }

    #[tokio::test]
    async fn a_hook_whose_lifecycle_event_is_not_in_progress_fails_naming_both() {
        // GIVEN a deployment in AfterAllowTestTraffic
        let cloud = FakeCloud::ready();
        cloud.set_lifecycle_event("AfterAllowTestTraffic");
        // WHEN the AfterAllowTraffic hook judges it
        let runner = discovering(Hook::AfterAllowTraffic, cloud);
        let verdict = runner
            .judge(&HookEvent::parse(&sample()).expect("event"), far())
            .await;
        // THEN it fails before any check, naming both events
        assert_eq!(verdict.status, Status::Failed);
        assert!(verdict.checks.is_empty());
        assert_eq!(
            verdict.reasons,
            vec![
                "lifecycle: this is the AfterAllowTraffic hook, but the deployment is in AfterAllowTestTraffic (AfterAllowTraffic is Pending): check the AppSpec's Hooks section"
            ]
        );
        // AND in its own event it runs its checks
        let cloud = FakeCloud::ready();
        cloud.set_lifecycle_event("AfterAllowTraffic");
        let runner = discovering(Hook::AfterAllowTraffic, cloud);
        let verdict = runner
            .judge(&HookEvent::parse(&sample()).expect("event"), far())
            .await;
        assert_eq!(verdict.status, Status::Succeeded, "{verdict:?}");
    }

    #[tokio::test]
    async fn a_target_without_lifecycle_events_fails_closed() {
        let cloud = FakeCloud::ready();
        cloud.clear_lifecycle_events();
        let runner = discovering(Hook::AfterAllowTestTraffic, cloud);
        let verdict = runner
            .judge(&HookEvent::parse(&sample()).expect("event"), far())
            .await;
        assert_eq!(verdict.status, Status::Failed);
        assert!(
            verdict.reasons[0].contains("lists no lifecycle events"),
            "{verdict:?}"
        );
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    /// An AfterAllowTraffic runner with a 30 s bake on one metric, green
    /// answering `status`.
    fn baking(status: u16, cloud: FakeCloud) -> HookRunner<Green, Recorder, FakeCloud> {
        const BAKES: &str = r#"{"target":{"url":"http://127.0.0.1:9"},"readiness":{"enabled":false},"alarms":{"deployment_group":false},"bake":{"duration_ms":30000,"metrics":[{"metric":"X","stat":"Sum","greater_than":5,"dimensions":{}}]},"checks":[{"name":"health","retry":{"attempts":1},"assert":[{"status":200}]}]}"#;
        let settings = Settings::load(
            |name| (name == "GREENLIGHT_SPEC").then(|| BAKES.to_owned()),
            None,
        );
        cloud.set_lifecycle_event("AfterAllowTraffic");
        HookRunner::new(
            Hook::AfterAllowTraffic,
            settings,
            Green(status),
            Recorder::default(),
            cloud,
        )
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_failed_check_the_bake_is_skipped_and_reads_nothing() {
        // GIVEN green answering 500 and a 30 s bake
        let runner = baking(500, FakeCloud::ready());
        // WHEN the hook judges
        let verdict = runner
            .judge(&HookEvent::parse(&sample()).expect("event"), far())
            .await;
        // THEN it fails on the check alone; the bake is listed as skipped and
        // never read CloudWatch
        assert_eq!(verdict.status, Status::Failed);
        assert_eq!(verdict.reasons.len(), 1, "{verdict:?}");
        let bake = verdict.checks.last().expect("the bake");
        assert_eq!(
            (bake.name.as_str(), bake.outcome),
            ("bake", Outcome::Skipped)
        );
        assert!(!runner.cloud.calls().contains(&"cloudwatch:GetMetricData"));
    }

    #[tokio::test(start_paused = true)]
    async fn with_no_time_left_after_the_checks_the_bake_says_so() {
        // GIVEN a stop time that has come by the end of the checks
        let runner = baking(200, FakeCloud::ready());
        let until = Instant::now()
            + runner.settings.report_margin
            + CHECK_GUARD
            + Duration::from_millis(50);
        // WHEN the hook judges
        let verdict = runner
            .judge(&HookEvent::parse(&sample()).expect("event"), until)
            .await;
        // THEN the bake did not run, saying why, and CloudWatch got no call
        assert_eq!(verdict.status, Status::Failed);
        assert!(
            verdict
                .reasons
                .contains(&"bake: not run: no time left after the checks".to_owned()),
            "{verdict:?}"
        );
        assert!(
            !runner
                .cloud
                .calls()
                .iter()
                .any(|c| c.starts_with("cloudwatch:"))
        );
    }

    #[test]
    fn reads_an_epoch_deadline() {
        let now = UNIX_EPOCH + Duration::from_millis(1_800_000_000_000);
        assert_eq!(time_left(1_800_000_030_000, now), Duration::from_secs(30));
        assert_eq!(time_left(1_799_999_000_000, now), Duration::ZERO);
    }

    #[test]
    fn reads_a_relative_deadline_from_a_local_emulator() {
        let now = UNIX_EPOCH + Duration::from_millis(1_800_000_000_000);
        assert_eq!(time_left(600_000, now), Duration::from_secs(600));
        assert_eq!(time_left(3_600_000, now), MAX_LAMBDA_RUN);
    }
}

//! One hook invocation from event to report: parse, judge, log, report.
//! Everything that can go wrong after the event is parsed ends in a `Failed`
//! verdict that is still reported.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::time::Duration;

use futures::FutureExt;
use greenlight::cloud::Cloud;
use greenlight::panic_message::panic_message;
use greenlight::probe::HttpProbe;
use greenlight::settings::{REPORT_MARGIN_VAR, Settings};
use greenlight::time::{deadline_instant, millis, now_ms};
use greenlight::{
    Context, Green, Hook, Ports, Silent, Status, Verdict, fault_injection, judge, longest_wait,
};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use tokio::time::Instant;
use tracing::{Instrument, error, info, info_span, warn};

use crate::chain::{Ending, Link};
use crate::continuation::{Continuation, ContinuationError};
use crate::event::HookEvent;
use crate::guard::Pending;
use crate::hand_off::{HandOff, NoHandOff};
use crate::invocation_error::InvocationError;
use crate::report::{Delivery, ReportFailure, StatusReporter, deliver};

/// Kept back from the deadline even for the report itself: the runtime still
/// has to post the invocation result.
const FINAL_SAFETY: Duration = Duration::from_millis(150);
/// The engine's guard for a check that ignores its deadline (see
/// `greenlight::engine`).
const CHECK_GUARD: Duration = Duration::from_millis(250);
/// How many hand-offs a runner remembers having taken, to drop a second
/// delivery of one (Lambda delivers an asynchronous event at least once).
const REMEMBERED: usize = 64;

/// A hook function's state, built once per cold start.
#[derive(Debug)]
pub struct HookRunner<P, R, C, H = NoHandOff> {
    pub(crate) hook: Hook,
    settings: Settings,
    probe: P,
    reporter: R,
    cloud: C,
    pub(crate) hand_off: H,
    /// The continuations (execution ID, hand-off) this process took to the
    /// end: a report, or the next hand-off.
    taken: Mutex<VecDeque<(String, u32)>>,
    pub(crate) pending: Pending,
}

impl<P: HttpProbe, R: StatusReporter, C: Cloud> HookRunner<P, R, C> {
    /// Assembles a runner from its parts; it cannot hand off (see
    /// [`HookRunner::with_hand_off`]).
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
            hand_off: NoHandOff,
            taken: Mutex::new(VecDeque::new()),
            pending: Pending::default(),
        }
    }

    /// The same runner, handing a judgement that outlasts its run to a new
    /// run through `hand_off`.
    pub fn with_hand_off<H: HandOff>(self, hand_off: H) -> HookRunner<P, R, C, H> {
        HookRunner {
            hook: self.hook,
            settings: self.settings,
            probe: self.probe,
            reporter: self.reporter,
            cloud: self.cloud,
            hand_off,
            taken: self.taken,
            pending: self.pending,
        }
    }
}

impl<P: HttpProbe, R: StatusReporter, C: Cloud, H: HandOff> HookRunner<P, R, C, H> {
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
        let function = event.context.invoked_function_arn.clone();
        let continuation = Continuation::read(&event.payload, &function, now_ms());
        if let Ok(Some(c)) = &continuation
            && self.was_taken(&parsed, c.hand_off)
        {
            warn!(parent: &span, hand_off = c.hand_off, "hand-off delivered again; this run already took it, so nothing to do");
            return Ok(
                json!({"deploymentId": parsed.deployment_id, "hook": self.hook, "duplicateHandOff": c.hand_off}),
            );
        }
        let until = deadline.checked_sub(FINAL_SAFETY).unwrap_or(deadline);
        self.pending.begin(&parsed, until, self.settings.dry_run);
        let run = self.run(parsed, continuation, &function, until);
        let outcome = AssertUnwindSafe(run.instrument(span.clone()))
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

    /// Judges, logs and reports, or hands the judgement off; `until` is
    /// when the report must be done.
    async fn run(
        &self,
        event: HookEvent,
        continuation: Result<Option<Continuation>, ContinuationError>,
        function: &str,
        until: Instant,
    ) -> Result<Value, InvocationError> {
        let started = Instant::now();
        let hand_off = continuation
            .as_ref()
            .ok()
            .and_then(|c| c.as_ref().map(|c| c.hand_off));
        let verdict = match continuation {
            Err(refused) => Verdict::failed(self.hook, refused.to_string()),
            Ok(continuation) => match self
                .judge_or_hand_off(&event, continuation, function, until)
                .await
            {
                Ending::Judged(verdict) => verdict,
                Ending::HandedOff(next) => {
                    self.pending.take();
                    if let Some(taken) = hand_off {
                        self.remember(&event, taken);
                    }
                    info!(
                        hand_off = next.hand_off,
                        rounds = next.state.rounds,
                        not_before_ms = next.not_before_ms,
                        expires_ms = next.expires_ms,
                        duration_ms = millis(started.elapsed()),
                        "handed off to a new run of this function; it reports"
                    );
                    return Ok(json!({
                        "deploymentId": event.deployment_id,
                        "hook": self.hook,
                        "handedOff": next.hand_off,
                    }));
                }
            },
        };
        let reported = verdict.status.to_report(self.settings.dry_run);
        log_verdict(&event, &verdict, self.settings.dry_run, started.elapsed());
        // Should this panic, the guard reports again: a status that already got
        // through then comes back as "already completed", which is fine.
        let delivered = deliver(&self.reporter, &event, reported, until).await;
        self.pending.take();
        if let (Some(taken), Ok(_)) = (hand_off, &delivered) {
            self.remember(&event, taken);
        }
        self.answer(&event, verdict, reported, delivered)
    }

    /// In one run when the plan fits it, in rounds when it may not (or
    /// when this run continues a chain) and the runner can hand off.
    async fn judge_or_hand_off(
        &self,
        event: &HookEvent,
        continuation: Option<Continuation>,
        function: &str,
        until: Instant,
    ) -> Ending {
        let plan = match &self.settings.plan {
            Ok(plan) => plan,
            Err(_) => return Ending::Judged(self.judge(event, until).await),
        };
        let stop_at = until
            .checked_sub(self.settings.report_margin + CHECK_GUARD)
            .filter(|at| *at > Instant::now());
        let fits = stop_at.is_some_and(|at| {
            longest_wait(plan, self.hook) < at.saturating_duration_since(Instant::now())
        });
        match stop_at {
            Some(stop_at) if continuation.is_some() || (!fits && self.hand_off.can_hand_off()) => {
                let link = Link {
                    event,
                    continuation,
                    function,
                    stop_at,
                    hand_off_by: stop_at + CHECK_GUARD,
                };
                self.judge_in_rounds(plan, link).await
            }
            _ => Ending::Judged(self.judge(event, until).await),
        }
    }

    /// Whether this process already took hand-off `hand_off` of `event`.
    fn was_taken(&self, event: &HookEvent, hand_off: u32) -> bool {
        self.taken.lock().is_ok_and(|taken| {
            taken
                .iter()
                .any(|(id, n)| *id == event.execution_id && *n == hand_off)
        })
    }

    fn remember(&self, event: &HookEvent, hand_off: u32) {
        if let Ok(mut taken) = self.taken.lock() {
            if taken.len() >= REMEMBERED {
                taken.pop_front();
            }
            taken.push_back((event.execution_id.clone(), hand_off));
        }
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

    /// Judges `event`'s deployment with the engine, within the time before
    /// `until` less the report margin. A plan that could not be read, or too
    /// little time left, fails without judging.
    pub async fn judge(&self, event: &HookEvent, until: Instant) -> Verdict {
        let hook = self.hook;
        let plan = match &self.settings.plan {
            Ok(plan) => plan,
            Err(reason) => return Verdict::failed(hook, format!("configuration: {reason}")),
        };
        let checks = plan.checks_for(hook);
        fault_injection::runner_panic(checks.iter().map(|check| check.name.as_str()));
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
        judge(plan, &self.context(event, stop_at), self.ports()).await
    }

    /// The engine's context for judging `event`'s deployment until `stop_at`.
    pub(crate) fn context(&self, event: &HookEvent, stop_at: Instant) -> Context {
        Context {
            hook: self.hook,
            green: Green::Deployment {
                id: event.deployment_id.clone(),
            },
            stop_at,
            earlier: Duration::ZERO,
        }
    }

    /// The engine's ports: this runner's probe and cloud, no progress.
    pub(crate) fn ports(&self) -> Ports<'_, P, C, Silent> {
        Ports {
            http: &self.probe,
            cloud: &self.cloud,
            progress: &Silent,
        }
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

#[cfg(test)]
mod tests {

    use greenlight::NoCloud;
    use greenlight::probe::fake::{FakeProbe, Reply};
    use lambda_runtime::Context;

    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;
    use crate::fake_reporter::FakeReporter;

    const SPEC: &str = r#"{"target":{"url":"http://127.0.0.1:9"},"readiness":{"enabled":false},"alarms":{"deployment_group":false},"checks":[{"name":"health","retry":{"attempts":1},"assert":[{"status":200},{"json":{"path":"$.status","equals":"ok"}}]}]}"#;

    fn runner(
        vars: &[(&str, &str)],
        green: u16,
        reporter: FakeReporter,
    ) -> HookRunner<FakeProbe, FakeReporter, NoCloud> {
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
            FakeProbe::answering(Reply::Json(green)),
            reporter,
            NoCloud,
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
        let reporter = FakeReporter::default();
        let runner = runner(&[("GREENLIGHT_SPEC", SPEC)], 200, reporter.clone());
        let answer = runner.handle(invocation(sample())).await.expect("answered");
        assert_eq!(answer["reported"], "Succeeded");
        assert_eq!(reporter.statuses(), vec![Status::Succeeded]);
    }

    #[tokio::test]
    async fn failing_green_reports_failed_with_the_reason() {
        let reporter = FakeReporter::default();
        let runner = runner(&[("GREENLIGHT_SPEC", SPEC)], 503, reporter.clone());
        let answer = runner.handle(invocation(sample())).await.expect("answered");
        assert_eq!(
            answer["verdict"]["reasons"][0],
            "health: expected status == 200, got 503 (failed after 1 attempt(s))"
        );
        assert_eq!(reporter.statuses(), vec![Status::Failed]);
    }

    #[tokio::test]
    async fn a_panic_outside_the_checks_still_reports_failed_once() {
        // GIVEN a reporter whose first call panics
        let reporter = FakeReporter::panicking_first(1);
        let runner = runner(&[("GREENLIGHT_SPEC", SPEC)], 200, reporter.clone());
        // WHEN the hook runs
        let answer = runner.handle(invocation(sample())).await.expect("answered");
        // THEN the guard reported Failed, once, and says why
        assert_eq!(reporter.statuses(), vec![Status::Failed]);
        assert_eq!(answer["reported"], "Failed");
        assert_eq!(
            answer["verdict"]["reasons"][0],
            "greenlight panicked: reporter bug"
        );
    }

    #[tokio::test]
    async fn a_panic_outside_the_checks_in_dry_run_reports_succeeded_and_says_so() {
        // GIVEN dry run, and a reporter whose first call panics
        let reporter = FakeReporter::panicking_first(1);
        let runner = runner(
            &[("GREENLIGHT_SPEC", SPEC), ("GREENLIGHT_DRY_RUN", "true")],
            200,
            reporter.clone(),
        );
        // WHEN the hook runs
        let answer = runner.handle(invocation(sample())).await.expect("answered");
        // THEN the guard sent what dry run sends, and the answer says what
        // was sent; the verdict stays Failed
        assert_eq!(reporter.statuses(), vec![Status::Succeeded]);
        assert_eq!(answer["reported"], "Succeeded");
        assert_eq!(answer["verdict"]["status"], "Failed");
        assert_eq!(answer["dryRun"], true);
    }

    #[tokio::test]
    async fn a_malformed_event_reports_nothing() {
        let reporter = FakeReporter::default();
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
        assert!(reporter.statuses().is_empty());
    }

    #[tokio::test]
    async fn dry_run_reports_succeeded_for_a_failed_verdict() {
        let reporter = FakeReporter::default();
        let runner = runner(
            &[("GREENLIGHT_SPEC", SPEC), ("GREENLIGHT_DRY_RUN", "true")],
            500,
            reporter.clone(),
        );
        let answer = runner.handle(invocation(sample())).await.expect("answered");
        assert_eq!(answer["verdict"]["status"], "Failed");
        assert_eq!(reporter.statuses(), vec![Status::Succeeded]);
    }

    #[tokio::test]
    async fn too_little_time_fails_without_probing() {
        let reporter = FakeReporter::default();
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
        assert_eq!(reporter.statuses(), vec![Status::Failed]);
    }
}

//! One invocation, from event to answer: parse, pass a rollback through,
//! read the carried state, judge one round, answer. Every path ends in a
//! valid `hookStatus`: a bad event, a bad spec, a foreign `hookDetails`, a
//! panic or the deadline each give `FAILED`, with the reason in the log.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::FutureExt;
use greenlight::cloud::Cloud;
use greenlight::hook::EcsStage;
use greenlight::panic_message::panic_message;
use greenlight::probe::HttpProbe;
use greenlight::settings::{REPORT_MARGIN_VAR, Settings};
use greenlight::time::{deadline_instant, millis};
use greenlight::{
    Context, Green, Ports, RoundOutcome, Silent, Status, Verdict, fault_injection, judge_round,
};
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::answer::{Answer, HookStatus};
use crate::details;
use crate::event::EcsEvent;

/// Kept back from the deadline for the answer itself: the runtime still has
/// to post it.
const FINAL_SAFETY: Duration = Duration::from_millis(150);
/// The engine's guard for a check that ignores its deadline.
const CHECK_GUARD: Duration = Duration::from_millis(250);

/// The hook function's state, built once per cold start.
#[derive(Debug)]
pub struct EcsHook<P, C> {
    settings: Settings,
    probe: P,
    cloud: C,
}

impl<P: HttpProbe, C: Cloud> EcsHook<P, C> {
    /// Assembles the hook from its parts.
    pub fn new(settings: Settings, probe: P, cloud: C) -> Self {
        match &settings.plan {
            Ok(plan) => {
                let checks: Vec<String> = EcsStage::ALL
                    .into_iter()
                    .filter_map(|stage| {
                        let hook = stage.hook()?;
                        Some(format!("{stage} {}", plan.checks_for(hook).len()))
                    })
                    .collect();
                info!(checks = %checks.join(", "), "greenlight ECS lifecycle hook ready");
            }
            Err(reason) => {
                error!(reason = %reason, "greenlight cannot run its checks; every invocation at a gated stage answers FAILED")
            }
        }
        if settings.dry_run {
            warn!("DRY RUN: verdicts are logged but FAILED is answered as SUCCEEDED");
        }
        EcsHook {
            settings,
            probe,
            cloud,
        }
    }

    /// Handles one invocation. Never errs: ECS reads an error as a rollback
    /// with no reason, so every problem is a `FAILED` answer instead.
    pub async fn handle(
        &self,
        event: LambdaEvent<Value>,
    ) -> Result<Value, std::convert::Infallible> {
        let started = Instant::now();
        let deadline = deadline_instant(event.context.deadline);
        let until = deadline.checked_sub(FINAL_SAFETY).unwrap_or(deadline);
        let round = AssertUnwindSafe(self.round(&event.payload, until)).catch_unwind();
        let answer = match tokio::time::timeout_at(until, round).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(panic)) => Answer::failed(format!(
                "greenlight panicked: {}",
                panic_message(panic.as_ref())
            )),
            Err(_) => Answer::failed(
                "the round did not end before the Lambda deadline: raise the function's timeout",
            ),
        };
        let answer = self.dry_run(answer);
        log_answer(
            &event.payload,
            &answer,
            self.settings.dry_run,
            started.elapsed(),
        );
        Ok(answer.to_json())
    }

    /// In dry run, `FAILED` is answered as `SUCCEEDED`.
    fn dry_run(&self, answer: Answer) -> Answer {
        if self.settings.dry_run && answer.status == HookStatus::Failed {
            return Answer::succeeded(format!(
                "{} (DRY RUN: answering SUCCEEDED anyway; turn GREENLIGHT_DRY_RUN off to gate deployments)",
                answer.reason
            ));
        }
        answer
    }

    /// One round; `until` is when the answer must be ready.
    async fn round(&self, payload: &Value, until: Instant) -> Answer {
        let event = match EcsEvent::parse(payload) {
            Ok(event) => event,
            Err(problem) => return Answer::failed(problem.to_string()),
        };
        if event.is_rollback() {
            return Answer::succeeded(format!(
                "rollback passes through: {} with green's weight at 0",
                event.stage
            ));
        }
        let Some(hook) = event.stage.hook() else {
            return Answer::succeeded(format!(
                "nothing to check at {}: greenlight gates POST_TEST_TRAFFIC_SHIFT, PRE_PRODUCTION_TRAFFIC_SHIFT and POST_PRODUCTION_TRAFFIC_SHIFT",
                event.stage
            ));
        };
        let plan = match &self.settings.plan {
            Ok(plan) => plan,
            Err(reason) => return Answer::failed(format!("configuration: {reason}")),
        };
        fault_injection::runner_panic(plan.checks_for(hook).iter().map(|c| c.name.as_str()));
        let state = match details::read(&event.hook_details, &event.deployment_arn, event.stage) {
            Ok(state) => state,
            Err(problem) => return Answer::failed(problem.to_string()),
        };
        let left = until.saturating_duration_since(Instant::now());
        let Some(stop_at) = until
            .checked_sub(self.settings.report_margin + CHECK_GUARD)
            .filter(|at| *at > Instant::now())
        else {
            return Answer::failed(format!(
                "only {} ms left before the Lambda deadline, within the answer margin ({REPORT_MARGIN_VAR}={}): raise the function's timeout",
                left.as_millis(),
                self.settings.report_margin.as_millis()
            ));
        };
        let context = Context {
            hook,
            green: Green::ServiceDeployment {
                arn: event.deployment_arn.clone(),
            },
            stop_at,
            earlier: Duration::ZERO,
        };
        let ports = Ports {
            http: &self.probe,
            cloud: &self.cloud,
            progress: &Silent,
        };
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, millis);
        match judge_round(plan, &context, state, now_ms, ports).await {
            RoundOutcome::Done(verdict) => from_verdict(&verdict),
            RoundOutcome::Again { state, after, why } => {
                match details::write(
                    &event.hook_details,
                    &event.deployment_arn,
                    event.stage,
                    state,
                ) {
                    Ok(carried) => Answer::in_progress(after, carried, why),
                    Err(problem) => Answer::failed(problem.to_string()),
                }
            }
        }
    }
}

/// A verdict as an answer, its reasons (and warnings) as the reason.
fn from_verdict(verdict: &Verdict) -> Answer {
    let warnings = if verdict.warnings.is_empty() {
        String::new()
    } else {
        format!(" (warnings: {})", verdict.warnings.join(" | "))
    };
    match verdict.status {
        Status::Succeeded => Answer::succeeded(format!(
            "{} check(s) passed for {}{warnings}",
            verdict.checks.len(),
            verdict.hook
        )),
        // Each reason starts with its check's name.
        Status::Failed => Answer::failed(format!("{}{warnings}", verdict.reasons.join(" | "))),
    }
}

/// One structured line per invocation: the stage, the answer and why.
fn log_answer(payload: &Value, answer: &Answer, dry_run: bool, took: Duration) {
    let field = |name: &str| payload.get(name).and_then(Value::as_str).unwrap_or("");
    let stage = field("lifecycleStage");
    let deployment = field("resourceArn");
    let status = answer.status.as_str();
    let delay_s = answer.call_back_delay.map(|d| d.as_secs());
    let duration_ms = millis(took);
    let reason = answer.reason.as_str();
    match answer.status {
        HookStatus::Failed => {
            warn!(
                stage,
                deployment,
                hook_status = status,
                reason,
                dry_run,
                duration_ms,
                "answer"
            )
        }
        _ => info!(
            stage,
            deployment,
            hook_status = status,
            call_back_delay_s = delay_s,
            reason,
            dry_run,
            duration_ms,
            "answer"
        ),
    }
}

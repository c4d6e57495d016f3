//! One hook invocation from event to report: parse, judge, log, report.
//! Everything that can go wrong after the event is parsed ends in a `Failed`
//! verdict that is still reported.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use tokio::time::Instant;
use tracing::{Instrument, error, info, info_span, warn};

use crate::check::{CheckResult, millis};
use crate::engine::run_checks;
use crate::event::HookEvent;
use crate::hook::Hook;
use crate::probe::{HttpProbe, ReqwestProbe};
use crate::report::{CodeDeployReporter, StatusReporter, deliver};
use crate::settings::{REPORT_MARGIN_VAR, Settings};
use crate::verdict::{Status, Verdict};

/// Kept back from the deadline even for the report itself: the runtime still
/// has to post the invocation result.
const FINAL_SAFETY: Duration = Duration::from_millis(150);

/// A hook function's state, built once per cold start.
#[derive(Debug)]
pub struct HookRunner<P, R> {
    hook: Hook,
    settings: Settings,
    probe: P,
    reporter: R,
}

impl HookRunner<ReqwestProbe, CodeDeployReporter> {
    /// Reads the settings and builds the AWS and HTTP clients, once.
    pub async fn from_env(hook: Hook) -> Self {
        let mut settings = Settings::from_env();
        let sdk_config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .load()
            .await;
        let reporter = CodeDeployReporter::new(aws_sdk_codedeploy::Client::new(&sdk_config));
        let probe = ReqwestProbe::new().unwrap_or_else(|error| {
            settings.plan = Err(format!("cannot build the HTTP client: {error}"));
            ReqwestProbe::fallback()
        });
        HookRunner::new(hook, settings, probe, reporter)
    }
}

impl<P: HttpProbe, R: StatusReporter> HookRunner<P, R> {
    /// Assembles a runner from its parts.
    pub fn new(hook: Hook, settings: Settings, probe: P, reporter: R) -> Self {
        match &settings.plan {
            Ok(plan) => {
                info!(hook = %hook, checks = plan.checks_for(hook).len(), "greenlight hook ready")
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
        }
    }

    /// Handles one Lambda invocation. Errs only when the event is unusable or
    /// the status could not be reported.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
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
        self.run(parsed, deadline).instrument(span).await
    }

    async fn run(
        &self,
        event: HookEvent,
        deadline: Instant,
    ) -> Result<Value, lambda_runtime::Error> {
        let started = Instant::now();
        let verdict = self.judge(deadline).await;
        let reported = if self.settings.dry_run {
            Status::Succeeded
        } else {
            verdict.status
        };
        log_verdict(&event, &verdict, self.settings.dry_run, started.elapsed());
        let until = deadline.checked_sub(FINAL_SAFETY).unwrap_or(deadline);
        match deliver(&self.reporter, &event, reported, until).await {
            Ok((delivery, attempts)) => {
                info!(status = %reported, delivery = ?delivery, attempts, "reported to CodeDeploy");
                Ok(json!({
                    "deploymentId": event.deployment_id,
                    "hook": self.hook,
                    "reported": reported,
                    "delivery": delivery,
                    "dryRun": self.settings.dry_run,
                    "verdict": verdict,
                }))
            }
            Err(failure) => {
                error!(status = %reported, attempts = failure.attempts, error = %failure.last_error, "could not report to CodeDeploy; the deployment waits for its timeout");
                Err(failure.into())
            }
        }
    }

    /// Runs the hook's checks within the time before `deadline`, less the
    /// report margin, and derives the verdict.
    pub async fn judge(&self, deadline: Instant) -> Verdict {
        let plan = match &self.settings.plan {
            Ok(plan) => plan,
            Err(reason) => return Verdict::failed(self.hook, format!("configuration: {reason}")),
        };
        let checks = plan.checks_for(self.hook);
        if checks.is_empty() {
            return Verdict::from_checks(self.hook, Vec::new());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(stop_at) = deadline
            .checked_sub(self.settings.report_margin)
            .filter(|at| *at > Instant::now())
        else {
            return Verdict::failed(
                self.hook,
                format!(
                    "only {} ms left before the Lambda deadline, within the report margin ({REPORT_MARGIN_VAR}={}): raise the function's timeout",
                    left.as_millis(),
                    self.settings.report_margin.as_millis()
                ),
            );
        };
        let results = run_checks(
            &checks,
            &self.probe,
            plan.concurrency,
            stop_at,
            &plan.redactor,
        )
        .await;
        results.iter().for_each(log_check);
        Verdict::from_checks(self.hook, results)
    }
}

/// One structured line per check result.
fn log_check(result: &CheckResult) {
    let reason = result.reason.as_deref().unwrap_or("");
    if result.passed() {
        info!(check = %result.name, outcome = result.outcome.as_str(), expected = %result.expected(), actual = %result.actual(), attempts = result.attempts, duration_ms = result.duration_ms, "check passed");
    } else {
        warn!(check = %result.name, outcome = result.outcome.as_str(), expected = %result.expected(), actual = %result.actual(), attempts = result.attempts, duration_ms = result.duration_ms, reason = %reason, "check failed");
    }
}

/// One structured line per invocation.
fn log_verdict(event: &HookEvent, verdict: &Verdict, dry_run: bool, took: Duration) {
    let failing = verdict.failing_checks().join(", ");
    let reasons = verdict.reasons.join(" | ");
    match (verdict.status, dry_run) {
        (Status::Succeeded, _) => {
            info!(deployment_id = %event.deployment_id, hook = %verdict.hook, status = %verdict.status, checks = verdict.checks.len(), duration_ms = millis(took), "verdict")
        }
        (Status::Failed, false) => {
            warn!(deployment_id = %event.deployment_id, hook = %verdict.hook, status = %verdict.status, failing_checks = %failing, reasons = %reasons, checks = verdict.checks.len(), duration_ms = millis(took), "verdict")
        }
        (Status::Failed, true) => {
            warn!(deployment_id = %event.deployment_id, hook = %verdict.hook, status = %verdict.status, failing_checks = %failing, reasons = %reasons, checks = verdict.checks.len(), duration_ms = millis(took), dry_run = true, "verdict (DRY RUN: reporting Succeeded anyway; turn GREENLIGHT_DRY_RUN off to gate deployments)")
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
    use super::*;

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

//! The CodeDeploy report port: report the hook's status, exactly once, before
//! the Lambda's deadline. Throttling, 5xx and lost connections are retried with
//! backoff inside the time left; "already completed" means an earlier attempt
//! (or another invocation) got through, which is as good as done.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use greenlight::Status;
use greenlight::attempts::{Backoff, Step, until_done};
use greenlight_aws::reporter::CodeDeployReporter;
pub use greenlight_aws::reporter::{REPORT_API, ReportError};

use crate::event::HookEvent;

/// Longest wait for one answer from CodeDeploy.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// First pause between attempts; doubles up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest pause between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_millis(1600);
/// The time given to the one attempt made when no time is left.
const LAST_CHANCE: Duration = Duration::from_millis(100);

/// Sends `PutLifecycleEventHookExecutionStatus`. Implemented by
/// [`CodeDeployReporter`] (the AWS SDK) in production.
pub trait StatusReporter: Send + Sync {
    /// One attempt to report `status` for `event`.
    fn put_status(
        &self,
        event: &HookEvent,
        status: Status,
    ) -> impl Future<Output = Result<(), ReportError>> + Send;
}

impl StatusReporter for CodeDeployReporter {
    async fn put_status(&self, event: &HookEvent, status: Status) -> Result<(), ReportError> {
        CodeDeployReporter::put_status(self, &event.deployment_id, &event.execution_id, status)
            .await
    }
}

/// How the report ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// CodeDeploy took the status.
    Accepted,
    /// CodeDeploy already had a status for this execution.
    AlreadyCompleted,
}

/// The report could not be made: the one case where the invocation errs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "could not report {status} to CodeDeploy for deployment {deployment_id} after {attempts} attempt(s): {last_error}"
)]
pub struct ReportFailure {
    /// The status that was not delivered.
    pub status: Status,
    /// The deployment.
    pub deployment_id: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last attempt's error.
    pub last_error: String,
}

/// Reports `status` once, retrying transient errors with backoff until `until`,
/// in the engine's one deadline-bounded loop. A failure carries the last
/// error CodeDeploy gave, even when the time ran out during a pause.
pub async fn deliver<R: StatusReporter>(
    reporter: &R,
    event: &HookEvent,
    status: Status,
    until: Instant,
) -> Result<(Delivery, u32), ReportFailure> {
    let fail = |attempts, last_error: String| ReportFailure {
        status,
        deployment_id: event.deployment_id.clone(),
        attempts,
        last_error,
    };
    let backoff = Backoff::doubling(FIRST_BACKOFF, MAX_BACKOFF);
    let mut next_pause = backoff.first;
    let mut last_error = String::new();
    until_done(until, backoff, async |attempt| {
        // Even with no time left, one attempt is made: Lambda ends the process
        // at the real deadline anyway, and an attempt may still get through.
        if attempt > 1 && Instant::now() >= until {
            return Step::Done(Err(fail(attempt - 1, last_error.clone())));
        }
        let left = until
            .saturating_duration_since(Instant::now())
            .max(LAST_CHANCE);
        let outcome = match tokio::time::timeout(
            ATTEMPT_TIMEOUT.min(left),
            reporter.put_status(event, status),
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(_) => Err(ReportError::Transient(format!(
                "no answer within {} ms",
                ATTEMPT_TIMEOUT.min(left).as_millis()
            ))),
        };
        match outcome {
            Ok(()) => Step::Done(Ok((Delivery::Accepted, attempt))),
            Err(ReportError::AlreadyCompleted(message)) => {
                tracing::info!(
                    deployment_id = %event.deployment_id,
                    attempts = attempt,
                    message = %message,
                    "CodeDeploy already had a status for this hook execution; nothing more to report"
                );
                Step::Done(Ok((Delivery::AlreadyCompleted, attempt)))
            }
            Err(ReportError::Rejected(message)) => Step::Done(Err(fail(attempt, message))),
            Err(ReportError::Transient(message)) => {
                let left = until.saturating_duration_since(Instant::now());
                if next_pause >= left {
                    return Step::Done(Err(fail(attempt, message)));
                }
                tracing::warn!(attempts = attempt, error = %message, backoff_ms = next_pause.as_millis(), "reporting to CodeDeploy failed; retrying");
                next_pause = next_pause.saturating_mul(backoff.factor).min(backoff.max);
                last_error = message;
                Step::Again
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_reporter::FakeReporter;

    fn event() -> HookEvent {
        HookEvent {
            deployment_id: "d-1".into(),
            execution_id: "x".into(),
        }
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    #[tokio::test]
    async fn retries_transient_errors_then_delivers() {
        let reporter = FakeReporter::failing_first(vec![
            ReportError::Transient("ThrottlingException".into()),
            ReportError::Transient("500".into()),
        ]);
        let outcome = deliver(&reporter, &event(), Status::Succeeded, far()).await;
        assert_eq!(outcome, Ok((Delivery::Accepted, 3)));
    }

    #[tokio::test]
    async fn already_completed_is_done() {
        let reporter =
            FakeReporter::failing_first(vec![ReportError::AlreadyCompleted("done".into())]);
        let outcome = deliver(&reporter, &event(), Status::Failed, far()).await;
        assert_eq!(outcome, Ok((Delivery::AlreadyCompleted, 1)));
    }

    #[tokio::test]
    async fn a_rejection_is_not_retried() {
        let reporter = FakeReporter::failing_first(vec![ReportError::Rejected(
            "AccessDeniedException".into(),
        )]);
        let failure = deliver(&reporter, &event(), Status::Failed, far())
            .await
            .unwrap_err();
        assert_eq!(
            (failure.attempts, failure.last_error.as_str()),
            (1, "AccessDeniedException")
        );
    }

    #[tokio::test]
    async fn stops_retrying_at_the_deadline() {
        let reporter = FakeReporter::failing_first(vec![ReportError::Transient("503".into()); 100]);
        let until = Instant::now() + Duration::from_millis(500);
        let failure = deliver(&reporter, &event(), Status::Failed, until)
            .await
            .unwrap_err();
        assert!(Instant::now() <= until + Duration::from_millis(50));
        assert!(
            failure.attempts >= 2 && failure.attempts < 10,
            "{}",
            failure.attempts
        );
    }
}

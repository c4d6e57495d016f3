//! `--report`: the verdict as a hook execution's status to CodeDeploy, once,
//! the one write the command line ever makes. Throttling and 5xx answers are
//! tried again (within [`REPORT_WINDOW`], in the engine's deadline-bounded
//! loop); "already completed" means CodeDeploy has a status, which is said,
//! not hidden.

use std::time::Duration;

use greenlight::Status;
use greenlight::attempts::{Backoff, Step, until_done};
use greenlight_aws::{CodeDeployReporter, ReportError};
use tokio::time::Instant;

use crate::error::CliError;

/// How long the report may keep trying.
pub const REPORT_WINDOW: Duration = Duration::from_secs(30);
/// Longest wait for one answer from CodeDeploy.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// Reports `status` for the hook execution `execution_id` of deployment
/// `deployment_id`.
pub async fn report(
    reporter: &CodeDeployReporter,
    deployment_id: &str,
    execution_id: &str,
    status: Status,
) -> Result<(), CliError> {
    let until = Instant::now() + REPORT_WINDOW;
    let backoff = Backoff::doubling(Duration::from_millis(200), Duration::from_secs(3));
    let mut last = String::new();
    until_done(until, backoff, async |attempt| {
        if attempt > 1 && Instant::now() >= until {
            return Step::Done(Err(CliError::Report(last.clone())));
        }
        let sent = tokio::time::timeout(
            ATTEMPT_TIMEOUT,
            reporter.put_status(deployment_id, execution_id, status),
        )
        .await
        .unwrap_or_else(|_| {
            Err(ReportError::Transient(format!(
                "no answer within {} s",
                ATTEMPT_TIMEOUT.as_secs()
            )))
        });
        match sent {
            Ok(()) => Step::Done(Ok(())),
            Err(ReportError::AlreadyCompleted(message)) => Step::Done(Err(CliError::Report(
                format!("already completed: {message}"),
            ))),
            Err(ReportError::Rejected(message)) => Step::Done(Err(CliError::Report(message))),
            Err(ReportError::Transient(message)) => {
                last = message;
                Step::Again
            }
        }
    })
    .await
}

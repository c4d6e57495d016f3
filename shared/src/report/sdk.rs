//! The CodeDeploy port on the AWS SDK for Rust.

use aws_sdk_codedeploy::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_codedeploy::operation::put_lifecycle_event_hook_execution_status::PutLifecycleEventHookExecutionStatusError as PutError;
use aws_sdk_codedeploy::types::LifecycleEventStatus;

use super::{ReportError, StatusReporter};
use crate::event::HookEvent;
use crate::verdict::Status;

/// The production reporter: the AWS SDK's CodeDeploy client, built once per
/// cold start, with the SDK's own retries off ([`deliver`](super::deliver) retries within the
/// deadline instead).
#[derive(Debug, Clone)]
pub struct CodeDeployReporter {
    client: aws_sdk_codedeploy::Client,
}

impl CodeDeployReporter {
    /// Wraps a client.
    pub fn new(client: aws_sdk_codedeploy::Client) -> Self {
        CodeDeployReporter { client }
    }
}

impl StatusReporter for CodeDeployReporter {
    async fn put_status(&self, event: &HookEvent, status: Status) -> Result<(), ReportError> {
        let status = match status {
            Status::Succeeded => LifecycleEventStatus::Succeeded,
            Status::Failed => LifecycleEventStatus::Failed,
        };
        self.client
            .put_lifecycle_event_hook_execution_status()
            .deployment_id(&event.deployment_id)
            .lifecycle_event_hook_execution_id(&event.execution_id)
            .status(status)
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    }
}

/// Error codes that mean "try again later".
const TRANSIENT_CODES: [&str; 6] = [
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "InternalFailure",
];

fn classify(
    error: SdkError<PutError, aws_sdk_codedeploy::config::http::HttpResponse>,
) -> ReportError {
    let message = DisplayErrorContext(&error).to_string();
    match &error {
        SdkError::ServiceError(context) => {
            let err = context.err();
            if matches!(err, PutError::LifecycleEventAlreadyCompletedException(_)) {
                return ReportError::AlreadyCompleted(err.message().unwrap_or_default().to_owned());
            }
            let server_side = context.raw().status().is_server_error();
            if server_side
                || err
                    .code()
                    .is_some_and(|code| TRANSIENT_CODES.contains(&code))
            {
                ReportError::Transient(message)
            } else {
                ReportError::Rejected(message)
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            ReportError::Transient(message)
        }
        _ => ReportError::Rejected(message),
    }
}

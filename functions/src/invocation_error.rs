//! The one error the Lambda front returns: an invocation that could not end
//! in a status report. Each kind has a stable name, which `lambda_runtime`
//! posts to the Runtime API as the `errorType` (what Lambda's metrics,
//! destinations and an operator's alarms see), instead of a Rust type name.

use lambda_runtime::Diagnostic;

use crate::event::EventError;
use crate::report::ReportFailure;

/// Why an invocation ended without a status report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvocationError {
    /// Not a CodeDeploy lifecycle hook event: there is nobody to report to.
    #[error(transparent)]
    InvalidEvent(#[from] EventError),
    /// CodeDeploy did not take the status before the deadline, or refused it.
    #[error(transparent)]
    ReportFailed(#[from] ReportFailure),
    /// A panic after the status was reported: CodeDeploy has its answer.
    #[error("greenlight panicked after reporting: {0}")]
    PanicAfterReport(String),
}

impl InvocationError {
    /// The stable name of this kind of error, posted as the `errorType`.
    pub fn name(&self) -> &'static str {
        match self {
            InvocationError::InvalidEvent(_) => "InvalidEvent",
            InvocationError::ReportFailed(_) => "ReportFailed",
            InvocationError::PanicAfterReport(_) => "PanicAfterReport",
        }
    }
}

impl From<InvocationError> for Diagnostic {
    fn from(error: InvocationError) -> Diagnostic {
        Diagnostic {
            error_type: error.name().to_owned(),
            error_message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use greenlight::Status;
    use serde_json::json;

    use super::*;
    use crate::event::HookEvent;

    #[test]
    fn each_kind_posts_its_stable_name_and_its_message() {
        // GIVEN one error of each kind
        let invalid = HookEvent::parse(&json!("not an object")).expect_err("invalid");
        let failed = ReportFailure {
            status: Status::Failed,
            deployment_id: "d-1".to_owned(),
            attempts: 3,
            last_error: "ThrottlingException: Rate exceeded".to_owned(),
        };
        let errors = [
            InvocationError::from(invalid),
            InvocationError::from(failed),
            InvocationError::PanicAfterReport("boom".to_owned()),
        ];
        // WHEN each becomes what the runtime posts
        let posted: Vec<Diagnostic> = errors.into_iter().map(Diagnostic::from).collect();
        // THEN the errorType is the stable name, the message the error's text
        let types: Vec<&str> = posted.iter().map(|d| d.error_type.as_str()).collect();
        assert_eq!(types, ["InvalidEvent", "ReportFailed", "PanicAfterReport"]);
        assert!(
            posted[0]
                .error_message
                .starts_with("event: expected a JSON object"),
            "{}",
            posted[0].error_message
        );
        assert_eq!(
            posted[1].error_message,
            "could not report Failed to CodeDeploy for deployment d-1 after 3 attempt(s): ThrottlingException: Rate exceeded"
        );
        assert_eq!(
            posted[2].error_message,
            "greenlight panicked after reporting: boom"
        );
    }
}

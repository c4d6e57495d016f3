//! The CodeDeploy status report on the AWS SDK for Rust: one attempt of
//! `PutLifecycleEventHookExecutionStatus`, its failure classified (retry or
//! not) and told on one short line. Retrying within the deadline is the
//! front door's job.

use aws_sdk_codedeploy::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_codedeploy::operation::put_lifecycle_event_hook_execution_status::PutLifecycleEventHookExecutionStatusError as PutError;
use aws_sdk_codedeploy::types::LifecycleEventStatus;
use greenlight::Status;

/// The IAM action the report needs.
pub const REPORT_API: &str = "codedeploy:PutLifecycleEventHookExecutionStatus";

/// Why one report attempt did not get through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// `LifecycleEventAlreadyCompletedException`: nothing left to do.
    #[error("already completed: {0}")]
    AlreadyCompleted(String),
    /// Throttling, 5xx, timeout, connection trouble: worth another try.
    #[error("{0}")]
    Transient(String),
    /// Anything else (access denied, unknown deployment, bad ID): retrying
    /// would not help.
    #[error("{0}")]
    Rejected(String),
}

/// Longest error text a report log line carries.
pub const MAX_ERROR_CHARS: usize = 200;

/// `text` as one line of at most [`MAX_ERROR_CHARS`] characters: line breaks
/// and other control characters become spaces, runs of blanks one space, and
/// a longer text is cut (marked with `…`).
pub fn one_line(text: &str) -> String {
    let mut line = String::new();
    for word in text.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if line.chars().count() > MAX_ERROR_CHARS {
        line = line.chars().take(MAX_ERROR_CHARS - 1).collect();
        line.push('…');
    }
    line
}

/// The production reporter: the AWS SDK's CodeDeploy client, built once per
/// cold start, with the SDK's own retries off (the front door retries within
/// the deadline instead).
#[derive(Debug, Clone)]
pub struct CodeDeployReporter {
    client: aws_sdk_codedeploy::Client,
}

impl CodeDeployReporter {
    /// Wraps a client.
    pub fn new(client: aws_sdk_codedeploy::Client) -> Self {
        CodeDeployReporter { client }
    }

    /// A reporter with a client of its own, built from `config`.
    pub fn from_conf(config: aws_sdk_codedeploy::Config) -> Self {
        CodeDeployReporter::new(aws_sdk_codedeploy::Client::from_conf(config))
    }

    /// One attempt to report `status` for the hook execution `execution_id`
    /// of deployment `deployment_id`.
    pub async fn put_status(
        &self,
        deployment_id: &str,
        execution_id: &str,
        status: Status,
    ) -> Result<(), ReportError> {
        let status = match status {
            Status::Succeeded => LifecycleEventStatus::Succeeded,
            Status::Failed => LifecycleEventStatus::Failed,
        };
        self.client
            .put_lifecycle_event_hook_execution_status()
            .deployment_id(deployment_id)
            .lifecycle_event_hook_execution_id(execution_id)
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

type PutFailure = SdkError<PutError, aws_sdk_codedeploy::config::http::HttpResponse>;

fn classify(error: PutFailure) -> ReportError {
    let message = describe(&error);
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

/// One short line for the log and the verdict: the error code and message
/// CodeDeploy answered (or the HTTP status), or what kind of failure kept the
/// call from an answer, with its causes; never the SDK's debug dump.
fn describe(error: &PutFailure) -> String {
    let text = match error {
        SdkError::ServiceError(context) => {
            let err = context.err();
            let code = err.code().map_or_else(
                || format!("HTTP {}", context.raw().status().as_u16()),
                str::to_owned,
            );
            format!("{code}: {}", err.message().unwrap_or("(no message)"))
        }
        SdkError::DispatchFailure(failure) => {
            let kind = if failure.is_timeout() {
                "timeout"
            } else if failure.is_io() {
                "io"
            } else if failure.is_user() {
                "user"
            } else {
                "other"
            };
            let causes = failure
                .as_connector_error()
                .map(|connector| causes(connector))
                .unwrap_or_default();
            format!("dispatch failure ({kind}){causes}")
        }
        SdkError::TimeoutError(_) => "timeout: the SDK's timeout ended the attempt".to_owned(),
        SdkError::ResponseError(failure) => {
            format!(
                "unreadable response (HTTP {}){}",
                failure.raw().status().as_u16(),
                causes(error)
            )
        }
        SdkError::ConstructionFailure(_) => format!("request not built{}", causes(error)),
        _ => format!("failed{}", causes(error)),
    };
    one_line(&text)
}

/// `: cause: cause…` for the sources of `error`.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = String::new();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use aws_sdk_codedeploy::error::ErrorMetadata;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    use super::*;

    #[test]
    fn an_error_text_becomes_one_bounded_line() {
        assert_eq!(
            one_line("  Throttling:\n  Rate\texceeded \r\n"),
            "Throttling: Rate exceeded"
        );
        let long = one_line(&"x".repeat(1500));
        assert_eq!(long.chars().count(), MAX_ERROR_CHARS);
        assert!(long.ends_with('…'));
    }

    fn answered(status: u16, code: Option<&str>, message: &str) -> PutFailure {
        let mut meta = ErrorMetadata::builder().message(message);
        if let Some(code) = code {
            meta = meta.code(code);
        }
        let raw = Response::new(
            StatusCode::try_from(status).expect("status"),
            SdkBody::from(message),
        );
        SdkError::service_error(PutError::generic(meta.build()), raw)
    }

    #[test]
    fn throttling_is_one_short_transient_line() {
        let error = classify(answered(400, Some("ThrottlingException"), "Rate exceeded"));
        assert_eq!(
            error,
            ReportError::Transient("ThrottlingException: Rate exceeded".to_owned())
        );
    }

    #[test]
    fn a_server_error_without_a_code_names_the_status_and_stays_bounded() {
        // GIVEN a proxy's 502 with an HTML page as the message
        let page = format!(
            "<html>\n<body>{}</body>\n</html>",
            "bad gateway ".repeat(100)
        );
        let error = classify(answered(502, None, &page));
        // THEN one line of at most 200 characters, retried
        let ReportError::Transient(line) = error else {
            panic!("expected a transient error, got {error:?}");
        };
        assert!(
            line.starts_with("HTTP 502: <html> <body>bad gateway"),
            "{line}"
        );
        assert!(
            line.chars().count() <= 200 && !line.contains('\n'),
            "{line}"
        );
    }

    #[test]
    fn a_connection_failure_says_its_kind_and_cause() {
        use aws_smithy_runtime_api::client::result::ConnectorError;
        let refused = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "tcp connect error: Connection refused (os error 111)",
        );
        let error = classify(SdkError::dispatch_failure(ConnectorError::io(Box::new(
            refused,
        ))));
        assert_eq!(
            error,
            ReportError::Transient(
                "dispatch failure (io): tcp connect error: Connection refused (os error 111)"
                    .to_owned()
            )
        );
    }

    #[test]
    fn access_denied_is_rejected_with_its_code() {
        let error = classify(answered(400, Some("AccessDeniedException"), "not allowed"));
        assert_eq!(
            error,
            ReportError::Rejected("AccessDeniedException: not allowed".to_owned())
        );
    }
}

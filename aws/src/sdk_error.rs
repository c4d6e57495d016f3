//! AWS SDK errors as the engine's [`AwsError`]: the API's name and what went
//! wrong, on one bounded line.

use aws_sdk_codedeploy::config::http::HttpResponse;
use aws_sdk_codedeploy::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use greenlight::cloud::{AwsError, one_line};

/// Most characters of a raw error body kept in a message.
const RAW_BODY_CHARS: usize = 200;
/// An SDK error as the API's name and what went wrong, on one bounded line.
pub(crate) fn failed<E>(api: &'static str) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    move |error| AwsError::new(api, describe(&error))
}

/// The modelled error code and message when AWS sent them; otherwise the
/// HTTP status and the start of the body (a proxy's HTML page, say), as one
/// line; otherwise the error chain (no answer at all: timeout, connection).
pub(crate) fn describe<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let Some(service) = error.as_service_error()
        && (service.code().is_some() || service.message().is_some())
    {
        return format!(
            "{}: {}",
            service.code().unwrap_or("error"),
            service.message().unwrap_or("(no message)")
        );
    }
    match error.raw_response() {
        Some(raw) => {
            let body = String::from_utf8_lossy(raw.body().bytes().unwrap_or_default());
            let body = one_line(&body, RAW_BODY_CHARS);
            format!(
                "HTTP {}: {}",
                raw.status().as_u16(),
                if body.is_empty() {
                    "(empty body)"
                } else {
                    &body
                }
            )
        }
        None => DisplayErrorContext(error).to_string(),
    }
}

/// An answer without a field the read needs.
pub(crate) fn missing(api: &'static str, what: &str) -> AwsError {
    AwsError::new(api, format!("the answer has no {what}"))
}

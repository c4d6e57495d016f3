//! The port a hook hands the rest of its judgement through: an asynchronous
//! invocation of itself with a continuation event. Lambda's `Invoke` in
//! production ([`LambdaInvoker`]); [`NoHandOff`] where there is no Lambda.

use std::future::Future;

use greenlight::cloud::AwsError;
use greenlight_aws::LambdaInvoker;
use serde_json::Value;

/// The IAM action a hand-off needs, on the function's own ARN.
pub const INVOKE: &str = "lambda:InvokeFunction";

/// Starts a new run of `function` with `event`, without waiting for it.
pub trait HandOff: Send + Sync {
    /// One attempt: Lambda queued the event, or it did not.
    fn hand_off(
        &self,
        function: &str,
        event: &Value,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// Whether a hand-off can work at all; a runner that cannot hand off
    /// judges in one run.
    fn can_hand_off(&self) -> bool {
        true
    }
}

impl HandOff for LambdaInvoker {
    async fn hand_off(&self, function: &str, event: &Value) -> Result<(), AwsError> {
        let payload =
            serde_json::to_vec(event).map_err(|e| AwsError::new(INVOKE, e.to_string()))?;
        self.invoke_async(function, payload).await
    }
}

/// A runner that cannot hand off: a judgement that does not fit one run
/// fails when it would have to.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHandOff;

impl HandOff for NoHandOff {
    fn can_hand_off(&self) -> bool {
        false
    }

    async fn hand_off(&self, _function: &str, _event: &Value) -> Result<(), AwsError> {
        Err(AwsError::new(
            INVOKE,
            "this runner has no Lambda to hand the rest of the judgement to",
        ))
    }
}

//! Lambda `Invoke` on the AWS SDK for Rust: how a CodeDeploy hook whose bake
//! outlasts one Lambda run hands the rest to a new run of itself.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use greenlight::cloud::AwsError;

use crate::sdk_error::failed;

/// The Lambda client, for invoking the function itself.
#[derive(Debug, Clone)]
pub struct LambdaInvoker {
    lambda: aws_sdk_lambda::Client,
}

impl LambdaInvoker {
    /// Builds the client.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        LambdaInvoker {
            lambda: aws_sdk_lambda::Client::new(config),
        }
    }

    /// Invokes `function` asynchronously (invocation type `Event`) with
    /// `payload`: Lambda queues it and answers at once.
    pub async fn invoke_async(&self, function: &str, payload: Vec<u8>) -> Result<(), AwsError> {
        const API: &str = "lambda:InvokeFunction";
        let output = self
            .lambda
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(failed(API))?;
        match output.status_code() {
            202 => Ok(()),
            other => Err(AwsError::new(
                API,
                format!("HTTP {other} where an asynchronous invoke answers 202"),
            )),
        }
    }
}

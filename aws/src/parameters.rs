//! SSM Parameter Store on the AWS SDK for Rust: the engine's
//! [`ParameterReads`] port, for a spec kept in a parameter.

use greenlight::cloud::{AwsError, ParameterReads};

use crate::sdk_error::{failed, missing};

/// SSM Parameter Store, for a spec kept there.
#[derive(Debug, Clone)]
pub struct SsmParameters {
    ssm: aws_sdk_ssm::Client,
}

impl SsmParameters {
    /// Builds the client.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        SsmParameters {
            ssm: aws_sdk_ssm::Client::new(config),
        }
    }
}

impl ParameterReads for SsmParameters {
    async fn parameter(&self, name: &str) -> Result<String, AwsError> {
        const API: &str = "ssm:GetParameter";
        let output = self
            .ssm
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(failed(API))?;
        output
            .parameter()
            .and_then(|p| p.value())
            .map(str::to_owned)
            .ok_or_else(|| missing(API, "Parameter.Value"))
    }
}

//! S3 on the AWS SDK for Rust: the engine's [`ObjectReads`] port, for a spec
//! kept in an object.

use aws_sdk_codedeploy::error::DisplayErrorContext;
use greenlight::cloud::{AwsError, ObjectReads};

use crate::sdk_error::failed;

/// S3, for a spec kept in an object.
#[derive(Debug, Clone)]
pub struct S3Objects {
    s3: aws_sdk_s3::Client,
}

impl S3Objects {
    /// Builds the client.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        S3Objects {
            s3: aws_sdk_s3::Client::new(config),
        }
    }
}

impl ObjectReads for S3Objects {
    async fn object(&self, bucket: &str, key: &str, limit: usize) -> Result<Vec<u8>, AwsError> {
        const API: &str = "s3:GetObject";
        let output = self
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(failed(API))?;
        let most = limit.saturating_add(1);
        let announced = output
            .content_length()
            .and_then(|length| usize::try_from(length).ok())
            .unwrap_or(0);
        let mut bytes = Vec::with_capacity(announced.min(most));
        let mut body = output.body;
        while bytes.len() < most {
            let Some(chunk) = body.next().await else {
                break;
            };
            let chunk = chunk.map_err(|error| {
                AwsError::new(
                    API,
                    format!("reading the object: {}", DisplayErrorContext(&error)),
                )
            })?;
            let room = most - bytes.len();
            bytes.extend_from_slice(chunk.get(..room).unwrap_or(&chunk));
        }
        Ok(bytes)
    }
}

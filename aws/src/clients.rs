//! The AWS SDK clients, built once per process from one configuration: the
//! composition root of the AWS adapters. The retry settings are read first
//! without the SDK's panic ([`crate::retry_settings`]); reads retry as
//! configured within bounded timeouts; the report client does not retry (its
//! caller retries within the deadline).

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

use crate::cloud::SdkCloud;
use crate::invoker::LambdaInvoker;
use crate::objects::S3Objects;
use crate::parameters::SsmParameters;
use crate::reporter::CodeDeployReporter;
use crate::retry_settings::{RetrySettingError, retry_config_from_env};

/// Longest wait for one attempt of an AWS read.
pub const READ_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for an AWS read, its retries included.
pub const READ_TIMEOUT: Duration = Duration::from_secs(12);

/// Every AWS client greenlight uses.
#[derive(Debug, Clone)]
pub struct Clients {
    /// The engine's AWS reads (CodeDeploy, ECS, ELBv2, CloudWatch).
    pub cloud: SdkCloud,
    /// SSM Parameter Store, for a spec kept there.
    pub parameters: SsmParameters,
    /// S3, for a spec kept in an object.
    pub objects: S3Objects,
    /// Lambda, for a hook that hands its bake over to a new run of itself.
    pub lambda: LambdaInvoker,
    /// The configuration of the CodeDeploy client that reports (retries
    /// off), kept so that a reporter can be built again from it anywhere.
    pub reports: aws_sdk_codedeploy::Config,
    /// Retry settings the SDK would have panicked on; the standard retries
    /// are used instead, and the caller decides what the problems mean.
    pub retry_problems: Vec<RetrySettingError>,
}

impl Clients {
    /// Loads the SDK configuration from the environment (region,
    /// credentials, endpoints, profile) and builds the clients.
    pub async fn from_env() -> Self {
        // The retry settings first, without the SDK's panic; the SDK then
        // gets them (or the standard ones) explicitly and never reads them
        // itself.
        let (retry, retry_problems) = match retry_config_from_env().await {
            Ok(retry) => (retry, Vec::new()),
            Err(problems) => (RetryConfig::standard(), problems),
        };
        let reads = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(READ_ATTEMPT_TIMEOUT)
                    .operation_timeout(READ_TIMEOUT)
                    .build(),
            )
            .load()
            .await;
        let reports = aws_sdk_codedeploy::config::Builder::from(&reads)
            .retry_config(RetryConfig::disabled())
            .build();
        Clients {
            cloud: SdkCloud::new(&reads),
            parameters: SsmParameters::new(&reads),
            objects: S3Objects::new(&reads),
            lambda: LambdaInvoker::new(&reads),
            reports,
            retry_problems,
        }
    }

    /// Clients built from the variables alone (through `var`), without the
    /// SDK's configuration loader: for when loading it failed. Only the
    /// report client is meant to be used: it takes the region
    /// (`AWS_REGION`, else `AWS_DEFAULT_REGION`), the credentials from the
    /// environment and the endpoint (`AWS_ENDPOINT_URL_CODEDEPLOY`, else
    /// `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`).
    pub fn from_variables(var: impl Fn(&str) -> Option<String>) -> Self {
        let region = var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .map(aws_config::Region::new);
        let mut reports = aws_sdk_codedeploy::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(region.clone())
            .credentials_provider(
                aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
            )
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(READ_ATTEMPT_TIMEOUT)
                    .build(),
            );
        let ignore_endpoints = var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .is_some_and(|value| value.trim().eq_ignore_ascii_case("true"));
        if let Some(url) = var("AWS_ENDPOINT_URL_CODEDEPLOY")
            .or_else(|| var("AWS_ENDPOINT_URL"))
            .filter(|_| !ignore_endpoints)
        {
            reports = reports.endpoint_url(url.trim());
        }
        let reads = aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(region)
            .build();
        Clients {
            cloud: SdkCloud::new(&reads),
            parameters: SsmParameters::new(&reads),
            objects: S3Objects::new(&reads),
            lambda: LambdaInvoker::new(&reads),
            reports: reports.build(),
            retry_problems: Vec::new(),
        }
    }

    /// The retry settings the SDK would have panicked on, as one line
    /// (`; ` between them), or `None` when there are none.
    pub fn retry_problems_text(&self) -> Option<String> {
        (!self.retry_problems.is_empty()).then(|| {
            self.retry_problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// A CodeDeploy reporter on the report client's configuration.
    pub fn reporter(&self) -> CodeDeployReporter {
        CodeDeployReporter::from_conf(self.reports.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_from_variables_report_in_the_region_given_without_retries() {
        // GIVEN a region in the variables
        let var = |name: &str| (name == "AWS_REGION").then(|| "eu-west-1".to_owned());
        // WHEN the clients are built from them alone
        let clients = Clients::from_variables(var);
        // THEN the report client has that region, and no retries
        let reports = &clients.reports;
        assert_eq!(reports.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(reports.retry_config().map(|r| r.max_attempts()), Some(1));
    }

    #[test]
    fn the_default_region_stands_in_for_a_missing_region() {
        let var = |name: &str| (name == "AWS_DEFAULT_REGION").then(|| "us-east-2".to_owned());
        let clients = Clients::from_variables(var);
        assert_eq!(
            clients.reports.region().map(|r| r.as_ref()),
            Some("us-east-2")
        );
    }
}

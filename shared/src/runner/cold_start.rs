//! Cold start: the settings and the AWS and HTTP clients, built once per
//! process. Every piece of it ends in a runner that can report: a problem
//! becomes the reason every invocation reports `Failed`, and a panic anywhere
//! in it (in a build that unwinds, as the release build does) is caught, and
//! the runner is then built from parts that do not panic, with a CodeDeploy
//! client that can still deliver that `Failed`.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use futures::FutureExt;

use super::HookRunner;
use crate::cloud::sdk::{S3Objects, SdkCloud, SsmParameters};
use crate::engine::panic_message;
use crate::fault_injection;
use crate::guard::install_abort_hook;
use crate::hook::Hook;
use crate::plan::Plan;
use crate::probe::ReqwestProbe;
use crate::report::CodeDeployReporter;
use crate::sdk_retry::retry_config_from_env;
use crate::settings::{Settings, env_var as var};

/// Longest wait for one attempt of an AWS read.
const READ_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for an AWS read, its retries included.
const READ_TIMEOUT: Duration = Duration::from_secs(12);

/// The production runner.
type SdkRunner = HookRunner<ReqwestProbe, CodeDeployReporter, SdkCloud>;

impl SdkRunner {
    /// Reads the settings and builds the AWS and HTTP clients, once. Never
    /// fails: a problem, or a panic, becomes the reason every invocation
    /// reports `Failed`. (In a build that aborts on panic nothing can be
    /// caught: the one panic known at cold start, the AWS SDK's on a bad
    /// retry setting, is avoided instead.)
    pub async fn from_env(hook: Hook) -> Self {
        let (runner, reports) = match AssertUnwindSafe(build(hook)).catch_unwind().await {
            Ok(built) => built,
            Err(panic) => fallback(hook, &panic_message(panic.as_ref())),
        };
        install_abort_hook(runner.pending.clone(), move || {
            let reports = reports.clone();
            async move { CodeDeployReporter::new(aws_sdk_codedeploy::Client::from_conf(reports)) }
        });
        runner
    }
}

/// The cold start proper: the runner, and the CodeDeploy client
/// configuration the abort-build panic hook reports with.
async fn build(hook: Hook) -> (SdkRunner, aws_sdk_codedeploy::Config) {
    // The retry settings first, without the SDK's panic; the SDK then gets
    // them (or the standard ones) explicitly and never reads them itself.
    let retry = retry_config_from_env().await;
    // Reads retry as configured; the report retries on its own, within the
    // deadline.
    let reads = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry.clone().unwrap_or_else(|_| RetryConfig::standard()))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(READ_ATTEMPT_TIMEOUT)
                .operation_timeout(READ_TIMEOUT)
                .build(),
        )
        .load()
        .await;
    fault_injection::cold_start_panic(var);
    let parameters = SsmParameters::new(&reads);
    let objects = S3Objects::new(&reads);
    let mut settings = AssertUnwindSafe(Settings::from_env(&parameters, &objects))
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| {
            Settings::unusable(
                format!(
                    "reading the configuration panicked: {}",
                    panic_message(panic.as_ref())
                ),
                var,
            )
        });
    if let Err(problems) = &retry {
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        settings.refuse(&problems.join("; "));
    }
    let connection = settings
        .plan
        .as_ref()
        .map(Plan::connection)
        .unwrap_or_default();
    let probe = std::panic::catch_unwind(|| ReqwestProbe::new(connection))
        .unwrap_or_else(|_| ReqwestProbe::broken("building the HTTP client panicked"));
    if let (Some(error), Ok(_)) = (probe.error(), &settings.plan) {
        settings.refuse(error);
    }
    let reports = aws_sdk_codedeploy::config::Builder::from(&reads)
        .retry_config(RetryConfig::disabled())
        .build();
    let reporter = CodeDeployReporter::new(aws_sdk_codedeploy::Client::from_conf(reports.clone()));
    let runner = HookRunner::new(hook, settings, probe, reporter, SdkCloud::new(&reads));
    (runner, reports)
}

/// After a panic in [`build`]: a runner whose every invocation reports
/// `Failed` with `panic` as the reason (`Succeeded` in dry run), built from
/// the environment alone, without the SDK's config loader. Its CodeDeploy
/// client takes the region, the credentials and the endpoint
/// (`AWS_ENDPOINT_URL_CODEDEPLOY`, else `AWS_ENDPOINT_URL`) from the
/// variables Lambda (or a test) sets.
fn fallback(hook: Hook, panic: &str) -> (SdkRunner, aws_sdk_codedeploy::Config) {
    let reason = format!("the cold start panicked: {panic}");
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
    let reports = reports.build();
    // Never called: the plan is unusable, so no invocation reads AWS.
    let reads = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .build();
    let runner = HookRunner::new(
        hook,
        Settings::unusable(reason, var),
        ReqwestProbe::broken("the cold start panicked"),
        CodeDeployReporter::new(aws_sdk_codedeploy::Client::from_conf(reports.clone())),
        SdkCloud::new(&reads),
    );
    (runner, reports)
}

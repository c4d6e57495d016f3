//! The CodeDeploy front door of greenlight: the three ECS lifecycle hooks
//! (`AfterAllowTestTraffic`, `BeforeAllowTraffic`, `AfterAllowTraffic`) as
//! AWS Lambda functions.
//!
//! One invocation: the Lambda event becomes a [`HookEvent`], the guard
//! records that a status is owed, the engine (`greenlight::judge`) judges the
//! deployment the event names, the verdict is logged, and exactly one status
//! is reported to CodeDeploy ([`report::deliver`]). The binaries in
//! `src/bin/` are [`run`] with their hook; [`cold_start`] builds the runner
//! once per process from the environment ([`greenlight_aws::Clients`]).

pub mod chain;
pub mod cold_start;
pub mod continuation;
pub mod event;
#[cfg(test)]
mod fake_reporter;
pub mod guard;
pub mod hand_off;
pub mod invocation_error;
pub mod report;
pub mod runner;

pub use event::HookEvent;
pub use greenlight::Hook;
pub use invocation_error::InvocationError;
pub use runner::HookRunner;

/// Runs the Lambda function of `hook` until the runtime stops it: tracing
/// set up as Lambda configures it, the runner built once, then one
/// invocation at a time.
pub async fn run(hook: Hook) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let runner = HookRunner::from_env(hook).await;
    lambda_runtime::run(lambda_runtime::service_fn(|event| runner.handle(event))).await
}

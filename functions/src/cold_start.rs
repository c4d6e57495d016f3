//! Cold start: the settings and the AWS and HTTP clients, built once per
//! process. Every piece of it ends in a runner that can report: a problem
//! becomes the reason every invocation reports `Failed`, and a panic anywhere
//! in it (in a build that unwinds, as the release build does) is caught, and
//! the runner is then built from parts that do not panic, with a CodeDeploy
//! client that can still deliver that `Failed`.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use greenlight::fault_injection;
use greenlight::hook::Hook;
use greenlight::panic_message::panic_message;
use greenlight::probe::ReqwestProbe;
use greenlight::settings::{Settings, env_var as var};
use greenlight_aws::{Clients, CodeDeployReporter, LambdaInvoker, SdkCloud};

use crate::guard::install_abort_hook;
use crate::runner::HookRunner;

/// The production runner.
type SdkRunner = HookRunner<ReqwestProbe, CodeDeployReporter, SdkCloud, LambdaInvoker>;

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
            async move { CodeDeployReporter::from_conf(reports) }
        });
        runner
    }
}

/// The cold start proper: the runner, and the CodeDeploy client
/// configuration the abort-build panic hook reports with.
async fn build(hook: Hook) -> (SdkRunner, aws_sdk_codedeploy::Config) {
    // Reads retry as configured (a retry setting the SDK would panic on is
    // refused below); the report retries on its own, within the deadline.
    let clients = Clients::from_env().await;
    fault_injection::cold_start_panic(var);
    let (settings, probe) = clients.configuration().await;
    let runner = HookRunner::new(hook, settings, probe, clients.reporter(), clients.cloud)
        .with_hand_off(clients.lambda);
    (runner, clients.reports)
}

/// After a panic in [`build`]: a runner whose every invocation reports
/// `Failed` with `panic` as the reason (`Succeeded` in dry run), built from
/// the environment alone, without the SDK's config loader (see
/// [`Clients::from_variables`]).
fn fallback(hook: Hook, panic: &str) -> (SdkRunner, aws_sdk_codedeploy::Config) {
    let reason = format!("the cold start panicked: {panic}");
    let clients = Clients::from_variables(var);
    // Its cloud is never read: the plan is unusable, so no invocation reads
    // AWS.
    let runner = HookRunner::new(
        hook,
        Settings::unusable(reason, var),
        ReqwestProbe::broken("the cold start panicked"),
        clients.reporter(),
        clients.cloud,
    )
    .with_hand_off(clients.lambda);
    (runner, clients.reports)
}

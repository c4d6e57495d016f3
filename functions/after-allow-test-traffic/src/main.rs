//! CodeDeploy hook for the ECS `AfterAllowTestTraffic` lifecycle event. Wiring only: the
//! engine is the `greenlight` crate in `shared/`.

use greenlight::{Hook, HookRunner};
use lambda_runtime::{Error, run, service_fn, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let runner = HookRunner::from_env(Hook::AfterAllowTestTraffic).await;
    run(service_fn(|event| runner.handle(event))).await
}

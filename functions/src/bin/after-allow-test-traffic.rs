//! CodeDeploy hook for the ECS `AfterAllowTestTraffic` lifecycle event.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    greenlight_codedeploy::run(greenlight_codedeploy::Hook::AfterAllowTestTraffic).await
}

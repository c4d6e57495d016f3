//! CodeDeploy hook for the ECS `AfterAllowTraffic` lifecycle event.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    greenlight_codedeploy::run(greenlight_codedeploy::Hook::AfterAllowTraffic).await
}

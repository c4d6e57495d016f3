//! The ECS-native blue/green lifecycle hook: one function for every stage
//! (the event names its stage).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    greenlight_ecs::run().await
}

//! greenlight's ECS-native front door: the Lambda function that ECS
//! blue/green deployments invoke as a lifecycle hook.
//!
//! # Overview
//!
//! ```text
//! ECS event ─► EcsEvent ─┬─ rollback? ─────────────────────► SUCCEEDED (passes through)
//!                        ├─ stage without checks ───────────► SUCCEEDED
//!                        └─ hookDetails ─► details::read ─► RoundState
//!                                                               │
//!              judge_round(plan, context, state, ports) ◄──────┘
//!                  ├─ Done(verdict) ─► SUCCEEDED | FAILED
//!                  └─ Again(state)  ─► IN_PROGRESS + callBackDelay + hookDetails
//! ```
//!
//! * [`EcsEvent`] is the invocation: its stage, the service deployment, and
//!   the traffic weights (both shapes AWS documents).
//! * The stage maps to the CodeDeploy moment whose checks it runs
//!   ([`greenlight::hook::EcsStage::hook`]): `POST_TEST_TRAFFIC_SHIFT` is
//!   AfterAllowTestTraffic, `PRE_PRODUCTION_TRAFFIC_SHIFT` BeforeAllowTraffic
//!   and `POST_PRODUCTION_TRAFFIC_SHIFT` AfterAllowTraffic.
//! * [`details`] carries the engine's [`greenlight::RoundState`] between
//!   rounds in `hookDetails`, versioned and checked.
//! * [`EcsHook`] handles one invocation and always answers an [`Answer`].

pub mod answer;
pub mod cold_start;
pub mod details;
pub mod event;
pub mod handler;

pub use answer::{Answer, HookStatus};
pub use event::EcsEvent;
pub use handler::EcsHook;

/// Runs the function until the runtime stops it: tracing set up as Lambda
/// configures it, the hook built once, then one invocation at a time.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let hook = EcsHook::from_env().await;
    lambda_runtime::run(lambda_runtime::service_fn(|event| hook.handle(event))).await
}

//! greenlight: the engine behind the CodeDeploy lifecycle hooks that gate ECS
//! blue/green deployments.
//!
//! Data flows one way: event → plan (spec + hook) → checks → verdict → report.
//! The hook binaries in `functions/` only wire this crate to the Lambda runtime.

pub mod assertion;
pub mod attempts;
pub mod check;
pub mod cloud;
pub mod discovery;
pub mod engine;
pub mod evaluation;
pub mod event;
pub mod fault_injection;
pub mod gate;
pub mod guard;
pub mod hook;
pub mod invocation_error;
pub mod json_path;
pub mod lifecycle;
pub mod plan;
pub mod probe;
pub mod readiness;
pub mod redaction;
pub mod report;
pub mod retry;
pub mod runner;
#[cfg(feature = "aws")]
pub mod sdk_retry;
pub mod settings;
pub mod spec;
pub mod stage;
pub mod verdict;

pub use event::HookEvent;
pub use hook::Hook;
pub use invocation_error::InvocationError;
pub use plan::Plan;
pub use runner::HookRunner;
pub use settings::Settings;
pub use verdict::{Status, Verdict};

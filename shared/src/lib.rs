//! greenlight: the engine that judges a green ECS deployment: its spec, its
//! checks, its gates and its verdict, behind ports. It knows neither Lambda
//! nor the AWS SDK; front doors do.
//!
//! Data flows one way: spec → [`Plan`] → [`Context`] → [`judge`] (through
//! its [`Ports`]) → [`Verdict`]. Front doors (the CodeDeploy hooks on Lambda
//! in `functions/`) turn their input into a context and the verdict into
//! their answer.

pub mod assertion;
pub mod attempts;
pub mod check;
pub mod cloud;
pub mod discovery;
pub mod engine;
pub mod evaluation;
pub mod fault_injection;
pub mod gate;
pub mod hook;
pub mod json_path;
pub mod judgement;
pub mod lifecycle;
pub mod no_cloud;
pub mod panic_message;
pub mod plan;
pub mod probe;
pub mod progress;
pub mod readiness;
pub mod redaction;
pub mod retry;
pub mod settings;
pub mod spec;
pub mod stage;
pub mod time;
pub mod verdict;

pub use hook::Hook;
pub use judgement::{Context, Green, Ports, StageFailure, judge};
pub use no_cloud::NoCloud;
pub use plan::Plan;
pub use progress::{Progress, Silent};
pub use settings::Settings;
pub use stage::Stage;
pub use verdict::{Status, Verdict};

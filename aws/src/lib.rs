//! greenlight's AWS adapters, on the AWS SDK for Rust: the engine's AWS read
//! ports ([`SdkCloud`] for CodeDeploy, ECS, ELBv2 and CloudWatch,
//! [`SsmParameters`] and [`S3Objects`] for a spec kept in AWS), the
//! CodeDeploy status report ([`CodeDeployReporter`]), the hook's hand-off to
//! itself ([`LambdaInvoker`]), and [`Clients`], which
//! builds all of them once from the environment.
//!
//! The engine (`greenlight`) knows none of this: it sees its ports. A front
//! door builds [`Clients`] and hands the adapters to the engine.

pub mod clients;
pub mod cloud;
mod configuration;
pub mod invoker;
pub mod objects;
pub mod parameters;
pub mod reporter;
pub mod retry_settings;
mod sdk_error;
mod service_deployments;

pub use clients::Clients;
pub use cloud::SdkCloud;
pub use invoker::LambdaInvoker;
pub use objects::S3Objects;
pub use parameters::SsmParameters;
pub use reporter::{CodeDeployReporter, ReportError};

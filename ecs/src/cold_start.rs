//! Cold start: the settings and the AWS and HTTP clients, built once per
//! process. It never fails: a problem, or a panic, becomes the reason every
//! gated invocation answers `FAILED`.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use greenlight::fault_injection;
use greenlight::panic_message::panic_message;
use greenlight::probe::ReqwestProbe;
use greenlight::settings::{Settings, env_var as var};
use greenlight_aws::{Clients, SdkCloud};

use crate::handler::EcsHook;

/// The production hook.
pub type SdkHook = EcsHook<ReqwestProbe, SdkCloud>;

impl SdkHook {
    /// Reads the settings and builds the clients, once.
    pub async fn from_env() -> Self {
        let built = AssertUnwindSafe(async {
            let clients = Clients::from_env().await;
            fault_injection::cold_start_panic(var);
            let (settings, probe) = clients.configuration().await;
            (settings, probe, clients.cloud)
        })
        .catch_unwind()
        .await;
        match built {
            Ok((settings, probe, cloud)) => EcsHook::new(settings, probe, cloud),
            Err(panic) => {
                let reason = format!("the cold start panicked: {}", panic_message(panic.as_ref()));
                // Its cloud is never read: the plan is unusable.
                EcsHook::new(
                    Settings::unusable(reason, var),
                    ReqwestProbe::broken("the cold start panicked"),
                    Clients::from_variables(var).cloud,
                )
            }
        }
    }
}

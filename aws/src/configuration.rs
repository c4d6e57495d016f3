//! A hook function's configuration at cold start, for every front door on
//! Lambda: the settings (the spec from the environment, SSM or S3) and the
//! HTTP client the plan asks for. It never fails: a problem, or a panic,
//! becomes the reason the settings refuse to judge.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use greenlight::panic_message::panic_message;
use greenlight::plan::Plan;
use greenlight::probe::ReqwestProbe;
use greenlight::settings::{Settings, env_var as var};

use crate::Clients;

impl Clients {
    /// Reads the settings through these clients and builds the HTTP probe.
    /// A retry setting the SDK would have panicked on, a panic while
    /// reading, or an HTTP client that cannot be built makes the settings
    /// unusable, saying why.
    pub async fn configuration(&self) -> (Settings, ReqwestProbe) {
        let mut settings = AssertUnwindSafe(Settings::from_env(&self.parameters, &self.objects))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                Settings::unusable(
                    format!(
                        "reading the configuration panicked: {}",
                        panic_message(panic.as_ref())
                    ),
                    var,
                )
            });
        if let Some(problems) = self.retry_problems_text() {
            settings.refuse(&problems);
        }
        let connection = settings
            .plan
            .as_ref()
            .map(Plan::connection)
            .unwrap_or_default();
        let probe = std::panic::catch_unwind(|| ReqwestProbe::new(connection))
            .unwrap_or_else(|_| ReqwestProbe::broken("building the HTTP client panicked"));
        if let (Some(error), Ok(_)) = (probe.error(), &settings.plan) {
            settings.refuse(error);
        }
        (settings, probe)
    }
}

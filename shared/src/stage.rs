//! The stages of a judgement, in the order they run, and why a stage did not
//! run. Stage names are values of one type, not text glued at each call site:
//! a reason such as "not run: no time left after the checks" names the stage
//! that used the time.

use std::fmt;

/// One stage of a judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Reading the deployment from AWS.
    Discovery,
    /// Verifying that the hook's own lifecycle event is in progress.
    Lifecycle,
    /// Waiting for green's task set and targets.
    Readiness,
    /// Finding where the checks go.
    Target,
    /// The HTTP checks.
    Checks,
    /// One look at the CloudWatch alarms.
    Alarms,
    /// Watching alarms and metrics after production moved (AfterAllowTraffic).
    Bake,
}

impl Stage {
    /// The name results of this stage carry in the verdict.
    pub const fn name(self) -> &'static str {
        match self {
            Stage::Discovery => "discovery",
            Stage::Lifecycle => "lifecycle",
            Stage::Readiness => "readiness",
            Stage::Target => "target",
            Stage::Checks => "checks",
            Stage::Alarms => "alarms",
            Stage::Bake => "bake",
        }
    }
}

impl fmt::Display for Stage {
    /// As a sentence names it: "the checks", "the bake".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {}", self.name())
    }
}

//! The stages of a judgement, in the order they run, and why a stage did not
//! run. Stage names are values of one type, not text glued at each call site:
//! a reason such as "not run: no time left after the checks" names the stage
//! that used the time.

use std::fmt;

use crate::check::{CheckResult, Outcome};

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

/// Why a stage did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRun {
    /// The stop time had come when its turn came; `after` is the last stage
    /// that ran, the one that used the time.
    NoTimeLeft {
        /// The stage that ran last.
        after: Stage,
    },
    /// An earlier stage failed, so the verdict is Failed already: running it
    /// would only delay the rollback.
    EarlierStageFailed,
}

impl fmt::Display for NotRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotRun::NoTimeLeft { after } => write!(f, "not run: no time left after {after}"),
            NotRun::EarlierStageFailed => f.write_str("not run: an earlier stage failed"),
        }
    }
}

impl NotRun {
    /// The result of `stage` not run for this reason. Lack of time fails (a
    /// gate that did not look has proven nothing); a stage skipped after a
    /// failure is listed but adds no reason of its own.
    pub fn result(self, stage: Stage) -> CheckResult {
        CheckResult {
            name: stage.name().to_owned(),
            outcome: match self {
                NotRun::NoTimeLeft { .. } => Outcome::Fail,
                NotRun::EarlierStageFailed => Outcome::Skipped,
            },
            reason: Some(self.to_string()),
            attempts: 0,
            duration_ms: 0,
            assertions: Vec::new(),
            error: None,
            flow: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_without_time_fails_naming_the_stage_that_used_it() {
        // GIVEN the checks used the time up
        let why = NotRun::NoTimeLeft {
            after: Stage::Checks,
        };
        // WHEN the alarms' turn comes
        let result = why.result(Stage::Alarms);
        // THEN they fail, saying why, without blaming CloudWatch
        assert_eq!(result.outcome, Outcome::Fail);
        assert_eq!(result.name, "alarms");
        assert_eq!(
            result.summary(),
            "alarms: not run: no time left after the checks"
        );
    }

    #[test]
    fn a_stage_after_a_failure_is_skipped() {
        let result = NotRun::EarlierStageFailed.result(Stage::Bake);
        assert_eq!(result.outcome, Outcome::Skipped);
        assert!(!result.passed());
        assert_eq!(
            result.reason.as_deref(),
            Some("not run: an earlier stage failed")
        );
    }
}

//! The verdict: a value derived from the check results, never thrown.

use std::fmt;

use serde::Serialize;

use crate::check::CheckResult;
use crate::hook::Hook;
use crate::redaction::Redactor;

/// What greenlight tells CodeDeploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Status {
    /// Green is good: CodeDeploy goes on.
    Succeeded,
    /// Green is not proven good: CodeDeploy rolls back.
    Failed,
}

impl Status {
    /// As CodeDeploy spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "Succeeded",
            Status::Failed => "Failed",
        }
    }

    /// What CodeDeploy is told for a verdict of this status: the verdict
    /// itself, or `Succeeded` in dry run. Every path that reports (the normal
    /// one and both panic guards) goes through this.
    pub fn to_report(self, dry_run: bool) -> Status {
        if dry_run { Status::Succeeded } else { self }
    }

    /// The words a log line adds after the status it reports: what dry run
    /// hid, if it hid anything.
    pub fn dry_run_note(verdict: Status, dry_run: bool) -> &'static str {
        match (verdict, dry_run) {
            (Status::Failed, true) => " (DRY RUN: the verdict is Failed)",
            _ => "",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of one hook invocation, with everything that led to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The hook that judged.
    pub hook: Hook,
    /// Succeeded only if every check ran and passed.
    pub status: Status,
    /// Why it failed: one line per failing check, or the problem that stopped
    /// the checks from running. Empty when it succeeded.
    pub reasons: Vec<String>,
    /// Every check's result.
    pub checks: Vec<CheckResult>,
    /// What an operator should know even when it succeeded, e.g. a metric
    /// gate that saw no datapoint in the whole bake.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Verdict {
    /// Derives the verdict from the results. No results at all is a failure:
    /// a hook that checked nothing has proven nothing. Each failed result
    /// gives a reason; a skipped one gives none (the failure before it did),
    /// and Succeeded needs every result passed.
    pub fn from_checks(hook: Hook, checks: Vec<CheckResult>) -> Self {
        let mut reasons: Vec<String> = checks
            .iter()
            .filter(|c| c.failed_outright())
            .map(CheckResult::summary)
            .collect();
        if checks.is_empty() {
            reasons.push(format!(
                "no check in the spec runs in {hook}: add one, or list {hook} in a check's \"hooks\""
            ));
        }
        let status = if reasons.is_empty() && checks.iter().all(CheckResult::passed) {
            Status::Succeeded
        } else {
            Status::Failed
        };
        Verdict {
            hook,
            status,
            reasons,
            checks,
            warnings: Vec::new(),
        }
    }

    /// This verdict with `warnings` added.
    pub fn with_warnings(mut self, warnings: Vec<String>) -> Self {
        self.warnings.extend(warnings);
        self
    }

    /// A failure before any check could run (bad spec, bad configuration…).
    pub fn failed(hook: Hook, reason: String) -> Self {
        Verdict {
            hook,
            status: Status::Failed,
            reasons: vec![reason],
            checks: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The verdict with every text redacted: the last pass before anything
    /// of it is logged, answered or sent. Each result was redacted where it
    /// was made; this one is for whatever a stage let through.
    pub fn redacted(mut self, redactor: &Redactor) -> Self {
        if redactor.is_empty() {
            return self;
        }
        for text in self.reasons.iter_mut().chain(self.warnings.iter_mut()) {
            *text = redactor.redact(text);
        }
        for check in &mut self.checks {
            check.redact(redactor);
        }
        self
    }

    /// Names of the checks that failed (not those skipped).
    pub fn failing_checks(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|c| c.failed_outright())
            .map(|c| c.name.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::assertion::AssertionResult;
    use crate::check::Outcome;

    fn result(name: &str, passed: bool) -> CheckResult {
        CheckResult {
            name: name.to_owned(),
            outcome: if passed { Outcome::Pass } else { Outcome::Fail },
            reason: (!passed).then(|| "failed after 3 attempt(s)".to_owned()),
            attempts: if passed { 1 } else { 3 },
            duration_ms: 5,
            assertions: vec![AssertionResult {
                passed,
                expected: "status == 200".to_owned(),
                actual: if passed { "200" } else { "503" }.to_owned(),
            }],
            error: None,
            flow: None,
        }
    }

    #[test]
    fn all_passing_checks_succeed() {
        let verdict = Verdict::from_checks(
            Hook::BeforeAllowTraffic,
            vec![result("a", true), result("b", true)],
        );
        assert_eq!(verdict.status, Status::Succeeded);
        assert!(verdict.reasons.is_empty());
    }

    #[test]
    fn one_failing_check_fails_and_is_named_with_expected_and_actual() {
        let verdict = Verdict::from_checks(
            Hook::AfterAllowTraffic,
            vec![result("a", true), result("b", false)],
        );
        assert_eq!(verdict.status, Status::Failed);
        assert_eq!(verdict.failing_checks(), vec!["b"]);
        assert_eq!(
            verdict.reasons,
            vec!["b: expected status == 200, got 503 (failed after 3 attempt(s))"]
        );
    }

    #[test]
    fn no_checks_is_a_failure() {
        let verdict = Verdict::from_checks(Hook::AfterAllowTestTraffic, Vec::new());
        assert_eq!(verdict.status, Status::Failed);
        assert!(verdict.reasons[0].contains("no check in the spec runs in AfterAllowTestTraffic"));
    }

    #[test]
    fn a_panicked_check_fails_with_its_reason() {
        let panicked = CheckResult::failed(
            "boom",
            "the check panicked: oops".to_owned(),
            Duration::ZERO,
        );
        let verdict = Verdict::from_checks(Hook::AfterAllowTraffic, vec![panicked]);
        assert_eq!(verdict.status, Status::Failed);
        assert_eq!(verdict.reasons, vec!["boom: the check panicked: oops"]);
    }

    #[test]
    fn a_skipped_result_adds_no_reason_and_is_no_pass() {
        // GIVEN a failed check and the bake skipped after it
        let skipped = crate::stage::NotRun::EarlierStageFailed.result(crate::stage::Stage::Bake);
        // WHEN the verdict is derived
        let verdict =
            Verdict::from_checks(Hook::AfterAllowTraffic, vec![result("a", false), skipped]);
        // THEN it fails for the check alone, listing the bake
        assert_eq!(verdict.status, Status::Failed);
        assert_eq!(verdict.reasons.len(), 1);
        assert_eq!(verdict.failing_checks(), vec!["a"]);
        assert_eq!(verdict.checks[1].outcome, Outcome::Skipped);
        let json = serde_json::to_value(&verdict).expect("serializes");
        assert_eq!(json["checks"][1]["outcome"], "skipped");
        // AND a skipped result alone is never Succeeded
        let alone = Verdict::from_checks(
            Hook::AfterAllowTraffic,
            vec![crate::stage::NotRun::EarlierStageFailed.result(crate::stage::Stage::Bake)],
        );
        assert_eq!(alone.status, Status::Failed);
    }

    #[test]
    fn warnings_are_serialized_only_when_there_are_some() {
        let verdict = Verdict::from_checks(Hook::AfterAllowTraffic, vec![result("a", true)]);
        let json = serde_json::to_value(&verdict).expect("serializes");
        assert!(json.get("warnings").is_none());
        let verdict = verdict.with_warnings(vec!["bake: metric x saw no datapoint".to_owned()]);
        assert_eq!(verdict.status, Status::Succeeded);
        let json = serde_json::to_value(&verdict).expect("serializes");
        assert_eq!(json["warnings"][0], "bake: metric x saw no datapoint");
    }
}

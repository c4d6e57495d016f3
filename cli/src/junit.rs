//! The verdict as a JUnit XML report, as CI systems (CodeBuild reports among
//! them) read it: one `testsuite` for the hook, one `testcase` per check, a
//! `failure` element under each failed check, `skipped` under a skipped one.
//! A verdict that failed before any check ran is one failed test case named
//! after the hook, so that the report never reads as green.

use std::time::Duration;

use greenlight::check::{CheckResult, Outcome};
use greenlight::{Status, Verdict};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

/// Name of the report (the `testsuites` element).
const REPORT_NAME: &str = "greenlight";

/// The report for `verdict`, judged in `took`.
pub fn report(verdict: &Verdict, took: Duration) -> Report {
    let hook = verdict.hook.to_string();
    let mut suite = TestSuite::new(hook.as_str());
    suite.set_time(took);
    for check in &verdict.checks {
        suite.add_test_case(test_case(&hook, check));
    }
    if verdict.checks.is_empty() && verdict.status == Status::Failed {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_message(verdict.reasons.join(" | "));
        let mut case = TestCase::new(hook.as_str(), status);
        case.set_classname(hook.as_str());
        suite.add_test_case(case);
    }
    if !verdict.warnings.is_empty() {
        suite.set_system_out(verdict.warnings.join("\n"));
    }
    let mut report = Report::new(REPORT_NAME);
    report.set_time(took);
    report.add_test_suite(suite);
    report
}

fn test_case(hook: &str, check: &CheckResult) -> TestCase {
    let status = match check.outcome {
        Outcome::Pass => TestCaseStatus::success(),
        Outcome::Skipped => {
            let mut status = TestCaseStatus::skipped();
            if let Some(reason) = &check.reason {
                status.set_message(reason.as_str());
            }
            status
        }
        Outcome::Fail => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(check.summary());
            status.set_type("CheckFailed");
            status.set_description(format!(
                "expected: {}\nactual: {}\nattempts: {}",
                check.expected(),
                check.actual(),
                check.attempts
            ));
            status
        }
    };
    let mut case = TestCase::new(check.name.as_str(), status);
    case.set_classname(hook);
    case.set_time(Duration::from_millis(check.duration_ms));
    case.set_assertions(check.assertions.len());
    case
}

#[cfg(test)]
mod tests {
    use greenlight::Hook;

    use super::*;

    fn result(name: &str, outcome: Outcome) -> CheckResult {
        CheckResult {
            name: name.to_owned(),
            outcome,
            reason: (outcome != Outcome::Pass).then(|| "why".to_owned()),
            attempts: 1,
            duration_ms: 5,
            assertions: Vec::new(),
            error: None,
            flow: None,
        }
    }

    #[test]
    fn one_case_per_check_and_a_failure_under_a_failed_one() {
        let verdict = Verdict::from_checks(
            Hook::AfterAllowTraffic,
            vec![
                result("a", Outcome::Pass),
                result("b", Outcome::Fail),
                result("c", Outcome::Skipped),
            ],
        );
        let xml = report(&verdict, Duration::from_millis(20))
            .to_string()
            .expect("serializes");
        assert_eq!(xml.matches("<testcase ").count(), 3, "{xml}");
        assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
        assert_eq!(xml.matches("<skipped").count(), 1, "{xml}");
        assert!(
            xml.contains(r#"<testsuite name="AfterAllowTraffic""#),
            "{xml}"
        );
    }

    #[test]
    fn a_verdict_without_checks_is_one_failed_case() {
        let verdict = Verdict::failed(Hook::BeforeAllowTraffic, "target: nowhere".to_owned());
        let xml = report(&verdict, Duration::ZERO)
            .to_string()
            .expect("serializes");
        assert_eq!(xml.matches("<testcase ").count(), 1, "{xml}");
        assert!(xml.contains("target: nowhere"), "{xml}");
    }
}

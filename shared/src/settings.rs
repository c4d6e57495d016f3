//! Typed configuration, read from the environment once per cold start.
//! Handlers never read the environment.

use std::time::Duration;

use crate::plan::Plan;

/// Inline spec JSON.
pub const SPEC_VAR: &str = "GREENLIGHT_SPEC";
/// Path of a spec file.
pub const SPEC_FILE_VAR: &str = "GREENLIGHT_SPEC_FILE";
/// `true` to log the verdict but always report `Succeeded`.
pub const DRY_RUN_VAR: &str = "GREENLIGHT_DRY_RUN";
/// Milliseconds kept back from the Lambda deadline for the report.
pub const REPORT_MARGIN_VAR: &str = "GREENLIGHT_REPORT_MARGIN_MS";

/// Default report margin: room for a few report attempts with backoff.
pub const DEFAULT_REPORT_MARGIN: Duration = Duration::from_secs(5);

/// The configuration of one hook function.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The validated spec, or why there is none; an invocation with no plan
    /// reports `Failed` with this reason.
    pub plan: Result<Plan, String>,
    /// Report `Succeeded` whatever the verdict (loudly logged).
    pub dry_run: bool,
    /// Time kept back from the deadline for reporting.
    pub report_margin: Duration,
}

impl Settings {
    /// Reads the settings through `var` (the process environment in
    /// production). Never fails: every problem ends up in `plan`, so that each
    /// invocation still reports `Failed` with the reason.
    pub fn load(var: impl Fn(&str) -> Option<String>) -> Settings {
        let mut problems = Vec::new();
        let dry_run = match var(DRY_RUN_VAR).as_deref().map(str::trim) {
            None | Some("" | "false" | "0") => false,
            Some("true" | "1") => true,
            Some(other) => {
                problems.push(format!(
                    "{DRY_RUN_VAR}: expected true or false, got {other:?}"
                ));
                false
            }
        };
        let report_margin = match var(REPORT_MARGIN_VAR) {
            None => DEFAULT_REPORT_MARGIN,
            Some(text) => match text.trim().parse::<u64>() {
                Ok(ms) if (1000..=60_000).contains(&ms) => Duration::from_millis(ms),
                _ => {
                    problems.push(format!(
                        "{REPORT_MARGIN_VAR}: expected milliseconds in 1000..=60000, got {text:?}"
                    ));
                    DEFAULT_REPORT_MARGIN
                }
            },
        };
        let plan =
            read_spec(&var).and_then(|text| Plan::from_json(&text).map_err(|e| e.to_string()));
        let plan = match (plan, problems.is_empty()) {
            (Ok(plan), true) => Ok(plan),
            (Ok(_), false) => Err(problems.join("; ")),
            (Err(error), _) => {
                problems.push(error);
                Err(problems.join("; "))
            }
        };
        Settings {
            plan,
            dry_run,
            report_margin,
        }
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Settings {
        Settings::load(|name| std::env::var(name).ok())
    }
}

fn read_spec(var: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    match (var(SPEC_VAR), var(SPEC_FILE_VAR)) {
        (Some(_), Some(_)) => Err(format!("set only one of {SPEC_VAR} and {SPEC_FILE_VAR}")),
        (Some(text), None) => Ok(text),
        (None, Some(path)) => std::fs::read_to_string(&path)
            .map_err(|error| format!("{SPEC_FILE_VAR}: cannot read {path:?}: {error}")),
        (None, None) => Err(format!(
            "no spec: set {SPEC_VAR} (inline JSON) or {SPEC_FILE_VAR} (a path)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const GOOD: &str = r#"{"target":{"url":"http://127.0.0.1:8080"},"checks":[{"name":"health","assert":[{"status":200}]}]}"#;

    fn load(vars: &[(&str, &str)]) -> Settings {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::load(|name| map.get(name).cloned())
    }

    #[test]
    fn reads_an_inline_spec_with_defaults() {
        let settings = load(&[(SPEC_VAR, GOOD)]);
        assert!(settings.plan.is_ok());
        assert!(!settings.dry_run);
        assert_eq!(settings.report_margin, DEFAULT_REPORT_MARGIN);
    }

    #[test]
    fn reads_a_spec_file() {
        let path =
            std::env::temp_dir().join(format!("greenlight-spec-{}.json", std::process::id()));
        std::fs::write(&path, GOOD).expect("write spec");
        let settings = load(&[(SPEC_FILE_VAR, path.to_str().expect("utf-8 path"))]);
        std::fs::remove_file(&path).ok();
        assert!(settings.plan.is_ok());
    }

    #[test]
    fn missing_spec_is_a_reason_to_fail() {
        let settings = load(&[]);
        assert_eq!(
            settings.plan.unwrap_err(),
            "no spec: set GREENLIGHT_SPEC (inline JSON) or GREENLIGHT_SPEC_FILE (a path)"
        );
    }

    #[test]
    fn unreadable_spec_file_names_the_variable() {
        let settings = load(&[(SPEC_FILE_VAR, "/nonexistent/spec.json")]);
        assert!(
            settings
                .plan
                .unwrap_err()
                .starts_with("GREENLIGHT_SPEC_FILE: cannot read")
        );
    }

    #[test]
    fn a_typo_in_dry_run_fails_closed() {
        let settings = load(&[(SPEC_VAR, GOOD), (DRY_RUN_VAR, "yes")]);
        assert!(!settings.dry_run);
        assert_eq!(
            settings.plan.unwrap_err(),
            "GREENLIGHT_DRY_RUN: expected true or false, got \"yes\""
        );
    }

    #[test]
    fn reads_dry_run_and_margin() {
        let settings = load(&[
            (SPEC_VAR, GOOD),
            (DRY_RUN_VAR, "true"),
            (REPORT_MARGIN_VAR, "1500"),
        ]);
        assert!(settings.dry_run);
        assert_eq!(settings.report_margin, Duration::from_millis(1500));
        let bad = load(&[(SPEC_VAR, GOOD), (REPORT_MARGIN_VAR, "5")]);
        assert!(
            bad.plan
                .unwrap_err()
                .starts_with("GREENLIGHT_REPORT_MARGIN_MS")
        );
    }
}

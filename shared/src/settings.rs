//! Typed configuration, read from the environment once per cold start.
//! Handlers never read the environment.

use std::time::Duration;

use crate::cloud::ParameterReads;
use crate::plan::Plan;

/// Inline spec JSON.
pub const SPEC_VAR: &str = "GREENLIGHT_SPEC";
/// Path of a spec file.
pub const SPEC_FILE_VAR: &str = "GREENLIGHT_SPEC_FILE";
/// Name (or ARN) of an SSM parameter holding the spec, read at cold start.
pub const SPEC_PARAMETER_VAR: &str = "GREENLIGHT_SPEC_PARAMETER";
/// `true` to log the verdict but always report `Succeeded`.
pub const DRY_RUN_VAR: &str = "GREENLIGHT_DRY_RUN";
/// Milliseconds kept back from the Lambda deadline for the report.
pub const REPORT_MARGIN_VAR: &str = "GREENLIGHT_REPORT_MARGIN_MS";

/// Longest wait for the SSM parameter at cold start (the SDK retries within).
pub const PARAMETER_TIMEOUT: Duration = Duration::from_secs(10);

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
    /// production); `parameter` is the value of the SSM parameter named by
    /// `GREENLIGHT_SPEC_PARAMETER`, already read (or why it could not be).
    /// Never fails: every problem ends up in `plan`, so that each invocation
    /// still reports `Failed` with the reason.
    pub fn load(
        var: impl Fn(&str) -> Option<String>,
        parameter: Option<Result<String, String>>,
    ) -> Settings {
        let mut problems = Vec::new();
        let dry_run = read_dry_run(&var).unwrap_or_else(|problem| {
            problems.push(problem);
            false
        });
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
        let plan = read_spec(&var, parameter)
            .and_then(|text| Plan::from_json(&text).map_err(|e| e.to_string()));
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

    /// Settings that run nothing: every invocation reports `Failed` with
    /// `reason` (or `Succeeded` in dry run, should `var` say so), for a cold
    /// start that could not read the real ones.
    pub fn unusable(reason: String, var: impl Fn(&str) -> Option<String>) -> Settings {
        Settings {
            plan: Err(reason),
            dry_run: read_dry_run(&var).unwrap_or(false),
            report_margin: DEFAULT_REPORT_MARGIN,
        }
    }

    /// Adds a problem found outside the settings (an AWS SDK setting, the
    /// HTTP client): the plan becomes unusable, with this problem first.
    pub fn refuse(&mut self, problem: &str) {
        self.plan = match &self.plan {
            Ok(_) => Err(problem.to_owned()),
            Err(other) => Err(format!("{problem}; {other}")),
        };
    }

    /// Reads the settings from the process environment, and the spec from
    /// SSM through `parameters` when `GREENLIGHT_SPEC_PARAMETER` names one.
    pub async fn from_env(parameters: &impl ParameterReads) -> Settings {
        let var = env_var;
        let parameter = match var(SPEC_PARAMETER_VAR) {
            None => None,
            Some(name) => Some(
                match tokio::time::timeout(PARAMETER_TIMEOUT, parameters.parameter(name.trim()))
                    .await
                {
                    Ok(Ok(value)) => Ok(value),
                    Ok(Err(error)) => Err(error.to_string()),
                    Err(_) => Err(format!(
                        "no answer within {} s",
                        PARAMETER_TIMEOUT.as_secs()
                    )),
                },
            ),
        };
        Settings::load(var, parameter)
    }
}

/// A variable of the process environment, blank counting as unset: the one
/// place the process environment is read (at cold start only).
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// `GREENLIGHT_DRY_RUN`: unset, blank, `false` or `0` is off; `true` or `1`
/// is on; anything else is a problem (and off: fail closed).
fn read_dry_run(var: &impl Fn(&str) -> Option<String>) -> Result<bool, String> {
    match var(DRY_RUN_VAR).as_deref().map(str::trim) {
        None | Some("" | "false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(other) => Err(format!(
            "{DRY_RUN_VAR}: expected true or false, got {other:?}"
        )),
    }
}

/// A spec file's text, read no further than one byte past the spec limit (the
/// validator then names the size), so a wrong path cannot fill the memory.
fn read_bounded(path: &str) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|error| error.to_string())?;
    let mut bytes = Vec::new();
    file.take(u64::try_from(crate::plan::MAX_SPEC_BYTES + 1).unwrap_or(u64::MAX))
        .read_to_end(&mut bytes)
        .map_err(|error| error.to_string())?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())
}

/// The spec's text from the one source that is set. An empty variable counts
/// as unset, as CloudFormation sets every variable it declares.
fn read_spec(
    var: &impl Fn(&str) -> Option<String>,
    parameter: Option<Result<String, String>>,
) -> Result<String, String> {
    let set = |name: &str| var(name).filter(|value| !value.trim().is_empty());
    let sources = [
        (SPEC_VAR, set(SPEC_VAR)),
        (SPEC_FILE_VAR, set(SPEC_FILE_VAR)),
        (SPEC_PARAMETER_VAR, set(SPEC_PARAMETER_VAR)),
    ];
    let given: Vec<&(&str, Option<String>)> = sources
        .iter()
        .filter(|(_, value)| value.is_some())
        .collect();
    match given.as_slice() {
        [] => Err(format!(
            "no spec: set {SPEC_VAR} (inline JSON), {SPEC_FILE_VAR} (a path) or {SPEC_PARAMETER_VAR} (an SSM parameter name)"
        )),
        [(name, Some(value))] => match *name {
            SPEC_VAR => Ok(value.clone()),
            SPEC_FILE_VAR => read_bounded(value)
                .map_err(|error| format!("{SPEC_FILE_VAR}: cannot read {value:?}: {error}")),
            _ => match parameter {
                Some(Ok(text)) => Ok(text),
                Some(Err(error)) => Err(format!(
                    "{SPEC_PARAMETER_VAR}: cannot read SSM parameter {:?} at cold start: {error}",
                    value.trim()
                )),
                None => Err(format!(
                    "{SPEC_PARAMETER_VAR}: SSM parameter {:?} was not read",
                    value.trim()
                )),
            },
        },
        several => Err(format!(
            "set only one of {}",
            several
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", ")
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
        Settings::load(|name| map.get(name).cloned(), None)
    }

    fn load_parameter(vars: &[(&str, &str)], parameter: Result<&str, &str>) -> Settings {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::load(
            |name| map.get(name).cloned(),
            Some(parameter.map(str::to_owned).map_err(str::to_owned)),
        )
    }

    #[test]
    fn reads_a_spec_from_an_ssm_parameter() {
        let settings = load_parameter(&[(SPEC_PARAMETER_VAR, "/greenlight/spec")], Ok(GOOD));
        assert!(settings.plan.is_ok(), "{:?}", settings.plan);
    }

    #[test]
    fn an_unreadable_ssm_parameter_names_it_and_why() {
        let settings = load_parameter(
            &[(SPEC_PARAMETER_VAR, "/greenlight/spec")],
            Err("ssm:GetParameter failed: ParameterNotFound: (no message)"),
        );
        assert_eq!(
            settings.plan.unwrap_err(),
            "GREENLIGHT_SPEC_PARAMETER: cannot read SSM parameter \"/greenlight/spec\" at cold start: ssm:GetParameter failed: ParameterNotFound: (no message)"
        );
    }

    #[test]
    fn empty_variables_count_as_unset_and_two_sources_are_refused() {
        let settings = load(&[
            (SPEC_VAR, GOOD),
            (SPEC_FILE_VAR, ""),
            (SPEC_PARAMETER_VAR, " "),
        ]);
        assert!(settings.plan.is_ok(), "{:?}", settings.plan);
        let both = load(&[(SPEC_VAR, GOOD), (SPEC_PARAMETER_VAR, "/greenlight/spec")]);
        assert_eq!(
            both.plan.unwrap_err(),
            "set only one of GREENLIGHT_SPEC, GREENLIGHT_SPEC_PARAMETER"
        );
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
            "no spec: set GREENLIGHT_SPEC (inline JSON), GREENLIGHT_SPEC_FILE (a path) or GREENLIGHT_SPEC_PARAMETER (an SSM parameter name)"
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
    fn a_refusal_comes_first_and_keeps_other_problems() {
        // GIVEN usable settings, and settings with a problem already
        let mut good = load(&[(SPEC_VAR, GOOD)]);
        let mut bad = load(&[]);
        // WHEN a problem from outside is added
        good.refuse("AWS_MAX_ATTEMPTS: bad");
        bad.refuse("AWS_MAX_ATTEMPTS: bad");
        // THEN the plan is unusable, the new problem first
        assert_eq!(good.plan.unwrap_err(), "AWS_MAX_ATTEMPTS: bad");
        assert!(
            bad.plan
                .unwrap_err()
                .starts_with("AWS_MAX_ATTEMPTS: bad; no spec: set GREENLIGHT_SPEC")
        );
    }

    #[test]
    fn unusable_settings_still_honour_dry_run() {
        let dry = Settings::unusable("cold start panicked".into(), |name| {
            (name == DRY_RUN_VAR).then(|| "true".to_owned())
        });
        assert!(dry.dry_run);
        assert_eq!(dry.plan.unwrap_err(), "cold start panicked");
        let typo = Settings::unusable("x".into(), |_| Some("yes".to_owned()));
        assert!(!typo.dry_run);
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

//! The AWS SDK's retry settings, read as the SDK reads them but without its
//! panic. `aws_config`'s loader panics on a retry setting it cannot parse
//! (`AWS_MAX_ATTEMPTS=abc`, `AWS_RETRY_MODE=bogus`, or the same keys in the
//! AWS config profile), at cold start, before any invocation could be
//! reported; its non-panicking reader is private to the crate. So greenlight
//! reads them first: an unusable value becomes a configuration error (every
//! invocation reports `Failed`, naming it), and the SDK is always handed a
//! retry configuration explicitly, which keeps it off its panicking path.

use std::str::FromStr;

use aws_config::retry::{RetryConfig, RetryMode};

/// The SDK's variable for the most attempts per AWS call.
pub const MAX_ATTEMPTS_VAR: &str = "AWS_MAX_ATTEMPTS";
/// The SDK's variable for the retry mode (`standard` or `adaptive`).
pub const RETRY_MODE_VAR: &str = "AWS_RETRY_MODE";
/// The SDK's opt-in to its 2026 retry behaviour (`true`).
pub const NEW_RETRIES_VAR: &str = "AWS_NEW_RETRIES_2026";
/// The profile keys the SDK reads when the variables are unset.
const MAX_ATTEMPTS_KEY: &str = "max_attempts";
const RETRY_MODE_KEY: &str = "retry_mode";
/// Longest stretch of a bad value quoted back.
const SHOWN_CHARS: usize = 40;

/// A retry setting the SDK would have panicked on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetrySettingError {
    /// Not a whole number, or 0.
    #[error("{setting}: expected a whole number of attempts, 1 or more, got {value:?}")]
    MaxAttempts {
        /// Where it was set: the variable, or the profile key.
        setting: String,
        /// The value, cut to a few characters.
        value: String,
    },
    /// Neither `standard` nor `adaptive`.
    #[error("{setting}: expected standard or adaptive, got {value:?}")]
    RetryMode {
        /// Where it was set: the variable, or the profile key.
        setting: String,
        /// The value, cut to a few characters.
        value: String,
    },
}

/// A value of a setting, and where it was set.
struct Found {
    setting: String,
    value: String,
}

/// Reads the retry settings as the SDK does: each from its variable (through
/// `var`), else from the selected AWS config profile (through `profile`,
/// which returns the profile's name and the key's value). Blank counts as
/// unset. Every unusable setting is returned, not just the first.
pub fn read_retry_config(
    var: impl Fn(&str) -> Option<String>,
    profile: impl Fn(&str) -> Option<(String, String)>,
) -> Result<RetryConfig, Vec<RetrySettingError>> {
    let find = |variable: &str, key: &str| -> Option<Found> {
        let set = |value: &String| !value.trim().is_empty();
        var(variable)
            .filter(set)
            .map(|value| Found {
                setting: variable.to_owned(),
                value,
            })
            .or_else(|| {
                profile(key)
                    .filter(|(_, value)| set(value))
                    .map(|(name, value)| Found {
                        setting: format!("{key} in AWS profile {name:?}"),
                        value,
                    })
            })
    };
    let mut config = RetryConfig::standard();
    let mut problems = Vec::new();
    if let Some(found) = find(MAX_ATTEMPTS_VAR, MAX_ATTEMPTS_KEY) {
        match found.value.trim().parse::<u32>() {
            Ok(attempts) if attempts > 0 => config = config.with_max_attempts(attempts),
            _ => problems.push(RetrySettingError::MaxAttempts {
                setting: found.setting,
                value: shown(&found.value),
            }),
        }
    }
    if let Some(found) = find(RETRY_MODE_VAR, RETRY_MODE_KEY) {
        match RetryMode::from_str(&found.value) {
            Ok(mode) => config = config.with_retry_mode(mode),
            Err(_) => problems.push(RetrySettingError::RetryMode {
                setting: found.setting,
                value: shown(&found.value),
            }),
        }
    }
    if var(NEW_RETRIES_VAR).is_some_and(|value| value.trim().eq_ignore_ascii_case("true")) {
        config = config.with_retry_spec(aws_smithy_types::retry::RetrySpec::v2_1());
    }
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems)
    }
}

/// Reads the retry settings from the process environment and the AWS config
/// profile files, as the SDK's loader would.
pub async fn retry_config_from_env() -> Result<RetryConfig, Vec<RetrySettingError>> {
    use aws_types::os_shim_internal::{Env, Fs};
    // A profile file that cannot be read or parsed is the SDK's to report
    // (its loader logs it and goes on without); it holds no retry setting.
    let profiles = aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        &aws_runtime::env_config::file::EnvConfigFiles::default(),
        None,
    )
    .await
    .ok();
    read_retry_config(greenlight::settings::env_var, |key| {
        profiles.as_ref().and_then(|set| {
            set.get(key)
                .map(|value| (set.selected_profile().to_owned(), value.to_owned()))
        })
    })
}

/// A value as quoted back: at most a few characters of it.
fn shown(value: &str) -> String {
    let mut cut: String = value.chars().take(SHOWN_CHARS).collect();
    if cut.len() < value.len() {
        cut.push('…');
    }
    cut
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(
        vars: &[(&str, &str)],
        profile: &[(&str, &str)],
    ) -> Result<RetryConfig, Vec<RetrySettingError>> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let profile: HashMap<String, String> = profile
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        read_retry_config(
            |name| vars.get(name).cloned(),
            |key| profile.get(key).map(|v| ("default".to_owned(), v.clone())),
        )
    }

    fn messages(problems: Vec<RetrySettingError>) -> Vec<String> {
        problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn nothing_set_is_the_standard_configuration() {
        assert_eq!(read(&[], &[]), Ok(RetryConfig::standard()));
    }

    #[test]
    fn reads_the_variables_as_the_sdk_does() {
        // GIVEN both variables set, in any case and with blanks around
        let config = read(
            &[(MAX_ATTEMPTS_VAR, " 5 "), (RETRY_MODE_VAR, "Adaptive")],
            &[],
        )
        .expect("usable");
        // THEN they are taken
        assert_eq!(config.max_attempts(), 5);
        assert_eq!(config.mode(), RetryMode::Adaptive);
    }

    #[test]
    fn a_variable_wins_over_the_profile_and_blank_is_unset() {
        let config = read(
            &[(MAX_ATTEMPTS_VAR, "4"), (RETRY_MODE_VAR, "  ")],
            &[("max_attempts", "9"), ("retry_mode", "adaptive")],
        )
        .expect("usable");
        assert_eq!(config.max_attempts(), 4);
        assert_eq!(config.mode(), RetryMode::Adaptive);
    }

    #[test]
    fn every_unusable_setting_is_named_with_where_it_was_set() {
        // GIVEN a bad variable and a bad profile key
        let problems =
            read(&[(MAX_ATTEMPTS_VAR, "abc")], &[("retry_mode", "bogus")]).expect_err("unusable");
        // THEN both are named, each where it was set
        assert_eq!(
            messages(problems),
            vec![
                "AWS_MAX_ATTEMPTS: expected a whole number of attempts, 1 or more, got \"abc\"",
                "retry_mode in AWS profile \"default\": expected standard or adaptive, got \"bogus\"",
            ]
        );
    }

    #[test]
    fn zero_attempts_and_a_long_value_are_refused_and_cut() {
        let zero = read(&[(MAX_ATTEMPTS_VAR, "0")], &[]).expect_err("zero");
        assert_eq!(
            messages(zero),
            vec!["AWS_MAX_ATTEMPTS: expected a whole number of attempts, 1 or more, got \"0\""]
        );
        let long = read(&[(RETRY_MODE_VAR, &"x".repeat(500))], &[]).expect_err("long");
        let message = messages(long).join("");
        assert!(message.len() < 120, "{message}");
        assert!(message.ends_with("x…\""), "{message}");
    }

    #[test]
    fn the_2026_retries_are_opted_into_by_their_variable() {
        let config = read(&[(NEW_RETRIES_VAR, "TRUE")], &[]).expect("usable");
        assert!(config.retry_spec().is_some());
        let default = read(&[(NEW_RETRIES_VAR, "no")], &[]).expect("usable");
        assert!(default.retry_spec().is_none());
    }
}

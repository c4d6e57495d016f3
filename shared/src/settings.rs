//! Typed configuration, read from the environment once per cold start.
//! Handlers never read the environment.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::cloud::{ObjectReads, ParameterReads};
use crate::plan::{MAX_SPEC_BYTES, Plan};

/// Inline spec JSON.
pub const SPEC_VAR: &str = "GREENLIGHT_SPEC";
/// Path of a spec file.
pub const SPEC_FILE_VAR: &str = "GREENLIGHT_SPEC_FILE";
/// Name (or ARN) of an SSM parameter holding the spec, read at cold start.
pub const SPEC_PARAMETER_VAR: &str = "GREENLIGHT_SPEC_PARAMETER";
/// `s3://bucket/key` of an S3 object holding the spec, read at cold start.
pub const SPEC_S3_VAR: &str = "GREENLIGHT_SPEC_S3";
/// The spec's sources, of which exactly one must be set.
const SPEC_VARS: [&str; 4] = [SPEC_VAR, SPEC_FILE_VAR, SPEC_PARAMETER_VAR, SPEC_S3_VAR];
/// `true` to log the verdict but always report `Succeeded`.
pub const DRY_RUN_VAR: &str = "GREENLIGHT_DRY_RUN";
/// Milliseconds kept back from the Lambda deadline for the report.
pub const REPORT_MARGIN_VAR: &str = "GREENLIGHT_REPORT_MARGIN_MS";

/// Longest wait for the SSM parameter or the S3 object at cold start (the
/// SDK retries within).
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
    /// production); `fetched` is the text of the SSM parameter named by
    /// `GREENLIGHT_SPEC_PARAMETER` or of the S3 object named by
    /// `GREENLIGHT_SPEC_S3`, already read (or why it could not be).
    /// Never fails: every problem ends up in `plan`, so that each invocation
    /// still reports `Failed` with the reason.
    pub fn load(
        var: impl Fn(&str) -> Option<String>,
        fetched: Option<Result<String, String>>,
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
        let plan = read_spec(&var, fetched)
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
    /// SSM through `parameters` when `GREENLIGHT_SPEC_PARAMETER` names one,
    /// or from S3 through `objects` when `GREENLIGHT_SPEC_S3` does.
    pub async fn from_env(
        parameters: &impl ParameterReads,
        objects: &impl ObjectReads,
    ) -> Settings {
        let var = env_var;
        let fetched = fetch_spec(&var, parameters, objects).await;
        Settings::load(var, fetched)
    }
}

/// The spec's text from SSM or S3, when that is the one spec source set,
/// read within `PARAMETER_TIMEOUT`; `None` when there is nothing to fetch
/// (`read_spec` then names the problem, if any).
async fn fetch_spec(
    var: &impl Fn(&str) -> Option<String>,
    parameters: &impl ParameterReads,
    objects: &impl ObjectReads,
) -> Option<Result<String, String>> {
    if SPEC_VARS.iter().filter(|name| var(name).is_some()).count() != 1 {
        return None;
    }
    if let Some(name) = var(SPEC_PARAMETER_VAR) {
        let read = async {
            parameters
                .parameter(name.trim())
                .await
                .map_err(|error| error.to_string())
        };
        return Some(within_time(read).await);
    }
    let location = S3Location::parse(var(SPEC_S3_VAR)?.trim()).ok()?;
    let read = async {
        objects
            .object(&location.bucket, &location.key, MAX_SPEC_BYTES)
            .await
            .map_err(|error| error.to_string())
            .and_then(object_text)
    };
    Some(within_time(read).await)
}

/// `read`, or why it did not finish within `PARAMETER_TIMEOUT`.
async fn within_time(read: impl Future<Output = Result<String, String>>) -> Result<String, String> {
    tokio::time::timeout(PARAMETER_TIMEOUT, read)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "no answer within {} s",
                PARAMETER_TIMEOUT.as_secs()
            ))
        })
}

/// An S3 object's bytes (at most one past the spec limit) as the spec's text.
fn object_text(bytes: Vec<u8>) -> Result<String, String> {
    if bytes.len() > MAX_SPEC_BYTES {
        return Err(format!(
            "the object is larger than the spec limit of {MAX_SPEC_BYTES} bytes"
        ));
    }
    String::from_utf8(bytes).map_err(|_| "the object is not UTF-8 text".to_owned())
}

/// Where an S3 object is, from `s3://bucket/key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket's name.
    pub bucket: String,
    /// The object's key.
    pub key: String,
}

impl S3Location {
    /// Parses `s3://bucket/key`, as the S3 console and the AWS CLI write
    /// it; the error names `GREENLIGHT_SPEC_S3` and what is wrong.
    pub fn parse(uri: &str) -> Result<S3Location, String> {
        let wrong = |what: &str| {
            let shown: String = uri.chars().take(120).collect();
            let cut = if shown.len() < uri.len() { "…" } else { "" };
            format!("{SPEC_S3_VAR}: expected s3://BUCKET/KEY, got {shown:?}{cut}: {what}")
        };
        let rest = uri
            .strip_prefix("s3://")
            .ok_or_else(|| wrong("it does not start with s3://"))?;
        let (bucket, key) = rest
            .split_once('/')
            .ok_or_else(|| wrong("there is no key after the bucket"))?;
        let name_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket.chars().all(|c| name_char(c) || c == '.' || c == '-')
            && bucket.starts_with(name_char)
            && bucket.ends_with(name_char);
        if !bucket_ok {
            return Err(wrong(
                "a bucket name is 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit",
            ));
        }
        if key.is_empty() {
            return Err(wrong("the key is empty"));
        }
        if key.len() > 1024 {
            return Err(wrong("a key is at most 1024 bytes"));
        }
        if key.chars().any(char::is_control) {
            return Err(wrong("the key has a control character"));
        }
        Ok(S3Location {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
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
    file.take(u64::try_from(MAX_SPEC_BYTES + 1).unwrap_or(u64::MAX))
        .read_to_end(&mut bytes)
        .map_err(|error| error.to_string())?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())
}

/// The spec's text from the one source that is set. An empty variable counts
/// as unset, as CloudFormation sets every variable it declares.
fn read_spec(
    var: &impl Fn(&str) -> Option<String>,
    fetched: Option<Result<String, String>>,
) -> Result<String, String> {
    let set = |name: &str| var(name).filter(|value| !value.trim().is_empty());
    let sources = SPEC_VARS.map(|name| (name, set(name)));
    let given: Vec<&(&str, Option<String>)> = sources
        .iter()
        .filter(|(_, value)| value.is_some())
        .collect();
    match given.as_slice() {
        [] => Err(format!(
            "no spec: set {SPEC_VAR} (inline JSON), {SPEC_FILE_VAR} (a path), {SPEC_PARAMETER_VAR} (an SSM parameter name) or {SPEC_S3_VAR} (s3://bucket/key)"
        )),
        [(name, Some(value))] => match *name {
            SPEC_VAR => Ok(value.clone()),
            SPEC_FILE_VAR => read_bounded(value)
                .map_err(|error| format!("{SPEC_FILE_VAR}: cannot read {value:?}: {error}")),
            SPEC_S3_VAR => {
                let location = S3Location::parse(value.trim())?.to_string();
                match fetched {
                    Some(Ok(text)) => Ok(text),
                    Some(Err(error)) => Err(format!(
                        "{SPEC_S3_VAR}: cannot read S3 object {location:?} at cold start: {error}"
                    )),
                    None => Err(format!(
                        "{SPEC_S3_VAR}: S3 object {location:?} was not read"
                    )),
                }
            }
            _ => match fetched {
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
    use crate::cloud::AwsError;

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

    /// An S3 stand-in: one answer for every read, and the reads it got.
    #[derive(Debug)]
    struct Objects {
        answer: Result<Vec<u8>, AwsError>,
        stall: bool,
        reads: std::sync::Mutex<Vec<(String, String, usize)>>,
    }

    impl Objects {
        fn answering(answer: Result<Vec<u8>, AwsError>) -> Self {
            Objects {
                answer,
                stall: false,
                reads: std::sync::Mutex::default(),
            }
        }

        fn reads(&self) -> Vec<(String, String, usize)> {
            self.reads.lock().expect("lock").clone()
        }
    }

    impl ObjectReads for Objects {
        async fn object(&self, bucket: &str, key: &str, limit: usize) -> Result<Vec<u8>, AwsError> {
            self.reads
                .lock()
                .expect("lock")
                .push((bucket.to_owned(), key.to_owned(), limit));
            if self.stall {
                std::future::pending::<()>().await;
            }
            self.answer.clone()
        }
    }

    /// No SSM parameter is read in these tests.
    #[derive(Debug)]
    struct NoParameters;

    impl ParameterReads for NoParameters {
        async fn parameter(&self, name: &str) -> Result<String, AwsError> {
            panic!("unexpected SSM read of {name}")
        }
    }

    /// Settings from `vars`, with the spec fetched from `objects` as
    /// `from_env` fetches it.
    async fn load_from_s3(vars: &[(&str, &str)], objects: &Objects) -> Settings {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let var = |name: &str| map.get(name).cloned().filter(|v| !v.trim().is_empty());
        let fetched = fetch_spec(&var, &NoParameters, objects).await;
        Settings::load(var, fetched)
    }

    #[tokio::test]
    async fn reads_a_spec_from_an_s3_object_no_larger_than_the_spec_limit() {
        // GIVEN a spec in an S3 object
        let objects = Objects::answering(Ok(GOOD.as_bytes().to_vec()));
        // WHEN the settings are read with its location
        let settings = load_from_s3(
            &[(SPEC_S3_VAR, " s3://greenlight-specs/web/spec.json ")],
            &objects,
        )
        .await;
        // THEN the spec is that object, read once, no further than the limit
        assert!(settings.plan.is_ok(), "{:?}", settings.plan);
        assert_eq!(
            objects.reads(),
            vec![(
                "greenlight-specs".to_owned(),
                "web/spec.json".to_owned(),
                MAX_SPEC_BYTES
            )]
        );
    }

    #[tokio::test]
    async fn an_unreadable_s3_object_names_the_variable_the_object_and_why() {
        let objects = Objects::answering(Err(AwsError::new(
            "s3:GetObject",
            "NoSuchKey: The specified key does not exist.",
        )));
        let settings = load_from_s3(
            &[(SPEC_S3_VAR, "s3://greenlight-specs/gone.json")],
            &objects,
        )
        .await;
        assert_eq!(
            settings.plan.unwrap_err(),
            "GREENLIGHT_SPEC_S3: cannot read S3 object \"s3://greenlight-specs/gone.json\" at cold start: s3:GetObject failed: NoSuchKey: The specified key does not exist."
        );
    }

    #[tokio::test]
    async fn an_s3_object_over_the_spec_limit_or_not_text_is_refused() {
        let large = Objects::answering(Ok(vec![b' '; MAX_SPEC_BYTES + 1]));
        let settings = load_from_s3(&[(SPEC_S3_VAR, "s3://b-1/spec.json")], &large).await;
        assert_eq!(
            settings.plan.unwrap_err(),
            "GREENLIGHT_SPEC_S3: cannot read S3 object \"s3://b-1/spec.json\" at cold start: the object is larger than the spec limit of 1048576 bytes"
        );
        let binary = Objects::answering(Ok(vec![0xff, 0xfe, b'{']));
        let settings = load_from_s3(&[(SPEC_S3_VAR, "s3://b-1/spec.json")], &binary).await;
        assert!(
            settings
                .plan
                .unwrap_err()
                .ends_with("at cold start: the object is not UTF-8 text")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_s3_object_that_never_comes_fails_after_the_parameter_timeout() {
        let mut objects = Objects::answering(Ok(Vec::new()));
        objects.stall = true;
        let started = tokio::time::Instant::now();
        let settings = load_from_s3(&[(SPEC_S3_VAR, "s3://b-1/spec.json")], &objects).await;
        assert_eq!(started.elapsed(), PARAMETER_TIMEOUT);
        assert_eq!(
            settings.plan.unwrap_err(),
            "GREENLIGHT_SPEC_S3: cannot read S3 object \"s3://b-1/spec.json\" at cold start: no answer within 10 s"
        );
    }

    #[tokio::test]
    async fn bad_s3_locations_are_refused_naming_the_variable_and_nothing_is_read() {
        let objects = Objects::answering(Ok(GOOD.as_bytes().to_vec()));
        let cases = [
            ("greenlight-specs/spec.json", "it does not start with s3://"),
            (
                "https://greenlight-specs/spec.json",
                "it does not start with s3://",
            ),
            ("s3://greenlight-specs", "there is no key after the bucket"),
            ("s3://greenlight-specs/", "the key is empty"),
            ("s3:///spec.json", "a bucket name is 3 to 63"),
            ("s3://Greenlight/spec.json", "a bucket name is 3 to 63"),
            ("s3://ab/spec.json", "a bucket name is 3 to 63"),
            ("s3://-bucket/spec.json", "a bucket name is 3 to 63"),
            ("s3://bucket./spec.json", "a bucket name is 3 to 63"),
            ("s3://bucket name/spec.json", "a bucket name is 3 to 63"),
            ("s3://bucket/spec\n.json", "the key has a control character"),
        ];
        for (uri, why) in cases {
            let error = S3Location::parse(uri).unwrap_err();
            assert!(
                error.starts_with("GREENLIGHT_SPEC_S3: expected s3://BUCKET/KEY, got ")
                    && error.contains(why),
                "{uri}: {error}"
            );
            let settings = load_from_s3(&[(SPEC_S3_VAR, uri)], &objects).await;
            assert_eq!(settings.plan.unwrap_err(), error, "{uri}");
        }
        let long_key = format!("s3://bucket/{}", "k".repeat(1025));
        let error = S3Location::parse(&long_key).unwrap_err();
        assert!(error.ends_with("…: a key is at most 1024 bytes"), "{error}");
        assert!(objects.reads().is_empty());
    }

    #[test]
    fn s3_locations_keep_the_whole_key() {
        let location = S3Location::parse("s3://my.bucket-1/a/b c/spec.json").expect("valid");
        assert_eq!(location.bucket, "my.bucket-1");
        assert_eq!(location.key, "a/b c/spec.json");
        assert_eq!(location.to_string(), "s3://my.bucket-1/a/b c/spec.json");
    }

    #[test]
    fn parsing_any_text_as_an_s3_location_never_panics() {
        use proptest::prelude::*;
        let mut runner =
            proptest::test_runner::TestRunner::new(proptest::test_runner::Config::with_cases(2000));
        let text = prop_oneof![
            any::<String>(),
            any::<String>().prop_map(|s| format!("s3://{s}")),
            (any::<String>(), any::<String>()).prop_map(|(b, k)| format!("s3://{b}/{k}")),
        ];
        runner
            .run(&text, |uri| {
                if let Ok(location) = S3Location::parse(&uri) {
                    prop_assert_eq!(location.to_string(), uri);
                }
                Ok(())
            })
            .expect("no panic, and a parsed location prints as given");
    }

    #[tokio::test]
    async fn an_s3_object_with_another_spec_source_is_refused_unread() {
        let objects = Objects::answering(Ok(GOOD.as_bytes().to_vec()));
        let settings = load_from_s3(
            &[(SPEC_VAR, GOOD), (SPEC_S3_VAR, "s3://b-1/spec.json")],
            &objects,
        )
        .await;
        assert_eq!(
            settings.plan.unwrap_err(),
            "set only one of GREENLIGHT_SPEC, GREENLIGHT_SPEC_S3"
        );
        assert!(objects.reads().is_empty());
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
            "no spec: set GREENLIGHT_SPEC (inline JSON), GREENLIGHT_SPEC_FILE (a path), GREENLIGHT_SPEC_PARAMETER (an SSM parameter name) or GREENLIGHT_SPEC_S3 (s3://bucket/key)"
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

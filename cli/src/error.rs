//! Why a command did not end well, and the exit code each reason gives:
//! 1 when the answer is "no" (an invalid spec, a failed check), 2 when there
//! is no answer (usage, a file that cannot be read or written).

use std::fmt;
use std::io;
use std::path::PathBuf;

use greenlight::Hook;
use greenlight::plan::Problem;

/// Exit code of a "no": the spec is invalid, or a check failed.
pub const EXIT_NO: u8 = 1;
/// Exit code when the command could not give an answer.
pub const EXIT_TROUBLE: u8 = 2;

/// Everything that ends a command without success.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The spec file cannot be read.
    #[error("{}: cannot read the spec: {source}", .path.display())]
    ReadSpec {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The spec has problems, each with its path.
    #[error("{}", Problems { path, problems })]
    InvalidSpec {
        /// The file.
        path: PathBuf,
        /// Every problem, in document order.
        problems: Vec<Problem>,
    },
    /// The checks ran and the verdict is Failed.
    #[error("{hook}: Failed ({failing} of {checks} check(s) failed)")]
    ChecksFailed {
        /// The hook whose checks ran.
        hook: Hook,
        /// Failed checks (0 when the hook could not run any).
        failing: usize,
        /// Checks in the verdict.
        checks: usize,
    },
    /// The JUnit report cannot be written.
    #[error("{}: cannot write the JUnit report: {source}", .path.display())]
    WriteReport {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The JUnit report cannot be serialized.
    #[error("cannot serialize the JUnit report: {0}")]
    SerializeReport(#[from] quick_junit::SerializeError),
    /// The verdict cannot be serialized as JSON.
    #[error("cannot serialize the verdict: {0}")]
    SerializeVerdict(#[from] serde_json::Error),
    /// Standard output cannot be written (closed pipe, full disk).
    #[error("cannot write to standard output: {0}")]
    Output(#[source] io::Error),
    /// The command line lacks something clap cannot require.
    #[error("usage: {0}")]
    Usage(String),
    /// The async runtime cannot start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] io::Error),
    /// The AWS SDK's settings in the environment are invalid.
    #[error("AWS settings: {0}")]
    AwsSettings(String),
    /// `--report` could not give CodeDeploy the status.
    #[error("could not report to CodeDeploy: {0}")]
    Report(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::InvalidSpec { .. } | CliError::ChecksFailed { .. } => EXIT_NO,
            CliError::Usage(_)
            | CliError::ReadSpec { .. }
            | CliError::WriteReport { .. }
            | CliError::SerializeReport(_)
            | CliError::SerializeVerdict(_)
            | CliError::Output(_)
            | CliError::Runtime(_)
            | CliError::AwsSettings(_)
            | CliError::Report(_) => EXIT_TROUBLE,
        }
    }
}

/// Every problem on its own line, `path: message`, then the count.
struct Problems<'a> {
    path: &'a PathBuf,
    problems: &'a [Problem],
}

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in self.problems {
            writeln!(f, "{problem}")?;
        }
        write!(
            f,
            "{}: {} problem(s)",
            self.path.display(),
            self.problems.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_spec_lists_every_problem_then_the_count() {
        let error = CliError::InvalidSpec {
            path: PathBuf::from("bad.json"),
            problems: vec![
                Problem {
                    path: "checks[0].path".to_owned(),
                    message: "expected a path".to_owned(),
                },
                Problem {
                    path: "concurrency".to_owned(),
                    message: "expected 1..=128, got 0".to_owned(),
                },
            ],
        };
        assert_eq!(
            error.to_string(),
            "checks[0].path: expected a path\nconcurrency: expected 1..=128, got 0\nbad.json: 2 problem(s)"
        );
        assert_eq!(error.exit_code(), EXIT_NO);
    }

    #[test]
    fn no_answer_is_exit_2() {
        let error = CliError::ReadSpec {
            path: PathBuf::from("missing.json"),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert_eq!(error.exit_code(), EXIT_TROUBLE);
        assert!(
            error
                .to_string()
                .starts_with("missing.json: cannot read the spec")
        );
    }
}

//! The command line, as clap reads it. Values are checked here (a URL that
//! does not parse, an unknown hook) so that a usage error exits with 2 before
//! any file is read.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use greenlight::Hook;
use reqwest::Url;

/// Validates greenlight specs and runs their checks against a running
/// service, with the engine of the CodeDeploy hooks.
#[derive(Debug, Parser)]
#[command(name = "greenlight", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print every problem of a spec with its path (exit 1), or how many
    /// checks each hook runs (exit 0).
    Validate(ValidateArgs),
    /// Run one hook's checks against a running service: exit 0 when they all
    /// pass, 1 when one fails.
    Check(CheckArgs),
}

/// `greenlight validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The spec file (JSON).
    #[arg(value_name = "SPEC.json")]
    pub spec: PathBuf,
}

/// `greenlight check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The spec file (JSON).
    #[arg(value_name = "SPEC.json")]
    pub spec: PathBuf,
    /// Where green is.
    #[command(flatten)]
    pub green: GreenArgs,
    /// The hook whose checks run.
    #[arg(long, default_value = "AfterAllowTestTraffic", value_parser = hook_name())]
    pub hook: Hook,
    /// What standard output shows.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write the JUnit XML report to this file, whatever the format.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Time budget for all the checks, in seconds; checks still running then
    /// fail.
    #[arg(long, value_name = "SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
    /// Report the verdict to CodeDeploy as this hook execution's status
    /// (the `LifecycleEventHookExecutionId` of the hook's event). Only with
    /// --deployment-id; without it nothing is ever reported.
    #[arg(long, value_name = "EXECUTION_ID", conflicts_with = "url",
          value_parser = execution_id)]
    pub report: Option<String>,
}

impl CheckArgs {
    /// The time budget.
    pub fn budget(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }
}

/// Where green is: exactly one of a URL and a deployment (clap enforces it;
/// [`GreenArgs::target`] turns the two options into the one).
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct GreenArgs {
    /// Base URL of the running service; each check's path is appended to it.
    #[arg(long, value_name = "URL", value_parser = http_url)]
    pub url: Option<Url>,
    /// A CodeDeploy deployment (`d-…`) to discover green from, with the AWS
    /// credentials and region of the environment, as the hook would:
    /// discovery, readiness, the checks, the alarms and the bake. Read-only
    /// unless --report is given.
    #[arg(long, value_name = "ID", value_parser = deployment_id)]
    pub deployment_id: Option<String>,
}

/// Where green is, once the command line is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    /// A running service.
    Url(&'a Url),
    /// A CodeDeploy deployment to discover.
    Deployment(&'a str),
}

impl GreenArgs {
    /// The one target given (clap requires exactly one).
    pub fn target(&self) -> Option<Target<'_>> {
        match (&self.url, &self.deployment_id) {
            (Some(url), None) => Some(Target::Url(url)),
            (None, Some(id)) => Some(Target::Deployment(id)),
            _ => None,
        }
    }
}

/// A hook, spelled as CodeDeploy and the AppSpec spell it (`Hook::name`).
fn hook_name() -> impl TypedValueParser<Value = Hook> {
    PossibleValuesParser::new(Hook::ALL.map(Hook::name)).map(|name| {
        Hook::ALL
            .into_iter()
            .find(|hook| hook.name() == name)
            .unwrap_or(Hook::AfterAllowTestTraffic)
    })
}

/// What `check` prints on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per check, as the hooks log them, then the verdict.
    Text,
    /// The verdict as one JSON document, as the hooks answer it.
    Json,
    /// The JUnit XML report.
    Junit,
}

/// An absolute `http` or `https` URL.
fn http_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|error| format!("not a URL: {error}"))?;
    match url.scheme() {
        "http" | "https" if url.host_str().is_some() => Ok(url),
        "http" | "https" => Err("the URL has no host".to_owned()),
        other => Err(format!("expected an http or https URL, not {other}:")),
    }
}

/// Longest deployment ID taken (CodeDeploy's are `d-` and nine characters).
const MAX_DEPLOYMENT_ID: usize = 64;
/// Longest hook execution ID taken.
const MAX_EXECUTION_ID: usize = 1024;

/// A CodeDeploy deployment ID (`d-` and nine letters or digits in AWS;
/// emulators use UUIDs): letters, digits and `-`, bounded.
fn deployment_id(text: &str) -> Result<String, String> {
    if text.is_empty() || text.len() > MAX_DEPLOYMENT_ID {
        return Err(format!(
            "expected 1 to {MAX_DEPLOYMENT_ID} characters, e.g. d-ABCDEF123"
        ));
    }
    if !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err("expected only letters, digits and '-', e.g. d-ABCDEF123".to_owned());
    }
    Ok(text.to_owned())
}

/// A hook execution ID: printable ASCII, bounded.
fn execution_id(text: &str) -> Result<String, String> {
    if text.is_empty() || text.len() > MAX_EXECUTION_ID {
        return Err(format!("expected 1 to {MAX_EXECUTION_ID} characters"));
    }
    if !text.chars().all(|c| c.is_ascii_graphic()) {
        return Err("expected printable characters without spaces".to_owned());
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn check_needs_a_url() {
        let error =
            Cli::try_parse_from(["greenlight", "check", "spec.json"]).expect_err("no --url");
        assert_eq!(
            error.kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn check_reads_every_option() {
        let cli = Cli::try_parse_from([
            "greenlight",
            "check",
            "spec.json",
            "--url",
            "http://127.0.0.1:8080/base",
            "--hook",
            "BeforeAllowTraffic",
            "--format",
            "junit",
            "--junit",
            "out.xml",
            "--timeout",
            "20",
        ])
        .expect("parses");
        let Command::Check(args) = cli.command else {
            panic!("not check");
        };
        assert_eq!(args.hook, Hook::BeforeAllowTraffic);
        assert_eq!(args.format, Format::Junit);
        assert_eq!(args.budget(), Duration::from_secs(20));
        assert_eq!(
            args.green.url.map(String::from).as_deref(),
            Some("http://127.0.0.1:8080/base")
        );
    }

    #[test]
    fn the_hook_is_spelled_as_codedeploy_spells_it() {
        for hook in Hook::ALL {
            let cli = Cli::try_parse_from([
                "greenlight",
                "check",
                "s.json",
                "--url",
                "http://h",
                "--hook",
                hook.name(),
            ])
            .expect("parses");
            let Command::Check(args) = cli.command else {
                panic!("not check");
            };
            assert_eq!(args.hook, hook);
        }
        let default = Cli::try_parse_from(["greenlight", "check", "s.json", "--url", "http://h"])
            .expect("parses");
        let Command::Check(args) = default.command else {
            panic!("not check");
        };
        assert_eq!(args.hook, Hook::AfterAllowTestTraffic);
        assert!(
            Cli::try_parse_from([
                "greenlight",
                "check",
                "s.json",
                "--url",
                "http://h",
                "--hook",
                "Install",
            ])
            .is_err()
        );
    }

    #[test]
    fn green_is_a_url_or_a_deployment_never_both() {
        let cli = Cli::try_parse_from([
            "greenlight",
            "check",
            "s.json",
            "--deployment-id",
            "d-ABCDEF123",
            "--report",
            "eyJ0",
        ])
        .expect("parses");
        let Command::Check(args) = cli.command else {
            panic!("not check");
        };
        assert_eq!(args.green.target(), Some(Target::Deployment("d-ABCDEF123")));
        assert_eq!(args.report.as_deref(), Some("eyJ0"));
        for argv in [
            &[
                "check",
                "s.json",
                "--url",
                "http://h",
                "--deployment-id",
                "d-A",
            ][..],
            &["check", "s.json", "--url", "http://h", "--report", "x"][..],
            &["check", "s.json", "--deployment-id", ""][..],
            &["check", "s.json", "--deployment-id", "d-1;rm"][..],
            &[
                "check",
                "s.json",
                "--deployment-id",
                "d-1",
                "--report",
                "a b",
            ][..],
        ] {
            let argv = std::iter::once("greenlight").chain(argv.iter().copied());
            assert!(
                Cli::try_parse_from(argv.clone()).is_err(),
                "{:?}",
                argv.collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn only_http_urls_are_green() {
        assert!(http_url("http://localhost:8080").is_ok());
        assert!(http_url("https://example.com").is_ok());
        assert!(http_url("ftp://example.com").is_err());
        assert!(http_url("localhost:8080").is_err());
        assert!(http_url("not a url").is_err());
    }
}

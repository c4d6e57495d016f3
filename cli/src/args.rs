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
}

impl CheckArgs {
    /// The time budget.
    pub fn budget(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }
}

/// Where green is: a URL today. A deployment to discover it from
/// (`--deployment-id`) is the other member of this group to come; exactly one
/// of them will be required.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct GreenArgs {
    /// Base URL of the running service; each check's path is appended to it.
    #[arg(long, value_name = "URL", value_parser = http_url)]
    pub url: Option<Url>,
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
    fn only_http_urls_are_green() {
        assert!(http_url("http://localhost:8080").is_ok());
        assert!(http_url("https://example.com").is_ok());
        assert!(http_url("ftp://example.com").is_err());
        assert!(http_url("localhost:8080").is_err());
        assert!(http_url("not a url").is_err());
    }
}

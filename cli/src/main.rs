//! `greenlight`: the command line front door of the engine. Wiring only:
//! arguments in, a command run, its error turned into an exit code.

mod args;
mod check;
mod error;
mod judge;
mod junit;
mod progress;
mod render;
mod report;
mod validate;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::error::CliError;

fn main() -> ExitCode {
    // A usage error exits with 2 here; --help and --version with 0.
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    // Not locked: the progress spinner draws on standard error from its
    // own thread.
    let mut err = std::io::stderr();
    let done: Result<(), CliError> = match &cli.command {
        Command::Validate(args) => validate::validate(args, &mut out),
        Command::Check(args) => check::check(args, &mut out, &mut err),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(err, "{error}");
            ExitCode::from(error.exit_code())
        }
    }
}

//! `greenlight validate`: every problem of a spec, or what it runs.

use std::io::Write;

use crate::args::ValidateArgs;
use crate::error::CliError;
use crate::judge;

/// Validates the spec: on success writes `FILE: valid, N check(s): …` with
/// the count for each hook to `out`; otherwise the error lists every problem.
pub fn validate(args: &ValidateArgs, out: &mut impl Write) -> Result<(), CliError> {
    let plan = judge::load_plan(&args.spec)?;
    let per_hook: Vec<String> = judge::checks_per_hook(&plan)
        .into_iter()
        .map(|(hook, count)| format!("{hook} {count}"))
        .collect();
    writeln!(
        out,
        "{}: valid, {} check(s): {}",
        args.spec.display(),
        judge::check_count(&plan),
        per_hook.join(", ")
    )
    .map_err(CliError::Output)
}

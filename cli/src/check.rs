//! `greenlight check`: one hook's checks against a running service or a
//! deployment, the result on standard output in the format asked, and in a
//! JUnit file if asked; with `--report`, the verdict reported to CodeDeploy.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use greenlight::{Status, Verdict};
use quick_junit::Report;

use greenlight_aws::Clients;

use crate::args::{CheckArgs, Format, Target};
use crate::error::CliError;
use crate::progress::Terminal;
use crate::{judge, junit, render, report};

/// Runs the checks; `Ok` when the verdict is Succeeded. `notes` receives
/// what the run leaves out (stages that need a deployment).
pub fn check(
    args: &CheckArgs,
    out: &mut impl Write,
    notes: &mut impl Write,
) -> Result<(), CliError> {
    let plan = judge::load_plan(&args.spec)?;
    let hook = args.hook;
    let target = args
        .green
        .target()
        .ok_or_else(|| CliError::Usage("give --url or --deployment-id".to_owned()))?;
    if let Target::Url(_) = target {
        let skipped = judge::stages_needing_a_deployment(&plan, hook);
        if !skipped.is_empty() {
            writeln!(
                notes,
                "note: against a URL only the HTTP checks run; not run: {}",
                skipped.join(", ")
            )
            .map_err(CliError::Output)?;
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let progress = Terminal::on_stderr();
    let started = Instant::now();
    let verdict = runtime.block_on(async {
        match target {
            Target::Url(url) => {
                let verdict = judge::judge_url(&plan, hook, url, args.budget(), &progress).await;
                Ok(verdict)
            }
            Target::Deployment(id) => {
                let clients = Clients::from_env().await;
                if let Some(problems) = clients.retry_problems_text() {
                    return Err(CliError::AwsSettings(problems));
                }
                let verdict =
                    judge::judge_deployment(&plan, hook, id, args.budget(), &clients, &progress)
                        .await;
                if let Some(execution_id) = &args.report {
                    progress.finish();
                    report::report(&clients.reporter(), id, execution_id, verdict.status).await?;
                    writeln!(notes, "reported to CodeDeploy: {}", verdict.status)
                        .map_err(CliError::Output)?;
                }
                Ok(verdict)
            }
        }
    })?;
    progress.finish();
    let took = started.elapsed();
    let report = junit::report(&verdict, took);
    if let Some(path) = &args.junit {
        write_report(&report, path)?;
    }
    let shown = match args.format {
        Format::Text => render::text(&verdict, took),
        Format::Json => render::json(&verdict)?,
        Format::Junit => report.to_string()?,
    };
    out.write_all(shown.as_bytes())
        .and_then(|()| out.flush())
        .map_err(CliError::Output)?;
    outcome(&verdict)
}

/// Succeeded is `Ok`; Failed is the error that exits with 1.
fn outcome(verdict: &Verdict) -> Result<(), CliError> {
    match verdict.status {
        Status::Succeeded => Ok(()),
        Status::Failed => Err(CliError::ChecksFailed {
            hook: verdict.hook,
            failing: verdict.failing_checks().len(),
            checks: verdict.checks.len(),
        }),
    }
}

fn write_report(report: &Report, path: &Path) -> Result<(), CliError> {
    let unwritable = |source| CliError::WriteReport {
        path: path.to_owned(),
        source,
    };
    let mut file = BufWriter::new(File::create(path).map_err(unwritable)?);
    report.serialize(&mut file)?;
    file.flush().map_err(unwritable)
}

//! Runs a hook's checks: concurrently (bounded), each inside the time budget,
//! a panic in one becoming that check's failure rather than a lost report.

use std::panic::AssertUnwindSafe;

use futures::{FutureExt, StreamExt, stream};
use tokio::time::Instant;

use crate::check::{CheckResult, millis, run_check};
use crate::plan::Check;
use crate::probe::HttpProbe;
use crate::redaction::Redactor;

/// Runs `checks` at most `concurrency` at a time and returns one result per
/// check, in the order given. Checks still running at `stop_at` are failed.
pub async fn run_checks<P: HttpProbe>(
    checks: &[&Check],
    probe: &P,
    concurrency: usize,
    stop_at: Instant,
    redactor: &Redactor,
) -> Vec<CheckResult> {
    let started = Instant::now();
    let mut results: Vec<Option<CheckResult>> = vec![None; checks.len()];
    let mut running = stream::iter(checks.iter().enumerate())
        .map(|(index, check)| {
            AssertUnwindSafe(run_check(check, probe, stop_at, redactor))
                .catch_unwind()
                .map(move |outcome| {
                    let result = outcome.unwrap_or_else(|panic| {
                        CheckResult::failed(
                            &check.name,
                            format!("the check panicked: {}", panic_message(panic.as_ref())),
                            started.elapsed(),
                        )
                    });
                    (index, result)
                })
        })
        .buffer_unordered(concurrency.max(1));
    // Each check stops itself at `stop_at`; this guard is for one that does not.
    let guard = stop_at + std::time::Duration::from_millis(250);
    while let Ok(Some((index, result))) = tokio::time::timeout_at(guard, running.next()).await {
        results[index] = Some(result);
    }
    results
        .into_iter()
        .zip(checks)
        .map(|(result, check)| {
            result.unwrap_or_else(|| {
                CheckResult::failed(
                    &check.name,
                    format!(
                        "did not finish before the hook's deadline ({} ms)",
                        millis(started.elapsed())
                    ),
                    started.elapsed(),
                )
            })
        })
        .collect()
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

//! The fault matrix, end to end: one driver runs every row of the table in
//! `rows.rs` — the real hook binaries under the local Lambda Runtime API,
//! with green, CodeDeploy, AWS, the Lambda deadline or the input broken one
//! way per row — and `docs/fault-matrix.md` is generated from that table.
//!
//! Each row asserts what it states: the status reported (or the invocation
//! error where nobody can be told), the number of status calls, the line an
//! operator sees, and through `Invocation::run` that the invocation ended
//! before its deadline and that no secret is in any output.
//!
//! `FAULT_ROWS=<text>` runs only the rows whose id contains the text;
//! `FAULT_ROWS_PARALLEL=<n>` sets how many rows without AWS run at once (8),
//! `FAULT_ROWS_AWS_PARALLEL=<n>` how many with moto (3).

mod rows;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use greenlight_e2e::fault_doc;
use greenlight_e2e::hook::Build;
use greenlight_e2e::scene::run_row;
use tokio::sync::Semaphore;

fn parallel(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_row_of_the_fault_matrix() {
    greenlight_e2e::cargo_hooks!();
    let all = rows::rows();
    let filter = std::env::var("FAULT_ROWS").unwrap_or_default();
    let chosen: Vec<_> = all
        .into_iter()
        .enumerate()
        .filter(|(_, row)| row.id.contains(filter.as_str()))
        .collect();
    // The hook binaries, built (or found up to date) before any row starts
    // its clock.
    let abort = chosen
        .iter()
        .any(|(_, row)| row.build == Build::AbortOnPanic);
    tokio::task::spawn_blocking(move || {
        Build::Standard.dir();
        if abort {
            Build::AbortOnPanic.dir();
        }
    })
    .await
    .expect("the hook binaries");
    let local = Arc::new(Semaphore::new(parallel("FAULT_ROWS_PARALLEL", 8)));
    let aws = Arc::new(Semaphore::new(parallel("FAULT_ROWS_AWS_PARALLEL", 3)));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, row) in chosen {
        let pool = Arc::clone(if row.aws.is_some() { &aws } else { &local });
        tasks.push((
            i + 1,
            row.id,
            tokio::spawn(async move {
                let _permit = pool.acquire_owned().await.expect("a permit");
                let began = Instant::now();
                run_row(&row).await;
                began.elapsed()
            }),
        ));
    }
    let total = tasks.len();
    let mut failed = Vec::new();
    for (number, id, task) in tasks {
        match task.await {
            Ok(took) => eprintln!("row {number:>2} {id}: ok ({} ms)", took.as_millis()),
            Err(error) => {
                let message = match error.try_into_panic() {
                    Ok(panic) => panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_default(),
                    Err(error) => error.to_string(),
                };
                eprintln!("row {number:>2} {id}: FAILED");
                failed.push(format!("row {number} {id}: {message}"));
            }
        }
    }
    eprintln!(
        "fault matrix: {total} rows run, {} passed, {} failed, in {:.1} s",
        total - failed.len(),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

#[test]
fn fault_matrix_doc() {
    fault_doc::check_or_update(&rows::rows());
}

#[test]
fn row_ids_are_unique_and_every_row_says_what_it_shows() {
    let rows = rows::rows();
    let mut seen = BTreeSet::new();
    for row in &rows {
        assert!(seen.insert(row.id), "two rows named {}", row.id);
        assert!(!row.sees.is_empty(), "{}: no text to see", row.id);
        assert!(!row.fault.is_empty(), "{}: no fault", row.id);
    }
    eprintln!("fault matrix: {} rows", rows.len());
}

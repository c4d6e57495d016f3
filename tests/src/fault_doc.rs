//! `docs/fault-matrix.md`, rendered from the table of rows: the page is
//! never edited by hand. [`check_or_update`] compares the page with the
//! table and fails with the lines that differ, or rewrites the page when
//! `UPDATE_DOCS` is set (`make docs`).

use std::path::PathBuf;

use crate::hook::workspace_root;
use crate::row::{Row, Told};

/// Where the page lives.
pub fn path() -> PathBuf {
    workspace_root().join("docs").join("fault-matrix.md")
}

const INTRO: &str = "\
# Fault matrix

<!-- Generated from functions/tests/faults/rows.rs by `make docs`; do not edit. -->

Whatever breaks — green, AWS, the Lambda itself, or the input — a hook answers
once, in time, with the reason. Each row below is one end-to-end run of the
real hook binaries under a local Lambda Runtime API, with one fault injected.
The rows are data (`functions/tests/faults/rows.rs`: the spec, green's behaviour,
the AWS or CodeDeploy fault, the event and environment, and what is
expected), and one driver runs them all (`cargo test -p greenlight-codedeploy --test
faults`; `make test` runs it). This page is generated from that table.

Every row also asserts, through `Invocation::run` in `tests/src/hook.rs`:

- **before the deadline**: the invocation was answered before the deadline the
  Runtime API handed out, and the process then asked for its next invocation,
  also before the deadline (or, in the abort rows, had ended);
- **no secret out**: every check in every scenario sends two secret headers
  (`X-Canary-Token`, marked secret, and `Authorization: Bearer …`); neither
  value appears in stdout, stderr, the answer to the Runtime API, the status
  calls or any AWS API call. In two AWS rows the spec, with those headers, is
  read from an SSM SecureString parameter or from an S3 object. Any 10
  characters of either value count as a leak (a secret cut in two still
  leaks). Rows that name more secrets check each in every rendering a service
  echoes it in: as it is, JSON, PHP and Go JSON, percent- and form-encoded,
  base64.

Columns: **Told** is the status the hook reported and CodeDeploy took
(`Succeeded` / `Failed`; in `already_completed_is_not_an_error`, and for the
second delivery of `the_same_event_delivered_twice_is_answered_cleanly_both_times`,
CodeDeploy already had it and answered \"already completed\"), or
`invocation error` where nothing could be reported (each such row also
asserts the `errorType` posted to the Runtime API: `InvalidEvent` for an
unusable event, `ReportFailed` when CodeDeploy did not take the status);
**Calls** is the number of `PutLifecycleEventHookExecutionStatus` calls
CodeDeploy received (exact unless marked ≥, where the count depends on retry
timing); **Operator sees** is text from a log line (or the verdict's
reasons) the row asserts.
";

/// The page for `rows`.
pub fn render(rows: &[Row]) -> String {
    let mut page = String::from(INTRO);
    page.push_str(&format!(
        "\n{} rows.\n\n| # | Area | Fault | Row | Told | Calls | Operator sees |\n|---|---|---|---|---|---|---|\n",
        rows.len()
    ));
    for (i, row) in rows.iter().enumerate() {
        let told = match row.told {
            Told::InvocationError(error_type) => format!("invocation error (`{error_type}`)"),
            told => told.label().to_owned(),
        };
        page.push_str(&format!(
            "| {} | {} | {} | `{}` | {} | {} | `{}` |\n",
            i + 1,
            row.area.label(),
            cell(row.fault),
            row.id,
            told,
            row.calls.label(),
            cell(row.sees),
        ));
    }
    page
}

/// Table-cell text: a `|` would end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Compares the page with `rows`; rewrites it instead when `UPDATE_DOCS` is
/// set. Panics with the lines that differ.
pub fn check_or_update(rows: &[Row]) {
    check_or_update_page(&path(), &render(rows));
}

/// Compares the page at `path` with `expected`; rewrites it instead when
/// `UPDATE_DOCS` is set. Panics with the lines that differ.
pub fn check_or_update_page(path: &std::path::Path, expected: &str) {
    let expected = expected.to_owned();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &expected).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        return;
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    if actual == expected {
        return;
    }
    let diff = line_diff(&actual, &expected);
    panic!(
        "{} is not what the table of rows gives; run `make docs`.\n{diff}",
        path.display()
    );
}

/// The lines that differ, as `-` (the page) and `+` (the table), by line
/// number.
fn line_diff(actual: &str, expected: &str) -> String {
    let (actual, expected): (Vec<&str>, Vec<&str>) =
        (actual.lines().collect(), expected.lines().collect());
    let mut out = String::new();
    for i in 0..actual.len().max(expected.len()) {
        let (a, e) = (actual.get(i), expected.get(i));
        if a != e {
            if let Some(a) = a {
                out.push_str(&format!("-{:>4} {a}\n", i + 1));
            }
            if let Some(e) = e {
                out.push_str(&format!("+{:>4} {e}\n", i + 1));
            }
        }
    }
    out
}

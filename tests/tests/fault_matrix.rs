//! `docs/fault-matrix.md` against the tests: each row names an end-to-end test
//! that exists, runs through `Invocation::run`, and asserts the row's status,
//! its number of status calls and the text an operator sees; and every test
//! in `faults.rs` is a row. The matrix cannot drift from what
//! is proven.

use std::collections::BTreeSet;
use std::path::Path;

use greenlight_e2e::hook::workspace_root;

/// One row of the table.
#[derive(Debug)]
struct Row {
    number: String,
    file: String,
    test: String,
    told: String,
    calls: String,
    sees: String,
}

fn rows() -> Vec<Row> {
    let path = workspace_root().join("docs").join("fault-matrix.md");
    let text = std::fs::read_to_string(&path).expect("docs/fault-matrix.md");
    text.lines()
        .filter(|line| {
            line.starts_with("| ") && line[2..].starts_with(|c: char| c.is_ascii_digit())
        })
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 7, "a row has 7 cells: {line}");
            let test = cells[3].trim_matches('`');
            let (file, test) = test
                .split_once("::")
                .unwrap_or_else(|| panic!("test as file::name: {line}"));
            Row {
                number: cells[0].to_owned(),
                file: file.to_owned(),
                test: test.to_owned(),
                told: cells[4].to_owned(),
                calls: cells[5].to_owned(),
                sees: cells[6].trim_matches('`').to_owned(),
            }
        })
        .collect()
}

/// The source of test `name` in `tests/tests/<file>.rs`: from its attribute to
/// the next test.
fn test_body(file: &str, name: &str) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(format!("{file}.rs"));
    let source = std::fs::read_to_string(&path).ok()?;
    let start = source.find(&format!("async fn {name}("))?;
    let attribute = source[..start].rfind("#[tokio::test]")?;
    if source[attribute..start].contains("fn ") {
        return None;
    }
    let end = source[start + 1..]
        .find("#[tokio::test]")
        .map_or(source.len(), |i| start + 1 + i);
    Some(source[start..end].to_owned())
}

#[test]
fn the_matrix_has_at_least_thirty_rows_numbered_in_order() {
    let rows = rows();
    assert!(rows.len() >= 30, "{} rows", rows.len());
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.number, (i + 1).to_string(), "{row:?}");
    }
}

#[test]
fn every_row_is_a_test_that_asserts_what_the_row_says() {
    let mut problems = Vec::new();
    for row in rows() {
        let Some(body) = test_body(&row.file, &row.test) else {
            problems.push(format!(
                "row {}: no #[tokio::test] async fn {} in tests/tests/{}.rs",
                row.number, row.test, row.file
            ));
            continue;
        };
        let told = match row.told.as_str() {
            "Succeeded" => body.contains("\"Succeeded\""),
            "Failed" => body.contains("\"Failed\""),
            "invocation error" => {
                body.contains("InvocationError") || body.contains("Answer::Error")
            }
            other => {
                problems.push(format!("row {}: unknown Told {other:?}", row.number));
                continue;
            }
        };
        if !told {
            problems.push(format!(
                "row {}: {} does not assert {}",
                row.number, row.test, row.told
            ));
        }
        // The Calls column, as the test asserts it.
        let calls_asserted = match row.calls.strip_prefix("≥ ") {
            Some(least) => body.contains(&format!("calls_at_least: {least}")),
            None => {
                let n = &row.calls;
                [
                    format!("Told::Status(\"{}\", {n})", row.told),
                    format!("calls.len(), {n}"),
                    format!("calls_at_least: {n}"),
                ]
                .iter()
                .any(|evidence| body.contains(evidence.as_str()))
                    || (n == "1" && body.contains("assert_reported_once("))
                    || (n == "0" && body.contains("calls.is_empty()"))
            }
        };
        if !calls_asserted {
            problems.push(format!(
                "row {}: {} does not assert {} status call(s)",
                row.number, row.test, row.calls
            ));
        }
        // Through Invocation::run (directly or by a helper that calls it),
        // which asserts the deadline and the secrets for every row.
        if ![
            "Invocation::new",
            ".run(",
            "run_with(",
            "run_event(",
            "assert_spec_refused(",
            "run_with_secrets(",
        ]
        .iter()
        .any(|call| body.contains(call))
        {
            problems.push(format!(
                "row {}: {} does not go through Invocation::run",
                row.number, row.test
            ));
        }
        if !body.contains(&row.sees) {
            problems.push(format!(
                "row {}: {} does not assert the text {:?}",
                row.number, row.test, row.sees
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_fault_test_is_in_the_matrix() {
    for (file, source) in [
        ("faults", include_str!("faults.rs")),
        ("secrets", include_str!("secrets.rs")),
    ] {
        every_test_is_a_row(file, source);
    }
}

/// Every `#[tokio::test]` of `tests/tests/<file>.rs` (`source`) is a row.
fn every_test_is_a_row(file: &str, source: &str) {
    let listed: BTreeSet<String> = rows()
        .into_iter()
        .filter(|row| row.file == file)
        .map(|row| row.test)
        .collect();
    let mut missing = Vec::new();
    let mut lines = source.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[tokio::test]"
            && let Some(next) = lines.peek()
            && let Some(rest) = next.trim().strip_prefix("async fn ")
        {
            let name = rest.split('(').next().unwrap_or_default();
            if !listed.contains(name) {
                missing.push(name.to_owned());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "tests in {file}.rs without a row in docs/fault-matrix.md: {missing:?}"
    );
}

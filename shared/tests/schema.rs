//! The published JSON Schema and the example specs stay in step with the code.

use std::path::{Path, PathBuf};

/// The workspace root (the parent of this crate).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn schema_file() -> PathBuf {
    workspace().join("schema/greenlight-spec.schema.json")
}

/// The first line where two texts differ, for a short failure message.
fn first_difference(committed: &str, generated: &str) -> String {
    let mut committed_lines = committed.lines();
    let mut generated_lines = generated.lines();
    let mut line = 1;
    loop {
        match (committed_lines.next(), generated_lines.next()) {
            (Some(a), Some(b)) if a == b => line += 1,
            (None, None) => return "only in line endings or the final newline".to_owned(),
            (a, b) => {
                return format!(
                    "line {line}: committed {:?}, generated {:?}",
                    a.unwrap_or("<end of file>"),
                    b.unwrap_or("<end of file>")
                );
            }
        }
    }
}

#[test]
fn the_committed_schema_matches_the_spec_types() {
    // GIVEN the schema generated from the spec types
    let generated = greenlight::spec::schema_json();
    let path = schema_file();
    // WHEN UPDATE_SCHEMA=1 is set, the committed file is (re)written
    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated)
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
        return;
    }
    // THEN otherwise the committed file is exactly the generated schema
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read {} ({error}): run `make schema` to regenerate it",
            path.display()
        )
    });
    assert!(
        committed == generated,
        "{} is out of date with the spec types ({}): run `make schema` to regenerate it",
        path.display(),
        first_difference(&committed, &generated)
    );
}

#[test]
fn the_committed_schema_is_json_and_titled() {
    // GIVEN the generated schema
    let schema: serde_json::Value =
        serde_json::from_str(&greenlight::spec::schema_json()).expect("the schema is JSON");
    // THEN it is the spec's schema, requiring only the checks (the target
    // can come from the deployment)
    assert_eq!(schema["title"], "greenlight check spec");
    let required = schema["required"].as_array().expect("required fields");
    assert_eq!(required, &vec![serde_json::Value::from("checks")]);
    assert!(schema["properties"]["readiness"].is_object());
    assert!(schema["properties"]["bake"].is_object());
}

#[test]
fn every_example_spec_is_a_valid_plan() {
    // GIVEN the example specs, if there are any yet
    let dir = workspace().join("examples");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut examples: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable examples folder").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    examples.sort();
    // WHEN each is validated
    let failures: Vec<String> = examples
        .iter()
        .filter_map(|path| {
            let text = match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(error) => return Some(format!("{}: {error}", path.display())),
            };
            greenlight::Plan::from_json(&text)
                .err()
                .map(|error| format!("{}: {error}", path.display()))
        })
        .collect();
    // THEN none has a problem
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

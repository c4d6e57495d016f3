//! The check spec: not JSON, unknown fields, wrong types, impossible values,
//! bad patterns, none at all. Each is refused with the field named, and
//! green is never probed.

use greenlight_e2e::hook::Run;
use greenlight_e2e::row::{Area, BEFORE_ALLOW_TRAFFIC as BAT, Row, Spec, ok_asserts};
use greenlight_e2e::scene::Scene;
use serde_json::json;

use super::green_not_probed;

/// A spec refused: the verdict's reason is a configuration error, and
/// nothing was probed.
fn refused(run: &Run, scene: &Scene) {
    let why = run.reasons();
    assert!(why.starts_with("configuration: "), "{why}");
    green_not_probed(run, scene);
}

/// A row of a spec (text) refused by before-allow-traffic, showing `sees`.
fn refused_row(
    id: &'static str,
    fault: &'static str,
    spec: &'static str,
    sees: &'static str,
) -> Row {
    Row::new(id, Area::Spec, fault)
        .hook(BAT)
        .spec(Spec::Text(spec))
        .fails(sees)
        .also(refused)
}

pub fn rows() -> Vec<Row> {
    let area = Area::Spec;
    vec![
        refused_row(
            "a_spec_that_is_not_json_is_refused",
            "not JSON",
            "checks: [health]",
            "expected value at line 1 column 1",
        ),
        refused_row(
            "a_spec_with_an_unknown_field_is_refused_naming_it",
            "unknown field",
            r#"{"target": {"url": "GREEN_URL"}, "checks": [{"name": "a", "timeout": 5, "assert": [{"status": 200}]}]}"#,
            "checks[0].timeout: unknown field `timeout`",
        ),
        refused_row(
            "a_spec_with_a_wrong_type_is_refused_naming_the_field",
            "wrong type",
            r#"{"target": {"url": "GREEN_URL"}, "concurrency": "eight", "checks": [{"name": "a", "assert": [{"status": 200}]}]}"#,
            "concurrency: invalid type: string",
        ),
        refused_row(
            "a_negative_timeout_is_refused_naming_the_field",
            "negative timeout",
            r#"{"target": {"url": "GREEN_URL"}, "checks": [{"name": "a", "timeout_ms": -5, "assert": [{"status": 200}]}]}"#,
            "checks[0].timeout_ms: invalid value: integer `-5`, expected u64",
        ),
        refused_row(
            "a_bad_regex_is_refused_naming_the_assertion",
            "bad regex",
            r#"{"target": {"url": "GREEN_URL"}, "checks": [{"name": "a", "assert": [{"body": {"matches": "([unclosed"}}]}]}"#,
            "checks[0].assert[0].body.matches",
        ),
        refused_row(
            "a_bad_json_path_is_refused_naming_the_assertion",
            "bad JSON path",
            r#"{"target": {"url": "GREEN_URL"}, "checks": [{"name": "a", "assert": [{"json": {"path": "$..[?(", "exists": true}}]}]}"#,
            "checks[0].assert[0].json.path",
        ),
        refused_row(
            "duplicate_check_names_are_refused",
            "duplicate check names",
            r#"{"target": {"url": "GREEN_URL"}, "checks": [
            {"name": "a", "assert": [{"status": 200}]},
            {"name": "a", "assert": [{"status": 204}]}]}"#,
            "checks[1].name: duplicate check name",
        ),
        refused_row(
            "impossible_values_are_all_refused_at_once",
            "impossible values (concurrency 0, 0 attempts, status 999), all reported",
            r#"{"target": {"url": "GREEN_URL"}, "concurrency": 0, "checks": [{"name": "a",
            "retry": {"attempts": 0, "consecutive_passes": 3}, "assert": [{"status": 999}]}]}"#,
            "concurrency: expected 1..=128, got 0",
        ),
        Row::new("invalid_spec_fails_with_the_reason", area, "invalid status code")
            .spec(Spec::Json(json!({
                "target": {"url": "http://127.0.0.1:1"},
                "readiness": {"enabled": false},
                "alarms": {"deployment_group": false},
                "checks": [{"name": "health", "assert": [{"status": 9999}]}]
            })))
            .fails("checks[0].assert[0].status: expected a number 100..599, got 9999")
            .also(|run, _| assert_eq!(run.calls[0].deployment_id, "d-ABCDEF123")),
        Row::new("missing_spec_fails_with_the_reason", area, "no spec at all")
            .hook(BAT)
            .spec(Spec::None)
            .fails("no spec: set GREENLIGHT_SPEC")
            .also(|run, _| {
                let why = run.reasons();
                assert!(why.contains("no spec: set GREENLIGHT_SPEC"), "{why}");
            }),
        Row::new(
            "positional_arrays_where_objects_belong_are_refused",
            area,
            "readiness and retry written as positional arrays (serde would fill a struct's fields from them in order)",
        )
        .patch(json!({"readiness": [false, null, null]}))
        .fails("readiness: invalid type: sequence, expected an object")
        .and_spec(
            Spec::Check(
                json!({"path": "/health", "assert": ok_asserts(), "retry": [1, null, null, null]}),
                json!({}),
            ),
            "checks[0].retry: invalid type: sequence, expected an object",
        )
        .also(green_not_probed),
        Row::new(
            "a_spec_error_quotes_no_string_value",
            area,
            "a token written as the listener, in a check path and as a header name",
        )
        .check(json!({"assert": [{"status": 200}]}))
        .patch(json!({"target": {"listener": "Bearer sk_live_51HxYzAbCdEfGhIjKlMn"}}))
        .secret("sk_live_51HxYzAbCdEfGhIjKlMn")
        .fails("target.listener: unknown variant (not shown), expected `test` or `production`")
        .and_spec(
            Spec::Check(
                json!({
                    "path": "health?api_key=sk_live_51HxYzAbCdEfGhIjKlMn",
                    "assert": [{"header": {"name": "Bearer sk_live_51HxYzAbCdEfGhIjKlMn", "exists": true}}]
                }),
                json!({}),
            ),
            "checks[0].path: expected a path starting with '/' (the value is not shown)",
        ),
    ]
}

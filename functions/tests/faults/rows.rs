//! The fault matrix, as data: every row's fault (green's behaviour, the AWS or
//! CodeDeploy fault, the spec, the event, the Lambda environment) and what it
//! expects (the status CodeDeploy was told, the number of status calls, the
//! text an operator sees). One driver (`main.rs`) runs them all, and
//! `docs/fault-matrix.md` is rendered from this table, in this order.

mod aws;
mod bake;
mod codedeploy;
mod event;
mod flow;
mod green;
mod lambda;
mod long_bake;
mod secrets;
mod spec;

use greenlight_e2e::hook::Run;
use greenlight_e2e::row::Row;
use greenlight_e2e::scene::Scene;
use serde_json::{Value, json};

/// Every row, in the matrix's order.
pub fn rows() -> Vec<Row> {
    [
        green::rows(),
        codedeploy::rows(),
        aws::rows(),
        lambda::rows(),
        event::rows(),
        spec::rows(),
        secrets::rows(),
        bake::rows(),
        long_bake::rows(),
        flow::rows(),
    ]
    .concat()
}

/// The assertions a careful operator writes for `/health`.
fn health_asserts() -> Value {
    json!([
        {"status": 200},
        {"header": {"name": "content-type", "contains": "application/json"}},
        {"json": {"path": "$.status", "equals": "ok"}},
        {"duration_ms": {"less_than": 1000}}
    ])
}

/// `/health` with [`health_asserts`], two attempts 100 ms apart.
fn health_check() -> Value {
    json!({"path": "/health", "assert": health_asserts(), "retry": {"attempts": 2, "interval_ms": 100}})
}

/// The check result line's fields for `check`.
fn check_line(run: &Run, check: &str) -> Value {
    run.log_fields("check ")
        .into_iter()
        .find(|fields| fields["check"] == check)
        .unwrap_or_else(|| panic!("no log line for check {check}:\n{}", run.log_text()))
}

/// Exactly one status call, for the sample event's deployment.
fn for_the_sample_deployment(run: &Run) {
    assert_eq!(run.calls[0].deployment_id, "d-ABCDEF123");
}

/// The one status call came before the invocation's deadline.
fn reported_before_the_deadline(run: &Run) {
    let reported_after = run.calls[0].at.duration_since(run.started);
    assert!(
        reported_after < run.timeout,
        "reported after {reported_after:?}"
    );
}

/// Green was never asked.
fn green_not_probed(_: &Run, scene: &Scene) {
    assert_eq!(scene.requests(), 0, "green was probed");
}

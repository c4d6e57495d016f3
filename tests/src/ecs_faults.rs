//! The ECS-native hook's fault rows, as data: each row's stage, spec, green,
//! AWS fault, environment and deadline, and the answer and reason expected.
//! One driver runs them (`ecs/tests/faults.rs`), and
//! `docs/ecs-fault-matrix.md` is rendered from this table.

use std::time::Duration;

use serde_json::{Value, json};

use crate::codedeploy::Fault;
use crate::ecs_native::EcsNative;
use crate::green::Behaviour;

/// One row.
#[derive(Debug, Clone)]
pub struct EcsRow {
    /// A stable name, unique in the table.
    pub id: &'static str,
    /// What breaks, for the reader of the matrix.
    pub fault: &'static str,
    /// The stage ECS invokes.
    pub stage: &'static str,
    /// Fields merged into the world's spec (`"checks"` replaced whole);
    /// `Value::Null` keeps the spec as it is, a string replaces it.
    pub spec: Value,
    /// Environment variables on top of the Lambda's.
    pub env: &'static [(&'static str, &'static str)],
    /// How green behind the test listener behaves.
    pub green: Behaviour,
    /// An AWS operation that fails, and how.
    pub aws: Option<(&'static str, Fault)>,
    /// The event, when not the world's for `stage`.
    pub event: Option<Value>,
    /// The Lambda invocation's timeout.
    pub timeout: Duration,
    /// The `hookStatus` expected.
    pub answer: &'static str,
    /// Text the `answer` log line's reason shows.
    pub sees: &'static str,
}

impl EcsRow {
    fn new(
        id: &'static str,
        fault: &'static str,
        answer: &'static str,
        sees: &'static str,
    ) -> Self {
        EcsRow {
            id,
            fault,
            stage: "POST_TEST_TRAFFIC_SHIFT",
            spec: Value::Null,
            env: &[],
            green: Behaviour::Healthy,
            aws: None,
            event: None,
            timeout: Duration::from_secs(10),
            answer,
            sees,
        }
    }

    /// The spec this row runs in `world`.
    pub fn spec_in(&self, world: &EcsNative) -> Value {
        match &self.spec {
            Value::String(text) => Value::String(text.clone()),
            extra => world.spec(extra.clone()),
        }
    }
}

/// Every row, in the matrix's order.
pub fn rows() -> Vec<EcsRow> {
    vec![
        EcsRow {
            green: Behaviour::WrongAnswer,
            ..EcsRow::new(
                "green_answers_wrongly",
                "Green answers 200 with the wrong JSON",
                "FAILED",
                "health: expected json $.status == \"ok\"",
            )
        },
        EcsRow {
            green: Behaviour::Hang,
            spec: json!({"checks": [{"name": "health", "path": "/health", "timeout_ms": 30000, "retry": {"attempts": 1}, "assert": [{"status": 200}]}]}),
            timeout: Duration::from_secs(4),
            ..EcsRow::new(
                "green_hangs_past_the_deadline",
                "Green never answers; the check's timeout is longer than the invocation",
                "FAILED",
                "(cut short by the hook's deadline)",
            )
        },
        EcsRow {
            timeout: Duration::from_millis(1200),
            ..EcsRow::new(
                "too_little_time_left",
                "The invocation's deadline leaves less than the answer margin",
                "FAILED",
                "within the answer margin (GREENLIGHT_REPORT_MARGIN_MS=1000)",
            )
        },
        EcsRow {
            spec: json!({"checks": [{"name": "greenlight-fault-injection-runner-panic", "assert": [{"status": 200}]}]}),
            ..EcsRow::new(
                "panic_in_the_round",
                "A panic in the handler, outside the checks",
                "FAILED",
                "greenlight panicked: injected panic in the runner",
            )
        },
        EcsRow {
            env: &[("GREENLIGHT_FAULT_INJECTION_COLD_START_PANIC", "1")],
            ..EcsRow::new(
                "panic_at_cold_start",
                "A panic while the function starts",
                "FAILED",
                "configuration: the cold start panicked",
            )
        },
        EcsRow {
            spec: Value::String("{\"checks\": 3}".to_owned()),
            ..EcsRow::new(
                "the_spec_is_invalid",
                "The spec is not a valid spec",
                "FAILED",
                "configuration:",
            )
        },
        EcsRow {
            aws: Some(("DescribeServiceDeployments", Fault::AccessDenied)),
            ..EcsRow::new(
                "service_deployment_unreadable",
                "The role may not read the service deployment",
                "FAILED",
                "ecs:DescribeServiceDeployments",
            )
        },
        EcsRow {
            aws: Some(("DescribeRules", Fault::ServerError)),
            ..EcsRow::new(
                "listener_rules_unreadable",
                "ELBv2 fails to describe the listener rules",
                "FAILED",
                "elasticloadbalancing:DescribeRules",
            )
        },
        EcsRow {
            event: Some(
                json!({"DeploymentId": "d-ABCDEF123", "LifecycleEventHookExecutionId": "exec"}),
            ),
            ..EcsRow::new(
                "a_codedeploy_event",
                "The function gets a CodeDeploy event, not an ECS one",
                "FAILED",
                "event.lifecycleStage: missing",
            )
        },
        EcsRow {
            event: Some(
                json!({"lifecycleStage": "POST_TEST_TRAFFIC_SHIFT", "executionId": "e", "resourceArn": "a", "executionDetails": {"targetServiceRevisionArn": "r", "productionTrafficWeights": "all"}}),
            ),
            ..EcsRow::new(
                "weights_are_not_a_map",
                "The event's weights are not a map",
                "FAILED",
                "event.executionDetails.productionTrafficWeights: expected a map",
            )
        },
        EcsRow {
            stage: "PRE_SCALE_UP",
            green: Behaviour::WrongAnswer,
            ..EcsRow::new(
                "a_stage_without_checks",
                "ECS invokes a stage greenlight does not gate",
                "SUCCEEDED",
                "nothing to check at PRE_SCALE_UP",
            )
        },
        EcsRow {
            env: &[("GREENLIGHT_DRY_RUN", "true")],
            green: Behaviour::WrongAnswer,
            ..EcsRow::new(
                "dry_run_answers_succeeded",
                "Green fails its checks, in dry run",
                "SUCCEEDED",
                "(DRY RUN: answering SUCCEEDED anyway",
            )
        },
    ]
}

/// `docs/ecs-fault-matrix.md` for `rows`.
pub fn render(rows: &[EcsRow]) -> String {
    let mut page = String::from(
        "\
# Fault matrix: the ECS-native hook

<!-- Generated from tests/src/ecs_faults.rs by `make docs`; do not edit. -->

Whatever breaks, the ECS lifecycle hook answers a valid `hookStatus`, once,
before the invocation's deadline, with the reason in its `answer` log line:
ECS reads an invocation error as a rollback with no reason, so there is none.
Each row is one run of the real `ecs-lifecycle-hook` binary under a local
Lambda Runtime API, with moto's ELBv2 and the test front serving ECS's
service-deployment APIs. One driver runs them all (`cargo test -p
greenlight-ecs --test faults`; `make test` runs it), and asserts for every
row: exactly one answer, before the deadline; the `hookStatus` and reason
below; and neither secret header the checks send (`X-Canary-Token`,
`Authorization: Bearer …`) in the answer or any log line.
",
    );
    page.push_str(&format!(
        "\n{} rows.\n\n| # | Fault | Row | Stage | Answer | Operator sees |\n|---|---|---|---|---|---|\n",
        rows.len()
    ));
    for (i, row) in rows.iter().enumerate() {
        page.push_str(&format!(
            "| {} | {} | `{}` | {} | `{}` | `{}` |\n",
            i + 1,
            row.fault.replace('|', "\\|"),
            row.id,
            if row.event.is_some() {
                "(its own event)".to_owned()
            } else {
                format!("`{}`", row.stage)
            },
            row.answer,
            row.sees.replace('|', "\\|"),
        ));
    }
    page
}

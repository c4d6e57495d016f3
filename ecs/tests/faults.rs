//! The ECS-native hook's fault matrix: every row of
//! `greenlight_e2e::ecs_faults` run by one driver against the real binary,
//! and `docs/ecs-fault-matrix.md` checked against the table.

use std::time::Instant;

use greenlight_e2e::cargo_ecs_hook;
use greenlight_e2e::ecs_faults::{EcsRow, render, rows};
use greenlight_e2e::ecs_native::{EcsNative, answer_reasons};
use greenlight_e2e::fault_doc::check_or_update_page;
use greenlight_e2e::green::Behaviour;
use greenlight_e2e::hook::{CANARY_SECRET, CANARY_TOKEN, renderings, with_canary, workspace_root};
use serde_json::Value;

/// Runs `row` in `world`; the problems found, if any.
async fn run(world: &EcsNative, row: &EcsRow) -> Vec<String> {
    let mut problems = Vec::new();
    world.test_green.set_behaviour(row.green);
    if let Some((operation, fault)) = row.aws {
        world.front.fail(operation, fault);
    }
    let spec = match row.spec_in(world) {
        Value::String(text) => text,
        spec => with_canary(&spec.to_string()),
    };
    let env: Vec<(&str, String)> = std::iter::once(("GREENLIGHT_SPEC", spec))
        .chain(row.env.iter().map(|(k, v)| (*k, (*v).to_owned())))
        .collect();
    // GREENLIGHT_SPEC given here wins over the world's.
    let hook = world.start(&Value::Null, &env).await;
    let event = row
        .event
        .clone()
        .unwrap_or_else(|| world.event(row.stage, serde_json::json!({}), false));
    let started = Instant::now();
    let answer = hook.invoke(event, row.timeout).await;
    let took = started.elapsed();
    let logs = hook.stop().await;
    if let Some((operation, _)) = row.aws {
        world.front.heal(operation);
    }
    world.test_green.set_behaviour(Behaviour::Healthy);
    if took >= row.timeout {
        problems.push(format!(
            "answered after {took:?}, the deadline was {:?} away",
            row.timeout
        ));
    }
    if answer["hookStatus"] != row.answer {
        problems.push(format!("answered {answer}, expected {}", row.answer));
    }
    let reasons = answer_reasons(&logs);
    if reasons.len() != 1 || !reasons[0].contains(row.sees) {
        problems.push(format!(
            "expected one answer line showing {:?}, got {reasons:?}",
            row.sees
        ));
    }
    let output = format!("{answer}\n{}", logs.join("\n"));
    for secret in [CANARY_SECRET, CANARY_TOKEN] {
        for (how, rendering) in renderings(secret) {
            if output.contains(&rendering) {
                problems.push(format!("a secret header's value ({how}) is in the output"));
            }
        }
    }
    problems
}

#[tokio::test]
async fn every_row_of_the_ecs_fault_matrix() {
    cargo_ecs_hook!();
    let world = EcsNative::new().await;
    let rows = rows();
    let mut failed = Vec::new();
    for row in &rows {
        let problems = run(&world, row).await;
        if !problems.is_empty() {
            failed.push(format!("{}: {}", row.id, problems.join("; ")));
        }
    }
    eprintln!(
        "ECS fault matrix: {} rows run, {} passed, {} failed",
        rows.len(),
        rows.len() - failed.len(),
        failed.len()
    );
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn ecs_fault_matrix_doc() {
    let rows = rows();
    let mut ids: Vec<&str> = rows.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), rows.len(), "row ids are unique");
    check_or_update_page(
        &workspace_root().join("docs").join("ecs-fault-matrix.md"),
        &render(&rows),
    );
}

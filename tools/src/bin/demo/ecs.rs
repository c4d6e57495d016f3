//! The ECS-native part of `make demo`: a service deployment in moto (an ALB
//! whose production and test listeners each forward by a weighted rule, the
//! front serving the service-deployment APIs), the real ECS lifecycle hook
//! under the local Runtime API, invoked stage by stage as ECS would: again
//! with the `hookDetails` it returned, after its `callBackDelay`, while it
//! answers IN_PROGRESS.

use std::time::Duration;

use greenlight_e2e::aws_front::AlarmState;
use greenlight_e2e::binaries::ECS_HOOK;
use greenlight_e2e::ecs_native::{DEPLOYMENT_ARN, EcsNative};
use greenlight_e2e::green::Behaviour;
use greenlight_e2e::hook::sample_event;
use serde_json::{Value, json};

/// The Lambda deadline of each invocation.
const TIMEOUT: Duration = Duration::from_secs(15);
/// The most invocations of one stage: ECS would keep calling while the hook
/// answers IN_PROGRESS; the demo gives up after this many.
const MAX_ROUNDS: usize = 10;
/// The stages a blue/green deployment goes through from the test traffic
/// shift on, each with its sample event in `events/` if it has one.
const STAGES: [(&str, Option<&str>); 5] = [
    ("TEST_TRAFFIC_SHIFT", None),
    (
        "POST_TEST_TRAFFIC_SHIFT",
        Some("ecs-post-test-traffic-shift"),
    ),
    (
        "PRE_PRODUCTION_TRAFFIC_SHIFT",
        Some("ecs-pre-production-traffic-shift"),
    ),
    ("PRODUCTION_TRAFFIC_SHIFT", None),
    (
        "POST_PRODUCTION_TRAFFIC_SHIFT",
        Some("ecs-post-production-traffic-shift"),
    ),
];

/// One invocation: its stage and answer.
struct Invoked {
    stage: &'static str,
    answer: Value,
}

/// Runs the deployment through its stages with both greens playing
/// `behaviour`, stopping at the first stage that does not succeed, and
/// prints one line per invocation. Whether every stage succeeded.
pub async fn run(behaviour: Behaviour, verbose: bool) -> Result<bool, String> {
    let moto = greenlight_e2e::moto::binary();
    if !moto.exists() {
        return Err(format!(
            "moto's server (an AWS emulator) is not installed at {}: `make demo` installs it into .venv",
            moto.display()
        ));
    }
    println!("ECS-native blue/green: the ECS lifecycle hook ({ECS_HOOK}), stage by stage");
    println!("  service deployment {DEPLOYMENT_ARN}");
    println!(
        "  in moto: an ALB, blue and green target groups, a production and a test listener with weighted rules"
    );
    let world = EcsNative::new().await;
    world.test_green.set_behaviour(behaviour);
    world.prod_green.set_behaviour(behaviour);
    world.front.set_alarm("web-5xx", AlarmState::Ok);
    let spec = world.spec(json!({
        "alarms": {"deployment_group": false, "names": ["web-5xx"]},
        "bake": {"duration_ms": 2000, "interval_ms": 1000}
    }));
    println!(
        "  spec: a health check on the stage's listener, alarm web-5xx (OK), a bake of 2 s looking every 1 s; green plays {behaviour:?}"
    );
    println!(
        "  events: events/ecs-<stage>.json where there is one, else as ECS sends them; again with the answer's hookDetails after its callBackDelay while IN_PROGRESS\n"
    );
    let hook = world.start(&spec, &[]).await;
    let mut invoked = Vec::new();
    let mut succeeded = true;
    for (stage, sample) in STAGES {
        if stage == "POST_PRODUCTION_TRAFFIC_SHIFT" {
            // ECS moved production to green at PRODUCTION_TRAFFIC_SHIFT.
            world.shift_production().await;
        }
        let mut details = json!({});
        let mut status = String::new();
        for _ in 0..MAX_ROUNDS {
            let event = match sample {
                Some(name) => {
                    let mut event = sample_event(name);
                    event["hookDetails"] = details.clone();
                    event
                }
                None => world.event(stage, details.clone(), false),
            };
            let answer = hook.invoke(event, TIMEOUT).await;
            status = answer["hookStatus"].as_str().unwrap_or("(none)").to_owned();
            let delay = answer["callBackDelay"].as_u64();
            details = answer["hookDetails"].clone();
            invoked.push(Invoked { stage, answer });
            if status != "IN_PROGRESS" {
                break;
            }
            tokio::time::sleep(Duration::from_secs(delay.unwrap_or(1))).await;
        }
        if status != "SUCCEEDED" {
            succeeded = false;
            break;
        }
    }
    let logs = hook.stop().await;
    let reasons = answer_reasons(&logs);
    for (i, call) in invoked.iter().enumerate() {
        print_invocation(
            call,
            reasons.get(i).map_or("(no answer logged)", String::as_str),
        );
    }
    if verbose {
        logs.iter().for_each(|line| println!("    | {line}"));
    }
    let last = invoked.last().map(|call| &call.answer["hookStatus"]);
    if succeeded {
        println!(
            "\nThe deployment went through every stage: {} invocations, ECS would finish it.",
            invoked.len()
        );
    } else if last == Some(&json!("IN_PROGRESS")) {
        println!(
            "\nStill IN_PROGRESS after {MAX_ROUNDS} invocations of one stage: the demo stops there."
        );
    } else {
        println!(
            "\nThe hook answered {}: ECS stops the deployment here and rolls back to blue (events/ecs-test-traffic-shift-rollback.json: a rollback passes through).",
            last.and_then(Value::as_str).unwrap_or("(none)")
        );
    }
    println!(
        "One stage by hand: make local, make watch, then make invoke HOOK={ECS_HOOK} EVENT=ecs-post-test-traffic-shift"
    );
    Ok(succeeded)
}

/// One line: the stage, the answer (with its delay) and the hook's reason.
fn print_invocation(call: &Invoked, reason: &str) {
    let status = call.answer["hookStatus"].as_str().unwrap_or("(none)");
    let mark = match status {
        "SUCCEEDED" => "✔",
        "IN_PROGRESS" => "…",
        _ => "✘",
    };
    let answer = match call.answer["callBackDelay"].as_u64() {
        Some(delay) => format!("{status}, callBackDelay {delay} s"),
        None => status.to_owned(),
    };
    println!("  {mark} {:<30} {answer:<31} {reason}", call.stage);
}

/// The reasons of the hook's `answer` log lines, in order.
fn answer_reasons(logs: &[String]) -> Vec<String> {
    logs.iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["fields"]["message"] == "answer")
        .map(|line| line["fields"]["reason"].as_str().unwrap_or("").to_owned())
        .collect()
}

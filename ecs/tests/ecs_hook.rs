//! The ECS-native lifecycle hook, end to end: the real binary under the
//! local Runtime API, moto's ELBv2 behind the front (which serves the
//! service-deployment APIs), and green services behind each listener port.

use std::time::Duration;

use greenlight_e2e::aws_front::{AlarmState, MetricKey, Script};
use greenlight_e2e::ecs_native::{DEPLOYMENT_ARN, EcsHookProcess, EcsNative, answer_reasons};
use greenlight_e2e::hook::{sample_event, workspace_root};
use greenlight_e2e::{cargo_ecs_hook, green::Behaviour};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(15);

/// The next invocation of `stage`, carrying the `hookDetails` of the
/// `previous` answer, as ECS does after an `IN_PROGRESS`.
async fn again(world: &EcsNative, hook: &EcsHookProcess, stage: &str, previous: &Value) -> Value {
    hook.invoke(
        world.event(stage, previous["hookDetails"].clone(), false),
        TIMEOUT,
    )
    .await
}

fn status(answer: &Value) -> &str {
    answer["hookStatus"].as_str().unwrap_or("(none)")
}

#[tokio::test]
async fn a_deployment_goes_through_every_stage_checked_on_the_right_listener() {
    cargo_ecs_hook!();
    // GIVEN an ECS-native deployment and a spec whose checks run at every
    // gated moment
    let world = EcsNative::new().await;
    let hook = world.start(&world.spec(json!({})), &[]).await;
    // WHEN ECS invokes the hook at each stage, production shifting between
    let mut answers = Vec::new();
    for stage in [
        "RECONCILE_SERVICE",
        "PRE_SCALE_UP",
        "POST_SCALE_UP",
        "TEST_TRAFFIC_SHIFT",
        "POST_TEST_TRAFFIC_SHIFT",
        "PRE_PRODUCTION_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
        "POST_PRODUCTION_TRAFFIC_SHIFT",
    ] {
        if stage == "POST_PRODUCTION_TRAFFIC_SHIFT" {
            world.shift_production().await;
        }
        let answer = hook
            .invoke(world.event(stage, json!({}), false), TIMEOUT)
            .await;
        answers.push((stage, status(&answer).to_owned()));
    }
    let logs = hook.stop().await;
    // THEN every stage succeeds
    assert!(
        answers.iter().all(|(_, s)| s == "SUCCEEDED"),
        "{answers:?}\n{logs:#?}"
    );
    // AND the checks before production moved went to the test listener
    // (twice), the last one to production
    assert_eq!(world.test_green.requests(), 2);
    assert_eq!(world.prod_green.requests(), 1);
    let reasons = answer_reasons(&logs);
    assert!(
        reasons[0].starts_with("nothing to check at RECONCILE_SERVICE"),
        "{reasons:?}"
    );
    assert_eq!(
        reasons[4], "2 check(s) passed for AfterAllowTestTraffic",
        "{reasons:?}"
    );
    // AND production's shift going forward is not taken for a rollback
    assert!(
        reasons[6].starts_with("nothing to check at PRODUCTION_TRAFFIC_SHIFT"),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn a_bake_carries_its_state_across_three_invocations_and_succeeds() {
    cargo_ecs_hook!();
    // GIVEN production on green, a 2 s bake looking every second at an alarm
    // that stays OK, and the service's own hookDetails
    let world = EcsNative::new().await;
    world.shift_production().await;
    world.front.set_alarm("web-5xx", AlarmState::Ok);
    let spec = world.spec(json!({
        "alarms": {"deployment_group": false, "names": ["web-5xx"]},
        "bake": {"duration_ms": 2000, "interval_ms": 1000}
    }));
    let hook = world.start(&spec, &[]).await;
    let stage = "POST_PRODUCTION_TRAFFIC_SHIFT";
    // WHEN ECS invokes it, then again with what it answered, after its delay
    let first = hook
        .invoke(world.event(stage, json!({"team": "web"}), false), TIMEOUT)
        .await;
    assert_eq!(status(&first), "IN_PROGRESS", "{first}");
    assert_eq!(first["callBackDelay"], 1);
    assert_eq!(first["hookDetails"]["team"], "web");
    assert_eq!(first["hookDetails"]["greenlight"]["v"], 1);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let second = again(&world, &hook, stage, &first).await;
    assert_eq!(status(&second), "IN_PROGRESS", "{second}");
    assert_eq!(
        second["hookDetails"]["greenlight"]["round"]["bake"]["looks"],
        1
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let third = again(&world, &hook, stage, &second).await;
    let logs = hook.stop().await;
    // THEN the third answer succeeds: the bake is over, nothing breached
    assert_eq!(status(&third), "SUCCEEDED", "{third}\n{logs:#?}");
    assert_eq!(third.get("hookDetails"), None);
    // AND the checks ran once, in the first invocation only
    assert_eq!(world.prod_green.requests(), 1);
    let reasons = answer_reasons(&logs);
    assert!(
        reasons[1].starts_with("baking: look 1 passed"),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn a_breach_mid_bake_fails_the_deployment() {
    cargo_ecs_hook!();
    // GIVEN a bake of 10 s under way, its first look passed
    let world = EcsNative::new().await;
    world.shift_production().await;
    world.front.set_alarm("web-5xx", AlarmState::Ok);
    let spec = world.spec(json!({
        "alarms": {"deployment_group": false, "names": ["web-5xx"]},
        "bake": {"duration_ms": 10000, "interval_ms": 1000}
    }));
    let hook = world.start(&spec, &[]).await;
    let stage = "POST_PRODUCTION_TRAFFIC_SHIFT";
    let first = hook
        .invoke(world.event(stage, json!({}), false), TIMEOUT)
        .await;
    let second = again(&world, &hook, stage, &first).await;
    assert_eq!(status(&second), "IN_PROGRESS", "{second}");
    // WHEN the alarm goes off before the next look
    world.front.set_alarm("web-5xx", AlarmState::Alarm);
    let third = again(&world, &hook, stage, &second).await;
    let logs = hook.stop().await;
    // THEN the hook answers FAILED, saying the bake breached
    assert_eq!(status(&third), "FAILED", "{third}");
    let reasons = answer_reasons(&logs);
    assert!(reasons[2].contains("breached after"), "{reasons:?}");
}

#[tokio::test]
async fn a_tolerated_breach_is_counted_across_rounds() {
    cargo_ecs_hook!();
    // GIVEN a bake whose latency gate tolerates one breach, and green's
    // latency breaching at every look
    let world = EcsNative::new().await;
    world.shift_production().await;
    let green = world
        .green_target_group
        .rsplit(':')
        .next()
        .expect("a dimension");
    world.front.set_metric(
        MetricKey::named("TargetResponseTime").with_dimension(green),
        Script::per_call(vec![Some(2.0)]),
    );
    let spec = world.spec(json!({
        "alarms": {"deployment_group": false},
        "bake": {"duration_ms": 10000, "interval_ms": 1000, "metrics": [
            {"name": "latency", "metric": "TargetResponseTime", "stat": "p99",
             "greater_than": 0.5, "failure_limit": 1}
        ]}
    }));
    let hook = world.start(&spec, &[]).await;
    let stage = "POST_PRODUCTION_TRAFFIC_SHIFT";
    // WHEN the checks pass and the bake takes its first look
    let first = hook
        .invoke(world.event(stage, json!({}), false), TIMEOUT)
        .await;
    let second = again(&world, &hook, stage, &first).await;
    // THEN the first breach is tolerated, and carried in the state
    assert_eq!(status(&second), "IN_PROGRESS", "{second}");
    let tally = &second["hookDetails"]["greenlight"]["round"]["bake"]["gates"][0];
    assert_eq!(tally, &json!({"d": 1, "b": 1, "r": 1}), "{second}");
    // AND the second breach, in the next invocation, fails the deployment
    let third = again(&world, &hook, stage, &second).await;
    let logs = hook.stop().await;
    assert_eq!(status(&third), "FAILED", "{third}");
    let reasons = answer_reasons(&logs);
    assert!(
        reasons[2].contains("(failure_limit 1), got 2 (2 breaches so far, 2 in a row)"),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn green_not_running_yet_is_asked_again_not_waited_for() {
    cargo_ecs_hook!();
    // GIVEN green's task not running yet, a readiness wait of a minute, and
    // an invocation of 3 s
    let world = EcsNative::new().await;
    world.set_running(0);
    let spec = world.spec(json!({"readiness": {"timeout_ms": 60000, "interval_ms": 500}}));
    let hook = world.start(&spec, &[]).await;
    let stage = "POST_TEST_TRAFFIC_SHIFT";
    // WHEN ECS invokes it
    let first = hook
        .invoke(world.event(stage, json!({}), false), Duration::from_secs(3))
        .await;
    // THEN it answers IN_PROGRESS within the invocation, carrying when the
    // wait began
    assert_eq!(status(&first), "IN_PROGRESS", "{first}");
    assert_eq!(first["hookDetails"]["greenlight"]["round"]["rounds"], 1);
    // AND once the task runs, the next invocation passes
    world.set_running(Script::new(1));
    let second = again(&world, &hook, stage, &first).await;
    hook.stop().await;
    assert_eq!(status(&second), "SUCCEEDED", "{second}");
}

#[tokio::test]
async fn a_rollback_passes_through_at_once() {
    cargo_ecs_hook!();
    // GIVEN a deployment rolling back, and a spec whose checks would fail
    let world = EcsNative::new().await;
    world.test_green.set_behaviour(Behaviour::WrongAnswer);
    let hook = world.start(&world.spec(json!({})), &[]).await;
    world.front.clear_calls();
    // WHEN ECS runs the traffic shifts again with green's weight at 0
    let test = hook
        .invoke(world.event("TEST_TRAFFIC_SHIFT", json!({}), true), TIMEOUT)
        .await;
    let prod = hook
        .invoke(
            world.event("PRODUCTION_TRAFFIC_SHIFT", json!({}), true),
            TIMEOUT,
        )
        .await;
    let logs = hook.stop().await;
    // THEN both succeed at once, saying so, having read nothing
    assert_eq!((status(&test), status(&prod)), ("SUCCEEDED", "SUCCEEDED"));
    assert!(world.front.api_calls().is_empty());
    assert_eq!(world.test_green.requests(), 0);
    let reasons = answer_reasons(&logs);
    assert!(
        reasons
            .iter()
            .all(|r| r.starts_with("rollback passes through")),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn a_malformed_or_foreign_hook_details_fails() {
    cargo_ecs_hook!();
    let world = EcsNative::new().await;
    let hook = world.start(&world.spec(json!({})), &[]).await;
    let stage = "POST_TEST_TRAFFIC_SHIFT";
    let foreign = json!({"greenlight": {
        "v": 1,
        "deployment": DEPLOYMENT_ARN.replace("dep-2", "dep-1"),
        "stage": stage,
        "round": {"since_ms": 0, "rounds": 1}
    }});
    let mut answers = Vec::new();
    for details in [
        json!({"greenlight": "resume"}),
        json!({"greenlight": {"v": 9}}),
        foreign,
    ] {
        answers.push(
            hook.invoke(world.event(stage, details, false), TIMEOUT)
                .await,
        );
    }
    let logs = hook.stop().await;
    assert!(answers.iter().all(|a| status(a) == "FAILED"), "{answers:?}");
    let reasons = answer_reasons(&logs);
    assert!(
        reasons[0].starts_with("hookDetails.greenlight: not a state greenlight wrote"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("hookDetails.greenlight.v: version 9"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].starts_with("hookDetails.greenlight: written for deployment"),
        "{reasons:?}"
    );
    assert_eq!(world.test_green.requests(), 0);
}

#[tokio::test]
async fn a_stage_probing_a_listener_that_serves_blue_is_refused() {
    cargo_ecs_hook!();
    // GIVEN checks only after production moves, on the production listener,
    // and production's rule still sending everything to blue
    let world = EcsNative::new().await;
    let spec = world.spec(json!({"target": {
        "resolve": {world.load_balancer_dns.clone(): "127.0.0.1"},
        "listener": "production"
    }}));
    let mut spec = spec;
    spec["checks"][0]["hooks"] = json!(["POST_PRODUCTION_TRAFFIC_SHIFT"]);
    let hook = world.start(&spec, &[]).await;
    // WHEN ECS invokes POST_PRODUCTION_TRAFFIC_SHIFT anyway
    let answer = hook
        .invoke(
            world.event("POST_PRODUCTION_TRAFFIC_SHIFT", json!({}), false),
            TIMEOUT,
        )
        .await;
    let logs = hook.stop().await;
    // THEN it fails without probing blue
    assert_eq!(status(&answer), "FAILED");
    assert_eq!(world.prod_green.requests(), 0);
    let reasons = answer_reasons(&logs);
    assert!(
        reasons[0].contains(
            "the production listener sends no traffic to green's target group native-green yet"
        ),
        "{reasons:?}"
    );
    // AND a spec that probes production before it moves is refused outright
    let mut early = world.spec(json!({"target": {
        "resolve": {world.load_balancer_dns.clone(): "127.0.0.1"},
        "listener": "production"
    }}));
    early["checks"][0]["hooks"] = json!(["POST_TEST_TRAFFIC_SHIFT"]);
    let hook = world.start(&early, &[]).await;
    let answer = hook
        .invoke(
            world.event("POST_TEST_TRAFFIC_SHIFT", json!({}), false),
            TIMEOUT,
        )
        .await;
    let early_reasons = answer_reasons(&hook.stop().await);
    assert_eq!(status(&answer), "FAILED");
    assert!(
        early_reasons[0].contains("target.listener"),
        "{early_reasons:?}"
    );
}

#[tokio::test]
async fn the_sample_ecs_events_are_answered_as_their_stage_says() {
    cargo_ecs_hook!();
    // GIVEN the ECS-native samples of events/ (named ecs-*.json; the others
    // are CodeDeploy's), and the world they name with production on green
    let mut samples: Vec<String> = std::fs::read_dir(workspace_root().join("events"))
        .expect("events/")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("ecs-") && name.ends_with(".json"))
        .map(|name| name.trim_end_matches(".json").to_owned())
        .collect();
    samples.sort();
    assert_eq!(samples.len(), 4, "{samples:?}");
    let world = EcsNative::new().await;
    world.shift_production().await;
    let hook = world.start(&world.spec(json!({})), &[]).await;
    // WHEN each is sent as it is
    let mut answers = Vec::new();
    for sample in &samples {
        let answer = hook.invoke(sample_event(sample), TIMEOUT).await;
        answers.push((sample.as_str(), status(&answer).to_owned()));
    }
    let reasons = answer_reasons(&hook.stop().await);
    // THEN every one succeeds: the gated stages on their checks, the
    // rollback passing through
    assert!(
        answers.iter().all(|(_, s)| s == "SUCCEEDED"),
        "{answers:?}\n{reasons:?}"
    );
    for (sample, reason) in samples.iter().zip(&reasons) {
        let passed_through = reason.starts_with("rollback passes through");
        assert_eq!(
            sample.ends_with("-rollback"),
            passed_through,
            "{sample}: {reason}"
        );
    }
    assert_eq!(world.test_green.requests(), 2);
    assert_eq!(world.prod_green.requests(), 1);
}

//! End-to-end, with AWS: the real hook binaries discover the deployment they
//! gate from the DeploymentId alone, through the AWS SDK pointed at moto's
//! server behind the test front (which serves what moto lacks: deployment
//! targets, alarm configuration, unsteady task sets, unhealthy targets,
//! CloudWatch over CBOR, injected errors). Every scenario asserts the number
//! of status calls and the status CodeDeploy took. The AWS faults are rows of
//! the fault matrix (`functions/tests/faults/rows/aws.rs`).

use std::sync::Arc;
use std::time::Duration;

use greenlight_e2e::aws_front::{AwsFront, MetricKey, Script, TargetHealth, TaskSetState};
use greenlight_e2e::fixture::{CONTAINER_PORT, Setup};
use greenlight_e2e::hook::Invocation;
use greenlight_e2e::tls::TlsGreen;
use greenlight_e2e::world::{World, port};
use serde_json::{Value, json};

#[tokio::test]
async fn before_production_moves_the_hooks_probe_the_test_listener() {
    greenlight_e2e::cargo_hooks!();
    // GIVEN a deployment whose test and production listeners each lead to a
    // green service of their own
    let world = World::new(|s| s).await;
    for hook in ["after-allow-test-traffic", "before-allow-traffic"] {
        // WHEN the hook runs with no URL in the spec
        let run = world.run(hook, &world.spec(json!({}))).await;
        // THEN it probed the test listener, not production, and succeeded
        run.assert_reported_once("Succeeded");
        let discovered = &run.log_fields("deployment discovered")[0];
        assert_eq!(discovered["listener"], "test");
        assert_eq!(
            discovered["url"],
            format!(
                "http://{}:{}",
                world.fixture.load_balancer_dns,
                port(&world.test_green)
            )
        );
        assert_eq!(
            discovered["green_target_group"],
            world.fixture.green.target_group_name.as_str()
        );
    }
    assert_eq!(world.test_green.requests(), 2);
    assert_eq!(world.prod_green.requests(), 0);
}

#[tokio::test]
async fn after_production_moved_the_hook_probes_production() {
    greenlight_e2e::cargo_hooks!();
    let world = World::new(|s| s).await;
    let run = world
        .run("after-allow-traffic", &world.spec(json!({})))
        .await;
    run.assert_reported_once("Succeeded");
    assert_eq!(
        run.log_fields("deployment discovered")[0]["listener"],
        "production"
    );
    assert_eq!(world.prod_green.requests(), 1);
    assert_eq!(world.test_green.requests(), 0);
}

#[tokio::test]
async fn unhealthy_green_targets_wait_then_fail_without_probing() {
    greenlight_e2e::cargo_hooks!();
    // GIVEN green's only target failing its health checks
    let world = World::new(|s| s).await;
    let green = &world.fixture.green;
    world.front.set_target_health(
        &green.target_group_arn,
        vec![TargetHealth::unhealthy(&green.target_ip, CONTAINER_PORT)],
    );
    // WHEN the hook runs with a 3 s readiness timeout
    let run = world
        .run("after-allow-test-traffic", &world.spec(json!({})))
        .await;
    // THEN it waited, then failed saying so, and never probed (the ALB would
    // have failed open to blue)
    run.assert_reported_once("Failed");
    let reasons = run.reasons();
    assert!(
        reasons.contains("targets not healthy after waiting"),
        "{reasons}"
    );
    assert!(
        reasons.contains("unhealthy (Target.FailedHealthChecks)"),
        "{reasons}"
    );
    assert!(
        world.front.count("DescribeTargetHealth") >= 3,
        "polled with backoff"
    );
    assert_eq!(world.test_green.requests(), 0);
}

#[tokio::test]
async fn targets_becoming_healthy_during_the_wait_succeed() {
    greenlight_e2e::cargo_hooks!();
    let world = World::new(|s| s).await;
    let green = &world.fixture.green;
    world.front.set_target_health(
        &green.target_group_arn,
        Script::new(vec![TargetHealth::initial(
            &green.target_ip,
            CONTAINER_PORT,
        )])
        .then_after(
            Duration::from_millis(1500),
            vec![TargetHealth::healthy(&green.target_ip, CONTAINER_PORT)],
        ),
    );
    let run = world
        .run(
            "after-allow-test-traffic",
            &world.spec(json!({"readiness": {"timeout_ms": 10000, "interval_ms": 500}})),
        )
        .await;
    run.assert_reported_once("Succeeded");
    let readiness = run
        .log_fields("check ")
        .into_iter()
        .find(|l| l["check"] == "readiness")
        .expect("readiness line");
    assert!(
        readiness["attempts"].as_u64().unwrap_or_default() > 1,
        "{readiness}"
    );
    assert_eq!(world.test_green.requests(), 1);
}

#[tokio::test]
async fn a_task_set_still_stabilizing_fails() {
    greenlight_e2e::cargo_hooks!();
    let world = World::new(|s| s).await;
    world.front.set_task_set(
        &world.fixture.green.task_set_id,
        TaskSetState::stabilizing(1, 1, 2),
    );
    let run = world
        .run("before-allow-traffic", &world.spec(json!({})))
        .await;
    run.assert_reported_once("Failed");
    let reasons = run.reasons();
    assert!(reasons.contains("task set not steady"), "{reasons}");
    assert!(
        reasons.contains("STABILIZING, 1 of 2 running, 1 pending"),
        "{reasons}"
    );
}

#[tokio::test]
async fn a_metric_breach_during_the_bake_fails_naming_metric_and_value() {
    greenlight_e2e::cargo_hooks!();
    // GIVEN production on green, and green's 5xx count rising during the bake
    let world = World::new(|s| s).await;
    world.front.set_metric(
        // Only green's target group: a bake watching blue would see nothing.
        MetricKey::named("HTTPCode_Target_5XX_Count").with_dimension(
            world
                .fixture
                .green
                .target_group_arn
                .rsplit(':')
                .next()
                .expect("a dimension"),
        ),
        Script::per_call(vec![Some(0.0), Some(1.0), Some(12.0)]),
    );
    let spec = world.spec(json!({"bake": {
        "duration_ms": 8000,
        "interval_ms": 500,
        "metrics": [{"metric": "HTTPCode_Target_5XX_Count", "stat": "Sum", "greater_than": 5}]
    }}));
    // WHEN AfterAllowTraffic bakes
    let run = world.run("after-allow-traffic", &spec).await;
    // THEN it fails at the breach, naming metric and value, well before 8 s
    run.assert_reported_once("Failed");
    let verdict = run.verdict();
    assert_eq!(verdict["failing_checks"], "bake");
    let reasons = verdict["reasons"].as_str().unwrap_or_default();
    assert!(
        reasons.contains("expected metric HTTPCode_Target_5XX_Count Sum <= 5, got 12"),
        "{reasons}"
    );
    assert!(
        verdict["duration_ms"].as_u64().unwrap_or(u64::MAX) < 8000,
        "{verdict}"
    );
    assert_eq!(world.front.count("GetMetricData"), 3);
}

#[tokio::test]
async fn a_deployment_with_no_test_listener_fails_saying_so() {
    greenlight_e2e::cargo_hooks!();
    let world = World::new(Setup::without_test_listener).await;
    let run = world
        .run("after-allow-test-traffic", &world.spec(json!({})))
        .await;
    run.assert_reported_once("Failed");
    let reasons = run.reasons();
    assert!(reasons.contains("has no test listener"), "{reasons}");
}

#[tokio::test]
async fn a_deployment_that_is_not_ecs_fails_saying_so() {
    greenlight_e2e::cargo_hooks!();
    let world = World::new(Setup::server_platform).await;
    let run = world
        .run("before-allow-traffic", &world.spec(json!({})))
        .await;
    run.assert_reported_once("Failed");
    let reasons = run.reasons();
    assert!(
        reasons.contains("is not an ECS blue/green deployment"),
        "{reasons}"
    );
}

#[tokio::test]
async fn host_name_pinning_over_tls_uses_the_name_for_sni_certificate_and_host() {
    greenlight_e2e::cargo_hooks!();
    // GIVEN an HTTPS green with a certificate for a name that does not resolve,
    // issued by a private CA
    let green = TlsGreen::start("green.example.invalid").await;
    let front = Arc::new(AwsFront::start(None).await);
    let spec = |host: Option<&str>| {
        let mut target = json!({"url": format!("https://127.0.0.1:{}", green.addr().port()), "ca_pem": green.ca_pem()});
        if let Some(host) = host {
            target["host"] = Value::String(host.to_owned());
        }
        json!({
            "target": target,
            "readiness": {"enabled": false},
            "alarms": {"deployment_group": false},
            "checks": [{"name": "tls", "path": "/health", "retry": {"attempts": 1},
                        "assert": [{"json": {"path": "$.status", "equals": "ok"}}]}]
        })
        .to_string()
    };
    // WHEN the hook connects to 127.0.0.1 but speaks to the certificate's name
    let run = Invocation::new(
        "after-allow-test-traffic",
        &spec(Some("green.example.invalid")),
    )
    .with_front(front.clone())
    .run()
    .await;
    // THEN TLS verified, and SNI and Host carried the name
    run.assert_reported_once("Succeeded");
    let port = green.addr().port();
    assert_eq!(
        green.seen(),
        vec![greenlight_e2e::tls::Seen {
            sni: Some("green.example.invalid".to_owned()),
            host: Some(format!("green.example.invalid:{port}"))
        }]
    );
    // AND without the name the certificate does not match: Failed, not bypassed
    // (a fresh CodeDeploy: the first one already has this execution's status)
    let front = Arc::new(AwsFront::start(None).await);
    let run = Invocation::new("after-allow-test-traffic", &spec(None))
        .with_front(front)
        .run()
        .await;
    assert_eq!(
        run.accepted_statuses(),
        vec!["Failed".to_owned()],
        "{}",
        run.log_text()
    );
    assert!(
        run.reasons().contains("cannot connect"),
        "{}",
        run.reasons()
    );
}

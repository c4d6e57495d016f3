//! End-to-end, with AWS: the real hook binaries discover the deployment they
//! gate from the DeploymentId alone, through the AWS SDK pointed at moto's
//! server behind the test front (which serves what moto lacks: deployment
//! targets, alarm configuration, unsteady task sets, unhealthy targets,
//! CloudWatch over CBOR, injected errors). Every scenario asserts the number
//! of status calls and the status CodeDeploy took.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use greenlight_e2e::aws_front::{
    AlarmConfiguration, AlarmState, AwsFront, MetricKey, MetricStatus, Script, Service,
    TargetHealth, TaskSetState,
};
use greenlight_e2e::codedeploy::Fault;
use greenlight_e2e::fixture::{CONTAINER_PORT, EcsBlueGreen, Setup, lifecycle_event_of};
use greenlight_e2e::green::{Behaviour, GreenService};
use greenlight_e2e::hook::{Invocation, Run, with_canary};
use greenlight_e2e::moto::{MotoServer, sdk_config};
use greenlight_e2e::tls::TlsGreen;
use serde_json::{Value, json};

/// moto, the front, a green service on the test listener and another on the
/// production listener, and a deployment staged with those listener ports.
struct World {
    _moto: MotoServer,
    front: Arc<AwsFront>,
    fixture: EcsBlueGreen,
    test_green: GreenService,
    prod_green: GreenService,
    /// Whether the test staged the deployment's lifecycle events itself;
    /// otherwise each run stages its hook's own event in progress.
    lifecycle_staged: AtomicBool,
}

impl World {
    async fn new(setup: impl FnOnce(Setup) -> Setup) -> World {
        let test_green = GreenService::start(Behaviour::Healthy).await;
        let prod_green = GreenService::start(Behaviour::Healthy).await;
        let moto = MotoServer::start().await;
        let front = AwsFront::start(Some(moto.url())).await;
        let fixture = setup(Setup::new(port(&test_green), port(&prod_green)))
            .create(&sdk_config(&moto.url()), &front)
            .await;
        World {
            _moto: moto,
            front: Arc::new(front),
            fixture,
            test_green,
            prod_green,
            lifecycle_staged: AtomicBool::new(false),
        }
    }

    /// Puts the deployment in lifecycle event `event` for every later run,
    /// whichever hook runs.
    fn stage_lifecycle_event(&self, event: &str) {
        self.fixture.stage_lifecycle_event(&self.front, event);
        self.lifecycle_staged.store(true, Ordering::SeqCst);
    }

    /// A spec with no URL: the listener comes from the deployment, and its
    /// load balancer's name (which does not resolve) is pinned to 127.0.0.1.
    fn spec(&self, extra: Value) -> Value {
        let mut spec = json!({
            "target": {"resolve": {self.fixture.load_balancer_dns.clone(): "127.0.0.1"}},
            "readiness": {"timeout_ms": 3000, "interval_ms": 500},
            "checks": [{
                "name": "health",
                "path": "/health",
                "retry": {"attempts": 1},
                "assert": [{"status": 200}, {"json": {"path": "$.status", "equals": "ok"}}]
            }]
        });
        if let (Value::Object(spec), Value::Object(extra)) = (&mut spec, extra) {
            spec.extend(extra);
        }
        spec
    }

    async fn run(&self, hook: &str, spec: &Value) -> Run {
        self.run_with(hook, |invocation| {
            invocation.env("GREENLIGHT_SPEC", &spec.to_string())
        })
        .await
    }

    /// Runs `hook` on the staged deployment, its invocation (20 s timeout)
    /// changed by `change`. Unless the test staged the lifecycle events, the
    /// deployment is in the hook's own lifecycle event, as when CodeDeploy
    /// invokes it.
    async fn run_with(&self, hook: &str, change: impl FnOnce(Invocation) -> Invocation) -> Run {
        if !self.lifecycle_staged.load(Ordering::SeqCst) {
            self.fixture
                .stage_lifecycle_event(&self.front, lifecycle_event_of(hook));
        }
        let mut invocation = Invocation::new(hook, "").with_front(self.front.clone());
        invocation.timeout = Duration::from_secs(20);
        let mut invocation = change(invocation);
        invocation.event["DeploymentId"] = Value::String(self.fixture.deployment_id.clone());
        invocation.run().await
    }
}

fn port(green: &GreenService) -> u16 {
    green
        .url()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port")
}

#[tokio::test]
async fn before_production_moves_the_hooks_probe_the_test_listener() {
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
async fn an_alarm_in_alarm_fails_naming_it() {
    // GIVEN a deployment group watching two alarms, one of them in ALARM
    let world = World::new(|s| {
        s.alarms(AlarmConfiguration::watching(&[
            "green-5xx",
            "green-latency",
        ]))
    })
    .await;
    world.front.set_alarm("green-5xx", AlarmState::Alarm);
    // WHEN the hook runs (its HTTP checks pass)
    let run = world
        .run("after-allow-test-traffic", &world.spec(json!({})))
        .await;
    // THEN it fails, naming the alarm
    run.assert_reported_once("Failed");
    let verdict = run.verdict();
    assert_eq!(verdict["failing_checks"], "alarms");
    let reasons = verdict["reasons"].as_str().unwrap_or_default();
    assert!(
        reasons.contains("expected alarm green-5xx not in ALARM, got ALARM"),
        "{reasons}"
    );
    assert!(
        !reasons.contains("green-latency not in ALARM, got"),
        "only the alarm in ALARM is named: {reasons}"
    );
}

#[tokio::test]
async fn a_metric_breach_during_the_bake_fails_naming_metric_and_value() {
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
async fn access_denied_during_discovery_fails_with_the_api_and_reports_once() {
    let world = World::new(|s| s).await;
    world.front.fail("GetDeploymentGroup", Fault::AccessDenied);
    let run = world
        .run("after-allow-test-traffic", &world.spec(json!({})))
        .await;
    run.assert_reported_once("Failed");
    let reasons = run.reasons();
    assert!(
        reasons
            .starts_with("discovery: codedeploy:GetDeploymentGroup failed: AccessDeniedException"),
        "{reasons}"
    );
    assert_eq!(world.test_green.requests(), 0);
}

#[tokio::test]
async fn a_deployment_with_no_test_listener_fails_saying_so() {
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

#[tokio::test]
async fn the_spec_can_live_in_an_ssm_parameter_read_at_cold_start() {
    // GIVEN the spec stored in SSM Parameter Store (moto), not in the function
    let world = World::new(|s| s).await;
    let ssm = aws_sdk_ssm::Client::new(&sdk_config(&world._moto.url()));
    ssm.put_parameter()
        .name("/greenlight/web/spec")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        // with the canary secret in its headers: read from SSM, it must stay
        // out of every output as a spec in the environment does
        .value(with_canary(&world.spec(json!({})).to_string()))
        .send()
        .await
        .expect("put the spec parameter");
    // WHEN the hook runs with only the parameter's name
    let run = world
        .run_with("after-allow-test-traffic", |invocation| {
            invocation
                .without_env("GREENLIGHT_SPEC")
                .env("GREENLIGHT_SPEC_PARAMETER", "/greenlight/web/spec")
        })
        .await;
    // THEN it read the spec, checked green with it (secret headers included)
    // and reported Succeeded; no output holds the secrets (Invocation::run)
    run.assert_reported_once("Succeeded");
    assert_eq!(world.test_green.requests(), 1, "{}", run.log_text());
    assert_eq!(world.test_green.requests_with_header("x-canary-token"), 1);
    assert!(
        run.log_text().contains("check passed"),
        "{}",
        run.log_text()
    );
}

#[tokio::test]
async fn a_missing_ssm_parameter_fails_naming_it() {
    // GIVEN a parameter name that does not exist
    let world = World::new(|s| s).await;
    // WHEN the hook runs with it
    let run = world
        .run_with("before-allow-traffic", |invocation| {
            invocation
                .without_env("GREENLIGHT_SPEC")
                .env("GREENLIGHT_SPEC_PARAMETER", "/greenlight/nothing-here")
        })
        .await;
    // THEN it reports Failed once, saying which parameter and why, and never
    // probes green with no spec
    run.assert_reported_once("Failed");
    let why = run.reasons();
    assert!(
        why.starts_with(
            "configuration: GREENLIGHT_SPEC_PARAMETER: cannot read SSM parameter \"/greenlight/nothing-here\" at cold start: ssm:GetParameter failed: ParameterNotFound"
        ),
        "{why}"
    );
    assert_eq!(world.test_green.requests(), 0);
}

/// An S3 bucket in moto, for a spec kept in S3.
async fn spec_bucket(world: &World) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::Client::new(&sdk_config(&world._moto.url()));
    s3.create_bucket()
        .bucket("greenlight-specs")
        .send()
        .await
        .expect("create the spec bucket");
    s3
}

#[tokio::test]
async fn the_spec_can_live_in_an_s3_object_read_at_cold_start() {
    // GIVEN a spec larger than an SSM parameter of the standard tier holds
    // (4096 characters): the check of this hook, and forty for another hook
    let world = World::new(|s| s).await;
    let later: Vec<Value> = (0..40)
        .map(|i| {
            json!({
                "name": format!("after-production-moved-{i}"),
                "hooks": ["AfterAllowTraffic"],
                "path": format!("/api/items/{i}"),
                "assert": [{"status": 200}, {"json": {"path": "$.status", "equals": "ok"}}]
            })
        })
        .collect();
    let mut spec = world.spec(json!({}));
    spec["checks"].as_array_mut().expect("checks").extend(later);
    // stored as an S3 object (moto), with the canary secret in the headers
    // of every check: read from S3, it must stay out of every output
    let text = with_canary(&spec.to_string());
    assert!(text.len() > 4096, "{} bytes", text.len());
    spec_bucket(&world)
        .await
        .put_object()
        .bucket("greenlight-specs")
        .key("web/spec.json")
        .body(text.into_bytes().into())
        .send()
        .await
        .expect("put the spec object");
    // WHEN the hook runs with only the object's location
    let run = world
        .run_with("after-allow-test-traffic", |invocation| {
            invocation
                .without_env("GREENLIGHT_SPEC")
                .env("GREENLIGHT_SPEC_S3", "s3://greenlight-specs/web/spec.json")
        })
        .await;
    // THEN it read the object once (GetObject, path-style on this endpoint),
    // checked green with it (secret headers included) and reported
    // Succeeded; no output holds the secrets (Invocation::run)
    run.assert_reported_once("Succeeded");
    let reads: Vec<&str> = run
        .api_calls
        .iter()
        .map(|call| call.request.lines().next().unwrap_or_default())
        .filter(|line| line.contains("/greenlight-specs/"))
        .collect();
    assert_eq!(
        reads,
        ["GET /greenlight-specs/web/spec.json?x-id=GetObject"],
        "{}",
        run.log_text()
    );
    assert_eq!(world.test_green.requests(), 1, "{}", run.log_text());
    assert_eq!(world.test_green.requests_with_header("x-canary-token"), 1);
    assert!(
        run.log_text().contains("check passed"),
        "{}",
        run.log_text()
    );
}

#[tokio::test]
async fn a_missing_s3_object_fails_naming_it() {
    // GIVEN a bucket without the object named
    let world = World::new(|s| s).await;
    spec_bucket(&world).await;
    // WHEN the hook runs with it
    let run = world
        .run_with("before-allow-traffic", |invocation| {
            invocation.without_env("GREENLIGHT_SPEC").env(
                "GREENLIGHT_SPEC_S3",
                "s3://greenlight-specs/nothing-here.json",
            )
        })
        .await;
    // THEN it reports Failed once, naming the variable, the object and S3's
    // error, and never probes green with no spec
    run.assert_reported_once("Failed");
    let why = run.reasons();
    assert!(
        why.starts_with(
            "configuration: GREENLIGHT_SPEC_S3: cannot read S3 object \"s3://greenlight-specs/nothing-here.json\" at cold start: s3:GetObject failed: NoSuchKey"
        ),
        "{why}"
    );
    assert_eq!(world.test_green.requests(), 0);
}

// --- AWS faults during discovery and the gates (rows of docs/fault-matrix.md)

#[tokio::test]
async fn elbv2_throttling_during_discovery_fails_naming_the_api() {
    // GIVEN ELBv2 throttling every DescribeListeners call
    let world = World::new(|s| s).await;
    world.front.fail("DescribeListeners", Fault::Throttle);
    // WHEN a hook discovers its listener
    let run = world
        .run("after-allow-test-traffic", &world.spec(json!({})))
        .await;
    // THEN it fails once, naming the API and the error, and probes nothing
    run.assert_reported_once("Failed");
    let why = run.reasons();
    assert!(
        why.starts_with("discovery: elasticloadbalancing:DescribeListeners failed: Throttling"),
        "{why}"
    );
    assert_eq!(world.test_green.requests(), 0);
}

#[tokio::test]
async fn ecs_server_errors_during_readiness_fail_naming_the_api() {
    // GIVEN ECS answering every DescribeTaskSets with HTTP 500
    let world = World::new(|s| s).await;
    world.front.fail("DescribeTaskSets", Fault::ServerError);
    // WHEN a hook waits for green to be ready
    // (readiness long enough for the SDK's own retries to end in the error)
    let spec = world.spec(json!({"readiness": {"timeout_ms": 6000, "interval_ms": 500}}));
    let run = world.run("before-allow-traffic", &spec).await;
    // THEN doubt means Failed: once, naming the API, green never probed
    run.assert_reported_once("Failed");
    let why = run.reasons();
    assert!(why.contains("ecs:DescribeTaskSets"), "{why}");
    assert_eq!(world.test_green.requests(), 0);
}

#[tokio::test]
async fn cloudwatch_errors_in_the_alarm_gate_fail_closed() {
    // GIVEN a deployment group watching an alarm, and CloudWatch answering 500
    let world = World::new(|s| s.alarms(AlarmConfiguration::watching(&["green-5xx"]))).await;
    world.front.fail("DescribeAlarms", Fault::ServerError);
    // WHEN the hook's HTTP checks pass and the alarm gate runs
    let run = world
        .run("after-allow-test-traffic", &world.spec(json!({})))
        .await;
    // THEN an alarm that cannot be read fails the hook, naming the API
    run.assert_reported_once("Failed");
    let verdict = run.verdict();
    assert_eq!(verdict["failing_checks"], "alarms");
    let why = run.reasons();
    assert!(why.contains("cloudwatch:DescribeAlarms"), "{why}");
}

#[tokio::test]
async fn cloudwatch_throttling_during_the_bake_fails_closed() {
    // GIVEN CloudWatch throttling every GetMetricData call
    let world = World::new(|s| s).await;
    world.front.fail("GetMetricData", Fault::Throttle);
    let spec = world.spec(json!({"bake": {
        "duration_ms": 3000,
        "interval_ms": 500,
        "metrics": [{"metric": "HTTPCode_Target_5XX_Count", "stat": "Sum", "greater_than": 5}]
    }}));
    // WHEN AfterAllowTraffic bakes
    let run = world.run("after-allow-traffic", &spec).await;
    // THEN a metric that cannot be read is a failed bake, naming the API
    run.assert_reported_once("Failed");
    let verdict = run.verdict();
    assert_eq!(verdict["failing_checks"], "bake");
    let why = run.reasons();
    assert!(why.contains("cloudwatch:GetMetricData"), "{why}");
}

// --- Holes an outside review found (issue 11), rows of docs/fault-matrix.md

#[tokio::test]
async fn a_hook_wired_to_the_wrong_lifecycle_event_fails_naming_both_events() {
    // GIVEN a deployment in AfterAllowTestTraffic: green on the test listener
    // answers 500, production still serves blue, which is healthy
    let world = World::new(|s| s).await;
    world.stage_lifecycle_event("AfterAllowTestTraffic");
    world.test_green.set_behaviour(Behaviour::Error500);
    // WHEN the AfterAllowTraffic hook receives the event (an AppSpec that
    // names the wrong function for AfterAllowTestTraffic)
    let run = world
        .run("after-allow-traffic", &world.spec(json!({})))
        .await;
    // THEN it fails, naming its own event and the one in progress, and
    // probes nothing: production's health is blue's
    run.assert_reported_once("Failed");
    let why = run.reasons();
    assert!(
        why.contains("this is the AfterAllowTraffic hook, but the deployment is in AfterAllowTestTraffic (AfterAllowTraffic is Pending)"),
        "{why}"
    );
    assert_eq!(world.prod_green.requests(), 0);
    assert_eq!(world.test_green.requests(), 0);
}

#[tokio::test]
async fn readiness_looks_once_more_at_its_timeout() {
    // GIVEN green's task set stabilizing, steady after 3.8 s
    let world = World::new(|s| s).await;
    world.front.set_task_set(
        &world.fixture.green.task_set_id,
        Script::new(TaskSetState::stabilizing(0, 1, 1))
            .then_after(Duration::from_millis(3800), TaskSetState::steady(1)),
    );
    // WHEN readiness waits up to 5 s, backing off up to 10 s between polls
    let spec = world.spec(json!({"readiness": {"timeout_ms": 5000, "interval_ms": 10000}}));
    let run = world.run("before-allow-traffic", &spec).await;
    // THEN it looked once more at the 5 s limit, found green steady, and
    // went on to the checks
    run.assert_reported_once("Succeeded");
    let readiness = run
        .log_fields("check passed")
        .into_iter()
        .find(|l| l["check"] == "readiness")
        .unwrap_or_else(|| panic!("no readiness pass:\n{}", run.log_text()));
    assert!(
        readiness["duration_ms"].as_u64().unwrap_or_default() >= 3800,
        "{readiness}"
    );
    assert_eq!(world.test_green.requests(), 1);
}

/// A bake over `duration_ms` watching green's 5xx count (`greater_than` 5),
/// with `extra` fields in the metric gate.
fn bake_on_5xx(duration_ms: u64, extra: Value) -> Value {
    let mut metric =
        json!({"metric": "HTTPCode_Target_5XX_Count", "stat": "Sum", "greater_than": 5});
    if let (Value::Object(metric), Value::Object(extra)) = (&mut metric, extra) {
        metric.extend(extra);
    }
    json!({"duration_ms": duration_ms, "interval_ms": 500, "metrics": [metric]})
}

#[tokio::test]
async fn a_metric_result_that_is_not_complete_fails_the_bake() {
    // GIVEN CloudWatch answering GetMetricData for green's 5xx count with a
    // result that is InternalError, without datapoints
    let world = World::new(|s| s).await;
    let key = MetricKey::named("HTTPCode_Target_5XX_Count");
    world.front.set_metric(key.clone(), None);
    world.front.set_metric_status(
        key,
        MetricStatus::new("InternalError", "InternalError", "Internal service error"),
    );
    // WHEN AfterAllowTraffic bakes on that metric
    let spec = world.spec(json!({"bake": bake_on_5xx(2000, json!({}))}));
    let run = world.run("after-allow-traffic", &spec).await;
    // THEN the result is unreadable, not "no data": the bake fails, saying so
    run.assert_reported_once("Failed");
    let why = run.reasons();
    assert!(
        why.contains("cloudwatch:GetMetricData failed: the result is InternalError, not Complete"),
        "{why}"
    );
    assert!(why.contains("Internal service error"), "{why}");
}

#[tokio::test]
async fn more_than_a_hundred_alarms_are_read_in_batches_and_pages() {
    // GIVEN the group's two alarms and 100 more in the spec, the 102nd in
    // ALARM (CloudWatch takes at most 100 names a call, and pages)
    let world = World::new(|s| {
        s.alarms(AlarmConfiguration::watching(&[
            "green-5xx",
            "green-latency",
        ]))
    })
    .await;
    let names: Vec<String> = (0..100).map(|i| format!("svc-alarm-{i:03}")).collect();
    for name in &names {
        world.front.set_alarm(name, AlarmState::Ok);
    }
    world.front.set_alarm("svc-alarm-099", AlarmState::Alarm);
    // WHEN the hook's alarm gate reads them
    let spec = world.spec(json!({"alarms": {"names": names}}));
    let run = world.run("after-allow-test-traffic", &spec).await;
    // THEN it fails, naming the alarm past the 100th
    run.assert_reported_once("Failed");
    let why = run.reasons();
    assert!(
        why.contains("expected alarm svc-alarm-099 not in ALARM, got ALARM"),
        "{why}"
    );
    assert!(!why.contains("svc-alarm-098 not in ALARM"), "{why}");
    // AND no call asked for more than 100 names
    assert!(
        run.api_calls
            .iter()
            .filter(|c| c.operation == "DescribeAlarms")
            .all(|c| c.answered == 200),
        "{:?}",
        run.api_calls
    );
}

#[tokio::test]
async fn a_bake_with_nothing_to_watch_is_refused() {
    // GIVEN a bake with no metric, no alarm name and the group's alarms off
    let world = World::new(|s| s).await;
    let spec = world.spec(json!({
        "alarms": {"deployment_group": false},
        "bake": {"duration_ms": 2000}
    }));
    // WHEN AfterAllowTraffic runs
    let run = world.run("after-allow-traffic", &spec).await;
    // THEN the spec is refused, saying what to add
    run.assert_reported_once("Failed");
    let why = run.reasons();
    assert!(
        why.contains("bake: nothing to watch: add bake.metrics or alarms.names"),
        "{why}"
    );
}

#[tokio::test]
async fn a_bake_on_a_group_whose_alarm_configuration_is_disabled_fails_saying_what_to_fix() {
    // GIVEN a deployment group whose alarm configuration is disabled, and a
    // bake with no metrics and no alarm names of its own
    let world = World::new(|s| {
        s.alarms(AlarmConfiguration {
            enabled: false,
            ignore_poll_alarm_failure: false,
            alarms: vec!["green-5xx".to_owned()],
        })
    })
    .await;
    let spec = world.spec(json!({"bake": {"duration_ms": 2000}}));
    // WHEN AfterAllowTraffic runs
    let run = world.run("after-allow-traffic", &spec).await;
    // THEN the bake fails at once: it would watch nothing
    run.assert_reported_once("Failed");
    let why = run.reasons();
    assert!(
        why.contains("bake: nothing to watch: the alarm configuration of deployment group greenlight-dg is disabled"),
        "{why}"
    );
    assert!(
        why.contains("enable the group's alarm configuration, or add alarms.names or bake.metrics"),
        "{why}"
    );
}

#[tokio::test]
async fn a_metric_gate_that_saw_no_datapoint_is_named_in_the_verdict() {
    // GIVEN a bake on a metric CloudWatch has no datapoint for (a typo)
    let world = World::new(|s| s).await;
    let spec = world.spec(json!({"bake": bake_on_5xx(2000, json!({"name": "green-5xx"}))}));
    // WHEN AfterAllowTraffic bakes
    let run = world.run("after-allow-traffic", &spec).await;
    // THEN a ceiling without data still passes, but the verdict line says
    // that the gate saw nothing
    run.assert_reported_once("Succeeded");
    let warnings = run.verdict()["warnings"].to_string();
    assert!(
        warnings.contains("bake: metric green-5xx saw no datapoint in"),
        "{}",
        run.log_text()
    );
}

#[tokio::test]
async fn a_metric_gate_requiring_data_that_saw_none_fails() {
    // GIVEN a bake on a metric CloudWatch has no datapoint for, with
    // require_data
    let world = World::new(|s| s).await;
    let spec = world.spec(json!({"bake": bake_on_5xx(
        2000,
        json!({"name": "green-5xx", "require_data": true})
    )}));
    // WHEN AfterAllowTraffic bakes
    let run = world.run("after-allow-traffic", &spec).await;
    // THEN the bake fails, saying the gate saw nothing
    run.assert_reported_once("Failed");
    let why = run.reasons();
    assert!(
        why.contains("metric green-5xx saw no datapoint in"),
        "{why}"
    );
}

#[tokio::test]
async fn green_hanging_past_the_stop_time_leaves_the_alarms_and_the_bake_not_run() {
    // GIVEN production on green, green hanging, and alarms and a bake to
    // watch after the checks
    let world = World::new(|s| s).await;
    world.front.set_alarm("green-5xx", AlarmState::Ok);
    world.prod_green.set_behaviour(Behaviour::Hang);
    let mut spec = world.spec(json!({
        "alarms": {"names": ["green-5xx"]},
        "bake": bake_on_5xx(2000, json!({}))
    }));
    spec["checks"][0]["timeout_ms"] = json!(30000);
    // WHEN AfterAllowTraffic runs with 6 s to go: the check hangs until the
    // hook must stop
    let run = world
        .run_with("after-allow-traffic", |invocation| {
            let mut invocation = invocation.env("GREENLIGHT_SPEC", &spec.to_string());
            invocation.timeout = Duration::from_secs(6);
            invocation
        })
        .await;
    // THEN the reasons say the alarms and the bake did not run for lack of
    // time, blame neither CloudWatch nor the function's timeout, and
    // CloudWatch got no call
    run.assert_reported_once("Failed");
    let why = run.reasons();
    assert!(
        why.contains("alarms: not run: no time left after the checks"),
        "{why}"
    );
    assert!(
        why.contains("bake: not run: no time left after the checks"),
        "{why}"
    );
    assert!(!why.contains("CloudWatch did not answer"), "{why}");
    assert!(!why.contains("raise the function's timeout"), "{why}");
    let cloudwatch: Vec<&str> = run
        .api_calls
        .iter()
        .filter(|c| c.service == Service::CloudWatch)
        .map(|c| c.operation.as_str())
        .collect();
    assert!(cloudwatch.is_empty(), "{cloudwatch:?}");
}

#[tokio::test]
async fn a_failed_check_skips_the_bake() {
    // GIVEN production on green, green answering 500, and an 8 s bake
    let world = World::new(|s| s).await;
    world.prod_green.set_behaviour(Behaviour::Error500);
    let spec = world.spec(json!({"bake": bake_on_5xx(8000, json!({}))}));
    // WHEN AfterAllowTraffic runs
    let run = world.run("after-allow-traffic", &spec).await;
    // THEN it fails on the check at once: the bake is listed as skipped, adds
    // no reason, and never read CloudWatch (a bake would delay the rollback)
    run.assert_reported_once("Failed");
    let skipped = run
        .log_fields("check skipped")
        .into_iter()
        .find(|l| l["check"] == "bake")
        .unwrap_or_else(|| panic!("no bake line:\n{}", run.log_text()));
    assert_eq!(skipped["reason"], "not run: an earlier stage failed");
    assert_eq!(skipped["outcome"], "skipped");
    let why = run.reasons();
    assert!(!why.contains("bake"), "{why}");
    assert_eq!(world.front.count("GetMetricData"), 0);
}

#[tokio::test]
async fn an_html_error_from_cloudwatch_in_the_bake_names_the_metric_on_one_line() {
    // GIVEN a bake watching an alarm and a metric, and GetMetricData answered
    // by a proxy's HTML 502 page
    let world = World::new(|s| s).await;
    world.front.set_alarm("green-5xx", AlarmState::Ok);
    world.front.fail("GetMetricData", Fault::BadGatewayHtml);
    let spec = world.spec(json!({
        "alarms": {"names": ["green-5xx"]},
        "bake": bake_on_5xx(3000, json!({}))
    }));
    // WHEN AfterAllowTraffic bakes
    let run = world.run("after-allow-traffic", &spec).await;
    // THEN the bake fails naming the metric (not the alarm), with the error
    // on one bounded line
    run.assert_reported_once("Failed");
    let line = run
        .log_fields("check failed")
        .into_iter()
        .find(|l| l["check"] == "bake")
        .unwrap_or_else(|| panic!("no bake line:\n{}", run.log_text()));
    assert_eq!(
        line["expected"],
        "metric HTTPCode_Target_5XX_Count Sum <= 5"
    );
    let actual = line["actual"].as_str().unwrap_or_default();
    assert!(
        actual.starts_with(
            "unreadable: cloudwatch:GetMetricData failed: HTTP 502: <html> <head><title>502 Bad Gateway</title></head> <body>"
        ),
        "{actual}"
    );
    assert!(actual.len() < 400, "{actual}");
    let why = run.reasons();
    assert!(
        why.contains("got unreadable: cloudwatch:GetMetricData failed: HTTP 502: <html> <head>"),
        "{why}"
    );
    assert!(
        !run.log_text().contains("\\r\\n") && !run.log_text().contains("\\n"),
        "{}",
        run.log_text()
    );
}

//! AWS, with moto's server behind the test front: discovery, readiness, the
//! alarm gate and the bake meeting API errors and states, and the spec read
//! from SSM or S3. Each row starts its own moto and ECS blue/green deployment
//! (`greenlight_e2e::world::World`).

use std::time::Duration;

use greenlight_e2e::aws_front::{
    AlarmConfiguration, AlarmState, MetricKey, MetricStatus, Script, Service, TaskSetState,
};
use greenlight_e2e::codedeploy::Fault;
use greenlight_e2e::green::Behaviour;
use greenlight_e2e::hook::{Run, with_canary};
use greenlight_e2e::moto::sdk_config;
use greenlight_e2e::row::{
    AFTER_ALLOW_TRAFFIC as AAT, Area, BEFORE_ALLOW_TRAFFIC as BAT, Row, Spec, StageFuture,
};
use greenlight_e2e::scene::Scene;
use greenlight_e2e::world::World;
use serde_json::{Value, json};

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

/// Green behind the test listener was never asked.
fn test_green_not_probed(_: &Run, scene: &Scene) {
    assert_eq!(scene.world().test_green.requests(), 0);
}

/// The verdict's reasons start with `start`, and nothing was probed.
fn reasons_start_with(run: &Run, scene: &Scene, start: &str) {
    let why = run.reasons();
    assert!(why.starts_with(start), "{why}");
    test_green_not_probed(run, scene);
}

/// The verdict names `gate` as the failing check.
fn failing(run: &Run, gate: &str) {
    assert_eq!(run.verdict()["failing_checks"], gate, "{}", run.log_text());
}

/// Green behind the test listener was asked once, with the canary header,
/// and the check passed.
fn checked_with_the_secret_headers(run: &Run, scene: &Scene) {
    let green = &scene.world().test_green;
    assert_eq!(green.requests(), 1, "{}", run.log_text());
    assert_eq!(green.requests_with_header("x-canary-token"), 1);
}

/// The world's spec, with the canary secret in its headers, as an SSM
/// SecureString parameter.
fn put_spec_parameter(world: &World) -> StageFuture<'_> {
    Box::pin(async move {
        let ssm = aws_sdk_ssm::Client::new(&sdk_config(&world.moto.url()));
        ssm.put_parameter()
            .name("/greenlight/web/spec")
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .value(with_canary(&world.spec(json!({})).to_string()))
            .send()
            .await
            .expect("put the spec parameter");
    })
}

/// An S3 bucket for specs.
async fn spec_bucket(world: &World) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::Client::new(&sdk_config(&world.moto.url()));
    s3.create_bucket()
        .bucket("greenlight-specs")
        .send()
        .await
        .expect("create the spec bucket");
    s3
}

/// The bucket, empty.
fn put_spec_bucket(world: &World) -> StageFuture<'_> {
    Box::pin(async move {
        spec_bucket(world).await;
    })
}

/// A spec larger than an SSM parameter of the standard tier holds (4096
/// characters): the check of this hook, and forty for another hook, with the
/// canary secret in the headers of every check, as an S3 object.
fn put_spec_object(world: &World) -> StageFuture<'_> {
    Box::pin(async move {
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
        let text = with_canary(&spec.to_string());
        assert!(text.len() > 4096, "{} bytes", text.len());
        spec_bucket(world)
            .await
            .put_object()
            .bucket("greenlight-specs")
            .key("web/spec.json")
            .body(text.into_bytes().into())
            .send()
            .await
            .expect("put the spec object");
    })
}

/// The names of 100 alarms in the spec.
fn hundred_alarms() -> Vec<String> {
    (0..100).map(|i| format!("svc-alarm-{i:03}")).collect()
}

pub fn rows() -> Vec<Row> {
    let area = Area::Aws;
    vec![
        Row::new(
            "access_denied_during_discovery_fails_with_the_api_and_reports_once",
            area,
            "CodeDeploy AccessDenied during discovery",
        )
        .aws(|s| s, |w| w.front.fail("GetDeploymentGroup", Fault::AccessDenied))
        .fails("discovery: codedeploy:GetDeploymentGroup failed: AccessDeniedException")
        .also(|run, scene| {
            reasons_start_with(
                run,
                scene,
                "discovery: codedeploy:GetDeploymentGroup failed: AccessDeniedException",
            );
        }),
        Row::new(
            "elbv2_throttling_during_discovery_fails_naming_the_api",
            area,
            "ELBv2 throttling during discovery",
        )
        .aws(|s| s, |w| w.front.fail("DescribeListeners", Fault::Throttle))
        .fails("discovery: elasticloadbalancing:DescribeListeners failed: Throttling")
        .also(|run, scene| {
            reasons_start_with(
                run,
                scene,
                "discovery: elasticloadbalancing:DescribeListeners failed: Throttling",
            );
        }),
        Row::new(
            "ecs_server_errors_during_readiness_fail_naming_the_api",
            area,
            "ECS HTTP 500 while waiting for readiness",
        )
        .hook(BAT)
        .aws(|s| s, |w| w.front.fail("DescribeTaskSets", Fault::ServerError))
        // Long enough for the SDK's own retries to end in the error.
        .spec(Spec::World(json!({"readiness": {"timeout_ms": 6000, "interval_ms": 500}})))
        .fails("ecs:DescribeTaskSets")
        .also(test_green_not_probed),
        Row::new(
            "cloudwatch_errors_in_the_alarm_gate_fail_closed",
            area,
            "CloudWatch HTTP 500 in the alarm gate",
        )
        .aws(
            |s| s.alarms(AlarmConfiguration::watching(&["green-5xx"])),
            |w| w.front.fail("DescribeAlarms", Fault::ServerError),
        )
        .fails("cloudwatch:DescribeAlarms")
        .also(|run, _| failing(run, "alarms")),
        Row::new(
            "cloudwatch_throttling_during_the_bake_fails_closed",
            area,
            "CloudWatch throttling during the bake",
        )
        .hook(AAT)
        .aws(|s| s, |w| w.front.fail("GetMetricData", Fault::Throttle))
        .spec(Spec::World(json!({"bake": bake_on_5xx(3000, json!({}))})))
        .fails("cloudwatch:GetMetricData")
        .also(|run, _| failing(run, "bake")),
        Row::new("an_alarm_in_alarm_fails_naming_it", area, "an alarm in ALARM")
            .aws(
                |s| s.alarms(AlarmConfiguration::watching(&["green-5xx", "green-latency"])),
                |w| w.front.set_alarm("green-5xx", AlarmState::Alarm),
            )
            .fails("expected alarm green-5xx not in ALARM, got ALARM")
            .also(|run, _| {
                failing(run, "alarms");
                let why = run.reasons();
                assert!(
                    !why.contains("green-latency not in ALARM, got"),
                    "only the alarm in ALARM is named: {why}"
                );
            }),
        Row::new(
            "the_spec_can_live_in_an_ssm_parameter_read_at_cold_start",
            area,
            "the spec, with its secret headers, read from an SSM SecureString at cold start",
        )
        .aws(|s| s, |_| {})
        .aws_put(put_spec_parameter)
        .spec(Spec::None)
        .env("GREENLIGHT_SPEC_PARAMETER", "/greenlight/web/spec")
        .succeeds("check passed")
        .also(checked_with_the_secret_headers),
        Row::new("a_missing_ssm_parameter_fails_naming_it", area, "the spec's SSM parameter does not exist")
            .hook(BAT)
            .aws(|s| s, |_| {})
            .spec(Spec::None)
            .env("GREENLIGHT_SPEC_PARAMETER", "/greenlight/nothing-here")
            .fails("cannot read SSM parameter")
            .also(|run, scene| {
                reasons_start_with(
                    run,
                    scene,
                    "configuration: GREENLIGHT_SPEC_PARAMETER: cannot read SSM parameter \"/greenlight/nothing-here\" at cold start: ssm:GetParameter failed: ParameterNotFound",
                );
            }),
        Row::new(
            "the_spec_can_live_in_an_s3_object_read_at_cold_start",
            area,
            "the spec, with its secret headers and larger than a standard-tier SSM parameter holds, read from an S3 object at cold start",
        )
        .aws(|s| s, |_| {})
        .aws_put(put_spec_object)
        .spec(Spec::None)
        .env("GREENLIGHT_SPEC_S3", "s3://greenlight-specs/web/spec.json")
        .succeeds("check passed")
        .also(|run, scene| {
            // It read the object once (GetObject, path-style on this endpoint).
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
            checked_with_the_secret_headers(run, scene);
        }),
        Row::new("a_missing_s3_object_fails_naming_it", area, "the spec's S3 object does not exist")
            .hook(BAT)
            .aws(|s| s, |_| {})
            .aws_put(put_spec_bucket)
            .spec(Spec::None)
            .env("GREENLIGHT_SPEC_S3", "s3://greenlight-specs/nothing-here.json")
            .fails("cannot read S3 object")
            .also(|run, scene| {
                reasons_start_with(
                    run,
                    scene,
                    "configuration: GREENLIGHT_SPEC_S3: cannot read S3 object \"s3://greenlight-specs/nothing-here.json\" at cold start: s3:GetObject failed: NoSuchKey",
                );
            }),
        Row::new(
            "a_hook_wired_to_the_wrong_lifecycle_event_fails_naming_both_events",
            area,
            "a hook wired to the wrong lifecycle event: the deployment in AfterAllowTestTraffic, `after-allow-traffic` invoked, green on the test listener answering 500, blue healthy on production",
        )
        .hook(AAT)
        .aws(|s| s, |w| {
            w.stage_lifecycle_event("AfterAllowTestTraffic");
            w.test_green.set_behaviour(Behaviour::Error500);
        })
        .fails("this is the AfterAllowTraffic hook, but the deployment is in AfterAllowTestTraffic (AfterAllowTraffic is Pending)")
        .also(|_, scene| {
            // It probes nothing: production's health is blue's.
            assert_eq!(scene.world().prod_green.requests(), 0);
            assert_eq!(scene.world().test_green.requests(), 0);
        }),
        Row::new(
            "readiness_looks_once_more_at_its_timeout",
            area,
            "green's task set steady 3.8 s into a 5 s readiness timeout, the next backoff sleep longer than what is left",
        )
        .hook(BAT)
        .aws(|s| s, |w| {
            w.front.set_task_set(
                &w.fixture.green.task_set_id,
                Script::new(TaskSetState::stabilizing(0, 1, 1))
                    .then_after(Duration::from_millis(3800), TaskSetState::steady(1)),
            );
        })
        .spec(Spec::World(json!({"readiness": {"timeout_ms": 5000, "interval_ms": 10000}})))
        .succeeds("check passed")
        .also(|run, scene| {
            let readiness = run
                .log_fields("check passed")
                .into_iter()
                .find(|l| l["check"] == "readiness")
                .unwrap_or_else(|| panic!("no readiness pass:\n{}", run.log_text()));
            assert!(
                readiness["duration_ms"].as_u64().unwrap_or_default() >= 3800,
                "{readiness}"
            );
            assert_eq!(scene.world().test_green.requests(), 1);
        }),
        Row::new(
            "a_metric_result_that_is_not_complete_fails_the_bake",
            area,
            "a `GetMetricData` result with `StatusCode` InternalError (and a message, no datapoint) during the bake",
        )
        .hook(AAT)
        .aws(|s| s, |w| {
            let key = MetricKey::named("HTTPCode_Target_5XX_Count");
            w.front.set_metric(key.clone(), None);
            w.front.set_metric_status(
                key,
                MetricStatus::new("InternalError", "InternalError", "Internal service error"),
            );
        })
        .spec(Spec::World(json!({"bake": bake_on_5xx(2000, json!({}))})))
        .fails("cloudwatch:GetMetricData failed: the result is InternalError, not Complete")
        .also(|run, _| {
            let why = run.reasons();
            assert!(why.contains("Internal service error"), "{why}");
        }),
        Row::new(
            "more_than_a_hundred_alarms_are_read_in_batches_and_pages",
            area,
            "102 alarms (the group's 2 and 100 in the spec), the 102nd in ALARM; CloudWatch takes 100 names a call and pages its answers",
        )
        .aws(
            |s| s.alarms(AlarmConfiguration::watching(&["green-5xx", "green-latency"])),
            |w| {
                for name in hundred_alarms() {
                    w.front.set_alarm(&name, AlarmState::Ok);
                }
                w.front.set_alarm("svc-alarm-099", AlarmState::Alarm);
            },
        )
        .spec(Spec::World(json!({"alarms": {"names": hundred_alarms()}})))
        .fails("expected alarm svc-alarm-099 not in ALARM, got ALARM")
        .also(|run, _| {
            let why = run.reasons();
            assert!(!why.contains("svc-alarm-098 not in ALARM"), "{why}");
            // No call asked for more than 100 names.
            assert!(
                run.api_calls
                    .iter()
                    .filter(|c| c.operation == "DescribeAlarms")
                    .all(|c| c.answered == 200),
                "{:?}",
                run.api_calls
            );
        }),
        Row::new(
            "a_bake_on_a_group_whose_alarm_configuration_is_disabled_fails_saying_what_to_fix",
            area,
            "a bake that would watch only the group's alarms, and the group's alarm configuration is disabled",
        )
        .hook(AAT)
        .aws(
            |s| {
                s.alarms(AlarmConfiguration {
                    enabled: false,
                    ignore_poll_alarm_failure: false,
                    alarms: vec!["green-5xx".to_owned()],
                })
            },
            |_| {},
        )
        .spec(Spec::World(json!({"bake": {"duration_ms": 2000}})))
        .fails("enable the group's alarm configuration, or add alarms.names or bake.metrics")
        .also(|run, _| {
            let why = run.reasons();
            assert!(
                why.contains("bake: nothing to watch: the alarm configuration of deployment group greenlight-dg is disabled"),
                "{why}"
            );
        }),
        Row::new(
            "a_metric_gate_that_saw_no_datapoint_is_named_in_the_verdict",
            area,
            "a metric gate with no datapoint in the whole bake (a typo in its name)",
        )
        .hook(AAT)
        .aws(|s| s, |_| {})
        .spec(Spec::World(json!({"bake": bake_on_5xx(2000, json!({"name": "green-5xx"}))})))
        .succeeds("bake: metric green-5xx saw no datapoint in")
        .also(|run, _| {
            // A ceiling without data still passes, but the verdict line says
            // that the gate saw nothing.
            let warnings = run.verdict()["warnings"].to_string();
            assert!(
                warnings.contains("bake: metric green-5xx saw no datapoint in"),
                "{}",
                run.log_text()
            );
        }),
        Row::new(
            "a_metric_gate_requiring_data_that_saw_none_fails",
            area,
            "the same with `require_data`",
        )
        .hook(AAT)
        .aws(|s| s, |_| {})
        .spec(Spec::World(json!({"bake": bake_on_5xx(
            2000,
            json!({"name": "green-5xx", "require_data": true})
        )})))
        .fails("metric green-5xx saw no datapoint in")
        .also(|run, _| {
            let why = run.reasons();
            assert!(why.contains("metric green-5xx saw no datapoint in"), "{why}");
        }),
        Row::new(
            "an_html_error_from_cloudwatch_in_the_bake_names_the_metric_on_one_line",
            area,
            "`GetMetricData` answered by a proxy's HTML 502 page during the bake",
        )
        .hook(AAT)
        .aws(|s| s, |w| {
            w.front.set_alarm("green-5xx", AlarmState::Ok);
            w.front.fail("GetMetricData", Fault::BadGatewayHtml);
        })
        .spec(Spec::World(json!({
            "alarms": {"names": ["green-5xx"]},
            "bake": bake_on_5xx(3000, json!({}))
        })))
        .fails("got unreadable: cloudwatch:GetMetricData failed: HTTP 502: <html> <head>")
        .also(|run, _| {
            // The bake fails naming the metric (not the alarm), with the
            // error on one bounded line.
            let line = run
                .log_fields("check failed")
                .into_iter()
                .find(|l| l["check"] == "bake")
                .unwrap_or_else(|| panic!("no bake line:\n{}", run.log_text()));
            assert_eq!(line["expected"], "metric HTTPCode_Target_5XX_Count Sum <= 5");
            let actual = line["actual"].as_str().unwrap_or_default();
            assert!(
                actual.starts_with(
                    "unreadable: cloudwatch:GetMetricData failed: HTTP 502: <html> <head><title>502 Bad Gateway</title></head> <body>"
                ),
                "{actual}"
            );
            assert!(actual.len() < 400, "{actual}");
            assert!(
                !run.log_text().contains("\\r\\n") && !run.log_text().contains("\\n"),
                "{}",
                run.log_text()
            );
        }),
        Row::new(
            "green_hanging_past_the_stop_time_leaves_the_alarms_and_the_bake_not_run",
            Area::Green,
            "hangs past the stop time in AfterAllowTraffic (6 s timeout), with alarms and a bake after the checks (CloudWatch gets no call)",
        )
        .hook(AAT)
        .aws(|s| s, |w| {
            w.front.set_alarm("green-5xx", AlarmState::Ok);
            w.prod_green.set_behaviour(Behaviour::Hang);
        })
        .spec(Spec::World(json!({
            "alarms": {"names": ["green-5xx"]},
            "bake": bake_on_5xx(2000, json!({})),
            "checks": [{
                "name": "health",
                "path": "/health",
                "timeout_ms": 30000,
                "retry": {"attempts": 1},
                "assert": [{"status": 200}, {"json": {"path": "$.status", "equals": "ok"}}]
            }]
        })))
        .timeout(Duration::from_secs(6))
        .fails("alarms: not run: no time left after the checks")
        .also(|run, _| {
            // Neither CloudWatch nor the function's timeout is blamed, and
            // CloudWatch got no call.
            let why = run.reasons();
            assert!(why.contains("bake: not run: no time left after the checks"), "{why}");
            assert!(!why.contains("CloudWatch did not answer"), "{why}");
            assert!(!why.contains("raise the function's timeout"), "{why}");
            let cloudwatch: Vec<&str> = run
                .api_calls
                .iter()
                .filter(|c| c.service == Service::CloudWatch)
                .map(|c| c.operation.as_str())
                .collect();
            assert!(cloudwatch.is_empty(), "{cloudwatch:?}");
        }),
        Row::new(
            "a_failed_check_skips_the_bake",
            Area::Green,
            "HTTP 500 in AfterAllowTraffic with an 8 s bake: the bake is skipped, the rollback not delayed",
        )
        .hook(AAT)
        .aws(|s| s, |w| w.prod_green.set_behaviour(Behaviour::Error500))
        .spec(Spec::World(json!({"bake": bake_on_5xx(8000, json!({}))})))
        .fails("not run: an earlier stage failed")
        .also(|run, scene| {
            let skipped = run
                .log_fields("check skipped")
                .into_iter()
                .find(|l| l["check"] == "bake")
                .unwrap_or_else(|| panic!("no bake line:\n{}", run.log_text()));
            assert_eq!(skipped["reason"], "not run: an earlier stage failed");
            assert_eq!(skipped["outcome"], "skipped");
            let why = run.reasons();
            assert!(!why.contains("bake"), "{why}");
            assert_eq!(scene.world().front.count("GetMetricData"), 0);
        }),
        Row::new(
            "a_bake_with_nothing_to_watch_is_refused",
            Area::Spec,
            "a bake with nothing to watch: no metric, no alarm name, the group's alarms off",
        )
        .hook(AAT)
        .aws(|s| s, |_| {})
        .spec(Spec::World(json!({
            "alarms": {"deployment_group": false},
            "bake": {"duration_ms": 2000}
        })))
        .fails("bake: nothing to watch: add bake.metrics or alarms.names"),
    ]
}

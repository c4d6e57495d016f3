//! The AWS front over moto, read back with the Rust SDK clients the hooks use:
//! an ECS blue/green deployment staged in moto and the front reads back as a
//! hook would discover it, with the states moto cannot stage (stabilizing
//! task sets, unhealthy targets, alarms, metrics) and protocol-correct
//! injected errors. No hook binaries run here.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, StateValue};
use aws_sdk_codedeploy::error::ProvideErrorMetadata;
use aws_sdk_codedeploy::types::{ComputePlatform, DeploymentTargetType, TargetLabel};
use aws_sdk_ecs::types::StabilityStatus;
use aws_sdk_elasticloadbalancingv2::types::{TargetHealthReasonEnum, TargetHealthStateEnum};
use greenlight_e2e::aws_front::{
    ALARMS_PER_PAGE, AlarmConfiguration, AlarmState, AwsFront, MAX_ALARM_NAMES, MetricKey, Script,
    Service, TargetHealth, TaskSetState,
};
use greenlight_e2e::codedeploy::Fault;
use greenlight_e2e::fixture::{CONTAINER_PORT, EcsBlueGreen, Setup};
use greenlight_e2e::moto::{MotoServer, sdk_config};

const TEST_PORT: u16 = 9001;
const PROD_PORT: u16 = 9000;

/// moto, the front over it, and a deployment staged in both.
async fn staged(setup: Setup) -> (MotoServer, AwsFront, EcsBlueGreen) {
    let moto = MotoServer::start().await;
    let front = AwsFront::start(Some(moto.url())).await;
    let fixture = setup.create(&sdk_config(&moto.url()), &front).await;
    (moto, front, fixture)
}

#[tokio::test]
async fn a_hook_can_discover_the_deployment_through_the_front() {
    // GIVEN an ECS blue/green deployment whose group watches two alarms
    let (_moto, front, fixture) = staged(Setup::new(TEST_PORT, PROD_PORT).alarms(
        AlarmConfiguration::watching(&["green-5xx", "green-latency"]),
    ))
    .await;
    let config = sdk_config(&front.url());
    let codedeploy = aws_sdk_codedeploy::Client::new(&config);
    let ecs = aws_sdk_ecs::Client::new(&config);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);

    // WHEN a hook reads it as CodeDeploy, ECS and ELB describe it
    // THEN GetDeployment names the application and group (from moto)
    let deployment = codedeploy
        .get_deployment()
        .deployment_id(&fixture.deployment_id)
        .send()
        .await
        .expect("GetDeployment");
    let info = deployment.deployment_info().expect("deploymentInfo");
    assert_eq!(info.application_name(), Some(fixture.application.as_str()));
    assert_eq!(
        info.deployment_group_name(),
        Some(fixture.deployment_group.as_str())
    );
    assert_eq!(info.compute_platform(), Some(&ComputePlatform::Ecs));

    // AND GetDeploymentGroup has the service, the target group pair and the
    // routes (from moto) and the alarms (patched in by the front)
    let group = codedeploy
        .get_deployment_group()
        .application_name(&fixture.application)
        .deployment_group_name(&fixture.deployment_group)
        .send()
        .await
        .expect("GetDeploymentGroup");
    let group = group.deployment_group_info().expect("deploymentGroupInfo");
    let service = &group.ecs_services()[0];
    assert_eq!(service.cluster_name(), Some("greenlight"));
    assert_eq!(service.service_name(), Some("web"));
    let pair = &group
        .load_balancer_info()
        .expect("loadBalancerInfo")
        .target_group_pair_info_list()[0];
    let names: Vec<&str> = pair
        .target_groups()
        .iter()
        .filter_map(|tg| tg.name())
        .collect();
    assert_eq!(
        names,
        vec![
            fixture.blue.target_group_name.as_str(),
            fixture.green.target_group_name.as_str()
        ]
    );
    assert_eq!(
        pair.prod_traffic_route()
            .expect("prod route")
            .listener_arns(),
        std::slice::from_ref(&fixture.prod_listener_arn)
    );
    assert_eq!(
        pair.test_traffic_route()
            .expect("test route")
            .listener_arns(),
        [fixture.test_listener_arn.clone().expect("a test listener")]
    );
    let alarms = group.alarm_configuration().expect("alarmConfiguration");
    assert!(alarms.enabled());
    assert!(!alarms.ignore_poll_alarm_failure());
    let alarm_names: Vec<&str> = alarms.alarms().iter().filter_map(|a| a.name()).collect();
    assert_eq!(alarm_names, vec!["green-5xx", "green-latency"]);

    // AND the deployment's one ECS target names green's target group (front)
    let ids = codedeploy
        .list_deployment_targets()
        .deployment_id(&fixture.deployment_id)
        .send()
        .await
        .expect("ListDeploymentTargets");
    assert_eq!(ids.target_ids(), ["greenlight:web".to_owned()]);
    let targets = codedeploy
        .batch_get_deployment_targets()
        .deployment_id(&fixture.deployment_id)
        .set_target_ids(Some(ids.target_ids().to_vec()))
        .send()
        .await
        .expect("BatchGetDeploymentTargets");
    let target = &targets.deployment_targets()[0];
    assert_eq!(
        target.deployment_target_type(),
        Some(&DeploymentTargetType::EcsTarget)
    );
    let ecs_target = target.ecs_target().expect("ecsTarget");
    assert_eq!(ecs_target.target_arn(), Some(fixture.service_arn.as_str()));
    let green = ecs_target
        .task_sets_info()
        .iter()
        .find(|ts| ts.task_set_label() == Some(&TargetLabel::Green))
        .expect("a green task set");
    assert_eq!(
        green.target_group().and_then(|tg| tg.name()),
        Some(fixture.green.target_group_name.as_str())
    );
    assert_eq!(green.identifer(), Some(fixture.green.task_set_id.as_str()));
    assert_eq!(green.traffic_weight(), 0.0);
    assert!(ecs_target.last_updated_at().is_some());

    // AND green's task set is stabilizing with the staged counts; blue is
    // moto's, with the fixture's counts
    front.set_task_set(
        &fixture.green.task_set_id,
        TaskSetState::stabilizing(1, 2, 3),
    );
    let task_sets = ecs
        .describe_task_sets()
        .cluster(&fixture.cluster)
        .service(&fixture.service)
        .task_sets(&fixture.green.task_set_arn)
        .task_sets(&fixture.blue.task_set_arn)
        .send()
        .await
        .expect("DescribeTaskSets");
    let by_id = |id: &str| {
        task_sets
            .task_sets()
            .iter()
            .find(|ts| ts.id() == Some(id))
            .unwrap_or_else(|| panic!("task set {id}"))
    };
    let green = by_id(&fixture.green.task_set_id);
    assert_eq!(
        green.stability_status(),
        Some(&StabilityStatus::Stabilizing)
    );
    assert_eq!(
        (
            green.running_count(),
            green.pending_count(),
            green.computed_desired_count()
        ),
        (1, 2, 3)
    );
    assert_eq!(green.external_id(), Some("green"));
    let blue = by_id(&fixture.blue.task_set_id);
    assert_eq!(blue.stability_status(), Some(&StabilityStatus::SteadyState));
    assert_eq!(
        (blue.running_count(), blue.computed_desired_count()),
        (1, 1)
    );
    assert_eq!(blue.status(), Some("PRIMARY"));

    // AND the listeners and the load balancer are moto's
    let listeners = elb
        .describe_listeners()
        .listener_arns(&fixture.prod_listener_arn)
        .listener_arns(fixture.test_listener_arn.as_deref().expect("test listener"))
        .send()
        .await
        .expect("DescribeListeners");
    let mut ports: Vec<i32> = listeners
        .listeners()
        .iter()
        .filter_map(|l| l.port())
        .collect();
    ports.sort_unstable();
    assert_eq!(ports, vec![i32::from(PROD_PORT), i32::from(TEST_PORT)]);
    let load_balancers = elb
        .describe_load_balancers()
        .load_balancer_arns(&fixture.load_balancer_arn)
        .send()
        .await
        .expect("DescribeLoadBalancers");
    assert_eq!(
        load_balancers.load_balancers()[0].dns_name(),
        Some(fixture.load_balancer_dns.as_str())
    );
    assert!(
        fixture.load_balancer_dns.ends_with(".elb.amazonaws.com"),
        "{}",
        fixture.load_balancer_dns
    );

    // AND the group's alarms exist, OK
    let alarms = aws_sdk_cloudwatch::Client::new(&config)
        .describe_alarms()
        .send()
        .await
        .expect("DescribeAlarms");
    let states: Vec<(&str, Option<&StateValue>)> = alarms
        .metric_alarms()
        .iter()
        .map(|a| (a.alarm_name().unwrap_or_default(), a.state_value()))
        .collect();
    assert_eq!(
        states,
        vec![
            ("green-5xx", Some(&StateValue::Ok)),
            ("green-latency", Some(&StateValue::Ok))
        ]
    );

    // AND every call went through the front, and was recorded
    let calls: Vec<(Service, String)> = front
        .api_calls()
        .into_iter()
        .map(|c| (c.service, c.operation))
        .collect();
    for expected in [
        (Service::CodeDeploy, "GetDeployment"),
        (Service::CodeDeploy, "GetDeploymentGroup"),
        (Service::CodeDeploy, "ListDeploymentTargets"),
        (Service::CodeDeploy, "BatchGetDeploymentTargets"),
        (Service::Ecs, "DescribeTaskSets"),
        (Service::Elbv2, "DescribeListeners"),
        (Service::Elbv2, "DescribeLoadBalancers"),
        (Service::CloudWatch, "DescribeAlarms"),
    ] {
        assert!(
            calls.contains(&(expected.0, expected.1.to_owned())),
            "{expected:?} not in {calls:?}"
        );
    }
    assert_eq!(front.count("GetDeployment"), 1);
}

#[tokio::test]
async fn staged_states_change_while_a_hook_waits() {
    // GIVEN green's target unhealthy for 500 ms, then healthy
    let (_moto, front, fixture) = staged(Setup::new(TEST_PORT, PROD_PORT)).await;
    let config = sdk_config(&front.url());
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let ip = fixture.green.target_ip.as_str();
    front.set_target_health(
        &fixture.green.target_group_arn,
        Script::new(vec![TargetHealth::unhealthy(ip, CONTAINER_PORT)]).then_after(
            Duration::from_millis(500),
            vec![TargetHealth::healthy(ip, CONTAINER_PORT)],
        ),
    );
    let health = |arn: String| {
        let elb = elb.clone();
        async move {
            let out = elb
                .describe_target_health()
                .target_group_arn(arn)
                .send()
                .await
                .expect("DescribeTargetHealth");
            out.target_health_descriptions().to_vec()
        }
    };

    // WHEN a hook polls DescribeTargetHealth
    let first = health(fixture.green.target_group_arn.clone()).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let later = health(fixture.green.target_group_arn.clone()).await;
    let blue = health(fixture.blue.target_group_arn.clone()).await;

    // THEN green is unhealthy, with the reason, and later healthy
    assert_eq!(first.len(), 1);
    let target = first[0].target().expect("target");
    assert_eq!(
        (target.id(), target.port()),
        (Some(ip), Some(i32::from(CONTAINER_PORT)))
    );
    let health_now = first[0].target_health().expect("targetHealth");
    assert_eq!(health_now.state(), Some(&TargetHealthStateEnum::Unhealthy));
    assert_eq!(
        health_now.reason(),
        Some(&TargetHealthReasonEnum::FailedHealthChecks)
    );
    assert_eq!(health_now.description(), Some("Health checks failed"));
    assert_eq!(first[0].health_check_port(), Some("80"));
    assert_eq!(
        later[0].target_health().and_then(|h| h.state()),
        Some(&TargetHealthStateEnum::Healthy)
    );
    // AND blue, not staged, is moto's: registered, healthy
    assert_eq!(
        blue[0].target().and_then(|t| t.id()),
        Some(fixture.blue.target_ip.as_str())
    );
    assert_eq!(
        blue[0].target_health().and_then(|h| h.state()),
        Some(&TargetHealthStateEnum::Healthy)
    );

    // GIVEN one alarm in ALARM, one OK, and green's 5xx count at 7
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config);
    front.set_alarm("green-5xx", AlarmState::Alarm);
    front.set_alarm("green-latency", AlarmState::Ok);
    front.set_alarm("someone-else", AlarmState::Alarm);
    let dimension = fixture
        .green
        .target_group_arn
        .split_once(":targetgroup/")
        .map(|(_, id)| format!("targetgroup/{id}"))
        .expect("a target group ARN");
    front.set_metric(
        MetricKey::named("HTTPCode_Target_5XX_Count").with_dimension(&dimension),
        Script::per_call(vec![Some(7.0), None]),
    );

    // WHEN a hook reads the group's alarms
    let alarms = cloudwatch
        .describe_alarms()
        .alarm_names("green-5xx")
        .alarm_names("green-latency")
        .send()
        .await
        .expect("DescribeAlarms");
    // THEN it gets exactly those, with their states
    let states: Vec<(&str, Option<&StateValue>)> = alarms
        .metric_alarms()
        .iter()
        .map(|a| (a.alarm_name().unwrap_or_default(), a.state_value()))
        .collect();
    assert_eq!(
        states,
        vec![
            ("green-5xx", Some(&StateValue::Alarm)),
            ("green-latency", Some(&StateValue::Ok))
        ]
    );
    let alarm = &alarms.metric_alarms()[0];
    assert_eq!(
        alarm.alarm_arn(),
        Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:green-5xx")
    );
    assert!(
        alarm
            .state_reason()
            .is_some_and(|r| r.starts_with("Threshold Crossed")),
        "{alarm:?}"
    );
    assert!(alarm.state_updated_timestamp().is_some());

    // WHEN it reads green's 5xx count twice
    let query = MetricDataQuery::builder()
        .id("errors")
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace("AWS/ApplicationELB")
                        .metric_name("HTTPCode_Target_5XX_Count")
                        .dimensions(
                            Dimension::builder()
                                .name("TargetGroup")
                                .value(&dimension)
                                .build(),
                        )
                        .build(),
                )
                .period(60)
                .stat("Sum")
                .build(),
        )
        .build();
    let now = SystemTime::now();
    let read = || {
        cloudwatch
            .get_metric_data()
            .metric_data_queries(query.clone())
            .start_time(DateTime::from(now - Duration::from_secs(300)))
            .end_time(DateTime::from(now + Duration::from_secs(60)))
            .send()
    };
    let first = read().await.expect("GetMetricData");
    let second = read().await.expect("GetMetricData");
    // THEN the first has the value, at a time within the window; the second
    // none
    let result = &first.metric_data_results()[0];
    assert_eq!(result.id(), Some("errors"));
    assert_eq!(result.label(), Some("HTTPCode_Target_5XX_Count"));
    assert_eq!(result.values(), [7.0]);
    assert_eq!(result.timestamps().len(), 1);
    let at = SystemTime::try_from(result.timestamps()[0]).expect("a time");
    assert!(at >= now - Duration::from_secs(300) && at <= now + Duration::from_secs(60));
    assert_eq!(
        result.status_code(),
        Some(&aws_sdk_cloudwatch::types::StatusCode::Complete)
    );
    let result = &second.metric_data_results()[0];
    assert!(result.values().is_empty() && result.timestamps().is_empty());
}

#[tokio::test]
async fn injected_access_denied_is_the_service_s_own_error() {
    let (_moto, front, fixture) = staged(Setup::new(TEST_PORT, PROD_PORT)).await;
    let config = sdk_config(&front.url());
    let codedeploy = aws_sdk_codedeploy::Client::new(&config);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config);
    front.fail("GetDeploymentGroup", Fault::AccessDenied);
    front.fail("DescribeTargetHealth", Fault::AccessDenied);
    front.fail("DescribeAlarms", Fault::AccessDenied);

    // AWS JSON 1.1
    let error = codedeploy
        .get_deployment_group()
        .application_name(&fixture.application)
        .deployment_group_name(&fixture.deployment_group)
        .send()
        .await
        .expect_err("access denied");
    assert_eq!(error.code(), Some("AccessDeniedException"), "{error:?}");
    assert_eq!(
        error.message(),
        Some("not authorized to perform: codedeploy:GetDeploymentGroup")
    );
    // awsQuery
    let error = elb
        .describe_target_health()
        .target_group_arn(&fixture.green.target_group_arn)
        .send()
        .await
        .expect_err("access denied");
    assert_eq!(error.code(), Some("AccessDenied"), "{error:?}");
    assert_eq!(
        error.message(),
        Some("not authorized to perform: elasticloadbalancing:DescribeTargetHealth")
    );
    // RPC v2 CBOR (query-compatible: the code comes from x-amzn-query-error)
    let error = cloudwatch
        .describe_alarms()
        .alarm_names("green-5xx")
        .send()
        .await
        .expect_err("access denied");
    assert_eq!(error.code(), Some("AccessDenied"), "{error:?}");
    assert_eq!(
        error.message(),
        Some("not authorized to perform: cloudwatch:DescribeAlarms")
    );

    // AND healed, the operation works again; other operations never failed
    front.heal("GetDeploymentGroup");
    codedeploy
        .get_deployment_group()
        .application_name(&fixture.application)
        .deployment_group_name(&fixture.deployment_group)
        .send()
        .await
        .expect("GetDeploymentGroup after heal");
    codedeploy
        .get_deployment()
        .deployment_id(&fixture.deployment_id)
        .send()
        .await
        .expect("GetDeployment");
    let answered: Vec<(String, u16)> = front
        .api_calls()
        .into_iter()
        .map(|c| (c.operation, c.answered))
        .collect();
    assert_eq!(
        answered,
        vec![
            ("GetDeploymentGroup".to_owned(), 400),
            ("DescribeTargetHealth".to_owned(), 403),
            ("DescribeAlarms".to_owned(), 403),
            ("GetDeploymentGroup".to_owned(), 200),
            ("GetDeployment".to_owned(), 200),
        ]
    );
}

#[tokio::test]
async fn variants_without_test_listener_and_not_ecs() {
    // GIVEN no test listener
    let (_moto, front, fixture) =
        staged(Setup::new(TEST_PORT, PROD_PORT).without_test_listener()).await;
    let codedeploy = aws_sdk_codedeploy::Client::new(&sdk_config(&front.url()));
    let group = codedeploy
        .get_deployment_group()
        .application_name(&fixture.application)
        .deployment_group_name(&fixture.deployment_group)
        .send()
        .await
        .expect("GetDeploymentGroup");
    let pair = &group
        .deployment_group_info()
        .and_then(|g| g.load_balancer_info())
        .expect("loadBalancerInfo")
        .target_group_pair_info_list()[0];
    // THEN the group has a production route and no test route
    assert!(pair.prod_traffic_route().is_some());
    assert!(
        pair.test_traffic_route()
            .is_none_or(|route| route.listener_arns().is_empty()),
        "{pair:?}"
    );
    assert_eq!(fixture.test_listener_arn, None);
    // AND no alarms are configured
    let alarms = group
        .deployment_group_info()
        .and_then(|g| g.alarm_configuration());
    assert!(alarms.is_none_or(|a| a.alarms().is_empty()), "{alarms:?}");

    // GIVEN an EC2/on-premises deployment
    let (_moto, front, fixture) = staged(Setup::new(TEST_PORT, PROD_PORT).server_platform()).await;
    let codedeploy = aws_sdk_codedeploy::Client::new(&sdk_config(&front.url()));
    let deployment = codedeploy
        .get_deployment()
        .deployment_id(&fixture.deployment_id)
        .send()
        .await
        .expect("GetDeployment");
    // THEN it is not ECS, and has no ECS target
    assert_eq!(
        deployment
            .deployment_info()
            .and_then(|d| d.compute_platform()),
        Some(&ComputePlatform::Server)
    );
    let ids = codedeploy
        .list_deployment_targets()
        .deployment_id(&fixture.deployment_id)
        .send()
        .await
        .expect("ListDeploymentTargets");
    assert!(ids.target_ids().is_empty());
    // AND an unknown deployment does not exist
    let error = codedeploy
        .list_deployment_targets()
        .deployment_id("d-NOSUCHTHING")
        .send()
        .await
        .expect_err("no such deployment");
    assert_eq!(error.code(), Some("DeploymentDoesNotExistException"));
}

#[tokio::test]
async fn describe_alarms_refuses_more_than_100_names_and_pages_its_answers() {
    // GIVEN 45 alarms in the front (CloudWatch is served without moto)
    let front = AwsFront::start(None).await;
    let names: Vec<String> = (0..45).map(|i| format!("alarm-{i:02}")).collect();
    for name in &names {
        front.set_alarm(name, AlarmState::Ok);
    }
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk_config(&front.url()));
    // WHEN a client asks for 101 names at once
    let too_many: Vec<String> = (0..=MAX_ALARM_NAMES).map(|i| format!("a{i}")).collect();
    let error = cloudwatch
        .describe_alarms()
        .set_alarm_names(Some(too_many))
        .send()
        .await
        .expect_err("more than 100 names are refused");
    // THEN it is refused as CloudWatch refuses it
    assert_eq!(error.code(), Some("ValidationError"), "{error:?}");
    // WHEN it asks for the 45 with MaxRecords 100
    let first = cloudwatch
        .describe_alarms()
        .set_alarm_names(Some(names.clone()))
        .max_records(100)
        .send()
        .await
        .expect("page 1");
    // THEN the answer comes in pages of at most 40, chained by NextToken
    assert_eq!(first.metric_alarms().len(), ALARMS_PER_PAGE);
    let token = first.next_token().expect("a NextToken").to_owned();
    let second = cloudwatch
        .describe_alarms()
        .set_alarm_names(Some(names.clone()))
        .max_records(100)
        .next_token(token)
        .send()
        .await
        .expect("page 2");
    assert_eq!(second.metric_alarms().len(), 5);
    assert_eq!(second.next_token(), None);
    // AND a smaller MaxRecords is honoured
    let small = cloudwatch
        .describe_alarms()
        .set_alarm_names(Some(names))
        .max_records(10)
        .send()
        .await
        .expect("a small page");
    assert_eq!(small.metric_alarms().len(), 10);
    assert!(small.next_token().is_some());
}

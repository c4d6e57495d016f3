//! An ECS blue/green deployment, set up in moto with the Rust SDK the way a
//! real one looks while CodeDeploy runs its lifecycle hooks: a cluster and a
//! CODE_DEPLOY-controlled service with two task sets (blue PRIMARY, green
//! ACTIVE), an ALB with a production and a test listener, two target groups,
//! a CodeDeploy application, deployment group and deployment; plus what moto
//! cannot hold, staged in the [`AwsFront`]: the deployment's ECS target (in
//! AfterAllowTestTraffic, green on 0 % of production traffic), both task sets steady with 1 of 1 task
//! running, and the group's alarms (if any) configured and `OK`. Tests then
//! restage what their scenario changes.
//!
//! moto quirks handled here: `create_task_set` answers 500 unless every
//! container has `memory` and `cpu` and a Fargate task set has no `scale`;
//! an `awsvpcConfiguration` without `securityGroups` makes `create_service`
//! answer 500, so none is sent (moto does not need one); task sets start
//! `ACTIVE`, so blue is made PRIMARY with `UpdateServicePrimaryTaskSet`.

use aws_config::SdkConfig;
use aws_sdk_codedeploy::types as codedeploy;
use aws_sdk_ecs::types as ecs;
use aws_sdk_elasticloadbalancingv2::types as elb;

use crate::aws_front::{
    AlarmConfiguration, AlarmState, AwsFront, EcsTarget, TaskSetInfo, TaskSetLabel, TaskSetState,
};

/// The container every task runs, and its port.
pub const CONTAINER: &str = "web";
/// The container (and target) port.
pub const CONTAINER_PORT: u16 = 80;

/// One side of the blue/green pair.
#[derive(Debug, Clone)]
pub struct Side {
    /// The target group's ARN.
    pub target_group_arn: String,
    /// The target group's name.
    pub target_group_name: String,
    /// The task set's ID (`ecs-svc/…`).
    pub task_set_id: String,
    /// The task set's ARN.
    pub task_set_arn: String,
    /// The one registered target: an IP address, on [`CONTAINER_PORT`].
    pub target_ip: String,
}

/// What to set up. [`Setup::new`] gives an ECS blue/green deployment with a
/// test listener and no alarms.
#[derive(Debug, Clone)]
pub struct Setup {
    test_port: Option<u16>,
    prod_port: u16,
    alarms: Option<AlarmConfiguration>,
    ecs: bool,
}

impl Setup {
    /// Production listener on `prod_port`, test listener on `test_port`.
    pub fn new(test_port: u16, prod_port: u16) -> Self {
        Setup {
            test_port: Some(test_port),
            prod_port,
            alarms: None,
            ecs: true,
        }
    }

    /// The deployment group watches these alarms (`GetDeploymentGroup`'s
    /// `alarmConfiguration`, staged in the front).
    pub fn alarms(mut self, alarms: AlarmConfiguration) -> Self {
        self.alarms = Some(alarms);
        self
    }

    /// No test listener, and no test traffic route in the deployment group.
    pub fn without_test_listener(mut self) -> Self {
        self.test_port = None;
        self
    }

    /// A deployment that is not ECS blue/green: an EC2/on-premises (`Server`)
    /// application with an in-place deployment group. The ECS and ELB
    /// resources are still created; the front has no ECS target for it.
    pub fn server_platform(mut self) -> Self {
        self.ecs = false;
        self
    }

    /// Creates everything in moto (through `config`, which should point at
    /// moto itself so the front records only the hook's calls) and stages the
    /// deployment's ECS target in `front`.
    pub async fn create(self, config: &SdkConfig, front: &AwsFront) -> EcsBlueGreen {
        create(self, config, front).await
    }
}

/// The deployment, and every name and ARN a hook can discover.
#[derive(Debug, Clone)]
pub struct EcsBlueGreen {
    /// The CodeDeploy deployment ID.
    pub deployment_id: String,
    /// The CodeDeploy application.
    pub application: String,
    /// The CodeDeploy deployment group.
    pub deployment_group: String,
    /// The ECS cluster's name.
    pub cluster: String,
    /// The ECS service's name.
    pub service: String,
    /// The ECS service's ARN.
    pub service_arn: String,
    /// The ALB's ARN.
    pub load_balancer_arn: String,
    /// The ALB's DNS name (moto invents it; it does not resolve).
    pub load_balancer_dns: String,
    /// The production listener's ARN.
    pub prod_listener_arn: String,
    /// The production listener's port.
    pub prod_port: u16,
    /// The test listener's ARN, unless set up without one.
    pub test_listener_arn: Option<String>,
    /// The test listener's port, unless set up without one.
    pub test_port: Option<u16>,
    /// The running release.
    pub blue: Side,
    /// The new release.
    pub green: Side,
}

impl EcsBlueGreen {
    /// The default set-up: ECS blue/green, test listener on `test_port`,
    /// production on `prod_port`, no alarms. See [`Setup::create`].
    pub async fn create(
        config: &SdkConfig,
        front: &AwsFront,
        test_port: u16,
        prod_port: u16,
    ) -> Self {
        Setup::new(test_port, prod_port).create(config, front).await
    }

    /// The deployment's ECS target as CodeDeploy describes it while the
    /// lifecycle event `event` (one of [`LIFECYCLE_EVENTS`]) is in progress:
    /// the events before it `Succeeded`, those after it `Pending`, and green
    /// on 0 % of production traffic until `AllowTraffic` is done, 100 % after.
    ///
    /// Panics when `event` is not an ECS lifecycle event.
    pub fn ecs_target_in(&self, event: &str) -> EcsTarget {
        let at = LIFECYCLE_EVENTS
            .iter()
            .position(|e| *e == event)
            .unwrap_or_else(|| panic!("{event} is not an ECS lifecycle event"));
        let allow_traffic = LIFECYCLE_EVENTS
            .iter()
            .position(|e| *e == "AllowTraffic")
            .expect("AllowTraffic");
        let events: Vec<(&str, &str)> = LIFECYCLE_EVENTS
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let status = match i.cmp(&at) {
                    std::cmp::Ordering::Less => "Succeeded",
                    std::cmp::Ordering::Equal => "InProgress",
                    std::cmp::Ordering::Greater => "Pending",
                };
                (*name, status)
            })
            .collect();
        let green_weight = if at > allow_traffic { 100.0 } else { 0.0 };
        self.ecs_target(green_weight, &events)
    }

    /// Stages [`EcsBlueGreen::ecs_target_in`] `event` in `front`.
    pub fn stage_lifecycle_event(&self, front: &AwsFront, event: &str) {
        front.set_deployment_targets(&self.deployment_id, vec![self.ecs_target_in(event)]);
    }

    /// The deployment's ECS target as CodeDeploy describes it with
    /// `green_weight` percent of production traffic on green (0 until
    /// `AllowTraffic`, 100 after) and these `(lifecycleEventName, status)`.
    pub fn ecs_target(&self, green_weight: f64, events: &[(&str, &str)]) -> EcsTarget {
        let info = |side: &Side, label: TaskSetLabel, status: &str, weight: f64| TaskSetInfo {
            identifier: side.task_set_id.clone(),
            desired_count: 1,
            pending_count: 0,
            running_count: 1,
            status: status.to_owned(),
            traffic_weight: weight,
            target_group: side.target_group_name.clone(),
            label,
        };
        EcsTarget {
            target_id: format!("{}:{}", self.cluster, self.service),
            target_arn: self.service_arn.clone(),
            status: "InProgress".to_owned(),
            lifecycle_events: events
                .iter()
                .map(|(name, status)| ((*name).to_owned(), (*status).to_owned()))
                .collect(),
            task_sets: vec![
                info(
                    &self.blue,
                    TaskSetLabel::Blue,
                    "PRIMARY",
                    100.0 - green_weight,
                ),
                info(&self.green, TaskSetLabel::Green, "ACTIVE", green_weight),
            ],
        }
    }
}

/// The lifecycle events of an ECS blue/green deployment, in order.
pub const LIFECYCLE_EVENTS: [&str; 8] = [
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
];

/// The lifecycle event a hook binary (e.g. `after-allow-traffic`) answers.
///
/// Panics for any other name.
pub fn lifecycle_event_of(hook: &str) -> &'static str {
    match hook {
        "after-allow-test-traffic" => "AfterAllowTestTraffic",
        "before-allow-traffic" => "BeforeAllowTraffic",
        "after-allow-traffic" => "AfterAllowTraffic",
        other => panic!("{other} is not a greenlight hook"),
    }
}

const CLUSTER: &str = "greenlight";
const SERVICE: &str = "web";
const APPLICATION: &str = "greenlight-app";
const DEPLOYMENT_GROUP: &str = "greenlight-dg";
const SERVICE_ROLE: &str = "arn:aws:iam::123456789012:role/CodeDeployECSRole";

async fn create(setup: Setup, config: &SdkConfig, front: &AwsFront) -> EcsBlueGreen {
    let ecs = aws_sdk_ecs::Client::new(config);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(config);
    let codedeploy = aws_sdk_codedeploy::Client::new(config);
    let endpoint = config
        .endpoint_url()
        .expect("an SDK config with an endpoint");
    let network = crate::elb::default_network(endpoint).await;

    // ECS: cluster, task definition.
    ecs.create_cluster()
        .cluster_name(CLUSTER)
        .send()
        .await
        .expect("CreateCluster");
    let task_definition = ecs
        .register_task_definition()
        .family(SERVICE)
        .requires_compatibilities(ecs::Compatibility::Fargate)
        .network_mode(ecs::NetworkMode::Awsvpc)
        .cpu("256")
        .memory("512")
        .container_definitions(
            ecs::ContainerDefinition::builder()
                .name(CONTAINER)
                .image("public.ecr.aws/nginx/nginx:latest")
                .essential(true)
                .memory(512)
                .cpu(256)
                .port_mappings(
                    ecs::PortMapping::builder()
                        .container_port(i32::from(CONTAINER_PORT))
                        .protocol(ecs::TransportProtocol::Tcp)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("RegisterTaskDefinition")
        .task_definition
        .and_then(|td| td.task_definition_arn)
        .expect("a task definition ARN");

    // ELB: an internet-facing ALB, target groups, listeners, targets.
    let (load_balancer_arn, load_balancer_dns) =
        crate::elb::create_alb(&elb, &network, "greenlight-alb").await;
    let mut sides = Vec::new();
    for (colour, ip) in [("blue", "10.0.1.10"), ("green", "10.0.1.20")] {
        let name = format!("greenlight-{colour}");
        let arn =
            crate::elb::create_target_group(&elb, &network, &name, CONTAINER_PORT, Some("/health"))
                .await;
        elb.register_targets()
            .target_group_arn(&arn)
            .targets(
                elb::TargetDescription::builder()
                    .id(ip)
                    .port(i32::from(CONTAINER_PORT))
                    .build(),
            )
            .send()
            .await
            .expect("RegisterTargets");
        sides.push((name, arn, ip.to_owned()));
    }
    let listener = |port: u16, target_group: String| {
        let (elb, load_balancer_arn) = (elb.clone(), load_balancer_arn.clone());
        let forward = elb::Action::builder()
            .r#type(elb::ActionTypeEnum::Forward)
            .target_group_arn(target_group)
            .build();
        async move { crate::elb::create_listener(&elb, &load_balancer_arn, port, forward).await }
    };
    let prod_listener_arn = listener(setup.prod_port, sides[0].1.clone()).await;
    let test_listener_arn = match setup.test_port {
        Some(port) => Some(listener(port, sides[1].1.clone()).await),
        None => None,
    };

    // ECS: the service under CodeDeploy, and its two task sets.
    let service_arn = ecs
        .create_service()
        .cluster(CLUSTER)
        .service_name(SERVICE)
        .task_definition(&task_definition)
        .desired_count(1)
        .launch_type(ecs::LaunchType::Fargate)
        .deployment_controller(
            ecs::DeploymentController::builder()
                .r#type(ecs::DeploymentControllerType::CodeDeploy)
                .build()
                .expect("a deployment controller"),
        )
        .load_balancers(load_balancer_for(&sides[0].1))
        .send()
        .await
        .expect("CreateService")
        .service
        .and_then(|s| s.service_arn)
        .expect("a service ARN");
    let mut task_sets = Vec::new();
    for (colour, (_, target_group_arn, _)) in ["blue", "green"].into_iter().zip(&sides) {
        let task_set = ecs
            .create_task_set()
            .cluster(CLUSTER)
            .service(SERVICE)
            .task_definition(&task_definition)
            .launch_type(ecs::LaunchType::Fargate)
            .external_id(colour)
            .load_balancers(load_balancer_for(target_group_arn))
            .send()
            .await
            .expect("CreateTaskSet")
            .task_set
            .expect("a task set");
        task_sets.push((
            task_set.id.expect("a task set ID"),
            task_set.task_set_arn.expect("a task set ARN"),
        ));
    }
    ecs.update_service_primary_task_set()
        .cluster(CLUSTER)
        .service(SERVICE)
        .primary_task_set(&task_sets[0].1)
        .send()
        .await
        .expect("UpdateServicePrimaryTaskSet");

    // CodeDeploy: application, deployment group, deployment.
    let deployment_id = if setup.ecs {
        create_ecs_deployment(
            &codedeploy,
            &setup,
            [&sides[0].0, &sides[1].0],
            &prod_listener_arn,
            test_listener_arn.as_deref(),
            &task_definition,
        )
        .await
    } else {
        create_server_deployment(&codedeploy).await
    };

    let side = |i: usize| {
        let (name, arn, ip) = &sides[i];
        let (id, task_set_arn) = &task_sets[i];
        Side {
            target_group_arn: arn.clone(),
            target_group_name: name.clone(),
            task_set_id: id.clone(),
            task_set_arn: task_set_arn.clone(),
            target_ip: ip.clone(),
        }
    };
    let fixture = EcsBlueGreen {
        deployment_id,
        application: APPLICATION.to_owned(),
        deployment_group: DEPLOYMENT_GROUP.to_owned(),
        cluster: CLUSTER.to_owned(),
        service: SERVICE.to_owned(),
        service_arn,
        load_balancer_arn,
        load_balancer_dns,
        prod_listener_arn,
        prod_port: setup.prod_port,
        test_listener_arn,
        test_port: setup.test_port,
        blue: side(0),
        green: side(1),
    };
    let targets = if setup.ecs {
        vec![fixture.ecs_target_in("AfterAllowTestTraffic")]
    } else {
        Vec::new()
    };
    front.set_deployment_targets(&fixture.deployment_id, targets);
    // moto's task sets have no counts; a ready one runs what it should.
    for side in [&fixture.blue, &fixture.green] {
        front.set_task_set(&side.task_set_id, TaskSetState::steady(1));
    }
    if let Some(alarms) = setup.alarms {
        for name in &alarms.alarms {
            front.set_alarm(name, AlarmState::Ok);
        }
        front.set_alarm_configuration(DEPLOYMENT_GROUP, alarms);
    }
    fixture
}

fn load_balancer_for(target_group_arn: &str) -> ecs::LoadBalancer {
    ecs::LoadBalancer::builder()
        .target_group_arn(target_group_arn)
        .container_name(CONTAINER)
        .container_port(i32::from(CONTAINER_PORT))
        .build()
}

async fn create_ecs_deployment(
    codedeploy: &aws_sdk_codedeploy::Client,
    setup: &Setup,
    target_groups: [&str; 2],
    prod_listener_arn: &str,
    test_listener_arn: Option<&str>,
    task_definition: &str,
) -> String {
    codedeploy
        .create_application()
        .application_name(APPLICATION)
        .compute_platform(codedeploy::ComputePlatform::Ecs)
        .send()
        .await
        .expect("CreateApplication");
    let mut pair = codedeploy::TargetGroupPairInfo::builder().prod_traffic_route(
        codedeploy::TrafficRoute::builder()
            .listener_arns(prod_listener_arn)
            .build(),
    );
    for name in target_groups {
        pair = pair.target_groups(codedeploy::TargetGroupInfo::builder().name(name).build());
    }
    if let Some(test) = test_listener_arn {
        pair = pair.test_traffic_route(
            codedeploy::TrafficRoute::builder()
                .listener_arns(test)
                .build(),
        );
    }
    let mut group = codedeploy
        .create_deployment_group()
        .application_name(APPLICATION)
        .deployment_group_name(DEPLOYMENT_GROUP)
        .service_role_arn(SERVICE_ROLE)
        .deployment_config_name("CodeDeployDefault.ECSAllAtOnce")
        .deployment_style(
            codedeploy::DeploymentStyle::builder()
                .deployment_type(codedeploy::DeploymentType::BlueGreen)
                .deployment_option(codedeploy::DeploymentOption::WithTrafficControl)
                .build(),
        )
        .blue_green_deployment_configuration(
            codedeploy::BlueGreenDeploymentConfiguration::builder()
                .terminate_blue_instances_on_deployment_success(
                    codedeploy::BlueInstanceTerminationOption::builder()
                        .action(codedeploy::InstanceAction::Terminate)
                        .termination_wait_time_in_minutes(5)
                        .build(),
                )
                .deployment_ready_option(
                    codedeploy::DeploymentReadyOption::builder()
                        .action_on_timeout(codedeploy::DeploymentReadyAction::ContinueDeployment)
                        .build(),
                )
                .build(),
        )
        .ecs_services(
            codedeploy::EcsService::builder()
                .cluster_name(CLUSTER)
                .service_name(SERVICE)
                .build(),
        )
        .load_balancer_info(
            codedeploy::LoadBalancerInfo::builder()
                .target_group_pair_info_list(pair.build())
                .build(),
        );
    if let Some(alarms) = &setup.alarms {
        // moto drops it (GetDeploymentGroup answers `{}`); the front serves it.
        let mut config = codedeploy::AlarmConfiguration::builder()
            .enabled(alarms.enabled)
            .ignore_poll_alarm_failure(alarms.ignore_poll_alarm_failure);
        for name in &alarms.alarms {
            config = config.alarms(codedeploy::Alarm::builder().name(name).build());
        }
        group = group.alarm_configuration(config.build());
    }
    group.send().await.expect("CreateDeploymentGroup");
    let appspec = serde_json::json!({
        "version": 0.0,
        "Resources": [{"TargetService": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "TaskDefinition": task_definition,
                "LoadBalancerInfo": {"ContainerName": CONTAINER, "ContainerPort": CONTAINER_PORT}
            }
        }}]
    });
    create_deployment(
        codedeploy,
        codedeploy::RevisionLocation::builder()
            .revision_type(codedeploy::RevisionLocationType::AppSpecContent)
            .app_spec_content(
                codedeploy::AppSpecContent::builder()
                    .content(appspec.to_string())
                    .build(),
            )
            .build(),
    )
    .await
}

async fn create_server_deployment(codedeploy: &aws_sdk_codedeploy::Client) -> String {
    codedeploy
        .create_application()
        .application_name(APPLICATION)
        .compute_platform(codedeploy::ComputePlatform::Server)
        .send()
        .await
        .expect("CreateApplication");
    codedeploy
        .create_deployment_group()
        .application_name(APPLICATION)
        .deployment_group_name(DEPLOYMENT_GROUP)
        .service_role_arn(SERVICE_ROLE)
        .deployment_style(
            codedeploy::DeploymentStyle::builder()
                .deployment_type(codedeploy::DeploymentType::InPlace)
                .deployment_option(codedeploy::DeploymentOption::WithoutTrafficControl)
                .build(),
        )
        .send()
        .await
        .expect("CreateDeploymentGroup");
    create_deployment(
        codedeploy,
        codedeploy::RevisionLocation::builder()
            .revision_type(codedeploy::RevisionLocationType::S3)
            .s3_location(
                codedeploy::S3Location::builder()
                    .bucket("greenlight-releases")
                    .key("app.zip")
                    .bundle_type(codedeploy::BundleType::Zip)
                    .build(),
            )
            .build(),
    )
    .await
}

async fn create_deployment(
    codedeploy: &aws_sdk_codedeploy::Client,
    revision: codedeploy::RevisionLocation,
) -> String {
    codedeploy
        .create_deployment()
        .application_name(APPLICATION)
        .deployment_group_name(DEPLOYMENT_GROUP)
        .revision(revision)
        .send()
        .await
        .expect("CreateDeployment")
        .deployment_id
        .expect("a deployment ID")
}

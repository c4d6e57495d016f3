//! An ECS-native blue/green world for the ECS lifecycle hook: moto's ELBv2
//! (an ALB, blue and green target groups, a production and a test listener,
//! each with a weighted rule), the front serving the service-deployment
//! APIs moto lacks, a green service behind each listener's port, and the
//! real hook binary under the local Runtime API.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::types as elb;
use serde_json::{Value, json};

use crate::aws_front::{AwsFront, Script, ServiceDeployment};
use crate::binaries::ECS_HOOK;
use crate::green::{Behaviour, GreenService};
use crate::hook::{Build, HookProcess};
use crate::moto::MotoServer;
use crate::runtime_api::RuntimeApi;
use crate::world::port;

const ACCOUNT_ARN: &str = "arn:aws:ecs:us-east-1:123456789012";
/// The service deployment's ARN.
pub const DEPLOYMENT_ARN: &str =
    "arn:aws:ecs:us-east-1:123456789012:service-deployment/greenlight/web/dep-2";
/// Blue's service revision.
pub const BLUE_REVISION: &str =
    "arn:aws:ecs:us-east-1:123456789012:service-revision/greenlight/web/1";
/// Green's service revision.
pub const GREEN_REVISION: &str =
    "arn:aws:ecs:us-east-1:123456789012:service-revision/greenlight/web/2";

/// moto, the front, the two greens and the service deployment.
pub struct EcsNative {
    /// moto's server.
    pub moto: MotoServer,
    /// The one AWS endpoint the hook talks to.
    pub front: Arc<AwsFront>,
    /// Green behind the test listener.
    pub test_green: GreenService,
    /// Green behind the production listener.
    pub prod_green: GreenService,
    /// The deployment as the front serves it.
    pub deployment: ServiceDeployment,
    /// The ALB's DNS name (pinned to 127.0.0.1 in specs).
    pub load_balancer_dns: String,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    /// Blue's target group ARN.
    pub blue_target_group: String,
    /// Green's target group ARN.
    pub green_target_group: String,
}

impl EcsNative {
    /// Starts it all: test traffic on green, production on blue, green's
    /// one task running.
    pub async fn new() -> EcsNative {
        let test_green = GreenService::start(Behaviour::Healthy).await;
        let prod_green = GreenService::start(Behaviour::Healthy).await;
        EcsNative::around(test_green, prod_green).await
    }

    /// The same around these services: `test_green` behind the test
    /// listener, `prod_green` behind production (blue until it shifts).
    pub async fn around(test_green: GreenService, prod_green: GreenService) -> EcsNative {
        let moto = MotoServer::start().await;
        let front = AwsFront::start(Some(moto.url())).await;
        let config = crate::moto::sdk_config(&moto.url());
        let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
        let network = crate::elb::default_network(&moto.url()).await;
        let (load_balancer_arn, load_balancer_dns) =
            crate::elb::create_alb(&elb, &network, "greenlight-native").await;
        let mut target_groups = Vec::new();
        for colour in ["blue", "green"] {
            let arn = crate::elb::create_target_group(
                &elb,
                &network,
                &format!("native-{colour}"),
                8080,
                None,
            )
            .await;
            target_groups.push(arn);
        }
        let (blue, green) = (target_groups[0].clone(), target_groups[1].clone());
        let mut rules = Vec::new();
        for (listener_port, green_weight) in [(port(&prod_green), 0), (port(&test_green), 100)] {
            let listener = crate::elb::create_listener(
                &elb,
                &load_balancer_arn,
                listener_port,
                forward(&blue, &green, green_weight),
            )
            .await;
            let rule = elb
                .create_rule()
                .listener_arn(listener)
                .priority(1)
                .conditions(
                    elb::RuleCondition::builder()
                        .field("path-pattern")
                        .values("/*")
                        .build(),
                )
                .actions(forward(&blue, &green, green_weight))
                .send()
                .await
                .expect("CreateRule")
                .rules
                .unwrap_or_default()
                .into_iter()
                .next()
                .and_then(|r| r.rule_arn)
                .expect("a rule ARN");
            rules.push(rule);
        }
        let deployment = ServiceDeployment {
            arn: DEPLOYMENT_ARN.to_owned(),
            service_arn: format!("{ACCOUNT_ARN}:service/greenlight/web"),
            cluster_arn: format!("{ACCOUNT_ARN}:cluster/greenlight"),
            target_revision_arn: GREEN_REVISION.to_owned(),
            requested: 1,
            status: "IN_PROGRESS".to_owned(),
            target_group_arn: blue.clone(),
            alternate_target_group_arn: green.clone(),
            production_listener_rule: rules[0].clone(),
            test_listener_rule: Some(rules[1].clone()),
        };
        front.set_service_deployment(deployment.clone(), 1);
        front.set_target_health(
            &green,
            vec![crate::aws_front::TargetHealth::healthy("10.0.2.20", 8080)],
        );
        EcsNative {
            moto,
            front: Arc::new(front),
            test_green,
            prod_green,
            deployment,
            load_balancer_dns,
            elb,
            blue_target_group: blue,
            green_target_group: green,
        }
    }

    /// Green's running tasks follow `running` from now on.
    pub fn set_running(&self, running: impl Into<Script<i32>>) {
        self.front
            .set_service_deployment(self.deployment.clone(), running);
    }

    /// Production's rule sends everything to green, as after
    /// PRODUCTION_TRAFFIC_SHIFT.
    pub async fn shift_production(&self) {
        self.elb
            .modify_rule()
            .rule_arn(&self.deployment.production_listener_rule)
            .actions(forward(
                &self.blue_target_group,
                &self.green_target_group,
                100,
            ))
            .send()
            .await
            .expect("ModifyRule");
    }

    /// A spec with no URL: the listener comes from the deployment, and its
    /// load balancer's name is pinned to 127.0.0.1.
    pub fn spec(&self, extra: Value) -> Value {
        let mut spec = json!({
            "target": {"resolve": {self.load_balancer_dns.clone(): "127.0.0.1"}},
            "readiness": {"timeout_ms": 3000, "interval_ms": 500},
            "alarms": {"deployment_group": false},
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

    /// The event ECS sends at `stage`, with the weights of a deployment
    /// going forward (or, with `rollback`, turned back to blue), and
    /// `hook_details`.
    pub fn event(&self, stage: &str, hook_details: Value, rollback: bool) -> Value {
        let test_on_green = !matches!(
            stage,
            "RECONCILE_SERVICE" | "PRE_SCALE_UP" | "POST_SCALE_UP"
        );
        // Production's weights name green from its shift on: at
        // PRODUCTION_TRAFFIC_SHIFT green at 0 would read as a rollback.
        let prod_on_green = matches!(
            stage,
            "PRODUCTION_TRAFFIC_SHIFT" | "POST_PRODUCTION_TRAFFIC_SHIFT"
        );
        let weights = |green: bool| {
            let green = if green && !rollback { 100 } else { 0 };
            json!({BLUE_REVISION: 100 - green, GREEN_REVISION: green})
        };
        json!({
            "executionId": format!("exec-{stage}"),
            "lifecycleStage": stage,
            "resourceArn": DEPLOYMENT_ARN,
            "executionDetails": {
                "serviceArn": self.deployment.service_arn,
                "targetServiceRevisionArn": GREEN_REVISION,
                "testTrafficWeights": weights(test_on_green),
                "productionTrafficWeights": weights(prod_on_green)
            },
            "hookDetails": hook_details
        })
    }

    /// Starts the hook binary with `spec` (none when null), plus `env`.
    pub async fn start(&self, spec: &Value, env: &[(&str, String)]) -> EcsHookProcess {
        let runtime = RuntimeApi::start().await;
        let mut all = vec![("GREENLIGHT_REPORT_MARGIN_MS", "1000".to_owned())];
        if !spec.is_null() {
            all.push(("GREENLIGHT_SPEC", spec.to_string()));
        }
        all.extend(env.iter().map(|(k, v)| (*k, v.clone())));
        let process = HookProcess::start(Build::Standard, ECS_HOOK, &runtime, &self.front, &all);
        EcsHookProcess { runtime, process }
    }
}

impl std::fmt::Debug for EcsNative {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcsNative")
            .field("moto", &self.moto.url())
            .finish_non_exhaustive()
    }
}

/// A forward action to blue and green, `green` percent to green.
fn forward(blue: &str, green: &str, green_weight: i32) -> elb::Action {
    let tuple = |arn: &str, weight: i32| {
        elb::TargetGroupTuple::builder()
            .target_group_arn(arn)
            .weight(weight)
            .build()
    };
    elb::Action::builder()
        .r#type(elb::ActionTypeEnum::Forward)
        .forward_config(
            elb::ForwardActionConfig::builder()
                .target_groups(tuple(blue, 100 - green_weight))
                .target_groups(tuple(green, green_weight))
                .build(),
        )
        .build()
}

/// The ECS hook running under the local Runtime API.
#[derive(Debug)]
pub struct EcsHookProcess {
    runtime: RuntimeApi,
    process: HookProcess,
}

impl EcsHookProcess {
    /// Invokes it with `event` and a Lambda deadline `timeout` away; its
    /// answer (a panic if it answered with an invocation error, or not
    /// before the deadline and a second).
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Value {
        let id = self.runtime.enqueue(event, timeout);
        let answer = self
            .runtime
            .answer(&id, timeout + Duration::from_secs(1))
            .await
            .expect("an answer before the deadline");
        assert_eq!(self.runtime.answers_posted(&id), 1, "exactly one answer");
        answer.response().clone()
    }

    /// Stops it and returns everything it printed.
    pub async fn stop(self) -> Vec<String> {
        self.process.stop().await
    }
}

/// The reasons of the hook's `answer` log lines, in order: what each
/// answer to ECS said.
pub fn answer_reasons(logs: &[String]) -> Vec<String> {
    logs.iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["fields"]["message"] == "answer")
        .map(|line| line["fields"]["reason"].as_str().unwrap_or("").to_owned())
        .collect()
}

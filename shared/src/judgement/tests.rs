//! The judgement with fakes: the stages in order, what ends them, and green
//! given as a URL.

use std::sync::Mutex;
use std::time::Duration;

use super::*;
use crate::check::Outcome;
use crate::cloud::fake::FakeCloud;
use crate::no_cloud::NoCloud;
use crate::probe::fake::{FakeProbe, Reply};
use crate::progress::Silent;
use crate::verdict::Status;

/// Answers every request with `status` and `{"status":"ok"}`.
fn answers(status: u16) -> FakeProbe {
    FakeProbe::answering(Reply::Json(status))
}

/// Remembers the stages announced, in order.
#[derive(Default)]
struct Heard(Mutex<Vec<Stage>>);

impl Progress for Heard {
    fn started(&self, stage: Stage, _: Duration) {
        self.0.lock().expect("lock").push(stage);
    }
}

fn plan(spec: &str) -> Plan {
    Plan::from_json(spec).expect("a valid spec")
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

fn deployment(hook: Hook, stop_at: Instant) -> Context {
    Context {
        hook,
        green: Green::Deployment { id: "d-1".into() },
        stop_at,
        earlier: std::time::Duration::ZERO,
    }
}

async fn judged<C: Cloud>(plan: &Plan, context: &Context, status: u16, cloud: &C) -> Verdict {
    let ports = Ports {
        http: &answers(status),
        cloud,
        progress: &Silent,
    };
    judge(plan, context, ports).await
}

/// A spec that discovers its listener.
const DISCOVERS: &str = r#"{"readiness":{"enabled":false},"alarms":{"deployment_group":false},"target":{"resolve":{"alb-123.us-east-1.elb.amazonaws.com":"127.0.0.1"}},"checks":[{"name":"health","retry":{"attempts":1},"assert":[{"status":200}]}]}"#;

#[tokio::test]
async fn a_hook_whose_lifecycle_event_is_not_in_progress_fails_naming_both() {
    // GIVEN a deployment in AfterAllowTestTraffic
    let cloud = FakeCloud::ready();
    cloud.set_lifecycle_event("AfterAllowTestTraffic");
    // WHEN the AfterAllowTraffic hook judges it
    let context = deployment(Hook::AfterAllowTraffic, far());
    let verdict = judged(&plan(DISCOVERS), &context, 200, &cloud).await;
    // THEN it fails before any check, naming both events
    assert_eq!(verdict.status, Status::Failed);
    assert!(verdict.checks.is_empty());
    assert_eq!(
        verdict.reasons,
        vec![
            "lifecycle: this is the AfterAllowTraffic hook, but the deployment is in AfterAllowTestTraffic (AfterAllowTraffic is Pending): check the AppSpec's Hooks section"
        ]
    );
    // AND in its own event it runs its checks
    let cloud = FakeCloud::ready();
    cloud.set_lifecycle_event("AfterAllowTraffic");
    let verdict = judged(&plan(DISCOVERS), &context, 200, &cloud).await;
    assert_eq!(verdict.status, Status::Succeeded, "{verdict:?}");
}

#[tokio::test]
async fn a_target_without_lifecycle_events_fails_closed() {
    let cloud = FakeCloud::ready();
    cloud.clear_lifecycle_events();
    let context = deployment(Hook::AfterAllowTestTraffic, far());
    let verdict = judged(&plan(DISCOVERS), &context, 200, &cloud).await;
    assert_eq!(verdict.status, Status::Failed);
    assert!(
        verdict.reasons[0].contains("lists no lifecycle events"),
        "{verdict:?}"
    );
}

/// An AfterAllowTraffic spec with a 30 s bake on one metric.
const BAKES: &str = r#"{"target":{"url":"http://127.0.0.1:9"},"readiness":{"enabled":false},"alarms":{"deployment_group":false},"bake":{"duration_ms":30000,"metrics":[{"metric":"X","stat":"Sum","greater_than":5,"dimensions":{}}]},"checks":[{"name":"health","retry":{"attempts":1},"assert":[{"status":200}]}]}"#;

fn baking_cloud() -> FakeCloud {
    let cloud = FakeCloud::ready();
    cloud.set_lifecycle_event("AfterAllowTraffic");
    cloud
}

#[tokio::test(start_paused = true)]
async fn after_a_failed_check_the_bake_is_skipped_and_reads_nothing() {
    // GIVEN green answering 500 and a 30 s bake
    let cloud = baking_cloud();
    // WHEN the hook judges
    let context = deployment(Hook::AfterAllowTraffic, far());
    let verdict = judged(&plan(BAKES), &context, 500, &cloud).await;
    // THEN it fails on the check alone; the bake is listed as skipped and
    // never read CloudWatch
    assert_eq!(verdict.status, Status::Failed);
    assert_eq!(verdict.reasons.len(), 1, "{verdict:?}");
    let bake = verdict.checks.last().expect("the bake");
    assert_eq!(
        (bake.name.as_str(), bake.outcome),
        ("bake", Outcome::Skipped)
    );
    assert!(!cloud.calls().contains(&"cloudwatch:GetMetricData"));
}

#[tokio::test(start_paused = true)]
async fn with_no_time_left_after_the_checks_the_bake_says_so() {
    // GIVEN a stop time that has come by the end of the checks
    let cloud = baking_cloud();
    let context = deployment(
        Hook::AfterAllowTraffic,
        Instant::now() + Duration::from_millis(50),
    );
    // WHEN the hook judges
    let verdict = judged(&plan(BAKES), &context, 200, &cloud).await;
    // THEN the bake did not run, saying why, and CloudWatch got no call
    assert_eq!(verdict.status, Status::Failed);
    assert!(
        verdict
            .reasons
            .contains(&"bake: not run: no time left after the checks".to_owned()),
        "{verdict:?}"
    );
    assert!(!cloud.calls().iter().any(|c| c.starts_with("cloudwatch:")));
}

/// A spec that reads nothing from AWS, aimed at port 9.
const AT_A_URL: &str = r#"{"target":{"url":"http://127.0.0.1:9"},"readiness":{"enabled":false},"alarms":{"deployment_group":false},"checks":[{"name":"health","retry":{"attempts":1},"assert":[{"status":200}]}]}"#;

fn at_url(url: &str) -> Context {
    Context {
        hook: Hook::AfterAllowTestTraffic,
        green: Green::Url(Url::parse(url).expect("url")),
        stop_at: far(),
        earlier: std::time::Duration::ZERO,
    }
}

#[tokio::test]
async fn green_at_a_url_is_judged_there_without_aws() {
    // GIVEN green given as a URL other than the spec's
    let context = at_url("http://127.0.0.1:8080/base/");
    let heard = Heard::default();
    let ports = Ports {
        http: &answers(200),
        cloud: &NoCloud,
        progress: &heard,
    };
    // WHEN it is judged
    let verdict = judge(&plan(AT_A_URL), &context, ports).await;
    // THEN it passes without AWS, the stages announced in order
    assert_eq!(verdict.status, Status::Succeeded, "{verdict:?}");
    assert_eq!(
        *heard.0.lock().expect("lock"),
        vec![Stage::Target, Stage::Checks]
    );
}

#[tokio::test]
async fn green_at_a_url_fails_the_stages_that_need_a_deployment() {
    // GIVEN a spec with readiness on
    let waits = AT_A_URL.replace(r#""readiness":{"enabled":false},"#, "");
    // WHEN green is given as a URL
    let verdict = judged(
        &plan(&waits),
        &at_url("http://127.0.0.1:8080"),
        200,
        &NoCloud,
    )
    .await;
    // THEN readiness fails, saying why, and nothing else runs
    assert_eq!(verdict.status, Status::Failed);
    assert_eq!(verdict.checks.len(), 1, "{verdict:?}");
    assert!(
        verdict.reasons[0].starts_with("readiness: needs a deployment"),
        "{verdict:?}"
    );
    // AND the deployment group's alarms fail the same way, after the checks
    let group = AT_A_URL.replace(r#""alarms":{"deployment_group":false},"#, "");
    let verdict = judged(
        &plan(&group),
        &at_url("http://127.0.0.1:8080"),
        200,
        &NoCloud,
    )
    .await;
    assert_eq!(verdict.status, Status::Failed);
    assert_eq!(
        verdict
            .checks
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["health", "alarms"]
    );
    assert!(
        verdict.reasons[0].starts_with("alarms: the deployment group's alarms need a deployment"),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn a_failed_stage_names_itself() {
    // GIVEN a deployment that cannot be read
    let cloud = FakeCloud::ready();
    cloud.fail("codedeploy:GetDeployment");
    // WHEN it is judged
    let verdict = judged(
        &plan(DISCOVERS),
        &deployment(Hook::AfterAllowTestTraffic, far()),
        200,
        &cloud,
    )
    .await;
    // THEN the reason starts with the stage's name
    assert!(verdict.reasons[0].starts_with("discovery: "), "{verdict:?}");
    assert_eq!(StageFailure::DiscoveryTimedOut.stage(), Stage::Discovery);
    assert_eq!(
        StageFailure::DiscoveryTimedOut.to_string(),
        "discovery: AWS did not answer before the hook had to report"
    );
}

#[tokio::test]
async fn the_verdict_comes_back_redacted() {
    // GIVEN a check with a secret header whose value green echoes
    const SECRET: &str = r#"{"target":{"url":"http://127.0.0.1:9"},"readiness":{"enabled":false},"alarms":{"deployment_group":false},"checks":[{"name":"health","retry":{"attempts":1},"headers":{"X-Api-Key":"s3cr3t-value"},"assert":[{"json":{"path":"$.status","equals":"s3cr3t-value"}}]}]}"#;
    let plan = plan(SECRET);
    // WHEN it is judged
    let verdict = judged(
        &plan,
        &deployment(Hook::AfterAllowTestTraffic, far()),
        200,
        &NoCloud,
    )
    .await;
    // THEN the secret is nowhere in it
    let text = format!("{verdict:?}");
    assert!(!text.contains("s3cr3t-value"), "{text}");
}

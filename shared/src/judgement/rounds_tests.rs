//! A judgement in rounds, with fakes: the checks, then a bake one look per
//! round, and what ends it.

use std::time::Duration;

use super::*;
use crate::cloud::fake::{FakeCloud, SERVICE_DEPLOYMENT};
use crate::plan::GateTally;
use crate::probe::fake::{FakeProbe, Reply};
use crate::progress::Silent;
use crate::verdict::Status;

/// Checks against a URL, an alarm watched once after them and in a bake of
/// 60 s, one look every 20 s.
const BAKES: &str = r#"{"readiness":{"enabled":false},"alarms":{"deployment_group":false,"names":["web-5xx"]},"target":{"url":"http://green.test"},"bake":{"duration_ms":60000,"interval_ms":20000},"checks":[{"name":"health","retry":{"attempts":1},"assert":[{"status":200}]}]}"#;

fn context(hook: Hook) -> Context {
    Context {
        hook,
        green: Green::ServiceDeployment {
            arn: SERVICE_DEPLOYMENT.to_owned(),
        },
        stop_at: Instant::now() + Duration::from_secs(30),
        earlier: Duration::ZERO,
    }
}

async fn round(
    plan: &Plan,
    hook: Hook,
    state: Option<RoundState>,
    now_ms: u64,
    cloud: &FakeCloud,
) -> RoundOutcome {
    let ports = Ports {
        http: &FakeProbe::answering(Reply::Json(200)),
        cloud,
        progress: &Silent,
    };
    judge_round(plan, &context(hook), state, now_ms, ports).await
}

fn again(outcome: RoundOutcome) -> (RoundState, Duration) {
    match outcome {
        RoundOutcome::Again { state, after, .. } => (state, after),
        RoundOutcome::Done(verdict) => panic!("expected another round, got {verdict:?}"),
    }
}

fn verdict(outcome: RoundOutcome) -> Verdict {
    match outcome {
        RoundOutcome::Done(verdict) => verdict,
        other => panic!("expected a verdict, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bake_lasts_across_rounds_one_look_each_and_then_succeeds() {
    // GIVEN a plan that bakes 60 s, and an alarm that stays OK
    let plan = Plan::from_json(BAKES).unwrap();
    let cloud = FakeCloud::ready();
    cloud.set_alarm("web-5xx", "OK");
    // WHEN the first round runs the checks at t = 1000 s
    let (state, after) =
        again(round(&plan, Hook::AfterAllowTraffic, None, 1_000_000, &cloud).await);
    // THEN the bake begins, its first look an interval away
    assert_eq!(after, Duration::from_secs(20));
    let bake = state.bake.clone().unwrap();
    assert_eq!(
        (bake.looks, state.rounds, state.since_ms),
        (0, 1, 1_000_000)
    );
    // AND each later round looks once, until the bake's 60 s have passed
    let (state, after) = again(
        round(
            &plan,
            Hook::AfterAllowTraffic,
            Some(state),
            1_020_000,
            &cloud,
        )
        .await,
    );
    assert_eq!(
        (state.bake.as_ref().unwrap().looks, after),
        (1, Duration::from_secs(20))
    );
    let (state, _) = again(
        round(
            &plan,
            Hook::AfterAllowTraffic,
            Some(state),
            1_040_000,
            &cloud,
        )
        .await,
    );
    let last = verdict(
        round(
            &plan,
            Hook::AfterAllowTraffic,
            Some(state),
            1_060_500,
            &cloud,
        )
        .await,
    );
    assert_eq!(last.status, Status::Succeeded, "{last:?}");
    assert_eq!(last.checks[0].name, "bake");
    assert_eq!(last.checks[0].attempts, 3);
}

#[tokio::test]
async fn a_breach_mid_bake_fails_at_once() {
    // GIVEN an alarm that goes off after two looks (the checks' and one bake look)
    let plan = Plan::from_json(BAKES).unwrap();
    let cloud = FakeCloud::ready();
    cloud.set_alarm("web-5xx", "OK");
    cloud.alarm_after("web-5xx", 2);
    let (state, _) = again(round(&plan, Hook::AfterAllowTraffic, None, 0, &cloud).await);
    let (state, _) =
        again(round(&plan, Hook::AfterAllowTraffic, Some(state), 20_000, &cloud).await);
    // WHEN the next look sees it
    let failed = verdict(round(&plan, Hook::AfterAllowTraffic, Some(state), 40_000, &cloud).await);
    // THEN the bake fails, saying when
    assert_eq!(failed.status, Status::Failed);
    assert!(
        failed.reasons[0].contains("breached after 40000 ms of a 60000 ms bake"),
        "{:?}",
        failed.reasons
    );
}

#[tokio::test]
async fn before_production_moves_there_is_no_bake() {
    let plan = Plan::from_json(BAKES).unwrap();
    let cloud = FakeCloud::ready();
    cloud.set_alarm("web-5xx", "OK");
    let done = verdict(round(&plan, Hook::AfterAllowTestTraffic, None, 0, &cloud).await);
    assert_eq!(done.status, Status::Succeeded, "{done:?}");
}

#[tokio::test]
async fn a_state_that_does_not_fit_the_spec_fails() {
    // GIVEN a bake state from a spec with one metric gate, and a spec with none
    let plan = Plan::from_json(BAKES).unwrap();
    let cloud = FakeCloud::ready();
    let state = RoundState {
        since_ms: 0,
        rounds: 2,
        bake: Some(BakeProgress {
            since_ms: 0,
            looks: 1,
            gates: vec![GateTally::default()],
        }),
    };
    // WHEN a round reads it
    let failed = verdict(
        round(
            &plan,
            Hook::AfterAllowTraffic,
            Some(state.clone()),
            10_000,
            &cloud,
        )
        .await,
    );
    // THEN it fails, saying the spec changed
    assert_eq!(failed.status, Status::Failed);
    assert!(
        failed.reasons[0].contains("the spec changed mid-deployment"),
        "{:?}",
        failed.reasons
    );
    // AND a state from the future fails too
    let failed = verdict(round(&plan, Hook::AfterAllowTraffic, Some(state), 0, &cloud).await);
    assert!(
        failed.reasons[0].contains("not this judgement's")
            || failed.reasons[0].contains("spec changed"),
        "{:?}",
        failed.reasons
    );
}

#[tokio::test(start_paused = true)]
async fn green_not_ready_when_the_round_ends_is_asked_again_while_readiness_lasts() {
    // GIVEN targets that never heal, a 120 s readiness timeout, and a round
    // that has only 2 s
    let spec = r#"{"readiness":{"timeout_ms":120000},"alarms":{"deployment_group":false},"target":{"url":"http://green.test"},"checks":[{"name":"health","retry":{"attempts":1},"assert":[{"status":200}]}]}"#;
    let plan = Plan::from_json(spec).unwrap();
    let cloud = FakeCloud::ready();
    cloud.set_targets(vec![(
        "10.0.1.5",
        "unhealthy",
        Some("Target.FailedHealthChecks"),
    )]);
    let short = Context {
        stop_at: Instant::now() + Duration::from_secs(2),
        ..context(Hook::AfterAllowTestTraffic)
    };
    let ports = Ports {
        http: &FakeProbe::answering(Reply::Json(200)),
        cloud: &cloud,
        progress: &Silent,
    };
    // WHEN the first round ends
    let (state, after) = again(judge_round(&plan, &short, None, 0, ports).await);
    // THEN it is asked again, carrying when the wait began
    assert_eq!(
        (state.since_ms, state.rounds, after),
        (0, 1, Duration::from_secs(10))
    );
    // AND once readiness's 120 s have passed, a round cut short fails
    let short = Context {
        stop_at: Instant::now() + Duration::from_secs(2),
        ..short
    };
    let failed = verdict(judge_round(&plan, &short, Some(state), 119_000, ports).await);
    assert_eq!(failed.status, Status::Failed);
    assert!(
        failed.reasons[0].starts_with("readiness"),
        "{:?}",
        failed.reasons
    );
}

#[tokio::test]
async fn a_bake_with_nothing_to_watch_fails_before_it_begins() {
    // GIVEN a bake of an hour watching only the deployment group's alarms,
    // which an ECS-native deployment does not have
    let spec = r#"{"readiness":{"enabled":false},"target":{"url":"http://green.test"},"bake":{"duration_ms":3600000},"checks":[{"name":"health","retry":{"attempts":1},"assert":[{"status":200}]}]}"#;
    let plan = Plan::from_json(spec).unwrap();
    let cloud = FakeCloud::ready();
    // WHEN the first round passes the checks
    let failed = verdict(round(&plan, Hook::AfterAllowTraffic, None, 0, &cloud).await);
    // THEN it fails there, as a judgement in one run does, instead of
    // passing on nothing an hour later
    assert_eq!(failed.status, Status::Failed);
    assert!(
        failed.reasons[0].contains("nothing to watch"),
        "{:?}",
        failed.reasons
    );
}

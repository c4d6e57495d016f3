//! Readiness: before any probe, green's task set must be steady with every
//! task running, and every target of green's target group healthy. An ALB
//! whose target group has no healthy target fails open (it sends to all
//! targets), so a probe before then proves nothing.

use std::time::Duration;

use tokio::time::Instant;

use crate::assertion::AssertionResult;
use crate::attempts::{Backoff, Step, until_done};
use crate::check::{CheckResult, Outcome};
use crate::cloud::{AwsError, Cloud, TargetHealth, TaskSetState};
use crate::discovery::{Deployment, GreenTasks};
use crate::plan::Readiness;
use crate::stage::Stage;
use crate::time::millis;

/// First pause between polls; doubles up to the policy's maximum.
const FIRST_POLL_INTERVAL: Duration = Duration::from_millis(1000);
/// The last look starts at least this long before the stop time, so that it
/// ends before the hook must stop.
const LAST_LOOK: Duration = Duration::from_millis(500);

/// The name readiness results carry in the verdict.
pub const READINESS: &str = Stage::Readiness.name();

/// Polls until green is ready, the policy's timeout passes or `stop_at`
/// comes. The last look is at the limit itself: never does a backoff sleep
/// that would pass the limit end the wait early; it is cut to the limit,
/// and the limit is looked at once more. Each look ends by `stop_at`. The
/// result says what was expected, what was last seen and how long it waited.
pub async fn await_ready<C: Cloud>(
    cloud: &C,
    deployment: &Deployment,
    policy: Readiness,
    stop_at: Instant,
) -> CheckResult {
    await_ready_after(cloud, deployment, policy, stop_at, Duration::ZERO).await
}

/// [`await_ready`] for a wait that began `earlier` ago, in an earlier round
/// of the same judgement: the policy's timeout counts from then.
pub async fn await_ready_after<C: Cloud>(
    cloud: &C,
    deployment: &Deployment,
    policy: Readiness,
    stop_at: Instant,
    earlier: Duration,
) -> CheckResult {
    let started = Instant::now();
    let by_policy = started + policy.timeout.saturating_sub(earlier);
    let by_deadline = stop_at
        .checked_sub(LAST_LOOK)
        .unwrap_or(started)
        .max(started);
    // When the last look starts.
    let last_look = by_policy.min(by_deadline);
    let backoff = Backoff::doubling(FIRST_POLL_INTERVAL, policy.max_interval);
    // The last API error, kept for the verdict should a later look time out.
    let mut last_error: Option<String> = None;
    until_done(last_look, backoff, async |polls| {
        let look = tokio::time::timeout_at(stop_at, look(cloud, deployment)).await;
        let (assertions, error, fatal) = match look {
            Ok(Ok(assertions)) => (assertions, None, false),
            // Denied stays denied; anything else (throttling, 5xx) may pass.
            Ok(Err(error)) => {
                last_error = Some(error.to_string());
                (Vec::new(), Some(error.to_string()), error.is_denied())
            }
            Err(_) => (
                Vec::new(),
                Some(match &last_error {
                    Some(before) => format!("AWS did not answer in time; before that: {before}"),
                    None => "AWS did not answer in time".to_owned(),
                }),
                true,
            ),
        };
        let ready = error.is_none() && assertions.iter().all(|a| a.passed);
        let now = Instant::now();
        if ready || fatal || now >= last_look {
            let reason = (!ready).then(|| match &error {
                Some(_) => "could not read green's state".to_owned(),
                None => {
                    let what: Vec<&str> = assertions
                        .iter()
                        .filter(|a| !a.passed)
                        .map(|a| {
                            if a.expected.contains("task set") {
                                "task set not steady"
                            } else if a.expected.contains("requested task") {
                                "tasks not running"
                            } else {
                                "targets not healthy"
                            }
                        })
                        .collect();
                    let limit = if by_deadline < by_policy {
                        format!(
                            "the hook had to stop before readiness.timeout_ms {}",
                            policy.timeout.as_millis()
                        )
                    } else {
                        format!("readiness.timeout_ms {}", policy.timeout.as_millis())
                    };
                    format!(
                        "{} after waiting {} ms ({polls} looks; {limit})",
                        what.join(", "),
                        millis(started.elapsed() + earlier)
                    )
                }
            });
            return Step::Done(CheckResult {
                name: READINESS.to_owned(),
                outcome: if ready { Outcome::Pass } else { Outcome::Fail },
                reason,
                attempts: polls,
                duration_ms: millis(started.elapsed()),
                assertions,
                error,
                flow: None,
            });
        }
        Step::Again
    })
    .await
}

/// One look at green's tasks and its target group.
async fn look<C: Cloud>(
    cloud: &C,
    deployment: &Deployment,
) -> Result<Vec<AssertionResult>, AwsError> {
    let tasks = match &deployment.green {
        GreenTasks::TaskSet(task_set) => {
            let state = cloud
                .task_set(&deployment.cluster, &deployment.service, task_set)
                .await?;
            AssertionResult {
                passed: steady(&state),
                expected: format!(
                    "green task set {task_set} STEADY_STATE with every desired task running"
                ),
                actual: describe_task_set(&state),
            }
        }
        GreenTasks::Revision { deployment_arn, .. } => {
            let found = cloud.service_deployment(deployment_arn).await?;
            let (requested, running) = found.target_tasks.unwrap_or_default();
            AssertionResult {
                passed: requested > 0 && running >= requested,
                expected: "every requested task of green's service revision running".to_owned(),
                actual: format!("{running} of {requested} running"),
            }
        }
    };
    let targets = cloud
        .target_health(&deployment.green_target_group_arn)
        .await?;
    Ok(vec![
        tasks,
        AssertionResult {
            passed: serving(&targets),
            expected: format!(
                "every target of green target group {} healthy",
                deployment.green_target_group
            ),
            actual: describe_targets(&targets),
        },
    ])
}

/// At least one target, and every target not on its way out healthy.
/// Draining targets (tasks of an earlier deployment leaving) are ignored;
/// `unused` ones (the target group is on no listener) are not healthy.
pub fn serving(targets: &[TargetHealth]) -> bool {
    let staying: Vec<&TargetHealth> = targets.iter().filter(|t| t.state != "draining").collect();
    !staying.is_empty() && staying.iter().all(|t| t.state == "healthy")
}

/// Steady, nothing pending, and as many running as desired (at least one).
pub fn steady(task_set: &TaskSetState) -> bool {
    task_set.stability.as_deref() == Some("STEADY_STATE")
        && task_set.pending == 0
        && task_set.desired > 0
        && task_set.running >= task_set.desired
}

fn describe_task_set(task_set: &TaskSetState) -> String {
    format!(
        "{}, {} of {} running, {} pending",
        task_set
            .stability
            .as_deref()
            .unwrap_or("no stability status"),
        task_set.running,
        task_set.desired,
        task_set.pending
    )
}

fn describe_targets(targets: &[TargetHealth]) -> String {
    if targets.is_empty() {
        return "no target registered".to_owned();
    }
    let each: Vec<String> = targets
        .iter()
        .map(|t| {
            let port = t.port.map(|p| format!(":{p}")).unwrap_or_default();
            let reason = t
                .reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            format!("{}{port} {}{reason}", t.id, t.state)
        })
        .collect();
    format!("{} target(s): {}", targets.len(), each.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::fake::FakeCloud;

    fn policy(timeout_ms: u64) -> Readiness {
        Readiness {
            timeout: Duration::from_millis(timeout_ms),
            max_interval: Duration::from_millis(2000),
        }
    }

    /// Backing off up to 10 s between polls.
    fn policy_backing_off(timeout_ms: u64) -> Readiness {
        Readiness {
            timeout: Duration::from_millis(timeout_ms),
            max_interval: Duration::from_millis(10_000),
        }
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(600)
    }

    #[tokio::test(start_paused = true)]
    async fn ready_green_passes_at_once() {
        let cloud = FakeCloud::ready();
        let result = await_ready(&cloud, &cloud.deployment(), policy(30_000), far()).await;
        assert!(result.passed(), "{result:?}");
        assert_eq!(result.attempts, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn unhealthy_targets_wait_then_fail_naming_them() {
        // GIVEN a steady task set whose target stays unhealthy
        let cloud = FakeCloud::ready();
        cloud.set_targets(vec![(
            "10.0.1.5",
            "unhealthy",
            Some("Target.FailedHealthChecks"),
        )]);
        // WHEN readiness waits up to 10 s
        let result = await_ready(&cloud, &cloud.deployment(), policy(10_000), far()).await;
        // THEN it fails, having polled with backoff, and says which target
        assert!(!result.passed());
        assert!(result.attempts > 2, "{}", result.attempts);
        assert!(
            result
                .reason
                .as_deref()
                .unwrap_or_default()
                .starts_with("targets not healthy after waiting")
        );
        assert_eq!(
            result.assertions[1].actual,
            "1 target(s): 10.0.1.5:80 unhealthy (Target.FailedHealthChecks)"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn targets_becoming_healthy_during_the_wait_pass() {
        let cloud = FakeCloud::ready();
        cloud.set_targets(vec![(
            "10.0.1.5",
            "initial",
            Some("Elb.RegistrationInProgress"),
        )]);
        cloud.heal_after(3);
        let result = await_ready(&cloud, &cloud.deployment(), policy(60_000), far()).await;
        assert!(result.passed(), "{result:?}");
        assert_eq!(result.attempts, 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_set_still_stabilizing_fails() {
        let cloud = FakeCloud::ready();
        cloud.set_task_set(TaskSetState {
            status: Some("ACTIVE".into()),
            stability: Some("STABILIZING".into()),
            desired: 2,
            running: 1,
            pending: 1,
        });
        let result = await_ready(&cloud, &cloud.deployment(), policy(5_000), far()).await;
        assert!(!result.passed());
        assert!(
            result
                .reason
                .as_deref()
                .unwrap_or_default()
                .starts_with("task set not steady")
        );
        assert_eq!(
            result.assertions[0].actual,
            "STABILIZING, 1 of 2 running, 1 pending"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_registered_target_is_not_ready() {
        let cloud = FakeCloud::ready();
        cloud.set_targets(Vec::new());
        let result = await_ready(&cloud, &cloud.deployment(), policy(3_000), far()).await;
        assert!(!result.passed());
        assert_eq!(result.assertions[1].actual, "no target registered");
    }

    #[test]
    fn draining_targets_are_ignored_but_not_counted() {
        let t = |state: &str| TargetHealth {
            id: "10.0.0.1".into(),
            port: Some(80),
            state: state.into(),
            reason: None,
        };
        assert!(serving(&[t("healthy"), t("draining")]));
        assert!(!serving(&[t("draining")]));
        assert!(!serving(&[t("healthy"), t("unused")]));
    }

    #[tokio::test(start_paused = true)]
    async fn an_aws_error_fails_at_once_with_the_api() {
        let cloud = FakeCloud::ready();
        cloud.fail("ecs:DescribeTaskSets");
        let result = await_ready(&cloud, &cloud.deployment(), policy(30_000), far()).await;
        assert!(!result.passed());
        assert_eq!(result.attempts, 1);
        assert!(
            result
                .error
                .as_deref()
                .unwrap_or_default()
                .starts_with("ecs:DescribeTaskSets failed: AccessDeniedException")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn looks_once_more_at_the_limit_instead_of_giving_up_early() {
        // GIVEN targets that heal on the fifth look, and a 10 s timeout that
        // backoff (1 s, 2 s, 4 s) would leave at 7 s with a sleep of 8 s next
        let cloud = FakeCloud::ready();
        cloud.set_targets(vec![("10.0.1.5", "initial", None)]);
        cloud.heal_after(4);
        let started = Instant::now();
        // WHEN readiness waits
        let result = await_ready(
            &cloud,
            &cloud.deployment(),
            policy_backing_off(10_000),
            far(),
        )
        .await;
        // THEN it slept only up to the limit and looked there once more
        assert!(result.passed(), "{result:?}");
        assert_eq!(result.attempts, 5);
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn the_reason_states_the_real_waiting_time() {
        let cloud = FakeCloud::ready();
        cloud.set_targets(vec![("10.0.1.5", "unhealthy", None)]);
        let result = await_ready(
            &cloud,
            &cloud.deployment(),
            policy_backing_off(10_000),
            far(),
        )
        .await;
        assert!(!result.passed());
        assert_eq!(
            result.reason.as_deref(),
            Some(
                "targets not healthy after waiting 10000 ms (5 looks; readiness.timeout_ms 10000)"
            )
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_look_ends_before_the_stop_time() {
        // GIVEN a policy longer than the time the hook has
        let cloud = FakeCloud::ready();
        cloud.set_targets(vec![("10.0.1.5", "unhealthy", None)]);
        let stop_at = Instant::now() + Duration::from_secs(6);
        // WHEN readiness waits
        let result = await_ready(
            &cloud,
            &cloud.deployment(),
            policy_backing_off(300_000),
            stop_at,
        )
        .await;
        // THEN its last look was early enough to end before the stop time,
        // and the reason says the hook had to stop
        assert!(!result.passed());
        assert_eq!(Instant::now(), stop_at - LAST_LOOK);
        assert!(
            result
                .reason
                .as_deref()
                .unwrap_or_default()
                .ends_with("the hook had to stop before readiness.timeout_ms 300000)"),
            "{result:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn never_waits_past_the_stop_time() {
        let cloud = FakeCloud::ready();
        cloud.set_targets(vec![("10.0.1.5", "unhealthy", None)]);
        let stop_at = Instant::now() + Duration::from_secs(4);
        let result = await_ready(&cloud, &cloud.deployment(), policy(300_000), stop_at).await;
        assert!(!result.passed());
        assert!(Instant::now() <= stop_at);
    }
}

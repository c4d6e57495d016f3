//! A judgement that outlasts one Lambda run: rounds of the engine's
//! `judge_round` (the same rounds the ECS hook runs through `IN_PROGRESS`),
//! slept between inside one run while the run has time, and handed to a new
//! run of the function ([`HandOff`]) when it has not.
//!
//! The chain reports once: only the round that ends the judgement reaches
//! the report; a round that hands off reports nothing. A hand-off that fails
//! ends the judgement `Failed` at once, and the chain never outlives
//! CodeDeploy's hour: a round that would begin (or a bake that would end)
//! after the expiry ends it `Failed` instead.

use std::time::Duration;

use greenlight::gate::BAKE;
use greenlight::time::{millis, now_ms};
use greenlight::{Plan, RoundOutcome, RoundState, Verdict, bake_ends_ms, judge_round};
use tokio::time::Instant;
use tracing::info;

use crate::continuation::{Continuation, VERSION, expiry};
use crate::event::HookEvent;
use crate::hand_off::{HandOff, INVOKE};
use crate::report::StatusReporter;
use crate::runner::HookRunner;
use greenlight::cloud::Cloud;
use greenlight::probe::HttpProbe;

/// The least time a run keeps for one more round, as a share of the run:
/// a round begins only with a quarter of the run (2 s to 20 s) still ahead.
fn round_room(run: Duration) -> Duration {
    (run / 4).clamp(Duration::from_secs(2), Duration::from_secs(20))
}

/// How a judgement in rounds ended in this run.
#[derive(Debug)]
pub enum Ending {
    /// Judged: report this.
    Judged(Verdict),
    /// Handed to a new run with this continuation: report nothing.
    HandedOff(Continuation),
}

/// Where one run of a chain stands: what it was handed, and its limits.
#[derive(Debug)]
pub struct Link<'a> {
    /// CodeDeploy's IDs.
    pub event: &'a HookEvent,
    /// The continuation this run was started with; none for the first.
    pub continuation: Option<Continuation>,
    /// This function's ARN, as it was invoked.
    pub function: &'a str,
    /// When this run's judgement must stop (the report margin kept).
    pub stop_at: Instant,
    /// When a hand-off must be done: a failed one still has to be reported.
    pub hand_off_by: Instant,
}

impl<P: HttpProbe, R: StatusReporter, C: Cloud, H: HandOff> HookRunner<P, R, C, H> {
    /// Judges `link.event`'s deployment in rounds with `plan`.
    pub(crate) async fn judge_in_rounds(&self, plan: &Plan, link: Link<'_>) -> Ending {
        let hook = self.hook;
        let failed = |reason: String| Ending::Judged(Verdict::failed(hook, reason));
        let not_before = link.continuation.as_ref().map(|c| c.not_before_ms);
        let (mut state, hand_off, expires_ms) = match link.continuation {
            Some(c) => (Some(c.state), c.hand_off, c.expires_ms),
            None => (None, 0, expiry(now_ms())),
        };
        let left_in_chain = Duration::from_millis(expires_ms.saturating_sub(now_ms()));
        let stop_at = link.stop_at.min(Instant::now() + left_in_chain);
        let room = round_room(stop_at.saturating_duration_since(Instant::now()));
        if let Some(not_before) = not_before {
            let wait = Duration::from_millis(not_before.saturating_sub(now_ms()));
            let latest = stop_at.checked_sub(room).unwrap_or_else(Instant::now);
            tokio::time::sleep_until((Instant::now() + wait).min(latest)).await;
        }
        loop {
            let context = self.context(link.event, stop_at);
            let (next, after, why) =
                match judge_round(plan, &context, state.take(), now_ms(), self.ports()).await {
                    RoundOutcome::Done(verdict) => return Ending::Judged(verdict),
                    RoundOutcome::Again { state, after, why } => (state, after, why),
                };
            let next_ms = now_ms().saturating_add(millis(after));
            info!(round = next.rounds, next_in_ms = millis(after), why = %why, "round ended");
            if let Some(reason) = past_expiry(plan, hook, &next, next_ms, expires_ms) {
                return failed(reason);
            }
            let next_at = Instant::now() + after;
            if next_at + room <= stop_at {
                tokio::time::sleep_until(next_at).await;
                state = Some(next);
                continue;
            }
            let continuation = Continuation {
                v: VERSION,
                function: link.function.to_owned(),
                hand_off: hand_off.saturating_add(1),
                expires_ms,
                not_before_ms: next_ms,
                state: next,
            };
            let sent = tokio::time::timeout_at(
                link.hand_off_by,
                self.hand_off
                    .hand_off(link.function, &continuation.event(link.event)),
            )
            .await;
            return match sent {
                Ok(Ok(())) => Ending::HandedOff(continuation),
                Ok(Err(error)) => failed(format!(
                    "hand-off: {error} (the rest of the judgement needs a new run of this function: its role needs {INVOKE} on the function's own ARN)"
                )),
                Err(_) => failed(format!(
                    "hand-off: {INVOKE} did not answer before the run's deadline"
                )),
            };
        }
    }
}

/// Why the chain cannot go on to its next round: the bake would end, or the
/// round begin, after the chain's expiry.
fn past_expiry(
    plan: &Plan,
    hook: greenlight::Hook,
    next: &RoundState,
    next_ms: u64,
    expires_ms: u64,
) -> Option<String> {
    let hour = "CodeDeploy waits an hour for a hook, and the chain reports 5 minutes before";
    if let Some(ends_ms) = bake_ends_ms(plan, hook, next).filter(|end| *end > expires_ms) {
        return Some(format!(
            "{BAKE}: it would end {} s after the chain's expiry ({hour}): shorten bake.duration_ms",
            (ends_ms - expires_ms).div_ceil(1000)
        ));
    }
    (next_ms >= expires_ms).then(|| {
        format!(
            "out of time: the next round would begin after the chain's expiry ({hour}); {} rounds ran",
            next.rounds
        )
    })
}

#[cfg(test)]
mod tests {
    use greenlight::{BakeProgress, Hook};

    use super::*;

    fn baking(duration_ms: u64) -> Plan {
        let spec = format!(
            r#"{{"readiness":{{"enabled":false}},
               "checks":[{{"name":"health","path":"/health","assert":[{{"status":200}}]}}],
               "bake":{{"duration_ms":{duration_ms},"interval_ms":60000,"metrics":[
                 {{"name":"latency","metric":"TargetResponseTime","stat":"p99","greater_than":0.5}}]}}}}"#
        );
        Plan::from_json(&spec).expect("a plan")
    }

    fn baking_since(since_ms: u64) -> RoundState {
        RoundState {
            since_ms,
            rounds: 2,
            bake: Some(BakeProgress {
                since_ms,
                looks: 0,
                gates: vec![Default::default()],
            }),
        }
    }

    #[test]
    fn a_round_needs_a_quarter_of_the_run_between_2_and_20_seconds() {
        assert_eq!(round_room(Duration::from_secs(4)), Duration::from_secs(2));
        assert_eq!(round_room(Duration::from_secs(40)), Duration::from_secs(10));
        assert_eq!(
            round_room(Duration::from_secs(900)),
            Duration::from_secs(20)
        );
    }

    #[test]
    fn a_bake_that_would_end_after_the_expiry_fails_when_it_begins() {
        // GIVEN a chain begun at 0 (expiry at 55 min) and a bake of 60 min
        // that begins at 1 min
        let expires = expiry(0);
        let plan = baking(3_600_000);
        let reason = past_expiry(
            &plan,
            Hook::AfterAllowTraffic,
            &baking_since(60_000),
            120_000,
            expires,
        );
        // THEN it fails, saying by how much it overshoots
        assert_eq!(
            reason.as_deref(),
            Some(
                "bake: it would end 360 s after the chain's expiry (CodeDeploy waits an hour for a hook, and the chain reports 5 minutes before): shorten bake.duration_ms"
            )
        );
        // AND a bake of 30 min goes on
        let plan = baking(1_800_000);
        assert_eq!(
            past_expiry(
                &plan,
                Hook::AfterAllowTraffic,
                &baking_since(60_000),
                120_000,
                expires
            ),
            None
        );
    }

    #[test]
    fn no_round_begins_after_the_expiry() {
        let expires = expiry(0);
        let checking = RoundState {
            since_ms: 0,
            rounds: 7,
            bake: None,
        };
        let reason = past_expiry(
            &baking(60_000),
            Hook::AfterAllowTraffic,
            &checking,
            expires,
            expires,
        );
        assert!(
            reason.as_deref().is_some_and(|r| r
                .starts_with("out of time: the next round would begin after the chain's expiry")
                && r.ends_with("; 7 rounds ran")),
            "{reason:?}"
        );
    }
}

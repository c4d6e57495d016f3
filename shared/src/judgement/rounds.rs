//! A judgement in rounds, for a front door whose caller asks again instead
//! of waiting (ECS lifecycle hooks: `IN_PROGRESS`, then a new invocation
//! after `callBackDelay`). No round sleeps through a wait that outlasts it:
//!
//! - **checks** (the first rounds): discover → ready → aim → checks →
//!   alarms, as [`judge`](super::judge) runs them, the bake left to the
//!   rounds after (only what keeps it from running is judged now). A round
//!   cut short by its stop time (green not ready yet, a retry window still
//!   open) is tried again while the plan's patience lasts: the readiness
//!   timeout, or the longest retry window, counted from the first round.
//! - **bake** (AfterAllowTraffic, when the plan bakes): one look at the
//!   alarms and metrics per round, `bake.interval_ms` apart, until
//!   `bake.duration_ms` has passed since the bake began. A bake can then
//!   last as long as the caller keeps asking, not one invocation.
//!
//! [`RoundState`] is what the caller keeps between rounds; it is small and
//! plain, and every round checks it against the plan.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tracing::info;

use super::{Context, Ports, judge_before_bake, stages};
use crate::check::CheckResult;
use crate::cloud::Cloud;
use crate::gate::GateQuery;
use crate::gate::{BAKE, finish, look, metric_query, nothing_to_watch, without_data};
use crate::hook::Hook;
use crate::plan::{GateTally, MetricGate, Plan};
use crate::probe::HttpProbe;
use crate::progress::Progress;
use crate::verdict::Verdict;

/// A round whose judgement ends this close to its stop time was cut short
/// by it, rather than decided.
const CUT: Duration = Duration::from_millis(1500);
/// The pause before a round that tries the checks again.
const AGAIN_AFTER: Duration = Duration::from_secs(10);

/// Where a judgement in rounds stands between two rounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoundState {
    /// When the first round began (Unix epoch milliseconds).
    pub since_ms: u64,
    /// Rounds run so far.
    pub rounds: u32,
    /// The bake, once the checks passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bake: Option<BakeProgress>,
}

/// A bake between two of its looks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BakeProgress {
    /// When the bake began (Unix epoch milliseconds).
    pub since_ms: u64,
    /// Looks so far.
    pub looks: u32,
    /// What each metric gate of the plan, in order, saw so far.
    pub gates: Vec<GateTally>,
}

/// What a round ends in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundOutcome {
    /// Judged.
    Done(Verdict),
    /// Not judged yet: ask again after `after`, with `state`.
    Again {
        /// What the next round starts from.
        state: RoundState,
        /// How long to wait before it.
        after: Duration,
        /// Why, in words for the log.
        why: String,
    },
}

/// One round of the judgement of `context.hook`, from `state` (none for the
/// first round) at `now_ms` (Unix epoch milliseconds). Every verdict comes
/// back redacted.
pub async fn judge_round<P: HttpProbe, C: Cloud, G: Progress>(
    plan: &Plan,
    context: &Context,
    state: Option<RoundState>,
    now_ms: u64,
    ports: Ports<'_, P, C, G>,
) -> RoundOutcome {
    let mut state = state.unwrap_or(RoundState {
        since_ms: now_ms,
        rounds: 0,
        bake: None,
    });
    if state.since_ms > now_ms {
        return done(
            plan,
            Verdict::failed(
                context.hook,
                "the round state began in the future: it is not this judgement's".to_owned(),
            ),
        );
    }
    state.rounds = state.rounds.saturating_add(1);
    match state.bake.take() {
        None => checks_round(plan, context, state, now_ms, ports).await,
        Some(progress) => bake_round(plan, context, state, progress, now_ms, ports).await,
    }
}

fn done(plan: &Plan, verdict: Verdict) -> RoundOutcome {
    RoundOutcome::Done(verdict.redacted(&plan.redactor))
}

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// How long the checks may keep trying across rounds: the readiness
/// timeout, or the longest retry window of the hook's checks.
fn patience(plan: &Plan, hook: Hook) -> Duration {
    let readiness = plan.readiness.map_or(Duration::ZERO, |r| r.timeout);
    plan.checks_for(hook)
        .iter()
        .filter_map(|c| c.retry.within)
        .fold(readiness, Duration::max)
}

/// The longest a judgement of `hook` may take: the checks' patience, then
/// the bake. A front door that cannot wait that long in one run judges in
/// rounds.
pub fn longest_wait(plan: &Plan, hook: Hook) -> Duration {
    patience(plan, hook) + bake_of(plan, hook).map_or(Duration::ZERO, |b| b.duration)
}

/// When the bake in `state` will have lasted its duration (Unix epoch
/// milliseconds); none before the bake began.
pub fn bake_ends_ms(plan: &Plan, hook: Hook, state: &RoundState) -> Option<u64> {
    let progress = state.bake.as_ref()?;
    let duration = bake_of(plan, hook).map_or(Duration::ZERO, |b| b.duration);
    Some(progress.since_ms.saturating_add(ms(duration)))
}

/// The bake of this hook, if it bakes.
fn bake_of(plan: &Plan, hook: Hook) -> Option<&crate::plan::Bake> {
    plan.bake.as_ref().filter(|bake| bake.hook == hook)
}

async fn checks_round<P: HttpProbe, C: Cloud, G: Progress>(
    plan: &Plan,
    context: &Context,
    state: RoundState,
    now_ms: u64,
    ports: Ports<'_, P, C, G>,
) -> RoundOutcome {
    let hook = context.hook;
    let began = Instant::now();
    let earlier = Duration::from_millis(now_ms - state.since_ms);
    let bake = bake_of(plan, hook);
    let round = Context {
        earlier,
        ..context.clone()
    };
    let verdict = judge_before_bake(plan, &round, ports).await;
    if verdict.status == crate::verdict::Status::Succeeded {
        let Some(bake) = bake else {
            return RoundOutcome::Done(verdict);
        };
        let metrics = bake.metrics.len();
        return RoundOutcome::Again {
            state: RoundState {
                bake: Some(BakeProgress {
                    since_ms: now_ms.saturating_add(ms(began.elapsed())),
                    looks: 0,
                    gates: vec![GateTally::default(); metrics],
                }),
                ..state
            },
            after: bake.interval.min(bake.duration),
            why: format!(
                "the checks passed; the bake of {} ms begins",
                bake.duration.as_millis()
            ),
        };
    }
    let cut = Instant::now() + CUT >= context.stop_at;
    let patience = patience(plan, hook);
    let spent = earlier + began.elapsed();
    if cut && spent + AGAIN_AFTER < patience {
        info!(reasons = %verdict.reasons.join("; "), "round cut short by its stop time");
        return RoundOutcome::Again {
            state,
            after: AGAIN_AFTER,
            why: format!(
                "not passed yet after {} ms of {} ms of patience: {}",
                spent.as_millis(),
                patience.as_millis(),
                verdict.reasons.join("; ")
            ),
        };
    }
    RoundOutcome::Done(verdict)
}

async fn bake_round<P: HttpProbe, C: Cloud, G: Progress>(
    plan: &Plan,
    context: &Context,
    state: RoundState,
    mut progress: BakeProgress,
    now_ms: u64,
    ports: Ports<'_, P, C, G>,
) -> RoundOutcome {
    let hook = context.hook;
    let failed = |reason: String| done(plan, Verdict::failed(hook, reason));
    let Some(bake) = bake_of(plan, hook) else {
        return failed(format!(
            "the round state carries a bake, and the spec has none for {hook}: the spec changed mid-deployment"
        ));
    };
    if progress.gates.len() != bake.metrics.len() || progress.since_ms > now_ms {
        return failed(format!(
            "the round state's bake does not fit the spec ({} metric gates counted, {} in bake.metrics): the spec changed mid-deployment",
            progress.gates.len(),
            bake.metrics.len()
        ));
    }
    let deployment = match stages::discover(plan, context, ports).await {
        Ok(found) => found,
        Err(failure) => return failed(failure.to_string()),
    };
    let alarms = stages::alarm_names(plan, deployment.as_ref());
    if let Some(why) = nothing_to_watch(bake, &alarms, deployment.as_ref()) {
        return failed(format!("{BAKE}: {why}"));
    }
    let queries: Result<Vec<(MetricGate, GateQuery)>, String> = bake
        .metrics
        .iter()
        .map(|gate| metric_query(gate, deployment.as_ref()).map(|q| (gate.clone(), q)))
        .collect();
    let queries = match queries {
        Ok(queries) => queries,
        Err(problem) => return failed(format!("{BAKE}: {problem}")),
    };
    let elapsed = Duration::from_millis(now_ms - progress.since_ms);
    let started = Instant::now()
        .checked_sub(elapsed)
        .unwrap_or_else(Instant::now);
    let looked = look(
        ports.cloud,
        &alarms,
        plan.alarms.fail_if_unreadable,
        &queries,
        context.stop_at,
        &mut progress.gates,
    )
    .await;
    progress.looks = progress.looks.saturating_add(1);
    let result = |result: CheckResult| {
        stages::log_check(&result);
        done(plan, Verdict::from_checks(hook, vec![result]))
    };
    if let Some(reason) = looked.failure(elapsed, bake.duration) {
        return result(finish(
            BAKE,
            started,
            progress.looks,
            looked.assertions,
            looked.error,
            Some(reason),
        ));
    }
    if elapsed >= bake.duration {
        let baked = without_data(
            bake,
            &queries,
            &progress.gates,
            progress.looks,
            started,
            looked.assertions,
        );
        let warnings = baked.warnings.clone();
        stages::log_check(&baked.result);
        return done(
            plan,
            Verdict::from_checks(hook, vec![baked.result]).with_warnings(warnings),
        );
    }
    let left = bake.duration - elapsed;
    RoundOutcome::Again {
        why: format!(
            "baking: look {} passed, {} ms of {} ms left",
            progress.looks,
            left.as_millis(),
            bake.duration.as_millis()
        ),
        state: RoundState {
            bake: Some(progress),
            ..state
        },
        after: bake.interval.min(left),
    }
}

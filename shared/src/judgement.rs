//! The judgement: one plan, one context, the ports; out comes a verdict.
//!
//! The stages run in this order, each in `stages` and each announced to
//! the [`Progress`] port:
//!
//! discover → ready → aim → checks → alarms → bake
//!
//! - **discover** reads the deployment from AWS (when the plan needs it and
//!   green is a deployment) and verifies the hook's lifecycle event;
//! - **ready** waits for green's task set and targets;
//! - **aim** finds where the checks go (the URL given, the spec's, or the
//!   discovered listener's; pinned to an address if `target.host` says so);
//! - **checks** runs the HTTP checks;
//! - **alarms** looks at the CloudWatch alarms once;
//! - **bake** (AfterAllowTraffic) watches alarms and metrics for a while.
//!
//! A stage that cannot go on ends the judgement with a [`StageFailure`]; a
//! stage that ran adds its result to the verdict. The verdict comes back
//! redacted with the plan's redactor.

use std::time::Duration;

use reqwest::Url;
use tokio::time::Instant;

use crate::cloud::Cloud;
use crate::hook::Hook;
use crate::plan::Plan;
use crate::probe::HttpProbe;
use crate::progress::Progress;
use crate::stage::Stage;
use crate::verdict::Verdict;

mod aim;
mod rounds;
#[cfg(test)]
mod rounds_tests;
mod stages;
#[cfg(test)]
mod tests;

pub use aim::{AimError, DNS_TIMEOUT};
pub use rounds::{BakeProgress, RoundOutcome, RoundState, bake_ends_ms, judge_round, longest_wait};
pub use stages::StageFailure;

/// What a judgement is about: which hook's checks, where green is, and when
/// the judgement must be over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The hook whose checks and gates run.
    pub hook: Hook,
    /// Where green is, or how to find it.
    pub green: Green,
    /// When every stage must be over; the caller keeps its own time (the
    /// report, say) after it.
    pub stop_at: Instant,
    /// How long this judgement already ran in earlier rounds (zero when it
    /// runs in one go): the readiness wait counts from its start.
    pub earlier: Duration,
}

/// Where green is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Green {
    /// At this URL, which wins over the spec's `target.url`. Nothing is
    /// discovered: the stages that need a deployment (readiness, the
    /// deployment group's alarms) fail, saying so.
    Url(Url),
    /// Behind this CodeDeploy deployment, which discovery reads (when the
    /// plan needs it).
    Deployment {
        /// The deployment's ID (`d-…`).
        id: String,
    },
    /// Behind this ECS-native blue/green service deployment, which
    /// discovery reads (when the plan needs it).
    ServiceDeployment {
        /// The service deployment's ARN.
        arn: String,
    },
}

/// The ports a judgement uses.
#[derive(Debug)]
pub struct Ports<'a, P, C, G> {
    /// Where the HTTP checks go.
    pub http: &'a P,
    /// The AWS reads.
    pub cloud: &'a C,
    /// Who hears which stage runs.
    pub progress: &'a G,
}

impl<P, C, G> Clone for Ports<'_, P, C, G> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, C, G> Copy for Ports<'_, P, C, G> {}

/// Judges green for `context.hook` with `plan`, by `context.stop_at`, and
/// returns the verdict, redacted.
pub async fn judge<P: HttpProbe, C: Cloud, G: Progress>(
    plan: &Plan,
    context: &Context,
    ports: Ports<'_, P, C, G>,
) -> Verdict {
    let hook = context.hook;
    let verdict = match run(plan, context, ports, BakeNow::Yes).await {
        Ok(verdict) => verdict,
        Err(failure) => Verdict::failed(hook, failure.to_string()),
    };
    verdict.redacted(&plan.redactor)
}

/// Whether the bake is watched in this judgement, or left to later rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BakeNow {
    /// Watched now, for its whole duration.
    Yes,
    /// Left to the rounds after this one: only what would keep it from
    /// running at all (an earlier failure, no time left, nothing to watch)
    /// is judged now, as [`judge`] judges it.
    Later,
}

/// [`judge`] up to the bake: the first round of a judgement in rounds.
async fn judge_before_bake<P: HttpProbe, C: Cloud, G: Progress>(
    plan: &Plan,
    context: &Context,
    ports: Ports<'_, P, C, G>,
) -> Verdict {
    let verdict = match run(plan, context, ports, BakeNow::Later).await {
        Ok(verdict) => verdict,
        Err(failure) => Verdict::failed(context.hook, failure.to_string()),
    };
    verdict.redacted(&plan.redactor)
}

/// The stages, in order.
async fn run<P: HttpProbe, C: Cloud, G: Progress>(
    plan: &Plan,
    context: &Context,
    ports: Ports<'_, P, C, G>,
    bake_now: BakeNow,
) -> Result<Verdict, StageFailure> {
    let hook = context.hook;
    let checks = plan.checks_for(hook);
    if checks.is_empty() {
        return Ok(Verdict::from_checks(hook, Vec::new()));
    }
    let deployment = stages::discover(plan, context, ports).await?;
    let deployment = deployment.as_ref();
    let mut results = Vec::new();
    if let Some(ready) = stages::ready(plan, context, deployment, ports).await {
        let passed = ready.passed();
        results.push(ready);
        if !passed {
            return Ok(Verdict::from_checks(hook, results));
        }
    }
    let aimed = stages::aim(plan, context, &checks, deployment, ports).await?;
    results.extend(stages::checks(plan, context, &aimed, ports).await);
    let mut last_ran = Stage::Checks;
    let alarms = stages::alarm_names(plan, deployment);
    if let Some(gate) = stages::alarms(plan, context, &alarms, &mut last_ran, ports).await {
        results.push(gate);
    }
    let mut warnings = Vec::new();
    if let Some(baked) = stages::bake(
        plan,
        context,
        &alarms,
        deployment,
        &results,
        (last_ran, bake_now),
        ports,
    )
    .await
    {
        warnings.extend(baked.warnings);
        results.push(baked.result);
    }
    Ok(Verdict::from_checks(hook, results).with_warnings(warnings))
}

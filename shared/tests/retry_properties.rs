//! Properties of the retry and deadline arithmetic: `RetryPolicy::after_attempt`
//! alone, a model of a check's attempts built on it, and the engine's own
//! `run_check` / `run_checks` (on a paused clock) held to that model.
//!
//! The policies are the ones the engine really runs: each is a `retry` object
//! of a spec that `Plan::from_json` accepted.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use greenlight::check::{CheckResult, Outcome, run_check};
use greenlight::engine::run_checks;
use greenlight::plan::{Check, Plan};
use greenlight::probe::{HttpProbe, ProbeError, ProbeRequest, ProbeResponse};
use greenlight::redaction::Redactor;
use greenlight::retry::{DEFAULT_ATTEMPTS, DEFAULT_INTERVAL, GiveUp, Next, RetryPolicy, Tally};
use proptest::prelude::*;
use serde_json::{Value, json};
use tokio::time::Instant;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---------------------------------------------------------------------------
// Policies, as the validator makes them
// ---------------------------------------------------------------------------

/// A spec with one check of `http://127.0.0.1:9/` wanting a 200, with this
/// `retry` object and per-request timeout.
fn spec(retry: &Value, timeout_ms: u64) -> String {
    json!({
        "target": {"url": "http://127.0.0.1:9"},
        "checks": [{
            "name": "probe",
            "timeout_ms": timeout_ms,
            "retry": retry,
            "assert": [{"status": 200}]
        }]
    })
    .to_string()
}

/// The check of `spec(retry, timeout_ms)`, if the spec is valid.
fn validated_check(retry: &Value, timeout_ms: u64) -> Option<Check> {
    Plan::from_json(&spec(retry, timeout_ms))
        .ok()
        .map(|mut plan| plan.checks.remove(0))
}

/// `retry` objects, mostly valid ones: attempts within 1..=`max_attempts`,
/// passes in a row up to the attempts, intervals and windows from 0 ms to
/// minutes, a window without attempts for "as many as fit".
fn retry_spec(max_attempts: u32) -> impl Strategy<Value = Value> {
    (
        prop::option::weighted(0.8, 1..=max_attempts),
        prop::option::weighted(
            0.9,
            prop_oneof![0..=50u64, 100..=3_000u64, 3_000..=300_000u64],
        ),
        prop::option::weighted(0.5, prop_oneof![1..=5_000u64, 5_000..=900_000u64]),
        prop::option::weighted(0.6, 0.0..=1.0f64),
    )
        .prop_map(move |(attempts, interval_ms, within_ms, passes)| {
            let mut retry = serde_json::Map::new();
            if let Some(n) = attempts {
                retry.insert("attempts".into(), json!(n));
            }
            if let Some(n) = interval_ms {
                retry.insert("interval_ms".into(), json!(n));
            }
            if let Some(n) = within_ms {
                retry.insert("within_ms".into(), json!(n));
            }
            if let Some(fraction) = passes {
                // Up to the attempts (or a few when they are unlimited).
                let most = attempts.unwrap_or(if within_ms.is_some() { 5 } else { 3 });
                let n = 1 + (fraction * f64::from(most - 1)).round() as u32;
                retry.insert("consecutive_passes".into(), json!(n));
            }
            Value::Object(retry)
        })
}

/// Policies that a spec validated into.
fn policy(max_attempts: u32) -> impl Strategy<Value = RetryPolicy> {
    retry_spec(max_attempts).prop_filter_map("rejected by the validator", |retry| {
        validated_check(&retry, 5_000).map(|check| check.retry)
    })
}

/// Any state a tally can be in for `policy` before an attempt: fewer attempts
/// than the maximum, and a streak short of the passes needed (else the check
/// would already have ended).
fn tally_for(policy: RetryPolicy) -> impl Strategy<Value = Tally> {
    let most = policy.attempts.unwrap_or(10_000);
    (0..most).prop_flat_map(move |attempts| {
        let streak_most = attempts.min(policy.consecutive_passes - 1);
        (0..=streak_most).prop_map(move |streak| Tally {
            attempts,
            streak,
            best: streak,
        })
    })
}

fn duration_ms(most: u64) -> impl Strategy<Value = Duration> {
    prop_oneof![0..=2_000u64, 0..=most].prop_map(ms)
}

/// One decision: a validated policy, a tally it can be in, the attempt's
/// outcome, the time since the first attempt and the time left.
fn decision() -> impl Strategy<Value = (RetryPolicy, Tally, bool, Duration, Duration)> {
    policy(40).prop_flat_map(|policy| {
        (
            Just(policy),
            tally_for(policy),
            any::<bool>(),
            duration_ms(1_000_000),
            duration_ms(1_000_000),
        )
    })
}

// ---------------------------------------------------------------------------
// A model of one check: attempts on a clock, as `run_check` makes them
// ---------------------------------------------------------------------------

/// What the service does on one attempt: answers after `latency_ms` with a
/// pass or a fail; an answer later than the request's timeout is a timeout.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    pass: bool,
    latency_ms: u64,
}

fn script() -> impl Strategy<Value = Vec<Attempt>> {
    prop::collection::vec(
        (
            prop::bool::weighted(0.6),
            prop_oneof![0..=20u64, 0..=10_000u64],
        )
            .prop_map(|(pass, latency_ms)| Attempt { pass, latency_ms }),
        1..12,
    )
}

/// The script's `i`th attempt; the last one repeats.
fn nth(script: &[Attempt], i: usize) -> Attempt {
    script[i.min(script.len() - 1)]
}

/// How a modelled check ended, and every decision on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    /// `None`: passed; else why it gave up.
    failed: Option<GiveUp>,
    attempts: u32,
    /// The reason the policy words for that end (see `RetryPolicy::reason`).
    reason: Option<String>,
    /// Time from the start to the end, in ms.
    elapsed_ms: u64,
    /// Each attempt: start (ms from the start), passed, and the time left
    /// and elapsed handed to the policy after it.
    trace: Vec<(u64, bool, u64, u64)>,
}

/// Runs a check with `policy`, per-request `timeout_ms` and `budget_ms` before
/// the stop time, the way `run_check` does: each attempt is cut at the timeout
/// and at the stop time (and then fails), then the policy decides.
fn model(policy: RetryPolicy, timeout_ms: u64, budget_ms: u64, script: &[Attempt]) -> Run {
    let mut tally = Tally::default();
    let mut now = 0u64;
    let mut trace = Vec::new();
    loop {
        let left = budget_ms.saturating_sub(now);
        if left == 0 {
            return Run {
                failed: Some(GiveUp::Deadline),
                attempts: tally.attempts,
                reason: Some(policy.reason(GiveUp::Deadline, &tally)),
                elapsed_ms: now,
                trace,
            };
        }
        let timeout = timeout_ms.min(left);
        let attempt = nth(script, tally.attempts as usize);
        let start = now;
        let passed = if attempt.latency_ms > timeout {
            now += timeout;
            false
        } else {
            now += attempt.latency_ms;
            attempt.pass
        };
        let left = budget_ms.saturating_sub(now);
        trace.push((start, passed, left, now));
        match policy.after_attempt(&mut tally, passed, ms(now), ms(left)) {
            Next::Pass => {
                return Run {
                    failed: None,
                    attempts: tally.attempts,
                    reason: None,
                    elapsed_ms: now,
                    trace,
                };
            }
            Next::GiveUp(why) => {
                return Run {
                    failed: Some(why),
                    attempts: tally.attempts,
                    reason: Some(policy.reason(why, &tally)),
                    elapsed_ms: now,
                    trace,
                };
            }
            Next::Retry => now += policy.interval.as_millis() as u64,
        }
        assert!(tally.attempts <= 20_000, "no end in sight: {policy:?}");
    }
}

fn model_case() -> impl Strategy<Value = (RetryPolicy, u64, u64, Vec<Attempt>)> {
    (
        policy(40),
        prop_oneof![1..=50u64, 1..=10_000u64],
        prop_oneof![0..=100u64, 0..=60_000u64, 0..=900_000u64],
        script(),
    )
}

// ---------------------------------------------------------------------------
// after_attempt, one decision at a time
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The validator only lets through what after_attempt's arithmetic
    /// assumes: a pass needs at least one passing attempt, never more passes
    /// in a row than attempts, and unlimited attempts only inside a window
    /// and never in a hot loop.
    #[test]
    fn validated_policies_are_bounded(retry in retry_spec(1_000)) {
        if let Some(check) = validated_check(&retry, 5_000) {
            let policy = check.retry;
            prop_assert!(policy.consecutive_passes >= 1);
            match policy.attempts {
                Some(attempts) => {
                    prop_assert!((1..=1_000).contains(&attempts));
                    prop_assert!(policy.consecutive_passes <= attempts);
                }
                None => {
                    prop_assert!(policy.within.is_some());
                    prop_assert!(policy.interval >= ms(100));
                }
            }
            prop_assert!(policy.interval <= ms(300_000));
            prop_assert!(policy.within.is_none_or(|w| w >= ms(1) && w <= ms(900_000)));
        }
    }

    /// One attempt is counted, and the streak is the passes in a row.
    #[test]
    fn an_attempt_is_counted_and_the_streak_follows_it(
        (policy, before, passed, elapsed, left) in decision()
    ) {
        let mut tally = before;
        policy.after_attempt(&mut tally, passed, elapsed, left);
        prop_assert_eq!(tally.attempts, before.attempts + 1);
        prop_assert_eq!(tally.streak, if passed { before.streak + 1 } else { 0 });
    }

    /// A pass exactly when the streak reaches the passes needed, whatever the
    /// limits: a failed attempt never passes, and a pass on the last attempt
    /// or past the window or deadline still counts.
    #[test]
    fn passes_exactly_when_the_streak_reaches_the_passes_needed(
        (policy, before, passed, elapsed, left) in decision()
    ) {
        let mut tally = before;
        let next = policy.after_attempt(&mut tally, passed, elapsed, left);
        prop_assert_eq!(
            next == Next::Pass,
            passed && before.streak + 1 >= policy.consecutive_passes
        );
    }

    /// Otherwise: the first limit hit, in the order attempts, window,
    /// deadline, gives the reason; with none hit, a retry.
    #[test]
    fn the_reason_names_the_limit_that_was_hit(
        (policy, before, passed, elapsed, left) in decision()
    ) {
        let mut tally = before;
        let next = policy.after_attempt(&mut tally, passed, elapsed, left);
        prop_assume!(next != Next::Pass);
        let needed = policy.consecutive_passes - tally.streak;
        let attempts_hit = policy
            .attempts
            .is_some_and(|max| max - tally.attempts < needed);
        let window_hit = policy
            .within
            .is_some_and(|window| elapsed + policy.interval >= window);
        let deadline_hit = policy.interval >= left;
        let expected = if attempts_hit {
            Next::GiveUp(GiveUp::Attempts)
        } else if window_hit {
            Next::GiveUp(GiveUp::Window)
        } else if deadline_hit {
            Next::GiveUp(GiveUp::Deadline)
        } else {
            Next::Retry
        };
        prop_assert_eq!(next, expected);
    }

    /// A retry is scheduled only if the next attempt starts inside the window
    /// and before the deadline, and the passes still needed fit in the
    /// attempts left.
    #[test]
    fn a_retry_fits_every_limit(
        (policy, before, passed, elapsed, left) in decision()
    ) {
        let mut tally = before;
        if policy.after_attempt(&mut tally, passed, elapsed, left) == Next::Retry {
            prop_assert!(policy.interval < left);
            if let Some(window) = policy.within {
                prop_assert!(elapsed + policy.interval < window);
            }
            if let Some(max) = policy.attempts {
                prop_assert!(tally.attempts < max);
                prop_assert!(max - tally.attempts >= policy.consecutive_passes - tally.streak);
            }
        }
    }

    /// Giving up on attempts is neither early nor late: after it, even all
    /// passes could not make it; after a retry, all passes (and time enough)
    /// do make it within the attempts.
    #[test]
    fn giving_up_on_attempts_is_exact(
        (policy, before, passed, elapsed, left) in decision()
    ) {
        let mut tally = before;
        let next = policy.after_attempt(&mut tally, passed, elapsed, left);
        prop_assume!(matches!(next, Next::Retry | Next::GiveUp(GiveUp::Attempts)));
        let timeless = RetryPolicy { within: None, ..policy };
        let mut future = tally;
        let mut outcome = Next::Retry;
        while outcome == Next::Retry {
            outcome = timeless.after_attempt(&mut future, true, Duration::ZERO, Duration::MAX);
        }
        if next == Next::Retry {
            prop_assert_eq!(outcome, Next::Pass);
            prop_assert!(policy.attempts.is_none_or(|max| future.attempts <= max));
        } else {
            let max = policy.attempts.expect("gave up on attempts");
            prop_assert!(max - tally.attempts < policy.consecutive_passes - tally.streak);
        }
    }

    /// More time left never turns a retry into giving up, and less time
    /// never turns giving up on the deadline into a retry.
    #[test]
    fn more_time_left_never_gives_up_sooner(
        (policy, before, passed, elapsed, left) in decision(),
        more in duration_ms(1_000_000),
    ) {
        let decide = |left: Duration| policy.after_attempt(&mut before.clone(), passed, elapsed, left);
        let here = decide(left);
        let later = decide(left + more);
        if here == Next::Retry {
            prop_assert_eq!(later, Next::Retry);
        }
        if later == Next::GiveUp(GiveUp::Deadline) {
            prop_assert_eq!(here, Next::GiveUp(GiveUp::Deadline));
        }
    }

    /// Less time elapsed never turns a retry into giving up.
    #[test]
    fn less_time_elapsed_never_gives_up_sooner(
        (policy, before, passed, elapsed, left) in decision(),
        earlier in duration_ms(1_000_000),
    ) {
        let decide =
            |elapsed: Duration| policy.after_attempt(&mut before.clone(), passed, elapsed, left);
        if decide(elapsed) == Next::Retry {
            prop_assert_eq!(decide(elapsed.saturating_sub(earlier)), Next::Retry);
        }
    }

    /// The verdict's words name the limit and the attempts made.
    #[test]
    fn the_words_name_the_limit_and_the_attempts(attempts in 0u32..=10_000) {
        let words = [GiveUp::Attempts, GiveUp::Window, GiveUp::Deadline]
            .map(|why| why.describe(attempts));
        for text in &words {
            prop_assert!(text.contains(&format!("{attempts} attempt(s)")), "{}", text);
        }
        prop_assert!(words[1].contains("window"));
        prop_assert!(words[2].contains("deadline"));
        prop_assert!(words[0] != words[1] && words[1] != words[2] && words[0] != words[2]);
    }
}

// ---------------------------------------------------------------------------
// Whole checks, in the model
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A check ends, within its attempts, and never runs past the stop time.
    #[test]
    fn a_check_ends_within_its_attempts_and_the_deadline(
        (policy, timeout_ms, budget_ms, script) in model_case()
    ) {
        let run = model(policy, timeout_ms, budget_ms, &script);
        if let Some(max) = policy.attempts {
            prop_assert!(run.attempts <= max);
        }
        prop_assert_eq!(run.attempts as usize, run.trace.len());
        prop_assert!(run.elapsed_ms <= budget_ms);
        // Every attempt starts before the stop time and, with a window,
        // inside it.
        for &(start, ..) in &run.trace {
            prop_assert!(start < budget_ms);
            if let Some(window) = policy.within {
                prop_assert!(u128::from(start) < window.as_millis());
            }
        }
        // Attempts are at least the interval apart.
        for pair in run.trace.windows(2) {
            let (end_of_first, start_of_next) = (pair[0].3, pair[1].0);
            prop_assert_eq!(start_of_next - end_of_first, policy.interval.as_millis() as u64);
        }
    }

    /// A check passes only on `consecutive_passes` passing attempts in a row,
    /// and at the first such attempt; a failed check never had them.
    #[test]
    fn a_check_passes_on_the_passes_in_a_row_and_no_sooner(
        (policy, timeout_ms, budget_ms, script) in model_case()
    ) {
        let run = model(policy, timeout_ms, budget_ms, &script);
        let needed = policy.consecutive_passes as usize;
        let passes: Vec<bool> = run.trace.iter().map(|&(_, passed, ..)| passed).collect();
        let first_streak = passes
            .windows(needed)
            .position(|w| w.iter().all(|&p| p))
            .map(|i| i + needed);
        match run.failed {
            None => prop_assert_eq!(first_streak, Some(passes.len())),
            Some(_) => prop_assert_eq!(first_streak, None),
        }
    }

    /// The reason a check gave up is the limit that really ended it.
    #[test]
    fn a_failed_check_gives_the_limit_that_ended_it(
        (policy, timeout_ms, budget_ms, script) in model_case()
    ) {
        let run = model(policy, timeout_ms, budget_ms, &script);
        let Some(why) = run.failed else { return Ok(()) };
        let interval = policy.interval.as_millis() as u64;
        match run.trace.last() {
            None => {
                prop_assert_eq!(why, GiveUp::Deadline);
                prop_assert_eq!(budget_ms, 0);
            }
            Some(&(_, _, left, elapsed)) => match why {
                GiveUp::Attempts => prop_assert!(policy.attempts.is_some()),
                GiveUp::Window => {
                    let window = policy.within.expect("a window").as_millis() as u64;
                    prop_assert!(elapsed + interval >= window);
                }
                GiveUp::Deadline => prop_assert!(interval >= left),
            },
        }
    }

    /// More passing attempts never turn a passing check into a failing one.
    #[test]
    fn more_passes_never_fail_a_passing_check(
        (policy, timeout_ms, budget_ms, script) in model_case(),
        flip in any::<prop::sample::Index>(),
    ) {
        let run = model(policy, timeout_ms, budget_ms, &script);
        let mut better = script.clone();
        better[flip.index(script.len())].pass = true;
        let better_run = model(policy, timeout_ms, budget_ms, &better);
        if run.failed.is_none() {
            prop_assert_eq!(better_run.failed, None);
            prop_assert!(better_run.attempts <= run.attempts);
        }
    }

    /// More time before the deadline never turns a passing check into a
    /// failing one.
    #[test]
    fn more_time_never_fails_a_passing_check(
        (policy, timeout_ms, budget_ms, script) in model_case(),
        more in 0..=600_000u64,
    ) {
        let run = model(policy, timeout_ms, budget_ms, &script);
        let longer = model(policy, timeout_ms, budget_ms + more, &script);
        if run.failed.is_none() {
            prop_assert_eq!(longer.failed, None);
            prop_assert!(longer.attempts <= run.attempts);
        }
    }
}

// ---------------------------------------------------------------------------
// The engine held to the model, on a paused clock
// ---------------------------------------------------------------------------

/// A service that follows a script, honouring the request's timeout as the
/// real probe does: each request, the next scripted attempt.
#[derive(Debug)]
struct ScriptedProbe {
    script: Vec<Attempt>,
    sent: AtomicUsize,
    timeouts: Mutex<Vec<Duration>>,
}

impl ScriptedProbe {
    fn new(script: Vec<Attempt>) -> Self {
        ScriptedProbe {
            script,
            sent: AtomicUsize::new(0),
            timeouts: Mutex::new(Vec::new()),
        }
    }
}

impl HttpProbe for ScriptedProbe {
    async fn send(
        &self,
        _request: &ProbeRequest,
        timeout: Duration,
    ) -> Result<ProbeResponse, ProbeError> {
        let attempt = nth(&self.script, self.sent.fetch_add(1, Ordering::SeqCst));
        self.timeouts.lock().expect("lock").push(timeout);
        let latency = ms(attempt.latency_ms);
        if latency > timeout {
            tokio::time::sleep(timeout).await;
            return Err(ProbeError::NoHeaders {
                within_ms: timeout.as_millis(),
            });
        }
        tokio::time::sleep(latency).await;
        Ok(ProbeResponse {
            status: if attempt.pass { 200 } else { 503 },
            headers: Default::default(),
            body: String::new(),
            truncated: false,
            duration: latency,
            certificate: None,
        })
    }

    fn pinned(&self, _: &str, _: &[std::net::SocketAddr]) -> Result<Self, String> {
        Err("not pinned".to_owned())
    }
}

fn paused<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime")
        .block_on(future)
}

/// What the model says `run_check` reports.
fn expected_result(run: &Run) -> (Outcome, Option<String>, u32, u64) {
    (
        if run.failed.is_none() {
            Outcome::Pass
        } else {
            Outcome::Fail
        },
        run.reason.clone(),
        run.attempts,
        run.elapsed_ms,
    )
}

fn reported(result: &CheckResult) -> (Outcome, Option<String>, u32, u64) {
    (
        result.outcome,
        result.reason.clone(),
        result.attempts,
        result.duration_ms,
    )
}

/// A check of the engine, with a validated policy of at most 40 attempts, a
/// time before the stop time, and what the service does.
fn engine_case() -> impl Strategy<Value = (Check, u64, Vec<Attempt>)> {
    (
        retry_spec(40),
        prop_oneof![1..=50u64, 1..=10_000u64],
        prop_oneof![0..=100u64, 0..=60_000u64, 0..=900_000u64],
        script(),
    )
        .prop_filter_map(
            "rejected by the validator",
            |(retry, timeout_ms, budget_ms, script)| {
                validated_check(&retry, timeout_ms).map(|check| (check, budget_ms, script))
            },
        )
}

/// Several checks of one plan, each of its own path, policy and timeout, and
/// what the service does on each path.
fn engine_checks() -> impl Strategy<Value = (Vec<Check>, Vec<Vec<Attempt>>)> {
    prop::collection::vec(
        (
            retry_spec(40),
            prop_oneof![1..=50u64, 1..=10_000u64],
            script(),
        ),
        1..5,
    )
    .prop_filter_map("rejected by the validator", |cases| {
        let checks: Vec<Value> = cases
            .iter()
            .enumerate()
            .map(|(i, (retry, timeout_ms, _))| {
                json!({
                    "name": format!("check-{i}"),
                    "path": format!("/check-{i}"),
                    "timeout_ms": timeout_ms,
                    "retry": retry,
                    "assert": [{"status": 200}]
                })
            })
            .collect();
        let spec = json!({"target": {"url": "http://127.0.0.1:9"}, "checks": checks});
        let plan = Plan::from_json(&spec.to_string()).ok()?;
        let scripts = cases.into_iter().map(|(.., script)| script).collect();
        Some((plan.checks, scripts))
    })
}

/// One probe for several checks: each request follows the script of the
/// check whose path it is for.
#[derive(Debug)]
struct ScriptedPaths(Vec<(String, ScriptedProbe)>);

impl HttpProbe for ScriptedPaths {
    async fn send(
        &self,
        request: &ProbeRequest,
        timeout: Duration,
    ) -> Result<ProbeResponse, ProbeError> {
        let (_, probe) = self
            .0
            .iter()
            .find(|(path, _)| path == request.url.path())
            .expect("a scripted path");
        probe.send(request, timeout).await
    }

    fn pinned(&self, _: &str, _: &[std::net::SocketAddr]) -> Result<Self, String> {
        Err("not pinned".to_owned())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `run_check` makes exactly the attempts of the model, at the same times,
    /// each request cut at the time left, and reports what the model says.
    #[test]
    fn run_check_follows_the_model((check, budget_ms, script) in engine_case()) {
        let timeout_ms = check.steps[0].timeout.as_millis() as u64;
        let run = model(check.retry, timeout_ms, budget_ms, &script);
        let probe = ScriptedProbe::new(script);
        let (result, took) = paused(async {
            let started = Instant::now();
            let stop_at = started + ms(budget_ms);
            let result = run_check(&check, &probe, stop_at, &Redactor::default()).await;
            (result, Instant::now() - started)
        });
        prop_assert_eq!(reported(&result), expected_result(&run));
        prop_assert_eq!(took, ms(run.elapsed_ms));
        prop_assert!(took <= ms(budget_ms));
        prop_assert_eq!(probe.sent.load(Ordering::SeqCst), run.attempts as usize);
        let timeouts = probe.timeouts.lock().expect("lock").clone();
        prop_assert_eq!(timeouts.len(), run.trace.len());
        for (timeout, &(start, ..)) in timeouts.iter().zip(&run.trace) {
            prop_assert_eq!(*timeout, ms(timeout_ms.min(budget_ms - start)));
        }
    }

    /// `run_checks` running several checks at once gives one result per
    /// check, in order, each what the model says, and is back by the stop
    /// time.
    #[test]
    fn run_checks_follow_the_model_and_the_stop_time(
        (checks, scripts) in engine_checks(),
        budget_ms in prop_oneof![0..=100u64, 0..=60_000u64, 0..=900_000u64],
    ) {
        let probe = ScriptedPaths(
            checks
                .iter()
                .zip(&scripts)
                .map(|(check, script)| (check.steps[0].path.render(&Default::default(), greenlight::plan::Escape::None), ScriptedProbe::new(script.clone())))
                .collect(),
        );
        let refs: Vec<&Check> = checks.iter().collect();
        let (results, took) = paused(async {
            let started = Instant::now();
            let stop_at = started + ms(budget_ms);
            let results = run_checks(&refs, &probe, 8, stop_at, &Redactor::default()).await;
            (results, Instant::now() - started)
        });
        prop_assert!(took <= ms(budget_ms));
        prop_assert_eq!(results.len(), checks.len());
        for ((result, check), script) in results.iter().zip(&checks).zip(&scripts) {
            prop_assert_eq!(&result.name, &check.name);
            let run = model(check.retry, check.steps[0].timeout.as_millis() as u64, budget_ms, script);
            prop_assert_eq!(reported(result), expected_result(&run));
        }
    }
}

/// The default policy: 3 attempts, 1 s apart, one pass.
#[test]
fn the_default_policy_is_three_attempts_a_second_apart() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.attempts, Some(DEFAULT_ATTEMPTS));
    assert_eq!(policy.interval, DEFAULT_INTERVAL);
    assert_eq!(policy.within, None);
    assert_eq!(policy.consecutive_passes, 1);
}

//! A short load probe, in the manner of Flagger's load tester but from the
//! hook itself: one check's request sent at a steady rate for a while, each
//! response judged by the check's assertions, the run judged by its latency
//! percentiles and its share of errors.
//!
//! Bounded whatever green does: requests go out on a fixed schedule, never
//! more than the rate in any one second (slots the hook itself sent late
//! are caught up at twice the rate at most, not in a burst), at most
//! [`MAX_IN_FLIGHT`] wait for an answer at once (a slot that finds them all
//! waiting is skipped: green did not keep up), the
//! latencies kept take at most 4 bytes per planned request, and the run ends
//! by the stop time, abandoning what is still in flight.

use std::collections::VecDeque;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::time::{Instant, sleep_until};

use crate::assertion::{Assertion, AssertionResult, Disclosure, Evaluated, shorten_text};
use crate::plan::LoadPlan;
use crate::probe::{HttpProbe, ProbeError, ProbeRequest};
use crate::redaction::Redactor;

/// Most requests waiting for an answer at once. A green that keeps more
/// waiting cannot keep up with the rate: the slots that find this many in
/// flight are skipped, and count as errors.
pub const MAX_IN_FLIGHT: usize = 32;
/// No request starts closer than this to the stop time: what is in flight
/// needs a moment to end, and the hook to report.
pub const STOP_MARGIN: Duration = Duration::from_millis(50);
/// Slots sent late (the hook's own process stalled: a busy CPU, a slow
/// connection set-up) are caught up at twice the rate at most: two requests
/// never go out closer than half a period, and never more than `rps` in any
/// one second. A stall of the hook is not green's error.
const CATCH_UP: u32 = 2;
/// Distinct error texts kept for the report: enough to say what went wrong,
/// bounded however many requests fail.
pub const KEPT_ERRORS: usize = 3;
/// Said of the requests abandoned, and the slots never reached, when the
/// stop time ends a run.
pub const CUT_BY_DEADLINE: &str = "cut by the deadline";

/// What a load run did: counts, latency percentiles and a few error texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadReport {
    /// Requests in the schedule: rps × duration.
    pub planned: u32,
    /// Requests started.
    pub sent: u32,
    /// Responses received, whether their assertions held or not.
    pub responses: u32,
    /// Failed requests (no response, a failed assertion, abandoned at the
    /// stop time) and skipped slots.
    pub errors: u32,
    /// Slots not sent because [`MAX_IN_FLIGHT`] requests were waiting, or
    /// because the schedule had already moved on to the next slot.
    pub skipped: u32,
    /// Median response time, if any response came.
    pub p50: Option<Duration>,
    /// 95th percentile (nearest rank).
    pub p95: Option<Duration>,
    /// 99th percentile (nearest rank).
    pub p99: Option<Duration>,
    /// From the first slot to the end of the run.
    pub elapsed: Duration,
    /// The first [`KEPT_ERRORS`] distinct errors, redacted and cut short;
    /// then, when the stop time cut the run, what it cut.
    pub error_texts: Vec<String>,
}

impl LoadReport {
    /// Slots never reached: the stop time came first.
    pub fn unsent(&self) -> u32 {
        self.planned
            .saturating_sub(self.sent)
            .saturating_sub(self.skipped)
    }

    /// Slots that were due: those sent and those skipped, the denominator of
    /// the error rate.
    fn due(&self) -> u32 {
        self.sent.saturating_add(self.skipped)
    }

    /// One result per bound of `plan`, and one for the count, which fails
    /// when fewer requests than planned were sent.
    pub fn judge(&self, plan: &LoadPlan) -> Vec<AssertionResult> {
        let mut results = Vec::new();
        for (name, bound, found) in [
            ("p50", plan.p50, self.p50),
            ("p95", plan.p95, self.p95),
            ("p99", plan.p99, self.p99),
        ] {
            let Some(bound) = bound else { continue };
            results.push(AssertionResult {
                passed: found.is_some_and(|found| found <= bound),
                expected: format!("{name} <= {}", ms(bound)),
                actual: found.map_or_else(|| "no response".to_owned(), ms),
            });
        }
        if let Some(bound) = plan.error_rate_at_most {
            let due = self.due();
            results.push(AssertionResult {
                passed: due > 0 && f64::from(self.errors) <= bound * f64::from(due) + 1e-9,
                expected: format!("error rate <= {}%", round(bound * 100.0)),
                actual: if due == 0 {
                    "no request sent".to_owned()
                } else {
                    format!("{:.1}% ({} of {due})", self.error_percent(), self.errors)
                },
            });
        }
        // Every figure, whichever bound failed.
        let actual = self.summary();
        results.push(AssertionResult {
            passed: self.sent >= self.planned,
            expected: format!("{} requests at {} rps", self.planned, plan.rps),
            actual,
        });
        results
    }

    /// One line for logs:
    /// `1000 requests in 10.0 s (100.0 rps): p50 51 ms, p95 55 ms, p99 61 ms, errors 0 (0.0%)`.
    pub fn summary(&self) -> String {
        let secs = self.elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            f64::from(self.sent) / secs
        } else {
            0.0
        };
        let percentile = |found: Option<Duration>| found.map_or_else(|| "-".to_owned(), ms);
        let mut line = format!(
            "{} requests in {} ({rate:.1} rps): p50 {}, p95 {}, p99 {}, errors {} ({:.1}%)",
            self.sent,
            seconds(self.elapsed),
            percentile(self.p50),
            percentile(self.p95),
            percentile(self.p99),
            self.errors,
            self.error_percent(),
        );
        if self.skipped > 0 {
            line.push_str(&format!(", {} skipped", self.skipped));
        }
        if self.unsent() > 0 {
            line.push_str(&format!(", {} not sent ({CUT_BY_DEADLINE})", self.unsent()));
        }
        line
    }

    fn error_percent(&self) -> f64 {
        match self.due() {
            0 => 0.0,
            due => 100.0 * f64::from(self.errors) / f64::from(due),
        }
    }
}

/// Sends `request` on `plan`'s schedule until its duration ends or the stop
/// time nears, judging each response by `assertions`. Each request may take
/// `timeout`, and never past `stop_at`; the run ends by `stop_at` whatever
/// green does.
pub async fn run_load<P: HttpProbe>(
    request: &ProbeRequest,
    assertions: &[Assertion],
    disclosure: &Disclosure,
    plan: &LoadPlan,
    timeout: Duration,
    probe: &P,
    stop_at: Instant,
) -> LoadReport {
    let start = Instant::now();
    let rps = plan.rps.clamp(1, LoadPlan::MAX_RPS);
    let planned = plan.requests().min(LoadPlan::MAX_REQUESTS);
    let slot_at = |slot: u32| start + offset(slot, rps);
    let period = offset(1, rps);
    let min_gap = period / CATCH_UP;
    let last_start = stop_at.checked_sub(STOP_MARGIN).unwrap_or(start);
    let mut tally = Tally::new(planned, disclosure.redactor.clone());
    let mut in_flight = FuturesUnordered::new();
    // The last `rps` send times: the one `rps` sends ago must be a second old.
    let mut window: VecDeque<Instant> = VecDeque::with_capacity(rps as usize);
    let mut slot = 0;
    while slot < planned {
        let mut wake = slot_at(slot);
        if let Some(last) = window.back() {
            wake = wake.max(*last + min_gap);
        }
        if window.len() >= rps as usize
            && let Some(oldest) = window.front()
        {
            wake = wake.max(*oldest + Duration::from_secs(1));
        }
        if wake >= last_start {
            break;
        }
        tokio::select! {
            biased;
            Some(ended) = in_flight.next() => tally.record(ended),
            () = sleep_until(wake) => {
                let now = Instant::now();
                if in_flight.len() >= MAX_IN_FLIGHT {
                    tally.skip(|| {
                        format!("skipped: {MAX_IN_FLIGHT} requests still waiting for green")
                    });
                } else {
                    let left = stop_at.saturating_duration_since(now);
                    let timeout = timeout.min(left);
                    in_flight.push(one(request, assertions, disclosure, probe, timeout));
                    tally.sent += 1;
                }
                if window.len() >= rps as usize {
                    window.pop_front();
                }
                window.push_back(now);
                slot += 1;
            }
        }
    }
    let deadline = sleep_until(stop_at);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            biased;
            ended = in_flight.next() => match ended {
                Some(ended) => tally.record(ended),
                None => break,
            },
            () = &mut deadline => break,
        }
    }
    let abandoned = u32::try_from(in_flight.len()).unwrap_or(u32::MAX);
    // Dropping them cancels them: nothing outlives the run.
    drop(in_flight);
    tally.finish(abandoned, planned - slot.min(planned), start.elapsed())
}

/// When slot `slot` is due, from the start: `slot / rps` seconds.
fn offset(slot: u32, rps: u32) -> Duration {
    let nanos = u128::from(slot) * 1_000_000_000 / u128::from(rps.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// How one request ended.
enum Ended {
    /// A response every assertion held for, and its duration.
    Passed(Duration),
    /// A response, and the assertions it failed.
    Failed(Duration, Vec<AssertionResult>),
    /// No response.
    NoResponse(ProbeError),
}

/// Sends one request and judges its response on the spot: the evaluator is
/// synchronous, and the response is dropped as soon as it is judged.
async fn one<P: HttpProbe>(
    request: &ProbeRequest,
    assertions: &[Assertion],
    disclosure: &Disclosure,
    probe: &P,
    timeout: Duration,
) -> Ended {
    match probe.send(request, timeout).await {
        Err(error) => Ended::NoResponse(error),
        Ok(response) => {
            let evaluated = Evaluated::disclosing(&response, disclosure.clone());
            let failed: Vec<AssertionResult> = assertions
                .iter()
                .map(|assertion| assertion.evaluate_on(&evaluated))
                .filter(|result| !result.passed)
                .collect();
            if failed.is_empty() {
                Ended::Passed(response.duration)
            } else {
                Ended::Failed(response.duration, failed)
            }
        }
    }
}

/// The counts so far, and the latencies in microseconds.
struct Tally {
    planned: u32,
    sent: u32,
    responses: u32,
    errors: u32,
    skipped: u32,
    /// Never longer than the plan's requests, at most
    /// [`LoadPlan::MAX_REQUESTS`]: allocated once, never grown.
    latencies_us: Vec<u32>,
    error_texts: Vec<String>,
    redactor: Redactor,
}

impl Tally {
    fn new(planned: u32, redactor: Redactor) -> Self {
        let capacity = usize::try_from(planned.min(LoadPlan::MAX_REQUESTS)).unwrap_or(0);
        Tally {
            planned,
            sent: 0,
            responses: 0,
            errors: 0,
            skipped: 0,
            latencies_us: Vec::with_capacity(capacity),
            error_texts: Vec::new(),
            redactor,
        }
    }

    fn record(&mut self, ended: Ended) {
        match ended {
            Ended::Passed(duration) => self.response(duration),
            Ended::Failed(duration, failed) => {
                self.response(duration);
                self.error(|| {
                    failed
                        .iter()
                        .map(|r| format!("expected {}, got {}", r.expected, r.actual))
                        .collect::<Vec<_>>()
                        .join("; ")
                });
            }
            Ended::NoResponse(error) => self.error(|| error.to_string()),
        }
    }

    fn response(&mut self, duration: Duration) {
        self.responses += 1;
        if self.latencies_us.len() < self.latencies_us.capacity() {
            self.latencies_us
                .push(u32::try_from(duration.as_micros()).unwrap_or(u32::MAX));
        }
    }

    fn skip(&mut self, why: impl FnOnce() -> String) {
        self.skipped += 1;
        self.error(why);
    }

    /// Counts an error; its text is made only while fewer than
    /// [`KEPT_ERRORS`] are kept.
    fn error(&mut self, text: impl FnOnce() -> String) {
        self.errors += 1;
        if self.error_texts.len() < KEPT_ERRORS {
            let text = shorten_text(&self.redactor.redact(&text()));
            if !self.error_texts.contains(&text) {
                self.error_texts.push(text);
            }
        }
    }

    fn finish(mut self, abandoned: u32, unsent: u32, elapsed: Duration) -> LoadReport {
        self.errors = self.errors.saturating_add(abandoned);
        if abandoned > 0 || unsent > 0 {
            self.error_texts.push(format!(
                "{CUT_BY_DEADLINE}: {abandoned} requests abandoned in flight, {unsent} not sent"
            ));
        }
        self.latencies_us.sort_unstable();
        LoadReport {
            planned: self.planned,
            sent: self.sent,
            responses: self.responses,
            errors: self.errors,
            skipped: self.skipped,
            p50: nearest_rank(&self.latencies_us, 50),
            p95: nearest_rank(&self.latencies_us, 95),
            p99: nearest_rank(&self.latencies_us, 99),
            elapsed,
            error_texts: self.error_texts,
        }
    }
}

/// The `percent`th percentile of sorted microseconds, by nearest rank: the
/// smallest value with at least `percent`% of the values at or below it.
fn nearest_rank(sorted_us: &[u32], percent: usize) -> Option<Duration> {
    let rank = (percent * sorted_us.len()).div_ceil(100).max(1);
    sorted_us
        .get(rank - 1)
        .map(|&us| Duration::from_micros(u64::from(us)))
}

/// `250 ms`, or `3.2 ms` below 10 ms.
fn ms(duration: Duration) -> String {
    let us = duration.as_micros();
    if us < 10_000 {
        format!("{:.1} ms", us as f64 / 1000.0)
    } else {
        format!("{} ms", (us + 500) / 1000)
    }
}

/// `10.0 s`.
fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

/// A percentage as written: `1`, `0.5`, never `7.000000000000001`.
fn round(percent: f64) -> f64 {
    (percent * 1000.0).round() / 1000.0
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;

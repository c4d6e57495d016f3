//! One attempt of a check: its steps in order (a flow shares captures and
//! a cookie jar between them), or the same request to green and to blue,
//! compared. Every step is bounded by its timeout and the stop time; the
//! attempt ends at the first step that fails, and says which, with what
//! was captured so far, secrets redacted.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::COOKIE;
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use crate::assertion::{AssertionResult, Disclosure, shorten_text};
use crate::check::Outcome;
use crate::compat::differences;
use crate::cookie_jar::CookieJar;
use crate::evaluation::evaluate;
use crate::load::run_load;
use crate::plan::{Check, CheckKind, Compare, LoadPlan, Step};
use crate::probe::{HttpProbe, ProbeRequest, ProbeResponse, secret_header};
use crate::redaction::{REDACTED, Redactor};
use crate::spec::{Colour, ListenerChoice};
use crate::time::millis;

/// What one step of a flow did, for the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    /// The step's name.
    pub name: String,
    /// The listener it went to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listener: Option<ListenerChoice>,
    /// Who answers there at this hook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub colour: Option<Colour>,
    /// Pass, fail, or not run (an earlier step failed).
    pub outcome: Outcome,
    /// The status it got, if a response came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// How long it took.
    pub duration_ms: u64,
}

impl StepReport {
    /// `"login" (production listener, blue)`.
    pub fn describe(&self) -> String {
        match (self.listener, self.colour) {
            (Some(listener), Some(colour)) => {
                format!("{:?} ({listener} listener, {colour})", self.name)
            }
            _ => format!("{:?}", self.name),
        }
    }
}

/// A captured value as the verdict shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapturedReport {
    /// Its name.
    pub name: String,
    /// Its value, or `<redacted>` when it is secret.
    pub value: String,
}

/// A flow's or a comparison's account of its last attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowReport {
    /// Each step, in order.
    pub steps: Vec<StepReport>,
    /// The step that failed, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<usize>,
    /// What was captured before the attempt ended.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub captured: Vec<CapturedReport>,
}

impl FlowReport {
    /// The failing step, described.
    pub fn failed(&self) -> Option<String> {
        let index = self.failed_step?;
        let step = self.steps.get(index)?;
        Some(format!("step {} {}", index + 1, step.describe()))
    }

    /// Every step on one line: `1 "log in" (production listener, blue):
    /// pass 200; 2 "me" (test listener, green): fail 401`.
    pub fn steps_line(&self) -> String {
        self.steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let status = step.status.map(|s| format!(" {s}")).unwrap_or_default();
                format!(
                    "{} {}: {}{status}",
                    i + 1,
                    step.describe(),
                    step.outcome.as_str()
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// `token=<redacted>, user=alice`.
    pub fn captured_line(&self) -> Option<String> {
        (!self.captured.is_empty()).then(|| {
            self.captured
                .iter()
                .map(|c| format!("{}={}", c.name, c.value))
                .collect::<Vec<_>>()
                .join(", ")
        })
    }
}

/// One attempt's outcome.
#[derive(Debug)]
pub struct Attempt {
    /// Whether every step passed.
    pub passed: bool,
    /// The assertions of the step that decided: the failing one, else the
    /// last.
    pub assertions: Vec<AssertionResult>,
    /// That step's transport error, if any.
    pub error: Option<String>,
    /// The steps, for a flow or a comparison (or a step naming its listener).
    pub flow: Option<FlowReport>,
    /// The spec's secrets and those captured: every text of the attempt
    /// was redacted with it.
    pub redactor: Redactor,
}

/// Why a step ended without a judged response.
enum Failure {
    /// No response (timeout, refused…), or no request could be made.
    Error(String),
    /// A response, judged.
    Judged(Vec<AssertionResult>),
}

/// Runs one attempt of `check`, each request bounded by its timeout and
/// `stop_at`.
pub async fn attempt<P: HttpProbe>(
    check: &Check,
    probe: &P,
    stop_at: Instant,
    redactor: &Redactor,
) -> Attempt {
    match &check.kind {
        CheckKind::Compare(compare) => compared(check, compare, probe, stop_at, redactor).await,
        CheckKind::Load(plan) => loaded(check, plan, probe, stop_at, redactor).await,
        CheckKind::Request | CheckKind::Flow => steps(check, probe, stop_at, redactor).await,
    }
}

/// The steps in order, until one fails.
async fn steps<P: HttpProbe>(
    check: &Check,
    probe: &P,
    stop_at: Instant,
    redactor: &Redactor,
) -> Attempt {
    let mut run = Run {
        jar: CookieJar::default(),
        values: BTreeMap::new(),
        captured: Vec::new(),
        redactor: redactor.clone(),
    };
    let mut reports: Vec<StepReport> = check.steps.iter().map(not_run).collect();
    let mut last = (Vec::new(), None);
    let mut failed_step = None;
    for (index, step) in check.steps.iter().enumerate() {
        let started = Instant::now();
        let (outcome, status) = run.step(step, probe, stop_at).await;
        reports[index].duration_ms = millis(started.elapsed());
        reports[index].status = status;
        match outcome {
            Ok(assertions) => {
                reports[index].outcome = Outcome::Pass;
                last = (assertions, None);
            }
            Err(failure) => {
                reports[index].outcome = Outcome::Fail;
                failed_step = Some(index);
                last = match failure {
                    Failure::Judged(assertions) => (assertions, None),
                    Failure::Error(error) => (not_judged(step, &run.redactor), Some(error)),
                };
                break;
            }
        }
    }
    let shows_steps =
        matches!(check.kind, CheckKind::Flow) || check.steps.iter().any(|s| s.listener.is_some());
    let flow = shows_steps.then(|| FlowReport {
        steps: reports,
        failed_step,
        captured: run.captured.clone(),
    });
    let (assertions, error) = last;
    Attempt {
        passed: failed_step.is_none(),
        assertions,
        error,
        flow,
        redactor: run.redactor,
    }
}

/// What a flow carries from step to step.
struct Run {
    jar: CookieJar,
    values: BTreeMap<String, String>,
    captured: Vec<CapturedReport>,
    redactor: Redactor,
}

impl Run {
    /// Sends `step`, takes its cookies and captures, and judges it.
    async fn step<P: HttpProbe>(
        &mut self,
        step: &Step,
        probe: &P,
        stop_at: Instant,
    ) -> (Result<Vec<AssertionResult>, Failure>, Option<u16>) {
        let mut request = match step.request_with(&self.values) {
            Ok(request) => request,
            Err(error) => {
                return (
                    Err(Failure::Error(self.redactor.redact(&error.to_string()))),
                    None,
                );
            }
        };
        let mut sends_cookies = false;
        if !request.headers.contains_key(COOKIE)
            && let Some(cookies) = self.jar.header_for(&request.url)
            && let Ok(value) = secret_header(&cookies)
        {
            request.headers.insert(COOKIE, value);
            sends_cookies = true;
        }
        let response = match send(probe, &request, step.timeout, stop_at, &self.redactor).await {
            Ok(response) => response,
            Err(message) => return (Err(Failure::Error(message)), None),
        };
        let status = Some(response.status);
        self.jar.store(&request.url, &response.headers);
        // Cookies are secret whether or not a step captures them.
        self.redactor = self.redactor.with(
            self.jar
                .values()
                .filter(|v| worth_redacting(v))
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        );
        let mut failed_captures = Vec::new();
        let mut json = None;
        for capture in &step.captures {
            match capture.take(&response, &self.jar, &mut json) {
                Ok(value) => {
                    if capture.secret && worth_redacting(&value) {
                        self.redactor = self.redactor.with([value.clone()]);
                    }
                    self.captured.retain(|c| c.name != capture.name);
                    self.captured.push(CapturedReport {
                        name: capture.name.clone(),
                        value: if capture.secret {
                            REDACTED.to_owned()
                        } else {
                            shorten_text(&self.redactor.redact(&value))
                        },
                    });
                    self.values.insert(capture.name.clone(), value);
                }
                Err(error) => failed_captures.push(AssertionResult {
                    passed: false,
                    expected: shorten_text(
                        &self
                            .redactor
                            .redact(&format!("capture {} from {}", capture.name, capture.source)),
                    ),
                    actual: error.to_string(),
                }),
            }
        }
        drop(json);
        let disclosure = Disclosure {
            redactor: self.redactor.clone(),
            sends_secrets: step.sends_secrets() || sends_cookies,
        };
        match judge(step, response, disclosure, stop_at).await {
            Ok(mut assertions) => {
                assertions.extend(failed_captures);
                let passed = assertions.iter().all(|a| a.passed);
                if passed {
                    (Ok(assertions), status)
                } else {
                    (Err(Failure::Judged(assertions)), status)
                }
            }
            Err(error) => (Err(Failure::Error(error)), status),
        }
    }
}

/// Secret values shorter than this are still shown as `<redacted>` where
/// they are captured, but not searched for in every text: a cookie `n=1`
/// would turn every `1` of a verdict into `<redacted>`, and a value that
/// short guards nothing.
pub const MIN_REDACTED_CHARS: usize = 4;

fn worth_redacting(value: &str) -> bool {
    value.chars().count() >= MIN_REDACTED_CHARS
}

/// Sends `request` within `timeout` and the stop time, or says why not: the
/// transport error, redacted, and whether the stop time cut it short.
async fn send<P: HttpProbe>(
    probe: &P,
    request: &ProbeRequest,
    timeout: Duration,
    stop_at: Instant,
    redactor: &Redactor,
) -> Result<ProbeResponse, String> {
    let left = stop_at.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err("not sent: the hook had to report".to_owned());
    }
    let bounded = timeout.min(left);
    probe.send(request, bounded).await.map_err(|error| {
        let mut message = redactor.redact(&error.to_string());
        if bounded < timeout {
            message.push_str(" (cut short by the hook's deadline)");
        }
        message
    })
}

/// The step's assertions on `response`.
async fn judge(
    step: &Step,
    response: ProbeResponse,
    disclosure: Disclosure,
    stop_at: Instant,
) -> Result<Vec<AssertionResult>, String> {
    evaluate(
        &step.assertions,
        response,
        disclosure,
        step.timeout,
        stop_at,
    )
    .await
    .map_err(|error| error.to_string())
}

/// The same request to green and to blue, at once; green's answer judged
/// by the check's assertions, then compared with blue's.
async fn compared<P: HttpProbe>(
    check: &Check,
    compare: &Compare,
    probe: &P,
    stop_at: Instant,
    redactor: &Redactor,
) -> Attempt {
    let mut reports: Vec<StepReport> = check.steps.iter().map(not_run).collect();
    let [green_step, blue_step] = check.steps.as_slice() else {
        return failed_attempt("a comparison needs green's and blue's request", redactor);
    };
    let send = async |step: &Step| {
        let started = Instant::now();
        let result = send(probe, &step.request, step.timeout, stop_at, redactor).await;
        (result, started.elapsed())
    };
    let ((green, green_took), (blue, blue_took)) =
        futures::join!(send(green_step), send(blue_step));
    for (report, (result, took)) in reports
        .iter_mut()
        .zip([(&green, green_took), (&blue, blue_took)])
    {
        report.duration_ms = millis(took);
        report.status = result.as_ref().ok().map(|r| r.status);
        report.outcome = if result.is_ok() {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
    }
    let (green, blue) = match (green, blue) {
        (Ok(green), Ok(blue)) => (green, blue),
        (Err(error), _) => return with_error(reports, 0, error, green_step, redactor),
        (_, Err(error)) => return with_error(reports, 1, error, blue_step, redactor),
    };
    let sameness = same_answers(compare, &blue, &green, green_step.sends_secrets());
    let disclosure = Disclosure {
        redactor: redactor.clone(),
        sends_secrets: green_step.sends_secrets(),
    };
    let (mut assertions, error) = match judge(green_step, green, disclosure, stop_at).await {
        Ok(assertions) => (assertions, None),
        Err(error) => (not_judged(green_step, redactor), Some(error)),
    };
    assertions.extend(sameness.into_iter().map(|mut a| {
        a.actual = shorten_text(&redactor.redact(&a.actual));
        a
    }));
    let passed = error.is_none() && assertions.iter().all(|a| a.passed);
    if !passed {
        reports[0].outcome = Outcome::Fail;
    }
    Attempt {
        passed,
        assertions,
        error,
        flow: Some(FlowReport {
            failed_step: (!passed).then_some(0),
            steps: reports,
            captured: Vec::new(),
        }),
        redactor: redactor.clone(),
    }
}

/// The request at the load plan's rate: the attempt's assertions are the
/// plan's bounds, each with the figure measured.
async fn loaded<P: HttpProbe>(
    check: &Check,
    plan: &LoadPlan,
    probe: &P,
    stop_at: Instant,
    redactor: &Redactor,
) -> Attempt {
    let Some(step) = check.steps.first() else {
        return failed_attempt("a load probe needs its request", redactor);
    };
    let disclosure = Disclosure {
        redactor: redactor.clone(),
        sends_secrets: step.sends_secrets(),
    };
    let report = run_load(
        &step.request,
        &step.assertions,
        &disclosure,
        plan,
        step.timeout,
        probe,
        stop_at,
    )
    .await;
    let assertions = report.judge(plan);
    Attempt {
        passed: assertions.iter().all(|a| a.passed),
        assertions,
        error: None,
        flow: None,
        redactor: redactor.clone(),
    }
}

/// The comparison's two assertions: the same status, and compatible JSON.
fn same_answers(
    compare: &Compare,
    blue: &ProbeResponse,
    green: &ProbeResponse,
    sends_secrets: bool,
) -> Vec<AssertionResult> {
    let mut results = vec![AssertionResult {
        passed: blue.status == green.status,
        expected: format!("status as blue's ({})", blue.status),
        actual: green.status.to_string(),
    }];
    let expected = "every field of blue's JSON in green's, with the same type".to_owned();
    let blue_json = serde_json::from_str::<Value>(&blue.body);
    let green_json = serde_json::from_str::<Value>(&green.body);
    let compat = match (blue_json, green_json) {
        // Blue answered no JSON: there is no field to keep.
        (Err(_), _) => return results,
        (Ok(_), Err(error)) => AssertionResult {
            passed: false,
            expected,
            actual: if sends_secrets {
                "green's body is not JSON".to_owned()
            } else {
                format!("green's body is not JSON ({error})")
            },
        },
        (Ok(blue), Ok(green)) => {
            let ignore: Vec<_> = compare.ignore.iter().map(|(_, p)| p.clone()).collect();
            let found = differences(&blue, &green, &ignore);
            let mut listed: Vec<String> = found.listed.iter().map(ToString::to_string).collect();
            if found.total > found.listed.len() {
                listed.push(format!("and {} more", found.total - found.listed.len()));
            }
            AssertionResult {
                passed: found.total == 0,
                expected,
                actual: if listed.is_empty() {
                    "compatible".to_owned()
                } else {
                    listed.join("; ")
                },
            }
        }
    };
    results.push(compat);
    results
}

fn with_error(
    mut reports: Vec<StepReport>,
    index: usize,
    error: String,
    step: &Step,
    redactor: &Redactor,
) -> Attempt {
    reports[index].outcome = Outcome::Fail;
    Attempt {
        passed: false,
        assertions: not_judged(step, redactor),
        error: Some(error),
        flow: Some(FlowReport {
            steps: reports,
            failed_step: Some(index),
            captured: Vec::new(),
        }),
        redactor: redactor.clone(),
    }
}

fn failed_attempt(why: &str, redactor: &Redactor) -> Attempt {
    Attempt {
        passed: false,
        assertions: Vec::new(),
        error: Some(why.to_owned()),
        flow: None,
        redactor: redactor.clone(),
    }
}

/// A step's report before it runs.
fn not_run(step: &Step) -> StepReport {
    StepReport {
        name: step.name.clone(),
        listener: step.route.map(|r| r.listener),
        colour: step.route.map(|r| r.colour),
        outcome: Outcome::Skipped,
        status: None,
        duration_ms: 0,
    }
}

/// Every assertion of `step`, failed, as not judged.
pub(crate) fn not_judged(step: &Step, redactor: &Redactor) -> Vec<AssertionResult> {
    step.assertions
        .iter()
        .map(|a| AssertionResult {
            passed: false,
            expected: shorten_text(&redactor.redact(&a.describe())),
            actual: "no response".to_owned(),
        })
        .collect()
}

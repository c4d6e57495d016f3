//! A fault-matrix row as data: what breaks (green's behaviour, an injected
//! AWS or CodeDeploy fault, the spec, the event, the Lambda environment), the
//! hook that meets it, and what the row expects — the status CodeDeploy was
//! told, the number of status calls, and the text an operator sees.
//! [`crate::scene`] runs a row; `docs/fault-matrix.md` is rendered from the
//! table of rows ([`crate::fault_doc`]).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::{Value, json};

use crate::codedeploy::Fault;
use crate::fixture::Setup;
use crate::green::Behaviour;
use crate::hook::{Build, Run};
use crate::raw::Script;
use crate::runtime_api::Answer;
use crate::scene::Scene;
use crate::world::World;

/// The part of the world a row breaks (the matrix's "Area" column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// The green task set, as the checks reach it.
    Green,
    /// `PutLifecycleEventHookExecutionStatus`.
    CodeDeploy,
    /// The AWS APIs of discovery, readiness and the gates, and the spec's
    /// stores.
    Aws,
    /// The Lambda function: deadline, environment, panics, redelivery.
    Lambda,
    /// The bake's judgement: rates, tolerance of noise, data required.
    Bake,
    /// The event CodeDeploy sends.
    Event,
    /// The check spec.
    Spec,
    /// Secrets a check sends, echoed back or misplaced.
    Secrets,
}

impl Area {
    /// As the matrix shows it.
    pub fn label(self) -> &'static str {
        match self {
            Area::Green => "green",
            Area::CodeDeploy => "CodeDeploy",
            Area::Aws => "AWS",
            Area::Lambda => "Lambda",
            Area::Bake => "bake",
            Area::Event => "event",
            Area::Spec => "spec",
            Area::Secrets => "secrets",
        }
    }
}

/// What CodeDeploy was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    /// It took this status (one accepted call), and the hook's answer to the
    /// Runtime API says so.
    Accepted(&'static str),
    /// It already had this execution's status: every call carried this
    /// status, was answered "already completed", and the hook answered as done.
    AlreadyCompleted(&'static str),
    /// It took this status from a process that then aborted (a build that
    /// aborts on panic): no answer to the Runtime API.
    Aborted(&'static str),
    /// Nothing was taken; the hook answered the Runtime API with an
    /// invocation error of this `errorType`.
    InvocationError(&'static str),
}

impl Told {
    /// As the matrix shows it.
    pub fn label(self) -> &'static str {
        match self {
            Told::Accepted(status) | Told::AlreadyCompleted(status) | Told::Aborted(status) => {
                status
            }
            Told::InvocationError(_) => "invocation error",
        }
    }
}

/// How many status calls CodeDeploy received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Calls {
    /// Exactly this many.
    Exactly(usize),
    /// This many or more (the count depends on retry timing).
    AtLeast(usize),
}

impl Calls {
    /// As the matrix shows it.
    pub fn label(self) -> String {
        match self {
            Calls::Exactly(n) => n.to_string(),
            Calls::AtLeast(n) => format!("≥ {n}"),
        }
    }
}

/// The green a row's checks reach.
#[derive(Debug, Clone, Copy)]
pub enum Green {
    /// A [`crate::green::GreenService`] behaving this way.
    Service(Behaviour),
    /// A [`crate::raw::RawGreen`] breaking below HTTP.
    Raw(Script),
    /// A [`crate::tls::TlsGreen`] with a certificate for `name` (expired
    /// in 2020 if `expired`).
    Tls {
        /// The certificate's name.
        name: &'static str,
        /// Whether it expired.
        expired: bool,
    },
    /// Nothing started: the checks go to this URL.
    Url(&'static str),
    /// A loopback port where nothing listens.
    Closed,
}

/// The spec a row runs. Strings in it may hold placeholders that the scene
/// fills in: `GREEN_URL`, `GREEN_PORT`, `GREEN_CA` (the TLS green's CA),
/// `OTHER_PORT` (a second, healthy green), `CLOSED_URL` (a closed port).
#[derive(Debug, Clone)]
pub enum Spec {
    /// One check named `health` on `GREEN_URL` ([`check_spec`]), with these
    /// fields, and the top-level object merged in (deep) on top.
    Check(Value, Value),
    /// This whole spec.
    Json(Value),
    /// This text, as it is (placeholders filled in).
    Text(&'static str),
    /// The deployment's own spec ([`World::spec`]), these top-level fields
    /// merged in.
    World(Value),
    /// No `GREENLIGHT_SPEC` at all.
    None,
}

/// A row's extra assertions, on the run and what the scene started.
pub type Also = fn(&Run, &Scene);

/// A future borrowing the world.
pub type StageFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// How a row sets up its AWS world (moto behind the front).
#[derive(Clone, Copy)]
pub struct Aws {
    /// What the deployment looks like.
    pub setup: fn(Setup) -> Setup,
    /// What the row changes in it before the hook runs (faults, states).
    pub stage: fn(&World),
    /// What the row puts in moto before the hook runs (a spec parameter,
    /// object…).
    pub put: Option<for<'a> fn(&'a World) -> StageFuture<'a>>,
}

impl std::fmt::Debug for Aws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Aws { .. }")
    }
}

/// One row of the fault matrix.
#[derive(Debug, Clone)]
pub struct Row {
    /// A stable name, unique in the table.
    pub id: &'static str,
    /// Where the fault is.
    pub area: Area,
    /// What breaks, for the reader of the matrix.
    pub fault: &'static str,
    /// The hook binary that meets it.
    pub hook: &'static str,
    /// The green its checks reach.
    pub green: Green,
    /// The spec.
    pub spec: Spec,
    /// More specs run the same way, each with the text it must show; every
    /// one must end as the row says.
    pub more_specs: Vec<(Spec, &'static str)>,
    /// Answers CodeDeploy gives first to the status calls.
    pub codedeploy: Vec<Fault>,
    /// An AWS world (moto, a staged ECS blue/green deployment) and its faults.
    pub aws: Option<Aws>,
    /// The function timeout; 10 s by default, 20 s with an AWS world.
    pub timeout: Option<Duration>,
    /// Environment set for the hook (placeholders filled in).
    pub env: Vec<(&'static str, &'static str)>,
    /// Environment removed.
    pub without_env: Vec<&'static str>,
    /// The event, instead of the hook's sample event.
    pub event: Option<Value>,
    /// Fields merged into the sample event.
    pub event_patch: Option<Value>,
    /// Which build of the hook.
    pub build: Build,
    /// How many times the event is delivered to the same process.
    pub deliveries: usize,
    /// How many times each hand-off of the hook to itself is delivered.
    pub hand_off_deliveries: usize,
    /// Secrets besides the canary that no output may hold.
    pub secrets: Vec<&'static str>,
    /// What CodeDeploy was told.
    pub told: Told,
    /// How many status calls it received.
    pub calls: Calls,
    /// Text of one log line (or the verdict's reasons) an operator sees.
    pub sees: &'static str,
    /// Further assertions, after the row's own.
    pub also: Option<Also>,
}

impl Row {
    /// A row of `area` named `id`, where `fault` breaks: by default
    /// after-allow-test-traffic, a healthy green, one `/health` check
    /// ([`ok_check`]), reporting `Failed` once.
    pub fn new(id: &'static str, area: Area, fault: &'static str) -> Self {
        Row {
            id,
            area,
            fault,
            hook: AFTER_ALLOW_TEST_TRAFFIC,
            green: Green::Service(Behaviour::Healthy),
            spec: Spec::Check(ok_check(), json!({})),
            more_specs: Vec::new(),
            codedeploy: Vec::new(),
            aws: None,
            timeout: None,
            env: Vec::new(),
            without_env: Vec::new(),
            event: None,
            event_patch: None,
            build: Build::Standard,
            deliveries: 1,
            hand_off_deliveries: 1,
            secrets: Vec::new(),
            told: Told::Accepted("Failed"),
            calls: Calls::Exactly(1),
            sees: "",
            also: None,
        }
    }

    /// Run by hook binary `hook`.
    pub fn hook(mut self, hook: &'static str) -> Self {
        self.hook = hook;
        self
    }

    /// Against this green.
    pub fn green(mut self, green: Green) -> Self {
        self.green = green;
        self
    }

    /// Against a [`crate::green::GreenService`] behaving so.
    pub fn behaviour(self, behaviour: Behaviour) -> Self {
        self.green(Green::Service(behaviour))
    }

    /// One check with these fields ([`check_spec`]).
    pub fn check(mut self, check: Value) -> Self {
        self.spec = Spec::Check(check, json!({}));
        self
    }

    /// Top-level fields merged (deep) into a one-check spec.
    pub fn patch(mut self, patch: Value) -> Self {
        if let Spec::Check(_, merged) = &mut self.spec {
            merge(merged, patch);
        } else {
            panic!("{}: patch() applies to a one-check spec", self.id);
        }
        self
    }

    /// This spec.
    pub fn spec(mut self, spec: Spec) -> Self {
        self.spec = spec;
        self
    }

    /// Also runs `spec`, which must end the same way, showing `sees`.
    pub fn and_spec(mut self, spec: Spec, sees: &'static str) -> Self {
        self.more_specs.push((spec, sees));
        self
    }

    /// CodeDeploy answers the first status calls with these faults.
    pub fn codedeploy(mut self, faults: Vec<Fault>) -> Self {
        self.codedeploy = faults;
        self
    }

    /// In an AWS world: a deployment set up by `setup`, changed by `stage`.
    pub fn aws(mut self, setup: fn(Setup) -> Setup, stage: fn(&World)) -> Self {
        self.aws = Some(Aws {
            setup,
            stage,
            put: None,
        });
        if matches!(self.spec, Spec::Check(..)) {
            self.spec = Spec::World(json!({}));
        }
        self
    }

    /// In an AWS world, with `put` storing something in moto first.
    pub fn aws_put(mut self, put: for<'a> fn(&'a World) -> StageFuture<'a>) -> Self {
        let mut aws = self.aws.unwrap_or(Aws {
            setup: |s| s,
            stage: |_| {},
            put: None,
        });
        aws.put = Some(put);
        self.aws = Some(aws);
        self
    }

    /// The function timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets `name` in the hook's environment.
    pub fn env(mut self, name: &'static str, value: &'static str) -> Self {
        self.env.push((name, value));
        self
    }

    /// Removes `name` from the hook's environment.
    pub fn without_env(mut self, name: &'static str) -> Self {
        self.without_env.push(name);
        self
    }

    /// This event instead of the sample.
    pub fn event(mut self, event: Value) -> Self {
        self.event = Some(event);
        self
    }

    /// These fields merged into the sample event.
    pub fn event_patch(mut self, patch: Value) -> Self {
        self.event_patch = Some(patch);
        self
    }

    /// This build of the hooks.
    pub fn build(mut self, build: Build) -> Self {
        self.build = build;
        self
    }

    /// The event delivered this many times.
    pub fn deliveries(mut self, deliveries: usize) -> Self {
        self.deliveries = deliveries;
        self
    }

    /// Each hand-off of the hook to itself delivered this many times.
    pub fn hand_off_deliveries(mut self, deliveries: usize) -> Self {
        self.hand_off_deliveries = deliveries;
        self
    }

    /// A secret, besides the canary, that no output may hold.
    pub fn secret(mut self, secret: &'static str) -> Self {
        self.secrets.push(secret);
        self
    }

    /// Expects `told`, with `calls` status calls, and a log line containing
    /// `sees`.
    pub fn expect(mut self, told: Told, calls: Calls, sees: &'static str) -> Self {
        self.told = told;
        self.calls = calls;
        self.sees = sees;
        self
    }

    /// Expects `Failed`, taken on the one status call, and `sees`.
    pub fn fails(self, sees: &'static str) -> Self {
        self.expect(Told::Accepted("Failed"), Calls::Exactly(1), sees)
    }

    /// Expects `Succeeded`, taken on the one status call, and `sees`.
    pub fn succeeds(self, sees: &'static str) -> Self {
        self.expect(Told::Accepted("Succeeded"), Calls::Exactly(1), sees)
    }

    /// Expects an invocation error of `error_type`, after `calls` status
    /// calls, and `sees`.
    pub fn invocation_error(
        self,
        error_type: &'static str,
        calls: Calls,
        sees: &'static str,
    ) -> Self {
        self.expect(Told::InvocationError(error_type), calls, sees)
    }

    /// Further assertions.
    pub fn also(mut self, also: Also) -> Self {
        self.also = Some(also);
        self
    }

    /// Asserts what the row expects of `run`, with `sees` the text for this
    /// spec.
    pub fn assert(&self, run: &Run, sees: &str) {
        let calls = run.calls.len();
        match self.calls {
            Calls::Exactly(n) => assert_eq!(
                calls,
                n,
                "status calls: {:?}\n{}",
                run.calls,
                run.log_text()
            ),
            Calls::AtLeast(n) => assert!(
                calls >= n,
                "status calls: {:?}\n{}",
                run.calls,
                run.log_text()
            ),
        }
        match self.told {
            Told::Accepted(status) => {
                assert_eq!(
                    run.accepted_statuses(),
                    vec![status.to_owned()],
                    "{}",
                    run.log_text()
                );
                // The answer that reported: the last, unless later
                // deliveries (a hand-off delivered twice) had nothing to do.
                let answer = std::iter::once(&run.answer)
                    .chain(run.earlier_answers.iter().rev())
                    .flatten()
                    .find(|a| matches!(a, Answer::Response(r) if r.get("reported").is_some()))
                    .or(run.answer.as_ref())
                    .expect("answered");
                assert_eq!(answer.response()["reported"], status, "{answer:?}");
            }
            Told::AlreadyCompleted(status) => {
                assert!(run.accepted_statuses().is_empty(), "{:?}", run.calls);
                assert!(
                    run.calls.iter().all(|c| c.status == status),
                    "{:?}",
                    run.calls
                );
                let answer = run.answer.as_ref().expect("answered");
                assert_eq!(answer.response()["delivery"], "already_completed");
            }
            Told::Aborted(status) => {
                assert_eq!(
                    run.accepted_statuses(),
                    vec![status.to_owned()],
                    "{}",
                    run.log_text()
                );
                assert!(run.exited_after.is_some(), "the process aborted");
                assert!(
                    run.answer.is_none(),
                    "an aborted process answers nothing: {:?}",
                    run.answer
                );
            }
            Told::InvocationError(error_type) => {
                assert!(
                    run.accepted_statuses().is_empty(),
                    "nothing may be accepted: {:?}",
                    run.calls
                );
                match &run.answer {
                    Some(Answer::Error(error)) => assert_eq!(
                        error["errorType"], error_type,
                        "the errorType the runtime posted: {error}"
                    ),
                    other => panic!(
                        "expected an invocation error, got {other:?}\n{}",
                        run.log_text()
                    ),
                }
            }
        }
        assert!(
            run.logs.iter().any(|line| line.contains(sees)),
            "no log line contains {sees:?}:\n{}",
            run.log_text()
        );
    }
}

/// The hook of the test listener.
pub const AFTER_ALLOW_TEST_TRAFFIC: &str = "after-allow-test-traffic";
/// The hook before production moves.
pub const BEFORE_ALLOW_TRAFFIC: &str = "before-allow-traffic";
/// The hook after production moved.
pub const AFTER_ALLOW_TRAFFIC: &str = "after-allow-traffic";

/// Merges `patch` into `value`: objects key by key, anything else replaced.
pub fn merge(value: &mut Value, patch: Value) {
    match (value, patch) {
        (Value::Object(value), Value::Object(patch)) => {
            for (key, patch) in patch {
                merge(value.entry(key).or_insert(Value::Null), patch);
            }
        }
        (value, patch) => *value = patch,
    }
}

/// A spec with one check on `url` + `path`, these assertions and retry.
pub fn spec_for(url: &str, path: &str, asserts: Value, retry: Value) -> String {
    check_spec(
        url,
        json!({"path": path, "assert": asserts, "retry": retry}),
    )
}

/// A spec with one check named `health` on `url`, built from `check`.
pub fn check_spec(url: &str, check: Value) -> String {
    check_spec_value(url, check).to_string()
}

/// [`check_spec`], as JSON.
pub fn check_spec_value(url: &str, check: Value) -> Value {
    let mut full = json!({"name": "health", "timeout_ms": 2000});
    merge(&mut full, check);
    json!({
        "target": {"url": url},
        "readiness": {"enabled": false},
        "alarms": {"deployment_group": false},
        "checks": [full]
    })
}

/// `status` 200 and `$.status` equal to `ok`.
pub fn ok_asserts() -> Value {
    json!([{"status": 200}, {"json": {"path": "$.status", "equals": "ok"}}])
}

/// One attempt.
pub fn once() -> Value {
    json!({"attempts": 1})
}

/// `/health` with [`ok_asserts`], once.
pub fn ok_check() -> Value {
    json!({"path": "/health", "assert": ok_asserts(), "retry": once()})
}

//! greenlight: the engine that judges a green ECS deployment: its spec, its
//! checks, its gates and its verdict, behind ports. It knows neither Lambda
//! nor the AWS SDK; front doors do.
//!
//! # Overview
//!
//! Data flows one way:
//!
//! ```text
//! spec (JSON) ─► Plan ─┐
//!                      ├─► judge(plan, context, ports) ─► Verdict ─► the front door's answer
//! Context ─────────────┘        │
//!                               └─ Ports: HttpProbe, Cloud, Progress
//! ```
//!
//! The principal types:
//!
//! * [`Plan`] is a validated spec ([`Plan::from_json`]): the target, the
//!   readiness wait, the alarm policy, the bake and the [`plan::Check`]s.
//!   A check is one or more [`plan::Step`]s, each a request (on the hook's
//!   own listener or the one it names, reaching green or, before
//!   AllowTraffic, blue), its [`assertion::Assertion`]s and its
//!   [`capture::Capture`]s; [`plan::CheckKind`] says what the check does
//!   with them: one request, a flow, a comparison of green with blue, or a
//!   load probe. Every problem of a
//!   spec is found at once, each with its path ([`plan::SpecError`]). The
//!   plan also holds the [`redaction::Redactor`] that knows every secret.
//! * [`Context`] says what a judgement is about: the [`Hook`] whose checks
//!   run, where green is ([`Green`]: a URL, a CodeDeploy deployment, or an
//!   ECS-native service deployment to discover) and the stop time.
//! * [`Ports`] are what the engine calls out to: [`probe::HttpProbe`]
//!   (HTTP; [`probe::ReqwestProbe`] is the adapter), [`cloud::Cloud`] (AWS
//!   reads; the adapters are in the `greenlight-aws` crate, and
//!   [`NoCloud`] answers when there is no AWS) and [`Progress`] (who hears
//!   which stage runs; [`Silent`] when nobody does).
//! * [`flow::attempt`] is one attempt of a check: its steps in order with
//!   their captures and a [`cookie_jar::CookieJar`] ([`compat`] compares
//!   blue's answer with green's; [`load`] paces a load probe). Secrets
//!   captured on the way join the redactor before anything is shown.
//! * [`judge`] runs the stages in order, discover → ready → aim → checks →
//!   alarms → bake ([`Stage`]); a stage that cannot go on ends it with a
//!   typed [`StageFailure`]. Everything that tries again (check retries,
//!   readiness polls, the bake's looks) runs in one deadline-bounded loop,
//!   [`attempts::until_done`].
//! * [`judge_round`] is the same judgement in rounds, for a caller that
//!   asks again instead of waiting (ECS lifecycle hooks): each round ends
//!   in a verdict, or in a [`RoundState`] to resume from (green not ready
//!   yet, a bake between two looks).
//! * [`Verdict`] is the value that comes back, redacted: a [`Status`], the
//!   [`check::CheckResult`] of each check and gate (expected, actual,
//!   attempts, duration), and the reasons. The front doors log it and turn
//!   it into their answer: a CodeDeploy status (`functions/`), a
//!   `hookStatus` for ECS (`ecs/`), an exit code and a JUnit file (`cli/`).
//!
//! [`Settings`] is one hook function's configuration (the plan, or why there
//! is none; dry run; the reporting margin), which a front door reads from
//! its environment.

pub mod assertion;
pub mod attempts;
pub mod capture;
pub mod carried;
pub mod check;
pub mod cloud;
pub mod compat;
pub mod cookie_jar;
pub mod discovery;
pub mod engine;
pub mod evaluation;
pub mod fault_injection;
pub mod flow;
pub mod gate;
pub mod hook;
pub mod json_kind;
pub mod json_path;
pub mod judgement;
pub mod lifecycle;
pub mod load;
pub mod mann_whitney;
pub mod no_cloud;
pub mod panic_message;
pub mod plan;
pub mod probe;
pub mod progress;
pub mod readiness;
pub mod redaction;
pub mod retry;
pub mod settings;
pub mod spec;
pub mod stage;
pub mod time;
pub mod verdict;

pub use hook::Hook;
pub use judgement::{
    BakeProgress, Context, Green, Ports, RoundOutcome, RoundState, StageFailure, bake_ends_ms,
    judge, judge_round, longest_wait,
};
pub use no_cloud::NoCloud;
pub use plan::Plan;
pub use progress::{Progress, Silent};
pub use settings::Settings;
pub use stage::Stage;
pub use verdict::{Status, Verdict};

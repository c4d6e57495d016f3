//! The event a CodeDeploy hook sends itself when its judgement outlasts one
//! Lambda run (a bake of 30 minutes, a long retry window): CodeDeploy waits
//! an hour for a lifecycle hook, a Lambda run ends at 15 minutes.
//!
//! It is CodeDeploy's event (the same two IDs, so that the last round can
//! report) with greenlight's state beside them, under [`KEY`]: the round
//! state the engine shares with the ECS hook ([`RoundState`]), the hand-off
//! number, the function it was sent to, and the time the chain must have
//! reported by. Every round checks it; one that is malformed, expired or for
//! another function is refused and the hook reports `Failed` (the IDs are
//! valid, so a report is owed, and doubt means `Failed`).

use std::time::Duration;

use greenlight::RoundState;
use greenlight::carried::{self, CarriedError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::event::HookEvent;

/// The key of greenlight's state in the event.
pub const KEY: &str = "greenlightContinuation";
/// The version of the state written now.
pub const VERSION: u32 = 1;
/// The largest state read back: what greenlight writes is a few hundred
/// bytes (one tally per metric gate, 50 gates at most).
pub const MAX_BYTES: usize = 8192;
/// How long CodeDeploy waits for a lifecycle hook's status.
pub const CODEDEPLOY_WAIT: Duration = Duration::from_secs(3600);
/// How long before CodeDeploy's hour the chain has reported: the hour is
/// counted from CodeDeploy's invocation, a little before the first round.
pub const HOUR_MARGIN: Duration = Duration::from_secs(300);

/// greenlight's part of a continuation event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Continuation {
    /// [`VERSION`].
    pub v: u32,
    /// The function ARN it was sent to: the one that sent it.
    pub function: String,
    /// Which hand-off this is: 1 for the first.
    pub hand_off: u32,
    /// When the chain must have reported (Unix epoch milliseconds).
    pub expires_ms: u64,
    /// The next round not before this (Unix epoch milliseconds).
    pub not_before_ms: u64,
    /// Where the judgement stands.
    pub state: RoundState,
}

/// Why a continuation is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ContinuationError {
    /// Too large to be greenlight's.
    #[error("event.{KEY}: {0} bytes, more than the {MAX_BYTES} greenlight ever writes")]
    TooLarge(usize),
    /// Not a state greenlight wrote.
    #[error("event.{KEY}: not a continuation greenlight wrote ({0})")]
    Malformed(String),
    /// Written by another version.
    #[error("event.{KEY}.v: version {0}, this function reads version {VERSION}")]
    Version(u64),
    /// Sent to another function (or copied from one).
    #[error("event.{KEY}.function: written for {theirs}, and this is {ours}")]
    Foreign {
        /// What the continuation says.
        theirs: String,
        /// The ARN this invocation was made with.
        ours: String,
    },
    /// Past its expiry: CodeDeploy's hour is nearly over.
    #[error(
        "event.{KEY}.expiresMs: the chain expired {0} ms ago (CodeDeploy's hour, less {margin} s)",
        margin = HOUR_MARGIN.as_secs()
    )]
    Expired(u64),
}

impl From<CarriedError> for ContinuationError {
    fn from(error: CarriedError) -> Self {
        match error {
            CarriedError::TooLarge(size) => ContinuationError::TooLarge(size),
            CarriedError::Version(v) => ContinuationError::Version(v),
            CarriedError::Malformed(why) => ContinuationError::Malformed(why),
        }
    }
}

impl Continuation {
    /// The continuation in `payload`, if it carries one, checked against the
    /// function ARN this invocation was made with and the time `now_ms`.
    pub fn read(
        payload: &Value,
        function: &str,
        now_ms: u64,
    ) -> Result<Option<Continuation>, ContinuationError> {
        let Some(value) = payload.get(KEY) else {
            return Ok(None);
        };
        let continuation: Continuation = carried::read(value, MAX_BYTES, VERSION)?;
        if continuation.function != function {
            return Err(ContinuationError::Foreign {
                theirs: continuation.function,
                ours: function.to_owned(),
            });
        }
        if now_ms >= continuation.expires_ms {
            return Err(ContinuationError::Expired(now_ms - continuation.expires_ms));
        }
        if continuation.state.since_ms > now_ms {
            return Err(ContinuationError::Malformed(
                "its state began in the future".to_owned(),
            ));
        }
        Ok(Some(continuation))
    }

    /// The event that hands this continuation to the next run: CodeDeploy's
    /// two IDs, and this under [`KEY`].
    pub fn event(&self, event: &HookEvent) -> Value {
        let mut object = Map::new();
        object.insert(
            "DeploymentId".to_owned(),
            event.deployment_id.clone().into(),
        );
        object.insert(
            "LifecycleEventHookExecutionId".to_owned(),
            event.execution_id.clone().into(),
        );
        object.insert(
            KEY.to_owned(),
            serde_json::to_value(self).unwrap_or(Value::Null),
        );
        Value::Object(object)
    }
}

/// The expiry of a chain whose first round began at `first_ms`.
pub fn expiry(first_ms: u64) -> u64 {
    let limit = CODEDEPLOY_WAIT.saturating_sub(HOUR_MARGIN);
    first_ms.saturating_add(u64::try_from(limit.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:hook";

    fn sample(now_ms: u64) -> Continuation {
        Continuation {
            v: VERSION,
            function: ARN.to_owned(),
            hand_off: 1,
            expires_ms: expiry(now_ms),
            not_before_ms: now_ms + 1000,
            state: RoundState {
                since_ms: now_ms,
                rounds: 1,
                bake: None,
            },
        }
    }

    fn hook_event() -> HookEvent {
        HookEvent {
            deployment_id: "d-1".to_owned(),
            execution_id: "x".to_owned(),
        }
    }

    #[test]
    fn reads_back_what_it_wrote() {
        // GIVEN a continuation event written at t
        let written = sample(1_000_000);
        let event = written.event(&hook_event());
        // WHEN the next run reads it a second later
        let read = Continuation::read(&event, ARN, 1_001_000);
        // THEN it is the same, and the IDs are CodeDeploy's
        assert_eq!(read, Ok(Some(written)));
        assert_eq!(HookEvent::parse(&event), Ok(hook_event()));
    }

    #[test]
    fn an_event_without_one_is_a_first_round() {
        let event = json!({"DeploymentId": "d-1", "LifecycleEventHookExecutionId": "x"});
        assert_eq!(Continuation::read(&event, ARN, 1), Ok(None));
    }

    #[test]
    fn the_chain_expires_five_minutes_before_codedeploy_s_hour() {
        assert_eq!(expiry(0), 55 * 60 * 1000);
    }

    #[test]
    fn refuses_what_it_did_not_write_naming_the_field() {
        let now = 1_000_000;
        let good = serde_json::to_value(sample(now)).expect("json");
        let with = |change: &dyn Fn(&mut Value)| {
            let mut state = good.clone();
            change(&mut state);
            json!({"DeploymentId": "d-1", "LifecycleEventHookExecutionId": "x", KEY: state})
        };
        let cases: Vec<(Value, &str)> = vec![
            (
                with(&|s| s["function"] = json!("arn:aws:lambda:us-east-1:1:function:other")),
                "event.greenlightContinuation.function: written for arn:aws:lambda:us-east-1:1:function:other, and this is arn:aws:lambda:us-east-1:123456789012:function:hook",
            ),
            (
                with(&|s| s["expiresMs"] = json!(now - 5)),
                "event.greenlightContinuation.expiresMs: the chain expired 5 ms ago (CodeDeploy's hour, less 300 s)",
            ),
            (
                with(&|s| s["v"] = json!(2)),
                "event.greenlightContinuation.v: version 2, this function reads version 1",
            ),
            (
                with(&|s| s["round"] = json!(3)),
                "event.greenlightContinuation: not a continuation greenlight wrote (unknown field `round`",
            ),
            (
                with(&|s| s["state"]["sinceMs"] = json!(1)),
                "event.greenlightContinuation: not a continuation greenlight wrote (unknown field `sinceMs`",
            ),
            (
                with(&|s| s["state"]["since_ms"] = json!(now + 60_000)),
                "event.greenlightContinuation: not a continuation greenlight wrote (its state began in the future)",
            ),
            (
                with(&|s| s["pad"] = json!("p".repeat(MAX_BYTES))),
                "event.greenlightContinuation: 8",
            ),
            (
                json!({"DeploymentId": "d-1", KEY: "yes"}),
                "event.greenlightContinuation: not a continuation greenlight wrote (no version number in its field v)",
            ),
        ];
        for (event, expected) in cases {
            let error = Continuation::read(&event, ARN, now).expect_err("refused");
            assert!(
                error.to_string().starts_with(expected),
                "{error} does not start with {expected}"
            );
        }
    }
}

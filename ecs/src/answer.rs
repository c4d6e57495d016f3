//! The answer ECS reads from a lifecycle hook: the function's own return
//! value, `{"hookStatus", "callBackDelay", "hookDetails"}`. Anything else,
//! or an invocation error, rolls the deployment back without a reason: so
//! every path ends in one of these.

use std::time::Duration;

use serde_json::{Map, Value, json};

/// What ECS does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookStatus {
    /// The deployment goes on to its next stage.
    Succeeded,
    /// The deployment rolls back.
    Failed,
    /// ECS invokes the hook again after `callBackDelay`.
    InProgress,
}

impl HookStatus {
    /// As ECS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            HookStatus::Succeeded => "SUCCEEDED",
            HookStatus::Failed => "FAILED",
            HookStatus::InProgress => "IN_PROGRESS",
        }
    }
}

/// One invocation's answer, with the reason that is logged beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// `hookStatus`.
    pub status: HookStatus,
    /// `callBackDelay`, with `IN_PROGRESS`.
    pub call_back_delay: Option<Duration>,
    /// `hookDetails`, with `IN_PROGRESS`: what the next invocation gets.
    pub hook_details: Option<Map<String, Value>>,
    /// Why, for the log (never sent: ECS reads only the three fields).
    pub reason: String,
}

impl Answer {
    /// `SUCCEEDED`, because of `reason`.
    pub fn succeeded(reason: impl Into<String>) -> Answer {
        Answer {
            status: HookStatus::Succeeded,
            call_back_delay: None,
            hook_details: None,
            reason: reason.into(),
        }
    }

    /// `FAILED`, because of `reason`.
    pub fn failed(reason: impl Into<String>) -> Answer {
        Answer {
            status: HookStatus::Failed,
            ..Answer::succeeded(reason)
        }
    }

    /// `IN_PROGRESS`: ask again after `after` with `details`.
    pub fn in_progress(after: Duration, details: Map<String, Value>, reason: String) -> Answer {
        Answer {
            status: HookStatus::InProgress,
            call_back_delay: Some(after),
            hook_details: Some(details),
            reason,
        }
    }

    /// The return value ECS reads. `callBackDelay` is whole seconds, at
    /// least one.
    pub fn to_json(&self) -> Value {
        let mut answer = json!({ "hookStatus": self.status.as_str() });
        if let Some(after) = self.call_back_delay {
            let seconds = after.as_millis().div_ceil(1000).max(1);
            answer["callBackDelay"] = json!(u64::try_from(seconds).unwrap_or(u64::MAX));
        }
        if let Some(details) = &self.hook_details {
            answer["hookDetails"] = Value::Object(details.clone());
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_fields_ecs_reads_are_sent() {
        assert_eq!(
            Answer::failed("bad").to_json(),
            json!({"hookStatus": "FAILED"})
        );
        let again = Answer::in_progress(Duration::from_millis(1500), Map::new(), "wait".into());
        assert_eq!(
            again.to_json(),
            json!({"hookStatus": "IN_PROGRESS", "callBackDelay": 2, "hookDetails": {}})
        );
        let soon = Answer::in_progress(Duration::ZERO, Map::new(), "now".into());
        assert_eq!(soon.to_json()["callBackDelay"], 1);
    }
}

//! The three ECS lifecycle events greenlight gates. Each binary knows its own:
//! the CodeDeploy event does not say which lifecycle event it belongs to.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An ECS blue/green lifecycle event that a greenlight hook answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Hook {
    /// The test listener routes to green; production is still on blue.
    AfterAllowTestTraffic,
    /// The last gate before production traffic moves to green.
    BeforeAllowTraffic,
    /// Production is on green; `Failed` still rolls back.
    AfterAllowTraffic,
}

impl Hook {
    /// All hooks, in lifecycle order.
    pub const ALL: [Hook; 3] = [
        Hook::AfterAllowTestTraffic,
        Hook::BeforeAllowTraffic,
        Hook::AfterAllowTraffic,
    ];

    /// The lifecycle event name as CodeDeploy and the AppSpec spell it.
    pub fn name(self) -> &'static str {
        match self {
            Hook::AfterAllowTestTraffic => "AfterAllowTestTraffic",
            Hook::BeforeAllowTraffic => "BeforeAllowTraffic",
            Hook::AfterAllowTraffic => "AfterAllowTraffic",
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

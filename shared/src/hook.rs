//! The three ECS lifecycle events greenlight gates. Each binary knows its own:
//! the CodeDeploy event does not say which lifecycle event it belongs to.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::{Colour, ListenerChoice};

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

impl Hook {
    /// The listener this hook probes unless told otherwise: the test
    /// listener until production has moved.
    pub fn own_listener(self) -> ListenerChoice {
        match self {
            Hook::AfterAllowTestTraffic | Hook::BeforeAllowTraffic => ListenerChoice::Test,
            Hook::AfterAllowTraffic => ListenerChoice::Production,
        }
    }

    /// Who answers on `listener` at this hook: green on the test listener
    /// throughout, blue on production until AllowTraffic.
    pub fn colour_on(self, listener: ListenerChoice) -> Colour {
        match (self, listener) {
            (
                Hook::AfterAllowTestTraffic | Hook::BeforeAllowTraffic,
                ListenerChoice::Production,
            ) => Colour::Blue,
            _ => Colour::Green,
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A stage of an ECS-native blue/green deployment at which ECS can invoke a
/// lifecycle hook. Three of them are the moments of the CodeDeploy events,
/// and run the same checks against the same listener (see [`EcsStage::hook`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EcsStage {
    /// A new deployment while more than one revision is active.
    ReconcileService,
    /// Green not started; blue serves everything.
    PreScaleUp,
    /// Green started, no traffic.
    PostScaleUp,
    /// Test traffic moving to green (again, back to blue, on rollback).
    TestTrafficShift,
    /// The test listener sends everything to green.
    PostTestTrafficShift,
    /// Before production moves (before each step, for linear and canary).
    PreProductionTrafficShift,
    /// Production moving to green (again, back to blue, on rollback).
    ProductionTrafficShift,
    /// Production is on green.
    PostProductionTrafficShift,
}

impl EcsStage {
    /// All stages, in lifecycle order.
    pub const ALL: [EcsStage; 8] = [
        EcsStage::ReconcileService,
        EcsStage::PreScaleUp,
        EcsStage::PostScaleUp,
        EcsStage::TestTrafficShift,
        EcsStage::PostTestTrafficShift,
        EcsStage::PreProductionTrafficShift,
        EcsStage::ProductionTrafficShift,
        EcsStage::PostProductionTrafficShift,
    ];

    /// The name as ECS spells it.
    pub fn name(self) -> &'static str {
        match self {
            EcsStage::ReconcileService => "RECONCILE_SERVICE",
            EcsStage::PreScaleUp => "PRE_SCALE_UP",
            EcsStage::PostScaleUp => "POST_SCALE_UP",
            EcsStage::TestTrafficShift => "TEST_TRAFFIC_SHIFT",
            EcsStage::PostTestTrafficShift => "POST_TEST_TRAFFIC_SHIFT",
            EcsStage::PreProductionTrafficShift => "PRE_PRODUCTION_TRAFFIC_SHIFT",
            EcsStage::ProductionTrafficShift => "PRODUCTION_TRAFFIC_SHIFT",
            EcsStage::PostProductionTrafficShift => "POST_PRODUCTION_TRAFFIC_SHIFT",
        }
    }

    /// The stage named `name`, if any.
    pub fn from_name(name: &str) -> Option<EcsStage> {
        EcsStage::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The CodeDeploy event this stage is the moment of, whose checks it
    /// runs. The others have no listener that sends all its traffic to a
    /// settled green (green has none yet, or traffic is moving), so nothing
    /// is checked there.
    pub fn hook(self) -> Option<Hook> {
        match self {
            EcsStage::PostTestTrafficShift => Some(Hook::AfterAllowTestTraffic),
            EcsStage::PreProductionTrafficShift => Some(Hook::BeforeAllowTraffic),
            EcsStage::PostProductionTrafficShift => Some(Hook::AfterAllowTraffic),
            _ => None,
        }
    }

    /// Whether a rollback runs this stage again (with the weights turned
    /// back to blue).
    pub fn reruns_on_rollback(self) -> bool {
        matches!(
            self,
            EcsStage::TestTrafficShift | EcsStage::ProductionTrafficShift
        )
    }
}

impl fmt::Display for EcsStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name in a check's `hooks`: a CodeDeploy lifecycle event, or the ECS
/// stage that is its moment. One spec then gates a service whichever
/// controller deploys it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum HookName {
    /// Test listener on green.
    AfterAllowTestTraffic,
    /// Before production moves.
    BeforeAllowTraffic,
    /// Production on green.
    AfterAllowTraffic,
    /// ECS-native: the same moment as `AfterAllowTestTraffic`.
    #[serde(rename = "POST_TEST_TRAFFIC_SHIFT")]
    PostTestTrafficShift,
    /// ECS-native: the same moment as `BeforeAllowTraffic`.
    #[serde(rename = "PRE_PRODUCTION_TRAFFIC_SHIFT")]
    PreProductionTrafficShift,
    /// ECS-native: the same moment as `AfterAllowTraffic`.
    #[serde(rename = "POST_PRODUCTION_TRAFFIC_SHIFT")]
    PostProductionTrafficShift,
}

impl HookName {
    /// The moment it names.
    pub fn hook(self) -> Hook {
        match self {
            HookName::AfterAllowTestTraffic | HookName::PostTestTrafficShift => {
                Hook::AfterAllowTestTraffic
            }
            HookName::BeforeAllowTraffic | HookName::PreProductionTrafficShift => {
                Hook::BeforeAllowTraffic
            }
            HookName::AfterAllowTraffic | HookName::PostProductionTrafficShift => {
                Hook::AfterAllowTraffic
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_gated_stage_is_one_codedeploy_moment_and_names_agree() {
        for stage in EcsStage::ALL {
            assert_eq!(EcsStage::from_name(stage.name()), Some(stage));
            assert_eq!(
                serde_json::to_value(stage).unwrap(),
                serde_json::json!(stage.name())
            );
            if let Some(hook) = stage.hook() {
                let by_name: HookName =
                    serde_json::from_value(serde_json::json!(stage.name())).unwrap();
                assert_eq!(by_name.hook(), hook);
            }
        }
        let gated: Vec<Hook> = EcsStage::ALL
            .into_iter()
            .filter_map(EcsStage::hook)
            .collect();
        assert_eq!(gated, Hook::ALL);
    }
}

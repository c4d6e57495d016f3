//! ECS task set states moto cannot stage: moto's task sets are always
//! `STEADY_STATE` and carry no running or pending counts.

use serde_json::Value;

use super::State;

/// `stabilityStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stability {
    /// `STEADY_STATE`: every task is running and, behind a load balancer,
    /// healthy.
    SteadyState,
    /// `STABILIZING`: tasks are still starting or failing health checks.
    Stabilizing,
}

impl Stability {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Stability::SteadyState => "STEADY_STATE",
            Stability::Stabilizing => "STABILIZING",
        }
    }
}

/// What `DescribeTaskSets` reports for one task set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskSetState {
    /// `stabilityStatus`.
    pub stability: Stability,
    /// `runningCount`.
    pub running: i64,
    /// `pendingCount`.
    pub pending: i64,
    /// `computedDesiredCount`.
    pub desired: i64,
}

impl TaskSetState {
    /// Steady, with `count` tasks running of `count` desired.
    pub fn steady(count: i64) -> Self {
        TaskSetState {
            stability: Stability::SteadyState,
            running: count,
            pending: 0,
            desired: count,
        }
    }

    /// Stabilizing, with these counts.
    pub fn stabilizing(running: i64, pending: i64, desired: i64) -> Self {
        TaskSetState {
            stability: Stability::Stabilizing,
            running,
            pending,
            desired,
        }
    }
}

/// Patches the staged task sets in a `DescribeTaskSets` answer
/// (`taskSets`) or a `DescribeServices` answer (`services[].taskSets`).
pub(super) fn patch(state: &mut State, body: &mut Value) {
    if let Some(services) = body.get_mut("services").and_then(Value::as_array_mut) {
        for service in services {
            patch_list(state, service);
        }
    }
    patch_list(state, body);
}

fn patch_list(state: &mut State, holder: &mut Value) {
    let Some(task_sets) = holder.get_mut("taskSets").and_then(Value::as_array_mut) else {
        return;
    };
    for task_set in task_sets {
        let key = ["id", "taskSetArn"]
            .into_iter()
            .filter_map(|key| task_set[key].as_str())
            .find(|key| state.task_sets.contains_key(*key))
            .map(str::to_owned);
        if let Some(staged) = key.and_then(|key| state.task_sets.get_mut(&key)) {
            let now = staged.next();
            task_set["stabilityStatus"] = now.stability.as_str().into();
            task_set["runningCount"] = now.running.into();
            task_set["pendingCount"] = now.pending.into();
            task_set["computedDesiredCount"] = now.desired.into();
        }
    }
}

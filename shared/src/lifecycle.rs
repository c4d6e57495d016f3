//! The hook's own lifecycle event must be the one in progress. The event
//! CodeDeploy sends does not say which lifecycle event it is for, so a hook
//! named in the wrong place of the AppSpec would gate the wrong moment: the
//! AfterAllowTraffic hook run during AfterAllowTestTraffic probes production,
//! which still serves blue, and passes green on blue's health. The
//! deployment's ECS target lists its lifecycle events with their statuses;
//! anything but the hook's own event `InProgress` is refused.

use crate::cloud::LifecycleEvent;
use crate::hook::Hook;

/// The status of a lifecycle event that is running.
pub const IN_PROGRESS: &str = "InProgress";

/// Why the hook's lifecycle event is not the one running.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// Another event is in progress.
    #[error(
        "this is the {hook} hook, but the deployment is in {in_progress} ({hook} is {status}): check the AppSpec's Hooks section"
    )]
    OtherEvent {
        /// This hook.
        hook: Hook,
        /// This hook's event's status, or "not listed".
        status: String,
        /// The event in progress.
        in_progress: String,
    },
    /// No event is in progress.
    #[error(
        "this is the {hook} hook, but no lifecycle event of the deployment is in progress ({hook} is {status}): check the AppSpec's Hooks section"
    )]
    NoneInProgress {
        /// This hook.
        hook: Hook,
        /// This hook's event's status, or "not listed".
        status: String,
    },
    /// The deployment's target lists no lifecycle events.
    #[error(
        "the deployment's ECS target lists no lifecycle events (BatchGetDeploymentTargets): cannot verify that {hook} is in progress"
    )]
    NoEvents {
        /// This hook.
        hook: Hook,
    },
}

/// `Ok` when `hook`'s own lifecycle event is in progress among `events`.
pub fn verify(hook: Hook, events: &[LifecycleEvent]) -> Result<(), LifecycleError> {
    if events.is_empty() {
        return Err(LifecycleError::NoEvents { hook });
    }
    let own = events.iter().find(|e| e.name == hook.name());
    if own.is_some_and(|e| e.status == IN_PROGRESS) {
        return Ok(());
    }
    let status = own.map_or_else(|| "not listed".to_owned(), |e| e.status.clone());
    match events.iter().find(|e| e.status == IN_PROGRESS) {
        Some(running) => Err(LifecycleError::OtherEvent {
            hook,
            status,
            in_progress: running.name.clone(),
        }),
        None => Err(LifecycleError::NoneInProgress { hook, status }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::fake::lifecycle_events_during as during;

    #[test]
    fn the_hook_s_own_event_in_progress_passes() {
        for hook in Hook::ALL {
            assert_eq!(verify(hook, &during(hook.name())), Ok(()));
        }
    }

    #[test]
    fn another_event_in_progress_fails_naming_both() {
        // GIVEN a deployment in AfterAllowTestTraffic
        let events = during("AfterAllowTestTraffic");
        // WHEN the AfterAllowTraffic hook checks
        let error = verify(Hook::AfterAllowTraffic, &events).unwrap_err();
        // THEN it names its own event, its status and the one running
        assert_eq!(
            error.to_string(),
            "this is the AfterAllowTraffic hook, but the deployment is in AfterAllowTestTraffic (AfterAllowTraffic is Pending): check the AppSpec's Hooks section"
        );
    }

    #[test]
    fn an_event_already_done_fails() {
        let error = verify(Hook::AfterAllowTestTraffic, &during("AfterAllowTraffic")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("in AfterAllowTraffic (AfterAllowTestTraffic is Succeeded)"),
            "{error}"
        );
    }

    #[test]
    fn no_event_in_progress_fails_saying_so() {
        let error = verify(Hook::BeforeAllowTraffic, &during("none")).unwrap_err();
        assert_eq!(
            error,
            LifecycleError::NoneInProgress {
                hook: Hook::BeforeAllowTraffic,
                status: "Pending".to_owned()
            }
        );
    }

    #[test]
    fn the_hook_s_event_missing_from_the_list_fails() {
        let mut events = during("AllowTraffic");
        events.retain(|e| e.name != "AfterAllowTraffic");
        let error = verify(Hook::AfterAllowTraffic, &events).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("(AfterAllowTraffic is not listed)"),
            "{error}"
        );
    }

    #[test]
    fn no_lifecycle_events_at_all_cannot_be_verified() {
        // GIVEN a target that lists no lifecycle events
        // WHEN a hook checks
        let error = verify(Hook::AfterAllowTestTraffic, &[]).unwrap_err();
        // THEN doubt means Failed, saying why
        assert_eq!(
            error.to_string(),
            "the deployment's ECS target lists no lifecycle events (BatchGetDeploymentTargets): cannot verify that AfterAllowTestTraffic is in progress"
        );
    }
}

//! The spec's `alarms` section: which CloudWatch alarms fail the hook.

use super::limits::MAX_ALARM_NAMES;
use super::validator::Validator;
use crate::spec::AlarmsSpec;

/// Which alarms fail the hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmPolicy {
    /// Include the deployment group's alarms.
    pub deployment_group: bool,
    /// More alarms by name.
    pub names: Vec<String>,
    /// Fail when a state cannot be read.
    pub fail_if_unreadable: bool,
}

impl Validator {
    pub(super) fn alarms(&mut self, spec: &AlarmsSpec) -> AlarmPolicy {
        if spec.names.len() > MAX_ALARM_NAMES {
            self.problem(
                "alarms.names",
                format!(
                    "expected at most {MAX_ALARM_NAMES} alarm names, got {}",
                    spec.names.len()
                ),
            );
        }
        for (i, name) in spec.names.iter().enumerate() {
            if name.trim().is_empty() || name.len() > 255 {
                self.problem(
                    &format!("alarms.names[{i}]"),
                    "expected an alarm name of 1..=255 characters".to_owned(),
                );
            }
        }
        AlarmPolicy {
            deployment_group: spec.deployment_group,
            names: spec.names.clone(),
            fail_if_unreadable: spec.fail_if_unreadable,
        }
    }
}

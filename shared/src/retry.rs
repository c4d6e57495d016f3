//! Retry policy: how many attempts, how far apart, within what window, and how
//! many passes in a row make a check pass. Every policy is bounded: by its
//! attempts, by its window, and always by the hook's deadline.

use std::time::Duration;

/// Attempts when the spec sets neither `attempts` nor `within_ms`.
pub const DEFAULT_ATTEMPTS: u32 = 3;
/// Pause between attempts when the spec does not set `interval_ms`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(1000);

/// A validated retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Maximum attempts; `None` means as many as fit in the window.
    pub attempts: Option<u32>,
    /// Pause after a failed or passing attempt before the next.
    pub interval: Duration,
    /// Window from the first attempt in which the check must pass.
    pub within: Option<Duration>,
    /// Passing attempts in a row needed.
    pub consecutive_passes: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: Some(DEFAULT_ATTEMPTS),
            interval: DEFAULT_INTERVAL,
            within: None,
            consecutive_passes: 1,
        }
    }
}

/// Where a check stands after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Enough passes in a row: the check passed.
    Pass,
    /// Try again after the policy's interval.
    Retry,
    /// No attempt left: the check failed.
    GiveUp(GiveUp),
}

/// Which limit ended the retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// `attempts` used up.
    Attempts,
    /// The `within_ms` window would close before the next attempt.
    Window,
    /// The hook's deadline would come before the next attempt.
    Deadline,
}

impl GiveUp {
    /// Words for the verdict.
    pub fn describe(self, attempts: u32) -> String {
        match self {
            GiveUp::Attempts => format!("failed after {attempts} attempt(s)"),
            GiveUp::Window => {
                format!("did not pass within its retry window ({attempts} attempt(s))")
            }
            GiveUp::Deadline => {
                format!("stopped by the hook's deadline after {attempts} attempt(s)")
            }
        }
    }
}

/// Running tally of one check's attempts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Attempts made so far.
    pub attempts: u32,
    /// Passing attempts in a row, ending with the last one.
    pub streak: u32,
    /// The longest run of passing attempts so far.
    pub best: u32,
}

impl RetryPolicy {
    /// Words for the verdict when `why` ended the retries after `tally`. A
    /// check that passed at times, but never as many times in a row as
    /// `consecutive_passes` asks, says that this was the rule not met.
    pub fn reason(&self, why: GiveUp, tally: &Tally) -> String {
        let passes = self.consecutive_passes.max(1);
        let mut reason = why.describe(tally.attempts);
        if passes > 1 && tally.best > 0 {
            reason.push_str(&format!(
                ": {passes} consecutive passes needed, at most {} in a row",
                tally.best
            ));
        }
        reason
    }

    /// Records an attempt and decides what comes next. `elapsed` is the time
    /// since the first attempt started, `left` the time before the hook must
    /// stop probing.
    pub fn after_attempt(
        &self,
        tally: &mut Tally,
        passed: bool,
        elapsed: Duration,
        left: Duration,
    ) -> Next {
        // At least one pass, whatever a hand-built policy says: a failed
        // attempt never passes a check.
        let passes = self.consecutive_passes.max(1);
        tally.attempts += 1;
        tally.streak = if passed { tally.streak + 1 } else { 0 };
        tally.best = tally.best.max(tally.streak);
        if tally.streak >= passes {
            return Next::Pass;
        }
        if self.attempts.is_some_and(|max| tally.attempts >= max) {
            return Next::GiveUp(GiveUp::Attempts);
        }
        // The passes still needed must fit too, or retrying is pointless.
        if let Some(max) = self.attempts {
            let needed = passes - tally.streak;
            if max.saturating_sub(tally.attempts) < needed {
                return Next::GiveUp(GiveUp::Attempts);
            }
        }
        if self
            .within
            .is_some_and(|window| elapsed.saturating_add(self.interval) >= window)
        {
            return Next::GiveUp(GiveUp::Window);
        }
        if self.interval >= left {
            return Next::GiveUp(GiveUp::Deadline);
        }
        Next::Retry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOTS: Duration = Duration::from_secs(600);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_policy_built_with_zero_passes_still_needs_one() {
        // GIVEN a policy built by hand with consecutive_passes 0
        let policy = RetryPolicy {
            consecutive_passes: 0,
            ..RetryPolicy::default()
        };
        let mut tally = Tally::default();
        // THEN a failed attempt is not a pass
        assert_eq!(
            policy.after_attempt(&mut tally, false, ms(0), LOTS),
            Next::Retry
        );
        assert_eq!(
            policy.after_attempt(&mut tally, true, ms(0), LOTS),
            Next::Pass
        );
    }

    #[test]
    fn passes_at_the_first_pass_by_default() {
        let policy = RetryPolicy::default();
        let mut tally = Tally::default();
        assert_eq!(
            policy.after_attempt(&mut tally, false, ms(0), LOTS),
            Next::Retry
        );
        assert_eq!(
            policy.after_attempt(&mut tally, true, ms(1000), LOTS),
            Next::Pass
        );
        assert_eq!(tally.attempts, 2);
    }

    #[test]
    fn gives_up_when_attempts_are_used() {
        let policy = RetryPolicy::default();
        let mut tally = Tally::default();
        assert_eq!(
            policy.after_attempt(&mut tally, false, ms(0), LOTS),
            Next::Retry
        );
        assert_eq!(
            policy.after_attempt(&mut tally, false, ms(1000), LOTS),
            Next::Retry
        );
        assert_eq!(
            policy.after_attempt(&mut tally, false, ms(2000), LOTS),
            Next::GiveUp(GiveUp::Attempts)
        );
    }

    #[test]
    fn needs_consecutive_passes_and_a_failure_resets_the_streak() {
        let policy = RetryPolicy {
            attempts: Some(10),
            consecutive_passes: 3,
            ..RetryPolicy::default()
        };
        let mut tally = Tally::default();
        for passed in [true, true, false, true, true] {
            assert_eq!(
                policy.after_attempt(&mut tally, passed, ms(0), LOTS),
                Next::Retry
            );
        }
        assert_eq!(
            policy.after_attempt(&mut tally, true, ms(0), LOTS),
            Next::Pass
        );
        assert_eq!(
            tally,
            Tally {
                attempts: 6,
                streak: 3,
                best: 3
            }
        );
    }

    #[test]
    fn gives_up_early_when_the_passes_needed_cannot_fit() {
        let policy = RetryPolicy {
            attempts: Some(4),
            consecutive_passes: 3,
            ..RetryPolicy::default()
        };
        let mut tally = Tally::default();
        assert_eq!(
            policy.after_attempt(&mut tally, true, ms(0), LOTS),
            Next::Retry
        );
        // 2 attempts left, 3 passes needed after this failure.
        assert_eq!(
            policy.after_attempt(&mut tally, false, ms(0), LOTS),
            Next::GiveUp(GiveUp::Attempts)
        );
    }

    #[test]
    fn the_reason_names_the_consecutive_passes_rule_when_it_was_the_one_not_met() {
        // GIVEN 2 passes in a row needed, and pass, fail, pass, fail
        let policy = RetryPolicy {
            attempts: Some(4),
            consecutive_passes: 2,
            ..RetryPolicy::default()
        };
        let mut tally = Tally::default();
        let mut next = Next::Retry;
        for passed in [true, false, true, false] {
            next = policy.after_attempt(&mut tally, passed, ms(0), LOTS);
        }
        // THEN the reason says which rule was not met
        assert_eq!(next, Next::GiveUp(GiveUp::Attempts));
        assert_eq!(
            policy.reason(GiveUp::Attempts, &tally),
            "failed after 4 attempt(s): 2 consecutive passes needed, at most 1 in a row"
        );
        assert_eq!(
            policy.reason(GiveUp::Window, &tally),
            "did not pass within its retry window (4 attempt(s)): 2 consecutive passes needed, at most 1 in a row"
        );
    }

    #[test]
    fn the_reason_stays_plain_when_no_attempt_passed_or_one_pass_is_enough() {
        let mut tally = Tally::default();
        let twice = RetryPolicy {
            attempts: Some(2),
            consecutive_passes: 2,
            ..RetryPolicy::default()
        };
        twice.after_attempt(&mut tally, false, ms(0), LOTS);
        twice.after_attempt(&mut tally, false, ms(0), LOTS);
        assert_eq!(
            twice.reason(GiveUp::Attempts, &tally),
            "failed after 2 attempt(s)"
        );
        let once = RetryPolicy::default();
        let passed_once = Tally {
            attempts: 3,
            streak: 0,
            best: 1,
        };
        assert_eq!(
            once.reason(GiveUp::Attempts, &passed_once),
            "failed after 3 attempt(s)"
        );
    }

    #[test]
    fn within_window_retries_until_the_window_closes() {
        let policy = RetryPolicy {
            attempts: None,
            interval: ms(500),
            within: Some(ms(2000)),
            consecutive_passes: 1,
        };
        let mut tally = Tally::default();
        assert_eq!(
            policy.after_attempt(&mut tally, false, ms(1000), LOTS),
            Next::Retry
        );
        assert_eq!(
            policy.after_attempt(&mut tally, false, ms(1600), LOTS),
            Next::GiveUp(GiveUp::Window)
        );
    }

    #[test]
    fn never_retries_past_the_deadline() {
        let policy = RetryPolicy {
            attempts: Some(100),
            ..RetryPolicy::default()
        };
        let mut tally = Tally::default();
        assert_eq!(
            policy.after_attempt(&mut tally, false, ms(0), ms(900)),
            Next::GiveUp(GiveUp::Deadline)
        );
    }
}

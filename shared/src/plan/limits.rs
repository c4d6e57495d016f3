//! The bounds a spec must stay within: far beyond any real spec, small enough
//! that a wrong one cannot exhaust the function's time or memory.

use std::time::Duration;

/// Per-request timeout when neither the check nor the defaults set one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(5000);
pub(super) const MAX_TIMEOUT_MS: u64 = 300_000;
pub(super) const MAX_INTERVAL_MS: u64 = 300_000;
/// A Lambda runs at most 15 minutes.
pub(super) const MAX_WINDOW_MS: u64 = 900_000;
/// The longest bake: a day, the longest an ECS lifecycle hook may run (its
/// bake runs in rounds). A CodeDeploy hook bakes within one Lambda run and
/// refuses, when it runs, a bake that does not fit.
pub(super) const MAX_BAKE_MS: u64 = 86_400_000;
pub(super) const MAX_ATTEMPTS: u32 = 1000;
/// Shortest pause between unlimited attempts: no hot loop against green.
pub(super) const MIN_UNBOUNDED_INTERVAL: Duration = Duration::from_millis(100);
/// Largest spec accepted, in bytes: far beyond any real spec, small enough
/// that a wrong file cannot exhaust the function's memory.
pub const MAX_SPEC_BYTES: usize = 1024 * 1024;
/// Largest request body a check may send.
pub const MAX_REQUEST_BODY_BYTES: usize = 256 * 1024;
/// Most checks in one spec (each hook runs at most this many).
pub const MAX_CHECKS: usize = 500;
/// Most request headers per check.
pub const MAX_HEADERS: usize = 64;
/// Most redirects a check may follow.
pub const MAX_REDIRECTS: u32 = 10;
/// Most steps in a flow.
pub const MAX_STEPS: usize = 20;
/// Most values one check captures, over all its steps.
pub const MAX_CAPTURES: usize = 32;
/// Most alarm names in `alarms.names` (read 100 a call, every look).
pub const MAX_ALARM_NAMES: usize = 1000;
/// Most metric gates in a bake: each look reads every one, and a bake in
/// rounds carries a tally of each in the ECS hook's 4 KB of `hookDetails`.
pub const MAX_BAKE_METRICS: usize = 50;

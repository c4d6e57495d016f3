//! Time helpers shared by the stages and the front doors.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Milliseconds, saturating.
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Now, in Unix epoch milliseconds (0 before 1970).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, millis)
}

/// No real deadline is earlier than this (2001-09-09 in epoch milliseconds).
pub const EPOCH_MS_FLOOR: u64 = 1_000_000_000_000;
/// A Lambda runs at most 15 minutes.
pub const MAX_LAMBDA_RUN: Duration = Duration::from_secs(900);

/// The invocation's deadline as a monotonic instant. Lambda sends epoch
/// milliseconds; local emulators (`cargo lambda watch`) send the timeout in
/// milliseconds instead, which is read as "that long from now".
pub fn deadline_instant(deadline_ms: u64) -> Instant {
    Instant::now() + time_left(deadline_ms, SystemTime::now())
}

pub fn time_left(deadline_ms: u64, now: SystemTime) -> Duration {
    if deadline_ms < EPOCH_MS_FLOOR {
        tracing::warn!(
            deadline_ms,
            "the Runtime API sent a relative deadline (a local emulator?); reading it as milliseconds from now"
        );
        return Duration::from_millis(deadline_ms).min(MAX_LAMBDA_RUN);
    }
    let now_ms = now.duration_since(UNIX_EPOCH).map_or(0, millis);
    Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_saturate() {
        assert_eq!(millis(Duration::from_micros(2_999)), 2);
        assert_eq!(millis(Duration::MAX), u64::MAX);
    }

    #[test]
    fn reads_an_epoch_deadline() {
        let now = UNIX_EPOCH + Duration::from_millis(1_800_000_000_000);
        assert_eq!(time_left(1_800_000_030_000, now), Duration::from_secs(30));
        assert_eq!(time_left(1_799_999_000_000, now), Duration::ZERO);
    }

    #[test]
    fn reads_a_relative_deadline_from_a_local_emulator() {
        let now = UNIX_EPOCH + Duration::from_millis(1_800_000_000_000);
        assert_eq!(time_left(600_000, now), Duration::from_secs(600));
        assert_eq!(time_left(3_600_000, now), MAX_LAMBDA_RUN);
    }
}

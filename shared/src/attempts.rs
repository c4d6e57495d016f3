//! One deadline-bounded loop for everything that tries again: an attempt,
//! its verdict on itself (done, or again), then a pause that grows by a
//! backoff and never passes the stop time. Check retries, readiness polls and
//! the bake's looks all run in it; each attempt decides, from the time left,
//! when to stop.

use std::time::Duration;

use tokio::time::Instant;

/// What an attempt decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<T> {
    /// The loop ends with this.
    Done(T),
    /// Pause, then attempt again.
    Again,
}

/// The pauses between attempts: `first`, then each `factor` times the one
/// before, up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first pause.
    pub first: Duration,
    /// How much longer each pause is than the one before.
    pub factor: u32,
    /// The longest pause.
    pub max: Duration,
}

impl Backoff {
    /// The same pause every time.
    pub fn constant(pause: Duration) -> Backoff {
        Backoff {
            first: pause,
            factor: 1,
            max: pause,
        }
    }

    /// `first` (at most `max`), doubling up to `max`.
    pub fn doubling(first: Duration, max: Duration) -> Backoff {
        Backoff {
            first: first.min(max),
            factor: 2,
            max,
        }
    }
}

/// Runs `attempt`, given its number (1, 2, …), until it is [`Step::Done`].
/// Between attempts it pauses by `backoff`, never past `until`.
pub async fn until_done<T>(
    until: Instant,
    backoff: Backoff,
    mut attempt: impl AsyncFnMut(u32) -> Step<T>,
) -> T {
    let mut pause = backoff.first;
    let mut number: u32 = 0;
    loop {
        number = number.saturating_add(1);
        match attempt(number).await {
            Step::Done(done) => return done,
            Step::Again => {
                tokio::time::sleep_until((Instant::now() + pause).min(until)).await;
                pause = pause.saturating_mul(backoff.factor).min(backoff.max);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[tokio::test(start_paused = true)]
    async fn pauses_grow_by_the_backoff_up_to_its_maximum() {
        // GIVEN a doubling backoff from 1 s up to 5 s, and attempts that
        // note when they start
        let started = Instant::now();
        let mut starts = Vec::new();
        // WHEN five attempts run
        let last = until_done(
            started + ms(60_000),
            Backoff::doubling(ms(1000), ms(5000)),
            async |n| {
                starts.push(started.elapsed().as_millis());
                if n == 5 { Step::Done(n) } else { Step::Again }
            },
        )
        .await;
        // THEN the pauses were 1, 2, 4 and 5 seconds
        assert_eq!(last, 5);
        assert_eq!(starts, [0, 1000, 3000, 7000, 12_000]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_never_passes_the_stop_time() {
        // GIVEN a 10 s pause and a stop time 3 s away
        let started = Instant::now();
        let until = started + ms(3000);
        let mut starts = Vec::new();
        // WHEN attempts run until the stop time
        until_done(until, Backoff::constant(ms(10_000)), async |_| {
            starts.push(started.elapsed().as_millis());
            if Instant::now() >= until {
                Step::Done(())
            } else {
                Step::Again
            }
        })
        .await;
        // THEN the second attempt starts at the stop time, not after it
        assert_eq!(starts, [0, 3000]);
    }

    #[test]
    fn the_first_doubling_pause_is_at_most_the_maximum() {
        assert_eq!(Backoff::doubling(ms(1000), ms(500)).first, ms(500));
        assert_eq!(Backoff::constant(ms(7)).max, ms(7));
    }
}

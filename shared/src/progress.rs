//! The progress port: who hears which stage of a judgement runs, and how
//! long a stage that waits may wait. A terminal front door shows it; the
//! Lambda front door logs enough already and stays [`Silent`].

use std::time::Duration;

use crate::stage::Stage;

/// Hears a judgement's progress. Every method has a default that does
/// nothing.
pub trait Progress: Send + Sync {
    /// `stage` starts, with `time_left` before the judgement's stop time.
    fn started(&self, stage: Stage, time_left: Duration) {
        let _ = (stage, time_left);
    }

    /// `stage` waits (for green to be ready, or while baking) for at most
    /// `for_at_most`.
    fn waiting(&self, stage: Stage, for_at_most: Duration) {
        let _ = (stage, for_at_most);
    }
}

/// Hears nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {}

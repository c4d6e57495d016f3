//! The one fake of the report port, for the unit tests of this crate: it
//! records every status it is given, answers from a script of errors first,
//! and can panic on its first calls (a reporter bug).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use greenlight::Status;

use crate::event::HookEvent;
use crate::report::{ReportError, StatusReporter};

/// Records statuses; clones share what they record.
#[derive(Debug, Clone, Default)]
pub struct FakeReporter {
    /// Errors answered, in order, before the first success.
    script: Arc<Mutex<Vec<ReportError>>>,
    /// Calls left that panic, before any other answer.
    panics: Arc<AtomicUsize>,
    /// Every status taken (a scripted error or a panic takes none).
    statuses: Arc<Mutex<Vec<Status>>>,
}

impl FakeReporter {
    /// Answers `errors` in order, then takes every status.
    pub fn failing_first(errors: Vec<ReportError>) -> FakeReporter {
        FakeReporter {
            script: Arc::new(Mutex::new(errors)),
            ..FakeReporter::default()
        }
    }

    /// Panics on the first `calls` calls, then takes every status.
    pub fn panicking_first(calls: usize) -> FakeReporter {
        FakeReporter {
            panics: Arc::new(AtomicUsize::new(calls)),
            ..FakeReporter::default()
        }
    }

    /// The statuses taken, in order.
    pub fn statuses(&self) -> Vec<Status> {
        self.statuses.lock().expect("lock").clone()
    }
}

impl StatusReporter for FakeReporter {
    async fn put_status(&self, _: &HookEvent, status: Status) -> Result<(), ReportError> {
        if self
            .panics
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            panic!("reporter bug");
        }
        let scripted = {
            let mut script = self.script.lock().expect("lock");
            (!script.is_empty()).then(|| script.remove(0))
        };
        match scripted {
            Some(error) => Err(error),
            None => {
                self.statuses.lock().expect("lock").push(status);
                Ok(())
            }
        }
    }
}

//! Last-resort guards, so that a panic still ends in a report.
//!
//! With unwinding (the workspace's release profile), a panic inside a check is
//! caught by the engine, and one anywhere else in an invocation by the runner,
//! which then reports `Failed`. With `panic = "abort"` (which some build tools
//! set for release builds) nothing can be caught and the process dies; for
//! that case a panic hook reports `Failed` for the invocation in flight, from a
//! fresh thread and runtime, before the process ends.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::time::Instant;

use greenlight::Status;

use crate::event::HookEvent;
use crate::report::{Delivery, ReportFailure, StatusReporter, deliver};

/// The invocation that still owes CodeDeploy a status.
#[derive(Debug, Clone)]
pub struct InFlight {
    /// Whom to report to.
    pub event: HookEvent,
    /// Report before this.
    pub until: Instant,
    /// Whether dry run is on: a panic is a `Failed` verdict, reported as
    /// `Succeeded` in dry run, as any `Failed` verdict is.
    pub dry_run: bool,
}

impl InFlight {
    /// What a panic reports: a `Failed` verdict, as dry run reports it.
    pub fn status(&self) -> Status {
        Status::Failed.to_report(self.dry_run)
    }

    /// The log words after that status (what dry run hid, if anything).
    pub fn note(&self) -> &'static str {
        Status::dry_run_note(Status::Failed, self.dry_run)
    }
}

/// Holds the invocation in flight, if any. One per hook function: the Lambda
/// runtime hands out one invocation at a time.
#[derive(Debug, Clone, Default)]
pub struct Pending(Arc<Mutex<Option<InFlight>>>);

impl Pending {
    /// Records that `event` owes a report before `until`, and whether dry
    /// run is on, should a panic come first.
    pub fn begin(&self, event: &HookEvent, until: Instant, dry_run: bool) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(InFlight {
                event: event.clone(),
                until,
                dry_run,
            });
        }
    }

    /// Takes the invocation that still owes a report: after this, nobody else
    /// will report it.
    pub fn take(&self) -> Option<InFlight> {
        // try_lock: a panic hook must never wait.
        self.0.try_lock().ok().and_then(|mut slot| slot.take())
    }
}

/// In a build with `panic = "abort"`, installs a panic hook that reports
/// `Failed` (`Succeeded` in dry run) for the pending invocation before the
/// process aborts, and logs what it sent. Does nothing in an unwinding build,
/// where the runner catches panics instead.
pub fn install_abort_hook<R, F, Fut>(pending: Pending, make_reporter: F)
where
    R: StatusReporter,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R>,
{
    if !cfg!(panic = "abort") {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        if let Some(in_flight) = pending.take() {
            let (status, note) = (in_flight.status(), in_flight.note());
            tracing::error!(
                deployment_id = %in_flight.event.deployment_id,
                status = %status,
                dry_run = in_flight.dry_run,
                "panic in a panic=abort build: reporting {status} before the process ends{note}"
            );
            let outcome = report_from_new_thread(&make_reporter, in_flight);
            tracing::error!(status = %status, outcome = ?outcome, "last-resort report");
        }
    }));
}

/// Reports the pending status ([`InFlight::status`]) from a new thread with its own runtime, so that it works
/// from anywhere, a panic hook on a runtime worker included. `None` if the
/// thread or runtime could not even start.
pub fn report_from_new_thread<R, F, Fut>(
    make_reporter: &F,
    in_flight: InFlight,
) -> Option<Result<(Delivery, u32), ReportFailure>>
where
    R: StatusReporter,
    F: Fn() -> Fut + Sync,
    Fut: Future<Output = R>,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime.block_on(async {
                    let reporter = make_reporter().await;
                    let status = in_flight.status();
                    Some(deliver(&reporter, &in_flight.event, status, in_flight.until).await)
                })
            })
            .join()
            .ok()
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::fake_reporter::FakeReporter;

    fn event() -> HookEvent {
        HookEvent {
            deployment_id: "d-1".into(),
            execution_id: "x".into(),
        }
    }

    #[tokio::test]
    async fn reports_failed_from_a_new_thread_even_inside_a_runtime() {
        // GIVEN an invocation in flight, on a thread that runs a runtime (as a
        // panic hook on a worker thread would)
        let pending = Pending::default();
        pending.begin(&event(), Instant::now() + Duration::from_secs(5), false);
        let recorder = FakeReporter::default();
        let make = || {
            let recorder = recorder.clone();
            async move { recorder }
        };
        // WHEN the last-resort report runs
        let in_flight = pending.take().expect("in flight");
        let outcome = report_from_new_thread(&make, in_flight);
        // THEN Failed was delivered once, and nothing is pending any more
        assert_eq!(outcome, Some(Ok((Delivery::Accepted, 1))));
        assert_eq!(recorder.statuses(), vec![Status::Failed]);
        assert!(pending.take().is_none());
    }

    #[tokio::test]
    async fn reports_succeeded_in_dry_run_as_the_normal_path_does() {
        // GIVEN an invocation in flight in dry run
        let pending = Pending::default();
        pending.begin(&event(), Instant::now() + Duration::from_secs(5), true);
        let recorder = FakeReporter::default();
        let make = || {
            let recorder = recorder.clone();
            async move { recorder }
        };
        // WHEN the last-resort report runs
        let in_flight = pending.take().expect("in flight");
        assert_eq!(
            (in_flight.status(), in_flight.note()),
            (Status::Succeeded, " (DRY RUN: the verdict is Failed)")
        );
        let outcome = report_from_new_thread(&make, in_flight);
        // THEN Succeeded was sent, as dry run sends for a Failed verdict
        assert_eq!(outcome, Some(Ok((Delivery::Accepted, 1))));
        assert_eq!(recorder.statuses(), vec![Status::Succeeded]);
    }
}

//! Judging one response: its assertions evaluated within bounds of time and
//! memory. A small body is judged where it arrived; a large one is parsed and
//! queried on the blocking pool, one at a time across the process, and waited
//! for no later than the check's timeout and the hook's stop time. So a
//! JSONPath that is slow on a large document (`$..error` on a megabyte nested
//! twenty deep) costs at most one document's memory, and never holds up the
//! report: the hook still answers in time, with that check failed.

use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::assertion::{Assertion, AssertionResult, Disclosure, Evaluated};
use crate::probe::ProbeResponse;

/// Bodies up to this size are judged inline: parsing one takes well under a
/// millisecond and a few hundred KiB.
pub const INLINE_BODY_BYTES: usize = 16 * 1024;

/// Large responses judged at once, process-wide: each may take tens of MiB
/// while its JSON is parsed and queried.
static LARGE: Semaphore = Semaphore::const_new(1);

/// Why a response has no assertion results.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvaluationError {
    /// The evaluation did not end within its time.
    #[error(
        "judging the response ({bytes} bytes) did not finish within {waited_ms} ms: simplify the JSONPath or make the response smaller"
    )]
    TooSlow {
        /// The body's size.
        bytes: usize,
        /// How long it was waited for.
        waited_ms: u128,
    },
}

/// Evaluates `assertions` on `response`, showing only what `disclosure`
/// allows, no later than `limit` after now nor after `stop_at`.
pub async fn evaluate(
    assertions: &[Assertion],
    response: ProbeResponse,
    disclosure: Disclosure,
    limit: Duration,
    stop_at: Instant,
) -> Result<Vec<AssertionResult>, EvaluationError> {
    if response.body.len() <= INLINE_BODY_BYTES {
        return Ok(evaluate_now(assertions, &response, disclosure));
    }
    let started = Instant::now();
    let until = (started + limit).min(stop_at);
    let too_slow = |bytes: usize| EvaluationError::TooSlow {
        bytes,
        waited_ms: started.elapsed().as_millis(),
    };
    let bytes = response.body.len();
    let Ok(Ok(permit)) = tokio::time::timeout_at(until, LARGE.acquire()).await else {
        return Err(too_slow(bytes));
    };
    let assertions = assertions.to_vec();
    let work = tokio::task::spawn_blocking(move || {
        // Held until the work ends, even if nobody waits for it any more: the
        // next large response waits instead of doubling the memory.
        let _permit = permit;
        evaluate_now(&assertions, &response, disclosure)
    });
    match tokio::time::timeout_at(until, work).await {
        Ok(Ok(results)) => Ok(results),
        Ok(Err(error)) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Ok(Err(_)) | Err(_) => Err(too_slow(bytes)),
    }
}

fn evaluate_now(
    assertions: &[Assertion],
    response: &ProbeResponse,
    disclosure: Disclosure,
) -> Vec<AssertionResult> {
    let evaluated = Evaluated::disclosing(response, disclosure);
    assertions
        .iter()
        .map(|assertion| assertion.evaluate_on(&evaluated))
        .collect()
}

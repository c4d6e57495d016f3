//! A metric gate judged on per-period values rather than one: green's
//! values since the deployment began (at most the baseline's window back)
//! against blue's in each period of its window before the deployment, by
//! the one-sided Mann–Whitney U test (`crate::mann_whitney`). A look that
//! has fewer than `min_samples` values on a side is inconclusive, as one
//! without blue's value is.

use tokio::time::Instant;

use super::{BaselineRead, BlueSpan, GateQuery, Judged, within};
use crate::cloud::{AwsError, MetricReads};
use crate::mann_whitney::{greater, median};
use crate::plan::MetricGate;
use crate::time::now_ms;

/// The rule's parameters, from the gate's threshold.
#[derive(Debug, Clone, Copy)]
pub(super) struct Test {
    /// Breach below this p-value.
    pub alpha: f64,
    /// Values a side needed to decide.
    pub min_samples: u32,
}

/// One look: both sides' values read by `stop_at`, then tested. Whether
/// green had a value, and the judgement.
pub(super) async fn compare<M: MetricReads>(
    cloud: &M,
    gate: &MetricGate,
    query: &GateQuery,
    blue: Result<&BaselineRead, &String>,
    test: Test,
    stop_at: Instant,
) -> Result<(bool, Judged), AwsError> {
    let now = now_ms();
    // Green since the deployment began, at most the window back (or both
    // over the same recent window, while both serve traffic).
    let (from, blue) = match blue {
        Ok(blue) => match blue.span {
            BlueSpan::Before { from_ms, to_ms } => {
                let window = to_ms.saturating_sub(from_ms);
                (
                    now.saturating_sub(window).max(to_ms),
                    Ok((blue, from_ms, to_ms)),
                )
            }
            BlueSpan::Concurrent { window_ms } => {
                let from = now.saturating_sub(window_ms);
                (from, Ok((blue, from, now)))
            }
        },
        // Without blue's window, green's values of the last hour still say
        // whether green had data.
        Err(why) => (now.saturating_sub(3_600_000), Err(why.clone())),
    };
    let green = within(stop_at, cloud.series(&query.green, from, now)).await?;
    let blue = match blue {
        Ok((blue, from_ms, to_ms)) => {
            Ok(within(stop_at, cloud.series(&blue.query, from_ms, to_ms)).await?)
        }
        Err(why) => Err(why),
    };
    Ok((!green.is_empty(), judge(gate, &green, blue, test)))
}

/// Green's values against blue's (or why blue has none).
fn judge(gate: &MetricGate, green: &[f64], blue: Result<Vec<f64>, String>, test: Test) -> Judged {
    let inconclusive = |why: String| Judged {
        breached: !gate.baseline.is_some_and(|b| b.inconclusive_passes),
        shown: format!("{why} (inconclusive)"),
    };
    let blue = match blue {
        Ok(blue) => blue,
        Err(why) => return inconclusive(format!("{} green values, blue: {why}", green.len())),
    };
    let n = format!("n {}/{}", green.len(), blue.len());
    let enough = usize::try_from(test.min_samples).unwrap_or(usize::MAX);
    if green.len() < enough || blue.len() < enough {
        return inconclusive(format!(
            "{n} values (green/blue), fewer than {} a side",
            test.min_samples
        ));
    }
    let (Some(result), Some(green_median), Some(blue_median)) =
        (greater(green, &blue), median(green), median(&blue))
    else {
        return inconclusive(format!("{n} values, not all of them numbers"));
    };
    let ratio = if blue_median == 0.0 {
        "n/a".to_owned()
    } else {
        format!("{:.2}", green_median / blue_median)
    };
    Judged {
        breached: result.p < test.alpha,
        shown: format!(
            "green median {green_median}, blue median {blue_median}, ratio {ratio}, p {:.4}, {n}",
            result.p
        ),
    }
}

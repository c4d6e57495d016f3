//! A check's `load`: a short load probe, in the manner of Flagger's load
//! tester, sent from the hook itself and judged by its latency and errors.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Send the check's request at a steady rate for a while, then judge the
/// run by its latency percentiles and its share of errors. Every response
/// is judged by the check's assertions; one that fails any of them, a
/// request that gets no response, and a request that could not be sent on
/// time (green not keeping up: too many requests still waiting) all count
/// as errors. The run fails when fewer requests than planned were sent.
/// Give at least one bound: `latency_ms` or `error_rate_at_most`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadSpec {
    /// Requests per second (1..=200), sent on a fixed schedule and never
    /// faster: a request that cannot go out on time is skipped, not sent
    /// late in a burst.
    #[schemars(range(min = 1, max = 200))]
    pub rps: u32,
    /// How long to send, in seconds (1..=120). The run must fit in the
    /// hook's time; it is cut at the hook's deadline and then fails.
    #[schemars(range(min = 1, max = 120))]
    pub duration_s: u32,
    /// Upper bounds on the response time percentiles, in milliseconds
    /// (nearest rank over every response of the run).
    pub latency_ms: Option<LatencySpec>,
    /// The largest share of errors allowed, from 0 to 1 (0.01 is 1%).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub error_rate_at_most: Option<f64>,
}

/// Latency percentiles that must not be exceeded, in milliseconds. Each is
/// optional; give at least one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LatencySpec {
    /// Half of the responses came back within this time.
    pub p50: Option<u64>,
    /// 95% of the responses came back within this time.
    pub p95: Option<u64>,
    /// 99% of the responses came back within this time.
    pub p99: Option<u64>,
}

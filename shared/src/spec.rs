//! The check spec as operators write it (JSON). These types define the wire
//! format and the published JSON Schema; `plan` validates them into something
//! that can run.

mod load;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use self::load::{LatencySpec, LoadSpec};
use crate::hook::HookName;

mod flow;

pub use flow::{CaptureSpec, Colour, CompareDetail, CompareSpec, StepSpec};
mod assertions;

pub use assertions::{
    AssertSpec, CertificateAssertSpec, DurationAssertSpec, HeaderAssertSpec, JsonAssertSpec,
    JsonSchemaAssertSpec, StatusRange, StatusSpec, TextAssertSpec,
};

/// What greenlight checks on the green task set, and how.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "greenlight check spec")]
pub struct Spec {
    /// Where the checks send their requests (default: the listener found from
    /// the deployment).
    #[serde(default)]
    pub target: TargetSpec,
    /// Waiting for green to be ready before any probe.
    #[serde(default)]
    pub readiness: ReadinessSpec,
    /// CloudWatch alarms that fail the hook when in ALARM.
    #[serde(default)]
    pub alarms: AlarmsSpec,
    /// Watching alarms and metrics for a while after production moved
    /// (AfterAllowTraffic only).
    pub bake: Option<BakeSpec>,
    /// How many checks may run at the same time (1..=128).
    #[serde(default = "default_concurrency")]
    #[schemars(range(min = 1, max = 128))]
    pub concurrency: u32,
    /// Defaults applied to every check that does not set its own.
    #[serde(default)]
    pub defaults: DefaultsSpec,
    /// The checks. Each hook runs those that name it (all checks name all hooks
    /// by default).
    pub checks: Vec<CheckSpec>,
}

fn default_concurrency() -> u32 {
    8
}

/// The service under test.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// Base URL of green. Leave it out to use the deployment's listener:
    /// the test listener for AfterAllowTestTraffic and BeforeAllowTraffic, the
    /// production listener for AfterAllowTraffic. Check paths are appended.
    pub url: Option<String>,
    /// Which listener of the deployment to probe, overriding the hook's
    /// default (`test` or `production`). Ignored when `url` is given.
    pub listener: Option<ListenerChoice>,
    /// Base URLs of the listeners, for requests that name one
    /// (`"listener": "production"`) when it is not found from the
    /// deployment: with `url`, or to judge outside CodeDeploy.
    #[serde(default)]
    pub listener_urls: ListenerUrlsSpec,
    /// Host name for the `Host` header, TLS SNI and certificate check, while
    /// the connection still goes to the load balancer's (or `url`'s) address,
    /// e.g. the name the certificate on the listener is issued for.
    pub host: Option<String>,
    /// Addresses to connect to instead of resolving a name, like curl's
    /// `--resolve`: `{"internal-alb-1.eu-west-1.elb.amazonaws.com": "10.0.3.7"}`.
    /// For private DNS setups.
    #[serde(default)]
    pub resolve: BTreeMap<String, String>,
    /// Extra trust anchors (PEM certificates) for a private CA, added to the
    /// system roots. TLS verification cannot be turned off.
    pub ca_pem: Option<String>,
}

/// A base URL for each listener.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListenerUrlsSpec {
    /// The test listener's base URL.
    pub test: Option<String>,
    /// The production listener's base URL.
    pub production: Option<String>,
}

/// A listener of the deployment group's target group pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListenerChoice {
    /// The test traffic route.
    Test,
    /// The production traffic route.
    Production,
}

/// Wait until green is ready: its task set steady with every task running,
/// and every target of its target group healthy. An ALB with no healthy target
/// fails open, so probing before then proves nothing.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadinessSpec {
    /// Wait for readiness (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Give up after this many milliseconds (default 300000, and never past
    /// the hook's deadline).
    pub timeout_ms: Option<u64>,
    /// Longest pause between polls in milliseconds (default 10000; polls
    /// start at 1000 and back off).
    pub interval_ms: Option<u64>,
}

impl Default for ReadinessSpec {
    fn default() -> Self {
        ReadinessSpec {
            enabled: true,
            timeout_ms: None,
            interval_ms: None,
        }
    }
}

/// CloudWatch alarms checked after the HTTP checks (and during a bake).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlarmsSpec {
    /// Also watch the alarms of the deployment group's alarm configuration
    /// (default true).
    #[serde(default = "yes")]
    pub deployment_group: bool,
    /// More alarm names to watch (at most 1000).
    #[serde(default)]
    #[schemars(length(max = 1000))]
    pub names: Vec<String>,
    /// Fail when an alarm's state cannot be read (missing alarm, API error).
    /// Default true: doubt means Failed.
    #[serde(default = "yes")]
    pub fail_if_unreadable: bool,
}

impl Default for AlarmsSpec {
    fn default() -> Self {
        AlarmsSpec {
            deployment_group: true,
            names: Vec::new(),
            fail_if_unreadable: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// Watch alarms and metric thresholds for a while, failing at the first
/// breach. Runs in AfterAllowTraffic only, once production is on green.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BakeSpec {
    /// The hook whose judgement ends in the bake (default
    /// `AfterAllowTraffic`, green in production). `AfterAllowTestTraffic`
    /// or `BeforeAllowTraffic` (or their ECS stages) bake green on the test
    /// listener while blue still serves production: the time to compare
    /// them side by side (`baseline.when: concurrent`).
    pub hook: Option<HookName>,
    /// How long to watch, in milliseconds; must fit in the hook's time.
    pub duration_ms: u64,
    /// Pause between looks, in milliseconds (default 10000).
    pub interval_ms: Option<u64>,
    /// Metric thresholds.
    #[serde(default)]
    pub metrics: Vec<MetricGateSpec>,
}

/// A CloudWatch value that must stay within a threshold: one metric's
/// statistic (`metric` and `stat`), or metric math over named metrics
/// (`expression` and `metrics`), evaluated by CloudWatch.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricGateSpec {
    /// Name for logs and the verdict (default: the metric name; required
    /// with `expression`).
    pub name: Option<String>,
    /// Namespace (default `AWS/ApplicationELB`). Only with `metric`.
    pub namespace: Option<String>,
    /// Metric name, e.g. `HTTPCode_Target_5XX_Count` or `TargetResponseTime`.
    /// Exactly one of `metric` and `expression`.
    pub metric: Option<String>,
    /// Statistic: `Sum`, `Average`, `Minimum`, `Maximum`, `SampleCount` or a
    /// percentile such as `p99`. Only with `metric`, and required with it.
    pub stat: Option<String>,
    /// Dimensions. `{green_target_group}` and `{load_balancer}` in a value
    /// are replaced by the green target group's and the load balancer's
    /// dimension values. Default for `AWS/ApplicationELB`:
    /// `{"TargetGroup": "{green_target_group}", "LoadBalancer": "{load_balancer}"}`.
    /// Only with `metric`.
    pub dimensions: Option<BTreeMap<String, String>>,
    /// CloudWatch metric math over the names of `metrics`, e.g.
    /// `100 * e / r`. Exactly one of `metric` and `expression`.
    pub expression: Option<String>,
    /// The metrics the expression names: each name (lowercase first, then
    /// letters, digits and `_`) with its metric. Only with `expression`.
    pub metrics: Option<BTreeMap<String, MetricStatSpec>>,
    /// Aggregation period in seconds (default 60), for every metric read.
    pub period_s: Option<u32>,
    /// Breach when the value is greater than this.
    pub greater_than: Option<f64>,
    /// Breach when the value is less than this.
    pub less_than: Option<f64>,
    /// Breach when green's value is more than this many times blue's
    /// (needs `baseline`), e.g. 1.2.
    pub at_most_ratio: Option<f64>,
    /// Breach when green's value is more than blue's plus this (needs
    /// `baseline`), e.g. 0.05 (seconds of latency, or points of a rate).
    pub at_most_increase: Option<f64>,
    /// Breach when green's per-period values are significantly higher than
    /// blue's in its baseline window (a one-sided Mann–Whitney U test, as
    /// Kayenta judges canaries; needs `baseline`).
    pub mann_whitney: Option<MannWhitneySpec>,
    /// Compare green with blue: the same metric on blue's target group,
    /// over a window that ends when the deployment began.
    pub baseline: Option<BaselineSpec>,
    /// Breaches allowed over the whole bake; one more fails it. Default 0
    /// (the first breach fails), or no limit when only
    /// `consecutive_breaches` is set.
    pub failure_limit: Option<u32>,
    /// Breaches in a row that fail the bake (at least 1).
    pub consecutive_breaches: Option<u32>,
    /// Fail the bake when the value has no datapoint in any look of the
    /// whole bake: the same as `min_datapoints: 1` (default false: the
    /// verdict then only warns that the gate saw nothing, which often means
    /// a typo in the metric's name or dimensions).
    #[serde(default)]
    pub require_data: bool,
    /// Fail the bake when fewer looks than this saw a datapoint.
    pub min_datapoints: Option<u32>,
}

/// Blue's values to compare green's with.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BaselineSpec {
    /// Which of blue's values: `before_deployment` (the default: a window
    /// that ends when the deployment began) or `concurrent` (the same
    /// recent periods as green's, while both serve traffic: a bake before
    /// AllowTraffic).
    pub when: Option<BlueWindowSpec>,
    /// How long blue's window is, in seconds (default 3600; a multiple of
    /// 60, at most 86400). Before the deployment, blue's value is the
    /// gate's statistic over that whole window; for `mann_whitney`, and
    /// for `concurrent`, it is how far back both sides are read.
    pub window_s: Option<u32>,
    /// What a look decides when blue has no value (no traffic in the
    /// window, or blue's target group or the deployment's start unknown):
    /// `fail` (the default: doubt means Failed) or `pass`.
    pub inconclusive: Option<Inconclusive>,
}

/// The statistical rule: green's values in each period since the
/// deployment began against blue's in each period of its window.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MannWhitneySpec {
    /// Breach when the one-sided p-value is below this (default 0.05; more
    /// than 0, at most 0.5).
    pub alpha: Option<f64>,
    /// Periods with a value each side needs before the test decides
    /// (default 10, from 5 to 1440); fewer is inconclusive.
    pub min_samples: Option<u32>,
}

/// Which of blue's values a baseline compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BlueWindowSpec {
    /// A window that ends when the deployment began.
    BeforeDeployment,
    /// The same periods as green's.
    Concurrent,
}

/// What an inconclusive comparison decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Inconclusive {
    /// A breach.
    Fail,
    /// No breach.
    Pass,
}

/// One metric of a metric math expression.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricStatSpec {
    /// Namespace (default `AWS/ApplicationELB`).
    pub namespace: Option<String>,
    /// Metric name.
    pub metric: String,
    /// Statistic, as for a metric gate.
    pub stat: String,
    /// Dimensions, with the same placeholders and default as a metric gate's.
    pub dimensions: Option<BTreeMap<String, String>>,
}

/// Defaults for every check.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultsSpec {
    /// Per-request timeout in milliseconds (default 5000).
    pub timeout_ms: Option<u64>,
    /// Retry policy (default: 3 attempts, 1000 ms apart).
    pub retry: Option<RetrySpec>,
}

/// One HTTP check: a request and what its response must satisfy.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// Unique name, used in logs and in the verdict.
    pub name: String,
    /// Which hooks run this check (default: all three): CodeDeploy event
    /// names, or the ECS stages that are their moments
    /// (`POST_TEST_TRAFFIC_SHIFT`, `PRE_PRODUCTION_TRAFFIC_SHIFT`,
    /// `POST_PRODUCTION_TRAFFIC_SHIFT`).
    pub hooks: Option<Vec<HookName>>,
    /// HTTP method (default GET).
    pub method: Option<String>,
    /// Path (and query) appended to the target URL; starts with `/`
    /// (default `/`).
    pub path: Option<String>,
    /// Request headers. A value is a string, or `{"value": "...", "secret": true}`
    /// to keep it out of every log line. Authorization, Proxy-Authorization,
    /// Cookie and X-Api-Key values are always treated as secret.
    #[serde(default)]
    pub headers: BTreeMap<String, HeaderValueSpec>,
    /// Request body, sent as is (at most 256 KiB).
    pub body: Option<String>,
    /// Follow redirects. Left out, none is followed and a 3xx is the response
    /// the assertions see.
    pub follow_redirects: Option<RedirectSpec>,
    /// Per-request timeout in milliseconds (overrides `defaults.timeout_ms`).
    pub timeout_ms: Option<u64>,
    /// Retry policy; fields it leaves out come from `defaults.retry`.
    pub retry: Option<RetrySpec>,
    /// Assertions; all must hold for an attempt to pass.
    #[serde(default, rename = "assert")]
    pub asserts: Vec<AssertSpec>,
    /// Which listener the request goes to: `test` (green, before production
    /// moves) or `production` (blue before AllowTraffic, green after).
    /// Default: `target.listener`, else the hook's own (test before
    /// AllowTraffic, production after).
    pub listener: Option<ListenerChoice>,
    /// Which colour the request means to reach. Before AllowTraffic a
    /// request on the production listener reaches blue: it must say
    /// `"expect": "blue"`, and its check may then run only before
    /// AllowTraffic (`hooks`).
    pub expect: Option<Colour>,
    /// A flow: requests sent in order, later ones using what earlier ones
    /// captured (`{{name}}`), with the cookies they were given. Instead of
    /// this check's own `method`, `path`, `headers`, `body`,
    /// `follow_redirects`, `listener`, `expect` and `assert`. Retries
    /// repeat the whole flow, from a new cookie jar.
    pub steps: Option<Vec<StepSpec>>,
    /// Also send the request to blue (on the production listener, before
    /// AllowTraffic) and require green's answer to be compatible: the same
    /// status, and every field of blue's JSON present in green's with the
    /// same type. New fields in green are fine.
    pub compare: Option<CompareSpec>,
    /// A short load probe instead of one request: this check's request
    /// sent `rps` times a second for `duration_s` to green, each response
    /// judged by `assert`, and the latency percentiles and error rate
    /// bounded. It runs once (no `retry`), and never on blue.
    pub load: Option<LoadSpec>,
}

/// Which redirects a check follows. A redirect to another origin (scheme,
/// host, port) is refused unless its host is listed, secret headers and the
/// body are never sent to another origin, and https never falls back to http.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedirectSpec {
    /// Most redirects followed per request (1..=10); one more fails the
    /// attempt (a loop does).
    #[schemars(range(min = 1, max = 10))]
    pub max: u32,
    /// Other hosts a redirect may lead to: `login.example.com` (on its
    /// scheme's default port) or `login.example.com:8443`. Without it a
    /// redirect stays on the target's scheme, host and port, and never goes
    /// from https to http.
    #[serde(default)]
    pub hosts: Vec<String>,
}

/// A request header value.
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "a header value: a string, or {\"value\": \"...\", \"secret\": true}"
)]
pub enum HeaderValueSpec {
    /// A plain value.
    Plain(String),
    /// A value that may be secret.
    Detailed(DetailedHeaderValue),
}

/// A header value with options.
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetailedHeaderValue {
    /// The header value.
    pub value: String,
    /// Never log this value (a misspelt key is an error, not a leak).
    #[serde(default)]
    pub secret: bool,
}

/// Header values may be secrets: `Debug` never shows them.
impl std::fmt::Debug for HeaderValueSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HeaderValueSpec(<not shown>)")
    }
}

impl std::fmt::Debug for DetailedHeaderValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DetailedHeaderValue {{ value: <not shown>, secret: {} }}",
            self.secret
        )
    }
}

/// How often a check is tried before it fails.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Maximum number of attempts (1..=1000). Default 3, or unlimited within
    /// `within_ms` when that is set.
    pub attempts: Option<u32>,
    /// Pause between attempts in milliseconds (default 1000).
    pub interval_ms: Option<u64>,
    /// Keep trying until the check passes: attempts start within this window,
    /// in milliseconds from the first attempt (an attempt started in it may
    /// end just after it); bounded by the hook's deadline in any case.
    pub within_ms: Option<u64>,
    /// Passing attempts in a row needed for the check to pass (default 1).
    pub consecutive_passes: Option<u32>,
}

impl RetrySpec {
    /// This policy, with the fields it leaves out taken from `defaults`.
    pub fn or(&self, defaults: Option<&RetrySpec>) -> RetrySpec {
        let Some(d) = defaults else {
            return self.clone();
        };
        RetrySpec {
            // A window of its own without attempts means "as many as fit".
            attempts: if self.within_ms.is_some() {
                self.attempts
            } else {
                self.attempts.or(d.attempts)
            },
            interval_ms: self.interval_ms.or(d.interval_ms),
            within_ms: self.within_ms.or(d.within_ms),
            consecutive_passes: self.consecutive_passes.or(d.consecutive_passes),
        }
    }
}

/// The JSON Schema of the spec, as published in `schema/greenlight-spec.schema.json`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Spec);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
/// Where the operator wrote an array for what was read as an object: serde
/// fills a struct's fields from an array, in order (`"retry": [1, null]`
/// would mean `{"attempts": 1}`), which the schema does not allow and nobody
/// means. `written` is the spec as parsed JSON, `read` the [`Spec`] serialized
/// back; each path is in serde's notation (`checks[0].retry`).
pub fn positional_arrays(written: &Value, read: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk(written, read, String::new(), &mut found);
    found
}

fn walk(written: &Value, read: &Value, path: String, found: &mut Vec<String>) {
    match (written, read) {
        (Value::Array(_), Value::Object(_)) => found.push(path),
        (Value::Object(written), Value::Object(read)) => {
            for (key, value) in written {
                if let Some(was_read) = read.get(key) {
                    let at = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    walk(value, was_read, at, found);
                }
            }
        }
        (Value::Array(written), Value::Array(read)) => {
            for (i, (value, was_read)) in written.iter().zip(read).enumerate() {
                walk(value, was_read, format!("{path}[{i}]"), found);
            }
        }
        _ => {}
    }
}

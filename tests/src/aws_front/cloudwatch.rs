//! CloudWatch `DescribeAlarms` and `GetMetricData`, served from staged state:
//! the Rust SDK speaks Smithy RPC v2 CBOR to CloudWatch, which moto does not.
//!
//! Wire format: `POST /service/GraniteServiceVersion20100801/operation/<Op>`,
//! CBOR maps keyed by the members' PascalCase names, timestamps as CBOR tag 1
//! (epoch seconds); answers carry `content-type: application/cbor` and
//! `smithy-protocol: rpc-v2-cbor`; errors are `{"__type", "message"}` with the
//! awsQuery code in `x-amzn-query-error: <Code>;Sender` (CloudWatch is
//! query-compatible, and the SDK takes the code from there).

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use ciborium::Value;

use super::{AwsFront, Errors, Reply, State};

impl AwsFront {
    /// The per-period values (newest first, one a minute back from the end
    /// of the query's window) that every read of a statistic matching `key`
    /// returns, for a gate that compares series: a rule over many periods
    /// in one read, where [`AwsFront::set_metric`] gives one value a read.
    pub fn set_series(&self, key: MetricKey, values: Vec<f64>) {
        let mut state = self.shared.state();
        state.series.retain(|(k, _)| *k != key);
        state.series.push((key, values));
    }
}

/// A metric alarm's `StateValue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    /// `OK`.
    Ok,
    /// `ALARM`.
    Alarm,
    /// `INSUFFICIENT_DATA`.
    InsufficientData,
}

impl AlarmState {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    fn reason(self) -> &'static str {
        match self {
            AlarmState::Ok => {
                "Threshold Crossed: 1 datapoint [0.0] was not greater than the threshold (1.0)."
            }
            AlarmState::Alarm => {
                "Threshold Crossed: 1 datapoint [5.0] was greater than the threshold (1.0)."
            }
            AlarmState::InsufficientData => "Insufficient Data: 1 datapoint was unknown.",
        }
    }
}

/// Which `GetMetricData` queries a staged value answers: those whose metric
/// has this name (or, for an `Expression` query, whose `Id` is this name),
/// and, if set, a dimension with this value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricKey {
    /// `MetricName`, or the query `Id` of an expression.
    pub name: String,
    /// A dimension value the metric must have, e.g. the target group's
    /// `targetgroup/green/…`.
    pub dimension: Option<String>,
}

impl MetricKey {
    /// Any metric named `name`.
    pub fn named(name: &str) -> Self {
        MetricKey {
            name: name.to_owned(),
            dimension: None,
        }
    }

    /// Only the metric with a dimension whose value is `value`.
    pub fn with_dimension(mut self, value: &str) -> Self {
        self.dimension = Some(value.to_owned());
        self
    }
}

/// A `GetMetricData` result's `StatusCode` other than `Complete`, and the
/// `Messages` it carries: how CloudWatch says that a result is not the
/// whole answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricStatus {
    /// `InternalError`, `Forbidden` or `PartialData` (or `Complete`, with
    /// messages).
    pub code: String,
    /// `(Code, Value)` of each message.
    pub messages: Vec<(String, String)>,
}

impl MetricStatus {
    /// `code`, with one message `(message_code, value)`.
    pub fn new(code: &str, message_code: &str, value: &str) -> Self {
        MetricStatus {
            code: code.to_owned(),
            messages: vec![(message_code.to_owned(), value.to_owned())],
        }
    }
}

/// Most alarm names one `DescribeAlarms` call may carry, as in CloudWatch.
pub const MAX_ALARM_NAMES: usize = 100;
/// Most alarms on one page of `DescribeAlarms`, whatever `MaxRecords` says:
/// small enough that a hook watching a few dozen alarms meets `NextToken`.
pub const ALARMS_PER_PAGE: usize = 40;

/// Answers one CloudWatch operation.
pub(super) fn answer(state: &mut State, operation: &str, body: &[u8]) -> Reply {
    let Ok(request) = ciborium::de::from_reader::<Value, _>(body) else {
        return cbor_error(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            "the request body is not CBOR",
            None,
        );
    };
    match operation {
        "DescribeAlarms" => describe_alarms(state, &request),
        "GetMetricData" => get_metric_data(state, &request),
        other => cbor_error(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            &format!("not served here: {other}"),
            None,
        ),
    }
}

/// A CloudWatch error in its protocol.
pub(super) fn error(status: StatusCode, kind: Errors, message: &str) -> Reply {
    cbor_error(status, kind.json, message, Some(kind.query))
}

fn cbor_error(status: StatusCode, kind: &str, message: &str, query_code: Option<&str>) -> Reply {
    let body = map(vec![
        ("__type", text(&format!("com.amazonaws.cloudwatch#{kind}"))),
        ("message", text(message)),
    ]);
    let reply = cbor_reply(status, &body);
    match query_code {
        Some(code) => reply.header("x-amzn-query-error", &format!("{code};Sender")),
        None => reply,
    }
}

fn cbor_reply(status: StatusCode, body: &Value) -> Reply {
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(body, &mut bytes).expect("CBOR encodes into memory");
    Reply::new(status, "application/cbor", bytes).header("smithy-protocol", "rpc-v2-cbor")
}

/// `DescribeAlarms`: the staged metric alarms, narrowed by `AlarmNames`,
/// `AlarmNamePrefix`, `StateValue` and `AlarmTypes` as CloudWatch does.
/// As CloudWatch, it refuses more than 100 `AlarmNames` and answers in pages
/// (`MaxRecords`, default 50, and at most [`ALARMS_PER_PAGE`] here), each
/// but the last with a `NextToken`.
fn describe_alarms(state: &mut State, request: &Value) -> Reply {
    let names: Vec<&str> = strings(get(request, "AlarmNames"));
    if names.len() > MAX_ALARM_NAMES {
        return cbor_error(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            &format!(
                "1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to {MAX_ALARM_NAMES} (got {})",
                names.len()
            ),
            Some("ValidationError"),
        );
    }
    let prefix = get(request, "AlarmNamePrefix").and_then(Value::as_text);
    let wanted_state = get(request, "StateValue").and_then(Value::as_text);
    let types: Vec<&str> = strings(get(request, "AlarmTypes"));
    let max_records = get(request, "MaxRecords")
        .and_then(Value::as_integer)
        .and_then(|n| usize::try_from(i128::from(n)).ok())
        .unwrap_or(50);
    let page_size = max_records.clamp(1, ALARMS_PER_PAGE);
    let from = match get(request, "NextToken").and_then(Value::as_text) {
        None => 0,
        Some(token) => match token.strip_prefix("page-").and_then(|n| n.parse().ok()) {
            Some(from) => from,
            None => {
                return cbor_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidNextToken",
                    "The service couldn't process your request because the next token is invalid.",
                    Some("InvalidNextToken"),
                );
            }
        },
    };
    let now = now_seconds();
    let mut alarms = Vec::new();
    let mut next_token = None;
    if types.is_empty() || types.contains(&"MetricAlarm") {
        let matching: Vec<String> = state
            .alarms
            .keys()
            .filter(|name| {
                (names.is_empty() || names.contains(&name.as_str()))
                    && prefix.is_none_or(|p| name.starts_with(p))
            })
            .cloned()
            .collect();
        if matching.len() > from + page_size {
            next_token = Some(format!("page-{}", from + page_size));
        }
        for name in matching.iter().skip(from).take(page_size) {
            let Some(playing) = state.alarms.get_mut(name) else {
                continue;
            };
            let alarm_state = playing.next();
            if wanted_state.is_some_and(|s| s != alarm_state.as_str()) {
                continue;
            }
            alarms.push(map(vec![
                ("AlarmName", text(name)),
                (
                    "AlarmArn",
                    text(&format!(
                        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
                    )),
                ),
                ("ActionsEnabled", Value::Bool(true)),
                ("StateValue", text(alarm_state.as_str())),
                ("StateReason", text(alarm_state.reason())),
                ("StateUpdatedTimestamp", timestamp(now)),
            ]));
        }
    }
    let mut answer = vec![
        ("MetricAlarms", Value::Array(alarms)),
        ("CompositeAlarms", Value::Array(Vec::new())),
    ];
    if let Some(token) = next_token {
        answer.push(("NextToken", text(&token)));
    }
    cbor_reply(StatusCode::OK, &map(answer))
}

/// `GetMetricData`: one result per query with `ReturnData` not false, each
/// with the staged value (one datapoint, now within the asked window) or no
/// datapoints.
fn get_metric_data(state: &mut State, request: &Value) -> Reply {
    let start = get(request, "StartTime").and_then(epoch_seconds);
    let end = get(request, "EndTime").and_then(epoch_seconds);
    let mut at = now_seconds();
    if let Some(end) = end {
        at = at.min(end);
    }
    if let Some(start) = start {
        at = at.max(start);
    }
    let queries: Vec<&Value> = get(request, "MetricDataQueries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    // Each metric's value, by query ID, read once per call (a staged series
    // moves on one value a call, as a period would), whether it returns
    // data or only feeds an expression.
    let mut values: HashMap<&str, Option<f64>> = HashMap::new();
    for query in &queries {
        let id = get(query, "Id")
            .and_then(Value::as_text)
            .unwrap_or_default();
        if let Some(metric) = get(query, "MetricStat").and_then(|stat| get(stat, "Metric")) {
            values.insert(id, staged(state, &query_key(id, Some(metric))));
        }
    }
    let mut results = Vec::new();
    for query in queries {
        if get(query, "ReturnData").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let id = get(query, "Id")
            .and_then(Value::as_text)
            .unwrap_or_default();
        let metric = get(query, "MetricStat").and_then(|stat| get(stat, "Metric"));
        let metric_name = metric
            .and_then(|m| get(m, "MetricName"))
            .and_then(Value::as_text);
        let label = get(query, "Label")
            .and_then(Value::as_text)
            .or(metric_name)
            .unwrap_or(id);
        let key = query_key(id, metric);
        let value = match (
            values.get(id),
            get(query, "Expression").and_then(Value::as_text),
        ) {
            (Some(value), _) => *value,
            // An expression staged by its ID answers that; otherwise it is
            // computed from the metrics it names, as CloudWatch would.
            (None, Some(expression)) => match staged_index(state, &key) {
                Some(i) => state.metrics[i].1.next(),
                None => evaluate(expression, &values),
            },
            (None, None) => None,
        };
        let series = state
            .series
            .iter()
            .find(|(k, _)| k.dimension.is_some() && key.matches(k))
            .or_else(|| state.series.iter().find(|(k, _)| key.matches(k)))
            .filter(|_| metric.is_some())
            .map(|(_, series)| series.clone());
        let (timestamps, values) = match (series, value) {
            (Some(series), _) => (
                (0..series.len())
                    .map(|i| timestamp(at - 60.0 * i as f64))
                    .collect(),
                series.into_iter().map(Value::Float).collect(),
            ),
            (None, Some(value)) => (vec![timestamp(at)], vec![Value::Float(value)]),
            (None, None) => (Vec::new(), Vec::new()),
        };
        let status = state
            .metric_statuses
            .iter()
            .find(|(k, _)| k.dimension.is_some() && key.matches(k))
            .or_else(|| state.metric_statuses.iter().find(|(k, _)| key.matches(k)))
            .map(|(_, status)| status.clone());
        let mut result = vec![
            ("Id", text(id)),
            ("Label", text(label)),
            ("Timestamps", Value::Array(timestamps)),
            ("Values", Value::Array(values)),
        ];
        match status {
            Some(status) => {
                result.push(("StatusCode", text(&status.code)));
                result.push(("Messages", messages(&status.messages)));
            }
            None => result.push(("StatusCode", text("Complete"))),
        }
        results.push(map(result));
    }
    cbor_reply(
        StatusCode::OK,
        &map(vec![
            ("MetricDataResults", Value::Array(results)),
            ("Messages", messages(&state.metric_data_messages)),
        ]),
    )
}

/// What a query asks for: its metric's name (an expression's: its ID) and
/// its dimensions' values.
struct QueryKey<'a> {
    name: &'a str,
    dimensions: Vec<&'a str>,
}

impl QueryKey<'_> {
    /// Whether a staged `key` answers this query.
    fn matches(&self, key: &MetricKey) -> bool {
        key.name == self.name
            && key
                .dimension
                .as_deref()
                .is_none_or(|d| self.dimensions.contains(&d))
    }
}

fn query_key<'a>(id: &'a str, metric: Option<&'a Value>) -> QueryKey<'a> {
    QueryKey {
        name: metric
            .and_then(|m| get(m, "MetricName"))
            .and_then(Value::as_text)
            .unwrap_or(id),
        dimensions: get_all_dimension_values(metric),
    }
}

/// The staged series answering `key`: the most specific one, with a
/// dimension, first.
fn staged_index(state: &State, key: &QueryKey<'_>) -> Option<usize> {
    state
        .metrics
        .iter()
        .position(|(k, _)| k.dimension.is_some() && key.matches(k))
        .or_else(|| state.metrics.iter().position(|(k, _)| key.matches(k)))
}

/// The next value of the series answering `key` (none staged: no data).
fn staged(state: &mut State, key: &QueryKey<'_>) -> Option<f64> {
    staged_index(state, key).and_then(|i| state.metrics[i].1.next())
}

/// Metric math over the values by query ID, for the arithmetic that tests
/// use (`100 * e / r`). As in CloudWatch, a metric without a datapoint, or
/// a result that is not a number (a division by zero), gives no datapoint.
fn evaluate(expression: &str, values: &HashMap<&str, Option<f64>>) -> Option<f64> {
    use evalexpr::{ContextWithMutableVariables, HashMapContext};
    let mut context = HashMapContext::new();
    for (id, value) in values {
        if let Some(value) = value {
            context
                .set_value((*id).to_owned(), evalexpr::Value::Float(*value))
                .expect("a float variable");
        }
    }
    evalexpr::eval_number_with_context(expression, &context)
        .ok()
        .filter(|value| value.is_finite())
}

/// `MessageData` entries: `{Code, Value}`.
fn messages(messages: &[(String, String)]) -> Value {
    Value::Array(
        messages
            .iter()
            .map(|(code, value)| map(vec![("Code", text(code)), ("Value", text(value))]))
            .collect(),
    )
}

fn get_all_dimension_values(metric: Option<&Value>) -> Vec<&str> {
    metric
        .and_then(|m| get(m, "Dimensions"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| get(d, "Value").and_then(Value::as_text))
        .collect()
}

fn get<'a>(map: &'a Value, key: &str) -> Option<&'a Value> {
    map.as_map()?
        .iter()
        .find(|(k, _)| k.as_text() == Some(key))
        .map(|(_, v)| v)
}

fn strings(list: Option<&Value>) -> Vec<&str> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_text)
        .collect()
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect())
}

/// A timestamp: CBOR tag 1 around epoch seconds, to the millisecond.
fn timestamp(seconds: f64) -> Value {
    Value::Tag(
        1,
        Box::new(Value::Float((seconds * 1000.0).round() / 1000.0)),
    )
}

fn epoch_seconds(value: &Value) -> Option<f64> {
    match value {
        Value::Tag(1, inner) => match inner.as_ref() {
            Value::Float(seconds) => Some(*seconds),
            Value::Integer(seconds) => Some(i128::from(*seconds) as f64),
            _ => None,
        },
        _ => None,
    }
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64()
}

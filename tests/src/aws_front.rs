//! One local endpoint for every AWS API a hook calls: CodeDeploy, ECS, ELBv2,
//! CloudWatch and Lambda. It serves what moto lacks (lifecycle statuses,
//! deployment targets, CloudWatch over RPC v2 CBOR, Lambda `Invoke`), patches
//! what moto answers too simply (alarm configuration, task set stability,
//! target health), forwards the rest to moto, records every call, and
//! injects faults per operation.
//!
//! All `AWS_ENDPOINT_URL_<SERVICE>` variables point here, so requests are told
//! apart by protocol: `x-amz-target` (AWS JSON 1.1: CodeDeploy, ECS), a form
//! body with `Action=` (awsQuery: ELBv2, and EC2 forwarded), the RPC v2 CBOR
//! path (CloudWatch), or the REST-JSON `Invoke` path (Lambda).

mod cloudwatch;
mod deployments;
mod lambda;
mod service_deployments;
mod target_health;
mod task_sets;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub use cloudwatch::{ALARMS_PER_PAGE, AlarmState, MAX_ALARM_NAMES, MetricKey, MetricStatus};
pub use deployments::{AlarmConfiguration, EcsTarget, TaskSetInfo, TaskSetLabel};
pub use lambda::LambdaInvocation;
pub use service_deployments::ServiceDeployment;
pub use target_health::TargetHealth;
pub use task_sets::{Stability, TaskSetState};

use crate::codedeploy::{BAD_GATEWAY_HTML, Fault, Ledger, PUT_STATUS, StatusCall};
use crate::{ServerHandle, bind, serve};

/// The AWS service a call was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// CodeDeploy (AWS JSON 1.1).
    CodeDeploy,
    /// ECS (AWS JSON 1.1).
    Ecs,
    /// Elastic Load Balancing v2 (awsQuery).
    Elbv2,
    /// CloudWatch (Smithy RPC v2 CBOR).
    CloudWatch,
    /// Lambda (REST-JSON; only `Invoke`).
    Lambda,
    /// Anything else (forwarded to moto as is), e.g. EC2.
    Other,
}

/// One API call the front received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCall {
    /// Which service.
    pub service: Service,
    /// The operation, e.g. `DescribeTargetHealth`.
    pub operation: String,
    /// The HTTP status the front answered; 0 while a call is held (a
    /// stall), and for good if the caller gave up first.
    pub answered: u16,
    /// When the call arrived.
    pub at: Instant,
    /// The request as received: method, URI, headers and body (lossy UTF-8),
    /// for checks that nothing secret was sent to AWS.
    pub request: String,
}

/// A value that changes while a hook runs, e.g. targets unhealthy for 2 s,
/// then healthy. Times count from when the script is handed to the front; a
/// plain value converts into a script that never changes.
#[derive(Debug, Clone)]
pub struct Script<T> {
    timeline: Timeline<T>,
}

#[derive(Debug, Clone)]
enum Timeline<T> {
    /// `(from, value)`, sorted by `from`; the first starts at zero.
    Timed(Vec<(Duration, T)>),
    /// One value per call, the last one repeating.
    PerCall(Vec<T>),
}

impl<T: Clone> Script<T> {
    /// `value` from the start.
    pub fn new(value: T) -> Self {
        Script {
            timeline: Timeline::Timed(vec![(Duration::ZERO, value)]),
        }
    }

    /// `value` from `after` on (measured from when the front gets the
    /// script); on a per-call script, simply the next value.
    pub fn then_after(mut self, after: Duration, value: T) -> Self {
        match &mut self.timeline {
            Timeline::Timed(steps) => {
                steps.push((after, value));
                steps.sort_by_key(|(from, _)| *from);
            }
            Timeline::PerCall(values) => values.push(value),
        }
        self
    }

    /// One value per call, in order; the last one repeats.
    ///
    /// Panics when `values` is empty.
    pub fn per_call(values: Vec<T>) -> Self {
        assert!(!values.is_empty(), "a per-call script needs a value");
        Script {
            timeline: Timeline::PerCall(values),
        }
    }
}

impl<T: Clone> From<T> for Script<T> {
    fn from(value: T) -> Self {
        Script::new(value)
    }
}

/// A script being played: it knows when it started and how often it was read.
#[derive(Debug)]
struct Playing<T> {
    script: Script<T>,
    since: Instant,
    calls: usize,
}

impl<T: Clone> Playing<T> {
    fn new(script: Script<T>) -> Self {
        Playing {
            script,
            since: Instant::now(),
            calls: 0,
        }
    }

    /// The value now (and counts this call).
    fn next(&mut self) -> T {
        self.calls += 1;
        match &self.script.timeline {
            Timeline::Timed(steps) => {
                let elapsed = self.since.elapsed();
                steps
                    .iter()
                    .rev()
                    .find(|(from, _)| *from <= elapsed)
                    .or(steps.first())
                    .map(|(_, value)| value.clone())
                    .expect("a script has a first value")
            }
            Timeline::PerCall(values) => values[(self.calls - 1).min(values.len() - 1)].clone(),
        }
    }
}

#[derive(Debug, Default)]
struct Faults {
    /// Used once each, in order, before `always`.
    queued: VecDeque<Fault>,
    /// Used for every call once the queue is empty.
    always: Option<Fault>,
}

/// What the front knows: the calls so far and the world the test staged.
#[derive(Debug, Default)]
struct State {
    calls: Vec<ApiCall>,
    ledger: Ledger,
    faults: HashMap<String, Faults>,
    /// ECS deployment targets by deployment ID.
    targets: HashMap<String, Vec<EcsTarget>>,
    /// By deployment group name.
    alarm_configurations: HashMap<String, AlarmConfiguration>,
    /// By task set ID or ARN.
    task_sets: HashMap<String, Playing<TaskSetState>>,
    /// By target group ARN.
    target_health: HashMap<String, Playing<Vec<TargetHealth>>>,
    /// ECS-native service deployments.
    service_deployments: Vec<service_deployments::Staged>,
    /// By alarm name.
    alarms: BTreeMap<String, Playing<AlarmState>>,
    metrics: Vec<(MetricKey, Playing<Option<f64>>)>,
    /// Per-period values every read of a metric returns, newest first.
    series: Vec<(MetricKey, Vec<f64>)>,
    /// `StatusCode` and `Messages` of the results for matching metrics.
    metric_statuses: Vec<(MetricKey, MetricStatus)>,
    /// `GetMetricData`'s top-level `Messages`.
    metric_data_messages: Vec<(String, String)>,
    /// Lambda invokes answered with success, in order.
    invocations: Vec<LambdaInvocation>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    moto: Option<String>,
    http: reqwest::Client,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("lock")
    }
}

/// The front. Dropping it stops the server.
#[derive(Debug)]
pub struct AwsFront {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _server: ServerHandle,
}

impl AwsFront {
    /// Starts the front on an ephemeral loopback port, forwarding to moto at
    /// `moto_url` (without moto, whatever the front does not serve itself is
    /// answered `UnknownOperationException`).
    pub async fn start(moto_url: Option<String>) -> Self {
        Self::start_on("127.0.0.1:0", moto_url).await
    }

    /// Starts the front on `addr`.
    pub async fn start_on(addr: &str, moto_url: Option<String>) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            moto: moto_url.map(|url| url.trim_end_matches('/').to_owned()),
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("HTTP client"),
        });
        let router = Router::new().fallback(handle).with_state(shared.clone());
        let (listener, addr) = bind(addr).await;
        AwsFront {
            addr,
            shared,
            _server: serve(listener, router),
        }
    }

    /// The endpoint URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The environment that points a hook's AWS SDK here: every per-service
    /// endpoint variable, and `AWS_ENDPOINT_URL` for any other service, so
    /// nothing reaches real AWS.
    pub fn endpoint_env(&self) -> Vec<(&'static str, String)> {
        [
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_CODEDEPLOY",
            "AWS_ENDPOINT_URL_ECS",
            "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2",
            "AWS_ENDPOINT_URL_CLOUDWATCH",
            "AWS_ENDPOINT_URL_LAMBDA",
        ]
        .into_iter()
        .map(|name| (name, self.url()))
        .collect()
    }

    /// Answers every call to `operation` (e.g. `GetDeploymentGroup`) with
    /// `fault`, in that service's protocol, until [`AwsFront::heal`].
    pub fn fail(&self, operation: &str, fault: Fault) {
        self.shared
            .state()
            .faults
            .entry(operation.to_owned())
            .or_default()
            .always = Some(fault);
    }

    /// Answers the next calls to `operation` with these faults, in order.
    pub fn fail_next(&self, operation: &str, faults: &[Fault]) {
        self.shared
            .state()
            .faults
            .entry(operation.to_owned())
            .or_default()
            .queued
            .extend(faults.iter().copied());
    }

    /// Stops injecting faults into `operation`.
    pub fn heal(&self, operation: &str) {
        self.shared.state().faults.remove(operation);
    }

    /// Answers the next `PutLifecycleEventHookExecutionStatus` calls with
    /// these faults, in order.
    pub fn inject(&self, faults: &[Fault]) {
        self.fail_next(PUT_STATUS, faults);
    }

    /// Every `PutLifecycleEventHookExecutionStatus` call so far.
    pub fn status_calls(&self) -> Vec<StatusCall> {
        self.shared.state().ledger.calls().to_vec()
    }

    /// The status calls CodeDeploy took (HTTP 200).
    pub fn accepted(&self) -> Vec<StatusCall> {
        self.status_calls()
            .into_iter()
            .filter(StatusCall::accepted)
            .collect()
    }

    /// Every API call so far, in order.
    pub fn api_calls(&self) -> Vec<ApiCall> {
        self.shared.state().calls.clone()
    }

    /// How many calls `operation` got.
    pub fn count(&self, operation: &str) -> usize {
        self.shared
            .state()
            .calls
            .iter()
            .filter(|call| call.operation == operation)
            .count()
    }

    /// Forgets the calls so far (e.g. the fixture's setup calls).
    pub fn clear_calls(&self) {
        self.shared.state().calls.clear();
    }

    /// The targets `ListDeploymentTargets` and `BatchGetDeploymentTargets`
    /// describe for `deployment_id` (replacing any set before). A deployment
    /// without targets set does not exist for those two operations.
    pub fn set_deployment_targets(&self, deployment_id: &str, targets: Vec<EcsTarget>) {
        self.shared
            .state()
            .targets
            .insert(deployment_id.to_owned(), targets);
    }

    /// The `alarmConfiguration` `GetDeploymentGroup` reports for the group
    /// named `deployment_group` (moto always reports an empty one).
    pub fn set_alarm_configuration(&self, deployment_group: &str, config: AlarmConfiguration) {
        self.shared
            .state()
            .alarm_configurations
            .insert(deployment_group.to_owned(), config);
    }

    /// Stages an ECS-native service deployment; green's running task count
    /// follows `running`.
    pub fn set_service_deployment(
        &self,
        deployment: ServiceDeployment,
        running: impl Into<Script<i32>>,
    ) {
        let mut state = self.shared.state();
        state
            .service_deployments
            .retain(|s| s.arn() != deployment.arn);
        state
            .service_deployments
            .push(service_deployments::Staged::new(deployment, running.into()));
    }

    /// What `DescribeTaskSets` (and `DescribeServices`) report for the task
    /// set with this ID or ARN (moto: always steady, no counts).
    pub fn set_task_set(&self, id_or_arn: &str, state: impl Into<Script<TaskSetState>>) {
        self.shared
            .state()
            .task_sets
            .insert(id_or_arn.to_owned(), Playing::new(state.into()));
    }

    /// What `DescribeTargetHealth` reports for the target group with this ARN
    /// (moto: every registered target always healthy).
    pub fn set_target_health(
        &self,
        target_group_arn: &str,
        targets: impl Into<Script<Vec<TargetHealth>>>,
    ) {
        self.shared
            .state()
            .target_health
            .insert(target_group_arn.to_owned(), Playing::new(targets.into()));
    }

    /// Creates (or replaces) the CloudWatch metric alarm `name` with this
    /// state, as `DescribeAlarms` reports it.
    pub fn set_alarm(&self, name: &str, state: impl Into<Script<AlarmState>>) {
        self.shared
            .state()
            .alarms
            .insert(name.to_owned(), Playing::new(state.into()));
    }

    /// The value `GetMetricData` reports for queries matching `key` (`None`:
    /// no datapoints).
    pub fn set_metric(&self, key: MetricKey, values: impl Into<Script<Option<f64>>>) {
        let mut state = self.shared.state();
        state.metrics.retain(|(k, _)| *k != key);
        state.metrics.push((key, Playing::new(values.into())));
    }

    /// The `StatusCode` and `Messages` of `GetMetricData` results for queries
    /// matching `key` (otherwise `Complete`, no messages).
    pub fn set_metric_status(&self, key: MetricKey, status: MetricStatus) {
        let mut state = self.shared.state();
        state.metric_statuses.retain(|(k, _)| *k != key);
        state.metric_statuses.push((key, status));
    }

    /// `GetMetricData`'s top-level `Messages`, `(Code, Value)` each.
    pub fn set_metric_data_messages(&self, messages: &[(&str, &str)]) {
        self.shared.state().metric_data_messages = messages
            .iter()
            .map(|(code, value)| ((*code).to_owned(), (*value).to_owned()))
            .collect();
    }
}

/// How a service encodes its requests and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// AWS JSON 1.1 (`x-amz-target`).
    Json,
    /// awsQuery (form body, XML answer).
    Query,
    /// Smithy RPC v2 CBOR.
    Cbor,
    /// REST-JSON (Lambda).
    RestJson,
    /// Not an AWS protocol the front knows.
    Plain,
}

/// One request, classified.
#[derive(Debug)]
struct Call {
    service: Service,
    protocol: Protocol,
    operation: String,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Call {
    fn new(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Self {
        let (service, protocol, operation) = classify(&uri, &headers, &body);
        Call {
            service,
            protocol,
            operation,
            method,
            uri,
            headers,
            body,
        }
    }

    /// Method, URI, headers and body, as text.
    fn raw(&self) -> String {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {}", String::from_utf8_lossy(value.as_bytes())))
            .collect();
        format!(
            "{} {}\n{}\n\n{}",
            self.method,
            self.uri,
            headers.join("\n"),
            String::from_utf8_lossy(&self.body)
        )
    }

    /// The request body as JSON (`null` when it is not).
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The form fields of an awsQuery request.
    fn form(&self) -> Vec<(String, String)> {
        form_pairs(&self.body)
    }
}

fn classify(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> (Service, Protocol, String) {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let (prefix, operation) = target.split_once('.').unwrap_or(("", target));
        let service = match prefix {
            "CodeDeploy_20141006" => Service::CodeDeploy,
            "AmazonEC2ContainerServiceV20141113" => Service::Ecs,
            _ => Service::Other,
        };
        return (service, Protocol::Json, operation.to_owned());
    }
    if let Some(operation) = uri
        .path()
        .strip_prefix("/service/GraniteServiceVersion20100801/operation/")
    {
        return (Service::CloudWatch, Protocol::Cbor, operation.to_owned());
    }
    if lambda::function_name(uri.path()).is_some() {
        return (
            Service::Lambda,
            Protocol::RestJson,
            lambda::INVOKE.to_owned(),
        );
    }
    let form = form_pairs(body);
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    if let Some(action) = field("Action") {
        let service = if field("Version") == Some("2015-12-01") {
            Service::Elbv2
        } else {
            Service::Other
        };
        return (service, Protocol::Query, action.to_owned());
    }
    (Service::Other, Protocol::Plain, uri.path().to_owned())
}

async fn handle(
    Extract(shared): Extract<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let call = Call::new(method, uri, headers, body);
    let is_status = call.service == Service::CodeDeploy && call.operation == PUT_STATUS;
    // Recorded on arrival, so that a call held past the caller's patience is
    // counted too; its answer is filled in when it is sent.
    let (fault, index, status_index) = {
        let mut state = shared.state();
        let fault = take_fault(&mut state, &call.operation);
        let status_index = is_status.then(|| state.ledger.record(&call.body, 0, at));
        state.calls.push(ApiCall {
            service: call.service,
            operation: call.operation.clone(),
            answered: 0,
            at,
            request: call.raw(),
        });
        (fault, state.calls.len() - 1, status_index)
    };
    if let Some(Fault::Stall(duration)) = fault {
        tokio::time::sleep(duration).await;
    }
    let reply = match fault.and_then(|fault| fault_answer(&call, fault)) {
        Some(reply) => reply,
        None => answer(&shared, &call).await,
    };
    let answered = reply.status.as_u16();
    let mut state = shared.state();
    if let Some(i) = status_index {
        state.ledger.set_answered(i, answered);
    }
    if let Some(recorded) = state.calls.get_mut(index) {
        recorded.answered = answered;
    }
    reply.into_response()
}

fn take_fault(state: &mut State, operation: &str) -> Option<Fault> {
    let faults = state.faults.get_mut(operation)?;
    faults.queued.pop_front().or(faults.always)
}

/// The answer to a call no fault pre-empted.
async fn answer(shared: &Shared, call: &Call) -> Reply {
    match (call.service, call.operation.as_str()) {
        (Service::CodeDeploy, PUT_STATUS) => shared.state().ledger.answer(&call.body),
        (Service::CodeDeploy, "ListDeploymentTargets") => {
            deployments::list(&shared.state(), &call.json())
        }
        (Service::CodeDeploy, "BatchGetDeploymentTargets") => {
            deployments::batch_get(&shared.state(), &call.json())
        }
        (Service::CodeDeploy, "GetDeploymentGroup") => {
            let mut forwarded = forward(shared, call).await;
            forwarded.patch_json(|body| {
                deployments::patch_group(&shared.state(), &call.json(), body);
            });
            forwarded
        }
        (Service::Ecs, "DescribeServiceDeployments") => {
            service_deployments::describe_deployments(&mut shared.state(), &call.json())
        }
        (Service::Ecs, "DescribeServiceRevisions") => {
            service_deployments::describe_revisions(&shared.state(), &call.json())
        }
        (Service::Ecs, "DescribeTaskSets" | "DescribeServices") => {
            let mut forwarded = forward(shared, call).await;
            forwarded.patch_json(|body| task_sets::patch(&mut shared.state(), body));
            forwarded
        }
        (Service::Elbv2, "DescribeTargetHealth") => {
            let staged = target_health::answer(&mut shared.state(), &call.form());
            match staged {
                Some(reply) => reply,
                None => forward(shared, call).await,
            }
        }
        (Service::CloudWatch, operation) => {
            cloudwatch::answer(&mut shared.state(), operation, &call.body)
        }
        (Service::Lambda, _) => lambda::invoke(&mut shared.state(), call),
        _ => forward(shared, call).await,
    }
}

/// An answer as data, so it can be patched before it is sent: moto's, or
/// one of the front's errors.
#[derive(Debug)]
pub(crate) struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    pub(crate) fn new(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static(content_type));
        Reply {
            status,
            headers,
            body: Bytes::from(body),
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.insert(name, value);
        }
        self
    }

    /// Rewrites a successful JSON answer.
    fn patch_json(&mut self, patch: impl FnOnce(&mut Value)) {
        if !self.status.is_success() {
            return;
        }
        if let Ok(mut body) = serde_json::from_slice::<Value>(&self.body) {
            patch(&mut body);
            self.body = Bytes::from(body.to_string());
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        (self.status, self.headers, self.body).into_response()
    }
}

/// Headers that belong to one connection, not to the message (and
/// `content-length`, which the body sets).
const HOP_BY_HOP: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let mut headers = headers.clone();
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    headers
}

/// Passes the call to moto as it came, and moto's answer back.
async fn forward(shared: &Shared, call: &Call) -> Reply {
    let Some(moto) = &shared.moto else {
        let message = format!("not served here: {}", call.operation);
        return error(call, StatusCode::BAD_REQUEST, Errors::UNKNOWN, &message);
    };
    let path = call.uri.path_and_query().map_or("/", |p| p.as_str());
    let sent = shared
        .http
        .request(call.method.clone(), format!("{moto}{path}"))
        .headers(end_to_end(&call.headers))
        .body(call.body.clone())
        .send()
        .await;
    let received = match sent {
        Ok(response) => {
            let status = response.status();
            let headers = end_to_end(response.headers());
            response.bytes().await.map(|body| Reply {
                status,
                headers,
                body,
            })
        }
        Err(error) => Err(error),
    };
    received.unwrap_or_else(|e| {
        let message = format!("moto did not answer: {e}");
        error(
            call,
            StatusCode::BAD_GATEWAY,
            Errors::SERVICE_UNAVAILABLE,
            &message,
        )
    })
}

/// One error, as each protocol names it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Errors {
    /// `__type` in AWS JSON 1.1 and RPC v2 CBOR.
    pub(crate) json: &'static str,
    /// `Code` in awsQuery (and in RPC v2 CBOR's `x-amzn-query-error`).
    pub(crate) query: &'static str,
}

impl Errors {
    const UNKNOWN: Errors = Errors {
        json: "UnknownOperationException",
        query: "InvalidAction",
    };
    const SERVICE_UNAVAILABLE: Errors = Errors {
        json: "ServiceUnavailableException",
        query: "ServiceUnavailable",
    };
}

/// The error a fault stands for, or `None` for a stall (served normally,
/// late).
fn fault_answer(call: &Call, fault: Fault) -> Option<Reply> {
    let not_authorized = format!(
        "not authorized to perform: {}:{}",
        iam_prefix(call.service),
        call.operation
    );
    let (status, kind, message) = match fault {
        Fault::Stall(_) => return None,
        Fault::BadGatewayHtml => {
            return Some(Reply::new(
                StatusCode::BAD_GATEWAY,
                "text/html",
                BAD_GATEWAY_HTML.as_bytes().to_vec(),
            ));
        }
        Fault::Throttle => (
            StatusCode::BAD_REQUEST,
            Errors {
                json: "ThrottlingException",
                query: "Throttling",
            },
            "Rate exceeded",
        ),
        Fault::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Errors {
                json: "InternalFailure",
                query: "InternalFailure",
            },
            "internal error",
        ),
        Fault::AlreadyCompleted => (
            StatusCode::BAD_REQUEST,
            Errors {
                json: "LifecycleEventAlreadyCompletedException",
                query: "LifecycleEventAlreadyCompleted",
            },
            "The lifecycle event has already completed",
        ),
        Fault::AccessDenied => (
            // JSON services answer 400, query (and query-compatible) ones 403.
            if call.protocol == Protocol::Json {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::FORBIDDEN
            },
            Errors {
                json: "AccessDeniedException",
                query: "AccessDenied",
            },
            not_authorized.as_str(),
        ),
    };
    Some(error(call, status, kind, message))
}

fn iam_prefix(service: Service) -> &'static str {
    match service {
        Service::CodeDeploy => "codedeploy",
        Service::Ecs => "ecs",
        Service::Elbv2 => "elasticloadbalancing",
        Service::CloudWatch => "cloudwatch",
        Service::Lambda => "lambda",
        Service::Other => "aws",
    }
}

/// An error answer in the call's protocol.
fn error(call: &Call, status: StatusCode, kind: Errors, message: &str) -> Reply {
    match call.protocol {
        Protocol::Json => json_error(status, kind.json, message),
        Protocol::Query => Reply::new(
            status,
            "text/xml",
            query_error_xml(kind.query, message).into_bytes(),
        ),
        Protocol::Cbor => cloudwatch::error(status, kind, message),
        Protocol::RestJson => lambda::error(status, kind, message),
        Protocol::Plain => Reply::new(status, "text/plain", message.as_bytes().to_vec()),
    }
}

/// An AWS JSON 1.1 answer.
pub(crate) fn json_reply(status: StatusCode, body: &Value) -> Reply {
    Reply::new(
        status,
        "application/x-amz-json-1.1",
        body.to_string().into_bytes(),
    )
}

/// An AWS JSON 1.1 error: `{"__type", "message"}` and `x-amzn-errortype`.
pub(crate) fn json_error(status: StatusCode, kind: &str, message: &str) -> Reply {
    json_reply(status, &json!({"__type": kind, "message": message}))
        .header("x-amzn-errortype", kind)
}

/// The request ID the front puts in its own answers.
pub(crate) const REQUEST_ID: &str = "00000000-0000-4000-8000-00000000f407";

fn query_error_xml(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\">\
         <Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error>\
         <RequestId>{REQUEST_ID}</RequestId></ErrorResponse>",
        xml_escape(code),
        xml_escape(message)
    )
}

/// Escapes text for an XML element.
pub(crate) fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The fields of an `application/x-www-form-urlencoded` body, decoded.
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Vec::new();
    };
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |i: usize| bytes.get(i).and_then(|b| (*b as char).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'+', _, _) => out.push(b' '),
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).expect("two hex digits fit a byte"));
                i += 2;
            }
            (byte, _, _) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_decoded() {
        let pairs =
            form_pairs(b"Action=DescribeTargetHealth&TargetGroupArn=arn%3Aaws%3Ax%2Fy&A=b+c&D=%");
        assert_eq!(
            pairs,
            vec![
                ("Action".to_owned(), "DescribeTargetHealth".to_owned()),
                ("TargetGroupArn".to_owned(), "arn:aws:x/y".to_owned()),
                ("A".to_owned(), "b c".to_owned()),
                ("D".to_owned(), "%".to_owned()),
            ]
        );
    }

    #[test]
    fn timed_scripts_change_over_time_and_per_call_scripts_per_call() {
        let mut timed = Playing::new(Script::new(1).then_after(Duration::from_millis(50), 2));
        assert_eq!(timed.next(), 1);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(timed.next(), 2);
        let mut per_call = Playing::new(Script::per_call(vec![1, 2]));
        assert_eq!(
            (per_call.next(), per_call.next(), per_call.next()),
            (1, 2, 2)
        );
    }
}

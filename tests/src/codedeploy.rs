//! The one CodeDeploy API no emulator serves:
//! `PutLifecycleEventHookExecutionStatus` (AWS JSON 1.1). [`Ledger`] answers
//! it like CodeDeploy (including "already completed" for a second status on
//! the same execution) and records every call; the [`AwsFront`] serves it, and
//! can be told to fail first. [`CodeDeployStandIn`] is that front without
//! moto behind it, for the demo and the tests that need nothing else.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::aws_front::{AwsFront, Reply, json_error, json_reply};

/// The operation a hook reports its verdict with.
pub const PUT_STATUS: &str = "PutLifecycleEventHookExecutionStatus";

/// An injected answer (see [`AwsFront::fail`] and [`AwsFront::fail_next`]),
/// in the protocol of the service called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 400 `ThrottlingException` (awsQuery: `Throttling`).
    Throttle,
    /// HTTP 500 `InternalFailure`.
    ServerError,
    /// HTTP 400 `LifecycleEventAlreadyCompletedException`.
    AlreadyCompleted,
    /// HTTP 400 `AccessDeniedException` (awsQuery and CBOR: HTTP 403,
    /// `AccessDenied`).
    AccessDenied,
    /// No answer at all for this long, then the normal one.
    Stall(Duration),
    /// HTTP 502 with an HTML body and no AWS error in it, as a proxy or load
    /// balancer in front of the service answers.
    BadGatewayHtml,
}

/// The body of [`Fault::BadGatewayHtml`]: nginx's, lines and all.
pub const BAD_GATEWAY_HTML: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// One recorded `PutLifecycleEventHookExecutionStatus` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCall {
    /// `deploymentId` as sent.
    pub deployment_id: String,
    /// `lifecycleEventHookExecutionId` as sent.
    pub execution_id: String,
    /// `status` as sent.
    pub status: String,
    /// The HTTP status the stand-in answered; 0 while the call is held (a
    /// stall), and for good if the hook gave up on it first.
    pub answered: u16,
    /// When the call arrived.
    pub at: Instant,
}

impl StatusCall {
    /// Whether CodeDeploy took this status.
    pub fn accepted(&self) -> bool {
        self.answered == 200
    }
}

/// What CodeDeploy remembers of lifecycle statuses: every call, and which
/// executions have completed.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    calls: Vec<StatusCall>,
    completed: HashSet<String>,
}

/// The fields of a status call, as sent.
struct StatusRequest {
    deployment_id: String,
    execution_id: String,
    status: String,
}

impl StatusRequest {
    fn parse(body: &[u8]) -> Self {
        let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let field = |name: &str| {
            request
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        StatusRequest {
            deployment_id: field("deploymentId"),
            execution_id: field("lifecycleEventHookExecutionId"),
            status: field("status"),
        }
    }
}

impl Ledger {
    /// CodeDeploy's answer to a status call no fault pre-empted.
    pub(crate) fn answer(&mut self, body: &[u8]) -> Reply {
        let request = StatusRequest::parse(body);
        if request.status != "Succeeded" && request.status != "Failed" {
            json_error(
                StatusCode::BAD_REQUEST,
                "InvalidLifecycleEventHookExecutionStatusException",
                "status must be Succeeded or Failed",
            )
        } else if self.completed.contains(&request.execution_id) {
            json_error(
                StatusCode::BAD_REQUEST,
                "LifecycleEventAlreadyCompletedException",
                "The lifecycle event has already completed",
            )
        } else {
            let body = json!({"lifecycleEventHookExecutionId": request.execution_id});
            self.completed.insert(request.execution_id);
            json_reply(StatusCode::OK, &body)
        }
    }

    /// Records a status call and the HTTP status it was answered with (0:
    /// not yet); returns its index.
    pub(crate) fn record(&mut self, body: &[u8], answered: u16, at: Instant) -> usize {
        let request = StatusRequest::parse(body);
        self.calls.push(StatusCall {
            deployment_id: request.deployment_id,
            execution_id: request.execution_id,
            status: request.status,
            answered,
            at,
        });
        self.calls.len() - 1
    }

    /// Fills in the answer of call `index`.
    pub(crate) fn set_answered(&mut self, index: usize, answered: u16) {
        if let Some(call) = self.calls.get_mut(index) {
            call.answered = answered;
        }
    }

    /// Every call so far.
    pub(crate) fn calls(&self) -> &[StatusCall] {
        &self.calls
    }
}

/// A local CodeDeploy endpoint serving only status calls: an [`AwsFront`]
/// without moto. Dropping it stops the server.
#[derive(Debug)]
pub struct CodeDeployStandIn(AwsFront);

impl CodeDeployStandIn {
    /// Starts the stand-in on an ephemeral loopback port.
    pub async fn start() -> Self {
        CodeDeployStandIn(AwsFront::start(None).await)
    }

    /// Starts the stand-in on `addr`.
    pub async fn start_on(addr: &str) -> Self {
        CodeDeployStandIn(AwsFront::start_on(addr, None).await)
    }

    /// The endpoint URL, for `AWS_ENDPOINT_URL_CODEDEPLOY`.
    pub fn url(&self) -> String {
        self.0.url()
    }

    /// Answers the next calls with these faults, in order.
    pub fn inject(&self, faults: &[Fault]) {
        self.0.inject(faults);
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<StatusCall> {
        self.0.status_calls()
    }

    /// The calls CodeDeploy took (HTTP 200).
    pub fn accepted(&self) -> Vec<StatusCall> {
        self.0.accepted()
    }

    /// The front behind the stand-in.
    pub fn front(&self) -> &AwsFront {
        &self.0
    }
}

//! A local stand-in for the one CodeDeploy API no emulator serves:
//! `PutLifecycleEventHookExecutionStatus` (AWS JSON 1.1). It records every
//! call, answers like CodeDeploy (including "already completed" for a second
//! status on the same execution), and can be told to fail first.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::{ServerHandle, bind, serve};

/// An injected answer, used once, in order, before normal service resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 400 `ThrottlingException`.
    Throttle,
    /// HTTP 500 `InternalFailure`.
    ServerError,
    /// HTTP 400 `LifecycleEventAlreadyCompletedException`.
    AlreadyCompleted,
    /// HTTP 400 `AccessDeniedException`.
    AccessDenied,
    /// No answer at all for this long.
    Stall(Duration),
}

/// One recorded `PutLifecycleEventHookExecutionStatus` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCall {
    /// `deploymentId` as sent.
    pub deployment_id: String,
    /// `lifecycleEventHookExecutionId` as sent.
    pub execution_id: String,
    /// `status` as sent.
    pub status: String,
    /// The HTTP status the stand-in answered.
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

#[derive(Debug, Default)]
struct Inner {
    faults: VecDeque<Fault>,
    calls: Vec<StatusCall>,
    completed: HashSet<String>,
}

/// The stand-in. Dropping it stops the server.
#[derive(Debug)]
pub struct CodeDeployStandIn {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    _server: ServerHandle,
}

impl CodeDeployStandIn {
    /// Starts the stand-in on an ephemeral loopback port.
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// Starts the stand-in on `addr`.
    pub async fn start_on(addr: &str) -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let router = Router::new()
            .route("/", post(handle))
            .with_state(inner.clone());
        let (listener, addr) = bind(addr).await;
        CodeDeployStandIn {
            addr,
            inner,
            _server: serve(listener, router),
        }
    }

    /// The endpoint URL, for `AWS_ENDPOINT_URL_CODEDEPLOY`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers the next calls with these faults, in order.
    pub fn inject(&self, faults: &[Fault]) {
        self.inner
            .lock()
            .expect("lock")
            .faults
            .extend(faults.iter().copied());
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<StatusCall> {
        self.inner.lock().expect("lock").calls.clone()
    }

    /// The calls CodeDeploy took (HTTP 200).
    pub fn accepted(&self) -> Vec<StatusCall> {
        self.calls()
            .into_iter()
            .filter(StatusCall::accepted)
            .collect()
    }
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = json!({"__type": kind, "message": message}).to_string();
    (
        status,
        [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amzn-errortype", kind),
        ],
        body,
    )
        .into_response()
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if target != "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus" {
        return error(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            &format!("not served here: {target}"),
        );
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let field = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (deployment_id, execution_id, status) = (
        field("deploymentId"),
        field("lifecycleEventHookExecutionId"),
        field("status"),
    );
    let fault = inner.lock().expect("lock").faults.pop_front();
    if let Some(Fault::Stall(duration)) = fault {
        tokio::time::sleep(duration).await;
    }
    {
        let mut inner = inner.lock().expect("lock");
        let response = match fault {
            Some(Fault::Throttle) => error(
                StatusCode::BAD_REQUEST,
                "ThrottlingException",
                "Rate exceeded",
            ),
            Some(Fault::ServerError) => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                "internal error",
            ),
            Some(Fault::AlreadyCompleted) => error(
                StatusCode::BAD_REQUEST,
                "LifecycleEventAlreadyCompletedException",
                "The lifecycle event has already completed",
            ),
            Some(Fault::AccessDenied) => error(
                StatusCode::BAD_REQUEST,
                "AccessDeniedException",
                "not authorized to perform: codedeploy:PutLifecycleEventHookExecutionStatus",
            ),
            Some(Fault::Stall(_)) | None if status != "Succeeded" && status != "Failed" => error(
                StatusCode::BAD_REQUEST,
                "InvalidLifecycleEventHookExecutionStatusException",
                "status must be Succeeded or Failed",
            ),
            Some(Fault::Stall(_)) | None if inner.completed.contains(&execution_id) => error(
                StatusCode::BAD_REQUEST,
                "LifecycleEventAlreadyCompletedException",
                "The lifecycle event has already completed",
            ),
            Some(Fault::Stall(_)) | None => {
                inner.completed.insert(execution_id.clone());
                let body = json!({"lifecycleEventHookExecutionId": execution_id}).to_string();
                (
                    StatusCode::OK,
                    [("content-type", "application/x-amz-json-1.1")],
                    body,
                )
                    .into_response()
            }
        };
        inner.calls.push(StatusCall {
            deployment_id,
            execution_id,
            status,
            answered: response.status().as_u16(),
            at: Instant::now(),
        });
        response
    }
}

//! A local Lambda Runtime API, as the Lambda service serves it to a function:
//! `GET …/invocation/next` hands out one queued event with its request ID and
//! deadline; `POST …/invocation/{id}/response` and `…/{id}/error` are recorded.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::Notify;

use crate::{ServerHandle, loopback, serve};

/// What the function answered for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `POST /response`: the handler's result.
    Response(Value),
    /// `POST /error`: an invocation error, with the runtime's error body.
    Error(Value),
}

impl Answer {
    /// The response body, or a panic naming the error.
    pub fn response(&self) -> &Value {
        match self {
            Answer::Response(value) => value,
            Answer::Error(error) => panic!("expected a response, got invocation error {error}"),
        }
    }
}

#[derive(Debug, Clone)]
struct Pending {
    request_id: String,
    event: Value,
    deadline_ms: u64,
}

#[derive(Debug, Default)]
struct Inner {
    queue: VecDeque<Pending>,
    answers: HashMap<String, Answer>,
    /// How many answers each request got (more than one is a bug).
    posted: HashMap<String, usize>,
    init_error: Option<Value>,
    served: usize,
    /// When each `/next` request arrived.
    polls: Vec<Instant>,
}

#[derive(Debug, Clone, Default)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    queued: Arc<Notify>,
    answered: Arc<Notify>,
    polled: Arc<Notify>,
}

/// The local Runtime API. Dropping it stops the server.
#[derive(Debug)]
pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Shared,
    _server: ServerHandle,
}

impl RuntimeApi {
    /// Starts the Runtime API on an ephemeral loopback port.
    pub async fn start() -> Self {
        let shared = Shared::default();
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let (listener, addr) = loopback().await;
        RuntimeApi {
            addr,
            shared,
            _server: serve(listener, router),
        }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Queues `event` with a deadline `timeout` from now, as Lambda does for a
    /// function with that timeout, and returns the request ID.
    pub fn enqueue(&self, event: Value, timeout: Duration) -> String {
        let now_ms = u64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("clock")
                .as_millis(),
        )
        .expect("epoch millis fit");
        let mut inner = self.shared.inner.lock().expect("lock");
        let request_id = format!("req-{}", inner.served + inner.queue.len() + 1);
        inner.queue.push_back(Pending {
            request_id: request_id.clone(),
            event,
            deadline_ms: now_ms + u64::try_from(timeout.as_millis()).expect("millis fit"),
        });
        drop(inner);
        self.shared.queued.notify_one();
        request_id
    }

    /// Waits up to `limit` for the function's answer to `request_id`.
    pub async fn answer(&self, request_id: &str, limit: Duration) -> Option<Answer> {
        let wait = async {
            loop {
                let notified = self.shared.answered.notified();
                if let Some(answer) = self
                    .shared
                    .inner
                    .lock()
                    .expect("lock")
                    .answers
                    .get(request_id)
                {
                    return answer.clone();
                }
                notified.await;
            }
        };
        tokio::time::timeout(limit, wait).await.ok()
    }

    /// Waits up to `limit` for the `n`th `/next` request (from 1), and returns
    /// when it arrived. A process that has answered its `k`th invocation and
    /// finished with it sends the `k + 1`th.
    pub async fn nth_poll(&self, n: usize, limit: Duration) -> Option<Instant> {
        let wait = async {
            loop {
                let notified = self.shared.polled.notified();
                let found = self
                    .shared
                    .inner
                    .lock()
                    .expect("lock")
                    .polls
                    .get(n.saturating_sub(1))
                    .copied();
                if let Some(at) = found {
                    return at;
                }
                notified.await;
            }
        };
        tokio::time::timeout(limit, wait).await.ok()
    }

    /// How many answers (`/response` or `/error`) were posted for `request_id`.
    pub fn answers_posted(&self, request_id: &str) -> usize {
        self.shared
            .inner
            .lock()
            .expect("lock")
            .posted
            .get(request_id)
            .copied()
            .unwrap_or_default()
    }

    /// The error the function posted to `/init/error`, if any.
    pub fn init_error(&self) -> Option<Value> {
        self.shared.inner.lock().expect("lock").init_error.clone()
    }
}

async fn next(State(shared): State<Shared>) -> impl IntoResponse {
    shared
        .inner
        .lock()
        .expect("lock")
        .polls
        .push(Instant::now());
    shared.polled.notify_waiters();
    let pending = loop {
        let notified = shared.queued.notified();
        let popped = {
            let mut inner = shared.inner.lock().expect("lock");
            let popped = inner.queue.pop_front();
            if popped.is_some() {
                inner.served += 1;
            }
            popped
        };
        if let Some(pending) = popped {
            break pending;
        }
        notified.await;
    };
    let mut headers = HeaderMap::new();
    let set = |headers: &mut HeaderMap, name: &'static str, value: String| {
        headers.insert(name, value.parse().expect("header value"));
    };
    set(
        &mut headers,
        "lambda-runtime-aws-request-id",
        pending.request_id,
    );
    set(
        &mut headers,
        "lambda-runtime-deadline-ms",
        pending.deadline_ms.to_string(),
    );
    set(
        &mut headers,
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:CodeDeployHook_test".to_owned(),
    );
    set(
        &mut headers,
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000".to_owned(),
    );
    set(&mut headers, "content-type", "application/json".to_owned());
    (headers, pending.event.to_string())
}

fn record(shared: &Shared, id: String, answer: Answer) -> StatusCode {
    let mut inner = shared.inner.lock().expect("lock");
    *inner.posted.entry(id.clone()).or_default() += 1;
    // The first answer counts; a second is a bug that `answers_posted` shows.
    inner.answers.entry(id).or_insert(answer);
    drop(inner);
    shared.answered.notify_waiters();
    StatusCode::ACCEPTED
}

fn json_or_text(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(State(shared): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    record(&shared, id, Answer::Response(json_or_text(&body)))
}

async fn error(State(shared): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    record(&shared, id, Answer::Error(json_or_text(&body)))
}

async fn init_error(State(shared): State<Shared>, body: Bytes) -> StatusCode {
    shared.inner.lock().expect("lock").init_error = Some(json_or_text(&body));
    StatusCode::ACCEPTED
}

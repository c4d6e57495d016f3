//! A local HTTP server playing the green task set, in the states a hook must
//! tell apart: healthy, failing, wrong answer, slow, hanging, healthy late.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::json;

use crate::{ServerHandle, bind, serve};

/// How green behaves on `/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// 200 `{"status":"ok","version":"1.4.2"}`.
    Healthy,
    /// 500 `{"status":"error"}`.
    Error500,
    /// 200 `{"status":"degraded"}`: the right status with the wrong answer.
    WrongAnswer,
    /// Healthy, after this delay.
    Slow(Duration),
    /// Never answers.
    Hang,
    /// 503 until this long after start, then healthy.
    HealthyAfter(Duration),
}

#[derive(Debug)]
struct Inner {
    behaviour: Behaviour,
    started: Instant,
    requests: usize,
}

/// The green service. Dropping it stops the server.
#[derive(Debug)]
pub struct GreenService {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    _server: ServerHandle,
}

impl GreenService {
    /// Starts green with a behaviour on an ephemeral loopback port.
    pub async fn start(behaviour: Behaviour) -> Self {
        Self::start_on("127.0.0.1:0", behaviour).await
    }

    /// Starts green on `addr`.
    pub async fn start_on(addr: &str, behaviour: Behaviour) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            behaviour,
            started: Instant::now(),
            requests: 0,
        }));
        let router = Router::new()
            .route("/health", any(health))
            .route("/echo", any(echo))
            .route("/api/items", any(items))
            .with_state(inner.clone());
        let (listener, addr) = bind(addr).await;
        GreenService {
            addr,
            inner,
            _server: serve(listener, router),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests served so far (all paths).
    pub fn requests(&self) -> usize {
        self.inner.lock().expect("lock").requests
    }
}

fn healthy() -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"status": "ok", "version": "1.4.2", "db": {"latency_ms": 12}})),
    )
        .into_response()
}

async fn health(State(inner): State<Arc<Mutex<Inner>>>) -> Response {
    let (behaviour, started) = {
        let mut inner = inner.lock().expect("lock");
        inner.requests += 1;
        (inner.behaviour, inner.started)
    };
    match behaviour {
        Behaviour::Healthy => healthy(),
        Behaviour::Error500 => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({"status": "error"})),
        )
            .into_response(),
        Behaviour::WrongAnswer => (
            StatusCode::OK,
            axum::Json(json!({"status": "degraded", "version": "1.4.2"})),
        )
            .into_response(),
        Behaviour::Slow(delay) => {
            tokio::time::sleep(delay).await;
            healthy()
        }
        Behaviour::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            healthy()
        }
        Behaviour::HealthyAfter(delay) if started.elapsed() >= delay => healthy(),
        Behaviour::HealthyAfter(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "starting"})),
        )
            .into_response(),
    }
}

/// A typical API listing; behaves the same whatever the `/health` behaviour.
async fn items(State(inner): State<Arc<Mutex<Inner>>>) -> Response {
    inner.lock().expect("lock").requests += 1;
    let body =
        json!({"items": [{"id": 1, "name": "first"}, {"id": 2, "name": "second"}], "count": 2});
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Echoes the request headers in the body, as some debug endpoints do: a
/// secret sent by the hook comes back in the response.
async fn echo(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap) -> Response {
    inner.lock().expect("lock").requests += 1;
    let lines: Vec<String> = headers
        .iter()
        .map(|(name, value)| format!("{name}: {}", String::from_utf8_lossy(value.as_bytes())))
        .collect();
    (StatusCode::OK, lines.join("\n")).into_response()
}

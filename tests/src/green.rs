//! A local HTTP server playing the green task set, in the states a hook must
//! tell apart: healthy, failing, wrong answer, slow, hanging, healthy late,
//! flapping, not JSON, redirecting in a loop or to another host.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
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
    /// 404 `{"status":"not found"}`.
    NotFound404,
    /// 200 with a JSON content type and a body that is not JSON.
    InvalidJson,
    /// Healthy, 503, healthy, 503… by request.
    Flapping,
}

#[derive(Debug)]
struct Inner {
    behaviour: Behaviour,
    started: Instant,
    requests: usize,
    /// Header names of every request, in order.
    headers_seen: Vec<Vec<String>>,
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
            headers_seen: Vec::new(),
        }));
        let router = Router::new()
            .route("/health", any(health))
            .route("/echo", any(echo))
            .route("/api/items", any(items))
            .route("/loop", any(redirect_loop))
            .route("/away/{port}", any(away))
            .route("/elsewhere/{port}", any(elsewhere))
            .with_state(inner.clone());
        let (listener, addr) = bind(addr).await;
        GreenService {
            addr,
            inner,
            _server: serve(listener, router),
        }
    }

    /// Changes how green answers from the next request on.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.inner.lock().expect("lock").behaviour = behaviour;
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests served so far (all paths).
    pub fn requests(&self) -> usize {
        self.inner.lock().expect("lock").requests
    }

    /// How many requests carried header `name` (lowercase).
    pub fn requests_with_header(&self, name: &str) -> usize {
        self.inner
            .lock()
            .expect("lock")
            .headers_seen
            .iter()
            .filter(|names| names.iter().any(|n| n == name))
            .count()
    }
}

fn healthy() -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"status": "ok", "version": "1.4.2", "db": {"latency_ms": 12}})),
    )
        .into_response()
}

/// Counts a request and remembers its header names.
fn note(inner: &Mutex<Inner>, headers: &HeaderMap) -> (Behaviour, Instant, usize) {
    let mut inner = inner.lock().expect("lock");
    inner.requests += 1;
    inner
        .headers_seen
        .push(headers.keys().map(|k| k.as_str().to_owned()).collect());
    (inner.behaviour, inner.started, inner.requests)
}

async fn health(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap) -> Response {
    let (behaviour, started, nth) = note(&inner, &headers);
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
        Behaviour::NotFound404 => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"status": "not found"})),
        )
            .into_response(),
        Behaviour::InvalidJson => (
            StatusCode::OK,
            [("content-type", "application/json")],
            "{\"status\": \"ok\", <html>oops</html>",
        )
            .into_response(),
        Behaviour::Flapping if nth % 2 == 1 => healthy(),
        Behaviour::Flapping => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "flap"})),
        )
            .into_response(),
    }
}

/// Redirects to itself, forever.
async fn redirect_loop(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap) -> Response {
    note(&inner, &headers);
    (StatusCode::FOUND, [("location", "/loop")]).into_response()
}

/// Redirects to `/echo` on `127.0.0.1:PORT`: the same host, another port.
async fn elsewhere(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(port): Path<u16>,
    headers: HeaderMap,
) -> Response {
    note(&inner, &headers);
    let location = format!("http://127.0.0.1:{port}/echo");
    (StatusCode::FOUND, [("location", location)]).into_response()
}

/// Redirects to `/echo` on `localhost:PORT`: another host than 127.0.0.1.
async fn away(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(port): Path<u16>,
    headers: HeaderMap,
) -> Response {
    note(&inner, &headers);
    let location = format!("http://localhost:{port}/echo");
    (StatusCode::FOUND, [("location", location)]).into_response()
}

/// A typical API listing; behaves the same whatever the `/health` behaviour.
async fn items(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap) -> Response {
    note(&inner, &headers);
    let body =
        json!({"items": [{"id": 1, "name": "first"}, {"id": 2, "name": "second"}], "count": 2});
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Echoes the request headers in the body, as some debug endpoints do: a
/// secret sent by the hook comes back in the response.
async fn echo(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap) -> Response {
    note(&inner, &headers);
    let lines: Vec<String> = headers
        .iter()
        .map(|(name, value)| format!("{name}: {}", String::from_utf8_lossy(value.as_bytes())))
        .collect();
    (StatusCode::OK, lines.join("\n")).into_response()
}

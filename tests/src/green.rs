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
    /// When each request arrived, in order.
    arrivals: Vec<Instant>,
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
        Self::serving(addr, behaviour, Router::new()).await
    }

    /// Starts a healthy service on an ephemeral port that also serves
    /// `app`'s routes (a release of [`crate::app`]).
    pub async fn with_app(app: Router) -> Self {
        Self::serving("127.0.0.1:0", Behaviour::Healthy, app).await
    }

    async fn serving(addr: &str, behaviour: Behaviour, app: Router) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            behaviour,
            started: Instant::now(),
            requests: 0,
            headers_seen: Vec::new(),
            arrivals: Vec::new(),
        }));
        let router = Router::new()
            .route("/health", any(health))
            .route("/echo", any(echo))
            .route("/echo/{style}", any(echo_as))
            .route("/nested/{depth}/{bytes}", any(nested))
            .route("/big-number", any(big_number))
            .route("/api/items", any(items))
            .route("/loop", any(redirect_loop))
            .route("/away/{port}", any(away))
            .route("/elsewhere/{port}", any(elsewhere))
            .with_state(inner.clone())
            .merge(app);
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

    /// The most requests that arrived within any one second.
    pub fn most_in_one_second(&self) -> usize {
        let arrivals = &self.inner.lock().expect("lock").arrivals;
        (0..arrivals.len())
            .map(|i| {
                arrivals[i..]
                    .iter()
                    .take_while(|t| t.duration_since(arrivals[i]) < Duration::from_secs(1))
                    .count()
            })
            .max()
            .unwrap_or(0)
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
    inner.arrivals.push(Instant::now());
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

/// How [`echo_as`] writes the request headers back.
fn encode_echo(style: &str, headers: &HeaderMap) -> Option<(&'static str, String)> {
    let pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let object: serde_json::Map<String, serde_json::Value> = pairs
        .iter()
        .map(|(name, value)| (name.clone(), json!(value)))
        .collect();
    let seen = headers
        .get("x-secret")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let json = json!({"status": "ok", "seen_token": seen, "headers": object}).to_string();
    match style {
        // As serde writes it.
        "json" => Some(("application/json", json)),
        // PHP's json_encode: `/` as `\/`.
        "php" => Some(("application/json", json.replace('/', "\\/"))),
        // Go's encoding/json: `&`, `<` and `>` as \u escapes.
        "go" => Some((
            "application/json",
            json.replace('&', "\\u0026")
                .replace('<', "\\u003c")
                .replace('>', "\\u003e"),
        )),
        // An HTML form post's encoding: percent-escapes, `+` for a space.
        "form" => Some((
            "application/x-www-form-urlencoded",
            pairs
                .iter()
                .map(|(name, value)| format!("{name}={}", form_encode(value)))
                .collect::<Vec<_>>()
                .join("&"),
        )),
        _ => None,
    }
}

fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Echoes the request headers in a service's own encoding (`json`, `php`,
/// `go`, `form`): a secret comes back escaped, not byte for byte.
async fn echo_as(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(style): Path<String>,
    headers: HeaderMap,
) -> Response {
    note(&inner, &headers);
    match encode_echo(&style, &headers) {
        Some((content_type, body)) => {
            (StatusCode::OK, [("content-type", content_type)], body).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `{"error": {"error": … [0,0,…] …}}`, `depth` objects deep around an array
/// of zeros, `bytes` long in all: a large document a descendant JSONPath
/// (`$..error`) finds `depth` times, each node holding nearly all of it.
async fn nested(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((depth, bytes)): Path<(usize, usize)>,
    headers: HeaderMap,
) -> Response {
    note(&inner, &headers);
    let open = "{\"error\":".repeat(depth);
    let close = "}".repeat(depth);
    let room = bytes.saturating_sub(open.len() + close.len() + 2);
    let zeros = vec!["0"; room.div_ceil(2).max(1)].join(",");
    let body = format!("{open}[{zeros}]{close}");
    (StatusCode::OK, [("content-type", "application/json")], body).into_response()
}

/// An identifier beyond 2^53, where doubles can no longer tell integers
/// apart.
async fn big_number(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap) -> Response {
    note(&inner, &headers);
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        r#"{"status":"ok","id":9007199254740993}"#,
    )
        .into_response()
}

//! The one fake of the HTTP port, for unit tests (the engine's, and those of
//! the front doors with the `fakes` feature): scripted replies per URL path,
//! counted and timed, with the most requests in flight at once, and the
//! certificate green presents. It never opens a connection.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use tokio::time::Instant;

use super::{HttpProbe, LeafCertificate, ProbeError, ProbeRequest, ProbeResponse};

/// What the fake service does with one request.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// Answers this status at once, with no body.
    Status(u16),
    /// Answers this status after 3 ms with `{"status":"ok"}` as JSON.
    Json(u16),
    /// Answers this status after this many milliseconds (its duration),
    /// whatever the timeout (a probe that does not stop itself).
    Slow(u64, u16),
    /// Never answers; gives up at the timeout, as the real probe does.
    Hang,
    /// No connection.
    Refused,
    /// Fails with an error that echoes the request's Authorization header.
    EchoAuthorization,
    /// Panics.
    Panic,
}

/// A fake green service. Each URL path has a script of replies, one per
/// request, the last one repeating; a path without a script answers 200 at
/// once. It never opens a connection.
#[derive(Debug, Default)]
pub struct FakeProbe {
    /// The reply of a path without a script (`Status(200)` if none).
    default: Option<Reply>,
    /// The replies of each path.
    scripts: HashMap<String, Vec<Reply>>,
    /// The leaf certificate every reply comes with (none: plain http).
    certificate: Option<LeafCertificate>,
    /// Requests seen per path.
    calls: Mutex<HashMap<String, usize>>,
    /// Requests in flight now.
    in_flight: AtomicUsize,
    /// The most requests in flight at once so far.
    pub most_in_flight: AtomicUsize,
    /// When each request was sent, in order.
    sent_at: Mutex<Vec<Instant>>,
}

impl FakeProbe {
    /// Replies `reply` to every path without a script of its own.
    pub fn answering(reply: Reply) -> Self {
        FakeProbe {
            default: Some(reply),
            ..FakeProbe::default()
        }
    }

    /// Replies to requests for `path` with `script`, the last reply
    /// repeating.
    pub fn with(mut self, path: &str, script: &[Reply]) -> Self {
        assert!(!script.is_empty(), "a script needs a reply");
        self.scripts.insert(path.to_owned(), script.to_vec());
        self
    }

    /// Answers as over TLS with `certificate`, to requests that read it.
    pub fn presenting(mut self, certificate: LeafCertificate) -> Self {
        self.certificate = Some(certificate);
        self
    }

    fn next_reply(&self, path: &str) -> Reply {
        let mut calls = self.calls.lock().expect("lock");
        let n = calls.entry(path.to_owned()).or_default();
        let reply = self
            .scripts
            .get(path)
            .map_or(self.default.unwrap_or(Reply::Status(200)), |script| {
                script[(*n).min(script.len() - 1)]
            });
        *n += 1;
        reply
    }

    /// When each request was sent, in order.
    pub fn sent_at(&self) -> Vec<Instant> {
        self.sent_at.lock().expect("lock").clone()
    }

    /// Requests seen for `path`.
    pub fn calls(&self, path: &str) -> usize {
        self.calls
            .lock()
            .expect("lock")
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

/// Counts a request in flight until it ends, however it ends.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl HttpProbe for FakeProbe {
    async fn send(
        &self,
        request: &ProbeRequest,
        timeout: Duration,
    ) -> Result<ProbeResponse, ProbeError> {
        let reply = self.next_reply(request.url.path());
        self.sent_at.lock().expect("lock").push(Instant::now());
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        let _in_flight = InFlight(&self.in_flight);
        let certificate = self
            .certificate
            .clone()
            .filter(|_| request.read_certificate);
        let (status, duration) = match reply {
            Reply::Status(status) => (status, Duration::ZERO),
            Reply::Json(status) => {
                let mut headers = HeaderMap::new();
                headers.insert("content-type", HeaderValue::from_static("application/json"));
                return Ok(ProbeResponse {
                    status,
                    headers,
                    body: r#"{"status":"ok"}"#.to_owned(),
                    truncated: false,
                    duration: Duration::from_millis(3),
                    certificate,
                });
            }
            Reply::Slow(ms, status) => {
                let duration = Duration::from_millis(ms);
                tokio::time::sleep(duration).await;
                (status, duration)
            }
            Reply::Hang => {
                tokio::time::sleep(timeout).await;
                return Err(ProbeError::NoHeaders {
                    within_ms: timeout.as_millis(),
                });
            }
            Reply::Refused => {
                return Err(ProbeError::Connect {
                    address: "green.internal:8080".to_owned(),
                    detail: "connection refused".to_owned(),
                });
            }
            Reply::EchoAuthorization => {
                let sent = request
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                return Err(ProbeError::Other(format!("proxy rejected {sent}")));
            }
            Reply::Panic => panic!("fake probe told to panic on {}", request.url.path()),
        };
        Ok(ProbeResponse {
            status,
            headers: HeaderMap::new(),
            body: String::new(),
            truncated: false,
            duration,
            certificate,
        })
    }

    fn pinned(&self, _: &str, _: &[std::net::SocketAddr]) -> Result<Self, String> {
        // A pinned copy answers as this one does, counting afresh.
        Ok(FakeProbe {
            default: self.default,
            scripts: self.scripts.clone(),
            certificate: self.certificate.clone(),
            ..FakeProbe::default()
        })
    }
}

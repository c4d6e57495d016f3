//! The HTTP port: send one request to green, get back what the assertions look
//! at. Its production adapter is [`ReqwestProbe`] (in `reqwest_probe.rs`,
//! tested against real local servers); the engine's unit tests use
//! [`fake::FakeProbe`].

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, Url};

mod certificate;
#[cfg(any(test, feature = "fakes"))]
pub mod fake;
mod reqwest_probe;

pub use reqwest_probe::ReqwestProbe;

/// Bodies are read up to this size; the rest is dropped (and said so), so a
/// runaway response cannot exhaust a 128 MB Lambda.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The most body bytes all the checks that run at once may hold: each body's
/// limit is this shared among `concurrency` checks, at most
/// [`MAX_BODY_BYTES`] (so up to 32 checks at once read 1 MiB each, 128 read
/// 256 KiB each).
pub const BODIES_IN_MEMORY: usize = 32 * 1024 * 1024;

/// A request to the green task set.
#[derive(Clone)]
pub struct ProbeRequest {
    /// HTTP method.
    pub method: Method,
    /// Full URL.
    pub url: Url,
    /// Headers, with secret values marked sensitive.
    pub headers: HeaderMap,
    /// Body, if any.
    pub body: Option<String>,
    /// Which redirects to follow (none by default).
    pub redirects: Redirects,
    /// Read green's leaf certificate on the response's TLS connection: only
    /// a check that asserts on it pays for parsing it.
    pub read_certificate: bool,
}

/// Which redirects a probe follows. By default none: a check asserts on what
/// green itself answered, and a probe never leaves the target for a host the
/// operator did not name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redirects {
    /// Most redirects followed for one request (0: none).
    pub max: u32,
    /// Other hosts a redirect may lead to, `host` (default port) or
    /// `host:port`, lowercase; the request's own origin always may.
    pub hosts: Vec<String>,
}

impl fmt::Debug for ProbeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // HeaderMap's Debug prints "Sensitive" for values marked sensitive.
        f.debug_struct("ProbeRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &self.headers)
            .field("body_bytes", &self.body.as_ref().map_or(0, String::len))
            .field("redirects", &self.redirects)
            .field("read_certificate", &self.read_certificate)
            .finish()
    }
}

/// What came back.
#[derive(Debug, Clone)]
pub struct ProbeResponse {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body as text (lossy UTF-8), at most [`Connection::max_body`] bytes.
    pub body: String,
    /// Whether the body was cut at [`Connection::max_body`].
    pub truncated: bool,
    /// From sending the request to the last body byte.
    pub duration: Duration,
    /// Green's leaf certificate on the response's TLS connection, when the
    /// request asked for it ([`ProbeRequest::read_certificate`]); `None`
    /// over plain http.
    pub certificate: Option<LeafCertificate>,
}

/// What an assertion may ask of green's leaf certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeafCertificate {
    /// Valid until this moment (its `notAfter`).
    ExpiresAt(SystemTime),
    /// Presented and verified, but not readable here: why.
    Unreadable(String),
}

/// Why no response came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// No response headers within the time allowed (connecting included).
    #[error("no response headers within {within_ms} ms")]
    NoHeaders {
        /// The time allowed.
        within_ms: u128,
    },
    /// The headers came, but the body did not finish within the time allowed.
    #[error(
        "HTTP {status} headers arrived, but the body did not finish within {within_ms} ms ({read_bytes} bytes read)"
    )]
    BodyStalled {
        /// The status the headers gave.
        status: u16,
        /// The time allowed, for headers and body together.
        within_ms: u128,
        /// Body bytes read by then.
        read_bytes: usize,
    },
    /// The connection could not be made (refused, unreachable, DNS, TLS).
    #[error("cannot connect to {address}: {detail}")]
    Connect {
        /// `host:port` tried.
        address: String,
        /// What went wrong, with its causes.
        detail: String,
    },
    /// A redirect that the check's `follow_redirects` does not allow.
    #[error("redirect {0}")]
    Redirect(String),
    /// Anything else on the way.
    #[error("request failed: {0}")]
    Other(String),
}

/// Sends probe requests. Implemented by [`ReqwestProbe`] in production.
pub trait HttpProbe: Send + Sync + Sized {
    /// Sends `request` and reads the whole response, giving up after `timeout`.
    fn send(
        &self,
        request: &ProbeRequest,
        timeout: Duration,
    ) -> impl Future<Output = Result<ProbeResponse, ProbeError>> + Send;

    /// A probe that connects to `addrs` whenever a URL names `host`, keeping
    /// `host` for the `Host` header, TLS SNI and the certificate check.
    fn pinned(&self, host: &str, addrs: &[SocketAddr]) -> Result<Self, String>;
}

/// How the HTTP client connects, beyond the defaults.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Names pinned to addresses (the port comes from the URL).
    pub resolve: Vec<(String, Vec<SocketAddr>)>,
    /// Extra trust anchors, PEM, added to the system roots.
    pub ca_pem: Option<String>,
    /// Bytes of a body read at most; the rest is dropped.
    pub max_body: usize,
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            resolve: Vec::new(),
            ca_pem: None,
            max_body: MAX_BODY_BYTES,
        }
    }
}

impl Connection {
    /// The body limit when `concurrency` checks run at once: their bodies
    /// together stay within [`BODIES_IN_MEMORY`].
    pub fn body_limit(concurrency: usize) -> usize {
        (BODIES_IN_MEMORY / concurrency.max(1)).min(MAX_BODY_BYTES)
    }
}

/// Marks a header value as secret so that no `Debug` output shows it.
pub fn secret_header(value: &str) -> Result<HeaderValue, reqwest::header::InvalidHeaderValue> {
    let mut value = HeaderValue::from_str(value)?;
    value.set_sensitive(true);
    Ok(value)
}

/// Parses a header name, for validation.
pub fn header_name(name: &str) -> Result<HeaderName, reqwest::header::InvalidHeaderName> {
    HeaderName::from_bytes(name.as_bytes())
}

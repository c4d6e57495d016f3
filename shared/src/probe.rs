//! The HTTP port: send one request to green, get back what the assertions look
//! at. The reqwest adapter lives here too; tests use a real local server.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, Url};

/// Bodies are read up to this size; the rest is dropped (and said so), so a
/// runaway response cannot exhaust a 128 MB Lambda.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

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
}

/// Which redirects a probe follows. By default none: a check asserts on what
/// green itself answered, and a probe never leaves the target for a host the
/// operator did not name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redirects {
    /// Most redirects followed for one request (0: none).
    pub max: u32,
    /// Other hosts a redirect may lead to (lowercase); the request's own host
    /// always may.
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
    /// Body as text (lossy UTF-8), at most [`MAX_BODY_BYTES`].
    pub body: String,
    /// Whether the body was cut at [`MAX_BODY_BYTES`].
    pub truncated: bool,
    /// From sending the request to the last body byte.
    pub duration: Duration,
}

/// Why no response came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// No complete response within the time allowed.
    #[error("no response within {0} ms")]
    Timeout(u128),
    /// The connection could not be made (refused, unreachable, DNS, TLS).
    #[error("cannot connect: {0}")]
    Connect(String),
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
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// Names pinned to addresses (the port comes from the URL).
    pub resolve: Vec<(String, Vec<SocketAddr>)>,
    /// Extra trust anchors, PEM, added to the system roots.
    pub ca_pem: Option<String>,
}

/// The production HTTP client: reqwest on rustls, built once per cold start
/// (and once more per invocation only when a host name must be pinned to
/// addresses found at run time).
#[derive(Debug, Clone)]
pub struct ReqwestProbe {
    client: Result<reqwest::Client, String>,
    connection: Connection,
}

impl ReqwestProbe {
    /// Builds the client. Redirects are not followed: a check asserts on what
    /// green itself answered. A client that cannot be built is kept as an
    /// error that every probe returns (see [`ReqwestProbe::error`]).
    pub fn new(connection: Connection) -> Self {
        let client = build_client(&connection);
        ReqwestProbe { client, connection }
    }

    /// A probe whose every request fails with `reason`.
    pub fn broken(reason: &str) -> Self {
        ReqwestProbe {
            client: Err(reason.to_owned()),
            connection: Connection::default(),
        }
    }

    /// Why the client could not be built, if it could not.
    pub fn error(&self) -> Option<&str> {
        self.client.as_ref().err().map(String::as_str)
    }
}

fn build_client(connection: &Connection) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("greenlight/", env!("CARGO_PKG_VERSION")));
    for (name, addrs) in &connection.resolve {
        builder = builder.resolve_to_addrs(name, addrs);
    }
    if let Some(pem) = &connection.ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|error| format!("target.ca_pem: {error}"))?;
        builder = builder.tls_certs_merge(certs);
    }
    builder
        .build()
        .map_err(|error| format!("cannot build the HTTP client: {error}"))
}

impl HttpProbe for ReqwestProbe {
    async fn send(
        &self,
        request: &ProbeRequest,
        timeout: Duration,
    ) -> Result<ProbeResponse, ProbeError> {
        let client = self
            .client
            .as_ref()
            .map_err(|error| ProbeError::Other(error.clone()))?;
        let started = Instant::now();
        let exchange = async {
            let mut hop = Hop {
                method: request.method.clone(),
                url: request.url.clone(),
                headers: request.headers.clone(),
                body: request.body.clone(),
            };
            let mut followed = 0;
            let mut response = loop {
                let mut builder = client
                    .request(hop.method.clone(), hop.url.clone())
                    .headers(hop.headers.clone());
                if let Some(body) = &hop.body {
                    builder = builder.body(body.clone());
                }
                let response = builder.send().await.map_err(classify)?;
                let location = response.headers().get(LOCATION);
                match location {
                    Some(location)
                        if response.status().is_redirection() && request.redirects.max > 0 =>
                    {
                        hop = hop.follow(request, response.status(), location, followed)?;
                        followed += 1;
                    }
                    _ => break response,
                }
            };
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let mut bytes: Vec<u8> = Vec::new();
            let mut truncated = false;
            while let Some(chunk) = response.chunk().await.map_err(classify)? {
                let room = MAX_BODY_BYTES - bytes.len();
                if chunk.len() > room {
                    bytes.extend_from_slice(&chunk[..room]);
                    truncated = true;
                    break;
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(ProbeResponse {
                status,
                headers,
                body: String::from_utf8_lossy(&bytes).into_owned(),
                truncated,
                duration: started.elapsed(),
            })
        };
        // One timer for connect, headers and body: a server that trickles its
        // body forever is a hang too.
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(ProbeError::Timeout(timeout.as_millis())),
        }
    }

    fn pinned(&self, host: &str, addrs: &[SocketAddr]) -> Result<Self, String> {
        let mut connection = self.connection.clone();
        connection.resolve.retain(|(name, _)| name != host);
        connection.resolve.push((host.to_owned(), addrs.to_vec()));
        let client = build_client(&connection);
        client.as_ref().map_err(Clone::clone)?;
        Ok(ReqwestProbe { client, connection })
    }
}

/// One request of a chain of redirects.
struct Hop {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<String>,
}

impl Hop {
    /// The next request, if `request.redirects` allows following `location`.
    fn follow(
        self,
        request: &ProbeRequest,
        status: reqwest::StatusCode,
        location: &HeaderValue,
        followed: u32,
    ) -> Result<Hop, ProbeError> {
        let next = location
            .to_str()
            .ok()
            .and_then(|text| self.url.join(text).ok())
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
            .ok_or_else(|| {
                ProbeError::Redirect(format!(
                    "from {} with an unusable Location header (HTTP {})",
                    shown(&self.url),
                    status.as_u16()
                ))
            })?;
        let host = next.host_str().unwrap_or_default().to_ascii_lowercase();
        let own = request
            .url
            .host_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if host != own && !request.redirects.hosts.contains(&host) {
            return Err(ProbeError::Redirect(format!(
                "to {} not followed: {host} is not the target's host (add it to follow_redirects.hosts to allow it)",
                shown(&next)
            )));
        }
        if followed >= request.redirects.max {
            return Err(ProbeError::Redirect(format!(
                "limit reached: more than {} redirect(s) (follow_redirects.max), the last to {}; a redirect loop?",
                request.redirects.max,
                shown(&next)
            )));
        }
        let mut headers = self.headers;
        // Like browsers: credentials meant for one host are not handed to another.
        if next.host_str() != self.url.host_str() {
            let secret: Vec<HeaderName> = headers
                .iter()
                .filter(|(_, value)| value.is_sensitive())
                .map(|(name, _)| name.clone())
                .collect();
            for name in secret {
                headers.remove(name);
            }
        }
        // 303, and 301/302 after a POST, turn into a GET without a body.
        let to_get = status == reqwest::StatusCode::SEE_OTHER
            || (matches!(status.as_u16(), 301 | 302) && self.method == Method::POST);
        Ok(Hop {
            method: if to_get { Method::GET } else { self.method },
            url: next,
            headers,
            body: if to_get { None } else { self.body },
        })
    }
}

/// A URL for messages: scheme, host, port and path, without the query (it may
/// carry a token).
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// Sorts a reqwest error into what an operator needs to know, with its causes.
fn classify(error: reqwest::Error) -> ProbeError {
    // The URL is left out: its query string may carry a token.
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if error.is_timeout() {
        ProbeError::Other(format!("timed out: {message}"))
    } else if error.is_connect() {
        ProbeError::Connect(message)
    } else {
        ProbeError::Other(message)
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

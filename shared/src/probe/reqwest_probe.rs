//! The HTTP port's production adapter: reqwest on rustls, with the
//! engine's own redirect policy (hop by hop, within the origin unless the
//! spec allows more) and errors sorted into what an operator needs to know.

use super::*;
use crate::probe::certificate;

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
        // The peer's certificate on each response, for the certificate
        // assertion: a copy of a few hundred bytes, parsed only when asked.
        .tls_info(true)
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
        // One deadline for connect, headers and body (a server that trickles
        // its body forever is a hang too), in two phases, so that the error
        // says whether the headers came.
        let deadline = tokio::time::Instant::now() + timeout;
        let within_ms = timeout.as_millis();
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
            let response = tokio::time::timeout_at(deadline, builder.send())
                .await
                .map_err(|_| ProbeError::NoHeaders { within_ms })?
                .map_err(|error| classify(error, &hop.url))?;
            let location = response.headers().get(LOCATION);
            match location {
                Some(location) if is_redirect(response.status()) && request.redirects.max > 0 => {
                    hop = hop.follow(request, response.status(), location, followed)?;
                    followed += 1;
                }
                _ => break response,
            }
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let certificate = request
            .read_certificate
            .then(|| certificate::leaf(&response))
            .flatten();
        let mut bytes: Vec<u8> = Vec::new();
        let mut truncated = false;
        let url = response.url().clone();
        loop {
            let chunk = tokio::time::timeout_at(deadline, response.chunk())
                .await
                .map_err(|_| ProbeError::BodyStalled {
                    status,
                    within_ms,
                    read_bytes: bytes.len(),
                })?
                .map_err(|error| classify(error, &url))?;
            let Some(chunk) = chunk else { break };
            let room = self.connection.max_body.saturating_sub(bytes.len());
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
            certificate,
        })
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
        if !next.username().is_empty() || next.password().is_some() {
            return Err(ProbeError::Redirect(format!(
                "to {} not followed: the Location carries credentials",
                shown(&next)
            )));
        }
        if self.url.scheme() == "https" && next.scheme() == "http" {
            return Err(ProbeError::Redirect(format!(
                "to {} not followed: from https to plain http",
                shown(&next)
            )));
        }
        let target = origin(&request.url);
        let to = origin(&next);
        let allowed = to == target
            || request
                .redirects
                .hosts
                .iter()
                .any(|allowed| allowed == &to.authority());
        if !allowed {
            return Err(ProbeError::Redirect(format!(
                "to {} not followed: {} is not the target ({}); add it to follow_redirects.hosts to allow it",
                shown(&next),
                to.authority(),
                target.authority()
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
        let mut body = self.body;
        // Like browsers: what was meant for one origin is not handed to another.
        if origin(&self.url) != to {
            let secret: Vec<HeaderName> = headers
                .iter()
                .filter(|(_, value)| value.is_sensitive())
                .map(|(name, _)| name.clone())
                .collect();
            for name in secret {
                headers.remove(name);
            }
            body = None;
        }
        // 303 (but for HEAD), and 301/302 after a POST, become a GET without
        // a body.
        let to_get = (status == reqwest::StatusCode::SEE_OTHER && self.method != Method::HEAD)
            || (matches!(status.as_u16(), 301 | 302) && self.method == Method::POST);
        if to_get {
            body = None;
            headers.remove(reqwest::header::CONTENT_TYPE);
            headers.remove(reqwest::header::CONTENT_LENGTH);
        }
        Ok(Hop {
            method: if to_get { Method::GET } else { self.method },
            url: next,
            headers,
            body,
        })
    }
}

/// Whether `status` is a redirect with a `Location` to follow (not 300 or 304).
fn is_redirect(status: reqwest::StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Scheme, host and port: what a redirect may not change unless allowed.
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    /// As `follow_redirects.hosts` names it: `host` on the scheme's default
    /// port, `host:port` on any other.
    fn authority(&self) -> String {
        let default = match self.scheme.as_str() {
            "https" => Some(443),
            "http" => Some(80),
            _ => None,
        };
        match self.port {
            Some(port) if Some(port) != default => format!("{}:{port}", self.host),
            _ => self.host.clone(),
        }
    }
}

fn origin(url: &Url) -> Origin {
    Origin {
        scheme: url.scheme().to_owned(),
        host: url
            .host_str()
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_ascii_lowercase(),
        port: url.port_or_known_default(),
    }
}

/// A URL for messages: scheme, host, port and path, without credentials or
/// the query (either may carry a secret).
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.set_username("").ok();
    url.set_password(None).ok();
    url.to_string()
}

/// `host:port` of `url`, as a connection goes to it (no credentials, no path
/// or query: either may carry a secret).
fn address(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Sorts a reqwest error on a request to `url` into what an operator needs to
/// know, with its causes.
fn classify(error: reqwest::Error, url: &Url) -> ProbeError {
    // The URL is left out of the message: its query string may carry a
    // token. A connection error names the host and port instead.
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
        ProbeError::Connect {
            address: address(url),
            detail: message,
        }
    } else {
        ProbeError::Other(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_connection_error_names_the_host_and_port_tried() {
        // GIVEN a loopback port where nothing listens
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        drop(listener);
        let probe = ReqwestProbe::new(Connection::default());
        let get = get(&format!("http://127.0.0.1:{port}/health?token=t0p"));
        // WHEN a request goes there
        let error = probe
            .send(&get, Duration::from_secs(5))
            .await
            .expect_err("refused");
        // THEN the error names host and port, and not the query
        match &error {
            ProbeError::Connect { address, .. } => {
                assert_eq!(address, &format!("127.0.0.1:{port}"));
            }
            other => panic!("expected a connection error, got {other:?}"),
        }
        let text = error.to_string();
        assert!(
            text.starts_with(&format!("cannot connect to 127.0.0.1:{port}: ")),
            "{text}"
        );
        assert!(!text.contains("t0p"), "{text}");
    }

    /// A loopback server that answers each request with `reply`, then holds
    /// the connection open without another byte.
    async fn stalling(reply: &'static [u8]) -> (u16, tokio::task::JoinHandle<()>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut tcp, _)) = listener.accept().await {
                // The request head, up to its blank line.
                let mut request = Vec::new();
                let mut byte = [0_u8; 1];
                while !request.ends_with(b"\r\n\r\n") && matches!(tcp.read(&mut byte).await, Ok(1))
                {
                    request.push(byte[0]);
                }
                tcp.write_all(reply).await.ok();
                held.push(tcp);
            }
        });
        (port, task)
    }

    fn get(url: &str) -> ProbeRequest {
        let mut get = request(url, &[]);
        get.method = Method::GET;
        get.body = None;
        get
    }

    #[tokio::test]
    async fn a_timeout_says_whether_the_headers_arrived() {
        // GIVEN one server that sends nothing, and one that sends headers and
        // 5 bytes of a 100-byte body
        let (silent, silent_task) = stalling(b"").await;
        let (stalled, stalled_task) =
            stalling(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"a\":").await;
        let probe = ReqwestProbe::new(Connection::default());
        let limit = Duration::from_millis(300);
        // WHEN each is probed
        let none = probe
            .send(&get(&format!("http://127.0.0.1:{silent}/")), limit)
            .await
            .expect_err("no headers");
        let some = probe
            .send(&get(&format!("http://127.0.0.1:{stalled}/")), limit)
            .await
            .expect_err("stalled body");
        silent_task.abort();
        stalled_task.abort();
        // THEN each error says which phase ran out of time
        assert_eq!(none, ProbeError::NoHeaders { within_ms: 300 });
        assert_eq!(
            some,
            ProbeError::BodyStalled {
                status: 200,
                within_ms: 300,
                read_bytes: 5
            }
        );
        assert_eq!(
            some.to_string(),
            "HTTP 200 headers arrived, but the body did not finish within 300 ms (5 bytes read)"
        );
    }

    fn request(url: &str, hosts: &[&str]) -> ProbeRequest {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            secret_header("Bearer t0ken").expect("value"),
        );
        headers.insert("x-plain", HeaderValue::from_static("plain"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        ProbeRequest {
            method: Method::POST,
            url: Url::parse(url).expect("URL"),
            headers,
            body: Some("{}".to_owned()),
            redirects: Redirects {
                max: 3,
                hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
            },
            read_certificate: false,
        }
    }

    fn first_hop(request: &ProbeRequest) -> Hop {
        Hop {
            method: request.method.clone(),
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
        }
    }

    fn follow(request: &ProbeRequest, status: u16, location: &str) -> Result<Hop, ProbeError> {
        first_hop(request).follow(
            request,
            reqwest::StatusCode::from_u16(status).expect("status"),
            &HeaderValue::from_str(location).expect("location"),
            0,
        )
    }

    fn refused(result: Result<Hop, ProbeError>) -> String {
        match result {
            Err(ProbeError::Redirect(why)) => why,
            other => panic!(
                "expected a refused redirect, got {:?}",
                other.map(|h| h.url)
            ),
        }
    }

    #[test]
    fn a_redirect_on_the_same_origin_keeps_method_body_and_secrets() {
        // GIVEN a POST redirected by a 307 to another path of the same origin
        let request = request("https://api.example.com/health", &[]);
        let hop = follow(&request, 307, "/v2/health").expect("followed");
        // THEN everything goes along
        assert_eq!(hop.url.as_str(), "https://api.example.com/v2/health");
        assert_eq!(hop.method, Method::POST);
        assert_eq!(hop.body.as_deref(), Some("{}"));
        assert!(hop.headers.contains_key("authorization"));
    }

    #[test]
    fn another_port_scheme_or_host_is_another_target() {
        let request = request("http://lb.example.com:8080/health", &[]);
        // the production listener of the same load balancer
        let why = refused(follow(&request, 302, "http://lb.example.com/health"));
        assert_eq!(
            why,
            "to http://lb.example.com/health not followed: lb.example.com is not the target (lb.example.com:8080); add it to follow_redirects.hosts to allow it"
        );
        refused(follow(&request, 302, "https://lb.example.com:8080/health"));
        refused(follow(&request, 302, "http://evil.example.com:8080/health"));
        // an IP literal or userinfo trick does not pass for the target either
        refused(follow(
            &request,
            302,
            "http://lb.example.com:8080@evil.example.com:8080/",
        ));
        refused(follow(&request, 302, "http://[::1]:8080/health"));
    }

    #[test]
    fn https_never_falls_back_to_http_even_to_an_allowed_host() {
        let request = request("https://api.example.com/", &["api.example.com"]);
        let why = refused(follow(&request, 301, "http://api.example.com/"));
        assert_eq!(
            why,
            "to http://api.example.com/ not followed: from https to plain http"
        );
    }

    #[test]
    fn credentials_in_a_location_are_refused_and_not_shown() {
        let request = request("https://api.example.com/", &[]);
        let why = refused(follow(
            &request,
            302,
            "https://user:hunter2@api.example.com/x?token=abc",
        ));
        assert_eq!(
            why,
            "to https://api.example.com/x not followed: the Location carries credentials"
        );
    }

    #[test]
    fn an_allowed_host_gets_neither_secrets_nor_the_body() {
        // GIVEN a listed host, with and without its port
        let request = request(
            "https://api.example.com/",
            &["login.example.com", "sso.example.com:8443"],
        );
        let hop = follow(&request, 307, "https://login.example.com/start").expect("followed");
        // THEN the secret header and the body stay behind, the rest goes
        assert!(!hop.headers.contains_key("authorization"));
        assert!(hop.headers.contains_key("x-plain"));
        assert_eq!(hop.body, None);
        follow(&request, 307, "https://sso.example.com:8443/").expect("host:port listed");
        refused(follow(&request, 307, "https://login.example.com:8443/"));
        refused(follow(&request, 307, "https://sso.example.com/"));
    }

    #[test]
    fn see_other_turns_into_get_without_body_but_head_stays_head() {
        let request = request("https://api.example.com/", &[]);
        let hop = follow(&request, 303, "/done").expect("followed");
        assert_eq!(hop.method, Method::GET);
        assert_eq!(hop.body, None);
        assert!(!hop.headers.contains_key("content-type"));
        let mut head = request.clone();
        head.method = Method::HEAD;
        head.body = None;
        assert_eq!(
            follow(&head, 303, "/done").expect("followed").method,
            Method::HEAD
        );
    }

    #[test]
    fn only_redirect_statuses_are_followed() {
        for status in [301, 302, 303, 307, 308] {
            assert!(is_redirect(
                reqwest::StatusCode::from_u16(status).expect("status")
            ));
        }
        for status in [300, 304, 200, 404] {
            assert!(!is_redirect(
                reqwest::StatusCode::from_u16(status).expect("status")
            ));
        }
    }
}

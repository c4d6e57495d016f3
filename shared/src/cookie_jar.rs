//! A flow's cookies: what `Set-Cookie` gave, sent back on the flow's later
//! requests to the same host, as a browser would (the port is not part of a
//! cookie's scope, so a session set on one listener goes to the other).
//! One jar per attempt of a flow; nothing is shared between checks.
//! `Set-Cookie` is parsed by the `cookie` crate.

use cookie::Cookie;
use reqwest::Url;
use reqwest::header::{HeaderMap, SET_COOKIE};

/// Cookies a jar holds at most; more are dropped.
pub const MAX_COOKIES: usize = 50;
/// Longest `name=value` kept, as browsers allow.
pub const MAX_COOKIE_BYTES: usize = 4096;

#[derive(Debug, Clone)]
struct Stored {
    name: String,
    value: String,
    /// The host that set it, or the `Domain` it names (lowercase, no dot).
    domain: String,
    /// Whether subdomains of `domain` get it too (`Domain` was given).
    subdomains: bool,
    /// Requests under this path get it.
    path: String,
}

/// The cookies of one flow.
#[derive(Debug, Clone, Default)]
pub struct CookieJar {
    cookies: Vec<Stored>,
}

impl CookieJar {
    /// Takes the `Set-Cookie` headers of a response to `url`.
    pub fn store(&mut self, url: &Url, headers: &HeaderMap) {
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return;
        };
        for header in headers.get_all(SET_COOKIE) {
            let Ok(text) = header.to_str() else { continue };
            let Ok(cookie) = Cookie::parse(text) else {
                continue;
            };
            if cookie.name().len() + cookie.value().len() > MAX_COOKIE_BYTES {
                continue;
            }
            let (domain, subdomains) = match cookie.domain() {
                Some(d) => {
                    let d = d.trim_start_matches('.').to_ascii_lowercase();
                    // A host may only set cookies for itself or a parent.
                    if !domain_matches(&host, &d) {
                        continue;
                    }
                    (d, true)
                }
                None => (host.clone(), false),
            };
            let path = cookie
                .path()
                .filter(|p| p.starts_with('/'))
                .unwrap_or("/")
                .to_owned();
            let expired = cookie
                .max_age()
                .is_some_and(|age| age.is_zero() || age.is_negative())
                || cookie
                    .expires_datetime()
                    .is_some_and(|at| at < cookie::time::OffsetDateTime::now_utc());
            self.cookies
                .retain(|c| !(c.name == cookie.name() && c.domain == domain && c.path == path));
            if !expired && self.cookies.len() < MAX_COOKIES {
                self.cookies.push(Stored {
                    name: cookie.name().to_owned(),
                    value: cookie.value().to_owned(),
                    domain,
                    subdomains,
                    path,
                });
            }
        }
    }

    /// The `Cookie` header for a request to `url`, if any cookie goes there.
    pub fn header_for(&self, url: &Url) -> Option<String> {
        let host = url.host_str()?.to_ascii_lowercase();
        let path = url.path();
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .filter(|c| {
                (c.domain == host || (c.subdomains && domain_matches(&host, &c.domain)))
                    && path_matches(path, &c.path)
            })
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    /// The value of the cookie `name` (the latest set), if the jar has it.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .rev()
            .find(|c| c.name == name)
            .map(|c| c.value.as_str())
    }

    /// Every value the jar holds: each is secret.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.cookies.iter().map(|c| c.value.as_str())
    }
}

/// RFC 6265 domain-match: the host is the domain, or ends in `.domain`.
fn domain_matches(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// RFC 6265 path-match.
fn path_matches(request: &str, cookie: &str) -> bool {
    request == cookie
        || (request.starts_with(cookie)
            && (cookie.ends_with('/') || request[cookie.len()..].starts_with('/')))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn set(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(SET_COOKIE, HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn a_cookie_set_on_one_listener_goes_to_the_other_port_of_the_same_host() {
        // GIVEN a session cookie set by production (port 80)
        let mut jar = CookieJar::default();
        jar.store(
            &url("http://alb.example.com:80/login"),
            &set(&["sid=abc123; Path=/; HttpOnly", "theme=dark"]),
        );
        // THEN the test listener (port 8080) of the same host gets it, another host not
        assert_eq!(
            jar.header_for(&url("http://alb.example.com:8080/me"))
                .as_deref(),
            Some("sid=abc123; theme=dark")
        );
        assert_eq!(jar.header_for(&url("http://other.example.com/me")), None);
        assert_eq!(jar.value("sid"), Some("abc123"));
    }

    #[test]
    fn a_cookie_is_replaced_deleted_and_scoped_by_path() {
        let mut jar = CookieJar::default();
        let at = url("http://h.example/");
        jar.store(&at, &set(&["a=1", "b=2; Path=/api"]));
        jar.store(&at, &set(&["a=3", "b=; Max-Age=0; Path=/api"]));
        assert_eq!(
            jar.header_for(&url("http://h.example/api/x")).as_deref(),
            Some("a=3")
        );
        jar.store(&at, &set(&["c=4; Path=/api"]));
        assert_eq!(
            jar.header_for(&url("http://h.example/")).as_deref(),
            Some("a=3")
        );
        assert_eq!(
            jar.header_for(&url("http://h.example/api")).as_deref(),
            Some("a=3; c=4")
        );
        assert_eq!(
            jar.header_for(&url("http://h.example/apix")).as_deref(),
            Some("a=3")
        );
    }

    #[test]
    fn a_host_cannot_set_a_cookie_for_another_domain() {
        let mut jar = CookieJar::default();
        jar.store(
            &url("http://evil.example/"),
            &set(&["x=1; Domain=bank.example", "y=2; Domain=evil.example"]),
        );
        assert_eq!(jar.value("x"), None);
        assert_eq!(
            jar.header_for(&url("http://www.evil.example/")).as_deref(),
            Some("y=2")
        );
    }

    #[test]
    fn the_jar_is_bounded() {
        let mut jar = CookieJar::default();
        let at = url("http://h.example/");
        let many: Vec<String> = (0..200).map(|i| format!("c{i}=v")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        jar.store(&at, &set(&refs));
        assert_eq!(jar.values().count(), MAX_COOKIES);
    }
}

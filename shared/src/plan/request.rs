//! A check's request beyond its path: headers (and which are secret),
//! redirects, and the per-request timeout.

use std::time::Duration;

use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderValue};

use super::limits::{MAX_REDIRECTS, MAX_TIMEOUT_MS};
use super::problem::NOT_SHOWN;
use super::validator::Validator;
use crate::probe::{Redirects, header_name, secret_header};
use crate::redaction::ALWAYS_SECRET_HEADERS;
use crate::spec::{CheckSpec, HeaderValueSpec};

impl Validator {
    pub(super) fn timeout(&mut self, path: &str, ms: u64) -> Duration {
        if !(1..=MAX_TIMEOUT_MS).contains(&ms) {
            self.problem(
                path,
                format!("expected 1..={MAX_TIMEOUT_MS} milliseconds, got {ms}"),
            );
        }
        Duration::from_millis(ms)
    }

    pub(super) fn redirects(&mut self, path: &str, spec: &CheckSpec) -> Redirects {
        let Some(follow) = &spec.follow_redirects else {
            return Redirects::default();
        };
        if !(1..=MAX_REDIRECTS).contains(&follow.max) {
            self.problem(
                &format!("{path}.max"),
                format!(
                    "expected 1..={MAX_REDIRECTS} (leave follow_redirects out to follow none), got {}",
                    follow.max
                ),
            );
        }
        let mut hosts = Vec::new();
        for (i, host) in follow.hosts.iter().enumerate() {
            // `host` or `host:port`, exactly as written (lowercase aside).
            let parsed = Url::parse(&format!("http://{host}/")).ok().and_then(|url| {
                let name = url.host_str()?.trim_end_matches('.').to_owned();
                Some(match url.port() {
                    Some(port) => format!("{name}:{port}"),
                    None => name,
                })
            });
            let written = host.to_ascii_lowercase();
            match parsed {
                Some(name)
                    if !host.is_empty()
                        && (name == written || name == written.trim_end_matches('.')) =>
                {
                    hosts.push(name);
                }
                _ => self.problem(
                    &format!("{path}.hosts[{i}]"),
                    format!(
                        "expected a host name such as login.example.com, or host:port ({NOT_SHOWN})"
                    ),
                ),
            }
        }
        Redirects {
            max: follow.max,
            hosts,
        }
    }

    pub(super) fn headers(&mut self, at: &str, spec: &CheckSpec) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in &spec.headers {
            let (text, marked) = match value {
                HeaderValueSpec::Plain(text) => (text, false),
                HeaderValueSpec::Detailed(detailed) => (&detailed.value, detailed.secret),
            };
            let Ok(header) = header_name(name) else {
                // Not in the path either: a token pasted as a name is a secret.
                self.problem(
                    &format!("{at}.headers"),
                    format!("a name is not a valid HTTP header name ({NOT_SHOWN})"),
                );
                continue;
            };
            let path = format!("{at}.headers.{name}");
            let secret = marked || ALWAYS_SECRET_HEADERS.contains(&header.as_str());
            let parsed = if secret {
                secret_header(text)
            } else {
                HeaderValue::from_str(text)
            };
            match parsed {
                Ok(value) => {
                    if secret {
                        self.secrets.push(text.clone());
                        // "Bearer abc…": a service may echo the token alone.
                        if let Some((_, token)) = text.split_once(' ')
                            && token.trim().len() >= 4
                        {
                            self.secrets.push(token.trim().to_owned());
                        }
                    }
                    headers.append(header, value);
                }
                // Never echo the value: it may be a secret the operator forgot to mark.
                Err(_) => self.problem(
                    &path,
                    "not a valid HTTP header value (control characters or non-ASCII?)".to_owned(),
                ),
            }
        }
        headers
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;

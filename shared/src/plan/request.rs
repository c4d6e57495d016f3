//! A request's redirects, its per-request timeout, and the secrets its
//! headers carry.

use std::time::Duration;

use reqwest::Url;

use super::limits::{MAX_REDIRECTS, MAX_TIMEOUT_MS};
use super::problem::NOT_SHOWN;
use super::validator::Validator;
use crate::probe::Redirects;
use crate::spec::RedirectSpec;

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

    pub(super) fn redirects(&mut self, path: &str, spec: Option<&RedirectSpec>) -> Redirects {
        let Some(follow) = spec else {
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

    /// Remembers a secret header value, and the token of `Bearer <token>`:
    /// a service may echo the token alone.
    pub(super) fn secret(&mut self, text: &str) {
        self.secrets.push(text.to_owned());
        if let Some((_, token)) = text.split_once(' ')
            && token.trim().len() >= 4
        {
            self.secrets.push(token.trim().to_owned());
        }
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;

//! The spec's `target` section: where the checks go, and how to connect.

use std::net::IpAddr;

use reqwest::Url;

use super::error::PlanError;
use super::problem::NOT_SHOWN;
use super::validator::Validator;
use crate::spec::{ListenerChoice, TargetSpec};

/// The base URL used for checks until the deployment's listener is known.
pub const UNDISCOVERED: &str = "http://undiscovered.invalid";

/// Where the checks go, validated.
#[derive(Debug, Clone, Default)]
pub struct TargetPlan {
    /// The explicit base URL, if the spec gives one.
    pub url: Option<Url>,
    /// A listener chosen in the spec, overriding the hook's default.
    pub listener: Option<ListenerChoice>,
    /// Base URLs given for the test and production listeners.
    pub listener_urls: ListenerUrls,
    /// Host name for `Host`, SNI and certificate, if not the URL's.
    pub host: Option<String>,
    /// Names pinned to addresses.
    pub resolve: Vec<(String, IpAddr)>,
    /// Extra trust anchors, PEM.
    pub ca_pem: Option<String>,
}

/// Base URLs given for the listeners.
#[derive(Debug, Clone, Default)]
pub struct ListenerUrls {
    /// The test listener's.
    pub test: Option<Url>,
    /// The production listener's.
    pub production: Option<Url>,
}

impl ListenerUrls {
    /// The URL given for `listener`, if any.
    pub fn of(&self, listener: ListenerChoice) -> Option<&Url> {
        match listener {
            ListenerChoice::Test => self.test.as_ref(),
            ListenerChoice::Production => self.production.as_ref(),
        }
    }
}

/// The target URL followed by a check's path (and query). Appended, not
/// resolved: the target's own path is kept (`https://host/prod` + `/health` is
/// `https://host/prod/health`), and a path such as `//other-host/x` stays on the
/// target's host instead of becoming a scheme-relative URL.
pub(super) fn append_path(base: &Url, path: &str) -> Result<Url, PlanError> {
    let mut prefix = base.clone();
    prefix.set_query(None);
    prefix.set_fragment(None);
    let prefix = prefix.as_str().trim_end_matches('/');
    Url::parse(&format!("{prefix}{path}")).map_err(PlanError::PathNotJoinable)
}

impl Validator {
    fn url(&mut self, path: &str, text: &str) -> Option<Url> {
        match Url::parse(text) {
            Ok(url) if !url.username().is_empty() || url.password().is_some() => {
                self.problem(
                    path,
                    "credentials in the URL would end up in logs: send them in a header marked secret".to_owned(),
                );
                None
            }
            Ok(url) if url.query().is_some() || url.fragment().is_some() => {
                self.problem(
                    path,
                    "expected a base URL without query or fragment (put queries in a check's path)"
                        .to_owned(),
                );
                None
            }
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Some(url)
            }
            Ok(_) => {
                self.problem(
                    path,
                    format!("expected an http:// or https:// URL with a host, got something else ({NOT_SHOWN})"),
                );
                None
            }
            Err(error) => {
                self.problem(
                    path,
                    format!("expected an http:// or https:// URL, got something else ({error}; {NOT_SHOWN})"),
                );
                None
            }
        }
    }

    pub(super) fn target(&mut self, spec: &TargetSpec) -> TargetPlan {
        let url = spec
            .url
            .as_deref()
            .and_then(|text| self.url("target.url", text));
        let listener_urls = ListenerUrls {
            test: spec
                .listener_urls
                .test
                .as_deref()
                .and_then(|text| self.url("target.listener_urls.test", text)),
            production: spec
                .listener_urls
                .production
                .as_deref()
                .and_then(|text| self.url("target.listener_urls.production", text)),
        };
        if let Some(host) = &spec.host
            && (host.is_empty()
                || Url::parse(&format!("https://{host}/"))
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .as_deref()
                    != Some(host.to_ascii_lowercase().as_str()))
        {
            self.problem(
                "target.host",
                format!("expected a host name such as api.example.com ({NOT_SHOWN})"),
            );
        }
        let mut resolve = Vec::new();
        for (name, address) in &spec.resolve {
            match address.parse::<IpAddr>() {
                Ok(ip) => resolve.push((name.to_ascii_lowercase(), ip)),
                Err(_) => self.problem(
                    &format!("target.resolve.{name}"),
                    format!("expected an IP address ({NOT_SHOWN})"),
                ),
            }
        }
        if let Some(pem) = &spec.ca_pem
            && let Err(error) = certificates(pem)
        {
            self.problem(
                "target.ca_pem",
                format!("expected PEM certificates: {error}"),
            );
        }
        TargetPlan {
            url,
            listener: spec.listener,
            listener_urls,
            host: spec.host.as_ref().map(|h| h.to_ascii_lowercase()),
            resolve,
            ca_pem: spec.ca_pem.clone(),
        }
    }
}

/// Checks that `pem` holds at least one PEM certificate.
fn certificates(pem: &str) -> Result<(), PlanError> {
    let certs =
        reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(PlanError::Certificates)?;
    if certs.is_empty() {
        Err(PlanError::NoCertificate)
    } else {
        Ok(())
    }
}

#[cfg(test)]
#[path = "target_tests.rs"]
mod tests;

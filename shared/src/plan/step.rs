//! A request of a check, as it runs: one for a simple check, several for a
//! flow (`steps`), two for a comparison (green's and blue's). Each has its
//! route (listener and colour), its request, what it captures and what it
//! asserts; parts that use `{{name}}` are kept as templates, filled in at
//! send time.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use super::error::PlanError;
use super::limits::{MAX_CAPTURES, MAX_HEADERS, MAX_REQUEST_BODY_BYTES};
use super::problem::NOT_SHOWN;
use super::target::append_path;
use super::template::{Escape, Template};
use super::validator::Validator;
use crate::assertion::{Assertion, Query};
use crate::capture::{Capture, CaptureSource};
use crate::json_path::parse_bounded;
use crate::probe::{ProbeRequest, header_name, secret_header};
use crate::redaction::ALWAYS_SECRET_HEADERS;
use crate::spec::{AssertSpec, CaptureSpec, Colour, HeaderValueSpec, ListenerChoice, RedirectSpec};

/// The methods a request may use.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Where a step's request goes: a listener, and the colour it serves then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The listener.
    pub listener: ListenerChoice,
    /// Who answers on it at this hook.
    pub colour: Colour,
}

/// A header whose value uses captures.
#[derive(Debug, Clone)]
pub struct HeaderTemplate {
    /// Its name.
    pub name: HeaderName,
    /// Its value, with references.
    pub value: Template,
    /// Whether the value is secret (marked, always secret, or uses a secret
    /// capture).
    pub secret: bool,
}

/// A validated request of a check.
#[derive(Debug, Clone)]
pub struct Step {
    /// Name for the verdict (the check's own for a check of one request).
    pub name: String,
    /// The listener named in the spec, if any (else the hook's own).
    pub listener: Option<ListenerChoice>,
    /// The colour the spec says it means to reach, if it says.
    pub expect: Option<Colour>,
    /// Where it goes this judgement; set when the checks are aimed.
    pub route: Option<Route>,
    /// The base URL it goes to; set when the checks are aimed.
    pub base: Url,
    /// Path and query as written (with references).
    pub path: Template,
    /// The request, with every part that has no reference.
    pub request: ProbeRequest,
    /// Headers that use captures.
    pub header_templates: Vec<HeaderTemplate>,
    /// The body, when it uses captures.
    pub body_template: Option<Template>,
    /// Whether the body uses a secret capture.
    pub body_secret: bool,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Values taken from the response.
    pub captures: Vec<Capture>,
    /// What must hold.
    pub assertions: Vec<Assertion>,
}

/// Why a step's request cannot be made from the captured values.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The path, filled in, is no URL.
    #[error("the path with its captures is not a URL: {0}")]
    Path(#[source] PlanError),
    /// A header, filled in, is no header value.
    #[error("header {0}: the value with its captures is not a valid header value")]
    Header(HeaderName),
}

impl Step {
    /// Whether anything of the request is filled in at send time.
    pub fn templated(&self) -> bool {
        self.path.has_names() || !self.header_templates.is_empty() || self.body_template.is_some()
    }

    /// Whether the request carries a secret (then green's raw body is never
    /// shown): a secret header, or a body with a secret capture.
    pub fn sends_secrets(&self) -> bool {
        self.body_secret
            || self.request.headers.values().any(HeaderValue::is_sensitive)
            || self.header_templates.iter().any(|h| h.secret)
    }

    /// This step sent to `base` on `route`.
    pub fn rebased(&self, base: &Url, route: Route) -> Result<Step, PlanError> {
        let mut step = self.clone();
        step.request.url = append_path(base, &self.path.render(&BTreeMap::new(), Escape::None))?;
        step.base = base.clone();
        step.route = Some(route);
        Ok(step)
    }

    /// The request with `values` filled in.
    pub fn request_with(
        &self,
        values: &BTreeMap<String, String>,
    ) -> Result<ProbeRequest, RequestError> {
        if !self.templated() {
            return Ok(self.request.clone());
        }
        let mut request = self.request.clone();
        if self.path.has_names() {
            request.url = append_path(&self.base, &self.path.render(values, Escape::Path))
                .map_err(RequestError::Path)?;
        }
        for header in &self.header_templates {
            let text = header.value.render(values, Escape::None);
            let value = if header.secret {
                secret_header(&text)
            } else {
                HeaderValue::from_str(&text)
            }
            .map_err(|_| RequestError::Header(header.name.clone()))?;
            request.headers.append(header.name.clone(), value);
        }
        if let Some(body) = &self.body_template {
            request.body = Some(body.render(values, Escape::None));
        }
        Ok(request)
    }
}

/// The fields of a request, as a check or a step writes them.
pub(super) struct RequestFields<'a> {
    pub(super) name: String,
    pub(super) method: Option<&'a str>,
    pub(super) path: Option<&'a str>,
    pub(super) headers: &'a BTreeMap<String, HeaderValueSpec>,
    pub(super) body: Option<&'a str>,
    pub(super) follow_redirects: Option<&'a RedirectSpec>,
    /// The request's own timeout, if it gives one.
    pub(super) timeout_ms: Option<u64>,
    /// The timeout otherwise.
    pub(super) timeout: Duration,
    pub(super) listener: Option<ListenerChoice>,
    pub(super) expect: Option<Colour>,
    pub(super) capture: Option<&'a BTreeMap<String, CaptureSpec>>,
    pub(super) asserts: &'a [AssertSpec],
    /// Whether the request needs assertions (or captures) of its own: a
    /// comparison's need not.
    pub(super) needs_assert: bool,
}

impl Validator {
    /// A step at `at`; `known` holds the names captured before it, each with
    /// whether it is secret, and gains this step's.
    pub(super) fn step(
        &mut self,
        at: &str,
        fields: &RequestFields<'_>,
        base: Option<&Url>,
        known: &mut BTreeMap<String, bool>,
    ) -> Option<Step> {
        let before = self.problems.len();
        let method_text = fields.method.unwrap_or("GET").to_ascii_uppercase();
        let method = METHODS
            .contains(&method_text.as_str())
            .then(|| Method::from_bytes(method_text.as_bytes()).ok())
            .flatten();
        if method.is_none() {
            self.problem(
                &format!("{at}.method"),
                format!("expected one of {} ({NOT_SHOWN})", METHODS.join(", ")),
            );
        }
        let path_text = fields.path.unwrap_or("/");
        let path = self.template(&format!("{at}.path"), path_text, known);
        let url = if path_text.starts_with('/') {
            let written = path
                .as_ref()
                .map(|p| p.render(&BTreeMap::new(), Escape::None));
            match (base, written) {
                (Some(base), Some(written)) => match append_path(base, &written) {
                    Ok(url) => Some(url),
                    Err(error) => {
                        self.problem(
                            &format!("{at}.path"),
                            format!("cannot be joined to the target URL: {error}"),
                        );
                        None
                    }
                },
                _ => None,
            }
        } else {
            self.problem(
                &format!("{at}.path"),
                format!("expected a path starting with '/' ({NOT_SHOWN})"),
            );
            None
        };
        let (headers, header_templates) = self.headers(at, fields.headers, known);
        if fields.headers.len() > MAX_HEADERS {
            self.problem(
                &format!("{at}.headers"),
                format!(
                    "expected at most {MAX_HEADERS} headers, got {}",
                    fields.headers.len()
                ),
            );
        }
        let mut body_template = None;
        let mut body_secret = false;
        if let Some(body) = fields.body {
            if body.len() > MAX_REQUEST_BODY_BYTES {
                self.problem(
                    &format!("{at}.body"),
                    format!(
                        "expected at most {MAX_REQUEST_BODY_BYTES} bytes, got {}",
                        body.len()
                    ),
                );
            } else if let Some(template) = self.template(&format!("{at}.body"), body, known)
                && template.has_names()
            {
                body_secret = template.names().any(|n| known.get(n) == Some(&true));
                body_template = Some(template);
            }
        }
        let redirects = self.redirects(&format!("{at}.follow_redirects"), fields.follow_redirects);
        let timeout = fields
            .timeout_ms
            .map(|ms| self.timeout(&format!("{at}.timeout_ms"), ms))
            .unwrap_or(fields.timeout);
        let captures = self.captures(&format!("{at}.capture"), fields.capture, known);
        if fields.needs_assert && fields.asserts.is_empty() && captures.is_empty() {
            self.problem(
                &format!("{at}.assert"),
                "add at least one assertion, e.g. {\"status\": 200}".to_owned(),
            );
        }
        let assertions: Vec<Assertion> = fields
            .asserts
            .iter()
            .enumerate()
            .filter_map(|(j, a)| self.assertion(&format!("{at}.assert[{j}]"), a))
            .collect();
        if self.problems.len() > before {
            return None;
        }
        Some(Step {
            name: fields.name.clone(),
            listener: fields.listener,
            expect: fields.expect,
            route: None,
            base: base?.clone(),
            path: path?,
            request: ProbeRequest {
                method: method?,
                url: url?,
                headers,
                body: if body_template.is_some() {
                    None
                } else {
                    fields.body.map(str::to_owned)
                },
                redirects,
                // Only a request that asserts on the certificate reads it.
                read_certificate: assertions
                    .iter()
                    .any(|assertion| matches!(assertion.query, Query::Certificate)),
            },
            header_templates,
            body_template,
            body_secret,
            timeout,
            captures,
            assertions,
        })
    }

    /// A text with references, each to a name captured earlier.
    fn template(
        &mut self,
        at: &str,
        text: &str,
        known: &BTreeMap<String, bool>,
    ) -> Option<Template> {
        let template = match Template::parse(text) {
            Ok(template) => template,
            Err(error) => {
                self.problem(at, error.to_string());
                return None;
            }
        };
        let unknown: Vec<&str> = template
            .names()
            .filter(|n| !known.contains_key(*n))
            .collect();
        if !unknown.is_empty() {
            self.problem(
                at,
                format!(
                    "uses {}, which no earlier step captures",
                    unknown
                        .iter()
                        .map(|n| format!("{{{{{n}}}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            return None;
        }
        Some(template)
    }

    /// Headers without references, and those with.
    fn headers(
        &mut self,
        at: &str,
        spec: &BTreeMap<String, HeaderValueSpec>,
        known: &BTreeMap<String, bool>,
    ) -> (HeaderMap, Vec<HeaderTemplate>) {
        let mut headers = HeaderMap::new();
        let mut templates = Vec::new();
        for (name, value) in spec {
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
            if text.contains("{{") {
                if let Some(value) = self.template(&path, text, known) {
                    let uses_secret = value.names().any(|n| known.get(n) == Some(&true));
                    templates.push(HeaderTemplate {
                        name: header,
                        value,
                        secret: secret || uses_secret,
                    });
                }
                continue;
            }
            let parsed = if secret {
                secret_header(text)
            } else {
                HeaderValue::from_str(text)
            };
            match parsed {
                Ok(value) => {
                    if secret {
                        self.secret(text);
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
        (headers, templates)
    }

    /// A step's captures; `known` gains their names.
    fn captures(
        &mut self,
        at: &str,
        spec: Option<&BTreeMap<String, CaptureSpec>>,
        known: &mut BTreeMap<String, bool>,
    ) -> Vec<Capture> {
        let Some(spec) = spec else {
            return Vec::new();
        };
        if known.len() + spec.len() > MAX_CAPTURES {
            self.problem(
                at,
                format!("expected at most {MAX_CAPTURES} captures in a check"),
            );
        }
        let mut captures = Vec::new();
        for (name, capture) in spec {
            let path = format!("{at}.{name}");
            if !super::template::is_name(name) {
                self.problem(
                    &path,
                    "a capture's name is a letter or _, then letters, digits and _".to_owned(),
                );
                continue;
            }
            let source = self.one_of(
                &path,
                vec![
                    ("header", capture.header.as_deref().map(CaptureKey::Header)),
                    ("cookie", capture.cookie.as_deref().map(CaptureKey::Cookie)),
                    ("json", capture.json.as_deref().map(CaptureKey::Json)),
                    ("regex", capture.regex.as_deref().map(CaptureKey::Regex)),
                ],
            );
            let source = match source {
                Some(CaptureKey::Header(h)) => match header_name(h) {
                    Ok(h) => Some(CaptureSource::Header(h)),
                    Err(_) => {
                        self.problem(
                            &format!("{path}.header"),
                            format!("not a valid HTTP header name ({NOT_SHOWN})"),
                        );
                        None
                    }
                },
                Some(CaptureKey::Cookie(c)) if !c.is_empty() => {
                    Some(CaptureSource::Cookie(c.to_owned()))
                }
                Some(CaptureKey::Cookie(_)) => {
                    self.problem(
                        &format!("{path}.cookie"),
                        "expected a cookie name".to_owned(),
                    );
                    None
                }
                Some(CaptureKey::Json(query)) => match parse_bounded(query) {
                    Ok(parsed) => Some(CaptureSource::Json {
                        source: query.to_owned(),
                        path: parsed,
                    }),
                    Err(error) => {
                        self.problem(&format!("{path}.json"), error.to_string());
                        None
                    }
                },
                Some(CaptureKey::Regex(pattern)) => self
                    .regex(&format!("{path}.regex"), pattern)
                    .map(CaptureSource::Regex),
                None => None,
            };
            let Some(source) = source else { continue };
            let secret = capture.secret || matches!(source, CaptureSource::Cookie(_));
            known.insert(name.clone(), secret);
            captures.push(Capture {
                name: name.clone(),
                source,
                secret,
            });
        }
        captures
    }
}

/// The one key of a capture.
enum CaptureKey<'a> {
    Header(&'a str),
    Cookie(&'a str),
    Json(&'a str),
    Regex(&'a str),
}

#[cfg(test)]
#[path = "step_tests.rs"]
mod tests;

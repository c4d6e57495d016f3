//! Captures: a value taken from a step's response (a header, a cookie, a
//! JSONPath, a regex group) for the steps after it. Like an assertion, a
//! capture is a query; unlike one, it keeps what it found.

use std::fmt;

use regex::Regex;
use reqwest::header::HeaderName;
use serde_json::Value;
use serde_json_path::JsonPath;

use crate::cookie_jar::CookieJar;
use crate::probe::ProbeResponse;

/// Captured values longer than this are refused: a value is for a header, a
/// path or a body, not a document.
pub const MAX_CAPTURED_BYTES: usize = 8 * 1024;

/// One capture of a step.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The name later steps use (`{{name}}`).
    pub name: String,
    /// Where the value comes from.
    pub source: CaptureSource,
    /// Whether the value is secret: redacted everywhere once captured.
    pub secret: bool,
}

/// Where a captured value comes from.
#[derive(Debug, Clone)]
pub enum CaptureSource {
    /// A response header's first value (name lower-cased).
    Header(HeaderName),
    /// A cookie of the flow's jar, after this response's `Set-Cookie`.
    Cookie(String),
    /// A JSONPath query that must find exactly one value.
    Json {
        /// The query as written.
        source: String,
        /// The parsed query.
        path: JsonPath,
    },
    /// A regex over the body: its first group, or the whole match.
    Regex(Regex),
}

impl fmt::Display for CaptureSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureSource::Header(name) => write!(f, "header {name}"),
            CaptureSource::Cookie(name) => write!(f, "cookie {name}"),
            CaptureSource::Json { source, .. } => write!(f, "json {source}"),
            CaptureSource::Regex(re) => write!(f, "regex /{}/", re.as_str()),
        }
    }
}

/// Why nothing was captured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// The source is not in the response.
    #[error("nothing found")]
    Missing,
    /// A JSONPath found more than one value.
    #[error("{0} values found, expected one")]
    Several(usize),
    /// The body is not JSON.
    #[error("body is not JSON")]
    NotJson,
    /// The value is longer than [`MAX_CAPTURED_BYTES`].
    #[error("{0} bytes, more than {MAX_CAPTURED_BYTES}")]
    TooLong(usize),
    /// A header value that is not text.
    #[error("not text")]
    NotText,
}

impl Capture {
    /// The value this capture takes from `response` (the jar already holds
    /// its cookies).
    pub fn take(
        &self,
        response: &ProbeResponse,
        jar: &CookieJar,
        json: &mut Option<Result<Value, ()>>,
    ) -> Result<String, CaptureError> {
        let value = match &self.source {
            CaptureSource::Header(name) => response
                .headers
                .get(name)
                .ok_or(CaptureError::Missing)?
                .to_str()
                .map_err(|_| CaptureError::NotText)?
                .to_owned(),
            CaptureSource::Cookie(name) => jar.value(name).ok_or(CaptureError::Missing)?.to_owned(),
            CaptureSource::Json { path, .. } => {
                let document = json
                    .get_or_insert_with(|| serde_json::from_str(&response.body).map_err(|_| ()))
                    .as_ref()
                    .map_err(|()| CaptureError::NotJson)?;
                let nodes = path.query(document).all();
                match nodes.as_slice() {
                    [] => return Err(CaptureError::Missing),
                    [Value::String(text)] => text.clone(),
                    [other] => other.to_string(),
                    several => return Err(CaptureError::Several(several.len())),
                }
            }
            CaptureSource::Regex(re) => {
                let found = re.captures(&response.body).ok_or(CaptureError::Missing)?;
                found
                    .get(1)
                    .or_else(|| found.get(0))
                    .map(|m| m.as_str().to_owned())
                    .ok_or(CaptureError::Missing)?
            }
        };
        if value.len() > MAX_CAPTURED_BYTES {
            return Err(CaptureError::TooLong(value.len()));
        }
        Ok(value)
    }
}

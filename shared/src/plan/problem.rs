//! What a spec's problems say, and what they may not say: no string value
//! from the spec, which may be a secret written in the wrong place.

use std::fmt;

use regex::Regex;

/// Said instead of a string value from the spec in a problem's message.
pub(super) const NOT_SHOWN: &str = "the value is not shown";

/// One thing wrong with a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where, e.g. `checks[2].assert[0].status`.
    pub path: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found in a spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid spec: {}", .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct SpecError {
    /// The problems, in document order.
    pub problems: Vec<Problem>,
}

/// serde's message, and the path it names, with the strings they quote from
/// the spec left out: `invalid type: string "Bearer …", expected a map` or
/// ``unknown variant `Bearer …` `` would put a token written in the wrong
/// place into the logs. An unknown field keeps its name when it looks like one
/// of the spec's own (lower case and underscores), the likely typo.
pub(super) fn without_string_values(path: &str, message: &str) -> (String, String) {
    static QUOTED: std::sync::OnceLock<Option<[Regex; 3]>> = std::sync::OnceLock::new();
    let Some([string, variant, field]) = QUOTED.get_or_init(|| {
        Some([
            Regex::new(r#"(invalid (?:type|value|length): string )"(?:[^"\\]|\\.)*""#).ok()?,
            Regex::new(r"(unknown variant )`[^`]*`").ok()?,
            Regex::new(r"unknown field `([^`]*)`").ok()?,
        ])
    }) else {
        return (
            path.to_owned(),
            "the spec does not match its schema".to_owned(),
        );
    };
    let mut path = path.to_owned();
    let mut message = string.replace_all(message, "${1}(not shown)").into_owned();
    message = variant
        .replace_all(&message, "${1}(not shown)")
        .into_owned();
    if let Some(name) = field
        .captures(&message)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
        && !(name.len() <= 40
            && !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    {
        message = field
            .replace_all(&message, "unknown field (not shown)")
            .into_owned();
        if let Some(parent) = path.strip_suffix(&name) {
            path = parent.trim_end_matches('.').to_owned();
        }
    }
    (path, message)
}

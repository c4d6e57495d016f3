//! Keeps secret header values out of logs, verdicts and invocation results.
//!
//! Secrets are redacted at the source (the request's `Debug` never prints them)
//! and again on every text that came back from the network, since a service may
//! echo a request header in its body or an error.

use std::fmt;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Header names whose values are always secret, whatever the spec says.
pub const ALWAYS_SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
];

/// Replaces every known secret value in a text.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// A redactor for these secret values (empty ones are ignored).
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = Vec::new();
        for secret in values.into_iter().filter(|s| !s.is_empty()) {
            // As it appears inside JSON text too (quotes and backslashes escaped).
            let escaped = serde_json::to_string(&secret).unwrap_or_default();
            let escaped = escaped.trim_matches('"');
            if escaped != secret {
                secrets.push(escaped.to_owned());
            }
            secrets.push(secret);
        }
        // Longest first, so that a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    /// The text with every secret value replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_every_occurrence_of_every_secret() {
        // GIVEN two secrets, one inside the other
        let redactor = Redactor::new(["tok".to_owned(), "Bearer tok123".to_owned()]);
        // WHEN a text echoing them is redacted
        let text = redactor.redact("auth=Bearer tok123; again tok and tok");
        // THEN none of them is left
        assert_eq!(text, "auth=<redacted>; again <redacted> and <redacted>");
    }

    #[test]
    fn finds_secrets_escaped_inside_json_text() {
        let redactor = Redactor::new([r#"a"b\c"#.to_owned()]);
        let json = serde_json::to_string(&serde_json::json!({"echo": r#"a"b\c"#})).unwrap();
        assert_eq!(redactor.redact(&json), r#"{"echo":"<redacted>"}"#);
    }

    #[test]
    fn leaves_text_without_secrets_alone() {
        let redactor = Redactor::new([String::new()]);
        assert_eq!(redactor.redact("plain"), "plain");
    }

    #[test]
    fn debug_does_not_print_secrets() {
        let redactor = Redactor::new(["s3cr3t".to_owned()]);
        assert_eq!(format!("{redactor:?}"), "Redactor(1 secrets)");
    }
}

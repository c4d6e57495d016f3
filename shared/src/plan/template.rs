//! `{{name}}` in a step's path, header values and body: the values captured
//! by earlier steps of the flow, put in at send time.

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986's unreserved characters is encoded in a path: a
/// captured `a/b` stays one segment, and `?` or `#` cannot start a query.
const PATH_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A text with `{{name}}` references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(String),
}

/// Why a text is not a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{{` without a name and `}}` after it.
    #[error(
        "'{{{{' must start a reference such as {{{{token}}}} (a name of letters, digits and _)"
    )]
    Malformed,
}

/// How a value is written into the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// As it is (headers, body).
    None,
    /// Percent-encoded, for a path.
    Path,
}

impl Template {
    /// Parses `text`, whose references are `{{name}}`.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or(TemplateError::Malformed)?;
            let name = after[..close].trim();
            if !is_name(name) {
                return Err(TemplateError::Malformed);
            }
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            parts.push(Part::Var(name.to_owned()));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template { parts })
    }

    /// The names it refers to, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Var(name) => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// Whether it refers to any name.
    pub fn has_names(&self) -> bool {
        self.names().next().is_some()
    }

    /// The text with each reference replaced by its value (a name without
    /// one, which validation rules out, becomes empty).
    pub fn render(&self, values: &BTreeMap<String, String>, escape: Escape) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Var(name) => {
                    let value = values.get(name).map(String::as_str).unwrap_or_default();
                    match escape {
                        Escape::None => out.push_str(value),
                        Escape::Path => out.extend(utf8_percent_encode(value, PATH_VALUE)),
                    }
                }
            }
        }
        out
    }
}

/// A capture's name: a letter or `_`, then letters, digits and `_`.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("id".to_owned(), "a/b c".to_owned()),
            ("token".to_owned(), "t0k".to_owned()),
        ])
    }

    #[test]
    fn references_are_replaced_and_encoded_in_a_path() {
        // GIVEN a path and a header using two captures
        let path = Template::parse("/users/{{id}}/x?t={{ token }}").unwrap();
        let header = Template::parse("Bearer {{token}}").unwrap();
        // THEN the path's value stays one segment, the header's is as is
        assert_eq!(
            path.render(&values(), Escape::Path),
            "/users/a%2Fb%20c/x?t=t0k"
        );
        assert_eq!(header.render(&values(), Escape::None), "Bearer t0k");
        assert_eq!(path.names().collect::<Vec<_>>(), ["id", "token"]);
    }

    #[test]
    fn a_text_without_references_is_itself() {
        let plain = Template::parse("{\"a\": {\"b\": 1}}").unwrap();
        assert!(!plain.has_names());
        assert_eq!(plain.render(&values(), Escape::None), "{\"a\": {\"b\": 1}}");
    }

    #[test]
    fn an_unclosed_or_unnamed_reference_is_refused() {
        for text in ["/{{id", "/{{}}", "/{{a-b}}", "{{1x}}"] {
            assert_eq!(
                Template::parse(text),
                Err(TemplateError::Malformed),
                "{text}"
            );
        }
    }
}

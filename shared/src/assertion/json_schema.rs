//! The JSON Schema predicate: the body, parsed once as JSON like every JSON
//! assertion's, valid against a schema compiled when the spec is validated.
//! A failure says where and why, for the first few errors only, each in a
//! line an operator can act on, and never with green's values when the
//! check sends secrets.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Retrieve, Uri, ValidationError};
use serde_json::Value;

use super::Evaluated;

/// Largest schema accepted, as JSON text: far beyond a health document's
/// schema, small enough that compiling it per check stays cheap.
pub const MAX_SCHEMA_BYTES: usize = 64 * 1024;

/// Errors shown of a body that fails its schema.
const ERRORS_SHOWN: usize = 3;

/// Characters of one error's path and message together: three fit in what
/// a result shows (`MAX_SHOWN_CHARS`).
const LINE_CHARS: usize = 88;

/// Characters of one error's path at most, so that its message has room.
const PATH_CHARS: usize = 48;

/// Characters of the schema's text the expected side shows.
const SCHEMA_CHARS: usize = 60;

/// A compiled JSON Schema.
#[derive(Clone)]
pub struct Schema {
    validator: Arc<jsonschema::Validator>,
    /// The head of the schema's text, for the expected side.
    shown: String,
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Schema").field(&self.shown).finish()
    }
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Why a schema cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// Its text is over [`MAX_SCHEMA_BYTES`].
    #[error("expected a schema of at most {MAX_SCHEMA_BYTES} bytes as JSON text, got {bytes}")]
    TooLarge {
        /// Its size as JSON text.
        bytes: usize,
    },
    /// It is no valid JSON Schema.
    #[error("invalid JSON Schema: {0}")]
    Invalid(String),
    /// A `$ref` in it leads outside it.
    #[error(
        "invalid JSON Schema: a $ref leads outside the schema (only references within it are followed, nothing is fetched)"
    )]
    OutsideReference,
}

/// Refuses every `$ref` outside the schema: a check never reaches the
/// network or the file system because of what its schema names.
struct NoRetrieval;

impl Retrieve for NoRetrieval {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        Err(format!("{uri} is outside the schema").into())
    }
}

impl Schema {
    /// Compiles `schema`, refusing one over [`MAX_SCHEMA_BYTES`].
    pub fn compile(schema: &Value) -> Result<Schema, SchemaError> {
        let text = serde_json::to_string(schema).unwrap_or_default();
        if text.len() > MAX_SCHEMA_BYTES {
            return Err(SchemaError::TooLarge { bytes: text.len() });
        }
        let validator = jsonschema::options()
            .with_retriever(NoRetrieval)
            // `format` is an annotation, as drafts 2019-09 and 2020-12 say;
            // the regex crate matches `pattern` in linear time.
            .should_validate_formats(false)
            .with_pattern_options(jsonschema::PatternOptions::regex())
            .build(schema)
            .map_err(|error| invalid(&error))?;
        let mut shown: String = text.chars().take(SCHEMA_CHARS).collect();
        if shown.len() < text.len() {
            shown.push('…');
        }
        Ok(Schema {
            validator: Arc::new(validator),
            shown,
        })
    }

    /// Whether `instance` is valid against the schema.
    pub(super) fn holds(&self, instance: &Value) -> bool {
        self.validator.is_valid(instance)
    }

    /// Where and why `instance` fails the schema: the first few errors,
    /// each redacted and cut, without green's values if the check sends
    /// secrets.
    pub(super) fn explain(&self, instance: &Value, evaluated: &Evaluated<'_>) -> String {
        let redactor = &evaluated.disclosure.redactor;
        let mut errors = self.validator.iter_errors(instance);
        let mut lines = Vec::new();
        for error in errors.by_ref().take(ERRORS_SHOWN) {
            let at = cut(&redactor.redact(location(&error)), PATH_CHARS);
            let room = LINE_CHARS - at.chars().count();
            let message = if evaluated.disclosure.sends_secrets {
                bounded(&error.masked(), room + redactor.room_chars())
            } else {
                bounded(&error, room + redactor.room_chars())
            };
            let message = cut(&redactor.redact(&message), room);
            lines.push(format!("at {at}: {message}"));
        }
        let more = if errors.next().is_some() {
            "; and more"
        } else {
            ""
        };
        format!("{}{more}", lines.join("; "))
    }
}

/// Where in the document (or, compiling, in the schema) an error is.
fn location<'e>(error: &'e ValidationError<'_>) -> &'e str {
    match error.instance_path().as_str() {
        "" => "the root",
        path => path,
    }
}

/// Why a schema does not compile, with where in it, and without its string
/// values: a spec's problems quote none (one may be a secret written in the
/// wrong place).
fn invalid(error: &ValidationError<'_>) -> SchemaError {
    if matches!(error.kind(), ValidationErrorKind::Referencing(_)) {
        return SchemaError::OutsideReference;
    }
    let at = cut(location(error), PATH_CHARS);
    let room = LINE_CHARS - at.chars().count();
    SchemaError::Invalid(format!("at {at}: {}", bounded(&error.masked(), room)))
}

/// `error` as text, rendered no further than `limit` characters: a value
/// of green's body in it may be megabytes.
fn bounded(error: &impl fmt::Display, limit: usize) -> String {
    let mut out = Limited {
        text: String::new(),
        room: limit + 1,
    };
    // An error here only says that the limit was reached.
    write!(out, "{error}").ok();
    cut(&out.text, limit)
}

/// At most `limit` characters of `text`, marked when cut.
fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut head: String = text.chars().take(limit).collect();
    head.push('…');
    head
}

/// A text that takes characters while it has room, then refuses.
struct Limited {
    text: String,
    room: usize,
}

impl fmt::Write for Limited {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.room == 0 {
                return Err(fmt::Error);
            }
            self.text.push(c);
            self.room -= 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::assertion::{
        Assertion, AssertionResult, Disclosure, MAX_SHOWN_CHARS, Predicate, Query,
    };
    use crate::probe::ProbeResponse;
    use crate::redaction::Redactor;

    fn response(body: &str) -> ProbeResponse {
        ProbeResponse {
            status: 200,
            headers: reqwest::header::HeaderMap::new(),
            body: body.to_owned(),
            truncated: false,
            duration: Duration::from_millis(5),
            certificate: None,
        }
    }

    fn judge(schema: &Value, body: &str, disclosure: Disclosure) -> AssertionResult {
        let assertion = Assertion {
            query: Query::Json {
                source: "$".to_owned(),
                path: serde_json_path::JsonPath::parse("$").expect("root"),
            },
            predicate: Predicate::MatchesSchema(Schema::compile(schema).expect("schema")),
        };
        let response = response(body);
        assertion.evaluate_on(&Evaluated::disclosing(&response, disclosure))
    }

    fn catalogue() -> Value {
        json!({
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": {
                "type": "object",
                "required": ["price"],
                "properties": {"price": {"type": "number", "minimum": 0}}
            }}}
        })
    }

    #[test]
    fn a_conforming_body_passes() {
        let result = judge(
            &catalogue(),
            r#"{"items":[{"price":1.5},{"price":0}]}"#,
            Disclosure::default(),
        );
        assert!(result.passed, "{result:?}");
    }

    #[test]
    fn a_violating_body_fails_saying_where_and_why() {
        // GIVEN a body whose first item's price is a string
        let result = judge(
            &catalogue(),
            r#"{"items":[{"price":"12.50"},{"price":3}]}"#,
            Disclosure::default(),
        );
        // THEN it fails at that path, with the value
        assert!(!result.passed);
        assert_eq!(
            result.actual,
            r#"at /items/0/price: "12.50" is not of type "number""#
        );
    }

    #[test]
    fn many_errors_show_the_first_three_within_the_display_length() {
        // GIVEN a body with a thousand wrong items, each a long string
        let long = "x".repeat(10_000);
        let items: Vec<Value> = (0..1000).map(|_| json!({"price": long})).collect();
        let body = json!({"items": items}).to_string();
        // WHEN it is judged
        let result = judge(&catalogue(), &body, Disclosure::default());
        // THEN three errors are named, each cut, and more are said to exist
        assert!(!result.passed);
        assert!(
            result.actual.starts_with("at /items/0/price: \"xxx"),
            "{}",
            result.actual
        );
        assert!(
            result.actual.contains("; at /items/1/price: "),
            "{}",
            result.actual
        );
        assert!(
            result.actual.contains("; at /items/2/price: "),
            "{}",
            result.actual
        );
        assert!(!result.actual.contains("/items/3/"), "{}", result.actual);
        assert!(result.actual.ends_with("; and more"), "{}", result.actual);
        assert!(
            result.actual.chars().count() <= MAX_SHOWN_CHARS,
            "{}",
            result.actual
        );
    }

    #[test]
    fn a_check_that_sends_secrets_shows_no_value_of_the_body() {
        // GIVEN a check that sends a secret, and green echoing it where a
        // number belongs, and elsewhere a value that is no secret
        let secret = "s3cr3t-t0ken-0123456789";
        let disclosure = Disclosure {
            redactor: Redactor::new([secret.to_owned()]),
            sends_secrets: true,
        };
        let body = json!({"items": [{"price": secret}, {"price": "private-data"}]}).to_string();
        // WHEN it is judged
        let result = judge(&catalogue(), &body, disclosure);
        // THEN the paths and the kinds are shown, never the values
        assert!(!result.passed);
        assert_eq!(
            result.actual,
            r#"at /items/0/price: value is not of type "number"; at /items/1/price: value is not of type "number""#
        );
    }

    #[test]
    fn a_body_that_is_not_json_fails_saying_so() {
        let result = judge(&catalogue(), "<html>oops</html>", Disclosure::default());
        assert!(!result.passed);
        assert!(
            result.actual.starts_with("body is not JSON"),
            "{}",
            result.actual
        );
    }

    #[test]
    fn the_expected_side_shows_the_head_of_the_schema() {
        let result = judge(&json!(true), "{}", Disclosure::default());
        assert!(result.passed);
        assert_eq!(result.expected, "json $ is valid against the schema true");
    }

    #[test]
    fn a_pattern_is_matched_in_linear_time() {
        // GIVEN a pattern that backtracks exponentially in a backtracking
        // engine, and a string made to trigger it
        let schema = json!({"type": "string", "pattern": "^(a+)+$"});
        let body = json!(format!("{}!", "a".repeat(5000))).to_string();
        // WHEN it is judged
        let started = std::time::Instant::now();
        let result = judge(&schema, &body, Disclosure::default());
        // THEN it fails at once
        assert!(!result.passed);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}

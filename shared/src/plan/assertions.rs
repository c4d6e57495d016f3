//! A check's `assert` list: each assertion's query and its predicate, given
//! as exactly one key (an enum here, one variant per key).

use serde_json::Value;

use super::problem::NOT_SHOWN;
use super::validator::Validator;
use crate::assertion::{Assertion, Predicate, Query, Schema};
use crate::json_path::parse_bounded;
use crate::probe::header_name;
use crate::spec::{
    AssertSpec, CertificateAssertSpec, HeaderAssertSpec, JsonAssertSpec, StatusRange, StatusSpec,
    TextAssertSpec,
};

/// The most days a certificate assertion may ask for: ten years.
const MAX_CERTIFICATE_DAYS: u32 = 3650;

/// The one key of a `body` assertion.
enum TextKey<'a> {
    Equals(&'a str),
    Contains(&'a str),
    Matches(&'a str),
}

/// The one key of a `header` assertion.
enum HeaderKey<'a> {
    Exists(bool),
    Equals(&'a str),
    Contains(&'a str),
    Matches(&'a str),
}

/// The one key of a `json` assertion.
enum JsonKey<'a> {
    Equals(&'a Value),
    Exists(bool),
    OneOf(&'a [Value]),
    Contains(&'a Value),
    Matches(&'a str),
    LessThan(f64),
    AtMost(f64),
    GreaterThan(f64),
    AtLeast(f64),
}

/// A limit as a JSON number holds it: one that is not finite is no number.
fn limit(value: f64) -> f64 {
    if value.is_finite() { value } else { f64::NAN }
}

impl Validator {
    pub(super) fn assertion(&mut self, at: &str, spec: &AssertSpec) -> Option<Assertion> {
        match spec {
            AssertSpec::Status(status) => {
                let path = format!("{at}.status");
                let predicate = self.status(&path, status)?;
                Some(Assertion {
                    query: Query::Status,
                    predicate,
                })
            }
            AssertSpec::Header(header) => self.header_assertion(&format!("{at}.header"), header),
            AssertSpec::Body(text) => {
                let predicate = self.text_predicate(&format!("{at}.body"), text)?;
                Some(Assertion {
                    query: Query::Body,
                    predicate,
                })
            }
            AssertSpec::Json(json) => self.json_assertion(&format!("{at}.json"), json),
            AssertSpec::DurationMs(duration) => {
                if duration.less_than == 0 {
                    self.problem(
                        &format!("{at}.duration_ms.less_than"),
                        "expected a positive number of milliseconds".to_owned(),
                    );
                    return None;
                }
                #[allow(clippy::cast_precision_loss)]
                let limit = duration.less_than as f64;
                Some(Assertion {
                    query: Query::DurationMs,
                    predicate: Predicate::LessThan(limit),
                })
            }
            AssertSpec::Certificate(certificate) => {
                self.certificate_assertion(&format!("{at}.certificate"), certificate)
            }
            AssertSpec::JsonSchema(schema) => {
                self.json_schema_assertion(&format!("{at}.json_schema"), &schema.0)
            }
        }
    }

    fn json_schema_assertion(&mut self, path: &str, schema: &Value) -> Option<Assertion> {
        // The whole document, parsed once with the other JSON assertions'
        // and judged within the same bounds.
        let document = parse_bounded("$").map_err(|error| error.to_string());
        match (Schema::compile(schema), document) {
            (Ok(schema), Ok(document)) => Some(Assertion {
                query: Query::Json {
                    source: "$".to_owned(),
                    path: document,
                },
                predicate: Predicate::MatchesSchema(schema),
            }),
            (Err(error), _) => {
                self.problem(path, error.to_string());
                None
            }
            (_, Err(error)) => {
                self.problem(path, error);
                None
            }
        }
    }

    fn certificate_assertion(
        &mut self,
        path: &str,
        spec: &CertificateAssertSpec,
    ) -> Option<Assertion> {
        let days = spec.expires_in_days_at_least;
        if !(1..=MAX_CERTIFICATE_DAYS).contains(&days) {
            self.problem(
                &format!("{path}.expires_in_days_at_least"),
                format!("expected a number of days 1..={MAX_CERTIFICATE_DAYS}, got {days}"),
            );
            return None;
        }
        Some(Assertion {
            query: Query::Certificate,
            predicate: Predicate::AtLeast(f64::from(days)),
        })
    }

    fn status(&mut self, path: &str, spec: &StatusSpec) -> Option<Predicate> {
        let codes: Vec<i64> = match spec {
            StatusSpec::Equals(code) => vec![*code],
            StatusSpec::OneOf(codes) => codes.clone(),
            StatusSpec::Range(range) => vec![range.min, range.max],
        };
        let bad: Vec<String> = codes
            .iter()
            .filter(|c| !(100..=599).contains(*c))
            .map(ToString::to_string)
            .collect();
        if !bad.is_empty() {
            self.problem(
                path,
                format!("expected a number 100..599, got {}", bad.join(", ")),
            );
            return None;
        }
        match spec {
            StatusSpec::Equals(code) => Some(Predicate::Equals(Value::from(*code))),
            StatusSpec::OneOf(codes) if codes.is_empty() => {
                self.problem(path, "expected at least one status code".to_owned());
                None
            }
            StatusSpec::OneOf(codes) => Some(Predicate::OneOf(
                codes.iter().map(|c| Value::from(*c)).collect(),
            )),
            StatusSpec::Range(StatusRange { min, max }) if min > max => {
                self.problem(path, format!("min ({min}) is greater than max ({max})"));
                None
            }
            #[allow(clippy::cast_precision_loss)]
            StatusSpec::Range(StatusRange { min, max }) => {
                Some(Predicate::Between(*min as f64, *max as f64))
            }
        }
    }

    fn text_predicate(&mut self, path: &str, spec: &TextAssertSpec) -> Option<Predicate> {
        let key = self.one_of(
            path,
            vec![
                ("equals", spec.equals.as_deref().map(TextKey::Equals)),
                ("contains", spec.contains.as_deref().map(TextKey::Contains)),
                ("matches", spec.matches.as_deref().map(TextKey::Matches)),
            ],
        )?;
        match key {
            TextKey::Equals(text) => Some(Predicate::Equals(Value::String(text.to_owned()))),
            TextKey::Contains(text) => Some(Predicate::Contains(Value::String(text.to_owned()))),
            TextKey::Matches(pattern) => self
                .regex(&format!("{path}.matches"), pattern)
                .map(Predicate::Matches),
        }
    }

    fn header_assertion(&mut self, path: &str, spec: &HeaderAssertSpec) -> Option<Assertion> {
        let name = match header_name(&spec.name) {
            Ok(name) => Some(name.as_str().to_owned()),
            Err(_) => {
                self.problem(
                    &format!("{path}.name"),
                    format!("not a valid HTTP header name ({NOT_SHOWN})"),
                );
                None
            }
        };
        let predicate = self
            .one_of(
                path,
                vec![
                    ("exists", spec.exists.map(HeaderKey::Exists)),
                    ("equals", spec.equals.as_deref().map(HeaderKey::Equals)),
                    (
                        "contains",
                        spec.contains.as_deref().map(HeaderKey::Contains),
                    ),
                    ("matches", spec.matches.as_deref().map(HeaderKey::Matches)),
                ],
            )
            .and_then(|key| match key {
                HeaderKey::Exists(exists) => Some(Predicate::Exists(exists)),
                HeaderKey::Equals(text) => Some(Predicate::Equals(Value::String(text.to_owned()))),
                HeaderKey::Contains(text) => {
                    Some(Predicate::Contains(Value::String(text.to_owned())))
                }
                HeaderKey::Matches(pattern) => self
                    .regex(&format!("{path}.matches"), pattern)
                    .map(Predicate::Matches),
            });
        Some(Assertion {
            query: Query::Header(name?),
            predicate: predicate?,
        })
    }

    fn json_assertion(&mut self, path: &str, spec: &JsonAssertSpec) -> Option<Assertion> {
        let parsed = parse_bounded(&spec.path);
        let query = match parsed {
            Ok(parsed) => Some(Query::Json {
                source: spec.path.clone(),
                path: parsed,
            }),
            Err(error) => {
                self.problem(
                    &format!("{path}.path"),
                    format!("invalid JSONPath (RFC 9535, e.g. $.status): {error}"),
                );
                None
            }
        };
        let key = self.one_of(
            path,
            vec![
                ("equals", spec.equals.as_ref().map(JsonKey::Equals)),
                ("exists", spec.exists.map(JsonKey::Exists)),
                ("one_of", spec.one_of.as_deref().map(JsonKey::OneOf)),
                ("contains", spec.contains.as_ref().map(JsonKey::Contains)),
                ("matches", spec.matches.as_deref().map(JsonKey::Matches)),
                ("less_than", spec.less_than.map(JsonKey::LessThan)),
                ("at_most", spec.at_most.map(JsonKey::AtMost)),
                ("greater_than", spec.greater_than.map(JsonKey::GreaterThan)),
                ("at_least", spec.at_least.map(JsonKey::AtLeast)),
            ],
        )?;
        let predicate = match key {
            JsonKey::Equals(value) => Predicate::Equals(value.clone()),
            JsonKey::Exists(exists) => Predicate::Exists(exists),
            JsonKey::OneOf(options) if !options.is_empty() => Predicate::OneOf(options.to_vec()),
            JsonKey::OneOf(_) => {
                self.problem(
                    &format!("{path}.one_of"),
                    "expected at least one value".to_owned(),
                );
                return None;
            }
            JsonKey::Contains(value) => Predicate::Contains(value.clone()),
            JsonKey::Matches(pattern) => {
                Predicate::Matches(self.regex(&format!("{path}.matches"), pattern)?)
            }
            JsonKey::LessThan(value) => Predicate::LessThan(limit(value)),
            JsonKey::AtMost(value) => Predicate::AtMost(limit(value)),
            JsonKey::GreaterThan(value) => Predicate::GreaterThan(limit(value)),
            JsonKey::AtLeast(value) => Predicate::AtLeast(limit(value)),
        };
        Some(Assertion {
            query: query?,
            predicate,
        })
    }
}

#[cfg(test)]
#[path = "assertions_tests.rs"]
mod tests;

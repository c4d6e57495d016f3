//! The validator: walks a spec section by section (each in a file of its own,
//! `impl Validator` there), collecting every problem with its path and every
//! secret the redactor must know.

use regex::Regex;

use super::problem::Problem;

/// Problems and secrets found so far.
#[derive(Default)]
pub(super) struct Validator {
    /// Every problem, in document order.
    pub(super) problems: Vec<Problem>,
    /// Every secret header value (and bearer token) in the spec.
    pub(super) secrets: Vec<String>,
}

impl Validator {
    pub(super) fn problem(&mut self, path: &str, message: String) {
        self.problems.push(Problem {
            path: path.to_owned(),
            message,
        });
    }

    pub(super) fn regex(&mut self, path: &str, pattern: &str) -> Option<Regex> {
        match Regex::new(pattern) {
            Ok(re) => Some(re),
            Err(error) => {
                self.problem(path, format!("invalid regular expression: {error}"));
                None
            }
        }
    }

    /// Exactly one of the keys must be given: returns its value (a variant
    /// that names the key), or says which keys were expected otherwise.
    /// `given` pairs each key's name with its value, if written.
    pub(super) fn one_of<K>(&mut self, path: &str, given: Vec<(&str, Option<K>)>) -> Option<K> {
        let names: Vec<&str> = given.iter().map(|(name, _)| *name).collect();
        let mut present: Vec<(&str, K)> = given
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name, v)))
            .collect();
        match present.len() {
            1 => present.pop().map(|(_, value)| value),
            0 => {
                self.problem(path, format!("expected one of {}", names.join(", ")));
                None
            }
            _ => {
                let keys: Vec<&str> = present.iter().map(|(name, _)| *name).collect();
                self.problem(
                    path,
                    format!(
                        "expected exactly one of {}, got {}",
                        names.join(", "),
                        keys.join(" and ")
                    ),
                );
                None
            }
        }
    }
}

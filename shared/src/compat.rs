//! Backward compatibility proved on real answers: every field blue's JSON
//! has, green's has too, with the same type. Green may add fields; blue's
//! clients never read them. Arrays are compared element by element as far
//! as both go (their lengths are data, not schema).

use std::fmt;

use serde_json::Value;
use serde_json_path::JsonPath;

/// Differences listed at most; the rest are counted.
pub const MAX_LISTED: usize = 10;
/// Array elements compared at most, per array.
pub const MAX_ELEMENTS: usize = 1000;

/// The kind of a JSON value, as a difference names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Boolean,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl Kind {
    fn of(value: &Value) -> Kind {
        match value {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Boolean,
            Value::Number(_) => Kind::Number,
            Value::String(_) => Kind::String,
            Value::Array(_) => Kind::Array,
            Value::Object(_) => Kind::Object,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Null => "null",
            Kind::Boolean => "boolean",
            Kind::Number => "number",
            Kind::String => "string",
            Kind::Array => "array",
            Kind::Object => "object",
        })
    }
}

/// One field of blue's that green does not answer the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Where, as `$.items[0].price`.
    pub path: String,
    /// Blue's kind.
    pub blue: Kind,
    /// Green's kind, or `None` when green lacks the field.
    pub green: Option<Kind>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.green {
            Some(green) => write!(f, "{}: blue {}, green {green}", self.path, self.blue),
            None => write!(f, "{}: blue {}, missing in green", self.path, self.blue),
        }
    }
}

/// What a comparison found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Differences {
    /// The first [`MAX_LISTED`], in document order.
    pub listed: Vec<Difference>,
    /// How many there are in all.
    pub total: usize,
}

/// The differences of `green` from `blue`, leaving out what `ignore`
/// finds in blue's answer (and everything under it).
pub fn differences(blue: &Value, green: &Value, ignore: &[JsonPath]) -> Differences {
    let ignored: Vec<String> = ignore
        .iter()
        .flat_map(|path| {
            path.query_located(blue)
                .into_iter()
                .map(|node| node.location().to_json_pointer())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut found = Differences::default();
    let mut walk = Walk {
        ignored: &ignored,
        found: &mut found,
    };
    walk.compare(blue, green, &mut String::from("$"), &mut String::new());
    found
}

struct Walk<'a> {
    ignored: &'a [String],
    found: &'a mut Differences,
}

impl Walk<'_> {
    /// `shown` is the path as `$.a[0]`, `pointer` as `/a/0`.
    fn compare(&mut self, blue: &Value, green: &Value, shown: &mut String, pointer: &mut String) {
        if self.is_ignored(pointer) {
            return;
        }
        let (blue_kind, green_kind) = (Kind::of(blue), Kind::of(green));
        if blue_kind != green_kind {
            self.note(shown, blue_kind, Some(green_kind));
            return;
        }
        match (blue, green) {
            (Value::Object(blue), Value::Object(green)) => {
                for (key, value) in blue {
                    let (shown_len, pointer_len) = (shown.len(), pointer.len());
                    push_key(shown, key);
                    pointer.push('/');
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                    match green.get(key) {
                        Some(other) => self.compare(value, other, shown, pointer),
                        None if !self.is_ignored(pointer) => {
                            self.note(shown, Kind::of(value), None);
                        }
                        None => {}
                    }
                    shown.truncate(shown_len);
                    pointer.truncate(pointer_len);
                }
            }
            (Value::Array(blue), Value::Array(green)) => {
                for (i, (value, other)) in blue.iter().zip(green).take(MAX_ELEMENTS).enumerate() {
                    let (shown_len, pointer_len) = (shown.len(), pointer.len());
                    shown.push_str(&format!("[{i}]"));
                    pointer.push_str(&format!("/{i}"));
                    self.compare(value, other, shown, pointer);
                    shown.truncate(shown_len);
                    pointer.truncate(pointer_len);
                }
            }
            _ => {}
        }
    }

    fn is_ignored(&self, pointer: &str) -> bool {
        self.ignored.iter().any(|i| {
            pointer == i || (pointer.starts_with(i.as_str()) && pointer[i.len()..].starts_with('/'))
        })
    }

    fn note(&mut self, shown: &str, blue: Kind, green: Option<Kind>) {
        self.found.total += 1;
        if self.found.listed.len() < MAX_LISTED {
            self.found.listed.push(Difference {
                path: shown.to_owned(),
                blue,
                green,
            });
        }
    }
}

/// `.key`, or `['key']` when the key is not a plain name.
fn push_key(shown: &mut String, key: &str) {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        shown.push('.');
        shown.push_str(key);
    } else {
        shown.push_str(&format!("[{}]", Value::String(key.to_owned())));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn listed(found: &Differences) -> Vec<String> {
        found.listed.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_changed_type_is_named_with_its_path() {
        // GIVEN blue's price a number, green's a string
        let blue = json!({"items": [{"id": 1, "price": 9.5}], "total": 1});
        let green = json!({"items": [{"id": 1, "price": "9.50"}], "total": 1});
        // THEN the difference names the field
        let found = differences(&blue, &green, &[]);
        assert_eq!(
            listed(&found),
            ["$.items[0].price: blue number, green string"]
        );
    }

    #[test]
    fn new_fields_in_green_are_fine_and_missing_ones_are_not() {
        let blue = json!({"a": 1, "b": {"c": true}, "odd key": null});
        let green = json!({"a": 2, "b": {"c": false, "d": "new"}, "e": [1]});
        let found = differences(&blue, &green, &[]);
        assert_eq!(
            listed(&found),
            ["$[\"odd key\"]: blue null, missing in green"]
        );
        assert_eq!(found.total, 1);
    }

    #[test]
    fn ignored_fields_and_what_is_under_them_are_left_out() {
        let blue =
            json!({"generated_at": 1, "legacy": {"x": 1}, "items": [{"old": 1}, {"old": 2}]});
        let green = json!({"generated_at": "now", "items": [{}, {}]});
        let ignore = [
            JsonPath::parse("$.generated_at").unwrap(),
            JsonPath::parse("$.legacy").unwrap(),
            JsonPath::parse("$.items[*].old").unwrap(),
        ];
        assert_eq!(differences(&blue, &green, &ignore), Differences::default());
    }

    #[test]
    fn differences_are_listed_up_to_a_limit_and_counted_beyond() {
        let blue = Value::Object((0..25).map(|i| (format!("f{i:02}"), json!(i))).collect());
        let found = differences(&blue, &json!({}), &[]);
        assert_eq!(found.listed.len(), MAX_LISTED);
        assert_eq!(found.total, 25);
    }
}

//! State greenlight hands itself between rounds through its caller (the
//! ECS hook's `hookDetails`, a CodeDeploy hook's continuation event): read
//! back only when it is small, of the version this build writes, and of the
//! shape it writes. Each front door names its own field in the error.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why carried state cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CarriedError {
    /// Larger than greenlight ever writes: this many bytes.
    TooLarge(usize),
    /// Written by another version (its field `v`).
    Version(u64),
    /// Not the shape greenlight writes.
    Malformed(String),
}

/// `value` as a `T`, if it is at most `max_bytes` long as JSON and its
/// field `v` is `version`.
pub fn read<T: DeserializeOwned>(
    value: &Value,
    max_bytes: usize,
    version: u32,
) -> Result<T, CarriedError> {
    let size = serde_json::to_string(value).map_or(usize::MAX, |text| text.len());
    if size > max_bytes {
        return Err(CarriedError::TooLarge(size));
    }
    match value.get("v").and_then(Value::as_u64) {
        Some(v) if v == u64::from(version) => {}
        Some(v) => return Err(CarriedError::Version(v)),
        None => {
            return Err(CarriedError::Malformed(
                "no version number in its field v".to_owned(),
            ));
        }
    }
    T::deserialize(value).map_err(|error| CarriedError::Malformed(error.to_string()))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct State {
        v: u32,
        n: u32,
    }

    #[test]
    fn reads_back_only_its_own_version_size_and_shape() {
        let read = |value: Value| read::<State>(&value, 32, 1);
        assert_eq!(read(json!({"v": 1, "n": 2})), Ok(State { v: 1, n: 2 }));
        assert_eq!(read(json!({"v": 2, "n": 2})), Err(CarriedError::Version(2)));
        assert_eq!(
            read(json!({"n": 2})),
            Err(CarriedError::Malformed(
                "no version number in its field v".to_owned()
            ))
        );
        assert!(
            matches!(read(json!({"v": 1, "x": 2})), Err(CarriedError::Malformed(m)) if m.contains("unknown field `x`"))
        );
        assert_eq!(
            read(json!({"v": 1, "n": 2, "pad": "p".repeat(40)})),
            Err(CarriedError::TooLarge(62))
        );
    }
}

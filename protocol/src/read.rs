//! Reading fields out of a parsed JSON object by hand, with the lenient rules the wire needs.
//!
//! The client's decoders parse text into one [`Value`] and read fields with these helpers
//! instead of deriving `Deserialize` per type: in the wasm build every derived type costs its own
//! copy of serde's visitor machinery (and float formatting for its error messages), while
//! these cost one small function each. Errors are short texts naming the field.

use crate::prelude::*;

use crate::json::{Map, Value};

/// A JSON object, or an error naming `what`.
pub fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{what} is not an object"))
}

/// A nested object that must be present.
pub fn required_object<'a>(map: &'a Map, key: &str) -> Result<&'a Map, String> {
    match map.get(key) {
        None => Err(format!("missing {key}")),
        Some(value) => object(value, key),
    }
}

fn not_a_string(key: &str) -> String {
    format!("{key} is not a string")
}

/// A string that must be present (not `null`).
pub fn required_string(map: &Map, key: &str) -> Result<String, String> {
    match map.get(key) {
        None => Err(format!("missing {key}")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(not_a_string(key)),
    }
}

/// A string; absent reads as `default`, `null` is an error.
pub fn string_or(map: &Map, key: &str, default: &str) -> Result<String, String> {
    match map.get(key) {
        None => Ok(default.to_owned()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(not_a_string(key)),
    }
}

/// A string; absent reads as `""`, `null` is an error.
pub fn string(map: &Map, key: &str) -> Result<String, String> {
    string_or(map, key, "")
}

/// A string; absent or `null` read as `""` (respoke.js leaves `undefined` fields out, an app
/// may set `null`).
pub fn string_or_null(map: &Map, key: &str) -> Result<String, String> {
    Ok(opt_string(map, key)?.unwrap_or_default())
}

/// An optional string; absent or `null` read as `None`.
pub fn opt_string(map: &Map, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(not_a_string(key)),
    }
}

/// Any JSON value; absent reads as `null`.
pub fn any(map: &Map, key: &str) -> Value {
    map.get(key).cloned().unwrap_or(Value::Null)
}

/// Any JSON value; absent or `null` read as `None`.
pub fn opt_any(map: &Map, key: &str) -> Option<Value> {
    map.get(key).filter(|v| !v.is_null()).cloned()
}

/// Unix milliseconds, leniently: an integer; a float (truncated, `0` outside `[0, 1e18)`);
/// digits in a string (`0` when not a number); absent or `null` read as `0`. Booleans,
/// arrays and objects are errors.
pub fn millis(map: &Map, key: &str) -> Result<u64, String> {
    Ok(match map.get(key) {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n.as_u64().or_else(|| n.truncated_below_1e18()).unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        Some(_) => return Err(format!("{key} is not a timestamp")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(value: Value) -> Map {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn strings() {
        let m = map(json!({"s": "x", "n": null, "i": 1}));
        assert_eq!(string(&m, "s").unwrap(), "x");
        assert_eq!(string(&m, "absent").unwrap(), "");
        assert!(string(&m, "n").is_err());
        assert!(string(&m, "i").is_err());
        assert_eq!(string_or(&m, "absent", "d").unwrap(), "d");
        assert_eq!(string_or_null(&m, "n").unwrap(), "");
        assert!(string_or_null(&m, "i").is_err());
        assert_eq!(opt_string(&m, "n").unwrap(), None);
        assert_eq!(opt_string(&m, "s").unwrap().as_deref(), Some("x"));
        assert!(required_string(&m, "absent").is_err());
        assert!(required_string(&m, "n").is_err());
        assert_eq!(required_string(&m, "s").unwrap(), "x");
    }

    #[test]
    fn values_and_objects() {
        let m = map(json!({"o": {"a": 1}, "n": null, "v": [1]}));
        assert_eq!(any(&m, "absent"), Value::Null);
        assert_eq!(any(&m, "v"), json!([1]));
        assert_eq!(opt_any(&m, "n"), None);
        assert_eq!(opt_any(&m, "o").unwrap(), json!({"a": 1}));
        assert!(required_object(&m, "o").is_ok());
        assert!(required_object(&m, "v").is_err());
        assert!(required_object(&m, "absent").is_err());
        assert!(object(&Value::from("x"), "payload").is_err());
    }

    #[test]
    fn lenient_millis() {
        let m = map(json!({
            "int": 1_700_000_000_123_u64, "float": 12.9, "neg": -5, "negf": -1.5, "huge": 1e300,
            "text": " 42 ", "junk": "soon", "null": null, "bool": true, "arr": [1], "obj": {}
        }));
        assert_eq!(millis(&m, "int").unwrap(), 1_700_000_000_123);
        assert_eq!(millis(&m, "float").unwrap(), 12);
        assert_eq!(millis(&m, "neg").unwrap(), 0);
        assert_eq!(millis(&m, "negf").unwrap(), 0);
        assert_eq!(millis(&m, "huge").unwrap(), 0);
        assert_eq!(millis(&m, "text").unwrap(), 42);
        assert_eq!(millis(&m, "junk").unwrap(), 0);
        assert_eq!(millis(&m, "null").unwrap(), 0);
        assert_eq!(millis(&m, "absent").unwrap(), 0);
        for key in ["bool", "arr", "obj"] {
            assert!(millis(&m, key).is_err(), "{key}");
        }
    }
}

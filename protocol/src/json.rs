//! A small JSON value with its own parser and writer: every JSON text the client reads or
//! writes goes through this module, so the client's wasm carries no serde_json.
//!
//! * Numbers keep their text ([`Number`]): read as integers where the wire has integers, passed
//!   through unchanged otherwise, so there is no float parsing or printing at all.
//! * Objects are [`Map`]s sorted by key (a sorted `Vec`): the same key order serde_json writes
//!   by default, and a duplicate key keeps the last value, as serde_json does.
//! * The parser is strict RFC 8259 (what serde_json accepts, except that a number beyond the
//!   range of an f64 is kept rather than refused), nests at most [`MAX_DEPTH`] levels, and
//!   never panics: every failure is a [`JsonError`].
//! * [`Value::encode`] escapes like serde_json (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`,
//!   other control characters as `\u00xx`), so both write the same text for the same value.
//!
//! For the dev server, `Value` implements serde's `Serialize`/`Deserialize` and converts to
//! and from `serde_json::Value`; those generic impls are never instantiated in the client.

use crate::prelude::*;

use core::fmt;

/// Deepest nesting of arrays and objects the parser accepts (serde_json's limit too).
pub const MAX_DEPTH: usize = 128;

/// A JSON value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null`
    #[default]
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as its JSON text.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object.
    Object(Map),
}

/// A JSON number, kept as its (valid) JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number(String);

/// A JSON object: fields sorted by key, keys unique.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map(Vec<(String, Value)>);

/// Why a text is not JSON: what was wrong and at which byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset in the text.
    pub offset: usize,
    /// What was wrong (a short, stable phrase).
    pub reason: &'static str,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.reason, self.offset)
    }
}

// ----- numbers ---------------------------------------------------------------------------------

/// `n` in decimal, without `core::fmt`.
pub fn u64_to_text(mut n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits[at..].iter().map(|&d| d as char).collect()
}

fn digits_to_u64(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.bytes().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

impl Number {
    /// The number's JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number if it is written as a non-negative integer that fits a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        digits_to_u64(&self.0)
    }

    /// The number if it is written as an integer that fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self.0.strip_prefix('-') {
            Some(digits) => {
                let n = digits_to_u64(digits)?;
                if n == 1 << 63 {
                    Some(i64::MIN)
                } else {
                    i64::try_from(n).ok().map(|n| -n)
                }
            }
            None => i64::try_from(self.as_u64()?).ok(),
        }
    }

    /// The value truncated towards zero, when it is in `[0, 10^18)`; `None` when negative
    /// (but not `-0`) or at least `10^18`. Reads `12.9`, `1.5e3` and `1e2` without floats.
    pub fn truncated_below_1e18(&self) -> Option<u64> {
        let text = self.0.as_str();
        let (negative, text) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(at) => (&text[..at], &text[at + 1..]),
            None => (text, "0"),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let exponent_negative = exponent.starts_with('-');
        let exponent_digits = exponent.trim_start_matches(['+', '-']);
        // Saturate huge exponents: anything beyond a few hundred digits is out of range anyway.
        let magnitude = digits_to_u64(exponent_digits)
            .unwrap_or(u64::MAX)
            .min(1_000) as i64;
        let exponent = if exponent_negative {
            -magnitude
        } else {
            magnitude
        };
        let all: String = int.chars().chain(frac.chars()).collect();
        let significant = all.trim_start_matches('0');
        if significant.is_empty() {
            return Some(0);
        }
        if negative {
            return None;
        }
        // value = significant * 10^(exponent - frac.len()), truncated.
        let shift = exponent - frac.len() as i64;
        let integer_digits = significant.len() as i64 + shift;
        if integer_digits > 18 {
            return None;
        }
        if integer_digits <= 0 {
            return Some(0);
        }
        let mut digits: String = significant.chars().take(integer_digits as usize).collect();
        while (digits.len() as i64) < integer_digits {
            digits.push('0');
        }
        digits_to_u64(&digits)
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Number {
        Number(u64_to_text(n))
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Number {
        let text = u64_to_text(n.unsigned_abs());
        Number(if n < 0 { format!("-{text}") } else { text })
    }
}

// ----- maps ------------------------------------------------------------------------------------

impl Map {
    /// An empty object.
    pub fn new() -> Map {
        Map(Vec::new())
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.find(key).ok().map(|at| &self.0[at].1)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key`; returns the value it replaced.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Option<Value> {
        let key = key.into();
        match self.find(&key) {
            Ok(at) => Some(core::mem::replace(&mut self.0[at].1, value)),
            Err(at) => {
                self.0.insert(at, (key, value));
                None
            }
        }
    }

    /// Takes `key` out.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.find(key).ok().map(|at| self.0.remove(at).1)
    }

    /// The fields, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = alloc::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<K: Into<String>> FromIterator<(K, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(fields: I) -> Map {
        let mut map = Map::new();
        for (key, value) in fields {
            map.insert(key, value);
        }
        map
    }
}

// ----- values ----------------------------------------------------------------------------------

impl Value {
    /// Parses a JSON text (whitespace around the value allowed, nothing else after it).
    pub fn parse(text: &str) -> Result<Value, JsonError> {
        let mut parser = Parser {
            bytes: text.as_bytes(),
            text,
            at: 0,
        };
        parser.skip_whitespace();
        let value = parser.value(0)?;
        parser.skip_whitespace();
        if parser.at != parser.bytes.len() {
            return Err(parser.error("trailing characters"));
        }
        Ok(value)
    }

    /// An object from `(key, value)` pairs.
    pub fn object<K: Into<String>>(fields: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(fields.into_iter().collect())
    }

    /// The field `key` of an object (`None` for other values).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number as a `u64`, if it is written as one.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The fields, if this is an object.
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// `null`?
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A string?
    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    /// An object?
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    /// The compact JSON text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    /// Appends the compact JSON text to `out`.
    pub fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Number(n) => out.push_str(&n.0),
            Value::String(s) => write_string(out, s),
            Value::Array(items) => write_array(out, items),
            Value::Object(map) => {
                out.push('{');
                for (i, (key, value)) in map.0.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// Appends `items` as a JSON array.
pub fn write_array(out: &mut String, items: &[Value]) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        item.write(out);
    }
    out.push(']');
}

/// Appends `s` as a JSON string literal, escaped as serde_json escapes.
pub fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0xf)] as char);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// `value["key"]`: the field, or `null` when absent or not an object (as serde_json does).
impl core::ops::Index<&str> for Value {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(key).unwrap_or(&NULL)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::String(s.clone())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Number(n.into())
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Value {
        Value::Number(u64::from(n).into())
    }
}

impl From<u16> for Value {
    fn from(n: u16) -> Value {
        Value::Number(u64::from(n).into())
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Number(n.into())
    }
}

impl From<Map> for Value {
    fn from(map: Map) -> Value {
        Value::Object(map)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Value {
        Value::Array(items.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Value {
        value.map_or(Value::Null, Into::into)
    }
}

/// An object literal: `obj! {"presence": presence, "push": false}`; each value goes through
/// `Value::from`.
#[macro_export]
macro_rules! obj {
    () => {
        $crate::json::Value::Object($crate::json::Map::new())
    };
    ($($key:literal : $value:expr),+ $(,)?) => {
        $crate::json::Value::object([$(($key, $crate::json::Value::from($value))),+])
    };
}

// ----- parser ----------------------------------------------------------------------------------

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &'static str) -> JsonError {
        JsonError {
            offset: self.at,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &'static str, value: Value) -> Result<Value, JsonError> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        match self.peek() {
            None => Err(self.error("unexpected end")),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => self.array(depth + 1),
            Some(b'{') => self.object(depth + 1),
            Some(_) => Err(self.error("expected a value")),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        Ok(Value::Number(Number(self.text[start..self.at].to_owned())))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = match self.peek() {
                Some(b @ b'0'..=b'9') => b - b'0',
                Some(b @ b'a'..=b'f') => b - b'a' + 10,
                Some(b @ b'A'..=b'F') => b - b'A' + 10,
                _ => return Err(self.error("invalid \\u escape")),
            };
            code = code * 16 + u32::from(digit);
            self.at += 1;
        }
        Ok(code)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.at += 1; // the opening quote
        let mut out = String::new();
        let mut start = self.at;
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    out.push_str(&self.text[start..self.at]);
                    self.at += 1;
                    return Ok(out);
                }
                Some(0x00..=0x1f) => return Err(self.error("control character in string")),
                Some(b'\\') => {
                    out.push_str(&self.text[start..self.at]);
                    self.at += 1;
                    let escaped = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.at += 1;
                            let code = self.unicode_escape()?;
                            out.push(code);
                            start = self.at;
                            continue;
                        }
                        _ => return Err(self.error("invalid escape")),
                    };
                    self.at += 1;
                    out.push(escaped);
                    start = self.at;
                }
                // Multi-byte UTF-8 sequences never contain bytes below 0x80, so stepping a byte
                // at a time only ever stops on character boundaries at `"` and `\`.
                Some(_) => self.at += 1,
            }
        }
    }

    /// After `\u`: one code point, a surrogate pair joined; lone surrogates are errors.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.bytes[self.at..].starts_with(b"\\u") {
                    return Err(self.error("lone leading surrogate"));
                }
                self.at += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error("invalid surrogate pair"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.error("lone trailing surrogate")),
            code => code,
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"))
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.at += 1; // [
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value(depth)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("expected , or ]")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.at += 1; // {
        let mut map = Map::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Value::Object(map));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key"));
            }
            let key = self.string()?;
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error("expected :"));
            }
            self.at += 1;
            self.skip_whitespace();
            let value = self.value(depth)?;
            map.insert(key, value);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Value::Object(map));
                }
                _ => return Err(self.error("expected , or }")),
            }
        }
    }
}

// ----- serde and serde_json (dev server side) -----------------------------------------------------

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => serializer.serialize_u64(u),
                (None, Some(i)) => serializer.serialize_i64(i),
                _ => serializer.serialize_f64(n.0.parse().unwrap_or(0.0)),
            },
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(map) => {
                let mut fields = serializer.serialize_map(Some(map.len()))?;
                for (key, value) in map.iter() {
                    fields.serialize_entry(key, value)?;
                }
                fields.end()
            }
        }
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        Ok(serde_json::Value::deserialize(deserializer)?.into())
    }
}

impl From<serde_json::Value> for Value {
    fn from(value: serde_json::Value) -> Value {
        match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(Number(n.to_string())),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(items) => {
                Value::Array(items.into_iter().map(Value::from).collect())
            }
            serde_json::Value::Object(map) => {
                Value::Object(map.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

impl From<Value> for serde_json::Value {
    fn from(value: Value) -> serde_json::Value {
        match value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(b),
            Value::Number(n) => serde_json::from_str(&n.0).unwrap_or(serde_json::Value::Null),
            Value::String(s) => serde_json::Value::String(s),
            Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(Into::into).collect())
            }
            Value::Object(map) => {
                serde_json::Value::Object(map.into_iter().map(|(k, v)| (k, v.into())).collect())
            }
        }
    }
}

impl PartialEq<serde_json::Value> for Value {
    fn eq(&self, other: &serde_json::Value) -> bool {
        use serde_json::Value as J;
        match (self, other) {
            (Value::Null, J::Null) => true,
            (Value::Bool(a), J::Bool(b)) => a == b,
            (Value::Number(a), J::Number(b)) => {
                serde_json::from_str::<serde_json::Number>(&a.0).is_ok_and(|a| a == *b)
            }
            (Value::String(a), J::String(b)) => a == b,
            (Value::Array(a), J::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a == b)
            }
            (Value::Object(a), J::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v == w))
            }
            _ => false,
        }
    }
}

impl PartialEq<Value> for serde_json::Value {
    fn eq(&self, other: &Value) -> bool {
        other == self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_like_serde_json() {
        for text in [
            r#"{"b":[1,-2,3.5,1e3,-0,0.25E-2],"a":"x\ny\"z\\\u0001","c":{"d":null,"e":true,"f":false}}"#,
            r#"[]"#,
            r#"{}"#,
            r#""\ud83d\ude00 \u00e9 / \/""#,
            "  [ 1 , { \"k\" : [ ] } ]  ",
            r#"{"k":1,"k":2}"#,
            r#"18446744073709551616"#,
        ] {
            let ours = Value::parse(text).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
            // Integers (within u64) and strings write as serde_json writes them; other numbers
            // keep their text, where serde_json would reprint them as f64.
            if !text.contains(['.', 'e', 'E']) && text != "18446744073709551616" {
                assert_eq!(ours.encode(), theirs.to_string(), "{text}");
            }
        }
    }

    #[test]
    fn rejects_what_serde_json_rejects() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        let ok_deep = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(Value::parse(&ok_deep).is_ok());
        for text in [
            "",
            " ",
            "nul",
            "tru",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            "-",
            "1e",
            ".5",
            "+1",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"\\x\"",
            "\"a",
            "\"\u{1}\"",
            "[1 2]",
            "{\"a\" 1}",
            "{1:2}",
            "1 2",
            "NaN",
            "Infinity",
            &deep,
        ] {
            assert!(Value::parse(text).is_err(), "{text:?}");
            assert!(
                serde_json::from_str::<serde_json::Value>(text).is_err(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn escapes_like_serde_json() {
        let s: String = (0u8..0x80).map(char::from).chain("é😀".chars()).collect();
        let ours = Value::from(s.as_str()).encode();
        assert_eq!(ours, serde_json::Value::from(s.as_str()).to_string());
        assert_eq!(Value::parse(&ours).unwrap(), Value::from(s.as_str()));
    }

    #[test]
    fn numbers() {
        let n = |t: &str| match Value::parse(t).unwrap() {
            Value::Number(n) => n,
            other => panic!("{other:?}"),
        };
        assert_eq!(n("18446744073709551615").as_u64(), Some(u64::MAX));
        assert_eq!(n("18446744073709551616").as_u64(), None);
        assert_eq!(n("-9223372036854775808").as_i64(), Some(i64::MIN));
        assert_eq!(n("-9223372036854775809").as_i64(), None);
        assert_eq!(n("1.0").as_u64(), None);
        assert_eq!(u64_to_text(0), "0");
        assert_eq!(u64_to_text(u64::MAX), "18446744073709551615");
        assert_eq!(Value::from(-5i64).encode(), "-5");
        // Beyond f64: valid JSON, kept as text (serde_json refuses it; JSON.parse gives
        // Infinity).
        assert_eq!(Value::parse("-1e400").unwrap().encode(), "-1e400");
        for (text, truncated) in [
            ("12.9", Some(12)),
            ("1.5e3", Some(1500)),
            ("1e2", Some(100)),
            ("150e-2", Some(1)),
            ("0.000", Some(0)),
            ("-0", Some(0)),
            ("-0.0", Some(0)),
            ("-1", None),
            ("-0.5", None),
            ("999999999999999999.9", Some(999_999_999_999_999_999)),
            ("1e18", None),
            ("1e300", None),
            ("1e-300", Some(0)),
            ("5e99999999999999999999", None),
            ("1700000000123", Some(1_700_000_000_123)),
        ] {
            assert_eq!(n(text).truncated_below_1e18(), truncated, "{text}");
        }
    }

    #[test]
    fn maps_keep_keys_sorted_and_unique() {
        let mut map = Map::new();
        assert_eq!(map.insert("b", Value::from(1u64)), None);
        map.insert("a", Value::Null);
        assert_eq!(map.insert("b", Value::from(2u64)), Some(Value::from(1u64)));
        assert_eq!(Value::Object(map.clone()).encode(), r#"{"a":null,"b":2}"#);
        assert_eq!(map.remove("a"), Some(Value::Null));
        assert!(!map.contains_key("a"));
        assert_eq!(map.len(), 1);
    }

    #[test]
    fn converts_to_and_from_serde_json() {
        let theirs = serde_json::json!({"a": [1, -2, 2.5, "x", null, true], "b": {"c": {}}});
        let ours = Value::from(theirs.clone());
        assert_eq!(serde_json::Value::from(ours.clone()), theirs);
        assert_eq!(serde_json::to_value(&ours).unwrap(), theirs);
        let back: Value = serde_json::from_value(theirs.clone()).unwrap();
        assert_eq!(back, ours);
    }
}

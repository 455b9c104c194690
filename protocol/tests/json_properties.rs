//! Property tests of the client's JSON (`respoke_protocol::json`) against serde_json as the
//! oracle: same values from the same text, text each can read back, no panic on any input.

use proptest::prelude::*;
use respoke_protocol::json::Value;

fn leaf() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        // Finite floats: serde_json writes them shortest, we keep that text.
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::String),
    ]
}

fn value() -> impl Strategy<Value = serde_json::Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Whether serde_json reads `text`; `None` when it stops at a number too large for an f64:
/// JSON allows those, we keep their text (JavaScript's `JSON.parse` makes them `Infinity`),
/// and serde_json stops there without looking at the rest, so it is no oracle for that text.
fn serde_json_accepts(text: &str) -> Option<bool> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(_) => Some(true),
        Err(e) if e.to_string().starts_with("number out of range") => None,
        Err(_) => Some(false),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// What serde_json writes, we read as the same value; what we write, serde_json reads as
    /// the same value, and so do we; we write what serde_json writes (floats aside, whose text
    /// we keep as received rather than reprint).
    ///
    /// The oracle is serde_json reading the same text (its default float parsing may differ
    /// from the value it printed by an ulp; comparing against its own reading keeps that out).
    #[test]
    fn agrees_with_serde_json(value in value()) {
        let text = value.to_string();
        let theirs: serde_json::Value = serde_json::from_str(&text).unwrap();
        let ours = Value::parse(&text).unwrap();
        prop_assert_eq!(&ours, &theirs);
        let written = ours.encode();
        prop_assert_eq!(written.clone(), text);
        prop_assert_eq!(Value::parse(&written).unwrap(), ours);
    }

    /// Pretty-printed text (whitespace everywhere) reads the same.
    #[test]
    fn whitespace_is_insignificant(value in value()) {
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        prop_assert_eq!(&Value::parse(&pretty).unwrap(), &theirs);
    }

    /// Any text: no panic, and we accept exactly what serde_json accepts.
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let ours = Value::parse(&text).is_ok();
        if let Some(theirs) = serde_json_accepts(&text) {
            prop_assert_eq!(ours, theirs);
        }
    }

    /// Near-JSON: valid documents with one byte changed or cut short.
    #[test]
    fn mutated_json_agrees_on_validity(theirs in value(), at in any::<prop::sample::Index>(),
                                       byte in prop::sample::select(b"{}[]:,\"\\ 0-.eE+ntfu".to_vec()),
                                       cut in any::<bool>()) {
        let mut bytes = theirs.to_string().into_bytes();
        let i = at.index(bytes.len());
        if cut { bytes.truncate(i) } else { bytes[i] = byte }
        if let Ok(text) = String::from_utf8(bytes) {
            let ours = Value::parse(&text);
            if let Some(theirs) = serde_json_accepts(&text) {
                prop_assert_eq!(ours.is_ok(), theirs, "{:?}", text);
            }
            if let (Ok(ours), Ok(theirs)) = (ours, serde_json::from_str::<serde_json::Value>(&text)) {
                prop_assert_eq!(&ours, &theirs);
            }
        }
    }
}

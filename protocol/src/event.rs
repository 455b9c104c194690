//! The data of event packets (`{"name": ..., "args": [...]}`) and of ack packets (a JSON array).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::ProtocolError;
use crate::packet::{excerpt, Packet};

/// The decoded data of a socket.io 0.9 event: a name and its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventData {
    /// The event name (`post`, `get`, `message`, `presence`, ...).
    pub name: String,
    /// The arguments; socket.io 0.9 omits the key when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Value>,
}

impl EventData {
    /// An event named `name` with `args`.
    pub fn new(name: impl Into<String>, args: Vec<Value>) -> EventData {
        EventData {
            name: name.into(),
            args,
        }
    }

    /// Parses the raw data of an event packet. A missing or `null` `args` is an empty list.
    pub fn parse(data: &str) -> Result<EventData, ProtocolError> {
        #[derive(Deserialize)]
        struct Raw {
            name: String,
            #[serde(default)]
            args: Option<Vec<Value>>,
        }
        let raw: Raw = serde_json::from_str(data)
            .map_err(|e| ProtocolError::MalformedEvent(format!("{e}: {}", excerpt(data))))?;
        Ok(EventData {
            name: raw.name,
            args: raw.args.unwrap_or_default(),
        })
    }

    /// The JSON text, `name` first as socket.io writes it.
    pub fn encode(&self) -> String {
        // Serializing a struct of a String and a Vec<Value> cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

/// The data of an event packet with its arguments left as raw JSON text (client side).
///
/// The client reads each argument straight from the text into its type
/// ([`crate::PushEvent::from_packet`], [`crate::Response::parse_ack_args`]): one serde_json
/// deserializer per type, where parsing into [`EventData`] first would add a `Value` tree and
/// a second, `Value`-reading deserializer per type.
#[derive(Debug, Deserialize)]
pub struct RawEvent<'a> {
    /// The event name.
    pub name: String,
    /// The arguments as raw JSON; socket.io 0.9 omits the key when there are none.
    #[serde(default, borrow)]
    pub args: Option<Vec<&'a RawValue>>,
}

impl<'a> RawEvent<'a> {
    /// Parses the raw data of an event packet, like [`EventData::parse`].
    pub fn parse(data: &'a str) -> Result<RawEvent<'a>, ProtocolError> {
        serde_json::from_str(data)
            .map_err(|e| ProtocolError::MalformedEvent(format!("{e}: {}", excerpt(data))))
    }

    /// The first argument's JSON text, `null` when there is none.
    pub fn first_arg(&self) -> &'a str {
        first_raw(self.args.as_deref())
    }
}

/// The first of raw JSON values, `null` when there is none.
pub(crate) fn first_raw<'a>(values: Option<&[&'a RawValue]>) -> &'a str {
    match values.and_then(<[_]>::first) {
        Some(value) => value.get(),
        None => "null",
    }
}

/// The compact JSON text of `value` (what `value.to_string()` writes), through the same
/// serializer as every frame: `Value`'s `Display` would compile a second one into the wasm.
pub fn json_text(value: &Value) -> String {
    // Serializing a `Value` into a `String` cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// Parses the raw arguments of an ack packet into raw JSON values (client side): a JSON array,
/// or nothing (empty text).
pub fn parse_raw_ack_args(args: &str) -> Result<Vec<&RawValue>, ProtocolError> {
    if args.trim().is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(args)
        .map_err(|e| ProtocolError::MalformedAck(format!("{e}: {}", excerpt(args))))
}

/// Parses the raw arguments of an ack packet: a JSON array, or nothing (empty text).
pub fn parse_ack_args(args: &str) -> Result<Vec<Value>, ProtocolError> {
    if args.trim().is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(args)
        .map_err(|e| ProtocolError::MalformedAck(format!("{e}: {}", excerpt(args))))
}

/// Encodes ack arguments as the raw JSON array text (empty text for no arguments).
pub fn encode_ack_args(args: &[Value]) -> String {
    if args.is_empty() {
        String::new()
    } else {
        serde_json::to_string(args).unwrap_or_default()
    }
}

impl Packet {
    /// An event `name(args)`; with `Some(id)` it asks for an ack with data.
    pub fn event(id: Option<u64>, name: impl Into<String>, args: Vec<Value>) -> Packet {
        Packet::event_raw(id, EventData::new(name, args).encode())
    }

    /// An ack of `ack_id` carrying `args`.
    pub fn ack(ack_id: u64, args: &[Value]) -> Packet {
        Packet::ack_raw(ack_id, encode_ack_args(args))
    }

    /// For an event packet, its decoded name and arguments; `None` for other packets.
    pub fn event_data(&self) -> Option<Result<EventData, ProtocolError>> {
        match self {
            Packet::Event { data, .. } => Some(EventData::parse(data)),
            _ => None,
        }
    }

    /// For an ack packet, its id and decoded arguments; `None` for other packets.
    pub fn ack_args(&self) -> Option<(u64, Result<Vec<Value>, ProtocolError>)> {
        match self {
            Packet::Ack { ack_id, args, .. } => Some((*ack_id, parse_ack_args(args))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_name_first() {
        let p = Packet::event(Some(3), "post", vec![json!("{}")]);
        assert_eq!(p.encode(), r#"5:3+::{"name":"post","args":["{}"]}"#);
        let data = p.event_data().unwrap().unwrap();
        assert_eq!(data.name, "post");
        assert_eq!(data.args, vec![json!("{}")]);
    }

    #[test]
    fn event_without_args() {
        let p = Packet::event(None, "ping", vec![]);
        assert_eq!(p.encode(), r#"5:::{"name":"ping"}"#);
        assert_eq!(
            EventData::parse(r#"{"name":"x","args":null}"#)
                .unwrap()
                .args,
            Vec::<Value>::new()
        );
        assert_eq!(
            EventData::parse("nope").unwrap_err().code(),
            "MALFORMED_EVENT"
        );
        assert!(EventData::parse(r#"{"args":[]}"#).is_err());
        assert!(Packet::Noop.event_data().is_none());
    }

    #[test]
    fn ack_args() {
        let p = Packet::ack(1, &[json!({"a": 1})]);
        assert_eq!(p.encode(), r#"6:::1+[{"a":1}]"#);
        let (id, args) = p.ack_args().unwrap();
        assert_eq!(id, 1);
        assert_eq!(args.unwrap(), vec![json!({"a": 1})]);
        assert_eq!(Packet::ack(2, &[]).encode(), "6:::2");
        assert_eq!(parse_ack_args("").unwrap(), Vec::<Value>::new());
        assert_eq!(parse_ack_args("{").unwrap_err().code(), "MALFORMED_ACK");
    }
}

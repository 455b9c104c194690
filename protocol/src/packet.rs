//! socket.io 0.9 (protocol 1) packets: `<type>:<id>[+]:<endpoint>[:<data>]`.
//!
//! This layer only frames text: packet data is kept as the raw `&str`/`String` it is on the
//! wire, so the codec needs no JSON parser. [`crate::event`] and [`crate::sails`] interpret the
//! data of event and ack packets.
//!
//! The grammar follows socket.io-client 0.9.17's `parser.js`:
//!
//! * `type` is one digit 0-8,
//! * `id` is an optional decimal message id; a trailing `+` means "ack with data",
//! * `endpoint` never contains `:` (Respoke always leaves it empty),
//! * `data` is everything after the third `:` and may contain anything, `:` and newlines
//!   included.
//!
//! Decoding never panics, whatever the input (a property test checks it).

use std::fmt;

use crate::error::ProtocolError;

/// The separator socket.io 0.9 uses when several packets share one transport frame.
pub const PAYLOAD_SEPARATOR: char = '\u{fffd}';

/// One socket.io 0.9 packet.
///
/// Fields keep the wire text; build packets with the constructors ([`Packet::connect`],
/// [`Packet::event`], [`Packet::ack`], ...) and read them with [`Packet::decode`].
/// `ack_with_data` is only meaningful when `id` is `Some`: the encoder writes `+` only then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// Type 0: close the socket (or leave an endpoint). `0::`
    Disconnect {
        /// The endpoint (namespace); empty for Respoke.
        endpoint: String,
    },
    /// Type 1: the server accepted the socket; sent first, right after the WebSocket opens. `1::`
    Connect {
        /// The endpoint (namespace); empty for Respoke.
        endpoint: String,
        /// An optional query string; empty for Respoke.
        query: String,
    },
    /// Type 2: heartbeat. The server sends one every few seconds; the client echoes it. `2::`
    Heartbeat,
    /// Type 3: a plain text message (unused by Respoke). `3:::text`
    Message {
        /// Message id, if the sender wants an ack.
        id: Option<u64>,
        /// Whether the ack should carry data (`+` after the id).
        ack_with_data: bool,
        /// The endpoint (namespace).
        endpoint: String,
        /// The message text.
        data: String,
    },
    /// Type 4: a JSON message (unused by Respoke). `4:::{"a":1}`
    Json {
        /// Message id, if the sender wants an ack.
        id: Option<u64>,
        /// Whether the ack should carry data (`+` after the id).
        ack_with_data: bool,
        /// The endpoint (namespace).
        endpoint: String,
        /// The raw JSON text.
        data: String,
    },
    /// Type 5: an event; `data` is the raw JSON `{"name": ..., "args": [...]}`.
    /// `5:1+::{"name":"post","args":["..."]}`
    Event {
        /// Message id, if the sender wants an ack.
        id: Option<u64>,
        /// Whether the ack should carry data (`+` after the id). Respoke requests always do.
        ack_with_data: bool,
        /// The endpoint (namespace).
        endpoint: String,
        /// The raw JSON text `{"name": ..., "args": [...]}`; see [`crate::event::EventData`].
        data: String,
    },
    /// Type 6: the answer to a message or event with an id. `6:::1+[{...}]`
    Ack {
        /// The endpoint (namespace).
        endpoint: String,
        /// The id of the packet this answers.
        ack_id: u64,
        /// The raw JSON array of ack arguments, or empty for an ack without data.
        args: String,
    },
    /// Type 7: an error `reason+advice` (reason `2` = unauthorized, advice `0` = reconnect).
    /// `7:::2+0`
    Error {
        /// The endpoint (namespace).
        endpoint: String,
        /// The reason code as sent (`0` transport not supported, `1` client not handshaken,
        /// `2` unauthorized), or empty.
        reason: String,
        /// The advice code as sent (`0` reconnect), or empty.
        advice: String,
    },
    /// Type 8: no operation. `8::`
    Noop,
}

/// socket.io 0.9's error reason code for "unauthorized".
pub const ERROR_REASON_UNAUTHORIZED: &str = "2";
/// socket.io 0.9's error advice code for "reconnect".
pub const ERROR_ADVICE_RECONNECT: &str = "0";

impl Packet {
    /// `0::`
    pub fn disconnect() -> Packet {
        Packet::Disconnect {
            endpoint: String::new(),
        }
    }

    /// `1::`
    pub fn connect() -> Packet {
        Packet::Connect {
            endpoint: String::new(),
            query: String::new(),
        }
    }

    /// `2::`
    pub fn heartbeat() -> Packet {
        Packet::Heartbeat
    }

    /// An event whose data is already-encoded JSON `{"name":...,"args":[...]}`.
    /// With `Some(id)` it asks for an ack with data (`5:<id>+::...`), as Sails requests do;
    /// with `None` it is a push (`5:::...`).
    pub fn event_raw(id: Option<u64>, data: impl Into<String>) -> Packet {
        Packet::Event {
            id,
            ack_with_data: id.is_some(),
            endpoint: String::new(),
            data: data.into(),
        }
    }

    /// An ack of packet `ack_id` carrying `args`, the raw JSON array text (empty for none).
    pub fn ack_raw(ack_id: u64, args: impl Into<String>) -> Packet {
        Packet::Ack {
            endpoint: String::new(),
            ack_id,
            args: args.into(),
        }
    }

    /// `7:::2+0`: unauthorized, reconnect.
    pub fn error_unauthorized() -> Packet {
        Packet::Error {
            endpoint: String::new(),
            reason: ERROR_REASON_UNAUTHORIZED.to_owned(),
            advice: ERROR_ADVICE_RECONNECT.to_owned(),
        }
    }

    /// The numeric packet type (0-8).
    pub fn type_code(&self) -> u8 {
        match self {
            Packet::Disconnect { .. } => 0,
            Packet::Connect { .. } => 1,
            Packet::Heartbeat => 2,
            Packet::Message { .. } => 3,
            Packet::Json { .. } => 4,
            Packet::Event { .. } => 5,
            Packet::Ack { .. } => 6,
            Packet::Error { .. } => 7,
            Packet::Noop => 8,
        }
    }

    /// The message id, for the packet types that carry one.
    pub fn id(&self) -> Option<u64> {
        match self {
            Packet::Message { id, .. } | Packet::Json { id, .. } | Packet::Event { id, .. } => *id,
            _ => None,
        }
    }

    /// The endpoint (namespace); empty for Respoke and for packets without one.
    pub fn endpoint(&self) -> &str {
        match self {
            Packet::Disconnect { endpoint }
            | Packet::Connect { endpoint, .. }
            | Packet::Message { endpoint, .. }
            | Packet::Json { endpoint, .. }
            | Packet::Event { endpoint, .. }
            | Packet::Ack { endpoint, .. }
            | Packet::Error { endpoint, .. } => endpoint,
            Packet::Heartbeat | Packet::Noop => "",
        }
    }

    /// Parses one packet. Never panics; anything unexpected is a [`ProtocolError`].
    ///
    /// Lenient where socket.io 0.9 was: an id on a packet type that has none is ignored, a
    /// `+` without an id is ignored, an error packet's data is split at the first `+`.
    pub fn decode(text: &str) -> Result<Packet, ProtocolError> {
        if text.is_empty() {
            return Err(ProtocolError::EmptyPacket);
        }
        let (type_text, rest) = text
            .split_once(':')
            .ok_or_else(|| ProtocolError::MalformedPacket(excerpt(text)))?;
        let (id_text, rest) = rest
            .split_once(':')
            .ok_or_else(|| ProtocolError::MalformedPacket(excerpt(text)))?;
        let (endpoint, data) = match rest.split_once(':') {
            Some((endpoint, data)) => (endpoint, data),
            None => (rest, ""),
        };

        let (id_digits, ack_with_data) = match id_text.strip_suffix('+') {
            Some(digits) => (digits, true),
            None => (id_text, false),
        };
        let id = if id_digits.is_empty() {
            None
        } else {
            if !id_digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ProtocolError::InvalidId(excerpt(id_text)));
            }
            Some(
                id_digits
                    .parse::<u64>()
                    .map_err(|_| ProtocolError::InvalidId(excerpt(id_text)))?,
            )
        };
        let ack_with_data = ack_with_data && id.is_some();
        let endpoint = endpoint.to_owned();

        let packet = match type_text {
            "0" => Packet::Disconnect { endpoint },
            "1" => Packet::Connect {
                endpoint,
                query: data.to_owned(),
            },
            "2" => Packet::Heartbeat,
            "3" => Packet::Message {
                id,
                ack_with_data,
                endpoint,
                data: data.to_owned(),
            },
            "4" => Packet::Json {
                id,
                ack_with_data,
                endpoint,
                data: data.to_owned(),
            },
            "5" => Packet::Event {
                id,
                ack_with_data,
                endpoint,
                data: data.to_owned(),
            },
            "6" => {
                let digits_end = data
                    .bytes()
                    .position(|b| !b.is_ascii_digit())
                    .unwrap_or(data.len());
                let (digits, after) = data.split_at(digits_end);
                if digits.is_empty() {
                    return Err(ProtocolError::MalformedAck(excerpt(data)));
                }
                let ack_id = digits
                    .parse::<u64>()
                    .map_err(|_| ProtocolError::MalformedAck(excerpt(data)))?;
                let args = after.strip_prefix('+').unwrap_or(after);
                Packet::Ack {
                    endpoint,
                    ack_id,
                    args: args.to_owned(),
                }
            }
            "7" => {
                let (reason, advice) = data.split_once('+').unwrap_or((data, ""));
                Packet::Error {
                    endpoint,
                    reason: reason.to_owned(),
                    advice: advice.to_owned(),
                }
            }
            "8" => Packet::Noop,
            other => return Err(ProtocolError::UnknownPacketType(excerpt(other))),
        };
        Ok(packet)
    }

    /// Encodes the packet as its wire text (the same as `to_string()`).
    pub fn encode(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (id, ack_with_data) = match self {
            Packet::Message {
                id, ack_with_data, ..
            }
            | Packet::Json {
                id, ack_with_data, ..
            }
            | Packet::Event {
                id, ack_with_data, ..
            } => (*id, *ack_with_data),
            _ => (None, false),
        };
        write!(f, "{}:", self.type_code())?;
        if let Some(id) = id {
            write!(f, "{id}")?;
            if ack_with_data {
                f.write_str("+")?;
            }
        }
        write!(f, ":{}", self.endpoint())?;
        match self {
            Packet::Connect { query: data, .. }
            | Packet::Message { data, .. }
            | Packet::Json { data, .. }
            | Packet::Event { data, .. } => {
                if !data.is_empty() {
                    write!(f, ":{data}")?;
                }
            }
            Packet::Ack { ack_id, args, .. } => {
                write!(f, ":{ack_id}")?;
                if !args.is_empty() {
                    write!(f, "+{args}")?;
                }
            }
            Packet::Error { reason, advice, .. } => {
                if !reason.is_empty() || !advice.is_empty() {
                    write!(f, ":{reason}")?;
                    if !advice.is_empty() {
                        write!(f, "+{advice}")?;
                    }
                }
            }
            Packet::Disconnect { .. } | Packet::Heartbeat | Packet::Noop => {}
        }
        Ok(())
    }
}

impl std::str::FromStr for Packet {
    type Err = ProtocolError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Packet::decode(text)
    }
}

/// Splits a transport frame into packet texts.
///
/// socket.io 0.9 may put several packets in one frame as `\u{fffd}<len>\u{fffd}<packet>...`
/// (length counted in UTF-16 code units, as JavaScript does); a frame that does not start with
/// the separator is one packet. Respoke's server sends one packet per frame, but clients must
/// accept both.
pub fn decode_payload(frame: &str) -> Result<Vec<&str>, ProtocolError> {
    let Some(mut rest) = frame.strip_prefix(PAYLOAD_SEPARATOR) else {
        return Ok(vec![frame]);
    };
    let mut packets = Vec::new();
    loop {
        let (len_text, after) = rest
            .split_once(PAYLOAD_SEPARATOR)
            .ok_or_else(|| ProtocolError::MalformedPacket(excerpt(frame)))?;
        let units: usize = len_text
            .parse()
            .map_err(|_| ProtocolError::MalformedPacket(excerpt(frame)))?;
        // Walk `units` UTF-16 code units forward, on char boundaries.
        let mut counted = 0usize;
        let mut end = 0usize;
        for ch in after.chars() {
            if counted >= units {
                break;
            }
            counted += ch.len_utf16();
            end += ch.len_utf8();
        }
        if counted != units {
            return Err(ProtocolError::MalformedPacket(excerpt(frame)));
        }
        let (packet, next) = after.split_at(end);
        packets.push(packet);
        if next.is_empty() {
            return Ok(packets);
        }
        rest = next
            .strip_prefix(PAYLOAD_SEPARATOR)
            .ok_or_else(|| ProtocolError::MalformedPacket(excerpt(frame)))?;
    }
}

/// Joins packets into one frame in socket.io 0.9's multi-packet payload form.
/// One packet is sent as itself.
pub fn encode_payload(packets: &[Packet]) -> String {
    match packets {
        [one] => one.encode(),
        many => {
            let mut out = String::new();
            for packet in many {
                let text = packet.encode();
                let units: usize = text.chars().map(char::len_utf16).sum();
                out.push(PAYLOAD_SEPARATOR);
                out.push_str(&units.to_string());
                out.push(PAYLOAD_SEPARATOR);
                out.push_str(&text);
            }
            out
        }
    }
}

/// A short, char-boundary-safe excerpt of untrusted text for error messages.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut out: String = text.chars().take(MAX_CHARS).collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(text: &str) -> Packet {
        let packet = Packet::decode(text).unwrap();
        assert_eq!(packet.encode(), text, "re-encoding {text:?}");
        packet
    }

    #[test]
    fn wire_examples_from_the_spec() {
        assert_eq!(roundtrip("0::"), Packet::disconnect());
        assert_eq!(roundtrip("1::"), Packet::connect());
        assert_eq!(roundtrip("2::"), Packet::Heartbeat);
        assert_eq!(roundtrip("8::"), Packet::Noop);
        assert_eq!(
            roundtrip(r#"5:1+::{"name":"post","args":["{}"]}"#),
            Packet::event_raw(Some(1), r#"{"name":"post","args":["{}"]}"#)
        );
        assert_eq!(
            roundtrip(r#"6:::1+[{"body":{},"headers":{},"statusCode":200}]"#),
            Packet::ack_raw(1, r#"[{"body":{},"headers":{},"statusCode":200}]"#)
        );
        assert_eq!(roundtrip("7:::2+0"), Packet::error_unauthorized());
        assert_eq!(
            roundtrip("3:::text: with colons\nand lines"),
            Packet::Message {
                id: None,
                ack_with_data: false,
                endpoint: String::new(),
                data: "text: with colons\nand lines".into()
            }
        );
        assert_eq!(
            roundtrip(r#"5:::{"name":"message","args":[{}]}"#),
            Packet::event_raw(None, r#"{"name":"message","args":[{}]}"#)
        );
    }

    #[test]
    fn ids_and_endpoints() {
        let p = roundtrip("3:7:/chat:hi");
        assert_eq!(p.id(), Some(7));
        assert_eq!(p.endpoint(), "/chat");
        let p = roundtrip("4:12+::[1,2]");
        assert!(matches!(
            p,
            Packet::Json {
                id: Some(12),
                ack_with_data: true,
                ..
            }
        ));
        assert_eq!(roundtrip("6:::42"), Packet::ack_raw(42, ""));
        assert_eq!(roundtrip("1::/chat:a=b").endpoint(), "/chat");
    }

    #[test]
    fn lenient_forms() {
        // A trailing colon with no data.
        assert_eq!(Packet::decode("1:::").unwrap(), Packet::connect());
        assert_eq!(Packet::decode("0:::").unwrap(), Packet::disconnect());
        // A `+` without an id is dropped.
        assert_eq!(
            Packet::decode("5:+::{}").unwrap(),
            Packet::event_raw(None, "{}")
        );
        // Ack data without '+' before the args.
        assert_eq!(
            Packet::decode("6:::3[1]").unwrap(),
            Packet::ack_raw(3, "[1]")
        );
        // Error with reason only.
        assert_eq!(
            Packet::decode("7:::1").unwrap(),
            Packet::Error {
                endpoint: String::new(),
                reason: "1".into(),
                advice: String::new()
            }
        );
        assert_eq!(
            Packet::decode("7::").unwrap(),
            Packet::Error {
                endpoint: String::new(),
                reason: String::new(),
                advice: String::new()
            }
        );
    }

    #[test]
    fn errors() {
        assert_eq!(Packet::decode(""), Err(ProtocolError::EmptyPacket));
        assert_eq!(Packet::decode("1").unwrap_err().code(), "MALFORMED_PACKET");
        assert_eq!(Packet::decode("1:").unwrap_err().code(), "MALFORMED_PACKET");
        assert_eq!(
            Packet::decode("9::").unwrap_err().code(),
            "UNKNOWN_PACKET_TYPE"
        );
        assert_eq!(
            Packet::decode("x::").unwrap_err().code(),
            "UNKNOWN_PACKET_TYPE"
        );
        assert_eq!(
            Packet::decode("5:a::").unwrap_err().code(),
            "INVALID_PACKET_ID"
        );
        assert_eq!(
            Packet::decode("5:99999999999999999999999::")
                .unwrap_err()
                .code(),
            "INVALID_PACKET_ID"
        );
        assert_eq!(Packet::decode("6:::").unwrap_err().code(), "MALFORMED_ACK");
        assert_eq!(
            Packet::decode("6:::+[1]").unwrap_err().code(),
            "MALFORMED_ACK"
        );
    }

    #[test]
    fn payloads() {
        assert_eq!(decode_payload("2::").unwrap(), vec!["2::"]);
        let frame = encode_payload(&[Packet::connect(), Packet::heartbeat()]);
        assert_eq!(frame, "\u{fffd}3\u{fffd}1::\u{fffd}3\u{fffd}2::");
        assert_eq!(decode_payload(&frame).unwrap(), vec!["1::", "2::"]);
        // UTF-16 length counting: one astral char is two units.
        let p = Packet::Message {
            id: None,
            ack_with_data: false,
            endpoint: String::new(),
            data: "😀é".into(),
        };
        let frame = encode_payload(&[p.clone(), Packet::Noop]);
        let texts = decode_payload(&frame).unwrap();
        assert_eq!(Packet::decode(texts[0]).unwrap(), p);
        assert!(decode_payload("\u{fffd}9\u{fffd}1::").is_err());
        assert!(decode_payload("\u{fffd}x\u{fffd}1::").is_err());
        assert!(decode_payload("\u{fffd}").is_err());
    }

    #[test]
    fn excerpt_is_char_safe() {
        let long = "é".repeat(100);
        let e = excerpt(&long);
        assert!(e.ends_with('…'));
        assert_eq!(e.chars().count(), 65);
    }
}

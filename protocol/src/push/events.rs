//! The events the server pushes (`5:::{"name":"<name>","args":[<payload>]}`, no ack): one
//! payload type per event name, and [`PushEvent`] to encode and decode any of them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    lenient_millis, null_as_default, Presence, EVENT_JOIN, EVENT_LEAVE, EVENT_MESSAGE,
    EVENT_PRESENCE, EVENT_PUBSUB, EVENT_SIGNAL,
};
use crate::error::ProtocolError;
use crate::event::{json_text, EventData, RawEvent};
use crate::packet::{excerpt, Packet};

fn message_type() -> String {
    EVENT_MESSAGE.into()
}

fn pubsub_type() -> String {
    EVENT_PUBSUB.into()
}

/// Header of a [`MessageEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageHeader {
    /// Always `message`.
    #[serde(rename = "type", default = "message_type")]
    pub kind: String,
    /// The sending endpoint.
    #[serde(default)]
    pub from: String,
    /// The sending connection.
    #[serde(default, deserialize_with = "null_as_default")]
    pub from_connection: String,
    /// Server time of sending, Unix milliseconds (0 when the server sent none).
    #[serde(default, deserialize_with = "lenient_millis")]
    pub timestamp: u64,
    /// On a `ccSelf` copy (sent to the sender's other connections): the original recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_original: Option<String>,
}

/// `message`: `{"header":{"type":"message","from","fromConnection","timestamp"},"body":"text"}`
/// (respoke.js reads `message || body`, the Android SDK `body`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEvent {
    /// Who sent it, when.
    pub header: MessageHeader,
    /// The text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub body: String,
}

impl MessageEvent {
    /// A message from `from`/`from_connection` sent at `timestamp` (Unix ms).
    pub fn new(
        from: impl Into<String>,
        from_connection: impl Into<String>,
        timestamp: u64,
        body: impl Into<String>,
    ) -> MessageEvent {
        MessageEvent {
            header: MessageHeader {
                kind: message_type(),
                from: from.into(),
                from_connection: from_connection.into(),
                timestamp,
                to_original: None,
            },
            body: body.into(),
        }
    }
}

/// Header of a [`PresenceEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceHeader {
    /// The endpoint whose connection changed.
    #[serde(default)]
    pub from: String,
    /// The connection whose presence this is.
    #[serde(default, deserialize_with = "null_as_default")]
    pub from_connection: String,
    /// `presence` (Respoke sent it; respoke.js does not read it).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `presence:<endpoint>` (Respoke sent it; respoke.js does not read it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

/// `presence`: `{"header":{"from","fromConnection","type":"presence","channel":"presence:<ep>"},
/// "type":"available"}` - one connection's presence. respoke.js keeps a presence per
/// connection and resolves the endpoint's with [`resolve_presence`]; it ignores events about
/// its own endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresenceEvent {
    /// Whose presence.
    pub header: PresenceHeader,
    /// The presence value (any JSON; `null` when absent).
    #[serde(rename = "type", default)]
    pub presence: Value,
    /// `show`, when the connection set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show: Option<Value>,
    /// `status`, when the connection set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
}

impl PresenceEvent {
    /// The event for connection `from_connection` of `from` now having `presence`.
    pub fn new(
        from: impl Into<String>,
        from_connection: impl Into<String>,
        presence: Presence,
    ) -> PresenceEvent {
        let from = from.into();
        PresenceEvent {
            header: PresenceHeader {
                channel: Some(format!("presence:{from}")),
                from,
                from_connection: from_connection.into(),
                kind: Some(EVENT_PRESENCE.into()),
            },
            presence: presence.kind,
            show: presence.show,
            status: presence.status,
        }
    }

    /// The presence part (`type`, `show`, `status`).
    pub fn presence(&self) -> Presence {
        Presence {
            kind: self.presence.clone(),
            show: self.show.clone(),
            status: self.status.clone(),
        }
    }
}

/// Header of a [`MembershipEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupHeader {
    /// `join` or `leave`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The group.
    #[serde(default)]
    pub channel: String,
}

/// `join` / `leave`: `{"header":{"type":"join","channel":"<group>"},"endpointId","connectionId"}`.
///
/// Sent to the group's members: a `join` to every member including the joining connection
/// (after its ack), a `leave` to the remaining members (also when the member's socket ends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MembershipEvent {
    /// Which group, and whether joined or left.
    pub header: GroupHeader,
    /// The endpoint of the connection that joined or left.
    pub endpoint_id: String,
    /// The connection that joined or left.
    pub connection_id: String,
}

impl MembershipEvent {
    /// `connection_id` of `endpoint_id` joined `group`.
    pub fn join(
        group: impl Into<String>,
        endpoint_id: impl Into<String>,
        connection_id: impl Into<String>,
    ) -> MembershipEvent {
        MembershipEvent::with_kind(EVENT_JOIN, group, endpoint_id, connection_id)
    }

    /// `connection_id` of `endpoint_id` left `group`.
    pub fn leave(
        group: impl Into<String>,
        endpoint_id: impl Into<String>,
        connection_id: impl Into<String>,
    ) -> MembershipEvent {
        MembershipEvent::with_kind(EVENT_LEAVE, group, endpoint_id, connection_id)
    }

    fn with_kind(
        kind: &str,
        group: impl Into<String>,
        endpoint_id: impl Into<String>,
        connection_id: impl Into<String>,
    ) -> MembershipEvent {
        MembershipEvent {
            header: GroupHeader {
                kind: kind.into(),
                channel: group.into(),
            },
            endpoint_id: endpoint_id.into(),
            connection_id: connection_id.into(),
        }
    }
}

/// Header of a [`PubSubEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PubSubHeader {
    /// Always `pubsub`.
    #[serde(rename = "type", default = "pubsub_type")]
    pub kind: String,
    /// The group.
    #[serde(default)]
    pub channel: String,
    /// The publishing endpoint.
    #[serde(default)]
    pub from: String,
    /// The publishing connection.
    #[serde(default, deserialize_with = "null_as_default")]
    pub from_connection: String,
    /// Server time of publishing, Unix milliseconds (0 when the server sent none).
    #[serde(default, deserialize_with = "lenient_millis")]
    pub timestamp: u64,
}

/// `pubsub`: `{"header":{"type":"pubsub","channel","from","fromConnection","timestamp"},
/// "message":"text"}` - sent to every member connection of the group but the publishing one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PubSubEvent {
    /// Which group, who, when.
    pub header: PubSubHeader,
    /// The text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
}

impl PubSubEvent {
    /// A publication to `group`.
    pub fn new(
        group: impl Into<String>,
        from: impl Into<String>,
        from_connection: impl Into<String>,
        timestamp: u64,
        message: impl Into<String>,
    ) -> PubSubEvent {
        PubSubEvent {
            header: PubSubHeader {
                kind: pubsub_type(),
                channel: group.into(),
                from: from.into(),
                from_connection: from_connection.into(),
                timestamp,
            },
            message: message.into(),
        }
    }
}

/// Header of a [`SignalEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignalHeader {
    /// The sending endpoint.
    #[serde(default)]
    pub from: String,
    /// The sender's kind (`web`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_type: Option<String>,
    /// The sending connection.
    #[serde(default, deserialize_with = "null_as_default")]
    pub from_connection: String,
    /// Server time, Unix milliseconds.
    #[serde(default, deserialize_with = "lenient_millis")]
    pub timestamp: u64,
    /// On a `ccSelf` copy: the original recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_original: Option<String>,
}

/// `signal`: `{"header":{"from","fromType","fromConnection","timestamp"},"body":"<JSON text>"}`,
/// passed through from `post /v1/signaling`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalEvent {
    /// Who sent it.
    pub header: SignalHeader,
    /// The signal as the sender wrote it.
    #[serde(default, deserialize_with = "null_as_default")]
    pub body: String,
}

/// An event the server pushes (no ack): its name selects the payload.
#[derive(Debug, Clone, PartialEq)]
pub enum PushEvent {
    /// `message`
    Message(MessageEvent),
    /// `presence`
    Presence(PresenceEvent),
    /// `join`
    Join(MembershipEvent),
    /// `leave`
    Leave(MembershipEvent),
    /// `pubsub`
    PubSub(PubSubEvent),
    /// `signal`
    Signal(SignalEvent),
}

impl PushEvent {
    /// The event name.
    pub fn name(&self) -> &'static str {
        match self {
            PushEvent::Message(_) => EVENT_MESSAGE,
            PushEvent::Presence(_) => EVENT_PRESENCE,
            PushEvent::Join(_) => EVENT_JOIN,
            PushEvent::Leave(_) => EVENT_LEAVE,
            PushEvent::PubSub(_) => EVENT_PUBSUB,
            PushEvent::Signal(_) => EVENT_SIGNAL,
        }
    }

    /// The payload as JSON.
    pub fn payload(&self) -> Value {
        let value = match self {
            PushEvent::Message(e) => serde_json::to_value(e),
            PushEvent::Presence(e) => serde_json::to_value(e),
            PushEvent::Join(e) | PushEvent::Leave(e) => serde_json::to_value(e),
            PushEvent::PubSub(e) => serde_json::to_value(e),
            PushEvent::Signal(e) => serde_json::to_value(e),
        };
        // These structs hold only strings, numbers and JSON values: serializing cannot fail.
        value.unwrap_or(Value::Null)
    }

    /// `{"name": ..., "args": [payload]}`.
    pub fn to_event_data(&self) -> EventData {
        EventData::new(self.name(), vec![self.payload()])
    }

    /// The event's JSON text `{"name":...,"args":[payload]}`, fields in the order of the
    /// structs (as Respoke wrote them; [`PushEvent::to_event_data`] sorts object keys).
    pub fn encode(&self) -> String {
        #[derive(Serialize)]
        struct Wire<'a, T: Serialize> {
            name: &'a str,
            args: [&'a T; 1],
        }
        fn wire<T: Serialize>(name: &str, payload: &T) -> Result<String, serde_json::Error> {
            serde_json::to_string(&Wire {
                name,
                args: [payload],
            })
        }
        let name = self.name();
        let text = match self {
            PushEvent::Message(e) => wire(name, e),
            PushEvent::Presence(e) => wire(name, e),
            PushEvent::Join(e) | PushEvent::Leave(e) => wire(name, e),
            PushEvent::PubSub(e) => wire(name, e),
            PushEvent::Signal(e) => wire(name, e),
        };
        text.unwrap_or_else(|_| self.to_event_data().encode())
    }

    /// The packet `5:::{"name":...,"args":[...]}`.
    pub fn to_packet(&self) -> Packet {
        Packet::event_raw(None, self.encode())
    }

    /// Reads a pushed event. `Ok(None)` for events that are not push events (other names); an
    /// error when the name is known but the payload is not its shape.
    pub fn from_event_data(event: &EventData) -> Result<Option<PushEvent>, ProtocolError> {
        let payload = event.args.first().map(json_text);
        PushEvent::from_payload(&event.name, payload.as_deref().unwrap_or("null"))
    }

    /// Like [`PushEvent::from_event_data`] on a packet (client side); `Ok(None)` for packets that
    /// are not events, or events that are not push events.
    pub fn from_packet(packet: &Packet) -> Result<Option<PushEvent>, ProtocolError> {
        match packet {
            Packet::Event { data, .. } => {
                let event = RawEvent::parse(data)?;
                PushEvent::from_payload(&event.name, event.first_arg())
            }
            _ => Ok(None),
        }
    }

    /// The event `name` with its first argument's JSON text `payload`, decoded straight from the
    /// text into the payload's type.
    pub fn from_payload(name: &str, payload: &str) -> Result<Option<PushEvent>, ProtocolError> {
        fn decode<'a, T: Deserialize<'a>>(
            name: &str,
            payload: &'a str,
        ) -> Result<T, ProtocolError> {
            serde_json::from_str(payload).map_err(|e| malformed_payload(name, &e))
        }
        Ok(Some(match name {
            EVENT_MESSAGE => PushEvent::Message(decode(name, payload)?),
            EVENT_PRESENCE => PushEvent::Presence(decode(name, payload)?),
            EVENT_JOIN => PushEvent::Join(decode(name, payload)?),
            EVENT_LEAVE => PushEvent::Leave(decode(name, payload)?),
            EVENT_PUBSUB => PushEvent::PubSub(decode(name, payload)?),
            EVENT_SIGNAL => PushEvent::Signal(decode(name, payload)?),
            _ => return Ok(None),
        }))
    }
}

/// Not generic, so the message is built once for every payload type.
fn malformed_payload(name: &str, error: &serde_json::Error) -> ProtocolError {
    ProtocolError::MalformedEvent(format!("{} payload: {error}", excerpt(name)))
}

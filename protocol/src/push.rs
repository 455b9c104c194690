//! Using the session: the request bodies of the messaging routes, their reply bodies, and the
//! events the server pushes (PROTOCOL.md section 3).
//!
//! Every shape here was read from respoke.js 1.56.0 (`signalingChannel.js`, `textMessage.js`,
//! `client.js`, `group.js`, `endpoint.js`) and checked against the Android SDK where respoke.js
//! ignores a reply:
//!
//! | request (Sails over the socket)          | body ([`Request::data`](crate::Request))             | success body                 |
//! |------------------------------------------|------------------------------------------------------|------------------------------|
//! | `post /v1/connections`                   | `{"capabilities":{"iceFinalCandidates":true}}`       | [`ConnectionInfo`]           |
//! | `post /v1/messages`                      | [`SendMessage`]                                      | `{}`                         |
//! | `post /v1/groups/`                       | [`GroupList`] (join)                                 | `{}`                         |
//! | `delete /v1/groups/`                     | [`GroupList`] (leave)                                | `{}`                         |
//! | `post /v1/channels/<group>/publish/`     | [`Publish`]                                          | `{}`                         |
//! | `get /v1/channels/<group>/subscribers/`  | none                                                 | array of [`Subscriber`]      |
//! | `post /v1/presence`                      | [`SetPresence`]                                      | `{}`                         |
//! | `post /v1/presenceobservers`             | [`PresenceObservers`]                                | array of [`ObservedPresence`] |
//! | `post /v1/signaling`                     | [`SendSignal`]                                       | `{}`                         |
//!
//! `<group>` is percent-encoded in the URL (respoke.js expands `{id}` with url-template):
//! build paths with [`publish_path`] / [`subscribers_path`], read them with
//! [`crate::query::decode_path_segment`].
//!
//! Pushed events are [`PushEvent`]s: `5:::{"name":"<name>","args":[<payload>]}`, no ack.
//!
//! Bodies are parsed with [`parse_body`], which checks both the JSON shape and the values
//! (an empty `to`, an empty group name, ...) and yields Respoke's 400 body
//! `{"error":"Validation Error.","validationErrors":{...}}` on failure.

use std::collections::BTreeMap;

use std::fmt;

use serde::de::{DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::error::ProtocolError;
use crate::event::{json_text, EventData, RawEvent};
use crate::packet::{excerpt, Packet};
use crate::query::encode_component;
use crate::rest::ErrorBody;

/// Name of the event carrying a 1:1 text message.
pub const EVENT_MESSAGE: &str = "message";
/// Name of the event carrying a connection's presence.
pub const EVENT_PRESENCE: &str = "presence";
/// Name of the event telling a group's members that a connection joined.
pub const EVENT_JOIN: &str = "join";
/// Name of the event telling a group's members that a connection left.
pub const EVENT_LEAVE: &str = "leave";
/// Name of the event carrying a message published to a group.
pub const EVENT_PUBSUB: &str = "pubsub";
/// Name of the event carrying a WebRTC signal.
pub const EVENT_SIGNAL: &str = "signal";

/// The error text of every 400 answer to a body that does not validate.
pub const VALIDATION_ERROR: &str = "Validation Error.";
/// The longest group name accepted, in bytes.
pub const MAX_GROUP_ID_LEN: usize = 256;
/// The most groups one join or leave request may name.
pub const MAX_GROUPS_PER_REQUEST: usize = 100;
/// The most endpoints one presence-observer request may name.
pub const MAX_OBSERVED_PER_REQUEST: usize = 1000;
/// The longest endpoint id accepted in `to` or `endpointList`, in bytes.
pub const MAX_ENDPOINT_ID_LEN: usize = 256;

/// The presence respoke.js resolves an endpoint to when none of its connections says more, and
/// the presence of a connection that never set one.
pub const UNAVAILABLE: &str = "unavailable";

// ---------------------------------------------------------------------------------------------
// Validation

/// A request body that can check its values after its shape was parsed.
pub trait Validate {
    /// Per-field problems, as Respoke reports them in `validationErrors`; empty when valid.
    fn validation_errors(&self) -> Map<String, Value>;
}

/// Parses and validates a request body. On failure the error is the 400 body to answer with:
/// `{"error": "Validation Error.", "validationErrors": {"<field>": "<problem>"}}` (a shape
/// problem is reported under `body`).
pub fn parse_body<T: DeserializeOwned + Validate>(data: &Value) -> Result<T, ErrorBody> {
    let parsed = T::deserialize(data).map_err(|e| {
        let mut errors = Map::new();
        errors.insert("body".into(), Value::String(excerpt(&e.to_string())));
        validation_error(errors)
    })?;
    let errors = parsed.validation_errors();
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(validation_error(errors))
    }
}

fn validation_error(errors: Map<String, Value>) -> ErrorBody {
    ErrorBody {
        error: VALIDATION_ERROR.into(),
        validation_errors: Some(Value::Object(errors)),
    }
}

fn check_id(errors: &mut Map<String, Value>, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        errors.insert(field.into(), Value::String(format!("{field} is required")));
    } else if value.len() > max {
        errors.insert(
            field.into(),
            Value::String(format!("{field} is longer than {max} bytes")),
        );
    }
}

fn check_list(
    errors: &mut Map<String, Value>,
    field: &str,
    list: &[String],
    max_entries: usize,
    max_len: usize,
) {
    if list.len() > max_entries {
        errors.insert(
            field.into(),
            Value::String(format!("{field} names more than {max_entries} entries")),
        );
    } else if let Some(bad) = list
        .iter()
        .find(|id| id.trim().is_empty() || id.len() > max_len)
    {
        errors.insert(
            field.into(),
            Value::String(format!(
                "{field} entries must be non-empty strings of at most {max_len} bytes (got {:?})",
                excerpt(bad)
            )),
        );
    }
}

/// Lenient timestamps: an integer, a float, or a numeric string (milliseconds); missing,
/// `null`, negative or out of range is 0. A visitor, not an untagged enum: serde buffers an
/// untagged enum's input in its `Content` tree to try each variant.
fn lenient_millis<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    struct Millis;
    impl<'de> Visitor<'de> for Millis {
        type Value = u64;
        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("milliseconds as a number or a numeric string")
        }
        fn visit_u64<E>(self, n: u64) -> Result<u64, E> {
            Ok(n)
        }
        fn visit_i64<E>(self, n: i64) -> Result<u64, E> {
            Ok(u64::try_from(n).unwrap_or(0))
        }
        fn visit_f64<E>(self, f: f64) -> Result<u64, E> {
            Ok(if (0.0..1e18).contains(&f) {
                f as u64
            } else {
                0
            })
        }
        fn visit_str<E>(self, text: &str) -> Result<u64, E> {
            Ok(text.trim().parse().unwrap_or(0))
        }
        fn visit_unit<E>(self) -> Result<u64, E> {
            Ok(0)
        }
        fn visit_none<E>(self) -> Result<u64, E> {
            Ok(0)
        }
    }
    // `deserialize_any`: JSON's `null` arrives as a unit, no `Option` wrapper needed.
    deserializer.deserialize_any(Millis)
}

/// `null` or absent reads as the default (respoke.js writes `undefined` fields as absent, but
/// an app may set `null`).
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// Request bodies

/// `post /v1/connections` reply: the socket's connection and the endpoint of its App-Token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo {
    /// The connection id (one per socket).
    pub id: String,
    /// The endpoint the App-Token stands for.
    pub endpoint_id: String,
}

/// `post /v1/messages`: a text message to an endpoint (respoke.js's `TextMessage` when sending:
/// `{"to","ccSelf","toConnection","requestConnectionReply","push","message"}`, `undefined`
/// fields left out).
///
/// `endpoint.sendMessage` defaults `ccSelf` to `true`: the sender's *other* connections get a
/// copy whose header has `toOriginal` set to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    /// The recipient endpoint.
    pub to: String,
    /// The text.
    pub message: String,
    /// Copy the message to the sender's other connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cc_self: Option<bool>,
    /// Deliver to this connection of `to` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_connection: Option<String>,
    /// respoke.js always sends `false`; kept for fidelity, ignored by the dev server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_connection_reply: Option<bool>,
    /// Ask for a mobile push notification to offline recipients (ignored by the dev server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<bool>,
}

impl SendMessage {
    /// A message to `to`, no options.
    pub fn new(to: impl Into<String>, message: impl Into<String>) -> SendMessage {
        SendMessage {
            to: to.into(),
            message: message.into(),
            cc_self: None,
            to_connection: None,
            request_connection_reply: None,
            push: None,
        }
    }
}

impl Validate for SendMessage {
    fn validation_errors(&self) -> Map<String, Value> {
        let mut errors = Map::new();
        check_id(&mut errors, "to", &self.to, MAX_ENDPOINT_ID_LEN);
        if self.to_connection.as_deref().is_some_and(str::is_empty) {
            errors.insert(
                "toConnection".into(),
                Value::String("toConnection must not be empty".into()),
            );
        }
        errors
    }
}

/// `post /v1/groups/` (join) and `delete /v1/groups/` (leave): `{"groups": ["<group>", ...]}`.
/// respoke.js batches the calls of one tick into one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupList {
    /// The group ids.
    pub groups: Vec<String>,
}

impl Validate for GroupList {
    fn validation_errors(&self) -> Map<String, Value> {
        let mut errors = Map::new();
        if self.groups.is_empty() {
            errors.insert("groups".into(), Value::String("groups is required".into()));
        }
        check_list(
            &mut errors,
            "groups",
            &self.groups,
            MAX_GROUPS_PER_REQUEST,
            MAX_GROUP_ID_LEN,
        );
        errors
    }
}

/// `post /v1/channels/<group>/publish/`: respoke.js sends a `TextMessage`
/// `{"to": "<group>", "requestConnectionReply": false, "push": false, "message": "..."}`; the
/// group that counts is the one in the URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Publish {
    /// The text.
    pub message: String,
    /// The group again (respoke.js's `to`); ignored by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// respoke.js always sends `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_connection_reply: Option<bool>,
    /// Mobile push (ignored by the dev server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<bool>,
}

impl Publish {
    /// A publication of `message` to `group`, as respoke.js writes it.
    pub fn new(group: impl Into<String>, message: impl Into<String>) -> Publish {
        Publish {
            message: message.into(),
            to: Some(group.into()),
            request_connection_reply: Some(false),
            push: Some(false),
        }
    }
}

impl Validate for Publish {
    fn validation_errors(&self) -> Map<String, Value> {
        Map::new()
    }
}

/// One member of a group: an element of the `get /v1/channels/<group>/subscribers/` reply
/// (a JSON array; respoke.js's `group.getMembers` reads `endpointId` and `connectionId`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscriber {
    /// The member's endpoint.
    pub endpoint_id: String,
    /// The member connection (membership is per connection).
    pub connection_id: String,
}

/// A connection's presence: `{"type": <any JSON>, "show"?: ..., "status"?: ...}`.
///
/// respoke.js allows any JSON value as presence (string, number, object, array); the strings it
/// ranks, most available first, are [`PRESENCE_RANKING`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Presence {
    /// The presence value (`"available"`, `"away"`, `"unavailable"`, or anything else).
    #[serde(rename = "type")]
    pub kind: Value,
    /// respoke.js's `show` (sent only when the app gave one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show: Option<Value>,
    /// A free-text status (sent only when the app gave one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
}

impl Presence {
    /// A presence of just a type, e.g. `Presence::new("available")`.
    pub fn new(kind: impl Into<Value>) -> Presence {
        Presence {
            kind: kind.into(),
            show: None,
            status: None,
        }
    }

    /// `{"type": "unavailable"}`.
    pub fn unavailable() -> Presence {
        Presence::new(UNAVAILABLE)
    }
}

/// respoke.js's ranking of presence strings, most available first; an endpoint's presence is
/// the best-ranked of its connections' (values not in the list rank after all of them), and
/// `unavailable` when it has no connection.
pub const PRESENCE_RANKING: [&str; 6] = ["chat", "available", "away", "dnd", "xa", "unavailable"];

/// An endpoint's presence from its connections' presences, as respoke.js's
/// `Endpoint.resolvePresence` computes it: the best-ranked value by [`PRESENCE_RANKING`] (the
/// first one wins among unranked values); `"unavailable"` for no connection.
pub fn resolve_presence<'a>(connections: impl IntoIterator<Item = &'a Value>) -> Value {
    let rank = |value: &Value| {
        value
            .as_str()
            .and_then(|s| PRESENCE_RANKING.iter().position(|r| *r == s))
            .unwrap_or(PRESENCE_RANKING.len())
    };
    let mut best: Option<&Value> = None;
    for value in connections {
        if best.map_or(true, |b| rank(value) < rank(b)) {
            best = Some(value);
        }
    }
    best.cloned()
        .unwrap_or_else(|| Value::String(UNAVAILABLE.into()))
}

/// `post /v1/presence`: `{"presence": {"type": ..., "show"?: ..., "status"?: ...}}`. respoke.js
/// sends `{"type":"unavailable"}` right after every connect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetPresence {
    /// The connection's new presence.
    pub presence: Presence,
}

impl Validate for SetPresence {
    fn validation_errors(&self) -> Map<String, Value> {
        let mut errors = Map::new();
        if self.presence.kind.is_null() {
            errors.insert(
                "presence.type".into(),
                Value::String("presence.type is required".into()),
            );
        }
        errors
    }
}

/// `post /v1/presenceobservers` (and `delete`, to stop): `{"endpointList": ["<endpoint>", ...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceObservers {
    /// The endpoints to observe.
    pub endpoint_list: Vec<String>,
}

impl Validate for PresenceObservers {
    fn validation_errors(&self) -> Map<String, Value> {
        let mut errors = Map::new();
        check_list(
            &mut errors,
            "endpointList",
            &self.endpoint_list,
            MAX_OBSERVED_PER_REQUEST,
            MAX_ENDPOINT_ID_LEN,
        );
        errors
    }
}

/// One element of the `post /v1/presenceobservers` reply (a JSON array, one per endpoint named):
/// the presence of each live connection of the endpoint, keyed by connection id. An endpoint
/// with no live connection has empty `connectionStates` (its presence is `unavailable`).
/// The Android SDK reads this; respoke.js ignores it and learns the same from the `presence`
/// events pushed right after the ack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedPresence {
    /// The observed endpoint.
    pub endpoint_id: String,
    /// Connection id -> presence.
    #[serde(default, deserialize_with = "null_as_default")]
    pub connection_states: BTreeMap<String, Presence>,
}

impl ObservedPresence {
    /// The endpoint's presence resolved from its connections ([`resolve_presence`]).
    pub fn resolved(&self) -> Value {
        resolve_presence(self.connection_states.values().map(|p| &p.kind))
    }
}

/// `post /v1/signaling`: `{"ccSelf"?, "signal": "<JSON text>", "to", "toConnection"?,
/// "toType"}`. The server passes `signal` through unread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendSignal {
    /// The recipient endpoint.
    pub to: String,
    /// The signal, a JSON document as text.
    pub signal: String,
    /// Deliver to this connection of `to` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_connection: Option<String>,
    /// `web` (default), `did`, `sip`, `conference`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_type: Option<String>,
    /// Copy to the sender's other connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cc_self: Option<bool>,
}

impl Validate for SendSignal {
    fn validation_errors(&self) -> Map<String, Value> {
        let mut errors = Map::new();
        check_id(&mut errors, "to", &self.to, MAX_ENDPOINT_ID_LEN);
        if self.signal.is_empty() {
            errors.insert("signal".into(), Value::String("signal is required".into()));
        }
        errors
    }
}

/// The path of `post /v1/channels/<group>/publish/`, the group percent-encoded.
pub fn publish_path(group: &str) -> String {
    format!("/v1/channels/{}/publish/", encode_component(group))
}

/// The path of `get /v1/channels/<group>/subscribers/`, the group percent-encoded.
pub fn subscribers_path(group: &str) -> String {
    format!("/v1/channels/{}/subscribers/", encode_component(group))
}

// ---------------------------------------------------------------------------------------------
// Pushed events

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn message_wire_shape() {
        let event = PushEvent::Message(MessageEvent::new("spock", "C1", 1_700_000_000_123, "hi"));
        assert_eq!(
            event.payload(),
            json!({"header": {"type": "message", "from": "spock", "fromConnection": "C1",
                              "timestamp": 1_700_000_000_123_u64}, "body": "hi"})
        );
        assert_eq!(
            event.to_packet().encode(),
            r#"5:::{"name":"message","args":[{"header":{"type":"message","from":"spock","fromConnection":"C1","timestamp":1700000000123},"body":"hi"}]}"#
        );
        let back = PushEvent::from_packet(&event.to_packet()).unwrap().unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn presence_join_leave_pubsub_shapes() {
        let presence = PresenceEvent::new("kirk", "C2", Presence::new("away"));
        assert_eq!(
            serde_json::to_value(&presence).unwrap(),
            json!({"header": {"from": "kirk", "fromConnection": "C2", "type": "presence",
                              "channel": "presence:kirk"}, "type": "away"})
        );
        // The minimal shape of PROTOCOL.md reads too.
        let minimal: PresenceEvent = serde_json::from_value(
            json!({"header": {"from": "kirk", "fromConnection": "C2"}, "type": {"busy": 1}}),
        )
        .unwrap();
        assert_eq!(minimal.presence, json!({"busy": 1}));
        assert_eq!(minimal.header.kind, None);

        assert_eq!(
            PushEvent::Join(MembershipEvent::join("bridge", "kirk", "C2")).payload(),
            json!({"header": {"type": "join", "channel": "bridge"}, "endpointId": "kirk",
                   "connectionId": "C2"})
        );
        let leave = PushEvent::Leave(MembershipEvent::leave("bridge", "kirk", "C2"));
        assert_eq!(leave.name(), "leave");
        assert_eq!(leave.payload()["header"]["type"], "leave");

        assert_eq!(
            PushEvent::PubSub(PubSubEvent::new("bridge", "kirk", "C2", 5, "engage")).payload(),
            json!({"header": {"type": "pubsub", "channel": "bridge", "from": "kirk",
                              "fromConnection": "C2", "timestamp": 5}, "message": "engage"})
        );
    }

    #[test]
    fn unknown_and_malformed_events() {
        let other = EventData::new("ping", vec![json!({})]);
        assert_eq!(PushEvent::from_event_data(&other).unwrap(), None);
        let bad = EventData::new("join", vec![json!({"header": 3})]);
        assert_eq!(
            PushEvent::from_event_data(&bad).unwrap_err().code(),
            "MALFORMED_EVENT"
        );
        assert_eq!(PushEvent::from_packet(&Packet::Heartbeat).unwrap(), None);
        // Lenient timestamps and missing optional fields.
        let message: MessageEvent = serde_json::from_value(
            json!({"header": {"from": "a", "timestamp": "17", "fromConnection": null}}),
        )
        .unwrap();
        assert_eq!(message.header.timestamp, 17);
        assert_eq!(message.header.kind, "message");
        assert_eq!(message.body, "");
    }

    #[test]
    fn request_bodies_as_respoke_js_sends_them() {
        // endpoint.sendMessage({message}) -> TextMessage with ccSelf true, push false.
        let data = json!({"to": "kirk", "ccSelf": true, "requestConnectionReply": false,
                          "push": false, "message": "hi"});
        let m: SendMessage = parse_body(&data).unwrap();
        assert_eq!(m.cc_self, Some(true));
        assert_eq!(m.to_connection, None);
        assert_eq!(serde_json::to_value(&m).unwrap(), data);

        let g: GroupList = parse_body(&json!({"groups": ["a", "b"]})).unwrap();
        assert_eq!(g.groups, ["a", "b"]);

        let p: Publish = parse_body(
            &json!({"to": "g", "requestConnectionReply": false, "push": false,
                               "message": "m"}),
        )
        .unwrap();
        assert_eq!(p, Publish::new("g", "m"));

        // client.setPresence({presence: 'away'}): show/status undefined are left out.
        let s: SetPresence = parse_body(&json!({"presence": {"type": "away"}})).unwrap();
        assert_eq!(s.presence, Presence::new("away"));
        let s: SetPresence =
            parse_body(&json!({"presence": {"type": [1], "status": "on the bridge"}})).unwrap();
        assert_eq!(s.presence.status, Some(json!("on the bridge")));

        let o: PresenceObservers = parse_body(&json!({"endpointList": ["kirk"]})).unwrap();
        assert_eq!(o.endpoint_list, ["kirk"]);

        let sig: SendSignal = parse_body(&json!({"signal": "{}", "to": "kirk",
                                                  "toType": "web"}))
        .unwrap();
        assert_eq!(sig.to_type.as_deref(), Some("web"));
    }

    #[test]
    fn validation_errors_name_the_field() {
        let err = parse_body::<SendMessage>(&json!({"to": "", "message": "x"})).unwrap_err();
        assert_eq!(err.error, VALIDATION_ERROR);
        assert!(err.validation_errors.unwrap().get("to").is_some());
        let err = parse_body::<SendMessage>(&json!({"to": "x"})).unwrap_err();
        assert!(err.validation_errors.unwrap().get("body").is_some());
        let err = parse_body::<SendMessage>(&json!({"to": "x", "message": 5})).unwrap_err();
        assert!(err.validation_errors.unwrap().get("body").is_some());
        assert!(parse_body::<GroupList>(&json!({"groups": []})).is_err());
        assert!(parse_body::<GroupList>(&json!({"groups": [""]})).is_err());
        assert!(parse_body::<GroupList>(&json!({"groups": "a"})).is_err());
        let many: Vec<String> = (0..=MAX_GROUPS_PER_REQUEST)
            .map(|n| n.to_string())
            .collect();
        assert!(parse_body::<GroupList>(&json!({ "groups": many })).is_err());
        assert!(parse_body::<GroupList>(&json!({"groups": ["x".repeat(300)]})).is_err());
        assert!(parse_body::<SetPresence>(&json!({"presence": "away"})).is_err());
        assert!(parse_body::<SetPresence>(&json!({"presence": {"type": null}})).is_err());
        assert!(parse_body::<SetPresence>(&json!({})).is_err());
        assert!(parse_body::<PresenceObservers>(&json!({"endpointList": [1]})).is_err());
        assert!(parse_body::<PresenceObservers>(&json!({"endpointList": []})).is_ok());
        assert!(parse_body::<Publish>(&json!(null)).is_err());
        assert!(parse_body::<SendSignal>(&json!({"to": "a", "signal": ""})).is_err());
    }

    #[test]
    fn presence_resolution_follows_respoke_js() {
        let v = |s: &str| json!(s);
        assert_eq!(resolve_presence([]), v("unavailable"));
        assert_eq!(
            resolve_presence(&[v("unavailable"), v("away"), v("available")]),
            v("available")
        );
        assert_eq!(resolve_presence(&[v("xa"), v("chat")]), v("chat"));
        assert_eq!(resolve_presence(&[json!({"x": 1}), v("dnd")]), v("dnd"));
        assert_eq!(resolve_presence(&[json!(3), json!(4)]), json!(3));
        let observed: ObservedPresence = serde_json::from_value(json!({
            "endpointId": "kirk",
            "connectionStates": {"C1": {"type": "away"}, "C2": {"type": "available"}}
        }))
        .unwrap();
        assert_eq!(observed.resolved(), v("available"));
        let empty: ObservedPresence =
            serde_json::from_value(json!({"endpointId": "kirk", "connectionStates": null}))
                .unwrap();
        assert_eq!(empty.resolved(), v("unavailable"));
    }

    #[test]
    fn channel_paths_are_encoded() {
        assert_eq!(publish_path("bridge"), "/v1/channels/bridge/publish/");
        assert_eq!(
            subscribers_path("a b/c@d"),
            "/v1/channels/a%20b%2Fc%40d/subscribers/"
        );
        assert_eq!(
            crate::query::decode_path_segment("a%20b%2Fc%40d+e"),
            "a b/c@d+e"
        );
    }
}

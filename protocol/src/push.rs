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

use crate::packet::excerpt;
use crate::query::encode_component;
use crate::rest::ErrorBody;

mod events;

pub use events::{
    GroupHeader, MembershipEvent, MessageEvent, MessageHeader, PresenceEvent, PresenceHeader,
    PubSubEvent, PubSubHeader, PushEvent, SignalEvent, SignalHeader,
};

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

#[cfg(test)]
mod tests;

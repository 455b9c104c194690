//! What the app hears: the events, their names (the one list JS, `api.d.ts` and the demo derive
//! from), the public state and the counters.

use serde::Serialize;
use serde_json::Value;

use super::code::Code;

/// Identifies one request made by the app; its outcome is an [`Event::Reply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct CallId(pub u64);

/// Why a request did not get an answer body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallError {
    /// Stable code (a [`Code`] of the `Request` group).
    pub code: Code,
    /// Human-readable.
    pub message: String,
    /// The answer's status code, for `REQUEST_FAILED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl CallError {
    /// An error without a status.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        CallError {
            code,
            message: message.into(),
            status: None,
        }
    }
}

macro_rules! event_names {
    ($($(#[$doc:meta])* $name:ident = $text:literal,)*) => {
        /// The name of an app event: what `listen(name, ...)` takes and `event.type` says.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventName {
            $($(#[$doc])* $name,)*
        }

        impl EventName {
            /// Every app event, in the order `api.d.ts` declares them.
            pub const ALL: &'static [EventName] = &[$(EventName::$name,)*];

            /// The string JS sees.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(EventName::$name => $text,)*
                }
            }
        }
    };
}

event_names! {
    /// Registered with Respoke.
    Connect = "connect",
    /// A live connection ended.
    Disconnect = "disconnect",
    /// An attempt is scheduled.
    Reconnecting = "reconnecting",
    /// Stopped for good.
    Failed = "failed",
    /// The state or phase changed.
    State = "state",
    /// Something went wrong.
    Error = "error",
    /// A 1:1 text message.
    Message = "message",
    /// An observed endpoint's presence changed.
    Presence = "presence",
    /// A connection joined a group.
    Join = "join",
    /// A connection left a group.
    Leave = "leave",
    /// A message published to a group.
    Pubsub = "pubsub",
}

impl EventName {
    /// The event named `text`, if it is one.
    pub fn parse(text: &str) -> Option<EventName> {
        EventName::ALL
            .iter()
            .copied()
            .find(|name| name.as_str() == text)
    }
}

/// What a `waiting` client without a timer waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WaitingFor {
    /// The browser to come back online.
    Online,
    /// The page to be shown (`pauseWhenHidden`).
    Visible,
    /// The page to come back from the back/forward cache or be unfrozen.
    Resume,
}

/// The public connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Created, not started.
    Idle,
    /// An attempt is under way (see [`Phase`]).
    Connecting,
    /// Registered with Respoke; events flow.
    Connected,
    /// Waiting out a backoff delay before the next attempt.
    Waiting,
    /// Stopped for good because retrying cannot help (e.g. the user must log in again).
    /// `reconnect()` may start again after the app fixed the cause.
    Failed,
    /// Stopped for good by `disconnect()`.
    Closed,
}

impl State {
    /// True for `failed` and `closed`: no request leaves the client in these states.
    pub fn is_terminal(self) -> bool {
        matches!(self, State::Failed | State::Closed)
    }

    /// The name JS sees (`state.state`, `client.state`), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Connecting => "connecting",
            State::Connected => "connected",
            State::Waiting => "waiting",
            State::Failed => "failed",
            State::Closed => "closed",
        }
    }
}

/// The step an attempt is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Fetching a tokenId from the app server.
    Token,
    /// Exchanging it at `/v1/session-tokens`.
    Session,
    /// socket.io handshake.
    Handshake,
    /// WebSocket opening, waiting for `1::`.
    Socket,
    /// `post /v1/connections` sent, waiting for its ack.
    Register,
}

/// Counters since the client started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Attempts started.
    pub attempts: u32,
    /// tokenIds received (each sent at most once).
    pub tokens_fetched: u32,
    /// Successful connects.
    pub connects: u32,
    /// Connections lost or ended.
    pub disconnects: u32,
}

/// What the app hears, handed out by [`Machine::poll_output`](super::Machine::poll_output).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Event {
    /// Registered with Respoke.
    #[serde(rename_all = "camelCase")]
    Connect {
        /// Who Respoke says we are.
        endpoint_id: String,
        /// This connection's id.
        connection_id: String,
        /// Which attempt since the previous connection succeeded (1-based).
        attempt: u32,
    },
    /// A live connection ended.
    #[serde(rename_all = "camelCase")]
    Disconnect {
        /// Human-readable.
        reason: String,
        /// Stable code.
        code: Code,
        /// Whether an attempt will follow.
        will_reconnect: bool,
    },
    /// An attempt is scheduled.
    #[serde(rename_all = "camelCase")]
    Reconnecting {
        /// The attempt that starts after the delay (1-based).
        attempt: u32,
        /// The delay.
        delay_ms: u64,
        /// Code of what caused it.
        cause: Code,
    },
    /// Terminal failure.
    #[serde(rename_all = "camelCase")]
    Failed {
        /// Human-readable.
        reason: String,
        /// HTTP status, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        /// Stable code.
        code: Code,
        /// The user must authenticate again.
        reauthenticate: bool,
    },
    /// The state or phase changed.
    #[serde(rename_all = "camelCase")]
    State {
        /// New state.
        state: State,
        /// Previous state.
        previous: State,
        /// While connecting.
        #[serde(skip_serializing_if = "Option::is_none")]
        phase: Option<Phase>,
        /// While connecting or waiting.
        #[serde(skip_serializing_if = "Option::is_none")]
        attempt: Option<u32>,
        /// While waiting: ms until the next attempt.
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_in: Option<u64>,
        /// While waiting with no attempt scheduled: what the client waits for.
        #[serde(skip_serializing_if = "Option::is_none")]
        waiting_for: Option<WaitingFor>,
        /// When, on the caller's clock.
        at: u64,
    },
    /// A 1:1 text message arrived.
    #[serde(rename_all = "camelCase")]
    Message {
        /// Sender's endpointId.
        from: String,
        /// Sender's connectionId.
        from_connection: String,
        /// Server time, Unix ms.
        timestamp: u64,
        /// The text.
        message: String,
    },
    /// An observed endpoint's presence changed (see `observe_presence`).
    #[serde(rename_all = "camelCase")]
    Presence {
        /// Whose presence.
        from: String,
        /// Which connection of theirs.
        from_connection: String,
        /// The presence type, e.g. `"available"`.
        presence: Value,
        /// Optional `show`.
        #[serde(skip_serializing_if = "Option::is_none")]
        show: Option<Value>,
        /// Optional status text.
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<Value>,
    },
    /// A connection joined a group this client is in.
    #[serde(rename_all = "camelCase")]
    Join {
        /// The group.
        group: String,
        /// Who joined.
        endpoint_id: String,
        /// Their connection.
        connection_id: String,
    },
    /// A connection left a group this client is in.
    #[serde(rename_all = "camelCase")]
    Leave {
        /// The group.
        group: String,
        /// Who left.
        endpoint_id: String,
        /// Their connection.
        connection_id: String,
    },
    /// A message published to a group this client is in.
    #[serde(rename_all = "camelCase")]
    Pubsub {
        /// The group.
        group: String,
        /// Sender's endpointId.
        from: String,
        /// Sender's connectionId.
        from_connection: String,
        /// Server time, Unix ms.
        timestamp: u64,
        /// The text.
        message: String,
    },
    /// The outcome of a request made with [`Machine::call`](super::Machine::call). For the shell (it
    /// settles the request's promise), not an app event.
    Reply {
        /// Which request.
        id: CallId,
        /// The answer body, or why there is none (settles a promise; never serialized).
        #[serde(skip)]
        result: Result<Value, CallError>,
    },
    /// Something went wrong; `retry` says whether the client goes on.
    #[serde(rename_all = "camelCase")]
    Error {
        /// Stable code.
        code: Code,
        /// Human-readable; never contains a token.
        message: String,
        /// HTTP status, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        /// Whether the client will retry.
        retry: bool,
    },
}

impl Event {
    /// The app event's name; `None` for [`Event::Reply`], which only the shell sees.
    pub fn name(&self) -> Option<EventName> {
        Some(match self {
            Event::Connect { .. } => EventName::Connect,
            Event::Disconnect { .. } => EventName::Disconnect,
            Event::Reconnecting { .. } => EventName::Reconnecting,
            Event::Failed { .. } => EventName::Failed,
            Event::State { .. } => EventName::State,
            Event::Error { .. } => EventName::Error,
            Event::Message { .. } => EventName::Message,
            Event::Presence { .. } => EventName::Presence,
            Event::Join { .. } => EventName::Join,
            Event::Leave { .. } => EventName::Leave,
            Event::Pubsub { .. } => EventName::Pubsub,
            Event::Reply { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::EventName;

    #[test]
    fn names_parse_back() {
        for name in EventName::ALL {
            assert_eq!(EventName::parse(name.as_str()), Some(*name));
        }
        assert_eq!(EventName::parse("reply"), None);
    }
}

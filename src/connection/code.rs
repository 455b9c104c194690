//! Every stable code that reaches the app, in one enum: the single source of the strings JS
//! sees (`error.code`, `disconnect.code`, `reconnecting.cause`, a rejected request's `code`) and
//! of the literal unions in `src/api.d.ts` (`tests/api_types.rs` checks them against
//! [`Code::ALL`] and [`Code::group`]).

use serde::{Serialize, Serializer};

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $text:literal in $group:ident,)*) => {
        /// A stable, machine-readable code (part of the public API).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[$doc])* $name,)*
        }

        impl Code {
            /// Every code, in the order `api.d.ts` lists them.
            pub const ALL: &'static [Code] = &[$(Code::$name,)*];

            /// The string JS sees.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$name => $text,)*
                }
            }

            /// Which of the `api.d.ts` unions the code belongs to.
            pub const fn group(self) -> CodeGroup {
                match self {
                    $(Code::$name => CodeGroup::$group,)*
                }
            }
        }
    };
}

/// The `api.d.ts` union a [`Code`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeGroup {
    /// `AttemptErrorCode`: an attempt failed (`error`, `failed`, `reconnecting.cause`).
    Attempt,
    /// `DisconnectCode`: a live connection ended (`disconnect`, `error`, `reconnecting.cause`).
    Disconnect,
    /// The extra `ReconnectCause` literals: a wake cut a wait short.
    Wake,
    /// The extra `ErrorEventCode` literals.
    ErrorEvent,
    /// `RequestErrorCode`: a request's promise rejected.
    Request,
    /// The extra `RespokeErrorCode` literals: `connect()` and the package's own checks.
    Package,
}

codes! {
    /// The token endpoint (or `getToken`) refused the user: log in again. Terminal.
    TokenUnauthorized = "TOKEN_UNAUTHORIZED" in Attempt,
    /// A 4xx from the token endpoint, or Respoke refused the tokenId there.
    TokenRejected = "TOKEN_REJECTED" in Attempt,
    /// The token endpoint answered a status worth retrying.
    TokenHttp = "TOKEN_HTTP" in Attempt,
    /// The token request got no HTTP answer.
    TokenNetwork = "TOKEN_NETWORK" in Attempt,
    /// The token request took longer than `tokenTimeoutMs`.
    TokenTimeout = "TOKEN_TIMEOUT" in Attempt,
    /// The token endpoint's answer was not `{"token": ...}`.
    TokenInvalidResponse = "TOKEN_INVALID_RESPONSE" in Attempt,
    /// The app's `getToken` failed.
    TokenCallback = "TOKEN_CALLBACK" in Attempt,
    /// The token source returned a tokenId already used.
    TokenReused = "TOKEN_REUSED" in Attempt,
    /// Respoke refused the tokenId.
    SessionRejected = "SESSION_REJECTED" in Attempt,
    /// `/v1/session-tokens` answered a status worth retrying.
    SessionHttp = "SESSION_HTTP" in Attempt,
    /// `/v1/session-tokens` got no HTTP answer.
    SessionNetwork = "SESSION_NETWORK" in Attempt,
    /// `/v1/session-tokens` answered something that is not its JSON.
    SessionInvalidResponse = "SESSION_INVALID_RESPONSE" in Attempt,
    /// The handshake was refused (4xx).
    HandshakeRejected = "HANDSHAKE_REJECTED" in Attempt,
    /// The handshake answered a status worth retrying.
    HandshakeHttp = "HANDSHAKE_HTTP" in Attempt,
    /// The handshake got no HTTP answer.
    HandshakeNetwork = "HANDSHAKE_NETWORK" in Attempt,
    /// The handshake's answer was not `sid:hb:close:transports`.
    HandshakeInvalidResponse = "HANDSHAKE_INVALID_RESPONSE" in Attempt,
    /// `post /v1/connections` was refused.
    RegisterRejected = "REGISTER_REJECTED" in Attempt,
    /// The attempt took longer than `attemptTimeoutMs`.
    AttemptTimeout = "ATTEMPT_TIMEOUT" in Attempt,
    /// The server sent `0::`.
    ServerDisconnect = "SERVER_DISCONNECT" in Disconnect,
    /// The socket closed without `0::`.
    SocketClosed = "SOCKET_CLOSED" in Disconnect,
    /// No packet within the heartbeat timeout.
    HeartbeatTimeout = "HEARTBEAT_TIMEOUT" in Disconnect,
    /// The server sent a socket.io error packet.
    ServerError = "SERVER_ERROR" in Disconnect,
    /// A malformed frame or push arrived.
    ProtocolError = "PROTOCOL_ERROR" in Disconnect,
    /// The app called `disconnect()`.
    ClientDisconnect = "CLIENT_DISCONNECT" in Disconnect,
    /// The app called `reconnect()` while connected.
    ClientReconnect = "CLIENT_RECONNECT" in Disconnect,
    /// The browser went offline.
    Offline = "OFFLINE" in Disconnect,
    /// The page went into the back/forward cache or unloaded.
    PageHidden = "PAGE_HIDDEN" in Disconnect,
    /// The browser froze the page.
    PageFrozen = "PAGE_FROZEN" in Disconnect,
    /// The socket did not answer a liveness probe after a wake.
    SocketUnresponsive = "SOCKET_UNRESPONSIVE" in Disconnect,
    /// The browser came back online.
    Online = "ONLINE" in Wake,
    /// The page was shown.
    Visible = "VISIBLE" in Wake,
    /// The page came back from the back/forward cache or was unfrozen.
    Resume = "RESUME" in Wake,
    /// The device woke from sleep (a wall-clock jump).
    Wake = "WAKE" in Wake,
    /// An app listener threw (reported by the shell).
    ListenerError = "LISTENER_ERROR" in ErrorEvent,
    /// Restoring presence, groups or observers after a reconnect failed.
    RestoreFailed = "RESTORE_FAILED" in ErrorEvent,
    /// The server answered the request with an error.
    RequestFailed = "REQUEST_FAILED" in Request,
    /// No answer within `requestTimeoutMs`.
    RequestTimeout = "REQUEST_TIMEOUT" in Request,
    /// The socket went away before the answer (or `queueSize` is 0).
    Disconnected = "DISCONNECTED" in Request,
    /// `queueSize` requests already wait.
    QueueFull = "QUEUE_FULL" in Request,
    /// Not connected within `queueMaxAgeMs`.
    QueueTimeout = "QUEUE_TIMEOUT" in Request,
    /// The client was disconnected (or freed).
    Closed = "CLOSED" in Request,
    /// The client failed; call `reconnect()`.
    Failed = "FAILED" in Request,
    /// An argument the method cannot use.
    InvalidArgument = "INVALID_ARGUMENT" in Request,
    /// `connect()` options that cannot work.
    InvalidOptions = "INVALID_OPTIONS" in Package,
    /// fetch, WebSocket, setTimeout or AbortController is missing.
    UnsupportedEnvironment = "UNSUPPORTED_ENVIRONMENT" in Package,
    /// `connect()` before `init()` (the package's JS entry).
    NotInitialized = "NOT_INITIALIZED" in Package,
    /// `ready({timeoutMs})` ran out (the package's JS entry).
    ReadyTimeout = "READY_TIMEOUT" in Package,
    /// `ready({signal})` was aborted (the package's JS entry).
    Aborted = "ABORTED" in Package,
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl core::fmt::Display for Code {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn codes_are_unique_screaming_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{text}"
            );
            assert_eq!(serde_json::to_string(code).unwrap(), format!("\"{text}\""));
        }
    }
}

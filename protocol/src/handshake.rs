//! The socket.io 0.9 handshake: its query, its reply line, and the WebSocket path.

use std::fmt;

use crate::error::ProtocolError;
use crate::packet::excerpt;
use crate::query::{build_query, encode_component, parse_query};

/// The path of the handshake, before the query.
pub const HANDSHAKE_PATH: &str = "/socket.io/1/";
/// The prefix of the WebSocket path; the session id follows.
pub const WEBSOCKET_PATH_PREFIX: &str = "/socket.io/1/websocket/";
/// The Sails SDK version respoke.js announces; with it the server answers in the 0.10 shape.
pub const SAILS_SDK_VERSION: &str = "0.10.0";
/// Query key of the Sails SDK version.
pub const QUERY_SAILS_VERSION: &str = "__sails_io_sdk_version";
/// Query key of the App-Token.
pub const QUERY_APP_TOKEN: &str = "app-token";
/// Query key of the SDK description.
pub const QUERY_SDK: &str = "Respoke-SDK";
/// Query key of the cache-busting timestamp (milliseconds).
pub const QUERY_TIMESTAMP: &str = "t";

/// The server's handshake reply `<sid>:<heartbeatTimeout>:<closeTimeout>:<transports>`,
/// e.g. `6FMl...:60:60:websocket`.
///
/// A timeout of `0` or an empty field means "none" and is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// The session id to put in the WebSocket path.
    pub sid: String,
    /// Seconds without any packet after which the client gives the socket up.
    pub heartbeat_timeout_secs: Option<u32>,
    /// Seconds the server keeps a closed session around.
    pub close_timeout_secs: Option<u32>,
    /// The transports the server offers, in order (`websocket`).
    pub transports: Vec<String>,
}

impl Handshake {
    /// Parses the reply body. Surrounding whitespace (a trailing newline) is ignored.
    pub fn parse(text: &str) -> Result<Handshake, ProtocolError> {
        let line = text.trim();
        let mut fields = line.split(':');
        let (Some(sid), Some(heartbeat), Some(close), Some(transports), None) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(ProtocolError::MalformedHandshake(excerpt(line)));
        };
        if sid.is_empty() {
            return Err(ProtocolError::MalformedHandshake("empty session id".into()));
        }
        Ok(Handshake {
            sid: sid.to_owned(),
            heartbeat_timeout_secs: parse_timeout(heartbeat)?,
            close_timeout_secs: parse_timeout(close)?,
            transports: transports
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }

    /// Whether the server offers the `websocket` transport.
    pub fn supports_websocket(&self) -> bool {
        self.transports.iter().any(|t| t == "websocket")
    }

    /// The reply line (the same as `to_string()`).
    pub fn format(&self) -> String {
        self.to_string()
    }
}

fn parse_timeout(field: &str) -> Result<Option<u32>, ProtocolError> {
    let field = field.trim();
    if field.is_empty() {
        return Ok(None);
    }
    if !field.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ProtocolError::MalformedHandshake(format!(
            "timeout {:?} is not a number",
            excerpt(field)
        )));
    }
    match field.parse::<u32>() {
        Ok(0) => Ok(None),
        Ok(secs) => Ok(Some(secs)),
        Err(_) => Err(ProtocolError::MalformedHandshake(format!(
            "timeout {:?} out of range",
            excerpt(field)
        ))),
    }
}

impl fmt::Display for Handshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = |v: Option<u32>| v.map(|s| s.to_string()).unwrap_or_default();
        write!(
            f,
            "{}:{}:{}:{}",
            self.sid,
            secs(self.heartbeat_timeout_secs),
            secs(self.close_timeout_secs),
            self.transports.join(",")
        )
    }
}

impl std::str::FromStr for Handshake {
    type Err = ProtocolError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Handshake::parse(text)
    }
}

/// The query of the handshake and of the WebSocket URL:
/// `__sails_io_sdk_version=0.10.0&app-token=<t>&Respoke-SDK=<sdk>&t=<ms>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeQuery {
    /// The Sails SDK version; `Some("0.10.0")` selects the 0.10 ack shape. `None` omits it
    /// (the server then answers in the legacy shape).
    pub sails_sdk_version: Option<String>,
    /// The App-Token from `POST /v1/session-tokens`.
    pub app_token: String,
    /// The SDK description sent as `Respoke-SDK` (may be empty).
    pub sdk: String,
    /// A cache-busting timestamp in milliseconds (`None` omits `t`).
    pub timestamp_ms: Option<u64>,
}

impl HandshakeQuery {
    /// A query announcing Sails 0.10 for `app_token`.
    pub fn new(app_token: impl Into<String>, sdk: impl Into<String>, timestamp_ms: u64) -> Self {
        HandshakeQuery {
            sails_sdk_version: Some(SAILS_SDK_VERSION.to_owned()),
            app_token: app_token.into(),
            sdk: sdk.into(),
            timestamp_ms: Some(timestamp_ms),
        }
    }

    /// The percent-encoded query string, without `?`.
    pub fn to_query_string(&self) -> String {
        let timestamp = self.timestamp_ms.map(|t| t.to_string());
        let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(4);
        if let Some(version) = &self.sails_sdk_version {
            pairs.push((QUERY_SAILS_VERSION, version));
        }
        pairs.push((QUERY_APP_TOKEN, &self.app_token));
        pairs.push((QUERY_SDK, &self.sdk));
        if let Some(t) = &timestamp {
            pairs.push((QUERY_TIMESTAMP, t));
        }
        build_query(pairs)
    }

    /// `/socket.io/1/?<query>`: the path and query of the handshake GET.
    pub fn handshake_path(&self) -> String {
        format!("{HANDSHAKE_PATH}?{}", self.to_query_string())
    }

    /// `/socket.io/1/websocket/<sid>?<query>`: the path and query of the WebSocket.
    pub fn websocket_path(&self, sid: &str) -> String {
        format!(
            "{WEBSOCKET_PATH_PREFIX}{}?{}",
            encode_component(sid),
            self.to_query_string()
        )
    }

    /// Reads a query string (server side). Missing keys become empty/`None`.
    pub fn parse(query: &str) -> HandshakeQuery {
        let mut parsed = HandshakeQuery {
            sails_sdk_version: None,
            app_token: String::new(),
            sdk: String::new(),
            timestamp_ms: None,
        };
        for (key, value) in parse_query(query) {
            match key.as_str() {
                QUERY_SAILS_VERSION if parsed.sails_sdk_version.is_none() => {
                    parsed.sails_sdk_version = Some(value)
                }
                QUERY_APP_TOKEN if parsed.app_token.is_empty() => parsed.app_token = value,
                QUERY_SDK if parsed.sdk.is_empty() => parsed.sdk = value,
                QUERY_TIMESTAMP if parsed.timestamp_ms.is_none() => {
                    parsed.timestamp_ms = value.parse().ok()
                }
                _ => {}
            }
        }
        parsed
    }

    /// Whether the client announced Sails 0.10 (and so expects `{body, headers, statusCode}`).
    pub fn wants_sails_010(&self) -> bool {
        self.sails_sdk_version.as_deref() == Some(SAILS_SDK_VERSION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_reply() {
        let h = Handshake::parse("6FMlAbc:60:60:websocket\n").unwrap();
        assert_eq!(h.sid, "6FMlAbc");
        assert_eq!(h.heartbeat_timeout_secs, Some(60));
        assert_eq!(h.close_timeout_secs, Some(60));
        assert_eq!(h.transports, vec!["websocket"]);
        assert!(h.supports_websocket());
        assert_eq!(h.to_string(), "6FMlAbc:60:60:websocket");

        let h = Handshake::parse("s:0::websocket,xhr-polling").unwrap();
        assert_eq!(h.heartbeat_timeout_secs, None);
        assert_eq!(h.close_timeout_secs, None);
        assert_eq!(h.transports.len(), 2);
        assert_eq!(h.to_string(), "s:::websocket,xhr-polling");
    }

    #[test]
    fn rejects_bad_replies() {
        for bad in [
            "",
            "abc",
            "a:1:2",
            "a:1:2:w:x",
            ":60:60:websocket",
            "a:x:60:websocket",
            "a:99999999999:1:w",
        ] {
            assert_eq!(
                Handshake::parse(bad).unwrap_err().code(),
                "MALFORMED_HANDSHAKE",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn builds_paths() {
        let q = HandshakeQuery::new("TOK EN", "Respoke-JS/1.56.0 (Chrome)", 1234);
        assert_eq!(
            q.handshake_path(),
            "/socket.io/1/?__sails_io_sdk_version=0.10.0&app-token=TOK%20EN&Respoke-SDK=Respoke-JS%2F1.56.0%20(Chrome)&t=1234"
        );
        assert_eq!(
            q.websocket_path("s/id"),
            "/socket.io/1/websocket/s%2Fid?__sails_io_sdk_version=0.10.0&app-token=TOK%20EN&Respoke-SDK=Respoke-JS%2F1.56.0%20(Chrome)&t=1234"
        );
        let back = HandshakeQuery::parse(&q.to_query_string());
        assert_eq!(back, q);
        assert!(back.wants_sails_010());
        let legacy = HandshakeQuery::parse("app-token=x");
        assert!(!legacy.wants_sails_010());
        assert_eq!(legacy.app_token, "x");
    }
}

//! Classification: why an attempt or a connection ended, which HTTP statuses are worth
//! retrying and which failures are terminal. Every variant has a stable [`Code`].

use super::code::Code;
use super::event::Phase;

/// The [`Phase`]s of an attempt that make an HTTP request: where an HTTP error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpPhase {
    /// `POST tokenUrl` (or the app's `getToken`).
    Token,
    /// `POST /v1/session-tokens`.
    Session,
    /// `GET /socket.io/1/`.
    Handshake,
}

impl From<HttpPhase> for Phase {
    fn from(phase: HttpPhase) -> Phase {
        match phase {
            HttpPhase::Token => Phase::Token,
            HttpPhase::Session => Phase::Session,
            HttpPhase::Handshake => Phase::Handshake,
        }
    }
}

/// Something that ended an attempt or a live connection. A normal `disconnect()` is not one of
/// these: it is an event, not an error.
// Field names (status, phase, message, code) say what they hold.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The token endpoint refused the user (401/403): they must authenticate again. Terminal.
    #[error("the token endpoint refused the user (HTTP {status}): log in again")]
    TokenUnauthorized { status: u16 },
    /// The token endpoint answered another 4xx that retrying cannot fix. Terminal.
    #[error("the token endpoint rejected the request (HTTP {status})")]
    TokenRejected { status: u16 },
    /// An app-supplied `getToken` signalled that the user is not authorized. Terminal.
    #[error("getToken reported the user unauthorized: {message}")]
    TokenCallbackUnauthorized { message: String },
    /// An app-supplied `getToken` rejected.
    #[error("getToken failed: {message}")]
    TokenCallback { message: String },
    /// The token source returned a tokenId this client already used; it was not sent again.
    #[error("the token source returned a tokenId that was already used; not sending it again")]
    TokenReused,
    /// An HTTP step answered with a status worth retrying (408, 425, 429, 5xx).
    #[error("{phase:?} request failed with HTTP {status}")]
    Http { phase: HttpPhase, status: u16 },
    /// Respoke refused the tokenId (spent, expired or unknown) or the App-Token.
    #[error("Respoke rejected the {phase:?} request (HTTP {status})")]
    Rejected { phase: HttpPhase, status: u16 },
    /// The request never got an HTTP answer (network down, DNS, CORS, connection refused).
    #[error("{phase:?} request failed: {message}")]
    Network { phase: HttpPhase, message: String },
    /// The answer was not what the protocol says (not JSON, missing field, too large).
    #[error("{phase:?} response invalid: {message}")]
    InvalidResponse { phase: HttpPhase, message: String },
    /// The token fetch took longer than `tokenTimeoutMs`.
    #[error("the token request timed out")]
    TokenTimeout,
    /// The whole attempt took longer than `attemptTimeoutMs`.
    #[error("the connection attempt timed out")]
    AttemptTimeout,
    /// `post /v1/connections` was answered with an error.
    #[error("Respoke refused to register the connection (status {status}): {message}")]
    RegisterRejected { status: u16, message: String },
    /// The socket closed (or failed) without a `0::` from the server.
    #[error("the socket closed (code {code})")]
    SocketClosed { code: u16 },
    /// The server sent `0::`.
    #[error("the server ended the connection")]
    ServerDisconnect,
    /// The server sent a socket.io error packet (`7:::reason+advice`).
    #[error("the server reported a socket error (reason {reason})")]
    ServerError { reason: String },
    /// No packet at all within the heartbeat timeout from the handshake.
    #[error("no heartbeat from the server within {timeout_ms} ms")]
    HeartbeatTimeout { timeout_ms: u64 },
    /// A frame that is not socket.io 0.9 arrived.
    #[error("malformed frame from the server: {message}")]
    Protocol { message: String },
    /// `reconnect()` was called while connected.
    #[error("reconnect() was called")]
    ClientReconnect,
    /// The browser reported that it went offline.
    #[error("the browser went offline")]
    Offline,
    /// The page was hidden into the back/forward cache or unloaded; the client left cleanly.
    #[error("the page was hidden (back/forward cache or unload)")]
    PageHidden,
    /// The browser froze the page; the client left cleanly.
    #[error("the page was frozen")]
    PageFrozen,
    /// After a wake, the socket showed no sign of life within the verification timeout.
    #[error("the socket did not answer a liveness probe within {timeout_ms} ms")]
    Unresponsive { timeout_ms: u64 },
    /// The device woke from sleep (a wall-clock jump); the attempt under way was restarted.
    #[error("the device woke from sleep")]
    Wake,
}

impl Failure {
    /// The stable code the app sees.
    pub fn code(&self) -> Code {
        use Failure::*;
        use HttpPhase::*;
        match self {
            TokenUnauthorized { .. } | TokenCallbackUnauthorized { .. } => Code::TokenUnauthorized,
            TokenRejected { .. } | Rejected { phase: Token, .. } => Code::TokenRejected,
            TokenCallback { .. } => Code::TokenCallback,
            TokenReused => Code::TokenReused,
            Http { phase: Token, .. } => Code::TokenHttp,
            Http { phase: Session, .. } => Code::SessionHttp,
            Http {
                phase: Handshake, ..
            } => Code::HandshakeHttp,
            Rejected { phase: Session, .. } => Code::SessionRejected,
            Rejected {
                phase: Handshake, ..
            } => Code::HandshakeRejected,
            Network { phase: Token, .. } => Code::TokenNetwork,
            Network { phase: Session, .. } => Code::SessionNetwork,
            Network {
                phase: Handshake, ..
            } => Code::HandshakeNetwork,
            InvalidResponse { phase: Token, .. } => Code::TokenInvalidResponse,
            InvalidResponse { phase: Session, .. } => Code::SessionInvalidResponse,
            InvalidResponse {
                phase: Handshake, ..
            } => Code::HandshakeInvalidResponse,
            TokenTimeout => Code::TokenTimeout,
            AttemptTimeout => Code::AttemptTimeout,
            RegisterRejected { .. } => Code::RegisterRejected,
            SocketClosed { .. } => Code::SocketClosed,
            ServerDisconnect => Code::ServerDisconnect,
            ServerError { .. } => Code::ServerError,
            HeartbeatTimeout { .. } => Code::HeartbeatTimeout,
            Protocol { .. } => Code::ProtocolError,
            ClientReconnect => Code::ClientReconnect,
            Offline => Code::Offline,
            PageHidden => Code::PageHidden,
            PageFrozen => Code::PageFrozen,
            Unresponsive { .. } => Code::SocketUnresponsive,
            Wake => Code::Wake,
        }
    }

    /// The HTTP status behind the failure, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            Failure::TokenUnauthorized { status }
            | Failure::TokenRejected { status }
            | Failure::Http { status, .. }
            | Failure::Rejected { status, .. }
            | Failure::RegisterRejected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when retrying cannot help: the client goes to `failed` and sends nothing more.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Failure::TokenUnauthorized { .. }
                | Failure::TokenRejected { .. }
                | Failure::TokenCallbackUnauthorized { .. }
        )
    }

    /// True when the user must authenticate again before anything can work.
    pub fn needs_reauthentication(&self) -> bool {
        matches!(
            self,
            Failure::TokenUnauthorized { .. } | Failure::TokenCallbackUnauthorized { .. }
        )
    }
}

/// Classifies an HTTP error status from the app's token endpoint (PROTOCOL.md section 1):
/// 401/403 need a new login; 408, 425, 429 and 5xx are worth retrying; any other 4xx is a
/// request the app server will keep refusing.
pub fn classify_token_status(status: u16) -> Failure {
    match status {
        401 | 403 => Failure::TokenUnauthorized { status },
        408 | 425 | 429 => Failure::Http {
            phase: HttpPhase::Token,
            status,
        },
        400..=499 => Failure::TokenRejected { status },
        _ => Failure::Http {
            phase: HttpPhase::Token,
            status,
        },
    }
}

/// Classifies an HTTP error status from a Respoke step. Every one is retried with a fresh
/// token (a spent or expired tokenId, a stale App-Token and a restarting server all look alike
/// from here); 4xx are reported as rejections, the rest as server trouble.
pub fn classify_respoke_status(phase: HttpPhase, status: u16) -> Failure {
    match status {
        408 | 425 | 429 => Failure::Http { phase, status },
        400..=499 => Failure::Rejected { phase, status },
        _ => Failure::Http { phase, status },
    }
}

/// Options that cannot work; reported by `connect` before anything starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `baseUrl` is not `http(s)://host[:port]`.
    #[error("baseUrl must look like https://host[:port] with no path, got {0:?}")]
    BaseUrl(String),
    /// Neither `tokenUrl` nor `getToken` was given.
    #[error("either tokenUrl or getToken is required")]
    NoTokenSource,
    /// A numeric option is out of range.
    #[error("{name} is out of range: {reason}")]
    OutOfRange {
        /// The option's name as written in JS.
        name: &'static str,
        /// What is allowed.
        reason: &'static str,
    },
}

impl ConfigError {
    /// Stable code.
    pub fn code(&self) -> Code {
        Code::InvalidOptions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_statuses_are_classified() {
        for status in [401, 403] {
            let failure = classify_token_status(status);
            assert!(failure.is_terminal() && failure.needs_reauthentication());
            assert_eq!(failure.code(), Code::TokenUnauthorized);
        }
        for status in [400, 404, 410, 422] {
            let failure = classify_token_status(status);
            assert!(failure.is_terminal() && !failure.needs_reauthentication());
        }
        for status in [408, 425, 429, 500, 502, 503, 504, 302] {
            assert!(!classify_token_status(status).is_terminal(), "{status}");
        }
    }

    #[test]
    fn respoke_statuses_are_always_retried() {
        for status in [400, 401, 403, 404, 429, 500, 503] {
            for phase in [HttpPhase::Session, HttpPhase::Handshake] {
                assert!(!classify_respoke_status(phase, status).is_terminal());
            }
        }
        assert_eq!(
            classify_respoke_status(HttpPhase::Session, 401).code(),
            Code::SessionRejected
        );
        assert_eq!(
            classify_respoke_status(HttpPhase::Handshake, 403).code(),
            Code::HandshakeRejected
        );
        assert_eq!(
            classify_respoke_status(HttpPhase::Handshake, 503).code(),
            Code::HandshakeHttp
        );
    }
}

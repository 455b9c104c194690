//! The one error type of the protocol layer.

use thiserror::Error;

/// Anything that can be wrong with bytes read off the wire.
///
/// Every variant has a stable [`code`](ProtocolError::code) that logs, tests and the client's
/// JS errors can match on; the `Display` text is for people and may change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The packet text was empty.
    #[error("empty packet")]
    EmptyPacket,
    /// The packet did not match `<type>:<id>[+]:<endpoint>[:<data>]`.
    #[error("malformed packet: {0}")]
    MalformedPacket(String),
    /// The packet type was not one of 0-8.
    #[error("unknown packet type {0:?}")]
    UnknownPacketType(String),
    /// A message or ack id was not a number that fits in 64 bits.
    #[error("invalid packet id {0:?}")]
    InvalidId(String),
    /// The data of an ack packet (`<ackId>[+<args>]`) was malformed.
    #[error("malformed ack data: {0}")]
    MalformedAck(String),
    /// The data of an event packet was not `{"name": <string>, "args": [...]}`.
    #[error("malformed event data: {0}")]
    MalformedEvent(String),
    /// The handshake line was not `<sid>:<heartbeat>:<close>:<transports>`.
    #[error("malformed handshake: {0}")]
    MalformedHandshake(String),
    /// A Sails request envelope could not be understood.
    #[error("malformed sails request: {0}")]
    MalformedRequest(String),
    /// A Sails response (ack arguments) could not be understood.
    #[error("malformed sails response: {0}")]
    MalformedResponse(String),
    /// A REST body (JSON or form-encoded) could not be understood.
    #[error("malformed body: {0}")]
    MalformedBody(String),
}

impl ProtocolError {
    /// A stable, upper-case identifier for this kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::EmptyPacket => "EMPTY_PACKET",
            ProtocolError::MalformedPacket(_) => "MALFORMED_PACKET",
            ProtocolError::UnknownPacketType(_) => "UNKNOWN_PACKET_TYPE",
            ProtocolError::InvalidId(_) => "INVALID_PACKET_ID",
            ProtocolError::MalformedAck(_) => "MALFORMED_ACK",
            ProtocolError::MalformedEvent(_) => "MALFORMED_EVENT",
            ProtocolError::MalformedHandshake(_) => "MALFORMED_HANDSHAKE",
            ProtocolError::MalformedRequest(_) => "MALFORMED_REQUEST",
            ProtocolError::MalformedResponse(_) => "MALFORMED_RESPONSE",
            ProtocolError::MalformedBody(_) => "MALFORMED_BODY",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_distinct() {
        let all = [
            ProtocolError::EmptyPacket,
            ProtocolError::MalformedPacket(String::new()),
            ProtocolError::UnknownPacketType(String::new()),
            ProtocolError::InvalidId(String::new()),
            ProtocolError::MalformedAck(String::new()),
            ProtocolError::MalformedEvent(String::new()),
            ProtocolError::MalformedHandshake(String::new()),
            ProtocolError::MalformedRequest(String::new()),
            ProtocolError::MalformedResponse(String::new()),
            ProtocolError::MalformedBody(String::new()),
        ];
        let mut codes: Vec<_> = all.iter().map(|e| e.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert_eq!(ProtocolError::EmptyPacket.code(), "EMPTY_PACKET");
    }
}

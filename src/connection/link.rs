//! A socket that is open or opening, with what it needs to talk: every request frame the
//! client sends is stamped here, with its App-Token and `Respoke-SDK` headers and its ack id.

use respoke_protocol::sails::Request;

use super::command::ConnId;
use super::outbox::Outbox;
use super::token::Token;

#[derive(Debug)]
pub(crate) struct Link {
    pub conn: ConnId,
    pub app_token: Token,
    /// The handshake's heartbeat timeout: silence this long means the socket is dead.
    pub heartbeat_ms: u64,
    next_ack: u64,
}

impl Link {
    pub fn new(conn: ConnId, app_token: Token, heartbeat_ms: u64) -> Self {
        Link {
            conn,
            app_token,
            heartbeat_ms,
            next_ack: 1,
        }
    }

    /// Sends `request` with the session's headers and the next ack id; returns the ack id.
    pub fn send_request(&mut self, out: &mut Outbox, request: Request, sdk: &str) -> u64 {
        let ack = self.next_ack;
        self.next_ack += 1;
        let frame = request
            .with_header("App-Token", self.app_token.expose())
            .with_header("Respoke-SDK", sdk)
            .to_packet(ack)
            .encode();
        out.send(self.conn, frame);
        ack
    }
}

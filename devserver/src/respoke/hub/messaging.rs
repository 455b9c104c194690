//! The hub's 1:1 routing: text messages (`post /v1/messages`) and signals (`post
//! /v1/signaling`), with `toConnection`, `ccSelf` and the `connected` signal's fan-out (see the
//! [hub's semantics](super)).

use respoke_protocol::push::{MessageEvent, SendMessage, SendSignal, SignalEvent, SignalHeader};
use respoke_protocol::PushEvent;

use super::{Delivery, Hub, SocketId};

/// Whether a signal's text is respoke.js's `connected` signal (`{"signalType": "connected",
/// ...}`); the server reads nothing else of a signal.
pub(super) fn is_connected_signal(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|signal| {
        signal.get("signalType").and_then(serde_json::Value::as_str) == Some("connected")
    })
}

impl Hub {
    /// Recipients of a 1:1 send: the sockets of `to` (only `to_connection`'s if given), and
    /// with `cc_self` the sender's other sockets (marked `true`).
    fn recipients(
        &self,
        sender: SocketId,
        to: &str,
        to_connection: Option<&str>,
        cc_self: bool,
    ) -> Vec<(SocketId, bool)> {
        let Some(app_id) = self.app_of(sender) else {
            return Vec::new();
        };
        let mut recipients: Vec<(SocketId, bool)> = self
            .sockets_of(app_id, to)
            .filter(|id| {
                to_connection.map_or(true, |wanted| self.connection_id(*id) == Some(wanted))
            })
            .map(|id| (id, false))
            .collect();
        if cc_self {
            if let Some(own) = self.connections.get(&sender) {
                let copies: Vec<SocketId> = self
                    .sockets_of(app_id, &own.endpoint_id)
                    .filter(|id| *id != sender && !recipients.iter().any(|(r, _)| r == id))
                    .collect();
                recipients.extend(copies.into_iter().map(|id| (id, true)));
            }
        }
        recipients
    }

    /// `post /v1/messages` from `sender`: a `message` event to each recipient.
    pub fn send_message(
        &self,
        sender: SocketId,
        message: &SendMessage,
        now_ms: u64,
    ) -> Vec<Delivery> {
        let Some(from) = self.connections.get(&sender) else {
            return Vec::new();
        };
        self.recipients(
            sender,
            &message.to,
            message.to_connection.as_deref(),
            message.cc_self == Some(true),
        )
        .into_iter()
        .map(|(socket, copy)| {
            let mut event = MessageEvent::new(
                &from.endpoint_id,
                &from.connection_id,
                now_ms,
                &message.message,
            );
            if copy {
                event.header.to_original = Some(message.to.clone());
            }
            Delivery {
                socket,
                event: PushEvent::Message(event),
            }
        })
        .collect()
    }

    /// `post /v1/signaling` from `sender`: a `signal` event to each recipient. A `connected`
    /// signal addressed to one connection also goes to the recipient's other connections
    /// (not to the sending socket): respoke.js's losing connections hang up when they read
    /// that another connection won the call.
    pub fn send_signal(&self, sender: SocketId, signal: &SendSignal, now_ms: u64) -> Vec<Delivery> {
        let Some(from) = self.connections.get(&sender) else {
            return Vec::new();
        };
        let mut recipients = self.recipients(
            sender,
            &signal.to,
            signal.to_connection.as_deref(),
            signal.cc_self == Some(true),
        );
        if signal.to_connection.is_some() && is_connected_signal(&signal.signal) {
            let others: Vec<SocketId> = self
                .sockets_of(&from.app_id, &signal.to)
                .filter(|id| *id != sender && !recipients.iter().any(|(r, _)| r == id))
                .collect();
            recipients.extend(others.into_iter().map(|id| (id, false)));
        }
        recipients
            .into_iter()
            .map(|(socket, copy)| Delivery {
                socket,
                event: PushEvent::Signal(SignalEvent {
                    header: SignalHeader {
                        from: from.endpoint_id.clone(),
                        from_type: Some("web".into()),
                        from_connection: from.connection_id.clone(),
                        timestamp: now_ms,
                        to_original: copy.then(|| signal.to.clone()),
                    },
                    body: signal.signal.clone(),
                }),
            })
            .collect()
    }
}

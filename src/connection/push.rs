//! Server pushes as app events: messages, presence, group joins and leaves, publications. A
//! malformed push is an `error` event and the connection goes on; signals (WebRTC) and unknown
//! events are not part of this client's API.

use respoke_protocol::packet::Packet;
use respoke_protocol::push::{PushEvent, EVENT_JOIN};

use super::code::Code;
use super::event::Event;

/// The app event a pushed `packet` stands for, if any.
pub(crate) fn app_event(packet: &Packet) -> Option<Event> {
    let push = match PushEvent::from_packet(packet) {
        Ok(Some(push)) => push,
        Ok(None) => return None,
        Err(error) => {
            return Some(Event::Error {
                code: Code::ProtocolError,
                message: error.to_string(),
                status: None,
                retry: true,
            })
        }
    };
    Some(match push {
        PushEvent::Message(m) => Event::Message {
            from: m.header.from,
            from_connection: m.header.from_connection,
            timestamp: m.header.timestamp,
            message: m.body,
        },
        PushEvent::Presence(p) => Event::Presence {
            from: p.header.from,
            from_connection: p.header.from_connection,
            presence: p.presence,
            show: p.show,
            status: p.status,
        },
        PushEvent::Join(j) | PushEvent::Leave(j) => {
            let group = j.header.channel;
            let (endpoint_id, connection_id) = (j.endpoint_id, j.connection_id);
            if j.header.kind == EVENT_JOIN {
                Event::Join {
                    group,
                    endpoint_id,
                    connection_id,
                }
            } else {
                Event::Leave {
                    group,
                    endpoint_id,
                    connection_id,
                }
            }
        }
        PushEvent::PubSub(p) => Event::Pubsub {
            group: p.header.channel,
            from: p.header.from,
            from_connection: p.header.from_connection,
            timestamp: p.header.timestamp,
            message: p.message,
        },
        PushEvent::Signal(_) => return None,
    })
}

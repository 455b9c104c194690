//! The Respoke wire protocol, as pure types and functions: no IO, no async, no clock.
//!
//! Shared by the browser client (compiled to wasm32) and the dev server. Layers:
//!
//! * [`packet`]: socket.io 0.9 packet framing, `<type>:<id>[+]:<endpoint>[:<data>]`. Data is
//!   kept as raw text, so this layer needs no JSON parser.
//! * [`event`]: the JSON inside event packets (`{"name","args"}`) and ack packets (`[...]`).
//! * [`handshake`]: the handshake reply line `sid:hb:close:transports` and the query/paths.
//! * [`sails`]: REST over the socket: [`sails::Request`] events and [`sails::Response`] acks.
//! * [`rest`]: bodies of `/v1/tokens` and `/v1/session-tokens`, and the `{"error"}` body.
//! * [`push`]: using the session: bodies of `/v1/messages`, `/v1/groups`, `/v1/channels`,
//!   `/v1/presence`, `/v1/presenceobservers`, `/v1/signaling`, and the events the server pushes
//!   (`message`, `presence`, `join`, `leave`, `pubsub`, `signal`).
//! * [`query`]: percent-encoding as browsers do it.
//!
//! Every failure is a [`ProtocolError`] with a stable [`ProtocolError::code`]. Nothing here
//! panics on input from the network.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod error;
pub mod event;
pub mod handshake;
pub mod packet;
pub mod push;
pub mod query;
pub mod rest;
pub mod sails;

pub use error::ProtocolError;
pub use event::EventData;
pub use handshake::{Handshake, HandshakeQuery};
pub use packet::Packet;
pub use push::PushEvent;
pub use sails::{Headers, Method, Request, Response};

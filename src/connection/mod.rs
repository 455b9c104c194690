//! The sans-IO connection core: a pure state machine, no web-sys, no clock, no IO.
//!
//! The caller feeds it input with the current time and drains what it wants done:
//!
//! * input: [`Machine::start`], [`Machine::disconnect`], [`Machine::reconnect`] (from the app);
//!   [`Machine::handle_wake`] and [`Machine::handle_clock`] (page lifecycle, network, sleep);
//!   [`Machine::handle_http`], [`Machine::handle_token`], [`Machine::handle_socket_open`],
//!   [`Machine::handle_socket_message`], [`Machine::handle_socket_close`] (from the shell);
//!   [`Machine::handle_timeout`] (when [`Machine::poll_timeout`] is due).
//! * output: [`Machine::poll_command`] (HTTP, `getToken`, WebSocket work for the shell),
//!   [`Machine::poll_event`] (for the app), [`Machine::poll_timeout`].
//!
//! **Drain rule:** after any input, drain `poll_command` and `poll_event` until they return
//! `None`, then re-arm the one timer from `poll_timeout`. Commands must be performed in order.
//!
//! Invariants (property-tested in `tests/core_properties.rs`): a tokenId is sent at most once;
//! at most one socket is open; nothing is sent after `failed` or `closed` except the teardown
//! emitted by `disconnect()` itself; input tagged with a stale id changes nothing; every delay
//! lies within its backoff window (plus a clamped `Retry-After`).

pub mod backoff;
pub mod calls;
pub mod config;
pub mod error;
pub mod machine;
pub mod retry_after;
pub mod time;
pub mod timer;
pub mod token;

pub use backoff::{BackoffConfig, Rng};
pub use calls::{CallError, CallId};
pub use config::{Config, Credentials, TokenSource, DEFAULT_BASE_URL};
pub use error::{ConfigError, Failure, Stage};
pub use machine::{
    Command, ConnId, Event, HttpError, HttpMethod, HttpRequest, HttpResponse, Machine, Phase,
    RequestId, State, Stats, TokenCallbackError, WaitingFor, Wake, CLOCK_JUMP_MS, PROBE_PATH,
};
pub use respoke_protocol::sails::Method;
pub use time::Instant;
pub use token::Token;

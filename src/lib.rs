//! respoke-client: a reconnecting, brokered-token Respoke client for the browser.
//!
//! * [`connection`]: the sans-IO connection state machine (states, backoff, retry decisions,
//!   timeouts, token bookkeeping). Pure Rust, tested natively.
//! * `browser` (wasm32 only): the thin shell that performs the core's commands with fetch,
//!   WebSocket and timers, and the JS API (`connect`, `Client`).
//! * [`rust`] (wasm32 only): the typed Rust API for Rust front-ends: [`connection::Config`] as the
//!   options, events as a `Stream` of Rust enums, `async` methods returning
//!   `Result<_, rust::RespokeError>`.
#![warn(missing_docs)]

pub mod connection;

#[cfg(target_arch = "wasm32")]
mod browser;

#[cfg(target_arch = "wasm32")]
pub use browser::{connect, debug_counters, listener_count, Client};

#[cfg(target_arch = "wasm32")]
pub use browser::rust_api as rust;

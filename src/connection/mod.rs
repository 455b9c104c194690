//! The sans-IO connection core: a pure state machine, no web-sys, no clock, no IO.
//!
//! # The contract
//!
//! Every input carries the time on both clocks, [`Now`] (monotonic for deadlines, wall clock
//! for sleep detection and HTTP-date `Retry-After`):
//!
//! * [`Machine::handle_input`] takes an [`Input`]: the app's `start`/`disconnect`/`reconnect`,
//!   the shell's answers (HTTP, `getToken`, socket open/frame/close), an [`Environment`] change,
//!   or [`Input::Timeout`] when the deadline is due;
//! * [`Machine::call`] takes the app's requests over the socket ([`AppCall`]).
//!
//! Before any input is handled, the deadlines due at its time fire and a wall-clock jump is
//! treated as a wake from sleep; input for a request or socket that is no longer current is
//! dropped. After it, [`Machine::drain`] (a loop over [`Machine::poll_output`]) hands every
//! command and event to a [`Sink`] in order and returns the next deadline. The browser shell,
//! the test harness (`tests/support`) and the herd benchmark all drive it this way and no
//! other.
//!
//! Invariants (property-tested in `tests/core_properties.rs`): a tokenId is sent at most once;
//! at most one socket is open; nothing is sent after `failed` or `closed` except the teardown
//! emitted by `disconnect()` itself; input tagged with a stale id changes nothing; every delay
//! lies within its backoff window (plus a clamped `Retry-After`).
//!
//! # Where each decision lives
//!
//! | decision | file |
//! |---|---|
//! | the state, input dispatch, stale input | `machine.rs` |
//! | what an attempt's outcome or a lost connection leads to | `machine/outcome.rs` |
//! | what a wake does to the current state | `machine/wakes.rs` |
//! | the attempt's phases and the requests of each (token, session, handshake, socket, register) | `attempt.rs` |
//! | classification: which statuses and failures are retried, which are terminal | `error.rs` |
//! | backoff: the jitter window and its growth | `backoff.rs` |
//! | retry bookkeeping: attempt numbers, the failure count and when it resets, Retry-After as a floor | `retry.rs`, `retry_after.rs` |
//! | token single use: the ledger of tokenIds already sent | `token.rs` |
//! | wake policy: offline, hidden, frozen, back/forward cache, sleep | `environment.rs` |
//! | queue policy and delivery guarantees of requests over the socket | `calls.rs` |
//! | what is restored after a reconnect | `restore.rs` |
//! | server pushes as app events | `push.rs` |
//! | event names, the state, the counters | `event.rs` |
//! | every stable code | `code.rs` |
//! | wire format: request frames and their headers | `link.rs`, `wire.rs` (packets are `respoke_protocol`'s) |
//! | the commands for the shell | `command.rs` |
//! | the named timers | `timer.rs` |
//! | defaults and validation of the options | `config.rs` |

mod attempt;
pub mod backoff;
mod calls;
mod code;
mod command;
pub mod config;
mod environment;
pub mod error;
mod event;
mod io;
mod link;
mod machine;
mod outbox;
mod push;
mod restore;
mod retry;
pub mod retry_after;
pub mod time;
mod timer;
pub mod token;
mod wire;

pub use backoff::{BackoffConfig, Rng};
pub use calls::{AppCall, CLOSED_MESSAGE};
pub use code::{Code, CodeGroup};
pub use command::{
    Command, ConnId, HttpError, HttpMethod, HttpRequest, HttpResponse, RequestId,
    TokenCallbackError,
};
pub use config::{Config, Credentials, TokenSource, DEFAULT_BASE_URL};
pub use environment::{Environment, CLOCK_JUMP_MS};
pub use error::{ConfigError, Failure, HttpPhase};
pub use event::{CallError, CallId, Event, EventName, Phase, State, Stats, WaitingFor};
pub use io::{Input, Now, Output, Sink};
pub use machine::{Machine, PROBE_PATH};
pub use respoke_protocol::sails::Method;
pub use time::Instant;
pub use token::Token;

//! The machine's one contract: every input carries the time on both clocks ([`Now`]); after it,
//! [`Machine::drain`](super::Machine::drain) hands out every command and event in order and
//! returns the next deadline, at which the caller feeds [`Input::Timeout`].

use super::command::{Command, ConnId, HttpError, HttpResponse, RequestId, TokenCallbackError};
use super::environment::Environment;
use super::event::Event;
use super::time::Instant;

/// The time of an input, on both clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Monotonic milliseconds (`performance.now()` in the shell, virtual time in tests):
    /// every deadline is on this clock.
    pub monotonic: Instant,
    /// Wall-clock Unix milliseconds (`Date.now()`): read for sleep detection (it runs on while
    /// the monotonic clock may stop) and HTTP-date `Retry-After`.
    pub wall_ms: u64,
}

impl Now {
    /// Both clocks' readings.
    pub fn new(monotonic: Instant, wall_ms: u64) -> Self {
        Now { monotonic, wall_ms }
    }
}

/// Everything that can happen to a connection, apart from the app's requests
/// ([`Machine::call`](super::Machine::call)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Start the first attempt (only from `idle`).
    Start,
    /// The app's `disconnect()`: end everything for good. Idempotent.
    Disconnect,
    /// The app's `reconnect()`: try now, with a fresh token and a fresh backoff; from `failed`
    /// this starts again. Nothing once `closed`.
    Reconnect,
    /// Time passed: the deadline [`Machine::drain`](super::Machine::drain) returned is due.
    /// (Every input fires the deadlines due at its time first; this one carries nothing else.)
    Timeout,
    /// The network, the page or the device changed.
    Environment(Environment),
    /// The answer to [`Command::Http`].
    Http {
        /// The request's tag.
        id: RequestId,
        /// What the shell read.
        result: Result<HttpResponse, HttpError>,
    },
    /// The answer of the app's `getToken` to [`Command::GetToken`].
    Token {
        /// The call's tag.
        id: RequestId,
        /// The token, or why there is none.
        result: Result<String, TokenCallbackError>,
    },
    /// The socket opened.
    SocketOpen {
        /// The socket.
        id: ConnId,
    },
    /// A text frame arrived.
    SocketMessage {
        /// The socket.
        id: ConnId,
        /// The frame.
        text: String,
    },
    /// The socket closed (or failed, which browsers follow with a close).
    SocketClose {
        /// The socket.
        id: ConnId,
        /// The close code.
        code: u16,
    },
}

/// One thing the machine has to say.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// For the shell to perform, in order.
    Command(Command),
    /// For the app (or, [`Event::Reply`], for the shell to settle a request).
    Event(Event),
    /// Nothing more to say: call back with [`Input::Timeout`] at this deadline, if any.
    Timeout(Option<Instant>),
}

/// Who performs the machine's output (the browser shell, the test harness, the herd).
pub trait Sink {
    /// Perform `command`; its answer comes back as an [`Input`] later.
    fn command(&mut self, command: Command);
    /// Hand `event` to the app.
    fn event(&mut self, event: Event);
}

//! Requests over the socket (Sails over socket.io): the bounded queue of requests made while
//! disconnected, the requests in flight with their ack ids and deadlines, and how each ends.
//!
//! Delivery guarantees (also in the README):
//! * A request made while connected is sent at once and settles exactly once: with the answer
//!   body, or with `REQUEST_FAILED` (the server answered an error), `REQUEST_TIMEOUT` (no ack
//!   within `requestTimeoutMs`) or `DISCONNECTED` (the socket went away first; the server may or
//!   may not have processed it, so it is not re-sent: at most once).
//! * A request made while not connected waits in a queue of at most `queueSize` entries for at
//!   most `queueMaxAgeMs`, and is sent in order after the next connect; past either limit it is
//!   rejected (`QUEUE_FULL`, `QUEUE_TIMEOUT`). With `queueSize: 0` it is rejected at once with
//!   `DISCONNECTED`.
//! * `disconnect()` rejects everything pending with `CLOSED`; a terminal failure with `FAILED`.

use std::collections::VecDeque;

use respoke_protocol::sails::Method;
use serde::Serialize;
use serde_json::Value;

use super::time::Instant;

/// Identifies one request made by the app; its outcome is an [`super::Event::Reply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct CallId(pub u64);

/// Why a request did not get an answer body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallError {
    /// Stable code: `REQUEST_FAILED`, `REQUEST_TIMEOUT`, `DISCONNECTED`, `QUEUE_FULL`,
    /// `QUEUE_TIMEOUT`, `CLOSED`, `FAILED`, `INVALID_ARGUMENT`.
    pub code: &'static str,
    /// Human-readable.
    pub message: String,
    /// The answer's status code, for `REQUEST_FAILED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl CallError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        CallError {
            code,
            message: message.into(),
            status: None,
        }
    }
}

/// What the client remembers once a request succeeded (to restore it after a reconnect).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    None,
    Joined(Vec<String>),
}

/// One request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    /// `None` for the client's own restore requests (no promise waits on them).
    pub id: Option<CallId>,
    pub method: Method,
    pub url: String,
    pub data: Value,
    pub effect: Effect,
}

#[derive(Debug)]
pub(crate) struct InFlight {
    pub ack: u64,
    pub call: Call,
    pub deadline: Instant,
}

/// The queue and the requests in flight on the current socket.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    pub queue: VecDeque<(Call, Instant)>,
    pub in_flight: Vec<InFlight>,
    next_id: u64,
}

impl Calls {
    pub fn next_id(&mut self) -> CallId {
        self.next_id += 1;
        CallId(self.next_id)
    }

    /// The earliest deadline: a request in flight timing out, or the oldest queued one
    /// expiring.
    pub fn next_deadline(&self, max_age_ms: u64) -> Option<Instant> {
        let queued = self.queue.front().map(|(_, since)| *since + max_age_ms);
        let flying = self.in_flight.iter().map(|f| f.deadline).min();
        queued.into_iter().chain(flying).min()
    }

    /// Removes the in-flight request answered by `ack`.
    pub fn take_in_flight(&mut self, ack: u64) -> Option<InFlight> {
        let index = self.in_flight.iter().position(|f| f.ack == ack)?;
        Some(self.in_flight.swap_remove(index))
    }

    /// Removes every in-flight request whose deadline passed.
    pub fn take_timed_out(&mut self, now: Instant) -> Vec<InFlight> {
        let (late, on_time) = std::mem::take(&mut self.in_flight)
            .into_iter()
            .partition(|f| f.deadline <= now);
        self.in_flight = on_time;
        late
    }

    /// Removes every queued request older than `max_age_ms`.
    pub fn take_expired(&mut self, now: Instant, max_age_ms: u64) -> Vec<Call> {
        let mut expired = Vec::new();
        while self
            .queue
            .front()
            .is_some_and(|(_, since)| *since + max_age_ms <= now)
        {
            if let Some((call, _)) = self.queue.pop_front() {
                expired.push(call);
            }
        }
        expired
    }
}

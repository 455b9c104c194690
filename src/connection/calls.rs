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

use respoke_protocol::push::publish_path;
use respoke_protocol::sails::{Method, Request, Response};
use serde_json::Value;

use super::code::Code;
use super::config::Config;
use super::event::{CallError, CallId, Event};
use super::link::Link;
use super::outbox::Outbox;
use super::time::Instant;
use super::wire::{object, strings};

/// The message of every `CLOSED` error: the client was disconnected (or, in the shell, freed).
pub const CLOSED_MESSAGE: &str = "the client was disconnected";

/// A request the app makes over the socket (the input of [`super::Machine::call`]).
#[derive(Debug, Clone, PartialEq)]
pub enum AppCall {
    /// Any Respoke REST call, `url` a path like `/v1/messages`.
    Request {
        /// The verb.
        method: Method,
        /// The path.
        url: String,
        /// The body.
        data: Value,
    },
    /// `post /v1/messages`: a 1:1 text message to every connection of `to`.
    SendMessage {
        /// The endpointId.
        to: String,
        /// The text.
        message: String,
    },
    /// `post /v1/presence`: `"available"` or `{type, show?, status?}`; restored after every
    /// reconnect.
    SetPresence(Value),
    /// `post /v1/groups/`: rejoined after every reconnect once it succeeded.
    Join(String),
    /// `delete /v1/groups/` (and no more rejoining).
    Leave(String),
    /// `post /v1/channels/<group>/publish/`.
    Publish {
        /// The group.
        group: String,
        /// The text.
        message: String,
    },
    /// `post /v1/presenceobservers`: `presence` events of these endpoints; restored after
    /// every reconnect.
    ObservePresence(Vec<String>),
}

impl AppCall {
    /// The REST call it makes, and what it means for the restore after a reconnect.
    pub(crate) fn into_call(self, id: CallId) -> Result<Call, CallError> {
        let (method, url, data, effect) = match self {
            AppCall::Request { method, url, data } => (method, url, data, Effect::None),
            AppCall::SendMessage { to, message } => {
                // `SendMessage::new(to, message)` as JSON (no option set); a test pins it.
                let data = object([("to", to.into()), ("message", message.into())]);
                (Method::Post, "/v1/messages".into(), data, Effect::None)
            }
            AppCall::SetPresence(presence) => {
                let presence = match presence {
                    Value::String(kind) => object([("type", Value::String(kind))]),
                    Value::Object(map) if map.get("type").is_some_and(Value::is_string) => {
                        Value::Object(map)
                    }
                    _ => {
                        let message = "presence must be a string or {type: string}";
                        return Err(CallError::new(Code::InvalidArgument, message));
                    }
                };
                let data = object([("presence", presence.clone())]);
                (
                    Method::Post,
                    "/v1/presence".into(),
                    data,
                    Effect::Presence(presence),
                )
            }
            AppCall::Join(group) => {
                let data = object([("groups", strings([&group]))]);
                let effect = Effect::Joined(vec![group]);
                (Method::Post, "/v1/groups/".into(), data, effect)
            }
            AppCall::Leave(group) => {
                let data = object([("groups", strings([&group]))]);
                (
                    Method::Delete,
                    "/v1/groups/".into(),
                    data,
                    Effect::Left(group),
                )
            }
            AppCall::Publish { group, message } => {
                let data = object([("message", message.into()), ("push", false.into())]);
                (Method::Post, publish_path(&group), data, Effect::None)
            }
            AppCall::ObservePresence(endpoint_ids) => {
                let data = object([("endpointList", strings(&endpoint_ids))]);
                let url = "/v1/presenceobservers".into();
                (Method::Post, url, data, Effect::Observed(endpoint_ids))
            }
        };
        Ok(Call {
            id: Some(id),
            method,
            url,
            data,
            effect,
        })
    }
}

/// What a request means for the restore after a reconnect (`restore.rs` decides when it counts).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    None,
    /// Set presence (remembered when made).
    Presence(Value),
    /// Joined groups (remembered once the server said yes).
    Joined(Vec<String>),
    /// Left a group (forgotten when made).
    Left(String),
    /// Observed endpoints (remembered when made).
    Observed(Vec<String>),
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
    queue: VecDeque<(Call, Instant)>,
    in_flight: Vec<InFlight>,
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

    /// Sends `call` on the live socket; it waits for its ack until `requestTimeoutMs`.
    pub fn send(
        &mut self,
        out: &mut Outbox,
        link: &mut Link,
        call: Call,
        now: Instant,
        config: &Config,
    ) {
        let request = Request::new(call.method, call.url.clone()).with_data(call.data.clone());
        let ack = link.send_request(out, request, &config.sdk);
        let deadline = now + config.request_timeout_ms;
        self.in_flight.push(InFlight {
            ack,
            call,
            deadline,
        });
    }

    /// Keeps `call` for the next connect, unless the queue policy refuses it.
    pub fn enqueue(&mut self, out: &mut Outbox, call: Call, now: Instant, config: &Config) {
        let refusal = if config.queue_size == 0 {
            CallError::new(Code::Disconnected, "not connected (queueSize is 0)")
        } else if self.queue.len() >= config.queue_size {
            let waiting = config.queue_size;
            let message = format!("{waiting} requests already wait for the connection");
            CallError::new(Code::QueueFull, message)
        } else {
            self.queue.push_back((call, now));
            return;
        };
        report(out, &call, Err(refusal));
    }

    /// The ack of a request in flight arrived. Returns the request's effect when it succeeded.
    pub fn answered(&mut self, out: &mut Outbox, ack: u64, args: &str) -> Option<Effect> {
        let index = self.in_flight.iter().position(|f| f.ack == ack)?;
        let flight = self.in_flight.swap_remove(index);
        let result = match Response::parse_ack_args(args) {
            Ok(response) if !response.is_error() && response.status_code < 400 => Ok(response.body),
            Ok(response) => Err(CallError {
                code: Code::RequestFailed,
                message: response
                    .error_message()
                    .unwrap_or_else(|| format!("status {}", response.status_code)),
                status: Some(response.status_code),
            }),
            Err(error) => Err(CallError::new(Code::RequestFailed, error.to_string())),
        };
        let succeeded = result.is_ok();
        report(out, &flight.call, result);
        succeeded.then_some(flight.call.effect)
    }

    /// Rejects every request in flight whose deadline passed, and every queued one too old.
    pub fn expire(&mut self, out: &mut Outbox, now: Instant, config: &Config) {
        let (late, on_time) = std::mem::take(&mut self.in_flight)
            .into_iter()
            .partition(|f| f.deadline <= now);
        self.in_flight = on_time;
        for flight in late {
            let message = format!("no answer within {} ms", config.request_timeout_ms);
            report(
                out,
                &flight.call,
                Err(CallError::new(Code::RequestTimeout, message)),
            );
        }
        self.expire_queue(out, now, config.queue_max_age_ms);
    }

    fn expire_queue(&mut self, out: &mut Outbox, now: Instant, max_age_ms: u64) {
        while self
            .queue
            .front()
            .is_some_and(|(_, since)| *since + max_age_ms <= now)
        {
            if let Some((call, _)) = self.queue.pop_front() {
                let message = format!("not connected within {max_age_ms} ms");
                report(out, &call, Err(CallError::new(Code::QueueTimeout, message)));
            }
        }
    }

    /// After a connect: the queued requests still young enough go out in order.
    pub fn flush(&mut self, out: &mut Outbox, link: &mut Link, now: Instant, config: &Config) {
        self.expire_queue(out, now, config.queue_max_age_ms);
        while let Some((call, _)) = self.queue.pop_front() {
            self.send(out, link, call, now, config);
        }
    }

    /// The socket is gone: requests sent and unanswered may or may not have been acted on, so
    /// they are rejected rather than sent again (at most once).
    pub fn lose_in_flight(&mut self, out: &mut Outbox) {
        for flight in std::mem::take(&mut self.in_flight) {
            let message = "the connection was lost before the answer arrived";
            report(
                out,
                &flight.call,
                Err(CallError::new(Code::Disconnected, message)),
            );
        }
    }

    /// Rejects everything in flight and queued (`disconnect()`, a terminal failure).
    pub fn reject_all(&mut self, out: &mut Outbox, code: Code, message: &str) {
        let in_flight = std::mem::take(&mut self.in_flight);
        let queued = std::mem::take(&mut self.queue);
        let calls = in_flight
            .into_iter()
            .map(|flight| flight.call)
            .chain(queued.into_iter().map(|(call, _)| call));
        for call in calls {
            report(out, &call, Err(CallError::new(code, message)));
        }
    }
}

/// Reports a request's outcome: to its promise, or for the client's own restore requests an
/// `error` event when they fail.
pub(crate) fn report(out: &mut Outbox, call: &Call, result: Result<Value, CallError>) {
    match (call.id, result) {
        (Some(id), result) => out.event(Event::Reply { id, result }),
        (None, Ok(_)) => {}
        (None, Err(error)) if error.code == Code::Disconnected => {}
        (None, Err(error)) => out.event(Event::Error {
            code: Code::RestoreFailed,
            message: format!(
                "restoring {} {} failed: {}",
                call.method, call.url, error.message
            ),
            status: error.status,
            retry: true,
        }),
    }
}

//! One socket's rules, sans IO: `1::` first, the heartbeat, the silence timeout, the App-Token
//! expiry, the dev controls' stall and ack delay, and the slow-consumer bound.
//!
//! A plain struct in the manner of quinn-proto and str0m: no socket, no clock, no async. The
//! socket task ([`crate::respoke::socket::run_socket`]) feeds it what happened, with the
//! current time:
//!
//! * [`Session::handle_frame`]: a text frame from the client (answered by a responder the
//!   caller passes, so that what the requests do stays out of here),
//! * [`Session::handle_pushed`]: a packet another part of the server queued for this socket,
//! * [`Session::handle_close_request`] and [`Session::handle_read_end`]: the server or the
//!   client ending it,
//! * [`Session::handle_timeout`]: the deadline of [`Session::poll_timeout`] passed,
//!
//! and after each input drains [`Session::poll_action`] until it returns `None`: packets to
//! write, in order, then at most one [`Action::Close`], after which the session takes no more
//! input. [`Session::reading_paused`] says whether to read the client's frames at all.
//!
//! The dev controls that apply to the socket's endpoint right now ([`Controls`]) are passed
//! in with every input, so a `/dev/stall` or `/dev/ack-delay` takes effect at once.
//!
//! Every packet handed out in [`Action::Write`] has its room reserved in the socket's
//! [`Budget`] (shared with the inbox other producers fill), so everything waiting to be
//! written is bounded; a packet that finds no room ends the session as a slow consumer.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use respoke_protocol::Packet;

use crate::respoke::outbox::{Budget, CloseReason, Outgoing};

/// The shortest heartbeat interval used, whatever is configured.
pub const MIN_HEARTBEAT_INTERVAL: Duration = Duration::from_millis(50);

/// The timing of one session.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How often the server sends `2::` (at least [`MIN_HEARTBEAT_INTERVAL`]).
    pub heartbeat_interval: Duration,
    /// The heartbeat timeout advertised in the handshake: the client is gone after that long
    /// (plus one interval of slack) without a packet.
    pub heartbeat_timeout: Duration,
    /// When the session's App-Token expires.
    pub expires_at: Instant,
}

/// The dev controls in force for the socket's endpoint at the time of an input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Controls {
    /// `/dev/stall`: the server neither reads nor writes (and sends no heartbeat).
    pub stalled: bool,
    /// `/dev/ack-delay`: acks are held back this long (in order); events overtake them.
    pub ack_delay: Option<Duration>,
}

/// What the requests of one frame asked for (see [`Session::handle_frame`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Nothing to write.
    Nothing,
    /// These acks, in order.
    Replies(Vec<String>),
    /// The client sent `0::`.
    Disconnect,
}

/// How the client's side of the socket ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadEnd {
    /// A close frame, or the stream ended.
    Closed,
    /// A frame or message over `--max-socket-message-bytes`.
    TooBig,
    /// Any other receive error.
    Failed,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The client closed the WebSocket.
    ClientClosed,
    /// The client sent `0::`.
    ClientDisconnected,
    /// The client sent a frame over the size bound.
    MessageTooBig,
    /// Reading from the client failed.
    ReceiveFailed,
    /// `/dev/drop`, `/dev/outage`, the server shutting down, or the inbox gone.
    Dropped,
    /// `DELETE /v1/session-tokens` ended the session.
    SessionEnded,
    /// The client does not read: its outgoing budget is spent.
    SlowConsumer,
    /// Nothing heard from the client for longer than the heartbeat timeout allows.
    HeartbeatTimeout,
    /// The App-Token expired.
    TokenExpired,
}

impl Ending {
    /// For logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Ending::ClientClosed => "client closed",
            Ending::ClientDisconnected => "client sent 0::",
            Ending::MessageTooBig => "message over --max-socket-message-bytes",
            Ending::ReceiveFailed => "receive failed",
            Ending::Dropped => CloseReason::Dropped.as_str(),
            Ending::SessionEnded => CloseReason::SessionEnded.as_str(),
            Ending::SlowConsumer => CloseReason::SlowConsumer.as_str(),
            Ending::HeartbeatTimeout => "heartbeat timeout",
            Ending::TokenExpired => "App-Token expired",
        }
    }

    /// Whether the packets still queued are written before closing (not for a slow consumer:
    /// it does not read).
    pub fn drains(self) -> bool {
        self != Ending::SlowConsumer
    }

    /// The last packet to write before the close frame: `0::`, unless the client ended the
    /// socket itself.
    pub fn farewell(self) -> Option<String> {
        match self {
            Ending::ClientClosed
            | Ending::ClientDisconnected
            | Ending::MessageTooBig
            | Ending::ReceiveFailed => None,
            _ => Some(Packet::disconnect().encode()),
        }
    }
}

impl From<CloseReason> for Ending {
    fn from(reason: CloseReason) -> Ending {
        match reason {
            CloseReason::Dropped => Ending::Dropped,
            CloseReason::SessionEnded => Ending::SessionEnded,
            CloseReason::SlowConsumer => Ending::SlowConsumer,
        }
    }
}

/// What the session asks the IO around it to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write this packet (its room in the budget is reserved; release it once written).
    Write(Outgoing),
    /// Close the socket; the session is over.
    Close(Ending),
}

/// One socket's session. See the [module docs](self).
#[derive(Debug)]
pub struct Session {
    budget: Arc<Budget>,
    heartbeat_interval: Duration,
    /// The advertised timeout plus one interval of slack.
    silence_limit: Duration,
    next_heartbeat: Instant,
    expires_at: Instant,
    last_heard: Instant,
    /// Acks held back by `/dev/ack-delay`, due in order (reserved against the budget).
    delayed: VecDeque<(Instant, String)>,
    actions: VecDeque<Action>,
    ended: Option<Ending>,
}

impl Session {
    /// A session whose socket opened at `now`: `1::` is the first packet (unless stalled).
    pub fn open(now: Instant, timing: Timing, budget: Arc<Budget>, controls: Controls) -> Session {
        let heartbeat_interval = timing.heartbeat_interval.max(MIN_HEARTBEAT_INTERVAL);
        let mut session = Session {
            budget,
            heartbeat_interval,
            silence_limit: timing.heartbeat_timeout.saturating_add(heartbeat_interval),
            next_heartbeat: now + heartbeat_interval,
            expires_at: timing.expires_at,
            last_heard: now,
            delayed: VecDeque::new(),
            actions: VecDeque::new(),
            ended: None,
        };
        if !controls.stalled {
            session.send(Packet::connect().encode());
        }
        session
    }

    /// Why the session ended, once it has.
    pub fn ending(&self) -> Option<Ending> {
        self.ended
    }

    /// Acks still held back by `/dev/ack-delay` (dropped if the session ends).
    pub fn held_acks(&self) -> usize {
        self.delayed.len()
    }

    /// Backpressure: while half the budget waits to be written, the client's own requests
    /// are not read (TCP slows it down; their acks would add to the backlog). Other
    /// producers' packets still count in full.
    pub fn reading_paused(&self) -> bool {
        self.budget.half_full()
    }

    /// The next deadline: a heartbeat, a held ack falling due, or the App-Token's expiry.
    /// `None` once the session ended.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.ended.is_some() {
            return None;
        }
        let mut next = self.next_heartbeat.min(self.expires_at);
        if let Some((due, _)) = self.delayed.front() {
            next = next.min(*due);
        }
        Some(next)
    }

    /// The next thing to do, in order; after an [`Action::Close`], nothing more.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// A text frame arrived at `now`. A stalled server ignores it (and does not count it as
    /// heard); otherwise `respond` answers its requests.
    pub fn handle_frame(
        &mut self,
        now: Instant,
        controls: Controls,
        frame: &str,
        respond: impl FnOnce(&str) -> Answer,
    ) {
        if self.ended.is_some() || controls.stalled {
            return;
        }
        self.last_heard = now;
        match respond(frame) {
            Answer::Nothing => {}
            Answer::Disconnect => self.end(Ending::ClientDisconnected),
            Answer::Replies(replies) => match controls.ack_delay {
                Some(delay) => self.hold(now, delay, replies),
                None => {
                    for reply in replies {
                        if !self.send(reply) {
                            break;
                        }
                    }
                }
            },
        }
    }

    /// A packet another producer queued (its room already reserved): written, or discarded
    /// while stalled.
    pub fn handle_pushed(&mut self, controls: Controls, packet: Outgoing) {
        if self.ended.is_some() || controls.stalled {
            self.budget.release(packet.text().len());
            return;
        }
        self.actions.push_back(Action::Write(packet));
    }

    /// The server asked the socket to close (`None`: its inbox is gone).
    pub fn handle_close_request(&mut self, reason: Option<CloseReason>) {
        self.end(reason.map_or(Ending::Dropped, Ending::from));
    }

    /// The client's side ended.
    pub fn handle_read_end(&mut self, end: ReadEnd) {
        self.end(match end {
            ReadEnd::Closed => Ending::ClientClosed,
            ReadEnd::TooBig => Ending::MessageTooBig,
            ReadEnd::Failed => Ending::ReceiveFailed,
        });
    }

    /// Time passed: held acks that fell due are written (discarded while stalled), the
    /// App-Token may have expired, and a heartbeat may be due. Early calls change nothing.
    pub fn handle_timeout(&mut self, now: Instant, controls: Controls) {
        if self.ended.is_some() {
            return;
        }
        while self.delayed.front().is_some_and(|(due, _)| *due <= now) {
            let Some((_, reply)) = self.delayed.pop_front() else {
                break;
            };
            if controls.stalled {
                self.budget.release(reply.len());
            } else {
                self.actions.push_back(Action::Write(Outgoing::Send(reply)));
            }
        }
        if now >= self.expires_at {
            self.end(Ending::TokenExpired);
            return;
        }
        if now < self.next_heartbeat {
            return;
        }
        // A late tick is not made up for: the next one is an interval after this one.
        self.next_heartbeat = now + self.heartbeat_interval;
        if controls.stalled {
            // A stalled server hears nothing, and must not time the client out for it.
            self.last_heard = now;
            return;
        }
        if now.saturating_duration_since(self.last_heard) > self.silence_limit {
            self.end(Ending::HeartbeatTimeout);
            return;
        }
        self.send(Packet::heartbeat().encode());
    }

    /// Queues one of the session's own packets; false (and the session ends as a slow
    /// consumer) when the budget is spent.
    fn send(&mut self, packet: String) -> bool {
        if !self.budget.try_reserve(packet.len()) {
            self.end(Ending::SlowConsumer);
            return false;
        }
        self.actions
            .push_back(Action::Write(Outgoing::Send(packet)));
        true
    }

    /// Holds `replies` back until `delay` from now, behind those already held.
    fn hold(&mut self, now: Instant, delay: Duration, replies: Vec<String>) {
        for reply in replies {
            if !self.budget.try_reserve(reply.len()) {
                self.end(Ending::SlowConsumer);
                return;
            }
            let due = self
                .delayed
                .back()
                .map_or(now + delay, |(last, _)| (*last).max(now + delay));
            self.delayed.push_back((due, reply));
        }
    }

    /// Ends the session (the first ending wins).
    fn end(&mut self, ending: Ending) {
        if self.ended.is_none() {
            self.ended = Some(ending);
            self.actions.push_back(Action::Close(ending));
        }
    }
}

#[cfg(test)]
mod tests;

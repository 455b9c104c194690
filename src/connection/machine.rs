//! The connection state machine: one attempt at a time, one socket at a time, one token per
//! attempt. It holds the state and dispatches input; each decision lives in the file named in
//! the crate docs (`mod.rs`).

use respoke_protocol::packet::Packet;
use respoke_protocol::sails::{Method, Request};

use super::attempt::{end_session, Attempt, Ctx, Ids};
use super::calls::{report, AppCall, Calls, CLOSED_MESSAGE};
use super::code::Code;
use super::command::Command;
use super::config::Config;
use super::environment::Conditions;
use super::error::Failure;
use super::event::{CallError, CallId, Event, Phase, State, Stats, WaitingFor};
use super::io::{Input, Now, Output, Sink};
use super::link::Link;
use super::outbox::Outbox;
use super::push;
use super::restore::Restore;
use super::retry::Retry;
use super::time::Instant;
use super::timer::{Timer, Timers};
use super::token::TokenLedger;

/// The path of the liveness probe sent after a wake. Any answer, even a 404 error ack, proves
/// the socket alive; so does any other packet.
pub const PROBE_PATH: &str = "/v1/ping";

/// A registered connection.
#[derive(Debug)]
struct Live {
    link: Link,
    endpoint_id: String,
    connection_id: String,
}

/// The state with what it holds.
#[derive(Debug)]
enum Status {
    Idle,
    Connecting(Attempt),
    Connected(Live),
    Waiting,
    Failed,
    Closed,
}

/// The parts of the machine an attempt transition uses, borrowed apart from `status`.
macro_rules! ctx {
    ($m:ident) => {
        Ctx {
            config: &$m.config,
            out: &mut $m.out,
            ids: &mut $m.ids,
            timers: &mut $m.timers,
            ledger: &mut $m.ledger,
            stats: &mut $m.stats,
        }
    };
}

mod outcome;
mod wakes;

/// The connection core. Feed it [`Input`]s (and the app's requests, [`Machine::call`]) with
/// the current time, then [`drain`](Self::drain) it.
#[derive(Debug)]
pub struct Machine {
    config: Config,
    status: Status,
    retry: Retry,
    timers: Timers,
    ids: Ids,
    ledger: TokenLedger,
    out: Outbox,
    stats: Stats,
    /// What the last `State` event said, to emit only changes.
    reported: (State, Option<Phase>, Option<WaitingFor>),
    conditions: Conditions,
    calls: Calls,
    restore: Restore,
}

impl Machine {
    /// A machine in `idle`. `seed` drives the jitter (the shell uses `crypto.getRandomValues`).
    pub fn new(config: Config, seed: u64) -> Self {
        Machine {
            config,
            status: Status::Idle,
            retry: Retry::new(seed),
            timers: Timers::default(),
            ids: Ids::default(),
            ledger: TokenLedger::default(),
            out: Outbox::default(),
            stats: Stats::default(),
            reported: (State::Idle, None, None),
            conditions: Conditions::default(),
            calls: Calls::default(),
            restore: Restore::default(),
        }
    }

    // ----- getters -------------------------------------------------------------------------

    /// The public state.
    pub fn state(&self) -> State {
        match self.status {
            Status::Idle => State::Idle,
            Status::Connecting(_) => State::Connecting,
            Status::Connected(_) => State::Connected,
            Status::Waiting => State::Waiting,
            Status::Failed => State::Failed,
            Status::Closed => State::Closed,
        }
    }

    /// The attempt's phase while connecting.
    pub fn phase(&self) -> Option<Phase> {
        match &self.status {
            Status::Connecting(attempt) => Some(attempt.phase()),
            _ => None,
        }
    }

    /// endpointId of the live connection.
    pub fn endpoint_id(&self) -> Option<&str> {
        match &self.status {
            Status::Connected(live) => Some(&live.endpoint_id),
            _ => None,
        }
    }

    /// connectionId of the live connection.
    pub fn connection_id(&self) -> Option<&str> {
        match &self.status {
            Status::Connected(live) => Some(&live.connection_id),
            _ => None,
        }
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    // ----- the contract --------------------------------------------------------------------

    /// Handles one input at `now`. Deadlines due at `now` fire first, and a wall clock that
    /// ran ahead of the monotonic one is a wake from sleep, so no input can skip either.
    /// Input for a request or socket that is no longer current is dropped here.
    pub fn handle_input(&mut self, now: Now, input: Input) {
        self.observe(now);
        let now = now.monotonic;
        if self.is_stale(&input) {
            return;
        }
        match input {
            Input::Start => self.start(now),
            Input::Disconnect => self.disconnect(now),
            Input::Reconnect => self.reconnect(now),
            Input::Timeout => {}
            Input::Environment(change) => {
                let reaction = self.conditions.apply(change);
                self.react(now, reaction);
            }
            Input::Http { result, .. } => self.progress(now, |a, ctx| a.on_http(ctx, result)),
            Input::Token { result, .. } => self.progress(now, |a, ctx| a.on_token(ctx, result)),
            Input::SocketOpen { .. } => self.heard_from_server(now),
            Input::SocketMessage { text, .. } => self.frame(now, &text),
            Input::SocketClose { code, .. } => self.lose(now, Failure::SocketClosed { code }),
        }
        self.arm_calls_timer();
    }

    /// Makes a request over the socket (see `calls.rs` for the delivery guarantees). Its
    /// outcome comes back as an [`Event::Reply`] with the returned id.
    pub fn call(&mut self, now: Now, call: AppCall) -> CallId {
        self.observe(now);
        let id = self.calls.next_id();
        match call.into_call(id) {
            Ok(call) => {
                self.restore.made(&call.effect);
                let now = now.monotonic;
                match &mut self.status {
                    Status::Connected(live) => {
                        self.calls
                            .send(&mut self.out, &mut live.link, call, now, &self.config)
                    }
                    Status::Closed => {
                        let error = CallError::new(Code::Closed, CLOSED_MESSAGE);
                        report(&mut self.out, &call, Err(error));
                    }
                    Status::Failed => {
                        let message = "the client failed; call reconnect()";
                        report(
                            &mut self.out,
                            &call,
                            Err(CallError::new(Code::Failed, message)),
                        );
                    }
                    _ => self.calls.enqueue(&mut self.out, call, now, &self.config),
                }
            }
            Err(error) => self.out.event(Event::Reply {
                id,
                result: Err(error),
            }),
        }
        self.arm_calls_timer();
        id
    }

    /// The next thing to say: commands and events in order, then the next deadline.
    pub fn poll_output(&mut self) -> Output {
        self.out
            .pop()
            .unwrap_or_else(|| Output::Timeout(self.timers.next()))
    }

    /// The drain loop, the one way to empty the machine after an input: every command and
    /// event to `sink` in order; returns when [`Input::Timeout`] is due next.
    pub fn drain(&mut self, sink: &mut impl Sink) -> Option<Instant> {
        loop {
            match self.poll_output() {
                Output::Command(command) => sink.command(command),
                Output::Event(event) => sink.event(event),
                Output::Timeout(deadline) => return deadline,
            }
        }
    }

    // ----- dispatch ------------------------------------------------------------------------

    fn is_stale(&self, input: &Input) -> bool {
        let attempt = match &self.status {
            Status::Connecting(attempt) => Some(attempt),
            _ => None,
        };
        match input {
            Input::Http { id, .. } => attempt.and_then(Attempt::request) != Some(*id),
            Input::Token { id, .. } => {
                !matches!(attempt, Some(Attempt::Token { req }) if req == id)
            }
            Input::SocketOpen { id }
            | Input::SocketMessage { id, .. }
            | Input::SocketClose { id, .. } => self.link().map(|link| link.conn) != Some(*id),
            _ => false,
        }
    }

    /// The clocks of an input: sleep detection, then every deadline due.
    fn observe(&mut self, now: Now) {
        if self.conditions.slept(now.monotonic, now.wall_ms) {
            self.woke_from_sleep(now.monotonic);
        }
        let now = now.monotonic;
        while let Some(timer) = self.timers.take_expired(now) {
            match timer {
                Timer::Token => {
                    if matches!(self.status, Status::Connecting(Attempt::Token { .. })) {
                        self.retry(now, Failure::TokenTimeout, None);
                    }
                }
                Timer::Attempt => {
                    if matches!(self.status, Status::Connecting(_)) {
                        self.retry(now, Failure::AttemptTimeout, None);
                    }
                }
                Timer::Backoff => {
                    if matches!(self.status, Status::Waiting) {
                        if self.blocked().is_some() {
                            // Deferred (hidden, offline): wait for the page or the network.
                            self.report_state(now, None);
                        } else {
                            self.begin_attempt(now);
                        }
                    }
                }
                Timer::Heartbeat => {
                    if let Some(timeout_ms) = self.link().map(|link| link.heartbeat_ms) {
                        self.lose(now, Failure::HeartbeatTimeout { timeout_ms });
                    }
                }
                Timer::Stable => self.retry.stable(),
                Timer::Calls => self.calls.expire(&mut self.out, now, &self.config),
                Timer::Verify => {
                    if let Status::Connected(live) = &self.status {
                        let timeout_ms = self.config.verify_timeout_ms.min(live.link.heartbeat_ms);
                        self.lose(now, Failure::Unresponsive { timeout_ms });
                    }
                }
            }
        }
    }

    /// A frame from the current socket.
    fn frame(&mut self, now: Instant, text: &str) {
        // Any packet at all proves the server alive (socket.io 0.9's rule).
        self.heard_from_server(now);
        self.timers.clear(Timer::Verify);
        let packet = match Packet::decode(text) {
            Ok(packet) => packet,
            Err(error) => {
                let message = error.to_string();
                return self.lose(now, Failure::Protocol { message });
            }
        };
        match packet {
            Packet::Heartbeat => {
                if let Some(link) = self.link() {
                    let conn = link.conn;
                    self.out.send(conn, Packet::heartbeat().encode());
                }
            }
            Packet::Connect { .. } => self.progress(now, |a, ctx| a.on_socket_connect(ctx)),
            Packet::Disconnect { .. } => self.lose(now, Failure::ServerDisconnect),
            Packet::Error { reason, .. } => self.lose(now, Failure::ServerError { reason }),
            Packet::Ack { ack_id, args, .. } => {
                if matches!(self.status, Status::Connected(_)) {
                    if let Some(effect) = self.calls.answered(&mut self.out, ack_id, &args) {
                        self.restore.succeeded(&effect);
                    }
                } else {
                    self.progress(now, |a, _| a.on_ack(ack_id, &args));
                }
            }
            Packet::Event { .. } => {
                if let (Status::Connected(_), Some(event)) =
                    (&self.status, push::app_event(&packet))
                {
                    self.out.event(event);
                }
            }
            Packet::Message { .. } | Packet::Json { .. } | Packet::Noop => {}
        }
    }

    fn heard_from_server(&mut self, now: Instant) {
        if let Some(deadline) = self.link().map(|link| now + link.heartbeat_ms) {
            self.timers.set(Timer::Heartbeat, deadline);
        }
    }

    // ----- the app's commands --------------------------------------------------------------

    fn start(&mut self, now: Instant) {
        if matches!(self.status, Status::Idle) {
            if self.blocked().is_some() {
                self.status = Status::Waiting;
                self.report_state(now, None);
            } else {
                self.begin_attempt(now);
            }
        }
    }

    fn disconnect(&mut self, now: Instant) {
        if matches!(self.status, Status::Closed) {
            return;
        }
        self.calls
            .reject_all(&mut self.out, Code::Closed, CLOSED_MESSAGE);
        self.timers.clear_all();
        match &mut self.status {
            Status::Connected(live) => {
                let url = format!("/v1/connections/{}/", live.endpoint_id);
                let request = Request::new(Method::Delete, url);
                live.link
                    .send_request(&mut self.out, request, &self.config.sdk);
                self.out.send(live.link.conn, Packet::disconnect().encode());
                self.out
                    .command(Command::CloseSocket { id: live.link.conn });
                end_session(&mut ctx!(self), &live.link.app_token);
                self.stats.disconnects += 1;
                self.out.event(Event::Disconnect {
                    reason: "disconnect() was called".into(),
                    code: Code::ClientDisconnect,
                    will_reconnect: false,
                });
            }
            Status::Connecting(_) => {
                if let Some(app_token) = self.release() {
                    end_session(&mut ctx!(self), &app_token);
                }
            }
            Status::Idle | Status::Waiting | Status::Failed | Status::Closed => {}
        }
        self.status = Status::Closed;
        self.report_state(now, None);
    }

    fn reconnect(&mut self, now: Instant) {
        match &self.status {
            Status::Closed => return,
            Status::Connected(_) => {
                self.release();
                self.stats.disconnects += 1;
                let failure = Failure::ClientReconnect;
                self.out.event(Event::Disconnect {
                    reason: failure.to_string(),
                    code: failure.code(),
                    will_reconnect: true,
                });
            }
            Status::Connecting(_) => {
                self.release();
            }
            Status::Idle | Status::Waiting | Status::Failed => {}
        }
        // The attempt's timers only: queued requests keep their deadlines.
        self.clear_attempt_timers();
        self.retry.restart();
        self.begin_attempt(now);
    }

    // ----- small helpers -------------------------------------------------------------------

    /// What keeps a waiting client from attempting, if anything.
    fn blocked(&self) -> Option<WaitingFor> {
        self.conditions.blocked(self.config.pause_when_hidden)
    }

    fn link(&self) -> Option<&Link> {
        match &self.status {
            Status::Connecting(attempt) => attempt.link(),
            Status::Connected(live) => Some(&live.link),
            _ => None,
        }
    }

    fn arm_calls_timer(&mut self) {
        match self.calls.next_deadline(self.config.queue_max_age_ms) {
            Some(at) => self.timers.set(Timer::Calls, at),
            None => self.timers.clear(Timer::Calls),
        }
    }

    /// Emits a `State` event when the state or phase changed (always when waiting, since
    /// `retryIn` is news).
    fn report_state(&mut self, now: Instant, retry_in: Option<u64>) {
        let waiting_for = match self.status {
            Status::Waiting if self.timers.get(Timer::Backoff).is_none() => self.blocked(),
            _ => None,
        };
        let current = (self.state(), self.phase(), waiting_for);
        if current == self.reported && retry_in.is_none() {
            return;
        }
        let previous = self.reported.0;
        self.reported = current;
        let attempt =
            matches!(current.0, State::Connecting | State::Waiting).then_some(self.retry.attempt());
        self.out.event(Event::State {
            state: current.0,
            previous,
            phase: current.1,
            attempt,
            retry_in,
            waiting_for,
            at: now.as_millis(),
        });
    }
}

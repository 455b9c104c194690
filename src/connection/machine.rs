//! The connection state machine: one attempt at a time, one socket at a time, one token per
//! attempt. See the crate docs for the drain rule.

use std::collections::VecDeque;

use respoke_protocol::event::json_text;
use respoke_protocol::handshake::{Handshake, HandshakeQuery};
use respoke_protocol::packet::Packet;
use respoke_protocol::sails::{Method, Request, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use respoke_protocol::push::{publish_path, PushEvent, EVENT_JOIN};

use super::backoff::Rng;
use super::calls::{Call, CallError, CallId, Calls, Effect, InFlight};
use super::config::{Config, Credentials, TokenSource};
use super::error::{classify_respoke_status, classify_token_status, Failure, Stage};
use super::retry_after::parse_retry_after;
use super::time::Instant;
use super::timer::{Timer, Timers};
use super::token::{Token, TokenLedger};

/// Identifies one HTTP request or `getToken` call. Answers carrying another id are stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId(pub u64);

/// Identifies one WebSocket. Callbacks carrying another id are stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(pub u64);

/// HTTP verbs the core uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// GET
    Get,
    /// POST
    Post,
    /// DELETE
    Delete,
}

impl HttpMethod {
    /// The verb as fetch wants it.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Delete => "DELETE",
        }
    }
}

/// An HTTP request for the shell to perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Verb.
    pub method: HttpMethod,
    /// Absolute URL, or relative to the page for the app's token URL.
    pub url: String,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Option<String>,
    /// fetch credentials mode.
    pub credentials: Credentials,
    /// Must outlive the page (`fetch` `keepalive`): the session teardown sent as the page
    /// unloads. Its answer is not needed.
    pub keepalive: bool,
}

/// What the shell must do, drained with [`Machine::poll_command`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Perform an HTTP request and report with [`Machine::handle_http`].
    Http {
        /// Tag for the answer.
        id: RequestId,
        /// What to send.
        request: HttpRequest,
    },
    /// Call the app's `getToken` and report with [`Machine::handle_token`].
    GetToken {
        /// Tag for the answer.
        id: RequestId,
        /// 1-based attempt number, handed to `getToken`.
        attempt: u32,
    },
    /// Abort a request started earlier (its answer, if any, will be ignored anyway).
    Abort {
        /// The request.
        id: RequestId,
    },
    /// Open a WebSocket; report with the `handle_socket_*` methods.
    OpenSocket {
        /// Tag for its callbacks.
        id: ConnId,
        /// ws:// or wss:// URL.
        url: String,
    },
    /// Send one text frame.
    Send {
        /// The socket.
        id: ConnId,
        /// The frame.
        text: String,
    },
    /// Close the socket and drop its listeners.
    CloseSocket {
        /// The socket.
        id: ConnId,
    },
}

/// An HTTP answer, as the shell read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// The `Retry-After` header, if present and readable.
    pub retry_after: Option<String>,
    /// The body text.
    pub body: String,
    /// Wall-clock time (Unix ms) when the answer arrived; for HTTP-date `Retry-After`.
    pub wall_clock_ms: u64,
}

/// Why an HTTP request produced no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// fetch rejected: network down, refused, CORS, DNS.
    Network(String),
    /// The body was larger than the shell accepts.
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

/// Why the app's `getToken` gave no token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCallbackError {
    /// It said the user is not authorized (terminal).
    Unauthorized(String),
    /// It failed in some other way (retried).
    Failed(String),
}

/// Something the page or the device did that may have killed the socket or made it worth
/// trying again now. The shell reports these from `online`/`offline`, `visibilitychange`,
/// `pagehide`/`pageshow` and `freeze`/`resume`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// `navigator.onLine` became true.
    Online,
    /// `navigator.onLine` became false.
    Offline,
    /// The page became visible.
    Visible,
    /// The page became hidden.
    Hidden,
    /// `pageshow`; `persisted` when it came back from the back/forward cache.
    PageShow {
        /// Restored from the back/forward cache.
        persisted: bool,
    },
    /// `pagehide`; `persisted` when it goes into the back/forward cache.
    PageHide {
        /// Going into the back/forward cache.
        persisted: bool,
    },
    /// The browser froze the page.
    Freeze,
    /// The browser resumed a frozen page.
    Resume,
}

/// What a `waiting` client without a timer waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WaitingFor {
    /// The browser to come back online.
    Online,
    /// The page to be shown (`pauseWhenHidden`).
    Visible,
    /// The page to come back from the back/forward cache or be unfrozen.
    Resume,
}

/// Wall-clock time running ahead of the monotonic clock by more than this between two inputs
/// means the device slept (monotonic clocks stop during suspend on several platforms).
pub const CLOCK_JUMP_MS: u64 = 10_000;

/// The path of the liveness probe sent after a wake. Any answer, even a 404 error ack, proves
/// the socket alive; so does any other packet.
pub const PROBE_PATH: &str = "/v1/ping";

/// The public connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Created, not started.
    Idle,
    /// An attempt is under way (see [`Phase`]).
    Connecting,
    /// Registered with Respoke; events flow.
    Connected,
    /// Waiting out a backoff delay before the next attempt.
    Waiting,
    /// Stopped for good because retrying cannot help (e.g. the user must log in again).
    /// `reconnect()` may start again after the app fixed the cause.
    Failed,
    /// Stopped for good by `disconnect()`.
    Closed,
}

impl State {
    /// True for `failed` and `closed`: no request leaves the client in these states.
    pub fn is_terminal(self) -> bool {
        matches!(self, State::Failed | State::Closed)
    }

    /// The name JS sees (`state.state`, `client.state`), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Connecting => "connecting",
            State::Connected => "connected",
            State::Waiting => "waiting",
            State::Failed => "failed",
            State::Closed => "closed",
        }
    }
}

/// The step an attempt is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Fetching a tokenId from the app server.
    Token,
    /// Exchanging it at `/v1/session-tokens`.
    Session,
    /// socket.io handshake.
    Handshake,
    /// WebSocket opening, waiting for `1::`.
    Socket,
    /// `post /v1/connections` sent, waiting for its ack.
    Register,
}

/// Counters since the client started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Attempts started.
    pub attempts: u32,
    /// tokenIds received (each sent at most once).
    pub tokens_fetched: u32,
    /// Successful connects.
    pub connects: u32,
    /// Connections lost or ended.
    pub disconnects: u32,
}

/// What the app hears, drained with [`Machine::poll_event`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Event {
    /// Registered with Respoke.
    #[serde(rename_all = "camelCase")]
    Connect {
        /// Who Respoke says we are.
        endpoint_id: String,
        /// This connection's id.
        connection_id: String,
        /// Which attempt since the previous connection succeeded (1-based).
        attempt: u32,
    },
    /// A live connection ended.
    #[serde(rename_all = "camelCase")]
    Disconnect {
        /// Human-readable.
        reason: String,
        /// Stable code.
        code: &'static str,
        /// Whether an attempt will follow.
        will_reconnect: bool,
    },
    /// An attempt is scheduled.
    #[serde(rename_all = "camelCase")]
    Reconnecting {
        /// The attempt that starts after the delay (1-based).
        attempt: u32,
        /// The delay.
        delay_ms: u64,
        /// Code of what caused it.
        cause: &'static str,
    },
    /// Terminal failure.
    #[serde(rename_all = "camelCase")]
    Failed {
        /// Human-readable.
        reason: String,
        /// HTTP status, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        /// Stable code.
        code: &'static str,
        /// The user must authenticate again.
        reauthenticate: bool,
    },
    /// The state or phase changed.
    #[serde(rename_all = "camelCase")]
    State {
        /// New state.
        state: State,
        /// Previous state.
        previous: State,
        /// While connecting.
        #[serde(skip_serializing_if = "Option::is_none")]
        phase: Option<Phase>,
        /// While connecting or waiting.
        #[serde(skip_serializing_if = "Option::is_none")]
        attempt: Option<u32>,
        /// While waiting: ms until the next attempt.
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_in: Option<u64>,
        /// While waiting with no attempt scheduled: what the client waits for.
        #[serde(skip_serializing_if = "Option::is_none")]
        waiting_for: Option<WaitingFor>,
        /// When, on the caller's clock.
        at: u64,
    },
    /// A 1:1 text message arrived.
    #[serde(rename_all = "camelCase")]
    Message {
        /// Sender's endpointId.
        from: String,
        /// Sender's connectionId.
        from_connection: String,
        /// Server time, Unix ms.
        timestamp: u64,
        /// The text.
        message: String,
    },
    /// An observed endpoint's presence changed (see `observe_presence`).
    #[serde(rename_all = "camelCase")]
    Presence {
        /// Whose presence.
        from: String,
        /// Which connection of theirs.
        from_connection: String,
        /// The presence type, e.g. `"available"`.
        presence: Value,
        /// Optional `show`.
        #[serde(skip_serializing_if = "Option::is_none")]
        show: Option<Value>,
        /// Optional status text.
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<Value>,
    },
    /// A connection joined a group this client is in.
    #[serde(rename_all = "camelCase")]
    Join {
        /// The group.
        group: String,
        /// Who joined.
        endpoint_id: String,
        /// Their connection.
        connection_id: String,
    },
    /// A connection left a group this client is in.
    #[serde(rename_all = "camelCase")]
    Leave {
        /// The group.
        group: String,
        /// Who left.
        endpoint_id: String,
        /// Their connection.
        connection_id: String,
    },
    /// A message published to a group this client is in.
    #[serde(rename_all = "camelCase")]
    Pubsub {
        /// The group.
        group: String,
        /// Sender's endpointId.
        from: String,
        /// Sender's connectionId.
        from_connection: String,
        /// Server time, Unix ms.
        timestamp: u64,
        /// The text.
        message: String,
    },
    /// The outcome of a request made with [`Machine::request`] and friends. For the shell (it
    /// settles the request's promise), not an app event.
    Reply {
        /// Which request.
        id: CallId,
        /// The answer body, or why there is none (settles a promise; never serialized).
        #[serde(skip)]
        result: Result<Value, CallError>,
    },
    /// Something went wrong; `retry` says whether the client goes on.
    #[serde(rename_all = "camelCase")]
    Error {
        /// Stable code.
        code: &'static str,
        /// Human-readable; never contains a token.
        message: String,
        /// HTTP status, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        /// Whether the client will retry.
        retry: bool,
    },
}

impl Event {
    /// The JS event name (`listen(name, ...)`); `"reply"` for [`Event::Reply`], which only the
    /// shell sees.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Connect { .. } => "connect",
            Event::Disconnect { .. } => "disconnect",
            Event::Reconnecting { .. } => "reconnecting",
            Event::Failed { .. } => "failed",
            Event::State { .. } => "state",
            Event::Error { .. } => "error",
            Event::Message { .. } => "message",
            Event::Presence { .. } => "presence",
            Event::Join { .. } => "join",
            Event::Leave { .. } => "leave",
            Event::Pubsub { .. } => "pubsub",
            Event::Reply { .. } => "reply",
        }
    }
}

/// A socket that is open or opening, with what it needs to talk.
#[derive(Debug)]
struct Link {
    conn: ConnId,
    app_token: Token,
    heartbeat_ms: u64,
    next_ack: u64,
}

impl Link {
    fn take_ack(&mut self) -> u64 {
        let ack = self.next_ack;
        self.next_ack += 1;
        ack
    }
}

#[derive(Debug)]
enum Step {
    Token { req: RequestId },
    Session { req: RequestId },
    Handshake { req: RequestId, app_token: Token },
    Socket { link: Link },
    Register { link: Link, ack: u64 },
}

#[derive(Debug)]
struct Live {
    link: Link,
    endpoint_id: String,
    connection_id: String,
}

#[derive(Debug)]
enum Inner {
    Idle,
    Connecting(Step),
    Connected(Live),
    Waiting,
    Failed,
    Closed,
}

/// The connection core. Feed it input with the current time; drain
/// [`poll_command`](Self::poll_command), [`poll_event`](Self::poll_event) and
/// [`poll_timeout`](Self::poll_timeout) after every input.
#[derive(Debug)]
pub struct Machine {
    config: Config,
    rng: Rng,
    inner: Inner,
    /// Consecutive failures since the last stable connection: the backoff exponent.
    failures: u32,
    /// The current (or next) attempt's number since the last connect, 1-based.
    attempt: u32,
    timers: Timers,
    next_id: u64,
    ledger: TokenLedger,
    commands: VecDeque<Command>,
    events: VecDeque<Event>,
    stats: Stats,
    /// What the last `State` event said, to emit only changes.
    reported: (State, Option<Phase>, Option<WaitingFor>),
    /// The browser says it is offline.
    offline: bool,
    /// The page is hidden.
    hidden: bool,
    /// The page is in the back/forward cache or frozen.
    suspended: bool,
    /// The last (monotonic, wall-clock) pair seen, for sleep detection.
    last_clock: Option<(Instant, u64)>,
    /// A server's Retry-After: no attempt before this, whatever wakes us.
    not_before: Option<Instant>,
    /// Requests queued or in flight.
    calls: Calls,
    /// The presence the app set (`{type, show?, status?}`), restored after every connect.
    presence: Option<Value>,
    /// Groups joined, restored after every connect.
    joined: NameSet,
    /// Endpoints whose presence the app observes, restored after every connect.
    observed: NameSet,
}

impl Machine {
    /// A machine in `idle`. `seed` drives the jitter (the shell uses `crypto.getRandomValues`).
    pub fn new(config: Config, seed: u64) -> Self {
        Machine {
            config,
            rng: Rng::new(seed),
            inner: Inner::Idle,
            failures: 0,
            attempt: 1,
            timers: Timers::default(),
            next_id: 0,
            ledger: TokenLedger::default(),
            commands: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            reported: (State::Idle, None, None),
            offline: false,
            hidden: false,
            suspended: false,
            last_clock: None,
            not_before: None,
            calls: Calls::default(),
            presence: None,
            joined: NameSet::default(),
            observed: NameSet::default(),
        }
    }

    // ----- getters -------------------------------------------------------------------------

    /// The public state.
    pub fn state(&self) -> State {
        match self.inner {
            Inner::Idle => State::Idle,
            Inner::Connecting(_) => State::Connecting,
            Inner::Connected(_) => State::Connected,
            Inner::Waiting => State::Waiting,
            Inner::Failed => State::Failed,
            Inner::Closed => State::Closed,
        }
    }

    /// The attempt's phase while connecting.
    pub fn phase(&self) -> Option<Phase> {
        match &self.inner {
            Inner::Connecting(step) => Some(match step {
                Step::Token { .. } => Phase::Token,
                Step::Session { .. } => Phase::Session,
                Step::Handshake { .. } => Phase::Handshake,
                Step::Socket { .. } => Phase::Socket,
                Step::Register { .. } => Phase::Register,
            }),
            _ => None,
        }
    }

    /// endpointId of the live connection.
    pub fn endpoint_id(&self) -> Option<&str> {
        match &self.inner {
            Inner::Connected(live) => Some(&live.endpoint_id),
            _ => None,
        }
    }

    /// connectionId of the live connection.
    pub fn connection_id(&self) -> Option<&str> {
        match &self.inner {
            Inner::Connected(live) => Some(&live.connection_id),
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

    // ----- output --------------------------------------------------------------------------

    /// Next thing for the shell to do.
    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// Next event for the app.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    // ----- commands from the app -----------------------------------------------------------

    /// Starts the first attempt at once. Only from `idle`; otherwise does nothing.
    pub fn start(&mut self, now: Instant) {
        if matches!(self.inner, Inner::Idle) {
            if self.blocked().is_some() {
                self.inner = Inner::Waiting;
                self.report_state(now, None);
            } else {
                self.begin_attempt(now);
            }
        }
    }

    /// Ends everything for good: aborts the attempt, deletes the connection and the session,
    /// closes the socket. Idempotent.
    pub fn disconnect(&mut self, now: Instant) {
        if !matches!(self.inner, Inner::Closed) {
            self.reject_all("CLOSED", "the client was disconnected");
        }
        let previous = std::mem::replace(&mut self.inner, Inner::Closed);
        self.timers.clear_all();
        match previous {
            Inner::Closed => return,
            Inner::Connected(mut live) => {
                let ack = live.link.take_ack();
                let request = Request::new(
                    Method::Delete,
                    format!("/v1/connections/{}/", live.endpoint_id),
                );
                self.send_request(&live.link, request, ack);
                self.send(live.link.conn, Packet::disconnect().encode());
                self.commands
                    .push_back(Command::CloseSocket { id: live.link.conn });
                self.end_session(&live.link.app_token);
                self.stats.disconnects += 1;
                self.events.push_back(Event::Disconnect {
                    reason: "disconnect() was called".into(),
                    code: "CLIENT_DISCONNECT",
                    will_reconnect: false,
                });
            }
            Inner::Connecting(step) => {
                if let Some(app_token) = self.release_step(step) {
                    self.end_session(&app_token);
                }
            }
            Inner::Idle | Inner::Waiting | Inner::Failed => {}
        }
        self.report_state(now, None);
    }

    /// Tries now, with a fresh token and a fresh backoff. From `failed` this starts again (the
    /// app calls it after the user logged in again). Does nothing once `closed`.
    pub fn reconnect(&mut self, now: Instant) {
        match std::mem::replace(&mut self.inner, Inner::Idle) {
            Inner::Closed => {
                self.inner = Inner::Closed;
                return;
            }
            Inner::Connected(live) => {
                self.release_link(live.link);
                self.stats.disconnects += 1;
                let failure = Failure::ClientReconnect;
                self.events.push_back(Event::Disconnect {
                    reason: failure.to_string(),
                    code: failure.code(),
                    will_reconnect: true,
                });
            }
            Inner::Connecting(step) => {
                self.release_step(step);
            }
            Inner::Idle | Inner::Waiting | Inner::Failed => {}
        }
        // The attempt's timers only: queued requests keep their deadlines.
        self.clear_attempt_timers();
        self.failures = 0;
        self.attempt = 1;
        self.begin_attempt(now);
    }

    // ----- input from the shell ------------------------------------------------------------

    /// Fires every timer whose deadline is at or before `now`. Calling it early does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.take_expired(now) {
            match timer {
                Timer::Token => {
                    if matches!(self.inner, Inner::Connecting(Step::Token { .. })) {
                        self.retry(now, Failure::TokenTimeout, None);
                    }
                }
                Timer::Attempt => {
                    if matches!(self.inner, Inner::Connecting(_)) {
                        self.retry(now, Failure::AttemptTimeout, None);
                    }
                }
                Timer::Backoff => {
                    if matches!(self.inner, Inner::Waiting) {
                        if self.blocked().is_some() {
                            // Deferred (hidden, offline): wait for the page or the network.
                            self.report_state(now, None);
                        } else {
                            self.begin_attempt(now);
                        }
                    }
                }
                Timer::Heartbeat => {
                    let timeout_ms = self.link().map(|link| link.heartbeat_ms);
                    if let Some(timeout_ms) = timeout_ms {
                        self.lose(now, Failure::HeartbeatTimeout { timeout_ms });
                    }
                }
                Timer::Stable => self.failures = 0,
                Timer::Calls => self.expire_calls(now),
                Timer::Verify => {
                    if let (Inner::Connected(_), Some(link)) = (&self.inner, self.link()) {
                        let timeout_ms = self.config.verify_timeout_ms.min(link.heartbeat_ms);
                        self.lose(now, Failure::Unresponsive { timeout_ms });
                    }
                }
            }
        }
    }

    /// The answer to [`Command::Http`]. Stale ids are ignored.
    pub fn handle_http(
        &mut self,
        now: Instant,
        id: RequestId,
        result: Result<HttpResponse, HttpError>,
    ) {
        let stage = match &self.inner {
            Inner::Connecting(Step::Token { req }) if *req == id => Stage::Token,
            Inner::Connecting(Step::Session { req }) if *req == id => Stage::Session,
            Inner::Connecting(Step::Handshake { req, .. }) if *req == id => Stage::Handshake,
            _ => return,
        };
        let response = match result {
            Ok(response) => response,
            Err(HttpError::Network(message)) => {
                return self.retry(now, Failure::Network { stage, message }, None)
            }
            Err(HttpError::BodyTooLarge { limit }) => {
                let message = format!("body larger than {limit} bytes");
                return self.retry(now, Failure::InvalidResponse { stage, message }, None);
            }
        };
        if !(200..300).contains(&response.status) {
            let failure = match stage {
                Stage::Token => classify_token_status(response.status),
                _ => classify_respoke_status(stage, response.status),
            };
            let retry_after = match response.status {
                429 | 503 => response
                    .retry_after
                    .as_deref()
                    .and_then(|value| parse_retry_after(value, response.wall_clock_ms)),
                _ => None,
            };
            return self.retry_or_fail(now, failure, retry_after);
        }
        match stage {
            Stage::Token => match token_from_body(&response.body) {
                Ok(token) => self.token_received(now, token),
                Err(message) => self.retry(now, Failure::InvalidResponse { stage, message }, None),
            },
            Stage::Session => match token_from_body(&response.body) {
                Ok(app_token) => self.session_received(now, app_token, response.wall_clock_ms),
                Err(message) => self.retry(now, Failure::InvalidResponse { stage, message }, None),
            },
            Stage::Handshake => self.handshake_received(now, &response),
        }
    }

    /// The answer of the app's `getToken` to [`Command::GetToken`]. Stale ids are ignored.
    pub fn handle_token(
        &mut self,
        now: Instant,
        id: RequestId,
        result: Result<String, TokenCallbackError>,
    ) {
        if !matches!(&self.inner, Inner::Connecting(Step::Token { req }) if *req == id) {
            return;
        }
        match result {
            Ok(token) if !token.trim().is_empty() => self.token_received(now, Token::new(token)),
            Ok(_) => {
                let message = "getToken resolved to an empty token".to_owned();
                self.retry(
                    now,
                    Failure::InvalidResponse {
                        stage: Stage::Token,
                        message,
                    },
                    None,
                )
            }
            Err(TokenCallbackError::Unauthorized(message)) => {
                self.fail(now, Failure::TokenCallbackUnauthorized { message })
            }
            Err(TokenCallbackError::Failed(message)) => {
                self.retry(now, Failure::TokenCallback { message }, None)
            }
        }
    }

    /// The socket opened.
    pub fn handle_socket_open(&mut self, now: Instant, id: ConnId) {
        if let Some(link) = self.link() {
            if link.conn == id {
                let deadline = now + link.heartbeat_ms;
                self.timers.set(Timer::Heartbeat, deadline);
            }
        }
    }

    /// A text frame arrived.
    pub fn handle_socket_message(&mut self, now: Instant, id: ConnId, text: &str) {
        let Some(link) = self.link() else { return };
        if link.conn != id {
            return;
        }
        // Any packet at all proves the server alive (socket.io 0.9's rule).
        let deadline = now + link.heartbeat_ms;
        self.timers.set(Timer::Heartbeat, deadline);
        self.timers.clear(Timer::Verify);
        let packet = match Packet::decode(text) {
            Ok(packet) => packet,
            Err(error) => {
                let message = error.to_string();
                return self.lose(now, Failure::Protocol { message });
            }
        };
        match packet {
            Packet::Heartbeat => self.send(id, Packet::heartbeat().encode()),
            Packet::Connect { .. } => self.socket_accepted(now),
            Packet::Disconnect { .. } => self.lose(now, Failure::ServerDisconnect),
            Packet::Error { reason, .. } => self.lose(now, Failure::ServerError { reason }),
            Packet::Ack { ack_id, args, .. } => self.ack_received(now, ack_id, &args),
            Packet::Event { .. } => self.push_received(&packet),
            Packet::Message { .. } | Packet::Json { .. } | Packet::Noop => {}
        }
    }

    /// The socket closed (or failed, which browsers follow with a close).
    pub fn handle_socket_close(&mut self, now: Instant, id: ConnId, code: u16) {
        if self.link().is_some_and(|link| link.conn == id) {
            self.lose(now, Failure::SocketClosed { code });
        }
    }

    // ----- requests over the socket ---------------------------------------------------------

    /// Sends any Respoke REST call over the socket (`url` a path like `/v1/messages`). The
    /// outcome comes back as an [`Event::Reply`] with the returned id; see `calls.rs` for the
    /// delivery guarantees.
    pub fn request(&mut self, now: Instant, method: Method, url: &str, data: Value) -> CallId {
        self.submit(now, method, url.to_owned(), data, Effect::None)
    }

    /// `post /v1/messages`: a 1:1 text message to every connection of `to`.
    pub fn send_message(&mut self, now: Instant, to: &str, message: &str) -> CallId {
        // `SendMessage::new(to, message)` as JSON (no option set); `tests/core_calls.rs` pins it.
        let data = object([("to", to.into()), ("message", message.into())]);
        self.submit(now, Method::Post, "/v1/messages".into(), data, Effect::None)
    }

    /// `post /v1/presence`: sets this connection's presence (`"available"` or
    /// `{type, show?, status?}`); remembered and restored after every reconnect.
    pub fn set_presence(&mut self, now: Instant, presence: Value) -> CallId {
        let presence = match presence {
            Value::String(kind) => object([("type", Value::String(kind))]),
            Value::Object(map) if map.get("type").is_some_and(Value::is_string) => {
                Value::Object(map)
            }
            _ => {
                let message = "presence must be a string or {type: string}";
                return self.reject_now(CallError::new("INVALID_ARGUMENT", message));
            }
        };
        self.presence = Some(presence.clone());
        let data = object([("presence", presence)]);
        self.submit(now, Method::Post, "/v1/presence".into(), data, Effect::None)
    }

    /// `post /v1/groups/`: joins `group`; rejoined after every reconnect once it succeeded.
    pub fn join(&mut self, now: Instant, group: &str) -> CallId {
        let data = object([("groups", strings([group]))]);
        let effect = Effect::Joined(vec![group.to_owned()]);
        self.submit(now, Method::Post, "/v1/groups/".into(), data, effect)
    }

    /// `delete /v1/groups/`: leaves `group` (and stops rejoining it).
    pub fn leave(&mut self, now: Instant, group: &str) -> CallId {
        self.joined.remove(group);
        let data = object([("groups", strings([group]))]);
        self.submit(
            now,
            Method::Delete,
            "/v1/groups/".into(),
            data,
            Effect::None,
        )
    }

    /// `post /v1/channels/<group>/publish/`: a message to every member of `group`.
    pub fn publish(&mut self, now: Instant, group: &str, message: &str) -> CallId {
        let data = object([("message", message.into()), ("push", false.into())]);
        self.submit(now, Method::Post, publish_path(group), data, Effect::None)
    }

    /// `post /v1/presenceobservers`: receive `presence` events of these endpoints; restored
    /// after every reconnect.
    pub fn observe_presence(&mut self, now: Instant, endpoint_ids: &[String]) -> CallId {
        self.observed.extend(endpoint_ids);
        let data = object([("endpointList", strings(endpoint_ids))]);
        let url = "/v1/presenceobservers".into();
        self.submit(now, Method::Post, url, data, Effect::None)
    }

    fn submit(
        &mut self,
        now: Instant,
        method: Method,
        url: String,
        data: Value,
        effect: Effect,
    ) -> CallId {
        let id = self.calls.next_id();
        let call = Call {
            id: Some(id),
            method,
            url,
            data,
            effect,
        };
        let refusal = match self.inner {
            Inner::Connected(_) => {
                self.send_call(now, call);
                return id;
            }
            Inner::Closed => CallError::new("CLOSED", "the client was disconnected"),
            Inner::Failed => CallError::new("FAILED", "the client failed; call reconnect()"),
            _ if self.config.queue_size == 0 => {
                CallError::new("DISCONNECTED", "not connected (queueSize is 0)")
            }
            _ if self.calls.queue.len() >= self.config.queue_size => {
                let waiting = self.config.queue_size;
                let message = format!("{waiting} requests already wait for the connection");
                CallError::new("QUEUE_FULL", message)
            }
            _ => {
                self.calls.queue.push_back((call, now));
                self.arm_calls_timer();
                return id;
            }
        };
        self.settle(&call, Err(refusal));
        id
    }

    fn reject_now(&mut self, error: CallError) -> CallId {
        let id = self.calls.next_id();
        self.events.push_back(Event::Reply {
            id,
            result: Err(error),
        });
        id
    }

    fn send_call(&mut self, now: Instant, call: Call) {
        let Inner::Connected(live) = &mut self.inner else {
            return;
        };
        let ack = live.link.take_ack();
        let frame = Request::new(call.method, call.url.clone())
            .with_data(call.data.clone())
            .with_header("App-Token", live.link.app_token.expose())
            .with_header("Respoke-SDK", &self.config.sdk)
            .to_packet(ack)
            .encode();
        let conn = live.link.conn;
        self.send(conn, frame);
        let deadline = now + self.config.request_timeout_ms;
        self.calls.in_flight.push(InFlight {
            ack,
            call,
            deadline,
        });
        self.arm_calls_timer();
    }

    fn call_answered(&mut self, ack: u64, args: &str) {
        let Some(flight) = self.calls.take_in_flight(ack) else {
            return; // late (timed out) or not ours
        };
        let result = match Response::parse_ack_args(args) {
            Ok(response) if !response.is_error() && response.status_code < 400 => Ok(response.body),
            Ok(response) => Err(CallError {
                code: "REQUEST_FAILED",
                message: response
                    .error_message()
                    .unwrap_or_else(|| format!("status {}", response.status_code)),
                status: Some(response.status_code),
            }),
            Err(error) => Err(CallError::new("REQUEST_FAILED", error.to_string())),
        };
        if let (Ok(_), Effect::Joined(groups)) = (&result, &flight.call.effect) {
            self.joined.extend(groups);
        }
        self.settle(&flight.call, result);
        self.arm_calls_timer();
    }

    /// Reports a request's outcome: to its promise, or for the client's own restore requests
    /// an `error` event when they fail.
    fn settle(&mut self, call: &Call, result: Result<Value, CallError>) {
        match (call.id, result) {
            (Some(id), result) => self.events.push_back(Event::Reply { id, result }),
            (None, Ok(_)) => {}
            (None, Err(error)) if error.code == "DISCONNECTED" => {}
            (None, Err(error)) => self.events.push_back(Event::Error {
                code: "RESTORE_FAILED",
                message: format!(
                    "restoring {} {} failed: {}",
                    call.method, call.url, error.message
                ),
                status: error.status,
                retry: true,
            }),
        }
    }

    fn expire_calls(&mut self, now: Instant) {
        for flight in self.calls.take_timed_out(now) {
            let message = format!("no answer within {} ms", self.config.request_timeout_ms);
            self.settle(
                &flight.call,
                Err(CallError::new("REQUEST_TIMEOUT", message)),
            );
        }
        self.expire_queue(now);
        self.arm_calls_timer();
    }

    fn expire_queue(&mut self, now: Instant) {
        for call in self.calls.take_expired(now, self.config.queue_max_age_ms) {
            let message = format!("not connected within {} ms", self.config.queue_max_age_ms);
            self.settle(&call, Err(CallError::new("QUEUE_TIMEOUT", message)));
        }
    }

    fn reject_all(&mut self, code: &'static str, message: &str) {
        let in_flight = std::mem::take(&mut self.calls.in_flight);
        let queued = std::mem::take(&mut self.calls.queue);
        let calls: Vec<Call> = in_flight
            .into_iter()
            .map(|flight| flight.call)
            .chain(queued.into_iter().map(|(call, _)| call))
            .collect();
        for call in calls {
            self.settle(&call, Err(CallError::new(code, message)));
        }
        self.timers.clear(Timer::Calls);
    }

    fn arm_calls_timer(&mut self) {
        match self.calls.next_deadline(self.config.queue_max_age_ms) {
            Some(at) => self.timers.set(Timer::Calls, at),
            None => self.timers.clear(Timer::Calls),
        }
    }

    /// After every connect: restore what the app set up (its presence, or `unavailable` as
    /// respoke.js announces; joined groups; presence observers), then send the queued
    /// requests in order.
    fn restore_and_flush(&mut self, now: Instant) {
        let presence = self
            .presence
            .clone()
            .unwrap_or_else(|| object([("type", "unavailable".into())]));
        let mut restore = vec![(
            Method::Post,
            "/v1/presence".to_owned(),
            object([("presence", presence)]),
        )];
        if !self.joined.is_empty() {
            let data = object([("groups", strings(&self.joined.0))]);
            restore.push((Method::Post, "/v1/groups/".to_owned(), data));
        }
        if !self.observed.is_empty() {
            let data = object([("endpointList", strings(&self.observed.0))]);
            restore.push((Method::Post, "/v1/presenceobservers".to_owned(), data));
        }
        for (method, url, data) in restore {
            let call = Call {
                id: None,
                method,
                url,
                data,
                effect: Effect::None,
            };
            self.send_call(now, call);
        }
        self.expire_queue(now);
        while let Some((call, _)) = self.calls.queue.pop_front() {
            self.send_call(now, call);
        }
    }

    /// A server push while connected: typed app events; a malformed one is reported, and the
    /// connection goes on.
    fn push_received(&mut self, packet: &Packet) {
        if !matches!(self.inner, Inner::Connected(_)) {
            return;
        }
        let event = match PushEvent::from_packet(packet) {
            Ok(Some(event)) => event,
            // Signals (WebRTC) and unknown events are not part of this client's API.
            Ok(None) => return,
            Err(error) => {
                return self.events.push_back(Event::Error {
                    code: "PROTOCOL_ERROR",
                    message: error.to_string(),
                    status: None,
                    retry: true,
                })
            }
        };
        let event = match event {
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
            PushEvent::Signal(_) => return,
        };
        self.events.push_back(event);
    }

    // ----- wakes: network, visibility, page lifecycle, sleep --------------------------------

    /// Reports the wall-clock time (Unix ms) alongside the monotonic `now`; the shell calls it
    /// before every other input. When the wall clock ran ahead of the monotonic one by more than
    /// [`CLOCK_JUMP_MS`], the device slept: the socket is verified, an attempt under way is
    /// restarted, a wait is cut short.
    pub fn handle_clock(&mut self, now: Instant, wall_ms: u64) {
        let previous = self.last_clock.replace((now, wall_ms));
        let Some((then, then_wall)) = previous else {
            return;
        };
        let wall_elapsed = wall_ms.saturating_sub(then_wall);
        if wall_elapsed.saturating_sub(now.millis_since(then)) <= CLOCK_JUMP_MS {
            return;
        }
        match self.inner {
            Inner::Connected(_) => self.verify(now),
            Inner::Connecting(_) => {
                self.release_current();
                self.events.push_back(Event::Error {
                    code: Failure::Wake.code(),
                    message: Failure::Wake.to_string(),
                    status: None,
                    retry: true,
                });
                self.inner = Inner::Waiting;
                self.try_soon(now, Failure::Wake.code());
            }
            Inner::Waiting => self.try_soon(now, Failure::Wake.code()),
            Inner::Idle | Inner::Failed | Inner::Closed => {}
        }
    }

    /// A network, visibility or page-lifecycle change (see [`Wake`]).
    pub fn handle_wake(&mut self, now: Instant, wake: Wake) {
        match wake {
            Wake::Offline => {
                if !self.offline {
                    self.offline = true;
                    self.hold(now, Failure::Offline);
                }
            }
            Wake::Online => {
                if std::mem::replace(&mut self.offline, false) {
                    self.try_soon(now, "ONLINE");
                } else {
                    self.verify(now);
                }
            }
            Wake::Hidden => {
                self.hidden = true;
                self.report_state(now, None);
            }
            Wake::Visible => {
                let was_hidden = std::mem::replace(&mut self.hidden, false);
                self.verify(now);
                if was_hidden {
                    self.try_soon(now, "VISIBLE");
                }
            }
            Wake::PageHide { .. } => {
                self.suspended = true;
                self.hold(now, Failure::PageHidden);
            }
            Wake::Freeze => {
                self.suspended = true;
                self.hold(now, Failure::PageFrozen);
            }
            Wake::PageShow { persisted: false } => {}
            Wake::PageShow { persisted: true } | Wake::Resume => {
                if std::mem::replace(&mut self.suspended, false) {
                    self.try_soon(now, "RESUME");
                } else {
                    self.verify(now);
                }
            }
        }
    }

    /// What keeps a waiting client from attempting, if anything.
    fn blocked(&self) -> Option<WaitingFor> {
        if self.suspended {
            Some(WaitingFor::Resume)
        } else if self.offline {
            Some(WaitingFor::Online)
        } else if self.hidden && self.config.pause_when_hidden {
            Some(WaitingFor::Visible)
        } else {
            None
        }
    }

    /// Stops using the network for now (offline, hidden into the back/forward cache, frozen).
    /// A live socket is left cleanly when the page goes away; when offline it is only closed,
    /// since nothing can be sent.
    fn hold(&mut self, now: Instant, failure: Failure) {
        let clean = !matches!(failure, Failure::Offline);
        match std::mem::replace(&mut self.inner, Inner::Idle) {
            Inner::Connected(live) => {
                if clean {
                    self.send(live.link.conn, Packet::disconnect().encode());
                    self.end_session(&live.link.app_token);
                }
                self.connection_lost(now, live.link, failure);
            }
            Inner::Connecting(step) => {
                if let (Some(app_token), true) = (self.release_step(step), clean) {
                    self.end_session(&app_token);
                }
                self.clear_attempt_timers();
                self.events.push_back(Event::Error {
                    code: failure.code(),
                    message: failure.to_string(),
                    status: None,
                    retry: true,
                });
                self.schedule(now, failure.code(), None);
            }
            Inner::Waiting => {
                self.inner = Inner::Waiting;
                self.timers.clear(Timer::Backoff);
                self.report_state(now, None);
            }
            other => self.inner = other,
        }
    }

    /// Conditions changed for the better: a waiting client attempts soon, with a short full
    /// jitter (so clients woken by the same event spread out), a fresh backoff, and never
    /// before a server's Retry-After.
    fn try_soon(&mut self, now: Instant, cause: &'static str) {
        if !matches!(self.inner, Inner::Waiting) {
            return;
        }
        if self.blocked().is_some() {
            // Still held back by something else (say, online again but hidden): say what.
            return self.report_state(now, None);
        }
        let mut until = now
            + self
                .rng
                .below_inclusive(self.config.backoff.initial_delay_ms);
        if let Some(not_before) = self.not_before.filter(|&t| t > now) {
            until = until.max(not_before);
        }
        if self
            .timers
            .get(Timer::Backoff)
            .is_some_and(|pending| pending <= until)
        {
            return;
        }
        self.failures = 0;
        self.timers.set(Timer::Backoff, until);
        let delay_ms = until.millis_since(now);
        self.events.push_back(Event::Reconnecting {
            attempt: self.attempt,
            delay_ms,
            cause,
        });
        self.report_state(now, Some(delay_ms));
    }

    /// Checks that a live socket still works: sends a probe; any packet before the deadline
    /// proves it alive, silence replaces it.
    fn verify(&mut self, now: Instant) {
        if self.timers.get(Timer::Verify).is_some() {
            return;
        }
        let Inner::Connected(live) = &mut self.inner else {
            return;
        };
        let ack = live.link.take_ack();
        let timeout_ms = self.config.verify_timeout_ms.min(live.link.heartbeat_ms);
        let request = Request::new(Method::Get, PROBE_PATH)
            .with_header("App-Token", live.link.app_token.expose())
            .with_header("Respoke-SDK", &self.config.sdk);
        let frame = request.to_packet(ack).encode();
        let conn = live.link.conn;
        self.send(conn, frame);
        self.timers.set(Timer::Verify, now + timeout_ms);
    }

    // ----- the attempt, step by step -------------------------------------------------------

    fn begin_attempt(&mut self, now: Instant) {
        self.not_before = None;
        self.stats.attempts += 1;
        let req = self.next_request_id();
        match &self.config.token_source {
            TokenSource::Url {
                url,
                headers,
                credentials,
            } => {
                let mut all_headers =
                    vec![("Content-Type".to_owned(), "application/json".to_owned())];
                all_headers.extend(headers.iter().cloned());
                let body = match &self.config.endpoint_id {
                    Some(endpoint_id) => object([("endpointId", endpoint_id.as_str().into())]),
                    None => object([]),
                };
                let request = HttpRequest {
                    method: HttpMethod::Post,
                    url: url.clone(),
                    headers: all_headers,
                    body: Some(json_text(&body)),
                    credentials: *credentials,
                    keepalive: false,
                };
                self.commands.push_back(Command::Http { id: req, request });
            }
            TokenSource::Callback => {
                self.commands.push_back(Command::GetToken {
                    id: req,
                    attempt: self.attempt,
                });
            }
        }
        self.timers
            .set(Timer::Token, now + self.config.token_timeout_ms);
        self.timers
            .set(Timer::Attempt, now + self.config.attempt_timeout_ms);
        self.inner = Inner::Connecting(Step::Token { req });
        self.report_state(now, None);
    }

    fn token_received(&mut self, now: Instant, token: Token) {
        self.timers.clear(Timer::Token);
        if !self.ledger.record(&token) {
            return self.retry(now, Failure::TokenReused, None);
        }
        self.stats.tokens_fetched += 1;
        let req = self.next_request_id();
        let request = HttpRequest {
            method: HttpMethod::Post,
            url: format!("{}/v1/session-tokens", self.config.base_url),
            headers: self.respoke_headers(),
            body: Some(json_text(&object([("tokenId", token.expose().into())]))),
            credentials: Credentials::Omit,
            keepalive: false,
        };
        self.commands.push_back(Command::Http { id: req, request });
        self.inner = Inner::Connecting(Step::Session { req });
        self.report_state(now, None);
    }

    fn session_received(&mut self, now: Instant, app_token: Token, wall_clock_ms: u64) {
        let req = self.next_request_id();
        let query = HandshakeQuery::new(app_token.expose(), &self.config.sdk, wall_clock_ms);
        let request = HttpRequest {
            method: HttpMethod::Get,
            url: format!("{}{}", self.config.base_url, query.handshake_path()),
            headers: Vec::new(),
            body: None,
            credentials: Credentials::Omit,
            keepalive: false,
        };
        self.commands.push_back(Command::Http { id: req, request });
        self.inner = Inner::Connecting(Step::Handshake { req, app_token });
        self.report_state(now, None);
    }

    fn handshake_received(&mut self, now: Instant, response: &HttpResponse) {
        let handshake = match Handshake::parse(&response.body) {
            Ok(handshake) if handshake.supports_websocket() => handshake,
            Ok(_) => {
                let message = "the server does not offer the websocket transport".to_owned();
                let failure = Failure::InvalidResponse {
                    stage: Stage::Handshake,
                    message,
                };
                return self.retry(now, failure, None);
            }
            Err(error) => {
                let message = error.to_string();
                let failure = Failure::InvalidResponse {
                    stage: Stage::Handshake,
                    message,
                };
                return self.retry(now, failure, None);
            }
        };
        let Inner::Connecting(Step::Handshake { app_token, .. }) =
            std::mem::replace(&mut self.inner, Inner::Idle)
        else {
            return;
        };
        let query =
            HandshakeQuery::new(app_token.expose(), &self.config.sdk, response.wall_clock_ms);
        let url = format!(
            "{}{}",
            websocket_base(&self.config.base_url),
            query.websocket_path(&handshake.sid)
        );
        let heartbeat_secs = match handshake.heartbeat_timeout_secs {
            Some(secs) if secs > 0 => secs,
            _ => DEFAULT_HEARTBEAT_TIMEOUT_SECS,
        };
        let conn = ConnId(self.next_id());
        self.commands
            .push_back(Command::OpenSocket { id: conn, url });
        let link = Link {
            conn,
            app_token,
            heartbeat_ms: u64::from(heartbeat_secs) * 1_000,
            next_ack: 1,
        };
        self.inner = Inner::Connecting(Step::Socket { link });
        self.report_state(now, None);
    }

    /// `1::` arrived: register the connection.
    fn socket_accepted(&mut self, now: Instant) {
        let Inner::Connecting(Step::Socket { .. }) = &self.inner else {
            return;
        };
        let Inner::Connecting(Step::Socket { mut link }) =
            std::mem::replace(&mut self.inner, Inner::Idle)
        else {
            return;
        };
        let ack = link.take_ack();
        let request = Request::new(Method::Post, "/v1/connections").with_data(object([(
            "capabilities",
            object([("iceFinalCandidates", true.into())]),
        )]));
        self.send_request(&link, request, ack);
        self.inner = Inner::Connecting(Step::Register { link, ack });
        self.report_state(now, None);
    }

    fn ack_received(&mut self, now: Instant, ack_id: u64, args: &str) {
        let expected = match &self.inner {
            Inner::Connecting(Step::Register { ack, .. }) => *ack,
            Inner::Connected(_) => return self.call_answered(ack_id, args),
            _ => return,
        };
        if ack_id != expected {
            return;
        }
        let response = match Response::parse_ack_args(args) {
            Ok(response) => response,
            Err(error) => {
                let failure = Failure::RegisterRejected {
                    status: 0,
                    message: error.to_string(),
                };
                return self.retry(now, failure, None);
            }
        };
        let ids = (
            response.body.get("id").and_then(Value::as_str),
            response.body.get("endpointId").and_then(Value::as_str),
        );
        match ids {
            (Some(connection_id), Some(endpoint_id))
                if !response.is_error() && (200..300).contains(&response.status_code) =>
            {
                let (connection_id, endpoint_id) =
                    (connection_id.to_owned(), endpoint_id.to_owned());
                self.connected(now, endpoint_id, connection_id);
            }
            _ => {
                let message = response
                    .error_message()
                    .unwrap_or_else(|| "no connection id in the answer".into());
                let status = response.status_code;
                self.retry(now, Failure::RegisterRejected { status, message }, None);
            }
        }
    }

    fn connected(&mut self, now: Instant, endpoint_id: String, connection_id: String) {
        let Inner::Connecting(Step::Register { link, .. }) =
            std::mem::replace(&mut self.inner, Inner::Idle)
        else {
            return;
        };
        self.timers.clear(Timer::Attempt);
        self.timers.clear(Timer::Token);
        if self.config.stable_after_ms == 0 {
            self.failures = 0;
        } else {
            self.timers
                .set(Timer::Stable, now + self.config.stable_after_ms);
        }
        self.stats.connects += 1;
        self.events.push_back(Event::Connect {
            endpoint_id: endpoint_id.clone(),
            connection_id: connection_id.clone(),
            attempt: self.attempt,
        });
        self.inner = Inner::Connected(Live {
            link,
            endpoint_id,
            connection_id,
        });
        self.report_state(now, None);
        self.restore_and_flush(now);
    }

    // ----- endings -------------------------------------------------------------------------

    /// The socket or the attempt is gone: a disconnect when connected, a failed attempt
    /// otherwise. Either way a new attempt with a new token follows.
    fn lose(&mut self, now: Instant, failure: Failure) {
        if let Inner::Connected(_) = self.inner {
            let Inner::Connected(live) = std::mem::replace(&mut self.inner, Inner::Idle) else {
                return;
            };
            self.connection_lost(now, live.link, failure);
        } else {
            self.retry(now, failure, None);
        }
    }

    /// A live connection ended (its link already taken out of `inner`): close the socket,
    /// tell the app, and schedule the first attempt of a new series.
    fn connection_lost(&mut self, now: Instant, link: Link, failure: Failure) {
        self.release_link(link);
        self.clear_attempt_timers();
        self.stats.disconnects += 1;
        self.events.push_back(Event::Disconnect {
            reason: failure.to_string(),
            code: failure.code(),
            will_reconnect: true,
        });
        self.attempt = 1;
        self.schedule(now, failure.code(), None);
    }

    fn retry_or_fail(&mut self, now: Instant, failure: Failure, retry_after_ms: Option<u64>) {
        if failure.is_terminal() {
            self.fail(now, failure);
        } else {
            self.retry(now, failure, retry_after_ms);
        }
    }

    /// The current attempt failed; schedule the next one.
    fn retry(&mut self, now: Instant, failure: Failure, retry_after_ms: Option<u64>) {
        self.release_current();
        self.events.push_back(Event::Error {
            code: failure.code(),
            message: failure.to_string(),
            status: failure.status(),
            retry: true,
        });
        self.attempt = self.attempt.saturating_add(1);
        self.schedule(now, failure.code(), retry_after_ms);
    }

    fn schedule(&mut self, now: Instant, cause: &'static str, retry_after_ms: Option<u64>) {
        if let Some(ms) = retry_after_ms {
            self.not_before = Some(now + ms.min(self.config.max_retry_after_ms));
        }
        if self.blocked().is_some() {
            // Offline, hidden or suspended: no timer; the matching wake schedules the attempt.
            self.timers.clear(Timer::Backoff);
            self.inner = Inner::Waiting;
            return self.report_state(now, None);
        }
        let jitter = self.config.backoff.delay_ms(self.failures, &mut self.rng);
        self.failures = self.failures.saturating_add(1);
        // A Retry-After is a floor; the jitter on top keeps clients that got the same
        // Retry-After from coming back in the same instant.
        let delay = match retry_after_ms {
            Some(ms) => ms
                .min(self.config.max_retry_after_ms)
                .saturating_add(jitter),
            None => jitter,
        };
        let until = now + delay;
        self.timers.set(Timer::Backoff, until);
        self.inner = Inner::Waiting;
        self.events.push_back(Event::Reconnecting {
            attempt: self.attempt,
            delay_ms: delay,
            cause,
        });
        self.report_state(now, Some(delay));
    }

    /// Terminal: nothing more is sent until the app calls `reconnect()`.
    fn fail(&mut self, now: Instant, failure: Failure) {
        self.release_current();
        self.reject_all("FAILED", &failure.to_string());
        self.timers.clear_all();
        self.inner = Inner::Failed;
        self.events.push_back(Event::Error {
            code: failure.code(),
            message: failure.to_string(),
            status: failure.status(),
            retry: false,
        });
        self.events.push_back(Event::Failed {
            reason: failure.to_string(),
            status: failure.status(),
            code: failure.code(),
            reauthenticate: failure.needs_reauthentication(),
        });
        self.report_state(now, None);
    }

    /// Aborts the in-flight request and closes the socket of whatever is current.
    fn release_current(&mut self) {
        match std::mem::replace(&mut self.inner, Inner::Idle) {
            Inner::Connecting(step) => {
                self.release_step(step);
            }
            Inner::Connected(live) => self.release_link(live.link),
            other => self.inner = other,
        }
        self.clear_attempt_timers();
    }

    /// Releases an attempt's request or socket; returns its App-Token if it had one.
    fn release_step(&mut self, step: Step) -> Option<Token> {
        match step {
            Step::Token { req } | Step::Session { req } => {
                self.commands.push_back(Command::Abort { id: req });
                None
            }
            Step::Handshake { req, app_token } => {
                self.commands.push_back(Command::Abort { id: req });
                Some(app_token)
            }
            Step::Socket { link } | Step::Register { link, .. } => {
                let app_token = link.app_token.clone();
                self.release_link(link);
                Some(app_token)
            }
        }
    }

    fn release_link(&mut self, link: Link) {
        self.commands
            .push_back(Command::CloseSocket { id: link.conn });
        // Sent, unanswered, and the socket is gone: the server may or may not have acted on
        // them, so they are rejected rather than sent again (at most once).
        for flight in std::mem::take(&mut self.calls.in_flight) {
            let error = CallError::new(
                "DISCONNECTED",
                "the connection was lost before the answer arrived",
            );
            self.settle(&flight.call, Err(error));
        }
        self.arm_calls_timer();
    }

    fn clear_attempt_timers(&mut self) {
        for timer in [
            Timer::Token,
            Timer::Attempt,
            Timer::Heartbeat,
            Timer::Stable,
            Timer::Backoff,
            Timer::Verify,
        ] {
            self.timers.clear(timer);
        }
    }

    /// `DELETE /v1/session-tokens`: ends the App-Token's session on purpose. Fire and forget.
    fn end_session(&mut self, app_token: &Token) {
        let id = self.next_request_id();
        let mut headers = self.respoke_headers();
        headers.push(("App-Token".to_owned(), app_token.expose().to_owned()));
        let request = HttpRequest {
            method: HttpMethod::Delete,
            url: format!("{}/v1/session-tokens", self.config.base_url),
            headers,
            body: None,
            credentials: Credentials::Omit,
            keepalive: true,
        };
        self.commands.push_back(Command::Http { id, request });
    }

    // ----- small helpers -------------------------------------------------------------------

    fn link(&self) -> Option<&Link> {
        match &self.inner {
            Inner::Connecting(Step::Socket { link })
            | Inner::Connecting(Step::Register { link, .. }) => Some(link),
            Inner::Connected(live) => Some(&live.link),
            _ => None,
        }
    }

    fn send(&mut self, id: ConnId, text: String) {
        self.commands.push_back(Command::Send { id, text });
    }

    fn send_request(&mut self, link: &Link, request: Request, ack: u64) {
        let request = request
            .with_header("App-Token", link.app_token.expose())
            .with_header("Respoke-SDK", &self.config.sdk);
        self.send(link.conn, request.to_packet(ack).encode());
    }

    fn respoke_headers(&self) -> Vec<(String, String)> {
        vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("Respoke-SDK".to_owned(), self.config.sdk.clone()),
        ]
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn next_request_id(&mut self) -> RequestId {
        RequestId(self.next_id())
    }

    /// Emits a `State` event when the state or phase changed (always when waiting, since
    /// `retryIn` is news).
    fn report_state(&mut self, now: Instant, retry_in: Option<u64>) {
        let waiting_for = match self.inner {
            Inner::Waiting if self.timers.get(Timer::Backoff).is_none() => self.blocked(),
            _ => None,
        };
        let current = (self.state(), self.phase(), waiting_for);
        if current == self.reported && retry_in.is_none() {
            return;
        }
        let previous = self.reported.0;
        self.reported = current;
        let attempt =
            matches!(current.0, State::Connecting | State::Waiting).then_some(self.attempt);
        self.events.push_back(Event::State {
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

/// Names (groups, endpoints) kept sorted and unique in a `Vec`, as a `BTreeSet` would keep them:
/// an app joins a few, and the wasm then carries no B-tree type beside `serde_json`'s map.
#[derive(Debug, Default)]
struct NameSet(Vec<String>);

impl NameSet {
    fn extend<'a>(&mut self, names: impl IntoIterator<Item = &'a String>) {
        for name in names {
            if let Err(index) = self.0.binary_search(name) {
                self.0.insert(index, name.clone());
            }
        }
    }

    fn remove(&mut self, name: &str) {
        if let Ok(index) = self.0.binary_search_by(|n| n.as_str().cmp(name)) {
            self.0.remove(index);
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A JSON object of `fields`. Built directly: `json!` serializes every value through
/// `serde_json::to_value`, which compiles a `Value` serializer into the wasm for what is only
/// a tree of strings.
fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    let mut map = Map::new();
    for (key, value) in fields {
        map.insert(key.to_owned(), value);
    }
    Value::Object(map)
}

/// A JSON array of strings.
fn strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Value {
    let items = items.into_iter();
    Value::Array(items.map(|item| Value::from(item.as_ref())).collect())
}

/// Used when a handshake advertises no heartbeat timeout (socket.io 0.9's own default is 60).
const DEFAULT_HEARTBEAT_TIMEOUT_SECS: u32 = 60;

/// `http://h:p` -> `ws://h:p`, `https://h:p` -> `wss://h:p`.
fn websocket_base(base_url: &str) -> String {
    if let Some(rest) = base_url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base_url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base_url.to_owned()
    }
}

/// Reads `{"token": "..."}` (the app server's and `/v1/session-tokens`' answer).
fn token_from_body(body: &str) -> Result<Token, String> {
    // No preview of the body in the message: a misconfigured server may answer with the bare
    // token, and errors reach logs.
    let value: Value = serde_json::from_str(body).map_err(|_| {
        format!(
            "expected JSON {{\"token\": ...}}, got {} bytes that are not JSON",
            body.len()
        )
    })?;
    match value.get("token").and_then(Value::as_str) {
        Some(token) if !token.trim().is_empty() => Ok(Token::new(token)),
        _ => Err("no \"token\" string in the JSON answer".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use respoke_protocol::push::SendMessage;

    #[test]
    fn the_message_body_is_send_message_as_serde_writes_it() {
        let built = super::object([("to", "kirk".into()), ("message", "hi".into())]);
        let derived = serde_json::to_value(SendMessage::new("kirk", "hi")).unwrap();
        assert_eq!(built, derived);
    }
}

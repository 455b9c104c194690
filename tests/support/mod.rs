//! A virtual-time harness for the core: plays app server, Respoke and browser at once and
//! checks the invariants after every step.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};

use respoke_client::connection::{
    CallId, Command, Config, ConnId, Credentials, Environment, Event, HttpError, HttpMethod,
    HttpRequest, HttpResponse, Instant, Machine, Now, RequestId, Sink, State, TokenCallbackError,
    TokenSource,
};
use respoke_protocol::packet::Packet;

#[allow(unused_imports)]
pub use respoke_client::connection::{AppCall, Code, Input};

pub const BASE: &str = "http://127.0.0.1:3001";
pub const TOKEN_URL: &str = "/api/tokens";

/// A config talking to the harness, with the token endpoint as the source.
pub fn url_config() -> Config {
    let mut config = Config::new(TokenSource::Url {
        url: TOKEN_URL.into(),
        headers: vec![],
        credentials: Credentials::Include,
    });
    config.base_url = BASE.into();
    config.endpoint_id = Some("spock@enterprise.com".into());
    config.validate().expect("valid config")
}

/// The same with an app-supplied `getToken`.
pub fn callback_config() -> Config {
    let mut config = url_config();
    config.token_source = TokenSource::Callback;
    config
}

/// What a pending HTTP request is for, judged by its URL like a server would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Token,
    Session,
    Handshake,
    EndSession,
}

pub fn kind_of(request: &HttpRequest) -> Kind {
    if request.url == TOKEN_URL {
        Kind::Token
    } else if request.url.ends_with("/v1/session-tokens") {
        match request.method {
            HttpMethod::Delete => Kind::EndSession,
            _ => Kind::Session,
        }
    } else if request.url.contains("/socket.io/1/?") {
        Kind::Handshake
    } else {
        panic!("unexpected request {request:?}")
    }
}

/// The harness. Every input goes through [`World::step`], which drains the machine and checks
/// invariants.
pub struct World {
    pub machine: Machine,
    pub now: Instant,
    pub wall_ms: u64,
    /// Requests sent and not answered, in order.
    pub pending_http: Vec<(RequestId, HttpRequest)>,
    /// `getToken` calls not answered.
    pub pending_tokens: Vec<RequestId>,
    /// Sockets opened and not closed by the machine.
    pub open_sockets: HashSet<ConnId>,
    /// Sockets whose `open` the harness has delivered.
    pub opened: HashSet<ConnId>,
    /// Every socket ever opened, in order.
    pub sockets_ever: Vec<ConnId>,
    /// Frames sent per socket.
    pub sent: HashMap<ConnId, Vec<String>>,
    /// Every tokenId sent to /v1/session-tokens, in order.
    pub exchanged_tokens: Vec<String>,
    /// Every request ever made (ids), for stale deliveries.
    pub old_requests: Vec<RequestId>,
    pub events: Vec<(Instant, Event)>,
    pub commands: Vec<(Instant, Command)>,
    pub token_counter: u64,
    /// Token values the harness's token source has handed out.
    pub tokens_issued: Vec<String>,
    pub token_requests: usize,
    /// Set by [`World::reconnect`]: the app may restart a failed client.
    restarting: bool,
    /// When the machine wants [`Input::Timeout`] next, as the last drain said.
    pub deadline: Option<Instant>,
    /// Commands and events of the last input.
    last_counts: (usize, usize),
    /// Requests the app made.
    pub calls: Vec<respoke_client::connection::CallId>,
}

impl World {
    pub fn new(config: Config, seed: u64) -> Self {
        World {
            machine: Machine::new(config, seed),
            now: Instant::from_millis(1_000),
            wall_ms: 1_796_065_200_000,
            pending_http: vec![],
            pending_tokens: vec![],
            open_sockets: HashSet::new(),
            opened: HashSet::new(),
            sockets_ever: vec![],
            sent: HashMap::new(),
            exchanged_tokens: vec![],
            old_requests: vec![],
            events: vec![],
            commands: vec![],
            token_counter: 0,
            tokens_issued: vec![],
            token_requests: 0,
            restarting: false,
            deadline: None,
            last_counts: (0, 0),
            calls: vec![],
        }
    }

    /// The current time on both clocks.
    pub fn now(&self) -> Now {
        Now::new(self.now, self.wall_ms)
    }

    /// Runs `input` on the machine at the current time, drains it, checks invariants.
    /// Returns the number of commands and events it produced.
    pub fn step(&mut self, input: Input) -> (usize, usize) {
        let now = self.now();
        self.run(|machine| machine.handle_input(now, input));
        self.checked()
    }

    /// Runs an app request and returns its id.
    pub fn step_call(&mut self, call: AppCall) -> CallId {
        let now = self.now();
        let mut id = None;
        self.run(|machine| id = Some(machine.call(now, call)));
        self.checked();
        id.expect("a call id")
    }

    fn run(&mut self, input: impl FnOnce(&mut Machine)) {
        let mut before = self.machine.state();
        if std::mem::take(&mut self.restarting) && before == State::Failed {
            // reconnect() is the one input allowed to leave `failed`.
            before = State::Waiting;
        }
        input(&mut self.machine);
        let mut drained = Drained::default();
        self.deadline = self.machine.drain(&mut drained);
        self.last_counts = (drained.commands.len(), drained.events.len());
        for command in drained.commands {
            self.perform(before, command);
        }
        let now = self.now;
        for event in drained.events {
            self.check_event(&event);
            self.events.push((now, event));
        }
    }

    fn checked(&mut self) -> (usize, usize) {
        let now = self.now;
        let state = self.machine.state();
        assert!(
            self.open_sockets.len() <= 1,
            "two sockets open: {:?}",
            self.open_sockets
        );
        if state == State::Connected {
            assert_eq!(self.open_sockets.len(), 1, "connected without a socket");
        }
        if state.is_terminal() {
            assert!(
                self.open_sockets.is_empty(),
                "socket left open in {state:?}"
            );
            assert_eq!(self.deadline, None, "timer armed in {state:?}");
        }
        if let Some(deadline) = self.deadline {
            assert!(
                deadline >= now || state == State::Idle,
                "deadline in the past"
            );
        }
        self.last_counts
    }

    fn check_event(&self, event: &Event) {
        let text = format!("{event:?}");
        for token in &self.tokens_issued {
            assert!(
                !text.contains(token.as_str()),
                "event leaks a token: {text}"
            );
        }
        assert!(
            !text.contains("APP-TOKEN-"),
            "event leaks an App-Token: {text}"
        );
    }

    fn perform(&mut self, state_before: State, command: Command) {
        self.commands.push((self.now, command.clone()));
        match command {
            Command::Http { id, request } => {
                let kind = kind_of(&request);
                if state_before.is_terminal() {
                    panic!("request {kind:?} after {state_before:?}");
                }
                if kind == Kind::Session {
                    let body: serde_json::Value =
                        serde_json::from_str(request.body.as_deref().unwrap_or("")).unwrap();
                    let token = body["tokenId"].as_str().unwrap().to_owned();
                    assert!(
                        !self.exchanged_tokens.contains(&token),
                        "tokenId sent twice: {token}"
                    );
                    self.exchanged_tokens.push(token);
                }
                if kind == Kind::Token {
                    self.token_requests += 1;
                }
                self.old_requests.push(id);
                self.pending_http.push((id, request));
            }
            Command::GetToken { id, attempt } => {
                assert!(
                    !state_before.is_terminal(),
                    "getToken after {state_before:?}"
                );
                assert!(attempt >= 1);
                self.token_requests += 1;
                self.old_requests.push(id);
                self.pending_tokens.push(id);
            }
            Command::Abort { id } => {
                self.pending_http.retain(|(pending, _)| *pending != id);
                self.pending_tokens.retain(|pending| *pending != id);
            }
            Command::OpenSocket { id, url } => {
                assert!(
                    !state_before.is_terminal(),
                    "socket opened after {state_before:?}"
                );
                assert!(
                    self.open_sockets.is_empty(),
                    "second socket while one is open"
                );
                assert!(url.starts_with("ws://127.0.0.1:3001/socket.io/1/websocket/"));
                self.open_sockets.insert(id);
                self.sockets_ever.push(id);
            }
            Command::Send { id, text } => {
                assert!(self.open_sockets.contains(&id), "send on a closed socket");
                Packet::decode(&text).expect("the client sends valid packets");
                self.sent.entry(id).or_default().push(text);
            }
            Command::CloseSocket { id } => {
                assert!(
                    self.open_sockets.remove(&id),
                    "closing a socket that is not open"
                );
                self.opened.remove(&id);
            }
        }
    }

    // ----- the other parties ---------------------------------------------------------------

    /// The app calls `reconnect()`.
    pub fn reconnect(&mut self) {
        self.restarting = true;
        self.step(Input::Reconnect);
    }

    /// The page or the network changed.
    pub fn wake(&mut self, wake: Environment) {
        self.step(Input::Environment(wake));
    }

    /// The device slept for `ms`: the wall clock jumps, the monotonic clock does not.
    pub fn sleep_device(&mut self, ms: u64) {
        self.wall_ms += ms;
        self.step(Input::Timeout);
    }

    /// An input with nothing but the current (monotonic, wall) pair.
    pub fn tick_clock(&mut self) {
        self.step(Input::Timeout);
    }

    pub fn start(&mut self) {
        self.step(Input::Start);
    }

    pub fn advance(&mut self, ms: u64) {
        self.now = self.now + ms;
        self.wall_ms += ms;
        self.step(Input::Timeout);
    }

    /// Jumps to the next deadline and fires it.
    pub fn advance_to_deadline(&mut self) -> bool {
        match self.deadline {
            Some(deadline) => {
                let ms = deadline.millis_since(self.now);
                self.advance(ms);
                true
            }
            None => false,
        }
    }

    pub fn pending(&self, kind: Kind) -> Option<RequestId> {
        self.pending_http
            .iter()
            .find(|(_, request)| kind_of(request) == kind)
            .map(|(id, _)| *id)
    }

    fn take_pending(&mut self, kind: Kind) -> RequestId {
        let index = self
            .pending_http
            .iter()
            .position(|(_, request)| kind_of(request) == kind)
            .unwrap_or_else(|| panic!("no pending {kind:?} request: {:?}", self.pending_http));
        self.pending_http.remove(index).0
    }

    pub fn fresh_token(&mut self) -> String {
        self.token_counter += 1;
        let token = format!("TOKEN-{:08}", self.token_counter);
        self.tokens_issued.push(token.clone());
        token
    }

    pub fn respond(&mut self, kind: Kind, status: u16, body: &str, retry_after: Option<&str>) {
        let id = self.take_pending(kind);
        let response = HttpResponse {
            status,
            retry_after: retry_after.map(str::to_owned),
            body: body.to_owned(),
            wall_clock_ms: self.wall_ms,
        };
        self.step(Input::Http {
            id,
            result: Ok(response),
        });
    }

    pub fn respond_error(&mut self, kind: Kind, error: HttpError) {
        let id = self.take_pending(kind);
        self.step(Input::Http {
            id,
            result: Err(error),
        });
    }

    pub fn give_token(&mut self) {
        let token = self.fresh_token();
        self.respond(Kind::Token, 200, &format!(r#"{{"token":"{token}"}}"#), None);
    }

    pub fn give_callback_token(&mut self, token: Result<String, TokenCallbackError>) {
        let id = self.pending_tokens.remove(0);
        self.step(Input::Token { id, result: token });
    }

    pub fn give_session(&mut self) {
        self.token_counter += 1;
        let body = format!(
            r#"{{"message":"Authorization successful","token":"APP-TOKEN-{}"}}"#,
            self.token_counter
        );
        self.respond(Kind::Session, 200, &body, None);
    }

    pub fn give_handshake(&mut self, heartbeat_secs: u32) {
        self.respond(
            Kind::Handshake,
            200,
            &format!("SID{}:{heartbeat_secs}:60:websocket", self.token_counter),
            None,
        );
    }

    pub fn socket(&self) -> ConnId {
        *self.open_sockets.iter().next().expect("an open socket")
    }

    pub fn open_socket(&mut self) {
        let id = self.socket();
        self.opened.insert(id);
        self.step(Input::SocketOpen { id });
    }

    pub fn frame(&mut self, text: &str) {
        let id = self.socket();
        self.step(Input::SocketMessage {
            id,
            text: text.to_owned(),
        });
    }

    pub fn close_socket(&mut self, code: u16) {
        let id = self.socket();
        self.step(Input::SocketClose { id, code });
    }

    /// The ack id of the last request the client sent on the current socket.
    pub fn last_ack_id(&self) -> u64 {
        self.try_last_ack_id().expect("a request with an ack id")
    }

    /// Like [`World::last_ack_id`], `None` when the socket sent no request yet.
    pub fn try_last_ack_id(&self) -> Option<u64> {
        let frames = self.sent.get(self.open_sockets.iter().next()?)?;
        frames
            .iter()
            .rev()
            .find_map(|text| match Packet::decode(text) {
                Ok(Packet::Event { id: Some(id), .. }) => Some(id),
                _ => None,
            })
    }

    pub fn ack_register(&mut self) {
        let ack = self.last_ack_id();
        self.frame(&format!(
            r#"6:::{ack}+[{{"body":{{"id":"CONN-{ack}","endpointId":"spock@enterprise.com"}},"headers":{{}},"statusCode":200}}]"#
        ));
    }

    /// Plays an attempt from the token request up to the registration request (after `1::`).
    pub fn reach_register(&mut self, heartbeat_secs: u32) {
        self.give_token();
        self.give_session();
        self.give_handshake(heartbeat_secs);
        self.open_socket();
        self.frame("1::");
    }

    /// Plays a whole successful attempt from the token request on.
    pub fn connect_fully(&mut self) {
        self.reach_register(60);
        self.ack_register();
        assert_eq!(self.machine.state(), State::Connected);
    }

    pub fn events_of(&self, name: &str) -> Vec<&Event> {
        self.events
            .iter()
            .map(|(_, event)| event)
            .filter(|event| event_name(event) == name)
            .collect()
    }

    pub fn last_event(&self, name: &str) -> Option<&Event> {
        self.events_of(name).last().copied()
    }
}

/// The JS name of `event` (`"reply"` for the shell-only reply).
pub fn event_name(event: &Event) -> &'static str {
    event.name().map_or("reply", |name| name.as_str())
}

/// What one drain produced, split as the harness checks it.
#[derive(Default)]
struct Drained {
    commands: Vec<Command>,
    events: Vec<Event>,
}

impl Sink for Drained {
    fn command(&mut self, command: Command) {
        self.commands.push(command);
    }

    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
}

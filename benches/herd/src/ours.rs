//! Our client: the real `respoke_client::connection::Machine`, one per simulated browser, driven
//! through the same contract as the browser shell (`handle_input`, then `drain`, then re-arm the
//! one timer).

use std::num::NonZeroU32;
use std::time::Instant as WallClock;

use respoke_client::connection::{
    BackoffConfig, Command, Config, ConnId, Credentials, Event, HttpMethod, HttpResponse, Input,
    Instant, Machine, Now, RequestId, Sink, State, TokenSource,
};

use crate::queue::Queue;
use crate::server::{Outcome, Rejection, Server, ONE_WAY_MS, RTT_MS};

const BASE_URL: &str = "http://127.0.0.1:3001";
const TOKEN_URL: &str = "/api/tokens";
/// Wall clock handed to the core with each HTTP answer (only read for HTTP-date Retry-After).
const WALL_CLOCK_ORIGIN_MS: u64 = 1_796_065_200_000;

/// What happens next to one client in the simulation.
enum Sim {
    /// The machine's timer, armed for this instant.
    Timer(u64),
    /// An HTTP answer arrives.
    Http(RequestId, HttpResponse),
    /// The exchange request reaches the server, which admits or refuses it.
    ExchangeArrives(RequestId),
    /// The WebSocket opened.
    Open(ConnId),
    /// A text frame arrives.
    Frame(ConnId, String),
}

struct Client {
    machine: Machine,
    /// The deadline a queued `Timer` input stands for; others are stale.
    armed: Option<u64>,
    /// The socket currently open, to drop it.
    socket: Option<ConnId>,
    tokens_issued: u64,
    /// Reconnected after the drop: nothing more to simulate for it.
    done: bool,
}

fn config(backoff: BackoffConfig) -> Config {
    let mut config = Config::new(TokenSource::Url {
        url: TOKEN_URL.into(),
        headers: vec![],
        credentials: Credentials::Include,
    });
    config.base_url = BASE_URL.into();
    config.endpoint_id = Some("herd@example.com".into());
    config.backoff = backoff;
    config.validate().expect("the default config is valid")
}

fn answer(status: u16, body: String, retry_after: Option<String>, now: u64) -> HttpResponse {
    HttpResponse {
        status,
        retry_after,
        body,
        wall_clock_ms: WALL_CLOCK_ORIGIN_MS + now,
    }
}

struct World {
    clients: Vec<Client>,
    queue: Queue<Sim>,
    server: Server,
}

/// Performs one client's commands: the network and the servers, in virtual time.
struct Network<'a> {
    index: u32,
    now: u64,
    queue: &'a mut Queue<Sim>,
    server: &'a mut Server,
    socket: &'a mut Option<ConnId>,
    tokens_issued: &'a mut u64,
    done: &'a mut bool,
}

impl Sink for Network<'_> {
    fn command(&mut self, command: Command) {
        let (index, now) = (self.index, self.now);
        match command {
            Command::Http { id, request } => {
                if request.url == TOKEN_URL {
                    self.server.token_request();
                    *self.tokens_issued += 1;
                    let body = format!(r#"{{"token":"T{index}-{}"}}"#, self.tokens_issued);
                    self.queue.push(
                        now + RTT_MS,
                        index,
                        Sim::Http(id, answer(200, body, None, now + RTT_MS)),
                    );
                } else if request.url.ends_with("/v1/session-tokens") {
                    if request.method == HttpMethod::Post {
                        self.queue
                            .push(now + ONE_WAY_MS, index, Sim::ExchangeArrives(id));
                    }
                    // DELETE (ending a session on purpose) is fire and forget.
                } else if request.url.contains("/socket.io/1/?") {
                    let body = format!("SID{index}:60:60:websocket");
                    self.queue.push(
                        now + RTT_MS,
                        index,
                        Sim::Http(id, answer(200, body, None, now + RTT_MS)),
                    );
                } else {
                    panic!("unexpected request to {}", request.url);
                }
            }
            Command::OpenSocket { id, .. } => {
                *self.socket = Some(id);
                self.queue.push(now + RTT_MS, index, Sim::Open(id));
                self.queue
                    .push(now + RTT_MS + 1, index, Sim::Frame(id, "1::".into()));
            }
            Command::Send { id, text } => {
                // `5:<ack>+::{"name":"post",...}`: answer register requests through the ack.
                if text.contains("/v1/connections") {
                    if let Some(ack) = text
                        .strip_prefix("5:")
                        .and_then(|rest| rest.split('+').next())
                        .and_then(|ack| ack.parse::<u64>().ok())
                    {
                        let frame = format!(
                            r#"6:::{ack}+[{{"body":{{"id":"C{index}","endpointId":"herd@example.com"}},"headers":{{}},"statusCode":200}}]"#
                        );
                        self.queue.push(now + RTT_MS, index, Sim::Frame(id, frame));
                    }
                }
            }
            Command::CloseSocket { id } => {
                if *self.socket == Some(id) {
                    *self.socket = None;
                }
            }
            // Answers of aborted requests still arrive; the core drops them by id.
            Command::Abort { .. } => {}
            Command::GetToken { .. } => unreachable!("the herd uses tokenUrl"),
        }
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Connect { .. } if self.server.counting() => {
                self.server.recovered(self.now);
                *self.done = true;
            }
            Event::Failed { code, .. } => panic!("client {} failed: {code}", self.index),
            _ => {}
        }
    }
}

impl World {
    /// Feeds `input` to client `index` at `now`, performs what it asked for and re-arms its
    /// timer.
    fn input(&mut self, index: u32, now: u64, input: Input) {
        let client = &mut self.clients[index as usize];
        let at = Now::new(Instant::from_millis(now), WALL_CLOCK_ORIGIN_MS + now);
        client.machine.handle_input(at, input);
        let mut network = Network {
            index,
            now,
            queue: &mut self.queue,
            server: &mut self.server,
            socket: &mut client.socket,
            tokens_issued: &mut client.tokens_issued,
            done: &mut client.done,
        };
        let deadline = client.machine.drain(&mut network).map(Instant::as_millis);
        if client.done {
            return;
        }
        if deadline != client.armed {
            client.armed = deadline;
            if let Some(at) = deadline {
                self.queue.push(at.max(now), index, Sim::Timer(at));
            }
        }
    }

    fn handle(&mut self, now: u64, index: u32, sim: Sim) {
        if self.clients[index as usize].done {
            return;
        }
        let input = match sim {
            Sim::Timer(deadline) => {
                let client = &mut self.clients[index as usize];
                if client.armed != Some(deadline) {
                    return;
                }
                client.armed = None;
                Input::Timeout
            }
            Sim::Http(id, response) => Input::Http {
                id,
                result: Ok(response),
            },
            Sim::ExchangeArrives(id) => {
                let response = match self.server.exchange(now) {
                    Ok(()) => answer(
                        200,
                        format!(
                            r#"{{"message":"Authorization successful","token":"APP-{index}-{now}"}}"#
                        ),
                        None,
                        now + ONE_WAY_MS,
                    ),
                    Err(retry_after) => answer(
                        503,
                        r#"{"error":"Service Unavailable"}"#.into(),
                        retry_after,
                        now + ONE_WAY_MS,
                    ),
                };
                self.queue
                    .push(now + ONE_WAY_MS, index, Sim::Http(id, response));
                return;
            }
            Sim::Open(id) => Input::SocketOpen { id },
            Sim::Frame(id, text) => Input::SocketMessage { id, text },
        };
        self.input(index, now, input);
    }

    fn run_until(&mut self, until: u64) {
        while let Some((now, index, input)) = self.queue.pop_until(until) {
            self.handle(now, index, input);
        }
    }
}

/// Connects `clients` machines, configured with `backoff` (first attempts spread over 5 s, unlimited server), lets them
/// stay up past `stableAfterMs`, drops every socket at the same instant and runs until all are
/// back or `horizon_ms` has passed.
pub fn run(
    backoff: BackoffConfig,
    clients: u32,
    capacity: NonZeroU32,
    rejection: Rejection,
    seed: u64,
    horizon_ms: u64,
) -> Outcome {
    let started = WallClock::now();
    let config = config(backoff);
    let mut world = World {
        clients: Vec::with_capacity(clients as usize),
        queue: Queue::new(),
        server: Server::new(capacity, rejection),
    };
    let mut spread = respoke_client::connection::Rng::new(seed ^ 0x5eed);
    for index in 0..clients {
        world.clients.push(Client {
            machine: Machine::new(
                config.clone(),
                seed.wrapping_mul(1_000_003) + u64::from(index),
            ),
            armed: None,
            socket: None,
            tokens_issued: 0,
            done: false,
        });
        let start_at = spread.below_inclusive(5_000);
        world.input(index, start_at, Input::Start);
    }
    // Everyone connects within ~5 s; the backoff counter resets 10 s later (stableAfterMs).
    let drop_at = 30_000;
    world.run_until(drop_at);
    for index in 0..clients {
        let client = &world.clients[index as usize];
        assert_eq!(client.machine.state(), State::Connected, "client {index}");
    }
    world.server.release(drop_at);
    for index in 0..clients {
        let client = &world.clients[index as usize];
        let socket = client.socket.expect("a connected client has a socket");
        // Abnormal closure: the server went away without `0::`.
        let close = Input::SocketClose {
            id: socket,
            code: 1006,
        };
        world.input(index, drop_at, close);
    }
    while world.server.recovered_count() < clients as usize {
        let Some((now, index, input)) = world.queue.pop_until(drop_at + horizon_ms) else {
            break;
        };
        world.handle(now, index, input);
    }
    let name = if backoff == BackoffConfig::default() {
        "respoke-client (ours)".to_owned()
    } else {
        format!(
            "ours, backoff {}/{}/x{}",
            backoff.initial_delay_ms, backoff.max_delay_ms, backoff.multiplier
        )
    };
    world
        .server
        .outcome(&name, clients, started.elapsed().as_millis())
}

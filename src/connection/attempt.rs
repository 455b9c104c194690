//! The attempt pipeline, one phase at a time: a tokenId from the app server (or `getToken`),
//! exchanged once at `/v1/session-tokens` for an App-Token, the socket.io handshake, the
//! WebSocket and its `1::`, then `post /v1/connections`. Each transition consumes the attempt
//! and returns what comes next ([`Progress`]); classification of what went wrong is
//! `error.rs`, what the machine does about it is `machine.rs`.

use respoke_protocol::event::json_text;
use respoke_protocol::handshake::{Handshake, HandshakeQuery};
use respoke_protocol::sails::{Method, Request, Response};
use serde_json::Value;

use super::command::{
    Command, ConnId, HttpError, HttpMethod, HttpRequest, HttpResponse, RequestId,
    TokenCallbackError,
};
use super::config::{Config, Credentials, TokenSource};
use super::error::{classify_respoke_status, classify_token_status, Failure, HttpPhase};
use super::event::{Phase, Stats};
use super::link::Link;
use super::outbox::Outbox;
use super::retry_after::parse_retry_after;
use super::time::Instant;
use super::timer::{Timer, Timers};
use super::token::{Token, TokenLedger};
use super::wire::{object, token_from_body, websocket_base};

/// Used when a handshake advertises no heartbeat timeout (socket.io 0.9's own default is 60).
const DEFAULT_HEARTBEAT_TIMEOUT_SECS: u32 = 60;

/// An attempt under way, at its phase, with what that phase holds.
#[derive(Debug)]
pub(crate) enum Attempt {
    Token { req: RequestId },
    Session { req: RequestId },
    Handshake { req: RequestId, app_token: Token },
    Socket { link: Link },
    Register { link: Link, ack: u64 },
}

/// What a transition leads to.
#[derive(Debug)]
pub(crate) enum Progress {
    /// Still connecting, at the next phase (or the same one, for input it ignores).
    Next(Attempt),
    /// Registered with Respoke.
    Registered {
        link: Link,
        endpoint_id: String,
        connection_id: String,
    },
    /// The attempt failed; handed back to be released.
    Failed {
        attempt: Attempt,
        failure: Failure,
        retry_after_ms: Option<u64>,
    },
}

/// The parts of the machine a transition uses.
pub(crate) struct Ctx<'a> {
    pub config: &'a Config,
    pub out: &'a mut Outbox,
    pub ids: &'a mut Ids,
    pub timers: &'a mut Timers,
    pub ledger: &'a mut TokenLedger,
    pub stats: &'a mut Stats,
}

/// Request and socket ids: one counter, never reused, so any stale answer is recognised.
#[derive(Debug, Default)]
pub(crate) struct Ids(u64);

impl Ids {
    pub fn request(&mut self) -> RequestId {
        self.0 += 1;
        RequestId(self.0)
    }

    pub fn conn(&mut self) -> ConnId {
        self.0 += 1;
        ConnId(self.0)
    }
}

fn failed(attempt: Attempt, failure: Failure) -> Progress {
    Progress::Failed {
        attempt,
        failure,
        retry_after_ms: None,
    }
}

fn invalid(attempt: Attempt, phase: HttpPhase, message: String) -> Progress {
    failed(attempt, Failure::InvalidResponse { phase, message })
}

impl Attempt {
    /// Starts attempt number `number`: asks for a tokenId, arms the token and attempt timers.
    pub fn begin(ctx: &mut Ctx, now: Instant, number: u32) -> Attempt {
        ctx.stats.attempts += 1;
        let req = ctx.ids.request();
        let config = ctx.config;
        match &config.token_source {
            TokenSource::Url {
                url,
                headers,
                credentials,
            } => {
                let mut all_headers =
                    vec![("Content-Type".to_owned(), "application/json".to_owned())];
                all_headers.extend(headers.iter().cloned());
                let body = match &config.endpoint_id {
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
                ctx.out.command(Command::Http { id: req, request });
            }
            TokenSource::Callback => ctx.out.command(Command::GetToken {
                id: req,
                attempt: number,
            }),
        }
        ctx.timers.set(Timer::Token, now + config.token_timeout_ms);
        ctx.timers
            .set(Timer::Attempt, now + config.attempt_timeout_ms);
        Attempt::Token { req }
    }

    pub fn phase(&self) -> Phase {
        match self {
            Attempt::Token { .. } => Phase::Token,
            Attempt::Session { .. } => Phase::Session,
            Attempt::Handshake { .. } => Phase::Handshake,
            Attempt::Socket { .. } => Phase::Socket,
            Attempt::Register { .. } => Phase::Register,
        }
    }

    /// The HTTP request (or `getToken` call) the attempt waits for.
    pub fn request(&self) -> Option<RequestId> {
        match self {
            Attempt::Token { req } | Attempt::Session { req } | Attempt::Handshake { req, .. } => {
                Some(*req)
            }
            Attempt::Socket { .. } | Attempt::Register { .. } => None,
        }
    }

    pub fn link(&self) -> Option<&Link> {
        match self {
            Attempt::Socket { link } | Attempt::Register { link, .. } => Some(link),
            _ => None,
        }
    }

    /// The answer to the attempt's HTTP request.
    pub fn on_http(self, ctx: &mut Ctx, result: Result<HttpResponse, HttpError>) -> Progress {
        let phase = match self {
            Attempt::Token { .. } => HttpPhase::Token,
            Attempt::Session { .. } => HttpPhase::Session,
            Attempt::Handshake { .. } => HttpPhase::Handshake,
            Attempt::Socket { .. } | Attempt::Register { .. } => return Progress::Next(self),
        };
        let response = match result {
            Ok(response) => response,
            Err(HttpError::Network(message)) => {
                return failed(self, Failure::Network { phase, message })
            }
            Err(HttpError::BodyTooLarge { limit }) => {
                return invalid(self, phase, format!("body larger than {limit} bytes"));
            }
        };
        if !(200..300).contains(&response.status) {
            let failure = match phase {
                HttpPhase::Token => classify_token_status(response.status),
                _ => classify_respoke_status(phase, response.status),
            };
            let retry_after_ms = match response.status {
                429 | 503 => response
                    .retry_after
                    .as_deref()
                    .and_then(|value| parse_retry_after(value, response.wall_clock_ms)),
                _ => None,
            };
            return Progress::Failed {
                attempt: self,
                failure,
                retry_after_ms,
            };
        }
        match self {
            Attempt::Token { .. } => match token_from_body(&response.body) {
                Ok(token) => self.token_received(ctx, token),
                Err(message) => invalid(self, phase, message),
            },
            Attempt::Session { .. } => match token_from_body(&response.body) {
                Ok(app_token) => {
                    Progress::Next(session_received(ctx, app_token, response.wall_clock_ms))
                }
                Err(message) => invalid(self, phase, message),
            },
            Attempt::Handshake { .. } => self.handshake_received(ctx, &response),
            Attempt::Socket { .. } | Attempt::Register { .. } => Progress::Next(self),
        }
    }

    /// The answer of the app's `getToken`.
    pub fn on_token(self, ctx: &mut Ctx, result: Result<String, TokenCallbackError>) -> Progress {
        match result {
            Ok(token) if !token.trim().is_empty() => self.token_received(ctx, Token::new(token)),
            Ok(_) => {
                let message = "getToken resolved to an empty token".to_owned();
                invalid(self, HttpPhase::Token, message)
            }
            Err(TokenCallbackError::Unauthorized(message)) => {
                failed(self, Failure::TokenCallbackUnauthorized { message })
            }
            Err(TokenCallbackError::Failed(message)) => {
                failed(self, Failure::TokenCallback { message })
            }
        }
    }

    /// A tokenId arrived: exchanged at once, and never a second time.
    fn token_received(self, ctx: &mut Ctx, token: Token) -> Progress {
        ctx.timers.clear(Timer::Token);
        if !ctx.ledger.record(&token) {
            return failed(self, Failure::TokenReused);
        }
        ctx.stats.tokens_fetched += 1;
        let req = ctx.ids.request();
        let request = HttpRequest {
            method: HttpMethod::Post,
            url: format!("{}/v1/session-tokens", ctx.config.base_url),
            headers: respoke_headers(ctx.config),
            body: Some(json_text(&object([("tokenId", token.expose().into())]))),
            credentials: Credentials::Omit,
            keepalive: false,
        };
        ctx.out.command(Command::Http { id: req, request });
        Progress::Next(Attempt::Session { req })
    }

    fn handshake_received(self, ctx: &mut Ctx, response: &HttpResponse) -> Progress {
        let handshake = match Handshake::parse(&response.body) {
            Ok(handshake) if handshake.supports_websocket() => handshake,
            Ok(_) => {
                let message = "the server does not offer the websocket transport".to_owned();
                return invalid(self, HttpPhase::Handshake, message);
            }
            Err(error) => return invalid(self, HttpPhase::Handshake, error.to_string()),
        };
        let Attempt::Handshake { app_token, .. } = self else {
            return Progress::Next(self);
        };
        let config = ctx.config;
        let query = HandshakeQuery::new(app_token.expose(), &config.sdk, response.wall_clock_ms);
        let url = format!(
            "{}{}",
            websocket_base(&config.base_url),
            query.websocket_path(&handshake.sid)
        );
        let heartbeat_secs = match handshake.heartbeat_timeout_secs {
            Some(secs) if secs > 0 => secs,
            _ => DEFAULT_HEARTBEAT_TIMEOUT_SECS,
        };
        let conn = ctx.ids.conn();
        ctx.out.command(Command::OpenSocket { id: conn, url });
        let link = Link::new(conn, app_token, u64::from(heartbeat_secs) * 1_000);
        Progress::Next(Attempt::Socket { link })
    }

    /// `1::` arrived: register the connection.
    pub fn on_socket_connect(self, ctx: &mut Ctx) -> Progress {
        let Attempt::Socket { mut link } = self else {
            return Progress::Next(self);
        };
        let request = Request::new(Method::Post, "/v1/connections").with_data(object([(
            "capabilities",
            object([("iceFinalCandidates", true.into())]),
        )]));
        let ack = link.send_request(ctx.out, request, &ctx.config.sdk);
        Progress::Next(Attempt::Register { link, ack })
    }

    /// An ack arrived while registering.
    pub fn on_ack(self, ack_id: u64, args: &str) -> Progress {
        let Attempt::Register { ack, .. } = &self else {
            return Progress::Next(self);
        };
        if ack_id != *ack {
            return Progress::Next(self);
        }
        let response = match Response::parse_ack_args(args) {
            Ok(response) => response,
            Err(error) => {
                let message = error.to_string();
                return failed(self, Failure::RegisterRejected { status: 0, message });
            }
        };
        let ids = (
            response.body.get("id").and_then(Value::as_str),
            response.body.get("endpointId").and_then(Value::as_str),
        );
        match (ids, self) {
            ((Some(connection_id), Some(endpoint_id)), Attempt::Register { link, .. })
                if !response.is_error() && (200..300).contains(&response.status_code) =>
            {
                Progress::Registered {
                    link,
                    endpoint_id: endpoint_id.to_owned(),
                    connection_id: connection_id.to_owned(),
                }
            }
            (_, attempt) => {
                let message = response
                    .error_message()
                    .unwrap_or_else(|| "no connection id in the answer".into());
                let status = response.status_code;
                failed(attempt, Failure::RegisterRejected { status, message })
            }
        }
    }
}

/// The App-Token arrived: the socket.io handshake next.
fn session_received(ctx: &mut Ctx, app_token: Token, wall_clock_ms: u64) -> Attempt {
    let req = ctx.ids.request();
    let query = HandshakeQuery::new(app_token.expose(), &ctx.config.sdk, wall_clock_ms);
    let request = HttpRequest {
        method: HttpMethod::Get,
        url: format!("{}{}", ctx.config.base_url, query.handshake_path()),
        headers: Vec::new(),
        body: None,
        credentials: Credentials::Omit,
        keepalive: false,
    };
    ctx.out.command(Command::Http { id: req, request });
    Attempt::Handshake { req, app_token }
}

/// `DELETE /v1/session-tokens`: ends the App-Token's session on purpose. Fire and forget, and
/// `keepalive` so it outlives an unloading page.
pub(crate) fn end_session(ctx: &mut Ctx, app_token: &Token) {
    let id = ctx.ids.request();
    let mut headers = respoke_headers(ctx.config);
    headers.push(("App-Token".to_owned(), app_token.expose().to_owned()));
    let request = HttpRequest {
        method: HttpMethod::Delete,
        url: format!("{}/v1/session-tokens", ctx.config.base_url),
        headers,
        body: None,
        credentials: Credentials::Omit,
        keepalive: true,
    };
    ctx.out.command(Command::Http { id, request });
}

fn respoke_headers(config: &Config) -> Vec<(String, String)> {
    vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("Respoke-SDK".to_owned(), config.sdk.clone()),
    ]
}

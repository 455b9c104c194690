//! The typed Rust API, for front-ends written in Rust (Leptos, Yew, Dioxus, plain
//! wasm-bindgen): options are the core's [`Config`] (a plain struct with documented defaults),
//! events are [`ClientEvent`]s from a [`futures_util::Stream`], and every method is `async`
//! with a typed [`RespokeError`]. The same driver runs underneath as for JS.
//!
//! ```no_run
//! # async fn chat() -> Result<(), respoke_client::rust::RespokeError> {
//! use futures_util::StreamExt;
//! use respoke_client::connection::{Config, Credentials, TokenSource};
//! use respoke_client::rust::{connect, ClientEvent};
//!
//! let mut config = Config::new(TokenSource::Url {
//!     url: "/api/tokens".into(),
//!     headers: Vec::new(),
//!     credentials: Credentials::Include,
//! });
//! config.base_url = "http://127.0.0.1:3001".into();
//! config.endpoint_id = Some("spock@enterprise.com".into());
//! let client = connect(config)?;
//! let mut events = client.events();
//! client.ready().await?;
//! client.send_message("kirk@enterprise.com", "Fascinating.").await?;
//! while let Some(event) = events.next().await {
//!     if let ClientEvent::Message { from, message, .. } = event {
//!         web_sys::console::log_1(&format!("{from}: {message}").into());
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Dropping the [`Client`] disconnects it.

use std::fmt;

use futures_channel::mpsc::UnboundedReceiver;
use futures_channel::oneshot;
use futures_util::StreamExt;
use serde_json::Value;

use super::input::{Hooks, Mail, Waiter};
use super::js::{Shared, CLOSED_MESSAGE};
use super::scope;
use crate::connection::{AppCall, CallError, Code, Config, Event, Machine, State, TokenSource};

pub use crate::connection::Method;

/// What the client tells the app: the same events as the JS `listen` API (without the
/// shell-only `Reply`).
pub type ClientEvent = Event;

/// Why a call failed: the stable `code` of the JS `RespokeError`, a message, and the HTTP
/// status where an answer caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RespokeError {
    /// Stable code, e.g. `TOKEN_UNAUTHORIZED`, `REQUEST_TIMEOUT`, `CLOSED`.
    pub code: Code,
    /// Human-readable.
    pub message: String,
    /// The HTTP status, when an HTTP answer caused it.
    pub status: Option<u16>,
}

impl fmt::Display for RespokeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for RespokeError {}

impl From<CallError> for RespokeError {
    fn from(error: CallError) -> Self {
        RespokeError {
            code: error.code,
            message: error.message,
            status: error.status,
        }
    }
}

fn error(code: Code, message: impl Into<String>) -> RespokeError {
    RespokeError {
        code,
        message: message.into(),
        status: None,
    }
}

/// Who the client is connected as (the `connect` event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    /// endpointId of the connection.
    pub endpoint_id: String,
    /// connectionId of the connection.
    pub connection_id: String,
    /// Which attempt (1-based) since the previous connection succeeded.
    pub attempt: u32,
}

/// A reconnecting Respoke client. Dropping it disconnects.
pub struct Client {
    inner: super::Client,
}

/// Creates a client and starts connecting at once. `config.token_source` must be
/// [`TokenSource::Url`] (a custom token function is the JS API's `getToken`).
pub fn connect(config: Config) -> Result<Client, RespokeError> {
    if let Some(message) = scope::unsupported() {
        return Err(error(Code::UnsupportedEnvironment, message));
    }
    if !matches!(config.token_source, TokenSource::Url { .. }) {
        return Err(error(
            Code::InvalidOptions,
            "the Rust API takes tokens from a tokenUrl (TokenSource::Url)",
        ));
    }
    let config = config
        .validate()
        .map_err(|e| error(Code::InvalidOptions, e.to_string()))?;
    let hooks = Hooks {
        get_token: None,
        signal: None,
    };
    Ok(Client {
        inner: super::start(Machine::new(config, super::random_seed()), hooks),
    })
}

impl Client {
    /// Every event from now on, in order; the stream ends when the client is closed.
    pub fn events(&self) -> impl futures_util::Stream<Item = ClientEvent> + Unpin {
        self.inner
            .shared
            .subscribe()
            .filter(|event| std::future::ready(!matches!(event, Event::Reply { .. })))
    }

    /// The next `connect` (at once if connected); the `failed` code and status, or `CLOSED`.
    pub async fn ready(&self) -> Result<Connected, RespokeError> {
        let mut events: UnboundedReceiver<Event> = self.inner.shared.subscribe();
        let shared: &Shared = &self.inner.shared;
        if let Some(Event::Connect {
            endpoint_id,
            connection_id,
            attempt,
        }) = shared.connected()
        {
            return Ok(Connected {
                endpoint_id,
                connection_id,
                attempt,
            });
        }
        if let Some((code, message, status)) = shared.finished() {
            return Err(RespokeError {
                code,
                message,
                status,
            });
        }
        while let Some(event) = events.next().await {
            match event {
                Event::Connect {
                    endpoint_id,
                    connection_id,
                    attempt,
                } => {
                    return Ok(Connected {
                        endpoint_id,
                        connection_id,
                        attempt,
                    })
                }
                Event::Failed {
                    code,
                    reason,
                    status,
                    ..
                } => {
                    return Err(RespokeError {
                        code,
                        message: reason,
                        status,
                    })
                }
                _ => {}
            }
        }
        Err(error(Code::Closed, CLOSED_MESSAGE))
    }

    async fn call(&self, call: AppCall) -> Result<Value, RespokeError> {
        let (sender, receiver) = oneshot::channel();
        if self
            .inner
            .inputs
            .unbounded_send(Mail::Call(call, Waiter::Rust(sender)))
            .is_err()
        {
            return Err(error(Code::Closed, CLOSED_MESSAGE));
        }
        match receiver.await {
            Ok(result) => result.map_err(RespokeError::from),
            Err(_) => Err(error(Code::Closed, CLOSED_MESSAGE)),
        }
    }

    /// Any Respoke REST call over the socket; the answer body.
    pub async fn request(
        &self,
        method: Method,
        url: &str,
        data: Value,
    ) -> Result<Value, RespokeError> {
        if !url.starts_with('/') {
            return Err(error(
                Code::InvalidArgument,
                "url must be a path such as /v1/messages",
            ));
        }
        self.call(AppCall::Request {
            method,
            url: url.to_owned(),
            data,
        })
        .await
    }

    /// A 1:1 text message to every connection of `to`.
    pub async fn send_message(&self, to: &str, message: &str) -> Result<(), RespokeError> {
        self.call(AppCall::SendMessage {
            to: to.to_owned(),
            message: message.to_owned(),
        })
        .await
        .map(drop)
    }

    /// Sets this connection's presence (`"available"`, or `{"type", "show", "status"}`);
    /// restored after every reconnect.
    pub async fn set_presence(&self, presence: Value) -> Result<(), RespokeError> {
        self.call(AppCall::SetPresence(presence)).await.map(drop)
    }

    /// Joins a group; rejoined after every reconnect.
    pub async fn join(&self, group: &str) -> Result<(), RespokeError> {
        self.call(AppCall::Join(group.to_owned())).await.map(drop)
    }

    /// Leaves a group.
    pub async fn leave(&self, group: &str) -> Result<(), RespokeError> {
        self.call(AppCall::Leave(group.to_owned())).await.map(drop)
    }

    /// Publishes a message to every member of a group.
    pub async fn publish(&self, group: &str, message: &str) -> Result<(), RespokeError> {
        self.call(AppCall::Publish {
            group: group.to_owned(),
            message: message.to_owned(),
        })
        .await
        .map(drop)
    }

    /// Receives `presence` events of these endpoints; restored after every reconnect.
    pub async fn observe_presence(&self, endpoint_ids: &[&str]) -> Result<(), RespokeError> {
        let ids = endpoint_ids.iter().map(|id| (*id).to_owned()).collect();
        self.call(AppCall::ObservePresence(ids)).await.map(drop)
    }

    /// Ends everything for good (as dropping the client does). Idempotent.
    pub fn disconnect(&self) {
        self.inner.disconnect();
    }

    /// Tries now with a fresh token and backoff.
    pub fn reconnect(&self) {
        self.inner.reconnect();
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.inner.shared.state()
    }

    /// endpointId of the live connection.
    pub fn endpoint_id(&self) -> Option<String> {
        self.inner.shared.endpoint_id()
    }

    /// connectionId of the live connection.
    pub fn connection_id(&self) -> Option<String> {
        self.inner.shared.connection_id()
    }
}

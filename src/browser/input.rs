//! What the driver's mailbox carries: every input from JS callbacks, the app's calls and how
//! their outcome is delivered, and the app-side hooks. Senders (the socket, the lifecycle
//! listeners, the `Client` handles) depend on this file, not on the driver.

use futures_channel::oneshot;
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::js::{self, CLOSED_MESSAGE};
use crate::connection::{
    CallError, ConnId, HttpError, HttpResponse, Method, RequestId, TokenCallbackError, Wake,
};

/// Everything that can happen to a client.
pub enum Input {
    /// The app called `disconnect()` (or aborted its signal).
    Disconnect,
    /// The app called `reconnect()`.
    Reconnect,
    /// A fetch finished.
    Http(RequestId, Result<HttpResponse, HttpError>),
    /// `getToken` settled.
    Token(RequestId, Result<String, TokenCallbackError>),
    /// Socket callbacks.
    SocketOpen(ConnId),
    /// A text frame.
    SocketMessage(ConnId, String),
    /// Closed, with its code.
    SocketClose(ConnId, u16),
    /// The timer fired.
    Timer,
    /// The network or the page changed.
    Wake(Wake),
    /// The app made a request; its promise settles with the core's reply.
    Call(CallOp, Settle),
}

/// Who waits for the outcome of one request.
pub enum Settle {
    /// A JS promise.
    Js {
        /// Called with the answer body.
        resolve: js_sys::Function,
        /// Called with a RespokeError.
        reject: js_sys::Function,
        /// Resolve with `undefined` rather than the body (the typed helpers return
        /// `Promise<void>`).
        void: bool,
    },
    /// A Rust future ([`crate::rust`]).
    Rust(oneshot::Sender<Result<serde_json::Value, CallError>>),
}

impl Settle {
    /// The request can no longer be made: the client is closed.
    pub fn closed(self) {
        match self {
            Settle::Js { reject, .. } => {
                let error = js::respoke_error("CLOSED", CLOSED_MESSAGE, None);
                let _ = reject.call1(&JsValue::UNDEFINED, &error);
            }
            Settle::Rust(sender) => {
                let _ = sender.send(Err(CallError {
                    code: "CLOSED",
                    message: CLOSED_MESSAGE.into(),
                    status: None,
                }));
            }
        }
    }
}

/// What the app asked for.
pub enum CallOp {
    /// `request(method, url, data)`.
    Request(Method, String, serde_json::Value),
    /// `sendMessage({to, message})`.
    SendMessage(String, String),
    /// `setPresence(presence)`.
    SetPresence(serde_json::Value),
    /// `join(group)`.
    Join(String),
    /// `leave(group)`.
    Leave(String),
    /// `publish({group, message})`.
    Publish(String, String),
    /// `observePresence(endpointIds)`.
    ObservePresence(Vec<String>),
}

/// The client's app-side hooks the driver needs.
pub struct Hooks {
    /// The app's `getToken`, if it gave one.
    pub get_token: Option<js_sys::Function>,
    /// The app's `signal`, if it gave one.
    pub signal: Option<AbortSignal>,
}

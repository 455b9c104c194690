//! What the driver's mailbox carries: every input from JS callbacks, the app's calls and who
//! waits for their outcome, and the app-side hooks. Senders (the socket, the lifecycle
//! listeners, the `Client` handles) depend on this file, not on the driver.

use futures_channel::oneshot;
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::js::{self, CLOSED_MESSAGE};
use crate::connection::{AppCall, CallError, Code, Input};

/// What the driver's mailbox carries.
pub enum Mail {
    /// Anything that happens to the connection (an answer, a socket callback, the timer, a
    /// page or network change, the app's `disconnect()`/`reconnect()`).
    Input(Input),
    /// The app made a request; its promise (or future) settles with the core's reply.
    Call(AppCall, Waiter),
}

/// Who waits for the outcome of one request.
pub enum Waiter {
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

impl Waiter {
    /// The request can no longer be made: the client is closed.
    pub fn reject_closed(self) {
        match self {
            Waiter::Js { reject, .. } => {
                let error = js::respoke_error(Code::Closed.as_str(), CLOSED_MESSAGE, None);
                let _ = reject.call1(&JsValue::UNDEFINED, &error);
            }
            Waiter::Rust(sender) => {
                let _ = sender.send(Err(CallError {
                    code: Code::Closed,
                    message: CLOSED_MESSAGE.into(),
                    status: None,
                }));
            }
        }
    }
}

/// The client's app-side hooks the driver needs.
pub struct Hooks {
    /// The app's `getToken`, if it gave one.
    pub get_token: Option<js_sys::Function>,
    /// The app's `signal`, if it gave one.
    pub signal: Option<AbortSignal>,
}

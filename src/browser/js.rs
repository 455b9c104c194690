//! Conversions between the core and JS: events, errors, the listener registry, `ready()`.

use crate::prelude::*;

use core::cell::RefCell;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::driver::Listeners;
use crate::core::{Event, Machine, State, Stats, TokenCallbackError};
use respoke_protocol::json::Value;

/// The names `listen` accepts.
pub const EVENT_NAMES: [&str; 11] = [
    "connect",
    "disconnect",
    "reconnecting",
    "failed",
    "state",
    "error",
    "message",
    "presence",
    "join",
    "leave",
    "pubsub",
];

/// [`EVENT_NAMES`] for messages (a constant: no join code in the wasm).
pub const EVENT_LIST: &str =
    "connect, disconnect, reconnecting, failed, state, error, message, presence, join, leave, pubsub";

// EVENT_LIST is EVENT_NAMES joined with ", ", checked when compiling.
const _: () = assert!(is_joined(&EVENT_NAMES, EVENT_LIST.as_bytes()));

const fn is_joined(names: &[&str], list: &[u8]) -> bool {
    let mut at = 0;
    let mut n = 0;
    while n < names.len() {
        if n > 0 {
            if at + 2 > list.len() || list[at] != b',' || list[at + 1] != b' ' {
                return false;
            }
            at += 2;
        }
        let name = names[n].as_bytes();
        let mut i = 0;
        while i < name.len() {
            if at >= list.len() || list[at] != name[i] {
                return false;
            }
            at += 1;
            i += 1;
        }
        n += 1;
    }
    at == list.len()
}

/// A JS `Error` with `name = "RespokeError"`, a stable `code`, and `status` when given.
pub fn respoke_error(code: &str, message: &str, status: Option<u16>) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name("RespokeError");
    let _ = js_sys::Reflect::set(&error, &"code".into(), &code.into());
    if let Some(status) = status {
        let _ = js_sys::Reflect::set(&error, &"status".into(), &status.into());
    }
    error.into()
}

/// A plain object from key/value pairs.
pub fn object(entries: &[(&str, JsValue)]) -> js_sys::Object {
    let object = js_sys::Object::new();
    for (key, value) in entries {
        let _ = js_sys::Reflect::set(&object, &(*key).into(), value);
    }
    object
}

fn get(value: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(value, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// What `getToken` resolved to: a string, or `{token: string}`.
pub fn token_from_value(value: &JsValue) -> Result<String, TokenCallbackError> {
    let token = value
        .as_string()
        .or_else(|| get(value, "token").as_string());
    token.ok_or_else(|| {
        TokenCallbackError::Failed("getToken must resolve to a string or {token: string}".into())
    })
}

/// What `getToken` threw or rejected with. An error named `UnauthorizedError`, with code
/// `UNAUTHORIZED`, or with status 401/403 means the user must log in again (terminal).
pub fn token_error(error: &JsValue) -> TokenCallbackError {
    let message = get(error, "message")
        .as_string()
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "getToken failed".into());
    let name = get(error, "name").as_string().unwrap_or_default();
    let code = get(error, "code").as_string().unwrap_or_default();
    let status = get(error, "status").as_f64();
    if name == "UnauthorizedError"
        || code == "UNAUTHORIZED"
        || matches!(status, Some(s) if s == 401.0 || s == 403.0)
    {
        TokenCallbackError::Unauthorized(message)
    } else {
        TokenCallbackError::Failed(message)
    }
}

/// A core event as the JS object the `.d.ts` describes (plain objects, numbers).
pub fn event_to_js(event: &Event) -> JsValue {
    to_js(&event.to_json())
}

/// A JSON value (an answer body, the stats, an event) as a plain JS value: written as JSON
/// text and read by the browser's `JSON.parse`, which costs the wasm nothing.
pub fn to_js(value: &Value) -> JsValue {
    js_sys::JSON::parse(&value.encode()).unwrap_or(JsValue::UNDEFINED)
}

/// A JS value the app handed in, as JSON (`JSON.stringify`, then parsed); `None` if it is
/// not JSON-serializable (a function, a BigInt, a cycle).
pub fn from_js(value: &JsValue) -> Option<Value> {
    let text = js_sys::JSON::stringify(value).ok()?.as_string()?;
    Value::parse(&text).ok()
}

#[derive(Default)]
struct Snapshot {
    state: Option<State>,
    endpoint_id: Option<String>,
    connection_id: Option<String>,
    stats: Stats,
    last_connect: Option<JsValue>,
    finished: Option<(&'static str, String)>,
}

/// What the `Client` handle and the driver share: listeners, a snapshot for the getters, and
/// the pending `ready()` promises. Borrows never outlive a method, and no JS is called while
/// one is held.
#[derive(Default)]
pub struct Shared {
    listeners: Listeners,
    snapshot: RefCell<Snapshot>,
    waiters: RefCell<Vec<(js_sys::Function, js_sys::Function)>>,
}

impl Shared {
    /// Adds a listener.
    pub fn listen(&self, name: &'static str, handler: js_sys::Function) {
        self.listeners.borrow_mut().push((name, handler));
    }

    /// Removes one listener, or all of an event.
    pub fn ignore(&self, name: &str, handler: Option<&js_sys::Function>) {
        self.listeners.borrow_mut().retain(|(n, h)| {
            *n != name || handler.is_some_and(|handler| !js_sys::Object::is(h, handler))
        });
    }

    /// Number of listeners registered by the app.
    pub fn listener_count(&self) -> usize {
        self.listeners.borrow().len()
    }

    /// Copies what the getters show.
    pub fn update_snapshot(&self, machine: &Machine) {
        let mut snapshot = self.snapshot.borrow_mut();
        snapshot.state = Some(machine.state());
        snapshot.endpoint_id = machine.endpoint_id().map(str::to_owned);
        snapshot.connection_id = machine.connection_id().map(str::to_owned);
        snapshot.stats = machine.stats();
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.snapshot.borrow().state.unwrap_or(State::Idle)
    }

    /// endpointId, if connected.
    pub fn endpoint_id(&self) -> Option<String> {
        self.snapshot.borrow().endpoint_id.clone()
    }

    /// connectionId, if connected.
    pub fn connection_id(&self) -> Option<String> {
        self.snapshot.borrow().connection_id.clone()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.snapshot.borrow().stats
    }

    /// A promise of the next `connect` (at once if connected).
    pub fn ready(&self) -> js_sys::Promise {
        js_sys::Promise::new(&mut |resolve, reject| {
            let snapshot = self.snapshot.borrow();
            let finished = match snapshot.state {
                Some(State::Failed | State::Closed) => snapshot.finished.as_ref(),
                _ => None,
            };
            if let (Some(State::Connected), Some(event)) = (snapshot.state, &snapshot.last_connect)
            {
                let _ = resolve.call1(&JsValue::UNDEFINED, event);
            } else if let Some((code, message)) = finished {
                let _ = reject.call1(&JsValue::UNDEFINED, &respoke_error(code, message, None));
            } else {
                drop(snapshot);
                self.waiters.borrow_mut().push((resolve, reject));
            }
        })
    }

    /// Hands `event` to the app's listeners and settles `ready()` promises.
    pub fn dispatch(&self, event: &Event) {
        let value = event_to_js(event);
        match event {
            Event::Connect { .. } => {
                self.snapshot.borrow_mut().last_connect = Some(value.clone());
                self.settle(|(resolve, _)| resolve, &value);
            }
            Event::Failed { code, reason, .. } => {
                // Kept for ready() calls made while failed; reconnect() may start again.
                self.snapshot.borrow_mut().finished = Some((code, reason.clone()));
                self.settle(|(_, reject)| reject, &respoke_error(code, reason, None));
            }
            Event::State {
                state: State::Closed,
                ..
            } => self.close(),
            _ => {}
        }
        self.call_listeners(event.name(), &value);
    }

    fn call_listeners(&self, name: &str, value: &JsValue) {
        let handlers: Vec<js_sys::Function> = self
            .listeners
            .borrow()
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, h)| h.clone())
            .collect();
        for handler in handlers {
            if let Err(thrown) = handler.call1(&JsValue::UNDEFINED, value) {
                let message = get(&thrown, "message")
                    .as_string()
                    .unwrap_or_else(|| "a listener threw".into());
                if name == "error" {
                    // Never loop: an error listener that throws goes to the console.
                    web_sys::console::error_2(
                        &"respoke-client: error listener threw".into(),
                        &thrown,
                    );
                } else {
                    let error = Event::Error {
                        code: "LISTENER_ERROR",
                        message: format!("a {name} listener threw: {message}"),
                        status: None,
                        retry: true,
                    };
                    self.call_listeners("error", &event_to_js(&error));
                }
            }
        }
    }

    /// The client is closed: pending and future `ready()` calls reject.
    pub fn close(&self) {
        let message = "the client was disconnected".to_owned();
        self.snapshot.borrow_mut().finished = Some(("CLOSED", message.clone()));
        self.settle(
            |(_, reject)| reject,
            &respoke_error("CLOSED", &message, None),
        );
    }

    fn settle(
        &self,
        pick: impl Fn((js_sys::Function, js_sys::Function)) -> js_sys::Function,
        value: &JsValue,
    ) {
        let waiters = core::mem::take(&mut *self.waiters.borrow_mut());
        for waiter in waiters {
            let _ = pick(waiter).call1(&JsValue::UNDEFINED, value);
        }
    }
}

/// `value` as a function, for `listen`/`getToken`.
pub fn as_function(value: &JsValue) -> Option<js_sys::Function> {
    value.dyn_ref::<js_sys::Function>().cloned()
}

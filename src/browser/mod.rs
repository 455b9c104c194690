//! The browser shell: performs the core's commands with fetch, WebSocket and timers, and
//! exports the JS API (`connect`, `Client`). Types are in `src/api.d.ts`.

mod counters;
mod driver;
mod http;
mod input;
mod js;
mod lifecycle;
mod options;
pub mod rust_api;
mod scope;
mod socket;

use std::rc::Rc;

use futures_channel::mpsc::{unbounded, UnboundedSender};
use wasm_bindgen::prelude::*;

use serde::{Deserialize, Serialize};

use crate::connection::{AppCall, Code, EventName, Input, Machine, Method, State};
use input::{Mail, Waiter};
use js::{as_function, respoke_error, Shared};

/// A reconnecting Respoke client (see `Client` in `api.d.ts`).
#[wasm_bindgen(skip_typescript)]
pub struct Client {
    inputs: UnboundedSender<Mail>,
    shared: Rc<Shared>,
}

/// Creates a client and starts connecting at once.
#[wasm_bindgen(skip_typescript)]
pub fn connect(options: JsValue) -> Result<Client, JsValue> {
    if let Some(message) = scope::unsupported() {
        return Err(respoke_error(
            Code::UnsupportedEnvironment.as_str(),
            &message,
            None,
        ));
    }
    let (config, hooks) = options::parse(options)
        .map_err(|error| respoke_error(Code::InvalidOptions.as_str(), &error.0, None))?;
    Ok(start(Machine::new(config, random_seed()), hooks))
}

/// Starts the driver of a new client (for `connect` and the Rust API's).
fn start(machine: Machine, hooks: input::Hooks) -> Client {
    let (inputs, receiver) = unbounded();
    let shared = Rc::new(Shared::default());
    driver::spawn(machine, hooks, shared.clone(), inputs.clone(), receiver);
    Client { inputs, shared }
}

#[wasm_bindgen]
impl Client {
    /// Registers `handler` for `event`.
    #[wasm_bindgen(skip_typescript)]
    pub fn listen(&self, event: &str, handler: JsValue) -> Result<(), JsValue> {
        let name = event_name(event)?;
        let handler = as_function(&handler).ok_or_else(|| {
            respoke_error(
                Code::InvalidArgument.as_str(),
                "listen: handler must be a function",
                None,
            )
        })?;
        self.shared.listen(name, handler);
        Ok(())
    }

    /// Removes `handler`, or every handler of `event`.
    #[wasm_bindgen(skip_typescript)]
    pub fn ignore(&self, event: &str, handler: JsValue) -> Result<(), JsValue> {
        let name = event_name(event)?;
        self.shared.ignore(name, as_function(&handler).as_ref());
        Ok(())
    }

    /// Ends everything for good. Idempotent.
    #[wasm_bindgen(skip_typescript)]
    pub fn disconnect(&self) {
        let _ = self.inputs.unbounded_send(Mail::Input(Input::Disconnect));
        self.shared.assume_state(State::Closed);
    }

    /// Tries now with a fresh token and backoff.
    #[wasm_bindgen(skip_typescript)]
    pub fn reconnect(&self) {
        if self
            .inputs
            .unbounded_send(Mail::Input(Input::Reconnect))
            .is_ok()
        {
            self.shared.assume_state(State::Connecting);
        }
    }

    /// A promise of the next `connect`.
    #[wasm_bindgen(skip_typescript)]
    pub fn ready(&self) -> js_sys::Promise {
        self.shared.ready()
    }

    /// Any Respoke REST call over the socket; resolves with the answer body.
    #[wasm_bindgen(skip_typescript)]
    pub fn request(&self, method: JsValue, url: JsValue, data: JsValue) -> js_sys::Promise {
        let method = match method
            .as_string()
            .map(|m| m.to_ascii_lowercase())
            .as_deref()
        {
            Some("get") => Method::Get,
            Some("post") => Method::Post,
            Some("put") => Method::Put,
            Some("delete") => Method::Delete,
            _ => return rejected("request: method must be get, post, put or delete"),
        };
        let Some(url) = url.as_string().filter(|u| u.starts_with('/')) else {
            return rejected("request: url must be a path such as /v1/messages");
        };
        let data = if data.is_undefined() || data.is_null() {
            serde_json::Value::Object(serde_json::Map::new())
        } else {
            match js::json_from_js(data) {
                Some(value) => value,
                None => return rejected("request: data must be JSON-serializable"),
            }
        };
        self.call(AppCall::Request { method, url, data }, false)
    }

    /// A 1:1 text message to every connection of `to`.
    #[wasm_bindgen(js_name = sendMessage, skip_typescript)]
    pub fn send_message(&self, options: JsValue) -> js_sys::Promise {
        match serde_wasm_bindgen::from_value::<SendMessageOptions>(options) {
            Ok(SendMessageOptions { to, message }) => {
                self.call(AppCall::SendMessage { to, message }, true)
            }
            Err(_) => rejected("sendMessage: expected {to: string, message: string}"),
        }
    }

    /// Sets this connection's presence; restored after every reconnect.
    #[wasm_bindgen(js_name = setPresence, skip_typescript)]
    pub fn set_presence(&self, presence: JsValue) -> js_sys::Promise {
        match js::json_from_js(presence) {
            Some(value) => self.call(AppCall::SetPresence(value), true),
            None => rejected("setPresence: expected a string or {type: string}"),
        }
    }

    /// Joins a group; rejoined after every reconnect.
    #[wasm_bindgen(skip_typescript)]
    pub fn join(&self, group: JsValue) -> js_sys::Promise {
        match group.as_string().filter(|g| !g.is_empty()) {
            Some(group) => self.call(AppCall::Join(group), true),
            None => rejected("join: group must be a non-empty string"),
        }
    }

    /// Leaves a group.
    #[wasm_bindgen(skip_typescript)]
    pub fn leave(&self, group: JsValue) -> js_sys::Promise {
        match group.as_string().filter(|g| !g.is_empty()) {
            Some(group) => self.call(AppCall::Leave(group), true),
            None => rejected("leave: group must be a non-empty string"),
        }
    }

    /// Publishes a message to every member of a group.
    #[wasm_bindgen(skip_typescript)]
    pub fn publish(&self, options: JsValue) -> js_sys::Promise {
        match serde_wasm_bindgen::from_value::<PublishOptions>(options) {
            Ok(PublishOptions { group, message }) if !group.is_empty() => {
                self.call(AppCall::Publish { group, message }, true)
            }
            _ => rejected("publish: expected {group: string, message: string}"),
        }
    }

    /// Receives `presence` events of these endpoints; restored after every reconnect.
    #[wasm_bindgen(js_name = observePresence, skip_typescript)]
    pub fn observe_presence(&self, endpoint_ids: JsValue) -> js_sys::Promise {
        match serde_wasm_bindgen::from_value::<Vec<String>>(endpoint_ids) {
            Ok(ids) => self.call(AppCall::ObservePresence(ids), true),
            Err(_) => rejected("observePresence: expected an array of endpointIds"),
        }
    }

    /// Counters since `connect`.
    #[wasm_bindgen(skip_typescript)]
    pub fn stats(&self) -> JsValue {
        js::to_js(&self.shared.stats())
    }

    /// Current state.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn state(&self) -> String {
        self.shared.state().as_str().to_owned()
    }

    /// endpointId of the live connection.
    #[wasm_bindgen(getter, js_name = endpointId, skip_typescript)]
    pub fn endpoint_id(&self) -> Option<String> {
        self.shared.endpoint_id()
    }

    /// connectionId of the live connection.
    #[wasm_bindgen(getter, js_name = connectionId, skip_typescript)]
    pub fn connection_id(&self) -> Option<String> {
        self.shared.connection_id()
    }
}

/// Dropping the handle (`free()` from JS, its garbage collection, or the end of its scope in
/// Rust) ends the client: a connection nobody can reach any more must not stay up.
impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.inputs.unbounded_send(Mail::Input(Input::Disconnect));
    }
}

impl Client {
    fn call(&self, call: AppCall, void: bool) -> js_sys::Promise {
        let mut call = Some(call);
        js_sys::Promise::new(&mut |resolve, reject| {
            let Some(call) = call.take() else { return };
            let waiter = Waiter::Js {
                resolve,
                reject: reject.clone(),
                void,
            };
            if self
                .inputs
                .unbounded_send(Mail::Call(call, waiter))
                .is_err()
            {
                let error = respoke_error(Code::Closed.as_str(), js::CLOSED_MESSAGE, None);
                let _ = reject.call1(&JsValue::UNDEFINED, &error);
            }
        })
    }
}

fn rejected(message: &str) -> js_sys::Promise {
    js_sys::Promise::reject(&respoke_error(
        Code::InvalidArgument.as_str(),
        message,
        None,
    ))
}

/// Used by the package's JS entry (`index.js`): errors are made as instances of its
/// `RespokeError` class.
#[wasm_bindgen(js_name = __registerErrorClass, skip_typescript)]
pub fn register_error_class(class: js_sys::Function) {
    js::register_error_class(class);
}

/// Counts of live objects the shell created (sockets, timers, requests, listeners), for leak
/// checks. Not needed by apps.
#[wasm_bindgen(js_name = debugCounters, skip_typescript)]
pub fn debug_counters() -> JsValue {
    js::to_js(&DebugCounters {
        sockets: counters::SOCKETS.get(),
        drivers: counters::DRIVERS.get(),
        requests: counters::REQUESTS.get(),
        timers: counters::TIMERS.get(),
        dom_listeners: counters::DOM_LISTENERS.get(),
    })
}

/// What `debugCounters()` returns.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DebugCounters {
    sockets: i32,
    drivers: i32,
    requests: i32,
    timers: i32,
    dom_listeners: i32,
}

/// `sendMessage`'s argument.
#[derive(Deserialize)]
struct SendMessageOptions {
    to: String,
    message: String,
}

/// `publish`'s argument.
#[derive(Deserialize)]
struct PublishOptions {
    group: String,
    message: String,
}

/// The app's listener count on `client` (for leak tests).
#[doc(hidden)]
pub fn listener_count(client: &Client) -> usize {
    client.shared.listener_count()
}

fn event_name(event: &str) -> Result<EventName, JsValue> {
    EventName::parse(event).ok_or_else(|| {
        // Pushed one by one: `join` would compile a slice-join routine for this message.
        let mut message = format!("unknown event {event:?}; expected one of ");
        for (index, name) in EventName::ALL.iter().enumerate() {
            if index > 0 {
                message.push_str(", ");
            }
            message.push_str(name.as_str());
        }
        respoke_error(Code::InvalidArgument.as_str(), &message, None)
    })
}

/// The names `listen` accepts, in the order `api.d.ts` declares them (the demo lists its
/// event log's filters from this).
#[wasm_bindgen(js_name = eventNames, skip_typescript)]
pub fn event_names() -> JsValue {
    let names: Vec<&str> = EventName::ALL.iter().map(|name| name.as_str()).collect();
    js::to_js(&names)
}

fn random_seed() -> u64 {
    let high = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    let low = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    (high << 32) | low
}

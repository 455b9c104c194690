//! Conversions between the core and JS: events, errors, the listener registry, `ready()`.

use std::cell::RefCell;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::connection::{Code, Event, EventName, Machine, State, Stats, TokenCallbackError};

pub use crate::connection::CLOSED_MESSAGE;

/// A JS `Error` with `name = "RespokeError"`, a stable `code`, and `status` when given.
///
/// The package's JS entry registers its `RespokeError` class ([`register_error_class`]), so
/// that errors made here are instances of it (`e instanceof RespokeError`); without it (the
/// raw wasm-bindgen module, or a Rust app) they are plain `Error`s with the same fields.
pub fn respoke_error(code: &str, message: &str, status: Option<u16>) -> JsValue {
    let class = ERROR_CLASS.with(|class| class.borrow().clone());
    if let Some(class) = class {
        let options = js_sys::Object::new();
        if let Some(status) = status {
            let _ = js_sys::Reflect::set(&options, &"status".into(), &status.into());
        }
        let args = js_sys::Array::of3(&code.into(), &message.into(), &options);
        if let Ok(error) = js_sys::Reflect::construct(&class, &args) {
            return error;
        }
    }
    let error = js_sys::Error::new(message);
    error.set_name("RespokeError");
    let _ = js_sys::Reflect::set(&error, &"code".into(), &code.into());
    if let Some(status) = status {
        let _ = js_sys::Reflect::set(&error, &"status".into(), &status.into());
    }
    error.into()
}

thread_local! {
    static ERROR_CLASS: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

/// Makes [`respoke_error`] construct `new class(code, message, {status})`.
pub fn register_error_class(class: js_sys::Function) {
    ERROR_CLASS.with(|slot| *slot.borrow_mut() = Some(class));
}

fn get(value: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(value, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// What `getToken` resolved to: a string, or `{token: string}`.
pub fn token_from_value(value: JsValue) -> Result<String, TokenCallbackError> {
    #[derive(serde::Deserialize)]
    struct Answer {
        token: String,
    }
    // Not an untagged enum: serde would buffer the value in its `Content` tree, whose type
    // errors print floats (and so pull all of `core`'s float formatting into the wasm).
    let token = match value.as_string() {
        Some(token) => Some(token),
        None => serde_wasm_bindgen::from_value::<Answer>(value)
            .ok()
            .map(|answer| answer.token),
    };
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
    to_js(event)
}

/// Any serializable value (an event, an answer body, the stats) as a plain JS value: objects,
/// not `Map`s (serde-wasm-bindgen's JSON-compatible serializer).
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::UNDEFINED)
}

/// Nesting deeper than this in a value the app hands in is refused: it is a cycle (which would
/// recurse until the wasm stack overflows) or nothing a Respoke request could carry.
const MAX_DEPTH: usize = 64;

/// A JS value the app handed in (request data, a presence), as JSON; `None` if it is not
/// JSON-like (a function, a symbol, a BigInt, a cycle or nesting deeper than [`MAX_DEPTH`]).
pub fn json_from_js(value: JsValue) -> Option<serde_json::Value> {
    Bounded(MAX_DEPTH)
        .deserialize(serde_wasm_bindgen::Deserializer::from(value))
        .ok()
}

/// Deserializes a `serde_json::Value` with at most `.0` levels of arrays and objects.
#[derive(Clone, Copy)]
struct Bounded(usize);

impl<'de> DeserializeSeed<'de> for Bounded {
    type Value = serde_json::Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded {
    type Value = serde_json::Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON value")
    }
    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(value.into())
    }
    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(value.into())
    }
    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(value.into())
    }
    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        // NaN and the infinities become null, as JSON.stringify writes them.
        Ok(serde_json::Number::from_f64(value).map_or(serde_json::Value::Null, Into::into))
    }
    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(value.into())
    }
    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(value.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
        self.deserialize(inner)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let inner = self.nested::<A::Error>()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(serde_json::Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let inner = self.nested::<A::Error>()?;
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(inner)?;
            object.insert(key, value);
        }
        Ok(serde_json::Value::Object(object))
    }
}

impl Bounded {
    fn nested<E: de::Error>(self) -> Result<Bounded, E> {
        match self.0.checked_sub(1) {
            Some(depth) => Ok(Bounded(depth)),
            None => Err(E::custom("nested too deeply (or a cycle)")),
        }
    }
}

#[derive(Default)]
struct Snapshot {
    state: Option<State>,
    endpoint_id: Option<String>,
    connection_id: Option<String>,
    stats: Stats,
    /// The `connect` event of the current connection (`ready()` resolves with it).
    last_connect: Option<Event>,
    /// Why `ready()` rejects now: code, message, HTTP status.
    finished: Option<(Code, String, Option<u16>)>,
}

/// What the `Client` handle and the driver share: listeners, a snapshot for the getters, and
/// the pending `ready()` promises. Borrows never outlive a method, and no JS is called while
/// one is held.
#[derive(Default)]
pub struct Shared {
    listeners: Listeners,
    /// The event streams of the Rust API ([`crate::rust::Client::events`]).
    subscribers: RefCell<Vec<futures_channel::mpsc::UnboundedSender<Event>>>,
    snapshot: RefCell<Snapshot>,
    waiters: RefCell<Vec<(js_sys::Function, js_sys::Function)>>,
}

impl Shared {
    /// Adds a listener.
    pub fn listen(&self, name: EventName, handler: js_sys::Function) {
        self.listeners.borrow_mut().push((name, handler));
    }

    /// Removes one listener, or all of an event.
    pub fn ignore(&self, name: EventName, handler: Option<&js_sys::Function>) {
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
        // Copied when they change (at a connect or a disconnect), not after every input.
        if snapshot.endpoint_id.as_deref() != machine.endpoint_id() {
            snapshot.endpoint_id = machine.endpoint_id().map(str::to_owned);
        }
        if snapshot.connection_id.as_deref() != machine.connection_id() {
            snapshot.connection_id = machine.connection_id().map(str::to_owned);
        }
        snapshot.stats = machine.stats();
    }

    /// What the getters show at once after `disconnect()` / `reconnect()`, before the driver
    /// (a microtask later) has run the core: `closed`, or `connecting` (a terminal state stays).
    pub fn assume_state(&self, state: State) {
        let mut snapshot = self.snapshot.borrow_mut();
        if snapshot.state != Some(State::Closed) {
            snapshot.state = Some(state);
            if state != State::Connected {
                snapshot.endpoint_id = None;
                snapshot.connection_id = None;
            }
        }
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

    /// The `connect` event of the live connection, if connected.
    pub fn connected(&self) -> Option<Event> {
        let snapshot = self.snapshot.borrow();
        match snapshot.state {
            Some(State::Connected) => snapshot.last_connect.clone(),
            _ => None,
        }
    }

    /// Why `ready()` rejects now, if it does: code, message, HTTP status.
    pub fn finished(&self) -> Option<(Code, String, Option<u16>)> {
        let snapshot = self.snapshot.borrow();
        match snapshot.state {
            Some(State::Failed | State::Closed) => snapshot.finished.clone(),
            _ => None,
        }
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
                let _ = resolve.call1(&JsValue::UNDEFINED, &event_to_js(event));
            } else if let Some((code, message, status)) = finished {
                let error = respoke_error(code.as_str(), message, *status);
                let _ = reject.call1(&JsValue::UNDEFINED, &error);
            } else {
                drop(snapshot);
                self.waiters.borrow_mut().push((resolve, reject));
            }
        })
    }

    /// A new stream of every event from now on; it ends when the client is closed.
    pub fn subscribe(&self) -> futures_channel::mpsc::UnboundedReceiver<Event> {
        let (sender, receiver) = futures_channel::mpsc::unbounded();
        let closed = matches!(self.snapshot.borrow().finished, Some((Code::Closed, _, _)));
        if !closed {
            self.subscribers.borrow_mut().push(sender);
        }
        receiver
    }

    /// Hands `event` to the app's listeners and settles `ready()` promises.
    pub fn dispatch(&self, event: &Event) {
        let subscribers = std::mem::take(&mut *self.subscribers.borrow_mut());
        let live: Vec<_> = subscribers
            .into_iter()
            .filter(|subscriber| subscriber.unbounded_send(event.clone()).is_ok())
            .collect();
        self.subscribers.borrow_mut().extend(live);
        // Converted once, when someone hears it: a listener, or a `ready()` for `connect`.
        let value = std::cell::OnceCell::new();
        let value_of = || value.get_or_init(|| event_to_js(event)).clone();
        match event {
            Event::Connect { .. } => {
                self.snapshot.borrow_mut().last_connect = Some(event.clone());
                self.answer_ready(|(resolve, _)| resolve, value_of);
            }
            Event::Failed {
                code,
                reason,
                status,
                ..
            } => {
                // Kept for ready() calls made while failed; reconnect() may start again.
                self.snapshot.borrow_mut().finished = Some((*code, reason.clone(), *status));
                self.answer_ready(
                    |(_, reject)| reject,
                    || respoke_error(code.as_str(), reason, *status),
                );
            }
            Event::State {
                state: State::Closed,
                ..
            } => self.close(),
            _ => {}
        }
        if let Some(name) = event.name() {
            self.call_listeners(name, &value_of);
        }
    }

    /// Calls the listeners of `name` with `value()`, made only if there is one.
    fn call_listeners(&self, name: EventName, value: &dyn Fn() -> JsValue) {
        let handlers: Vec<js_sys::Function> = self
            .listeners
            .borrow()
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, h)| h.clone())
            .collect();
        if handlers.is_empty() {
            return;
        }
        let value = value();
        for handler in handlers {
            if let Err(thrown) = handler.call1(&JsValue::UNDEFINED, &value) {
                let message = get(&thrown, "message")
                    .as_string()
                    .unwrap_or_else(|| "a listener threw".into());
                if name == EventName::Error {
                    // Never loop: an error listener that throws goes to the console.
                    web_sys::console::error_2(
                        &"respoke-client: error listener threw".into(),
                        &thrown,
                    );
                } else {
                    let error = Event::Error {
                        code: Code::ListenerError,
                        message: format!("a {} listener threw: {message}", name.as_str()),
                        status: None,
                        retry: true,
                    };
                    self.call_listeners(EventName::Error, &|| event_to_js(&error));
                }
            }
        }
    }

    /// The client is closed: pending and future `ready()` calls reject.
    pub fn close(&self) {
        // The Rust event streams end (after the events already sent to them).
        self.subscribers.borrow_mut().clear();
        let message = CLOSED_MESSAGE.to_owned();
        self.snapshot.borrow_mut().finished = Some((Code::Closed, message.clone(), None));
        self.answer_ready(
            |(_, reject)| reject,
            || respoke_error(Code::Closed.as_str(), &message, None),
        );
    }

    /// Settles the pending `ready()` promises with `value()`, made only if one is pending (an
    /// `Error` records a stack trace: not worth making for nobody).
    fn answer_ready(
        &self,
        pick: impl Fn((js_sys::Function, js_sys::Function)) -> js_sys::Function,
        value: impl FnOnce() -> JsValue,
    ) {
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        if waiters.is_empty() {
            return;
        }
        let value = value();
        for waiter in waiters {
            let _ = pick(waiter).call1(&JsValue::UNDEFINED, &value);
        }
    }
}

/// `value` as a function, for `listen`/`getToken`.
pub fn as_function(value: &JsValue) -> Option<js_sys::Function> {
    value.dyn_ref::<js_sys::Function>().cloned()
}

/// The app's listeners, by event name.
type Listeners = RefCell<Vec<(EventName, js_sys::Function)>>;

//! The browser shell: performs the core's commands with fetch, WebSocket and timers, and
//! exports the JS API (`connect`, `Client`). Types are in `src/api.d.ts`.

use crate::prelude::*;

mod channel;
mod counters;
mod driver;
mod http;
mod js;
mod lifecycle;
mod socket;
mod timer;

use alloc::rc::Rc;

use channel::{unbounded, Sender as UnboundedSender};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::{BackoffConfig, Config, Credentials, Machine, Method, TokenSource};
use driver::{CallOp, Hooks, Input, Settle};
use js::{as_function, respoke_error, Shared, EVENT_LIST, EVENT_NAMES};
use respoke_protocol::json::{Map, Value};

#[wasm_bindgen(typescript_custom_section)]
const TS_API: &'static str = include_str!("../api.d.ts");

/// A reconnecting Respoke client (see `Client` in `api.d.ts`).
#[wasm_bindgen(skip_typescript)]
pub struct Client {
    inputs: UnboundedSender<Input>,
    shared: Rc<Shared>,
}

/// Creates a client and starts connecting at once.
#[wasm_bindgen(skip_typescript)]
pub fn connect(options: JsValue) -> Result<Client, JsValue> {
    let (config, hooks) =
        parse_options(&options).map_err(|(code, message)| respoke_error(code, &message, None))?;
    let (inputs, receiver) = unbounded();
    let shared = Rc::new(Shared::default());
    let machine = Machine::new(config, random_seed());
    driver::spawn(machine, hooks, shared.clone(), inputs.clone(), receiver);
    Ok(Client { inputs, shared })
}

#[wasm_bindgen]
impl Client {
    /// Registers `handler` for `event`.
    #[wasm_bindgen(skip_typescript)]
    pub fn listen(&self, event: &str, handler: JsValue) -> Result<(), JsValue> {
        let name = event_name(event)?;
        let handler = as_function(&handler).ok_or_else(|| {
            respoke_error(
                "INVALID_ARGUMENT",
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
        let _ = self.inputs.unbounded_send(Input::Disconnect);
    }

    /// Tries now with a fresh token and backoff.
    #[wasm_bindgen(skip_typescript)]
    pub fn reconnect(&self) {
        let _ = self.inputs.unbounded_send(Input::Reconnect);
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
            Value::Object(Map::new())
        } else {
            match js::from_js(&data) {
                Some(value) => value,
                None => return rejected("request: data must be JSON-serializable"),
            }
        };
        self.call(CallOp::Request(method, url, data), false)
    }

    /// A 1:1 text message to every connection of `to`.
    #[wasm_bindgen(js_name = sendMessage, skip_typescript)]
    pub fn send_message(&self, options: JsValue) -> js_sys::Promise {
        match (
            string_field(&options, "to"),
            string_field(&options, "message"),
        ) {
            (Ok(Some(to)), Ok(Some(message))) => self.call(CallOp::SendMessage(to, message), true),
            _ => rejected("sendMessage: expected {to: string, message: string}"),
        }
    }

    /// Sets this connection's presence; restored after every reconnect.
    #[wasm_bindgen(js_name = setPresence, skip_typescript)]
    pub fn set_presence(&self, presence: JsValue) -> js_sys::Promise {
        match js::from_js(&presence) {
            Some(value) => self.call(CallOp::SetPresence(value), true),
            None => rejected("setPresence: expected a string or {type: string}"),
        }
    }

    /// Joins a group; rejoined after every reconnect.
    #[wasm_bindgen(skip_typescript)]
    pub fn join(&self, group: JsValue) -> js_sys::Promise {
        match group.as_string().filter(|g| !g.is_empty()) {
            Some(group) => self.call(CallOp::Join(group), true),
            None => rejected("join: group must be a non-empty string"),
        }
    }

    /// Leaves a group.
    #[wasm_bindgen(skip_typescript)]
    pub fn leave(&self, group: JsValue) -> js_sys::Promise {
        match group.as_string().filter(|g| !g.is_empty()) {
            Some(group) => self.call(CallOp::Leave(group), true),
            None => rejected("leave: group must be a non-empty string"),
        }
    }

    /// Publishes a message to every member of a group.
    #[wasm_bindgen(skip_typescript)]
    pub fn publish(&self, options: JsValue) -> js_sys::Promise {
        match (
            string_field(&options, "group"),
            string_field(&options, "message"),
        ) {
            (Ok(Some(group)), Ok(Some(message))) if !group.is_empty() => {
                self.call(CallOp::Publish(group, message), true)
            }
            _ => rejected("publish: expected {group: string, message: string}"),
        }
    }

    /// Receives `presence` events of these endpoints; restored after every reconnect.
    #[wasm_bindgen(js_name = observePresence, skip_typescript)]
    pub fn observe_presence(&self, endpoint_ids: JsValue) -> js_sys::Promise {
        let ids = match js::from_js(&endpoint_ids) {
            Some(Value::Array(ids)) => ids
                .into_iter()
                .map(|id| match id {
                    Value::String(id) => Some(id),
                    _ => None,
                })
                .collect::<Option<Vec<String>>>(),
            _ => None,
        };
        match ids {
            Some(ids) => self.call(CallOp::ObservePresence(ids), true),
            None => rejected("observePresence: expected an array of endpointIds"),
        }
    }

    /// Counters since `connect`.
    #[wasm_bindgen(skip_typescript)]
    pub fn stats(&self) -> JsValue {
        js::to_js(&self.shared.stats().to_json())
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

impl Client {
    fn call(&self, op: CallOp, void: bool) -> js_sys::Promise {
        let mut op = Some(op);
        js_sys::Promise::new(&mut |resolve, reject| {
            let Some(op) = op.take() else { return };
            let settle = Settle {
                resolve,
                reject: reject.clone(),
                void,
            };
            if self.inputs.unbounded_send(Input::Call(op, settle)).is_err() {
                let error = respoke_error("CLOSED", "the client was disconnected", None);
                let _ = reject.call1(&JsValue::UNDEFINED, &error);
            }
        })
    }
}

fn rejected(message: &str) -> js_sys::Promise {
    js_sys::Promise::reject(&respoke_error("INVALID_ARGUMENT", message, None))
}

/// Counts of live objects the shell created (sockets, timers, requests, listeners), for leak
/// checks. Not needed by apps.
#[wasm_bindgen(js_name = debugCounters, skip_typescript)]
pub fn debug_counters() -> JsValue {
    let counters = js::object(&[
        ("sockets", counters::SOCKETS.get().into()),
        ("drivers", counters::DRIVERS.get().into()),
        ("requests", counters::REQUESTS.get().into()),
        ("timers", counters::TIMERS.get().into()),
        ("domListeners", counters::DOM_LISTENERS.get().into()),
    ]);
    counters.into()
}

/// The app's listener count on `client` (for leak tests).
#[doc(hidden)]
pub fn listener_count(client: &Client) -> usize {
    client.shared.listener_count()
}

fn event_name(event: &str) -> Result<&'static str, JsValue> {
    EVENT_NAMES
        .iter()
        .copied()
        .find(|name| *name == event)
        .ok_or_else(|| {
            let message = format!("unknown event \"{event}\"; expected one of {EVENT_LIST}");
            respoke_error("INVALID_ARGUMENT", &message, None)
        })
}

fn random_seed() -> u64 {
    let high = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    let low = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    (high << 32) | low
}

// ----- options --------------------------------------------------------------------------------

type OptionError = (&'static str, String);

fn invalid(message: impl Into<String>) -> OptionError {
    ("INVALID_OPTIONS", message.into())
}

fn field(object: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn string_field(object: &JsValue, key: &str) -> Result<Option<String>, OptionError> {
    let value = field(object, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or_else(|| invalid(format!("{key} must be a string")))
}

fn ms_field(object: &JsValue, key: &str, name: &str) -> Result<Option<u64>, OptionError> {
    let value = field(object, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(ms) if (0.0..=9_007_199_254_740_991.0).contains(&ms) => Ok(Some(ms as u64)),
        _ => Err(invalid(format!("{name} must be a non-negative number"))),
    }
}

fn parse_options(options: &JsValue) -> Result<(Config, Hooks), OptionError> {
    if !options.is_object() {
        return Err(invalid("connect() needs an options object"));
    }
    let get_token_value = field(options, "getToken");
    let get_token = if get_token_value.is_undefined() || get_token_value.is_null() {
        None
    } else {
        Some(as_function(&get_token_value).ok_or_else(|| invalid("getToken must be a function"))?)
    };
    let token_source = match (&get_token, string_field(options, "tokenUrl")?) {
        (Some(_), _) => TokenSource::Callback,
        (None, Some(url)) => {
            let credentials = match string_field(options, "credentials")?.as_deref() {
                None | Some("include") => Credentials::Include,
                Some("same-origin") => Credentials::SameOrigin,
                Some("omit") => Credentials::Omit,
                Some(other) => {
                    return Err(invalid(format!(
                    "credentials must be \"include\", \"same-origin\" or \"omit\", got \"{other}\""
                )))
                }
            };
            TokenSource::Url {
                url,
                headers: header_pairs(&field(options, "tokenHeaders"))?,
                credentials,
            }
        }
        (None, None) => return Err(invalid("either tokenUrl or getToken is required")),
    };
    let mut config = Config::new(token_source);
    if let Some(base_url) = string_field(options, "baseUrl")? {
        config.base_url = base_url;
    }
    config.endpoint_id = string_field(options, "endpointId")?;
    if let Some(sdk) = string_field(options, "sdk")? {
        config.sdk = sdk;
    }
    let backoff = field(options, "backoff");
    if !backoff.is_undefined() && !backoff.is_null() {
        let defaults = BackoffConfig::default();
        let multiplier = field(&backoff, "multiplier");
        config.backoff = BackoffConfig {
            initial_delay_ms: ms_field(&backoff, "initialDelayMs", "backoff.initialDelayMs")?
                .unwrap_or(defaults.initial_delay_ms),
            max_delay_ms: ms_field(&backoff, "maxDelayMs", "backoff.maxDelayMs")?
                .unwrap_or(defaults.max_delay_ms),
            multiplier: if multiplier.is_undefined() {
                defaults.multiplier
            } else {
                multiplier
                    .as_f64()
                    .ok_or_else(|| invalid("backoff.multiplier must be a number"))?
            },
        };
    }
    let pause = field(options, "pauseWhenHidden");
    if !pause.is_undefined() && !pause.is_null() {
        config.pause_when_hidden = pause
            .as_bool()
            .ok_or_else(|| invalid("pauseWhenHidden must be a boolean"))?;
    }
    if let Some(size) = ms_field(options, "queueSize", "queueSize")? {
        config.queue_size = usize::try_from(size).unwrap_or(usize::MAX);
    }
    for (key, slot) in [
        ("requestTimeoutMs", &mut config.request_timeout_ms),
        ("queueMaxAgeMs", &mut config.queue_max_age_ms),
        ("verifyTimeoutMs", &mut config.verify_timeout_ms),
        ("stableAfterMs", &mut config.stable_after_ms),
        ("tokenTimeoutMs", &mut config.token_timeout_ms),
        ("attemptTimeoutMs", &mut config.attempt_timeout_ms),
        ("maxRetryAfterMs", &mut config.max_retry_after_ms),
    ] {
        if let Some(ms) = ms_field(options, key, key)? {
            *slot = ms;
        }
    }
    let config = config
        .validate()
        .map_err(|error| invalid(error.to_string()))?;
    let signal_value = field(options, "signal");
    let signal = if signal_value.is_undefined() || signal_value.is_null() {
        None
    } else {
        Some(
            signal_value
                .dyn_into::<web_sys::AbortSignal>()
                .map_err(|_| invalid("signal must be an AbortSignal"))?,
        )
    };
    Ok((config, Hooks { get_token, signal }))
}

fn header_pairs(value: &JsValue) -> Result<Vec<(String, String)>, OptionError> {
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    let object = value
        .dyn_ref::<js_sys::Object>()
        .ok_or_else(|| invalid("tokenHeaders must be an object of strings"))?;
    js_sys::Object::entries(object)
        .iter()
        .map(|entry| {
            let pair: js_sys::Array = entry.unchecked_into();
            match (pair.get(0).as_string(), pair.get(1).as_string()) {
                (Some(name), Some(value)) => Ok((name, value)),
                _ => Err(invalid("tokenHeaders values must be strings")),
            }
        })
        .collect()
}

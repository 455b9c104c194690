//! The driver: one task per client that owns the core, the socket, the in-flight requests and
//! the one timer. JS callbacks only push [`Input`]s into its channel, so a listener that calls
//! `client.disconnect()` from inside an event borrows nothing twice.

use std::rc::Rc;

use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender};
use futures_util::StreamExt;
use gloo_timers::callback::Timeout;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{AbortController, AbortSignal};

use super::counters;
use super::http;
use super::input::{CallOp, Hooks, Input, Settle};
use super::js::{self, Shared};
use super::lifecycle::Lifecycle;
use super::scope;
use super::socket::Socket;
use crate::connection::{
    CallError, CallId, Command, Event, HttpError, Instant, Machine, RequestId, State,
    TokenCallbackError,
};

/// Longest single timer; longer waits re-arm, so a throttled or suspended tab re-checks its
/// deadlines against the clock at least this often.
const MAX_TIMER_MS: u64 = 30_000;

/// What `getToken` is called with.
#[derive(serde::Serialize)]
struct TokenContext {
    /// 1-based since the last successful connect.
    attempt: u32,
    /// Aborts when the attempt is abandoned.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    signal: AbortSignal,
}

struct Driver {
    machine: Machine,
    inputs: UnboundedSender<Input>,
    shared: Rc<Shared>,
    socket: Option<Socket>,
    requests: Pending<RequestId, AbortController>,
    timer: Option<Timeout>,
    get_token: Option<js_sys::Function>,
    abort_listener: Option<(AbortSignal, Closure<dyn FnMut()>)>,
    _lifecycle: Lifecycle,
    calls: Pending<CallId, Settle>,
}

/// Current time on the monotonic clock the core uses.
pub fn now() -> Instant {
    Instant::from_millis(scope::monotonic_ms().max(0.0) as u64)
}

/// Starts the driver task; it runs until the client is closed.
pub fn spawn(
    machine: Machine,
    hooks: Hooks,
    shared: Rc<Shared>,
    inputs: UnboundedSender<Input>,
    receiver: UnboundedReceiver<Input>,
) {
    let (lifecycle, initial_wakes) = Lifecycle::register(&inputs);
    let mut driver = Driver {
        machine,
        inputs,
        shared,
        socket: None,
        requests: Pending::default(),
        timer: None,
        get_token: hooks.get_token,
        abort_listener: None,
        _lifecycle: lifecycle,
        calls: Pending::default(),
    };
    // The page as it is now (offline, hidden), before the first attempt.
    for wake in initial_wakes {
        driver.machine.handle_wake(now(), wake);
    }
    counters::DRIVERS.inc();
    if let Some(signal) = hooks.signal {
        if signal.aborted() {
            let _ = driver.inputs.unbounded_send(Input::Disconnect);
        } else {
            let tx = driver.inputs.clone();
            let on_abort: Closure<dyn FnMut()> = Closure::new(move || {
                let _ = tx.unbounded_send(Input::Disconnect);
            });
            if signal
                .add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref())
                .is_ok()
            {
                counters::DOM_LISTENERS.inc();
                driver.abort_listener = Some((signal, on_abort));
            }
        }
    }
    spawn_local(driver.run(receiver));
}

impl Driver {
    async fn run(mut self, mut receiver: UnboundedReceiver<Input>) {
        self.machine.handle_clock(now(), js_sys::Date::now() as u64);
        self.machine.start(now());
        self.drain();
        while let Some(input) = receiver.next().await {
            self.handle(input);
            if self.machine.state() == State::Closed {
                break;
            }
        }
        // A request made after disconnect() but queued before the driver saw it must settle
        // too (CLOSED): no more sends get in, and whatever is queued is answered.
        receiver.close();
        while let Ok(input) = receiver.try_recv() {
            if let Input::Call(_, settle) = input {
                settle.closed();
            }
        }
        // Dropping self removes every handler, timer and listener this client registered.
    }

    fn handle(&mut self, input: Input) {
        let now = now();
        // Timers in background tabs fire late and monotonic clocks may stop during sleep: on
        // every input, report the wall clock (sleep detection) and fire overdue deadlines first.
        self.machine.handle_clock(now, js_sys::Date::now() as u64);
        self.machine.handle_timeout(now);
        match input {
            Input::Disconnect => self.machine.disconnect(now),
            Input::Reconnect => self.machine.reconnect(now),
            Input::Http(id, result) => {
                self.requests.remove(id);
                self.machine.handle_http(now, id, result);
            }
            Input::Token(id, result) => {
                self.requests.remove(id);
                self.machine.handle_token(now, id, result);
            }
            Input::SocketOpen(id) => self.machine.handle_socket_open(now, id),
            Input::SocketMessage(id, text) => self.machine.handle_socket_message(now, id, &text),
            Input::SocketClose(id, code) => self.machine.handle_socket_close(now, id, code),
            Input::Timer => {
                if self.timer.take().is_some() {
                    counters::TIMERS.dec();
                }
                self.machine.handle_timeout(now);
            }
            Input::Wake(wake) => self.machine.handle_wake(now, wake),
            Input::Call(op, settle) => {
                let m = &mut self.machine;
                let id = match op {
                    CallOp::Request(method, url, data) => m.request(now, method, &url, data),
                    CallOp::SendMessage(to, message) => m.send_message(now, &to, &message),
                    CallOp::SetPresence(presence) => m.set_presence(now, presence),
                    CallOp::Join(group) => m.join(now, &group),
                    CallOp::Leave(group) => m.leave(now, &group),
                    CallOp::Publish(group, message) => m.publish(now, &group, &message),
                    CallOp::ObservePresence(ids) => m.observe_presence(now, &ids),
                };
                self.calls.insert(id, settle);
            }
        }
        self.drain();
    }

    /// The drain rule: perform every command, publish the snapshot, dispatch every event,
    /// re-arm the timer.
    fn drain(&mut self) {
        while let Some(command) = self.machine.poll_command() {
            self.perform(command);
        }
        self.shared.update_snapshot(&self.machine);
        let mut events = Vec::new();
        while let Some(event) = self.machine.poll_event() {
            events.push(event);
        }
        for event in events {
            match event {
                Event::Reply { id, result } => self.settle(id, result),
                event => self.shared.dispatch(&event),
            }
        }
        self.arm_timer();
    }

    fn settle(&mut self, id: CallId, result: Result<serde_json::Value, CallError>) {
        let Some(settle) = self.calls.remove(id) else {
            return;
        };
        let (resolve, reject, void) = match settle {
            Settle::Js {
                resolve,
                reject,
                void,
            } => (resolve, reject, void),
            Settle::Rust(sender) => {
                let _ = sender.send(result);
                return;
            }
        };
        let _ = match result {
            Ok(_) if void => resolve.call1(&JsValue::UNDEFINED, &JsValue::UNDEFINED),
            Ok(body) => resolve.call1(&JsValue::UNDEFINED, &js::to_js(&body)),
            Err(error) => {
                let error = js::respoke_error(error.code, &error.message, error.status);
                reject.call1(&JsValue::UNDEFINED, &error)
            }
        };
    }

    fn arm_timer(&mut self) {
        if self.timer.take().is_some() {
            counters::TIMERS.dec();
        }
        let Some(deadline) = self.machine.poll_timeout() else {
            return;
        };
        let delay = deadline.millis_since(now()).min(MAX_TIMER_MS) as u32;
        let tx = self.inputs.clone();
        self.timer = Some(Timeout::new(delay, move || {
            let _ = tx.unbounded_send(Input::Timer);
        }));
        counters::TIMERS.inc();
    }

    fn perform(&mut self, command: Command) {
        match command {
            Command::Http { id, request } => {
                let Ok(controller) = AbortController::new() else {
                    let error = HttpError::Network("AbortController unavailable".into());
                    let _ = self.inputs.unbounded_send(Input::Http(id, Err(error)));
                    return;
                };
                let signal = controller.signal();
                self.requests.insert(id, controller);
                let tx = self.inputs.clone();
                counters::REQUESTS.inc();
                spawn_local(async move {
                    let result = http::perform(request, signal).await;
                    counters::REQUESTS.dec();
                    let _ = tx.unbounded_send(Input::Http(id, result));
                });
            }
            Command::GetToken { id, attempt } => self.call_get_token(id, attempt),
            Command::Abort { id } => {
                if let Some(controller) = self.requests.remove(id) {
                    controller.abort();
                }
            }
            Command::OpenSocket { id, url } => {
                self.socket = None;
                match Socket::open(id, &url, &self.inputs) {
                    Ok(socket) => self.socket = Some(socket),
                    // A URL the browser refuses: report it as a socket that closed at once.
                    Err(_) => {
                        let _ = self.inputs.unbounded_send(Input::SocketClose(id, 1006));
                    }
                }
            }
            Command::Send { id, text } => {
                if let Some(socket) = self.socket.as_ref().filter(|s| s.id() == id) {
                    socket.send(&text);
                }
            }
            Command::CloseSocket { id } => {
                if self.socket.as_ref().is_some_and(|s| s.id() == id) {
                    self.socket = None;
                }
            }
        }
    }

    fn call_get_token(&mut self, id: RequestId, attempt: u32) {
        let tx = self.inputs.clone();
        let fail = |message: String| {
            let _ = tx.unbounded_send(Input::Token(id, Err(TokenCallbackError::Failed(message))));
        };
        let (Some(get_token), Ok(controller)) = (self.get_token.clone(), AbortController::new())
        else {
            return fail("getToken is not available".into());
        };
        let context = js::to_js(&TokenContext {
            attempt,
            signal: controller.signal(),
        });
        let returned = match get_token.call1(&JsValue::UNDEFINED, &context) {
            Ok(value) => value,
            Err(error) => {
                let _ = tx.unbounded_send(Input::Token(id, Err(js::token_error(&error))));
                return;
            }
        };
        self.requests.insert(id, controller);
        counters::REQUESTS.inc();
        spawn_local(async move {
            let settled = JsFuture::from(js_sys::Promise::resolve(&returned)).await;
            counters::REQUESTS.dec();
            let result = match settled {
                Ok(value) => js::token_from_value(value),
                Err(error) => Err(js::token_error(&error)),
            };
            let _ = tx.unbounded_send(Input::Token(id, result));
        });
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some((signal, listener)) = self.abort_listener.take() {
            let _ = signal
                .remove_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
            counters::DOM_LISTENERS.dec();
        }
        if self.timer.take().is_some() {
            counters::TIMERS.dec();
        }
        self.shared.close();
        counters::DRIVERS.dec();
    }
}

/// What is in flight, by id: a few entries at most, so a `Vec` (smaller in the wasm than
/// another map instantiation, and as fast at this size).
struct Pending<K, V>(Vec<(K, V)>);

impl<K, V> Default for Pending<K, V> {
    fn default() -> Self {
        Pending(Vec::new())
    }
}

impl<K: Copy + PartialEq, V> Pending<K, V> {
    /// Replaces an entry with the same key (ids are never reused, so that is only a guard).
    fn insert(&mut self, key: K, value: V) {
        self.remove(key);
        self.0.push((key, value));
    }

    fn remove(&mut self, key: K) -> Option<V> {
        let index = self.0.iter().position(|(k, _)| *k == key)?;
        Some(self.0.swap_remove(index).1)
    }
}

//! The driver: one task per client that owns the core, the socket, the in-flight requests and
//! the one timer. JS callbacks only push [`Mail`] into its channel, so a listener that calls
//! `client.disconnect()` from inside an event borrows nothing twice. It drives the core by its
//! one contract: `handle_input` (or `call`) with the time, then `drain` into the [`Shell`].

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
use super::input::{Hooks, Mail, Waiter};
use super::js::{self, Shared};
use super::lifecycle::Lifecycle;
use super::scope;
use super::socket::Socket;
use crate::connection::{
    CallError, CallId, Command, Event, HttpError, Input, Instant, Machine, Now, RequestId, Sink,
    State, TokenCallbackError,
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
    shell: Shell,
}

/// Everything the driver owns besides the core: what performs its commands.
struct Shell {
    inputs: UnboundedSender<Mail>,
    shared: Rc<Shared>,
    socket: Option<Socket>,
    requests: Pending<RequestId, AbortController>,
    /// The armed timer and the deadline it was armed for.
    timer: Option<(Instant, Timeout)>,
    get_token: Option<js_sys::Function>,
    abort_listener: Option<(AbortSignal, Closure<dyn FnMut()>)>,
    /// The page-lifecycle listeners, registered once the first request is out.
    lifecycle: Option<Lifecycle>,
    waiters: Pending<CallId, Waiter>,
    /// The events of one drain, dispatched once the snapshot is up to date.
    events: Vec<Event>,
    /// A command of this drain spawned a request task.
    request_spawned: bool,
}

/// Current time on both clocks the core uses.
pub fn now() -> Now {
    let monotonic = Instant::from_millis(scope::monotonic_ms().max(0.0) as u64);
    Now::new(monotonic, js_sys::Date::now() as u64)
}

/// Starts the driver task; it runs until the client is closed.
pub fn spawn(
    machine: Machine,
    hooks: Hooks,
    shared: Rc<Shared>,
    inputs: UnboundedSender<Mail>,
    receiver: UnboundedReceiver<Mail>,
) {
    let initial = Lifecycle::initial();
    let mut driver = Driver {
        machine,
        shell: Shell {
            inputs,
            shared,
            socket: None,
            requests: Pending::default(),
            timer: None,
            get_token: hooks.get_token,
            abort_listener: None,
            lifecycle: None,
            waiters: Pending::default(),
            events: Vec::new(),
            request_spawned: false,
        },
    };
    // The page as it is now (offline, hidden), before the first attempt.
    for change in initial {
        driver
            .machine
            .handle_input(now(), Input::Environment(change));
    }
    counters::DRIVERS.inc();
    let shell = &mut driver.shell;
    if let Some(signal) = hooks.signal {
        let disconnect = || Mail::Input(Input::Disconnect);
        if signal.aborted() {
            let _ = shell.inputs.unbounded_send(disconnect());
        } else {
            let tx = shell.inputs.clone();
            let on_abort: Closure<dyn FnMut()> = Closure::new(move || {
                let _ = tx.unbounded_send(disconnect());
            });
            if signal
                .add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref())
                .is_ok()
            {
                counters::DOM_LISTENERS.inc();
                shell.abort_listener = Some((signal, on_abort));
            }
        }
    }
    spawn_local(driver.run(receiver));
}

impl Driver {
    async fn run(mut self, mut receiver: UnboundedReceiver<Mail>) {
        self.machine.handle_input(now(), Input::Start);
        self.drain().await;
        // The listeners (seven `addEventListener` calls) are registered once the first request
        // has gone out (`drain` lets it), not before it. Still in the task that called
        // `connect()`, so no page event can come in between (see `Lifecycle::initial`).
        self.shell.lifecycle = Some(Lifecycle::register(&self.shell.inputs));
        while let Some(mail) = receiver.next().await {
            self.handle(mail).await;
            if self.machine.state() == State::Closed {
                break;
            }
        }
        // A request made after disconnect() but queued before the driver saw it must settle
        // too (CLOSED): no more sends get in, and whatever is queued is answered.
        receiver.close();
        while let Ok(mail) = receiver.try_recv() {
            if let Mail::Call(_, waiter) = mail {
                waiter.reject_closed();
            }
        }
        // Dropping self removes every handler, timer and listener this client registered.
    }

    async fn handle(&mut self, mail: Mail) {
        // Timers in background tabs fire late and monotonic clocks may stop during sleep: the
        // core sees both clocks with every input and fires overdue deadlines first.
        let now = now();
        match mail {
            Mail::Input(input) => {
                match &input {
                    Input::Http { id, .. } | Input::Token { id, .. } => {
                        self.shell.requests.remove(*id);
                    }
                    Input::Timeout if self.shell.timer.take().is_some() => counters::TIMERS.dec(),
                    _ => {}
                }
                self.machine.handle_input(now, input);
            }
            Mail::Call(call, waiter) => {
                let id = self.machine.call(now, call);
                self.shell.waiters.insert(id, waiter);
            }
        }
        self.drain().await;
    }

    /// Performs every command, publishes the snapshot, dispatches every event, re-arms the
    /// timer.
    ///
    /// A request is sent by the task spawned for it, which runs after this one yields: when the
    /// commands spawned one, the driver yields before the events and the timer, so that they are
    /// done while the request is on the network rather than before it leaves.
    async fn drain(&mut self) {
        let deadline = self.machine.drain(&mut self.shell);
        self.shell.shared.update_snapshot(&self.machine);
        if std::mem::take(&mut self.shell.request_spawned) {
            yield_now().await;
        }
        for event in std::mem::take(&mut self.shell.events) {
            match event {
                Event::Reply { id, result } => self.shell.deliver_reply(id, result),
                event => self.shell.shared.dispatch(&event),
            }
        }
        self.shell.arm_timer(deadline);
    }
}

/// Lets the tasks spawned so far run first: pending once, and woken at once.
async fn yield_now() {
    let mut yielded = false;
    futures_util::future::poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            std::task::Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}

impl Sink for Shell {
    fn command(&mut self, command: Command) {
        self.perform(command);
    }

    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
}

impl Shell {
    fn send(&self, input: Input) {
        let _ = self.inputs.unbounded_send(Mail::Input(input));
    }

    fn deliver_reply(&mut self, id: CallId, result: Result<serde_json::Value, CallError>) {
        let Some(waiter) = self.waiters.remove(id) else {
            return;
        };
        let (resolve, reject, void) = match waiter {
            Waiter::Js {
                resolve,
                reject,
                void,
            } => (resolve, reject, void),
            Waiter::Rust(sender) => {
                let _ = sender.send(result);
                return;
            }
        };
        let _ = match result {
            Ok(_) if void => resolve.call1(&JsValue::UNDEFINED, &JsValue::UNDEFINED),
            Ok(body) => resolve.call1(&JsValue::UNDEFINED, &js::to_js(&body)),
            Err(error) => {
                let error = js::respoke_error(error.code.as_str(), &error.message, error.status);
                reject.call1(&JsValue::UNDEFINED, &error)
            }
        };
    }

    /// Arms the one timer for `deadline`. Most inputs leave the next deadline as it was, or
    /// move it later (a phase of an attempt moves on, the token timer is cleared, a heartbeat
    /// pushes the heartbeat deadline): the armed timer is then kept rather than cleared and set
    /// again (a `clearTimeout`, a `setTimeout` and a closure per input). A timer kept for an
    /// earlier deadline fires early, which the core ignores (nothing is due), and is re-armed
    /// then, as a wait clamped to [`MAX_TIMER_MS`] is.
    fn arm_timer(&mut self, deadline: Option<Instant>) {
        let armed = self.timer.as_ref().map(|(armed, _)| *armed);
        if let (Some(armed), Some(deadline)) = (armed, deadline) {
            if armed <= deadline {
                return;
            }
        }
        if self.timer.take().is_some() {
            counters::TIMERS.dec();
        }
        let Some(deadline) = deadline else {
            return;
        };
        let delay = deadline.millis_since(now().monotonic).min(MAX_TIMER_MS) as u32;
        let tx = self.inputs.clone();
        let timeout = Timeout::new(delay, move || {
            let _ = tx.unbounded_send(Mail::Input(Input::Timeout));
        });
        self.timer = Some((deadline, timeout));
        counters::TIMERS.inc();
    }

    fn perform(&mut self, command: Command) {
        match command {
            Command::Http { id, request } => {
                let Ok(controller) = AbortController::new() else {
                    let error = HttpError::Network("AbortController unavailable".into());
                    return self.send(Input::Http {
                        id,
                        result: Err(error),
                    });
                };
                let signal = controller.signal();
                self.requests.insert(id, controller);
                let tx = self.inputs.clone();
                counters::REQUESTS.inc();
                self.request_spawned = true;
                spawn_local(async move {
                    let result = http::perform(request, signal).await;
                    counters::REQUESTS.dec();
                    let _ = tx.unbounded_send(Mail::Input(Input::Http { id, result }));
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
                    Err(_) => self.send(Input::SocketClose { id, code: 1006 }),
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
        let answer = move |result: Result<String, TokenCallbackError>| {
            let _ = tx.unbounded_send(Mail::Input(Input::Token { id, result }));
        };
        let (Some(get_token), Ok(controller)) = (self.get_token.clone(), AbortController::new())
        else {
            let message = "getToken is not available".to_owned();
            return answer(Err(TokenCallbackError::Failed(message)));
        };
        let context = js::to_js(&TokenContext {
            attempt,
            signal: controller.signal(),
        });
        let returned = match get_token.call1(&JsValue::UNDEFINED, &context) {
            Ok(value) => value,
            Err(error) => return answer(Err(js::token_error(&error))),
        };
        self.requests.insert(id, controller);
        counters::REQUESTS.inc();
        spawn_local(async move {
            let settled = JsFuture::from(js_sys::Promise::resolve(&returned)).await;
            counters::REQUESTS.dec();
            answer(match settled {
                Ok(value) => js::token_from_value(value),
                Err(error) => Err(js::token_error(&error)),
            });
        });
    }
}

impl Drop for Shell {
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

//! The global scope the client runs in (`globalThis`): a `Window`, a dedicated Worker or a
//! SharedWorker. fetch (gloo-net) and timers (gloo-timers) already go through it; the clock,
//! the network state and the lifecycle listeners come from here. Nothing in the shell calls
//! `web_sys::window()` but [`window`].

use std::cell::OnceCell;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{EventTarget, Performance};

thread_local! {
    static PERFORMANCE: OnceCell<Option<Performance>> = const { OnceCell::new() };
}

fn global() -> js_sys::Object {
    js_sys::global()
}

fn property(target: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Why the client cannot run in this scope, if it cannot: it lacks an API it needs (`fetch`,
/// `WebSocket`, `setTimeout`, `AbortController`), and could only retry on a timer that never
/// fires. The message of `UNSUPPORTED_ENVIRONMENT`, for the JS and the Rust `connect`.
pub fn unsupported() -> Option<String> {
    let global = global();
    let missing = ["fetch", "WebSocket", "setTimeout", "AbortController"]
        .into_iter()
        .find(|name| !property(&global, name).is_function())?;
    Some(format!(
        "this global scope has no {missing}: respoke-client cannot run here"
    ))
}

/// Milliseconds on the monotonic clock (`performance.now()`), or the wall clock where a scope
/// has no `performance`.
pub fn monotonic_ms() -> f64 {
    PERFORMANCE.with(|cell| {
        cell.get_or_init(|| {
            property(&global(), "performance")
                .dyn_into::<Performance>()
                .ok()
        })
        .as_ref()
        .map_or_else(js_sys::Date::now, Performance::now)
    })
}

/// The scope as an event target (`online` and `offline` fire on a Window and on a
/// WorkerGlobalScope alike).
pub fn event_target() -> Option<EventTarget> {
    global().dyn_into::<EventTarget>().ok()
}

/// The page's window, in a page only (not in a Worker).
pub fn window() -> Option<web_sys::Window> {
    global().dyn_into::<web_sys::Window>().ok()
}

/// `navigator.onLine` (`Navigator` in a page, `WorkerNavigator` in a Worker); true when
/// unknown.
pub fn on_line() -> bool {
    property(&property(&global(), "navigator"), "onLine")
        .as_bool()
        .unwrap_or(true)
}

//! Live-object counters of the shell, for leak tests and the memory benchmark. wasm32 in the
//! browser is single-threaded; atomics keep the statics `Sync` at no cost.

use core::sync::atomic::{AtomicI32, Ordering};

/// A gauge of live objects.
pub struct Gauge(AtomicI32);

impl Gauge {
    const fn new() -> Self {
        Gauge(AtomicI32::new(0))
    }
    /// One more.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    /// One less.
    pub fn dec(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
    /// Current value.
    pub fn get(&self) -> i32 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Open WebSocket wrappers (each holds four handlers).
pub static SOCKETS: Gauge = Gauge::new();
/// Running client drivers.
pub static DRIVERS: Gauge = Gauge::new();
/// fetch / getToken calls in flight.
pub static REQUESTS: Gauge = Gauge::new();
/// Armed timers.
pub static TIMERS: Gauge = Gauge::new();
/// Listeners registered on objects the app owns (its AbortSignal).
pub static DOM_LISTENERS: Gauge = Gauge::new();

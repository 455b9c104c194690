//! respoke-client: a reconnecting, brokered-token Respoke client for the browser.
//!
//! * [`core`]: the sans-IO connection state machine (states, backoff, retry decisions,
//!   timeouts, token bookkeeping). Pure Rust, tested natively.
//! * `browser` (wasm32 only): the thin shell that performs the core's commands with fetch,
//!   WebSocket and timers, and the JS API (`connect`, `Client`).
#![warn(missing_docs)]
// The shipped wasm links no std: no panic runtime, no formatting of panic messages, a small
// allocator. A panic (a bug, never input from the network) traps, which wasm-bindgen reports as
// a JS `RuntimeError`. Native builds (tests, benchmarks) and the `std` feature (the wasm
// browser tests, whose harness needs std) link std as usual.
#![cfg_attr(all(target_arch = "wasm32", not(feature = "std")), no_std)]

extern crate alloc;

/// What `std`'s prelude would give.
mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::format;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(_: &::core::panic::PanicInfo) -> ! {
    ::core::arch::wasm32::unreachable()
}

// Single-threaded wasm (no atomics): talc, smaller and faster than std's dlmalloc.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

pub mod core;

#[cfg(target_arch = "wasm32")]
mod browser;

#[cfg(target_arch = "wasm32")]
pub use browser::{connect, debug_counters, listener_count, Client};

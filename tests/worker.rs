//! The client inside a dedicated Worker (no `window`, no `document`) against the real dev
//! server: fetch, timers, the clock and `online`/`offline` come from the Worker's global scope.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
async fn connects_reconnects_and_disconnects_in_a_dedicated_worker() {
    assert!(
        web_sys::window().is_none(),
        "this test must run in a Worker"
    );
    browser_support::connect_drop_reconnect_disconnect("test25@example.com").await;
}

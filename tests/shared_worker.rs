//! The client inside a SharedWorker against the real dev server.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_shared_worker);

#[wasm_bindgen_test]
async fn connects_reconnects_and_disconnects_in_a_shared_worker() {
    assert!(
        web_sys::window().is_none(),
        "this test must run in a Worker"
    );
    browser_support::connect_drop_reconnect_disconnect("test26@example.com").await;
}

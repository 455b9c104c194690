//! A one-shot `setTimeout` that is cleared, and its closure freed, when dropped.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// A pending `setTimeout`.
pub struct Timeout {
    id: Option<i32>,
    _callback: Closure<dyn FnMut()>,
}

impl Timeout {
    /// Calls `callback` once after `delay_ms` (unless dropped first).
    pub fn new(delay_ms: u32, callback: impl FnMut() + 'static) -> Timeout {
        let callback: Closure<dyn FnMut()> = Closure::new(callback);
        let id = web_sys::window().and_then(|window| {
            window
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    callback.as_ref().unchecked_ref(),
                    delay_ms.min(i32::MAX as u32) as i32,
                )
                .ok()
        });
        Timeout {
            id,
            _callback: callback,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        if let (Some(id), Some(window)) = (self.id, web_sys::window()) {
            window.clear_timeout_with_handle(id);
        }
    }
}

//! A front-end crate as an app would write it: it depends on `respoke-client` with default
//! features and builds its own wasm (cdylib). It must link: the client brings no
//! `#[panic_handler]` or `#[global_allocator]` of its own that would clash with the app's.

/// The app's own entry point, using the client from Rust.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn start_chat(
    base_url: &str,
    token_url: &str,
) -> Result<respoke_client::Client, wasm_bindgen::JsValue> {
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"baseUrl".into(), &base_url.into())?;
    js_sys::Reflect::set(&options, &"tokenUrl".into(), &token_url.into())?;
    respoke_client::connect(options.into())
}

/// The sans-IO core is usable natively too (e.g. from an app's own tests).
pub fn default_base_url() -> &'static str {
    respoke_client::core::DEFAULT_BASE_URL
}

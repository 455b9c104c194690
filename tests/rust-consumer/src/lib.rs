//! A front-end crate as an app would write it: it depends on `respoke-client` with default
//! features and builds its own wasm (cdylib). It must link: the client brings no
//! `#[panic_handler]` or `#[global_allocator]` of its own that would clash with the app's.

/// The app's own entry point, using the typed Rust API.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub async fn start_chat(base_url: String, token_url: String) -> Result<(), wasm_bindgen::JsValue> {
    use futures_util::StreamExt;
    use respoke_client::connection::{Config, Credentials, TokenSource};
    use respoke_client::rust::{connect, ClientEvent};

    let mut config = Config::new(TokenSource::Url {
        url: token_url,
        headers: Vec::new(),
        credentials: Credentials::Include,
    });
    config.base_url = base_url;
    let client = connect(config).map_err(|e| wasm_bindgen::JsValue::from_str(&e.to_string()))?;
    let mut events = client.events();
    client
        .ready()
        .await
        .map_err(|e| wasm_bindgen::JsValue::from_str(&e.to_string()))?;
    while let Some(event) = events.next().await {
        if let ClientEvent::Message { from, message, .. } = event {
            web_sys::console::log_1(&format!("{from}: {message}").into());
        }
    }
    Ok(())
}

/// The sans-IO core is usable natively too (e.g. from an app's own tests).
pub fn default_base_url() -> &'static str {
    respoke_client::connection::DEFAULT_BASE_URL
}

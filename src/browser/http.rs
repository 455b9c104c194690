//! The core's HTTP commands, performed with gloo-net (the global `fetch`, so in a page and in a
//! Worker alike) on one `web_sys::Request` built here (gloo-net's builder cannot set
//! `keepalive`). Every request carries the `AbortSignal` of its attempt: dropping gloo-net's
//! future does not abort a fetch, the driver's `AbortController` does. The session teardown
//! that must outlive the page is sent with `keepalive` instead.

use gloo_net::http::Request;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AbortSignal, RequestCredentials};

use crate::connection::{Credentials, HttpError, HttpRequest, HttpResponse};

/// Bodies above this are refused: token and session answers are tiny, and a huge error page
/// must not be held in memory.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[wasm_bindgen]
extern "C" {
    /// `RequestInit` with `keepalive`, which neither web-sys 0.3 nor gloo-net's builder sets.
    #[wasm_bindgen(extends = web_sys::RequestInit)]
    type KeepaliveInit;
    #[wasm_bindgen(method, setter = keepalive)]
    fn set_keepalive(this: &KeepaliveInit, keepalive: bool);
}

/// Performs `request`; never panics, whatever the network or the server does.
pub async fn perform(request: HttpRequest, signal: AbortSignal) -> Result<HttpResponse, HttpError> {
    let outgoing = outgoing(&request, &signal).map_err(thrown)?;
    let response = outgoing.send().await.map_err(network)?;
    let status = response.status();
    let wall_clock_ms = js_sys::Date::now() as u64;
    if request.keepalive {
        // A teardown sent as the page goes away: only the status matters, if anyone is left.
        return Ok(HttpResponse {
            status,
            retry_after: None,
            body: String::new(),
            wall_clock_ms,
        });
    }
    let headers = response.headers();
    let declared = headers
        .get("content-length")
        .and_then(|length| length.trim().parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(HttpError::BodyTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let retry_after = headers.get("retry-after");
    let body = response.text().await.map_err(network)?;
    if body.len() > MAX_BODY_BYTES {
        return Err(HttpError::BodyTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    Ok(HttpResponse {
        status,
        retry_after,
        body,
        wall_clock_ms,
    })
}

/// The `web_sys::Request` for `request`, sent through gloo-net: with the attempt's `signal`,
/// or, for the teardown that must outlive the page, with `keepalive` and no signal (nothing
/// aborts a teardown, and the page it outlives cannot).
fn outgoing(request: &HttpRequest, signal: &AbortSignal) -> Result<Request, JsValue> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in &request.headers {
        headers.append(name, value)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(request.method.as_str());
    init.set_headers(&headers);
    init.set_credentials(match request.credentials {
        Credentials::Include => RequestCredentials::Include,
        Credentials::SameOrigin => RequestCredentials::SameOrigin,
        Credentials::Omit => RequestCredentials::Omit,
    });
    if let Some(body) = &request.body {
        init.set_body(&JsValue::from_str(body));
    }
    if request.keepalive {
        init.unchecked_ref::<KeepaliveInit>().set_keepalive(true);
    } else {
        init.set_signal(Some(signal));
    }
    let raw = web_sys::Request::new_with_str_and_init(&request.url, &init)?;
    Ok(Request::from(raw))
}

/// Why the request could not be built (a URL or header the browser refuses).
fn thrown(error: JsValue) -> HttpError {
    let message = js_sys::Reflect::get(&error, &"message".into())
        .ok()
        .and_then(|message| message.as_string())
        .unwrap_or_else(|| "the request could not be built".into());
    HttpError::Network(message)
}

/// What fetch rejected with (a TypeError for network and CORS failures, an AbortError).
fn network(error: gloo_net::Error) -> HttpError {
    HttpError::Network(match error {
        gloo_net::Error::JsError(error) => error.message,
        gloo_net::Error::GlooError(message) => message,
    })
}

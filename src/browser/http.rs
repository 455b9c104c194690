//! fetch for the core's HTTP commands: one `window.fetch` path with an AbortController per
//! request, and `keepalive` for the teardown that must outlive the page.

use crate::prelude::*;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, RequestCredentials, RequestInit, Response};

use crate::core::{Credentials, HttpError, HttpRequest, HttpResponse};

/// Bodies above this are refused: token and session answers are tiny, and a huge error page
/// must not be held in memory.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Performs `request`; never panics, whatever the network or the server does.
pub async fn perform(request: HttpRequest, signal: AbortSignal) -> Result<HttpResponse, HttpError> {
    let init = request_init(&request, &signal).map_err(network)?;
    let window = web_sys::window().ok_or_else(|| HttpError::Network("no window".into()))?;
    let response = JsFuture::from(window.fetch_with_str_and_init(&request.url, &init))
        .await
        .map_err(network)?;
    let response: Response = response.dyn_into().map_err(network)?;
    let status = response.status();
    let wall_clock_ms = js_sys::Date::now() as u64;
    if request.keepalive {
        // A teardown sent as the page goes away: only the status matters, if anyone is left.
        let body = String::new();
        return Ok(HttpResponse {
            status,
            retry_after: None,
            body,
            wall_clock_ms,
        });
    }
    let headers = response.headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    let declared = header("content-length").and_then(|length| length.trim().parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(HttpError::BodyTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let retry_after = header("retry-after");
    let text = response.text().map_err(network)?;
    let body = JsFuture::from(text)
        .await
        .map_err(network)?
        .as_string()
        .unwrap_or_default();
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

fn request_init(request: &HttpRequest, signal: &AbortSignal) -> Result<RequestInit, JsValue> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in &request.headers {
        headers.append(name, value)?;
    }
    let init = RequestInit::new();
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
        // web-sys's RequestInit has no keepalive setter; it is a plain dictionary.
        js_sys::Reflect::set(&init, &"keepalive".into(), &true.into())?;
    } else {
        init.set_signal(Some(signal));
    }
    Ok(init)
}

/// What fetch rejected with (a TypeError for network and CORS failures, an AbortError).
fn network(error: JsValue) -> HttpError {
    let message = js_sys::Reflect::get(&error, &"message".into())
        .ok()
        .and_then(|message| message.as_string())
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "fetch failed".into());
    HttpError::Network(message)
}

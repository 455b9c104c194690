//! fetch for the core's HTTP commands (gloo-net), each with its own AbortController.

use gloo_net::http::{Method, RequestBuilder};
use web_sys::{AbortSignal, RequestCredentials};

use crate::core::{Credentials, HttpError, HttpMethod, HttpRequest, HttpResponse};

/// Bodies above this are refused: token and session answers are tiny, and a huge error page
/// must not be held in memory.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Performs `request`; never panics, whatever the network or the server does.
pub async fn perform(request: HttpRequest, signal: AbortSignal) -> Result<HttpResponse, HttpError> {
    if request.keepalive {
        return perform_keepalive(request).await;
    }
    let network = |error: gloo_net::Error| HttpError::Network(error.to_string());
    let method = match request.method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Delete => Method::DELETE,
    };
    let credentials = match request.credentials {
        Credentials::Include => RequestCredentials::Include,
        Credentials::SameOrigin => RequestCredentials::SameOrigin,
        Credentials::Omit => RequestCredentials::Omit,
    };
    let mut builder = RequestBuilder::new(&request.url)
        .method(method)
        .credentials(credentials)
        .abort_signal(Some(&signal));
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let built = match request.body {
        Some(body) => builder.body(body),
        None => builder.build(),
    }
    .map_err(network)?;
    let response = built.send().await.map_err(network)?;
    let declared = response
        .headers()
        .get("content-length")
        .and_then(|length| length.trim().parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(HttpError::BodyTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let status = response.status();
    let retry_after = response.headers().get("retry-after");
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
        wall_clock_ms: js_sys::Date::now() as u64,
    })
}

/// A request that must survive the page unloading (gloo-net cannot set `keepalive`): sent with
/// `fetch(url, {keepalive: true})`; only its status is read.
async fn perform_keepalive(request: HttpRequest) -> Result<HttpResponse, HttpError> {
    use wasm_bindgen::JsCast;
    let network = |error: wasm_bindgen::JsValue| {
        HttpError::Network(error.as_string().unwrap_or_else(|| "fetch failed".into()))
    };
    let window = web_sys::window().ok_or_else(|| HttpError::Network("no window".into()))?;
    let headers = web_sys::Headers::new().map_err(network)?;
    for (name, value) in &request.headers {
        headers.append(name, value).map_err(network)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(request.method.as_str());
    init.set_headers(&headers);
    // web-sys's RequestInit has no keepalive setter; it is a plain dictionary.
    js_sys::Reflect::set(&init, &"keepalive".into(), &true.into()).map_err(network)?;
    init.set_credentials(match request.credentials {
        Credentials::Include => RequestCredentials::Include,
        Credentials::SameOrigin => RequestCredentials::SameOrigin,
        Credentials::Omit => RequestCredentials::Omit,
    });
    if let Some(body) = &request.body {
        init.set_body(&wasm_bindgen::JsValue::from_str(body));
    }
    let promise = window.fetch_with_str_and_init(&request.url, &init);
    let response = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(network)?;
    let response: web_sys::Response = response.dyn_into().map_err(network)?;
    Ok(HttpResponse {
        status: response.status(),
        retry_after: None,
        body: String::new(),
        wall_clock_ms: js_sys::Date::now() as u64,
    })
}

//! fetch for the core's HTTP commands (gloo-net), each with its own AbortController.

use gloo_net::http::{Method, RequestBuilder};
use web_sys::{AbortSignal, RequestCredentials};

use crate::core::{Credentials, HttpError, HttpMethod, HttpRequest, HttpResponse};

/// Bodies above this are refused: token and session answers are tiny, and a huge error page
/// must not be held in memory.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Performs `request`; never panics, whatever the network or the server does.
pub async fn perform(request: HttpRequest, signal: AbortSignal) -> Result<HttpResponse, HttpError> {
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

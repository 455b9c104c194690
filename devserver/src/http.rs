//! Pieces shared by both listeners: body extractors, CORS, `Request-Id`, loopback checks.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::ApiError;
use crate::ids::opaque;

/// The raw request body, read under the body limit (413 JSON beyond it).
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(RawBody(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::payload_too_large())
            }
            Err(rejection) => Err(ApiError::bad_request(rejection.body_text())),
        }
    }
}

/// A JSON body; an empty body reads as `{}`. Malformed JSON is a 400 JSON error.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses a JSON body (empty or blank means `{}`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("Malformed JSON: {e}")))
}

/// `Request-Id` on every response.
pub async fn request_id(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&opaque::<12>()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("request-id"), value);
    }
    response
}

/// Refuses peers that are not on the loopback interface (for `/dev/`).
pub async fn loopback_only(request: Request, next: Next) -> Response {
    let peer_is_loopback = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(addr)| addr.ip().to_canonical().is_loopback());
    if peer_is_loopback {
        next.run(request).await
    } else {
        ApiError::forbidden("Development controls answer loopback peers only.").into_response()
    }
}

/// Request headers a browser may send to the Respoke side (`admin-token`: the admin SDK).
pub const RESPOKE_ALLOWED_HEADERS: [&str; 5] = [
    "content-type",
    "app-token",
    "app-secret",
    "admin-token",
    "respoke-sdk",
];

/// CORS of the Respoke side: any origin, echoed exactly, with credentials (respoke.js sends
/// the handshake with `withCredentials`; a `*` would make it hang).
pub fn respoke_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(RESPOKE_ALLOWED_HEADERS.map(HeaderName::from_static))
        .expose_headers([
            HeaderName::from_static("request-id"),
            header::RETRY_AFTER,
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-time-units"),
        ])
        .max_age(Duration::from_secs(600))
}

/// CORS of the example app server: loopback origins only (`http://127.0.0.1:*`,
/// `http://localhost:*`, `http://[::1]:*`), echoed exactly, with credentials.
///
/// A development convenience: the wasm browser tests run on a page served from another
/// loopback port. Same site, so the SameSite=Strict session cookie still travels.
pub fn app_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(|origin, _| {
            origin.to_str().is_ok_and(is_loopback_origin)
        }))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE])
        .expose_headers([HeaderName::from_static("request-id"), header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

/// Whether `origin` is `http(s)://` + a loopback host + an optional port.
pub fn is_loopback_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let (host, port) = if let Some(v6) = rest.strip_prefix("[::1]") {
        ("[::1]", v6)
    } else {
        match rest.split_once(':') {
            Some((host, port)) => (host, port),
            None => (rest, ""),
        }
    };
    let port = port.strip_prefix(':').unwrap_or(port);
    let port_ok = port.is_empty() || (port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = matches!(host, "127.0.0.1" | "localhost" | "[::1]");
    port_ok && host_ok && (host != "[::1]" || rest.len() == 5 || rest[5..].starts_with(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_origins() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:3000",
            "http://localhost",
            "http://[::1]:9",
            "https://127.0.0.1",
        ] {
            assert!(is_loopback_origin(ok), "{ok}");
        }
        for bad in [
            "http://127.0.0.1.evil.com",
            "http://localhost.evil.com:80",
            "http://evil.com",
            "null",
            "http://127.0.0.1:80x",
            "http://[::1]x",
            "ftp://127.0.0.1",
        ] {
            assert!(!is_loopback_origin(bad), "{bad}");
        }
    }
}

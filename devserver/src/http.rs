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
            // tower-http's TimeoutBody (see `serve`): "data was not received within the
            // designated timeout".
            Err(rejection) if rejection.body_text().contains("designated timeout") => {
                Err(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "The request body did not arrive in time.",
                ))
            }
            Err(rejection) => Err(ApiError::bad_request(rejection.body_text())),
        }
    }
}

/// A JSON body; an empty body reads as `{}`. A non-empty body needs a JSON `Content-Type`
/// (`application/json` or `application/*+json`), else 415: the types a page on another site
/// may send without a CORS preflight (`text/plain`, forms, none) are never read as JSON.
/// Malformed JSON is a 400 JSON error.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json_content_type);
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        if !json_type && !is_blank(&bytes) {
            return Err(ApiError::unsupported_media_type(
                "The body must be JSON, sent with Content-Type: application/json.",
            ));
        }
        parse_json(&bytes).map(JsonBody)
    }
}

/// Whether a body is empty or only whitespace.
pub fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// The media type of a `Content-Type` value, lower case, without parameters.
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether a `Content-Type` is JSON: `application/json` or `application/<x>+json`.
pub fn is_json_content_type(content_type: &str) -> bool {
    let media = media_type(content_type);
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// Parses a JSON body (empty or blank means `{}`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if is_blank(bytes) { b"{}" } else { bytes };
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

/// Guards `/dev/`: answers only loopback peers whose `Host` is a loopback name or address
/// (`localhost`, `127.x.y.z`, `[::1]`, any port) and whose `Origin`, when sent, is a loopback
/// origin; everything else is a 403 JSON error. The `Host` check defeats DNS rebinding (a
/// page on `evil.example` that re-resolves its name to 127.0.0.1 still sends
/// `Host: evil.example`), the `Origin` check a page on another site posting to loopback, as
/// Vite and webpack-dev-server do.
pub async fn dev_guard(request: Request, next: Next) -> Response {
    match dev_refusal(&request) {
        None => next.run(request).await,
        Some(why) => ApiError::forbidden(why).into_response(),
    }
}

/// Why `/dev/` refuses `request`, if it does.
fn dev_refusal(request: &Request) -> Option<&'static str> {
    let peer_is_loopback = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(addr)| addr.ip().to_canonical().is_loopback());
    if !peer_is_loopback {
        return Some("Development controls answer loopback peers only.");
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    if !host.is_some_and(is_loopback_host) {
        return Some("Development controls answer requests for a loopback Host only.");
    }
    let origins = request.headers().get_all(header::ORIGIN);
    if origins
        .iter()
        .any(|origin| !origin.to_str().is_ok_and(is_loopback_origin))
    {
        return Some("Development controls answer pages on loopback origins only.");
    }
    None
}

/// Whether a `Host` value is a loopback name or address with an optional port:
/// `localhost`, `127.x.y.z` or `[::1]`.
pub fn is_loopback_host(host: &str) -> bool {
    let (name, port) = match host.strip_prefix("[::1]") {
        Some(rest) => ("[::1]", rest),
        None => match host.find(':') {
            Some(colon) => (&host[..colon], &host[colon..]),
            None => (host, ""),
        },
    };
    let port_ok = match port.strip_prefix(':') {
        Some(digits) => {
            (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        }
        None => port.is_empty(),
    };
    let name_ok = name == "[::1]"
        || name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    port_ok && name_ok
}

/// Request headers a browser may send to the Respoke side (`admin-token`: the admin SDK).
pub const RESPOKE_ALLOWED_HEADERS: [&str; 5] = [
    "content-type",
    "app-token",
    "app-secret",
    "admin-token",
    "respoke-sdk",
];

/// The Respoke routes a browser calls with credentials: the socket.io handshake, which
/// respoke.js sends with `withCredentials` (a `*` or a missing
/// `Access-Control-Allow-Credentials: true` makes it hang), and `/v1/tokens`, which this
/// repository's wasm browser tests post (development-mode minting) with
/// `credentials: "include"`. Neither reads a cookie, so credentials grant nothing there. Our
/// client sends none; `/v1/session-tokens` gets no `Access-Control-Allow-Credentials`.
pub const CREDENTIALED_PATHS: [&str; 3] = ["/socket.io/1/", "/socket.io/1", "/v1/tokens"];

/// CORS of the Respoke side: any web origin, echoed exactly (never `null`: sandboxed frames,
/// `file:` pages and redirects send it, and echoing it would admit them all), with
/// `Access-Control-Allow-Credentials: true` only when `credentials` (see
/// [`CREDENTIALED_PATHS`]).
pub fn respoke_cors(credentials: bool) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(|origin, _| {
            origin.to_str().is_ok_and(is_web_origin)
        }))
        .allow_credentials(credentials)
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

/// Whether `origin` is a web origin a browser could be on: `http(s)://host[:port]`, no path,
/// no user info, not `null`.
pub fn is_web_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest.len() <= 255
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

/// CORS of `/dev/`: loopback origins only, like the app server (the demo page on another
/// loopback port reads `/dev/stats`), with credentials (the wasm browser tests post the
/// controls with `credentials: "include"`; only loopback pages can, and `/dev/` reads no
/// cookie).
pub fn dev_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(|origin, _| {
            origin.to_str().is_ok_and(is_loopback_origin)
        }))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE])
        .expose_headers([HeaderName::from_static("request-id")])
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

    #[test]
    fn loopback_hosts() {
        for ok in [
            "localhost",
            "localhost:3001",
            "LOCALHOST:1",
            "127.0.0.1",
            "127.0.0.1:3001",
            "127.1.2.3:80",
            "[::1]",
            "[::1]:3001",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:3001",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "128.0.0.1",
            "[::1]x",
            "[::2]:80",
            "localhost:80x",
            "localhost:",
            "",
            "0.0.0.0:3001",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn web_origins() {
        assert!(is_web_origin("http://demo.example:5173"));
        assert!(is_web_origin("https://[::1]:8080"));
        for bad in [
            "null",
            "file://",
            "http://",
            "http://a/b",
            "data:x",
            "http://a b",
        ] {
            assert!(!is_web_origin(bad), "{bad}");
        }
    }

    #[test]
    fn json_content_types() {
        assert!(is_json_content_type("application/json"));
        assert!(is_json_content_type("Application/JSON; charset=utf-8"));
        assert!(is_json_content_type("application/merge-patch+json"));
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "text/json+x",
            "",
        ] {
            assert!(!is_json_content_type(bad), "{bad}");
        }
    }
}

//! Row 5, cross-site control: a page on any origin could POST `text/plain` (no preflight) to
//! `/dev/stall` or `/dev/outage` and have it executed; `Host: evil.example` was accepted (DNS
//! rebinding); the Respoke side echoed any `Origin`, `null` included, with credentials, on
//! every route (now: only on the handshake and `/v1/tokens`, see `http::CREDENTIALED_PATHS`).

use reqwest::Method;
use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn row05_dev_controls_refuse_foreign_pages_and_rebound_hosts() {
    let _serial = crate::serial().await;
    let h = start_with(fast_settings()).await;
    // A simple (preflight-free) cross-site POST, as a form or fetch with text/plain sends it.
    for (path, origin, host) in [
        ("stall", Some("http://evil.example"), None),
        ("outage", Some("null"), None),
        ("outage", Some("http://127.0.0.1.evil.example:3001"), None),
        // DNS rebinding: the page's own origin, resolved to 127.0.0.1.
        ("stall", None, Some("evil.example:3001")),
        (
            "outage",
            Some("http://evil.example:3001"),
            Some("evil.example:3001"),
        ),
    ] {
        let mut request = h
            .http
            .post(format!("{}/dev/{path}", h.api))
            .header("Content-Type", "text/plain;charset=UTF-8")
            .body(r#"{"seconds":60}"#);
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        if let Some(host) = host {
            request = request.header("Host", host);
        }
        let reply = request.send().await.unwrap();
        assert_eq!(reply.status(), 403, "{path} {origin:?} {host:?}");
        assert!(reply.json::<Value>().await.unwrap()["error"].is_string());
    }
    let state: Value = h.get_json(&format!("{}/dev/state", h.api)).await;
    assert!(state["outageRemainingSecs"].is_null(), "{state}");
    assert!(state["stallAllRemainingSecs"].is_null(), "{state}");
    // Even from a loopback page, a non-JSON body is refused.
    let reply = h
        .http
        .post(format!("{}/dev/stall", h.api))
        .header("Content-Type", "text/plain")
        .header("Origin", "http://127.0.0.1:8080")
        .body(r#"{"seconds":60}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 415);
    // The demo page (another loopback port) still works, with a loopback Host by any name.
    for host in ["localhost:3001", "127.0.0.1", "[::1]:3001"] {
        let reply = h
            .http
            .get(format!("{}/dev/state", h.api))
            .header("Origin", "http://127.0.0.1:8080")
            .header("Host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "{host}");
        assert_eq!(
            reply.headers()["access-control-allow-origin"],
            "http://127.0.0.1:8080"
        );
    }
}

#[tokio::test]
async fn row05_respoke_cors_never_reflects_null_and_credentials_only_where_needed() {
    let _serial = crate::serial().await;
    let h = start_with(fast_settings()).await;
    for path in ["/v1/session-tokens", "/v1/tokens", "/socket.io/1/"] {
        let reply = h
            .http
            .request(Method::OPTIONS, format!("{}{path}", h.api))
            .header("Origin", "null")
            .header("Access-Control-Request-Method", "POST")
            .send()
            .await
            .unwrap();
        assert!(
            reply.headers().get("access-control-allow-origin").is_none(),
            "{path}: Origin null reflected"
        );
    }
    let origin = "http://app.example:5173";
    let reply = h
        .http
        .post(format!("{}/v1/session-tokens", h.api))
        .header("Origin", origin)
        .json(&serde_json::json!({"tokenId": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.headers()["access-control-allow-origin"], origin);
    assert!(reply
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
    // The handshake keeps what respoke.js needs: the exact origin and credentials.
    let app_token = h.app_token("cors5@x").await;
    let query = respoke_protocol::HandshakeQuery::new(&app_token, SDK, 1);
    let reply = h
        .http
        .get(format!("{}{}", h.api, query.handshake_path()))
        .header("Origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["access-control-allow-origin"], origin);
    assert_eq!(reply.headers()["access-control-allow-credentials"], "true");
}

//! CORS: exact origin echo on the Respoke side (credentials on the handshake only, never for
//! `null`), loopback origins only on /dev/ and the app server.

use reqwest::Method;

use crate::common::*;

#[tokio::test]
async fn respoke_side_echoes_origin_with_credentials() {
    let h = start_with(fast_settings()).await;
    let origin = "http://demo.example:5173";
    // The admin SDK in a page sends all three credential headers (`null` for those it lacks).
    for path in [
        "/v1/session-tokens",
        "/v1/tokens",
        "/v1/roles",
        "/v1/roles/X",
        "/v1/adminsessions",
        "/v1/apps/A",
    ] {
        let reply = h
            .http
            .request(Method::OPTIONS, format!("{}{path}", h.api))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "admin-token,app-secret,app-token,content-type,respoke-sdk",
            )
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success(), "{path}");
        let headers = reply.headers();
        assert_eq!(headers["access-control-allow-origin"], origin);
        // No browser sends the exchange with credentials (respoke.js and our client alike);
        // the wasm browser tests mint (development mode) with them.
        assert_eq!(
            headers.get("access-control-allow-credentials").is_some(),
            path == "/v1/tokens",
            "{path}"
        );
        let allowed = headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        for name in [
            "content-type",
            "app-token",
            "app-secret",
            "admin-token",
            "respoke-sdk",
        ] {
            assert!(allowed.contains(name), "{allowed}");
        }
        assert!(headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("DELETE"));
    }
    // The handshake itself (sent with credentials by respoke.js): never `*`.
    let app_token = h.app_token("cors@x").await;
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
    // Errors carry CORS too, so a browser can read them.
    let reply = h
        .http
        .post(format!("{}/v1/session-tokens", h.api))
        .header("Origin", origin)
        .json(&serde_json::json!({"tokenId": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
    assert_eq!(reply.headers()["access-control-allow-origin"], origin);
    // /dev/ answers loopback origins only (see tests/hardening for the refusals).
    let reply = h
        .http
        .request(Method::OPTIONS, format!("{}/dev/drop", h.api))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(reply.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn app_server_allows_loopback_origins_only() {
    let h = start_with(fast_settings()).await;
    for (origin, allowed) in [
        ("http://127.0.0.1:9999", true),
        ("http://localhost:4000", true),
        ("http://evil.example", false),
        ("http://127.0.0.1.evil.example", false),
    ] {
        let reply = h
            .http
            .request(Method::OPTIONS, format!("{}/api/tokens", h.app))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
            .await
            .unwrap();
        let echoed = reply
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_owned());
        if allowed {
            assert_eq!(echoed.as_deref(), Some(origin));
            assert_eq!(reply.headers()["access-control-allow-credentials"], "true");
        } else {
            assert_eq!(echoed, None, "{origin}");
        }
    }
}

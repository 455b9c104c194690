//! Malformed and oversized bodies: JSON errors, never a panic.

use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn malformed_and_oversized_bodies() {
    let h = start_with(fast_settings()).await;
    let cases: Vec<(String, &str, Vec<u8>, u16)> = vec![
        (
            format!("{}/v1/tokens", h.api),
            "application/json",
            b"{not json".to_vec(),
            400,
        ),
        (
            format!("{}/v1/tokens", h.api),
            "application/json",
            b"[1,2]".to_vec(),
            400,
        ),
        (
            format!("{}/v1/tokens", h.api),
            "application/json",
            b"{\"ttl\":{}}".to_vec(),
            400,
        ),
        (
            format!("{}/v1/session-tokens", h.api),
            "application/json",
            b"{\"tokenId\":".to_vec(),
            400,
        ),
        (
            format!("{}/v1/session-tokens", h.api),
            "application/json",
            b"{}".to_vec(),
            400,
        ),
        (
            format!("{}/v1/session-tokens", h.api),
            "application/json",
            vec![0xff, 0xfe],
            400,
        ),
        (
            format!("{}/v1/session-tokens", h.api),
            "text/plain",
            b"x=1".to_vec(),
            415,
        ),
        (
            format!("{}/v1/tokens", h.api),
            "application/json",
            vec![b' '; 70 * 1024],
            413,
        ),
        (
            format!("{}/v1/session-tokens", h.api),
            "application/json",
            vec![b'a'; 200 * 1024],
            413,
        ),
        (
            format!("{}/api/login", h.app),
            "application/json",
            b"{".to_vec(),
            400,
        ),
        (
            format!("{}/api/tokens", h.app),
            "application/json",
            vec![b'a'; 100 * 1024],
            413,
        ),
    ];
    for (url, content_type, body, status) in cases {
        let reply = h
            .http
            .post(&url)
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), status, "{url}");
        assert!(reply.headers().contains_key("request-id"));
        let body: Value = reply.json().await.unwrap();
        assert!(body["error"].is_string(), "{url}: {body}");
    }
    // Unknown routes are JSON 404s on both listeners.
    for url in [
        format!("{}/v2/nothing", h.api),
        format!("{}/api/nothing", h.app),
    ] {
        let reply = h.http.get(&url).send().await.unwrap();
        assert_eq!(reply.status(), 404);
        assert!(reply.json::<Value>().await.unwrap()["error"].is_string());
    }
    // Still alive.
    h.mint("alive@x", 60).await;
}

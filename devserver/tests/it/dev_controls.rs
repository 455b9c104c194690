//! The `/dev/` controls.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request as HttpRequest, StatusCode};
use respoke_devserver::config::Config;
use respoke_devserver::{api_router, RespokeState, Settings};
use respoke_protocol::handshake::HandshakeQuery;
use respoke_protocol::sails::Method;
use respoke_protocol::Packet;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::*;

#[tokio::test]
async fn drop_all_or_one_endpoint() {
    let h = start_with(fast_settings()).await;
    let mut a = h.open_socket(&h.app_token("a@x").await).await;
    let mut b = h.open_socket(&h.app_token("b@x").await).await;
    let reply = h.dev("drop", json!({"endpointId": "a@x"})).await;
    assert_eq!(reply["dropped"], 1);
    a.expect_dropped(Duration::from_secs(2)).await;
    // b is untouched: it still answers requests.
    let r = b.request(Method::Get, "/v1/turn", json!({})).await;
    assert_eq!(r.status_code, 200);
    let mut c = h.open_socket(&h.app_token("c@x").await).await;
    let reply = h.dev("drop", json!({})).await;
    assert_eq!(reply["dropped"], 2);
    b.expect_dropped(Duration::from_secs(2)).await;
    c.expect_dropped(Duration::from_secs(2)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(h.stats().await["liveSockets"], 0);
}

#[tokio::test]
async fn outage_then_reset() {
    let h = start_with(fast_settings()).await;
    let mut ws = h.open_socket(&h.app_token("o@x").await).await;
    let spare_app_token = h.app_token("o@x").await;
    let reply = h.dev("outage", json!({"seconds": 30})).await;
    assert_eq!(reply["dropped"], 1);
    ws.expect_dropped(Duration::from_secs(2)).await;

    // Tokens still mint; exchanges and handshakes get 503 + Retry-After.
    let token_id = h.mint("o@x", 60).await;
    let reply = h.exchange_raw(&token_id).await;
    assert_eq!(reply.status(), 503);
    let retry_after: u64 = reply.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((29..=30).contains(&retry_after), "{retry_after}");
    assert!(reply.json::<Value>().await.unwrap()["error"].is_string());
    let reply = h
        .handshake_raw(&HandshakeQuery::new(&spare_app_token, SDK, 1))
        .await;
    assert_eq!(reply.status(), 503);
    assert!(reply.headers().contains_key("retry-after"));
    let state = h
        .http
        .get(format!("{}/dev/state", h.api))
        .send()
        .await
        .unwrap();
    assert!(
        state.json::<Value>().await.unwrap()["outageRemainingSecs"]
            .as_u64()
            .unwrap()
            > 0
    );

    h.dev("reset", json!({})).await;
    // The tokenId offered during the outage was not spent.
    h.exchange(&token_id).await;
    let _ws = h.open_socket(&spare_app_token).await;
    // Reset keeps the counters.
    assert!(h.stats().await["exchangesRejectedOther"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn short_outage_ends_by_itself() {
    let h = start_with(fast_settings()).await;
    h.dev("outage", json!({"seconds": 1})).await;
    let token_id = h.mint("short@x", 60).await;
    let reply = h.exchange_raw(&token_id).await;
    assert_eq!(reply.status(), 503);
    assert_eq!(reply.headers()["retry-after"], "1");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    h.exchange(&token_id).await;
}

#[tokio::test]
async fn fail_session_tokens_count_status_retry_after() {
    let h = start_with(fast_settings()).await;
    h.dev(
        "fail-session-tokens",
        json!({"count": 2, "status": 500, "retryAfter": 7}),
    )
    .await;
    let token_id = h.mint("f@x", 60).await;
    for _ in 0..2 {
        let reply = h.exchange_raw(&token_id).await;
        assert_eq!(reply.status(), 500);
        assert_eq!(reply.headers()["retry-after"], "7");
    }
    h.exchange(&token_id).await;
    // Default status 503; reset cancels what is left.
    h.dev("fail-session-tokens", json!({"count": 5})).await;
    let token_id = h.mint("f@x", 60).await;
    assert_eq!(h.exchange_raw(&token_id).await.status(), 503);
    h.dev("reset", json!({})).await;
    h.exchange(&token_id).await;
    let bad = h
        .http
        .post(format!("{}/dev/fail-session-tokens", h.api))
        .json(&json!({"count": 1, "status": 200}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn stall_silences_sockets_then_they_resume() {
    let h = start_with(fast_settings()).await; // heartbeats every 300 ms
    let mut stalled = h.open_socket(&h.app_token("s@x").await).await;
    let mut other = h.open_socket(&h.app_token("t@x").await).await;
    h.dev("stall", json!({"seconds": 2, "endpointId": "s@x"}))
        .await;
    // Drain what was in flight, then nothing for a while, heartbeats included.
    tokio::time::sleep(Duration::from_millis(50)).await;
    while let Received::Packet(_) = stalled.receive(Duration::from_millis(10)).await {}
    // Requests are ignored while stalled (no ack), messages to it are not delivered.
    stalled
        .send(&respoke_protocol::Request::new(Method::Post, "/v1/presence").to_packet(9))
        .await;
    let r = other
        .request(
            Method::Post,
            "/v1/messages",
            json!({"to": "s@x", "message": "hello?"}),
        )
        .await;
    assert_eq!(r.status_code, 200);
    assert_eq!(
        stalled.receive(Duration::from_millis(1200)).await,
        Received::TimedOut
    );
    // The other endpoint kept its heartbeats.
    assert_eq!(
        other.next_packet(Duration::from_secs(1)).await,
        Some(Packet::Heartbeat)
    );
    // After the stall, heartbeats come back and the socket works.
    assert_eq!(
        stalled.next_packet(Duration::from_secs(2)).await,
        Some(Packet::Heartbeat)
    );
    let r = stalled
        .request(
            Method::Post,
            "/v1/presence",
            json!({"presence": {"type": "available"}}),
        )
        .await;
    assert_eq!(r.status_code, 200);

    // A global stall, cleared by reset.
    h.dev("stall", json!({"seconds": 60})).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    while let Received::Packet(_) = other.receive(Duration::from_millis(10)).await {}
    assert_eq!(
        other.receive(Duration::from_millis(700)).await,
        Received::TimedOut
    );
    h.dev("reset", json!({})).await;
    assert_eq!(
        other.next_packet(Duration::from_secs(1)).await,
        Some(Packet::Heartbeat)
    );
}

#[tokio::test]
async fn stats_document_and_endpoint_query() {
    let h = start_with(fast_settings()).await;
    let _ws = h.open_socket(&h.app_token("st@x").await).await;
    let stats = h.stats().await;
    for key in [
        "tokensIssued",
        "exchangesAccepted",
        "exchangesRejectedUsed",
        "exchangesRejectedOther",
        "handshakes",
        "handshakesRejected",
        "liveSockets",
        "maxLiveSocketsPerEndpoint",
        "appTokenRequests",
        "appTokenRequestsUnauthorized",
        "messagesSent",
        "messagesDelivered",
        "requests",
        "endpoints",
    ] {
        assert!(stats.get(key).is_some(), "missing {key}");
    }
    let one = h.endpoint_stats("st@x").await;
    for key in [
        "tokensIssued",
        "exchangesAccepted",
        "exchangesRejectedUsed",
        "liveSockets",
        "maxLiveSockets",
        "socketsOpened",
        "appTokenRequests",
        "appTokenRequestsUnauthorized",
        "sessionTokensDeleted",
        "connectionsDeleted",
        "messagesSent",
        "messagesDelivered",
        "requests",
        "lastTokenIds",
    ] {
        assert!(one.get(key).is_some(), "missing {key}");
    }
    assert_eq!(one["liveSockets"], 1);
    // The whole document leaves out the spent tokenIds; everything else is the same.
    let mut without_token_ids = one.clone();
    without_token_ids
        .as_object_mut()
        .unwrap()
        .remove("lastTokenIds");
    assert_eq!(without_token_ids, stats["endpoints"]["st@x"]);
    let nobody = h.endpoint_stats("nobody@x").await;
    assert_eq!(nobody["tokensIssued"], 0);
    assert_eq!(nobody["lastTokenIds"], json!([]));
}

#[tokio::test]
async fn dev_routes_refuse_non_loopback_peers_and_bad_bodies() {
    let state = Arc::new(RespokeState::new(
        Arc::new(Config::demo()),
        Settings::default(),
        Arc::default(),
    ));
    // No ConnectInfo (not a loopback socket) -> 403.
    let response = api_router(state)
        .oneshot(
            HttpRequest::post("/dev/drop")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let h = start_with(fast_settings()).await;
    for (path, body) in [
        ("outage", "{"),
        ("outage", "{}"),
        ("stall", r#"{"seconds":-1}"#),
        ("fail-session-tokens", "[]"),
        ("ack-delay", r#"{"seconds":3601}"#),
        ("ack-delay", r#"{"endpointId":"x"}"#),
    ] {
        let reply = h
            .http
            .post(format!("{}/dev/{path}", h.api))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 400, "{path} {body}");
        assert!(reply.json::<Value>().await.unwrap()["error"].is_string());
    }

    // --no-dev-controls: the routes do not exist.
    let settings = Settings {
        dev_controls: false,
        ..fast_settings()
    };
    let h = start_with(settings).await;
    let reply = h
        .http
        .get(format!("{}/dev/stats", h.api))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 404);
}

//! Row 8, large frames: tungstenite's defaults (64 MiB message, 16 MiB frame) were in force,
//! so a 16 MiB frame was accepted and parsed.

use std::time::Duration;

use futures_util::SinkExt;
use respoke_protocol::sails::{Method, Request};
use respoke_protocol::Packet;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::common::*;

#[tokio::test]
async fn row08_a_frame_over_the_bound_closes_the_socket_unparsed() {
    let _serial = crate::serial().await;
    let h = start_with(fast_settings()).await;
    for size in [2 * 1024 * 1024, 16 * 1024 * 1024] {
        let app_token = h.app_token("big@x").await;
        let mut ws = h.open_socket(&app_token).await;
        // A valid request with an ack id: a server that parsed it would answer.
        let request = Request::new(Method::Post, "/v1/presence")
            .with_data(json!({"presence": {"type": "available", "status": "s".repeat(size)}}));
        // The server may close while the frame is still being written: a failed send is fine.
        let _ = ws
            .stream
            .send(Message::Text(request.to_packet(1).encode().into()))
            .await;
        loop {
            match ws.receive(Duration::from_secs(10)).await {
                Received::Packet(Packet::Heartbeat) => continue,
                Received::Packet(Packet::Ack { .. }) => panic!("a {size}-byte frame was parsed"),
                Received::Packet(Packet::Disconnect { .. }) => continue,
                Received::Closed => break,
                Received::TimedOut => panic!("no close after a {size}-byte frame"),
                Received::Packet(other) => panic!("{other:?}"),
            }
        }
    }
    let stats = h.stats().await;
    assert_eq!(stats["oversizedMessages"], 2);
    assert_eq!(h.endpoint_stats("big@x").await["liveSockets"], 0);
}

#[tokio::test]
async fn row08_request_bodies_over_respoke_js_bound_are_refused_with_413() {
    let _serial = crate::serial().await;
    let h = start_with(fast_settings()).await;
    let app_token = h.app_token("body@x").await;
    let mut ws = h.open_socket(&app_token).await;
    // respoke.js refuses bodies over 20,000 bytes itself ("enforced server side").
    let reply = ws
        .request(
            Method::Post,
            "/v1/messages",
            json!({"to": "body@x", "message": "m".repeat(100_000)}),
        )
        .await;
    assert_eq!(reply.status_code, 413);
    // Within the bound: fine, and the socket lives on.
    let reply = ws
        .request(
            Method::Post,
            "/v1/messages",
            json!({"to": "nobody@x", "message": "m".repeat(19_000)}),
        )
        .await;
    assert_eq!(reply.status_code, 200);
    // Ids over 256 bytes are a 400.
    let reply = ws
        .request(
            Method::Post,
            "/v1/groups/",
            json!({"groups": ["g".repeat(300)]}),
        )
        .await;
    assert_eq!(reply.status_code, 400);
}

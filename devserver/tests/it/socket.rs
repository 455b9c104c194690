//! The socket.io 0.9 WebSocket: handshake, heartbeats, acks, messages, legacy shape.

use std::time::Duration;

use futures_util::StreamExt;
use respoke_protocol::handshake::HandshakeQuery;
use respoke_protocol::sails::{Method, Request};
use respoke_protocol::{Handshake, Packet};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::common::*;

#[tokio::test]
async fn handshake_shape_and_bad_app_token() {
    let h = start_with(respoke_devserver::Settings::default()).await;
    let app_token = h.app_token("hs@x").await;
    let reply = h
        .handshake_raw(&HandshakeQuery::new(&app_token, SDK, 5))
        .await;
    assert_eq!(reply.status(), 200);
    assert!(reply.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let line = reply.text().await.unwrap();
    let handshake = Handshake::parse(&line).unwrap();
    assert_eq!(line, format!("{}:60:60:websocket", handshake.sid));

    for bad in ["", "not-a-token"] {
        let reply = h.handshake_raw(&HandshakeQuery::new(bad, SDK, 5)).await;
        assert_eq!(reply.status(), 403);
        assert!(reply.json::<Value>().await.unwrap()["error"].is_string());
    }
    // Unknown sid: socket.io's "client not handshaken" and a close.
    let mut ws = h
        .connect_ws("/socket.io/1/websocket/nope?app-token=x")
        .await;
    assert_eq!(
        ws.next_packet(Duration::from_secs(2)).await,
        Some(Packet::Error {
            endpoint: String::new(),
            reason: "1".into(),
            advice: "0".into()
        })
    );
    // A sid opens one socket only.
    let query = HandshakeQuery::new(&app_token, SDK, 6);
    let sid = Handshake::parse(&h.handshake_raw(&query).await.text().await.unwrap())
        .unwrap()
        .sid;
    let mut first = h.connect_ws(&query.websocket_path(&sid)).await;
    assert_eq!(
        first.next_packet(Duration::from_secs(2)).await,
        Some(Packet::connect())
    );
    let mut second = h.connect_ws(&query.websocket_path(&sid)).await;
    assert!(matches!(
        second.next_packet(Duration::from_secs(2)).await,
        Some(Packet::Error { .. })
    ));
}

#[tokio::test]
async fn socket_io_subprotocol_is_accepted() {
    let h = start_with(fast_settings()).await;
    let app_token = h.app_token("chan@x").await;
    let query = HandshakeQuery::new(&app_token, "chan_respoke", 1);
    let sid = Handshake::parse(&h.handshake_raw(&query).await.text().await.unwrap())
        .unwrap()
        .sid;
    let mut request = format!("ws://{}{}", h.running.api_addr, query.websocket_path(&sid))
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "socket.io".parse().unwrap());
    let (mut stream, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "socket.io");
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.to_text().unwrap(), "1::");
}

#[tokio::test]
async fn heartbeats_are_sent_and_silent_clients_dropped() {
    let h = start_with(fast_settings()).await; // every 300 ms, timeout 2 s
    let app_token = h.app_token("hb@x").await;
    let mut ws = h.open_socket(&app_token).await;
    let started = std::time::Instant::now();
    for _ in 0..3 {
        assert_eq!(
            ws.next_packet(Duration::from_secs(1)).await,
            Some(Packet::Heartbeat)
        );
    }
    assert!(started.elapsed() < Duration::from_millis(1500));

    // A client that echoes stays up past the timeout.
    let mut echoing = h.open_socket(&h.app_token("hb2@x").await).await;
    let until = std::time::Instant::now() + Duration::from_millis(3000);
    while std::time::Instant::now() < until {
        match echoing.receive(Duration::from_secs(1)).await {
            Received::Packet(Packet::Heartbeat) => echoing.send(&Packet::heartbeat()).await,
            other => panic!("echoing client got {other:?}"),
        }
    }

    // The silent one (never echoed) was dropped after timeout + one interval.
    let mut dropped = false;
    for _ in 0..20 {
        match ws.receive(Duration::from_secs(1)).await {
            Received::Packet(Packet::Heartbeat) => continue,
            Received::Packet(Packet::Disconnect { .. }) | Received::Closed => {
                dropped = true;
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(dropped);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn every_request_gets_an_ack() {
    let h = start_with(fast_settings()).await;
    let mut ws = h.open_socket(&h.app_token("ack@x").await).await;
    let missing = ws.request(Method::Get, "/v1/nothing-here", json!({})).await;
    assert_eq!(missing.status_code, 404);
    assert!(missing.is_error());
    // respoke.js's other routes are answered.
    for url in ["/v1/turn", "/v1/call-debugs"] {
        let r = ws.request(Method::Post, url, json!({})).await;
        assert_eq!(r.status_code, 200, "{url}");
    }
    // Routes with a body answer a missing one with a 400 validation error.
    for url in [
        "/v1/groups/",
        "/v1/presenceobservers",
        "/v1/signaling",
        "/v1/messages",
        "/v1/presence",
    ] {
        let r = ws.request(Method::Post, url, json!({})).await;
        assert_eq!(r.status_code, 400, "{url}");
        assert_eq!(r.body["error"], "Validation Error.", "{url}");
    }
    // Object envelope, `params`, full URL.
    let request = json!({"url": "http://127.0.0.1:1/v1/presence/", "params": {"presence": {"type": "available"}}});
    ws.send(&Packet::event(Some(50), "post", vec![request]))
        .await;
    let ack = ws.next_non_heartbeat(Duration::from_secs(2)).await;
    let Received::Packet(Packet::Ack {
        ack_id: 50, args, ..
    }) = ack
    else {
        panic!("{ack:?}")
    };
    assert_eq!(args, r#"[{"body":{},"headers":{},"statusCode":200}]"#);
    // Non-request events and garbage envelopes still get an ack.
    ws.send(&Packet::event(Some(51), "hello", vec![])).await;
    let Received::Packet(Packet::Ack { ack_id: 51, .. }) =
        ws.next_non_heartbeat(Duration::from_secs(2)).await
    else {
        panic!()
    };
    ws.send_text("5:52+::{not json").await;
    let Received::Packet(Packet::Ack {
        ack_id: 52, args, ..
    }) = ws.next_non_heartbeat(Duration::from_secs(2)).await
    else {
        panic!()
    };
    assert!(args.contains("\"error\""));
    // Garbage packets are ignored, the socket lives on.
    ws.send_text("nonsense").await;
    ws.send_text("").await;
    let r = ws.request(Method::Get, "/v1/turn", json!({})).await;
    assert_eq!(r.status_code, 200);
}

#[tokio::test]
async fn legacy_ack_shape_without_sails_version() {
    let h = start_with(fast_settings()).await;
    let app_token = h.app_token("legacy@x").await;
    let mut query = HandshakeQuery::new(&app_token, SDK, 1);
    query.sails_sdk_version = None;
    let mut ws = h.open_socket_with(query).await;
    let args = ws
        .request_raw(&Request::new(Method::Post, "/v1/connections"))
        .await;
    let values: Vec<Value> = serde_json::from_str(&args).unwrap();
    let body: Value = serde_json::from_str(values[0].as_str().unwrap()).unwrap();
    assert_eq!(body["endpointId"], "legacy@x");
}

#[tokio::test]
async fn messages_reach_every_socket_of_the_recipient() {
    let h = start_with(fast_settings()).await;
    let mut kirk1 = h
        .open_socket(&h.app_token("kirk@enterprise.com").await)
        .await;
    let mut kirk2 = h
        .open_socket(&h.app_token("kirk@enterprise.com").await)
        .await;
    let mut spock = h
        .open_socket(&h.app_token("spock@enterprise.com").await)
        .await;
    let conn = spock
        .request(Method::Post, "/v1/connections", json!({}))
        .await;
    let r = spock
        .request(
            Method::Post,
            "/v1/messages",
            json!({"to": "kirk@enterprise.com", "message": "Fascinating."}),
        )
        .await;
    assert_eq!(r.status_code, 200);
    assert_eq!(r.body, json!({}));
    for kirk in [&mut kirk1, &mut kirk2] {
        let Received::Packet(packet) = kirk.next_non_heartbeat(Duration::from_secs(2)).await else {
            panic!()
        };
        assert_eq!(packet.id(), None);
        let event = packet.event_data().unwrap().unwrap();
        assert_eq!(event.name, "message");
        let payload = &event.args[0];
        assert_eq!(payload["body"], "Fascinating.");
        assert_eq!(payload["header"]["type"], "message");
        assert_eq!(payload["header"]["from"], "spock@enterprise.com");
        assert_eq!(payload["header"]["fromConnection"], conn.body["id"]);
        assert!(payload["header"]["timestamp"].as_u64().unwrap() > 1_600_000_000_000);
    }
    let missing = spock
        .request(Method::Post, "/v1/messages", json!({"message": "x"}))
        .await;
    assert_eq!(missing.status_code, 400);
    let stats = h.stats().await;
    assert_eq!(
        stats["endpoints"]["kirk@enterprise.com"]["maxLiveSockets"],
        2
    );
    assert_eq!(stats["maxLiveSocketsPerEndpoint"], 2);
    assert_eq!(stats["liveSockets"], 3);
}

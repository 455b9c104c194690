//! Row 3, slow reader: a socket that stops reading while others message it had 20,000 x 8 KB
//! queued (+111 MB) in 1.2 s on an unbounded channel, and because the send was awaited inside
//! the heartbeat loop the victim stayed "live" 24 s past a 3 s heartbeat timeout, out of reach
//! of `/dev/drop`.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use respoke_protocol::sails::{Method, Request};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::server::Server;

/// Floods `victim` with `count` messages of `size` bytes from a fresh socket of `sender`,
/// reading the sender's acks as they come; returns the sender's socket, still open.
async fn flood(
    server: &Server,
    sender: &str,
    victim: &str,
    count: usize,
    size: usize,
) -> crate::common::Ws {
    let token = server.app_token(sender).await;
    let ws = server.open_socket(&token).await;
    let crate::common::Ws { stream, .. } = ws;
    let (mut sink, mut stream) = stream.split();
    // The sender reads everything, so it never falls behind itself.
    let reader = tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut acks = 0;
        while acks < count {
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(Some(Ok(Message::Text(text)))) if text.as_str().starts_with("6:") => acks += 1,
                Ok(Some(Ok(_))) => {}
                _ => break,
            }
        }
        (stream, acks)
    });
    let body = "m".repeat(size);
    for n in 0..count {
        let request = Request::new(Method::Post, "/v1/messages")
            .with_data(json!({"to": victim, "message": body}))
            .with_header("App-Token", token.as_str());
        if sink
            .send(Message::text(request.to_packet(n as u64 + 1).encode()))
            .await
            .is_err()
        {
            break;
        }
        // Let the reader run: a sender that never reads its acks is a slow consumer too.
        if n % 8 == 7 {
            tokio::task::yield_now().await;
        }
    }
    let (stream, acks) = reader.await.unwrap();
    assert_eq!(acks, count, "the sender got every ack");
    crate::common::Ws::from_stream(sink.reunite(stream).expect("same socket"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row03_a_consumer_that_stops_reading_is_disconnected_and_memory_stays_flat() {
    let _serial = crate::serial().await;
    // A heartbeat timeout longer than the flood: what disconnects the victim is its full
    // queue.
    let server = Server::start(&[
        "--heartbeat-interval-secs",
        "0.3",
        "--heartbeat-timeout-secs",
        "6",
    ]);
    let victim_token = server.app_token("victim@x").await;
    // The victim reads `1::` and then nothing, ever.
    let _victim = server.open_socket(&victim_token).await;
    assert_eq!(server.live("victim@x").await, 1);
    let before = server.rss_kb();
    let started = Instant::now();
    let _sender = flood(&server, "sender@x", "victim@x", 2_500, 8 * 1024).await;
    let after = server.rss_kb();
    // The victim is gone soon: its queue (4 MiB) filled.
    let deadline = started + Duration::from_secs(30);
    let mut live = server.live("victim@x").await;
    while live > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        live = server.live("victim@x").await;
    }
    assert_eq!(live, 0, "the victim is no longer live");
    assert_eq!(
        server.live("sender@x").await,
        1,
        "the sender is not affected"
    );
    let grown_mb = after.saturating_sub(before) / 1024;
    assert!(
        grown_mb < 40,
        "server RSS grew {grown_mb} MB while flooding"
    );
    let stats = server.stats(None).await;
    assert_eq!(stats["slowConsumersDropped"], 1, "{stats}");
    let log = String::from_utf8_lossy(&server.log_bytes()).into_owned();
    assert!(log.contains("slow consumer"), "the disconnect is logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row03_heartbeat_timeout_and_dev_drop_reach_a_socket_whose_writes_are_stuck() {
    let _serial = crate::serial().await;
    // A queue big enough that the writes get stuck on the kernel's buffers well before the
    // server would call the victim slow, and a heartbeat timeout longer than a flood takes.
    let server = Server::start(&[
        "--heartbeat-interval-secs",
        "0.3",
        "--heartbeat-timeout-secs",
        "10",
        "--socket-queue-bytes",
        "400000000",
        "--socket-queue-packets",
        "100000",
    ]);
    let dropped_token = server.app_token("dropped@x").await;
    let _dropped = server.open_socket(&dropped_token).await;
    let opened = Instant::now();
    let _sender = flood(&server, "sender@x", "dropped@x", 1_200, 8 * 1024).await;
    assert!(
        opened.elapsed() < Duration::from_secs(10),
        "the flood outlasted the heartbeat timeout ({:?}): the test proves nothing",
        opened.elapsed()
    );
    assert_eq!(server.live("dropped@x").await, 1);
    // /dev/drop reaches it at once, however stuck its writes are.
    let started = Instant::now();
    let reply = server
        .http
        .post(format!("{}/dev/drop", server.api))
        .json(&json!({"endpointId": "dropped@x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let mut live = server.live("dropped@x").await;
    while live > 0 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        live = server.live("dropped@x").await;
    }
    assert_eq!(live, 0);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "/dev/drop took {:?}",
        started.elapsed()
    );

    // This one never answers a heartbeat: gone 10.3 s after it last spoke (when it opened),
    // plus slack, however much is queued for it.
    let silent_token = server.app_token("silent@x").await;
    let _silent = server.open_socket(&silent_token).await;
    let opened = Instant::now();
    let _sender2 = flood(&server, "sender2@x", "silent@x", 1_200, 8 * 1024).await;
    let mut live = server.live("silent@x").await;
    while live > 0 && opened.elapsed() < Duration::from_secs(25) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        live = server.live("silent@x").await;
    }
    assert_eq!(
        live, 0,
        "the heartbeat timeout is enforced despite stuck writes"
    );
    assert!(
        opened.elapsed() < Duration::from_secs(13),
        "gone after {:?}",
        opened.elapsed()
    );
}

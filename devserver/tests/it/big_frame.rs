//! A socket frame that is costly to decode must not stall the server: one frame holding an
//! object of 100,000 keys in descending order (the input that made a sorted-Vec JSON object
//! quadratic: 9 s, during which every other request waited) is decoded by serde_json while
//! other requests are served.

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use respoke_protocol::Packet;
use tokio_tungstenite::tungstenite::Message;

use crate::common::*;

/// `n` as three base-62 digits, so that the keys' text order is their numeric order.
fn key(n: usize) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    [n / (62 * 62), (n / 62) % 62, n % 62]
        .iter()
        .map(|&d| DIGITS[d] as char)
        .collect()
}

#[tokio::test]
async fn a_frame_of_100k_keys_is_decoded_quickly_while_others_are_served() {
    let h = start_with(fast_settings()).await;
    let app_token = h.app_token("big@x").await;
    let mut ws = h.open_socket(&app_token).await;
    ws.next_packet(Duration::from_secs(2)).await; // 1::

    let mut data = String::with_capacity(900_000);
    data.push('{');
    for n in (0..100_000).rev() {
        if n != 99_999 {
            data.push(',');
        }
        data.push('"');
        data.push_str(&key(n));
        data.push_str("\":0");
    }
    data.push('}');
    // The request as an object (servers accept one instead of a JSON string): no escaping, so
    // the frame stays under the server's 1 MB message limit.
    let frame = format!(r#"5:1+::{{"name":"post","args":[{{"url":"/v1/ping","data":{data}}}]}}"#);
    assert!(frame.len() < 1_000_000, "{} bytes", frame.len());

    let sent = Instant::now();
    ws.send_text(&frame).await;
    // Meanwhile an unrelated request must be answered as usual.
    let state = h.get_json(&format!("{}/dev/state", h.api)).await;
    let other_request = sent.elapsed();
    assert!(state.is_object(), "{state}");
    let ack = ws.ack(1, Duration::from_secs(10)).await;
    let decoded = sent.elapsed();
    assert!(ack.contains("statusCode"), "{ack}");
    // serde_json takes about 16 ms in a release build; a debug build is several times slower.
    // The quadratic parser took 9 s.
    assert!(
        decoded < Duration::from_secs(1),
        "the 100k-key frame took {decoded:?}"
    );
    assert!(
        other_request < Duration::from_secs(1),
        "GET /dev/state waited {other_request:?} behind the frame"
    );
}

/// A `post` frame of exactly `len` bytes (an ack is asked for with `id`).
fn frame_of(len: usize, id: u64) -> String {
    let head = format!(r#"5:{id}+::{{"name":"post","args":[{{"url":"/v1/ping","data":{{"p":""#);
    let tail = r#""}}]}"#;
    let mut frame = head;
    frame.push_str(&"x".repeat(len - frame.len() - tail.len()));
    frame.push_str(tail);
    assert_eq!(frame.len(), len);
    frame
}

/// The WebSocket read buffer is small (4 KiB by default, `socket_read_buffer_bytes`): a frame
/// of exactly `--max-socket-message-bytes` still arrives whole (the buffer grows to the frame,
/// and the socket lives on), and one byte more closes the socket unparsed.
#[tokio::test]
async fn a_frame_at_the_message_bound_is_read_whole_through_the_small_read_buffer() {
    let settings = fast_settings();
    let limits = settings.limits.clone();
    assert!(limits.socket_read_buffer_bytes * 64 < limits.max_socket_message_bytes);
    let max = limits.max_socket_message_bytes;
    let h = start_with(settings).await;
    let app_token = h.app_token("edge@x").await;
    let mut ws = h.open_socket(&app_token).await;
    ws.next_packet(Duration::from_secs(2)).await; // 1::

    // Read whole: answered (413: over respoke.js's body bound, which is checked after the
    // frame is read), twice, so the grown buffer is reused.
    for id in [1, 2] {
        ws.send_text(&frame_of(max, id)).await;
        let ack = ws.ack(id, Duration::from_secs(10)).await;
        assert!(ack.contains("413"), "{ack}");
    }
    // Small frames after the big ones still work.
    ws.send_text(r#"5:3+::{"name":"post","args":[{"url":"/v1/ping","data":{}}]}"#)
        .await;
    let ack = ws.ack(3, Duration::from_secs(5)).await;
    assert!(ack.contains("statusCode"), "{ack}");

    // One byte over: closed, not answered.
    let _ = ws
        .stream
        .send(Message::Text(frame_of(max + 1, 4).into()))
        .await;
    loop {
        match ws.receive(Duration::from_secs(10)).await {
            Received::Packet(Packet::Ack { ack_id: 4, .. }) => {
                panic!("an oversized frame was parsed")
            }
            Received::Packet(_) => continue,
            Received::Closed => break,
            Received::TimedOut => panic!("no close after an oversized frame"),
        }
    }
}

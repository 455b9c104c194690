//! The typed Rust API (`respoke_client::rust`) in a real browser against the real dev server:
//! connect, a message between two clients, `/dev/drop` -> a reconnect with a new tokenId seen
//! on the event stream, `disconnect()` -> the stream ends and calls fail with CLOSED.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::*;
use futures_util::StreamExt;
use respoke_client::connection::{Code, Config, Credentials, State, TokenSource};
use respoke_client::rust::{connect, ClientEvent, Method};
use serde_json::json;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn config(endpoint: &str) -> Config {
    let mut config = Config::new(TokenSource::Url {
        url: format!("{}/api/tokens", app()),
        headers: Vec::new(),
        credentials: Credentials::Include,
    });
    config.base_url = api().to_owned();
    config.endpoint_id = Some(endpoint.to_owned());
    config.backoff.initial_delay_ms = 200;
    config.backoff.max_delay_ms = 2_000;
    config
}

/// The next event of `events` that `pick` accepts, within `timeout_ms`.
async fn next_matching<T>(
    events: &mut (impl futures_util::Stream<Item = ClientEvent> + Unpin),
    timeout_ms: u32,
    mut pick: impl FnMut(ClientEvent) -> Option<T>,
) -> T {
    let deadline = js_sys::Date::now() + f64::from(timeout_ms);
    loop {
        let left = (deadline - js_sys::Date::now()).max(0.0) as u32;
        let timeout = gloo_timers::future::TimeoutFuture::new(left);
        match futures_util::future::select(events.next(), timeout).await {
            futures_util::future::Either::Left((Some(event), _)) => {
                if let Some(found) = pick(event) {
                    return found;
                }
            }
            futures_util::future::Either::Left((None, _)) => panic!("the event stream ended"),
            futures_util::future::Either::Right(_) => panic!("timed out after {timeout_ms} ms"),
        }
    }
}

#[wasm_bindgen_test]
async fn connect_message_drop_reconnect_disconnect_from_rust() {
    let spock = login("test27@example.com").await;
    let kirk = login("test28@example.com").await;
    let base = stats(&spock).await;

    let a = connect(config(&spock)).expect("connect");
    let b = connect(config(&kirk)).expect("connect");
    let mut a_events = a.events();
    let mut b_events = b.events();
    let connected = a.ready().await.expect("ready");
    assert_eq!(connected.endpoint_id, spock);
    assert_eq!(connected.attempt, 1);
    b.ready().await.expect("ready");
    assert_eq!(a.state(), State::Connected);

    // A message from a to b arrives on b's stream as a typed event.
    a.send_message(&kirk, "Fascinating.").await.expect("send");
    let (from, text) = next_matching(&mut b_events, 5_000, |event| match event {
        ClientEvent::Message { from, message, .. } => Some((from, message)),
        _ => None,
    })
    .await;
    assert_eq!(
        (from.as_str(), text.as_str()),
        (spock.as_str(), "Fascinating.")
    );

    // An error answer is a typed error with the status.
    let missing = a
        .request(Method::Get, "/v1/no-such-route", json!({}))
        .await
        .expect_err("404");
    assert_eq!(
        (missing.code, missing.status),
        (Code::RequestFailed, Some(404))
    );

    // The server drops a: the stream shows the disconnect and the reconnect, with a new tokenId.
    dev("drop", json!({"endpointId": spock})).await;
    let code = next_matching(&mut a_events, 5_000, |event| match event {
        ClientEvent::Disconnect { code, .. } => Some(code),
        _ => None,
    })
    .await;
    assert_eq!(code, "SERVER_DISCONNECT");
    next_matching(&mut a_events, 10_000, |event| {
        matches!(event, ClientEvent::Connect { .. }).then_some(())
    })
    .await;
    let server = stats(&spock).await;
    assert_eq!(grew(&server, &base, "tokensIssued"), 2, "{server}");
    assert_eq!(grew(&server, &base, "exchangesAccepted"), 2, "{server}");
    assert_eq!(grew(&server, &base, "exchangesRejectedUsed"), 0, "{server}");

    // disconnect(): the stream ends, calls fail with CLOSED, the server sees no socket.
    a.disconnect();
    assert_eq!(a.state(), State::Closed);
    while a_events.next().await.is_some() {}
    let closed = a.send_message(&kirk, "x").await.expect_err("closed");
    assert_eq!(closed.code, "CLOSED");
    let closed = a.ready().await.expect_err("closed");
    assert_eq!(closed.code, "CLOSED");
    // Dropping b disconnects it.
    drop(b_events);
    drop(b);
    let mut server = stats(&kirk).await;
    for _ in 0..50 {
        if n(&server, "liveSockets") == 0 && n(&stats(&spock).await, "liveSockets") == 0 {
            break;
        }
        sleep(50).await;
        server = stats(&kirk).await;
    }
    assert_eq!(n(&server, "liveSockets"), 0, "{server}");
    assert_eq!(n(&stats(&spock).await, "liveSockets"), 0);
}

//! The client in a real browser against the real dev server (started by `npm test` with short
//! heartbeats: `--heartbeat-interval-secs 1 --heartbeat-timeout-secs 3`).
//!
//! Run: `wasm-pack test --headless --chrome` (or `--firefox`) with `RESPOKE_TEST_API` and
//! `RESPOKE_TEST_APP` pointing at the dev server's two listeners. Each test logs in as its own
//! user so the server's per-endpoint statistics belong to that test alone.
#![cfg(target_arch = "wasm32")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use gloo_net::http::Request;
use respoke_client::{connect, listener_count, Client};
use serde::Serialize;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

// ----- a counting allocator: live heap bytes of the whole wasm instance ----------------------

struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

mod browser_support;
use browser_support::*;

// ----- tests ---------------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn bad_options_throw_a_typed_error() {
    for bad in [
        json!({}),
        json!({"tokenUrl": "/t", "baseUrl": "ftp://x"}),
        json!({"tokenUrl": "/t", "backoff": {"multiplier": 0.1}}),
        json!({"tokenUrl": "/t", "credentials": "sometimes"}),
        json!({"getToken": 5}),
        json!({"tokenUrl": "/t", "tokenTimeoutMs": -1}),
        json!({"tokenUrl": 5}),
    ] {
        let options = bad
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .unwrap();
        let error = connect(options)
            .err()
            .unwrap_or_else(|| panic!("accepted {bad}"));
        let name = js_sys::Reflect::get(&error, &"name".into()).unwrap();
        let code = js_sys::Reflect::get(&error, &"code".into()).unwrap();
        assert_eq!(name.as_string().as_deref(), Some("RespokeError"));
        assert_eq!(
            code.as_string().as_deref(),
            Some("INVALID_OPTIONS"),
            "{bad}"
        );
    }
}

fn options_error(options: Value) -> String {
    let options = options
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap();
    let error = connect(options).err().expect("accepted");
    let code = js_sys::Reflect::get(&error, &"code".into()).unwrap();
    assert_eq!(code.as_string().as_deref(), Some("INVALID_OPTIONS"));
    js_sys::Reflect::get(&error, &"message".into())
        .unwrap()
        .as_string()
        .unwrap()
}

#[wasm_bindgen_test]
async fn unknown_and_mistyped_options_are_named() {
    assert_eq!(
        options_error(json!({"tokenUrl": "/t", "baseURL": "http://x:1"})),
        "unknown option \"baseURL\"; did you mean \"baseUrl\"?"
    );
    assert_eq!(
        options_error(json!({"tokenUrl": "/t", "backoff": {"maxDelay": 5}})),
        "unknown option \"backoff.maxDelay\"; did you mean \"backoff.maxDelayMs\"?"
    );
    assert_eq!(
        options_error(json!({"tokenUrl": "/t", "colour": "red"})),
        "unknown option \"colour\""
    );
    let message = options_error(json!({"tokenUrl": "/t", "tokenTimeoutMs": "soon"}));
    assert!(message.contains("tokenTimeoutMs"), "{message}");
    let message = options_error(json!({"tokenUrl": "/t", "backoff": {"multiplier": "x"}}));
    assert!(message.contains("backoff.multiplier"), "{message}");
}

#[wasm_bindgen_test]
async fn first_connect_then_clean_disconnect() {
    let endpoint = login("test1@example.com").await;
    let base = stats(&endpoint).await;
    let client = connect(options(&endpoint, json!({}))).expect("connect");
    let recorder = Recorder::attach(&client);
    let event = ready(&client).await.expect("ready");
    assert_eq!(event["endpointId"], endpoint.as_str());
    assert_eq!(event["attempt"], 1);
    assert_eq!(client.state(), "connected");
    assert_eq!(client.endpoint_id().as_deref(), Some(endpoint.as_str()));
    let phases: Vec<String> = recorder
        .all("state")
        .iter()
        .filter_map(|(_, e)| e["phase"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        phases,
        ["token", "session", "handshake", "socket", "register"]
    );
    let server = stats(&endpoint).await;
    assert_eq!(grew(&server, &base, "exchangesAccepted"), 1);
    assert_eq!(n(&server, "liveSockets"), 1);

    client.disconnect();
    recorder.wait("disconnect", 1, 2_000).await;
    assert_eq!(recorder.last("disconnect")["code"], "CLIENT_DISCONNECT");
    assert_eq!(recorder.last("disconnect")["willReconnect"], false);
    assert_eq!(client.state(), "closed");
    let mut server = stats(&endpoint).await;
    for _ in 0..50 {
        if n(&server, "liveSockets") == 0 && grew(&server, &base, "sessionTokensDeleted") == 1 {
            break;
        }
        sleep(50).await;
        server = stats(&endpoint).await;
    }
    assert_eq!(n(&server, "liveSockets"), 0);
    assert_eq!(
        grew(&server, &base, "sessionTokensDeleted"),
        1,
        "DELETE /v1/session-tokens: {server}"
    );
    assert_eq!(
        grew(&server, &base, "connectionsDeleted"),
        1,
        "delete /v1/connections: {server}"
    );
    let error = ready(&client)
        .await
        .expect_err("ready() after disconnect rejects");
    assert_eq!(
        js_sys::Reflect::get(&error, &"code".into()).unwrap(),
        "CLOSED"
    );
}

#[wasm_bindgen_test]
async fn drop_reconnects_with_a_new_token_and_one_socket() {
    let endpoint = login("test2@example.com").await;
    let base = stats(&endpoint).await;
    let client = connect(options(&endpoint, json!({}))).expect("connect");
    let recorder = Recorder::attach(&client);
    ready(&client).await.expect("ready");
    let first = client.connection_id();
    for round in 2..=4 {
        dev("drop", json!({"endpointId": endpoint})).await;
        recorder.wait("connect", round, 10_000).await;
    }
    let disconnect = recorder.last("disconnect");
    assert_eq!(disconnect["code"], "SERVER_DISCONNECT");
    assert_eq!(disconnect["willReconnect"], true);
    assert_ne!(client.connection_id(), first);
    let reconnecting = recorder.last("reconnecting");
    assert!(reconnecting["delayMs"].as_u64().unwrap() <= 2_000);
    let server = stats(&endpoint).await;
    assert_eq!(grew(&server, &base, "exchangesAccepted"), 4);
    assert_eq!(
        grew(&server, &base, "exchangesRejectedUsed"),
        0,
        "a tokenId was reused: {server}"
    );
    assert_eq!(
        n(&server, "maxLiveSockets"),
        1,
        "two sockets at once: {server}"
    );
    assert_eq!(n(&server, "liveSockets"), 1);
    let ids: Vec<&str> = server["lastTokenIds"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let unique: std::collections::BTreeSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "tokenIds repeat: {ids:?}");
    let stats: Value = serde_wasm_bindgen::from_value(client.stats()).unwrap();
    assert_eq!(stats["connects"], 4);
    assert_eq!(stats["tokensFetched"], 4);
    close(&client).await;
}

#[wasm_bindgen_test]
async fn outage_retry_after_is_respected() {
    let endpoint = login("test3@example.com").await;
    let base = stats(&endpoint).await;
    let client = connect(options(
        &endpoint,
        json!({"backoff": {"initialDelayMs": 100, "maxDelayMs": 400}}),
    ))
    .expect("connect");
    let recorder = Recorder::attach(&client);
    ready(&client).await.expect("ready");
    let outage_start = js_sys::Date::now();
    dev("outage", json!({"seconds": 3})).await;
    recorder.wait("connect", 2, 15_000).await;
    let (connected_at, _) = recorder.all("connect").pop().unwrap();
    assert!(
        connected_at - outage_start >= 2_900.0,
        "connected {} ms into a 3 s outage",
        connected_at - outage_start
    );
    // Every 503 carried Retry-After; the wait that followed it was at least that long, far
    // beyond the 400 ms backoff cap.
    let errors = recorder.all("error");
    let outage_errors: Vec<&Value> = errors
        .iter()
        .map(|(_, e)| e)
        .filter(|e| e["status"] == 503)
        .collect();
    assert!(!outage_errors.is_empty(), "no 503 seen: {errors:?}");
    let waits: Vec<u64> = recorder
        .all("reconnecting")
        .iter()
        .filter(|(_, e)| e["cause"] == "SESSION_HTTP" || e["cause"] == "HANDSHAKE_HTTP")
        .map(|(_, e)| e["delayMs"].as_u64().unwrap())
        .collect();
    assert!(
        !waits.is_empty() && waits.iter().all(|&ms| ms >= 1_000),
        "Retry-After ignored: {waits:?}"
    );
    // Honouring Retry-After keeps the attempts during the outage few.
    let server = stats(&endpoint).await;
    // One token for the first connect; then at most: the attempt that meets the outage, the
    // one after its Retry-After, and one spare for a 503 at the very end of the window.
    assert!(
        grew(&server, &base, "appTokenRequests") <= 4,
        "too many attempts during the outage: {server}"
    );
    assert_eq!(grew(&server, &base, "exchangesRejectedUsed"), 0);
    close(&client).await;
}

#[wasm_bindgen_test]
async fn logout_fails_for_good_without_more_token_requests() {
    let endpoint = login("test4@example.com").await;
    let base = stats(&endpoint).await;
    let client = connect(options(&endpoint, json!({}))).expect("connect");
    let recorder = Recorder::attach(&client);
    ready(&client).await.expect("ready");
    let (status, _) = post(&format!("{}/api/logout", app()), json!({})).await;
    assert_eq!(status, 200);
    dev("drop", json!({"endpointId": endpoint})).await;
    recorder.wait("failed", 1, 10_000).await;
    let failed = recorder.last("failed");
    assert_eq!(failed["status"], 401);
    assert_eq!(failed["reauthenticate"], true);
    assert_eq!(failed["code"], "TOKEN_UNAUTHORIZED");
    assert_eq!(client.state(), "failed");
    let before = stats(&endpoint).await;
    sleep(2_500).await;
    let after = stats(&endpoint).await;
    assert_eq!(
        n(&before, "appTokenRequests"),
        n(&after, "appTokenRequests"),
        "token requests after failed"
    );
    assert_eq!(grew(&after, &base, "appTokenRequestsUnauthorized"), 1);
    assert_eq!(n(&after, "liveSockets"), 0);
    let error = ready(&client)
        .await
        .expect_err("ready() while failed rejects");
    assert_eq!(
        js_sys::Reflect::get(&error, &"code".into()).unwrap(),
        "TOKEN_UNAUTHORIZED"
    );
    // After logging in again, reconnect() starts over.
    login(&endpoint).await;
    client.reconnect();
    recorder.wait("connect", 2, 10_000).await;
    close(&client).await;
}

#[wasm_bindgen_test]
async fn stalled_socket_is_detected_by_heartbeat_timeout() {
    let endpoint = login("test5@example.com").await;
    let base = stats(&endpoint).await;
    // A socket that opens during the stall never hears `1::`; the attempt timeout ends it.
    let client = connect(options(&endpoint, json!({"attemptTimeoutMs": 4_000}))).expect("connect");
    let recorder = Recorder::attach(&client);
    ready(&client).await.expect("ready");
    let stalled_at = js_sys::Date::now();
    dev("stall", json!({"seconds": 4, "endpointId": endpoint})).await;
    recorder.wait("disconnect", 1, 10_000).await;
    let (lost_at, disconnect) = recorder.all("disconnect").pop().unwrap();
    assert_eq!(disconnect["code"], "HEARTBEAT_TIMEOUT");
    assert!(
        lost_at - stalled_at < 6_000.0,
        "liveness took {} ms",
        lost_at - stalled_at
    );
    // The stalled socket is gone; once the stall ends a new socket with a new token works.
    recorder.wait("connect", 2, 15_000).await;
    let server = stats(&endpoint).await;
    assert_eq!(grew(&server, &base, "exchangesRejectedUsed"), 0);
    assert_eq!(n(&server, "maxLiveSockets"), 1, "{server}");
    close(&client).await;
}

#[wasm_bindgen_test]
async fn disconnect_stops_all_traffic() {
    let endpoint = login("test6@example.com").await;
    let baseline = counters();
    // Closed while connecting: the attempt is abandoned.
    let early = connect(options(&endpoint, json!({}))).expect("connect");
    early.disconnect();
    // Closed while connected.
    let client = connect(options(&endpoint, json!({}))).expect("connect");
    ready(&client).await.expect("ready");
    client.disconnect();
    sleep(500).await;
    let before = stats(&endpoint).await;
    sleep(2_000).await;
    let after = stats(&endpoint).await;
    for key in [
        "appTokenRequests",
        "tokensIssued",
        "exchangesAccepted",
        "socketsOpened",
    ] {
        assert_eq!(
            n(&before, key),
            n(&after, key),
            "{key} moved after disconnect()"
        );
    }
    assert_eq!(n(&after, "liveSockets"), 0);
    assert_eq!(early.state(), "closed");
    assert_eq!(client.state(), "closed");
    assert_eq!(
        counters(),
        baseline,
        "listeners, sockets or timers left behind"
    );
}

#[wasm_bindgen_test]
async fn get_token_callback_and_unauthorized_error() {
    let endpoint = login("test8@example.com").await;
    let calls = Rc::new(RefCell::new(0u32));
    let counted = calls.clone();
    let token_url = format!("{}/api/tokens", app());
    let get_token =
        Closure::<dyn FnMut(JsValue) -> js_sys::Promise>::new(move |context: JsValue| {
            *counted.borrow_mut() += 1;
            let attempt = js_sys::Reflect::get(&context, &"attempt".into()).unwrap();
            assert!(attempt.as_f64().unwrap() >= 1.0);
            let url = token_url.clone();
            wasm_bindgen_futures::future_to_promise(async move {
                let (status, body) = post(&url, json!({})).await;
                if status == 401 {
                    let error = js_sys::Error::new("logged out");
                    error.set_name("UnauthorizedError");
                    return Err(error.into());
                }
                Ok(JsValue::from_str(body["token"].as_str().unwrap_or("")))
            })
        });
    let opts = options(&endpoint, json!({}));
    js_sys::Reflect::set(&opts, &"getToken".into(), get_token.as_ref()).unwrap();
    js_sys::Reflect::delete_property(opts.unchecked_ref::<js_sys::Object>(), &"tokenUrl".into())
        .unwrap();
    let client = connect(opts).expect("connect");
    let recorder = Recorder::attach(&client);
    ready(&client).await.expect("ready");
    assert_eq!(*calls.borrow(), 1);
    post(&format!("{}/api/logout", app()), json!({})).await;
    dev("drop", json!({"endpointId": endpoint})).await;
    recorder.wait("failed", 1, 10_000).await;
    assert_eq!(recorder.last("failed")["reauthenticate"], true);
    assert_eq!(*calls.borrow(), 2);
    close(&client).await;
}

#[wasm_bindgen_test]
async fn listener_exceptions_become_error_events() {
    let endpoint = login("test9@example.com").await;
    let client = connect(options(&endpoint, json!({}))).expect("connect");
    let thrower = js_sys::Function::new_no_args("throw new Error('listener bug')");
    client.listen("connect", thrower.into()).unwrap();
    let recorder = Recorder::attach(&client);
    ready(&client).await.expect("ready");
    recorder.wait("error", 1, 2_000).await;
    assert_eq!(recorder.last("error")["code"], "LISTENER_ERROR");
    assert_eq!(
        client.state(),
        "connected",
        "a throwing listener breaks nothing"
    );
    assert!(client
        .listen("nope", js_sys::Function::new_no_args("").into())
        .is_err());
    close(&client).await;
}

#[wasm_bindgen_test]
async fn two_hundred_drop_cycles_leak_nothing() {
    let endpoint = login("test7@example.com").await;
    let base = stats(&endpoint).await;
    let client = connect(options(
        &endpoint,
        json!({"backoff": {"initialDelayMs": 5, "maxDelayMs": 20}, "stableAfterMs": 0}),
    ))
    .expect("connect");
    // One counter, not the recorder: the measurement must not include our own bookkeeping.
    let connects = Rc::new(std::cell::Cell::new(0usize));
    let counted = connects.clone();
    let on_connect =
        Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| counted.set(counted.get() + 1));
    client
        .listen("connect", on_connect.as_ref().clone())
        .unwrap();
    ready(&client).await.expect("ready");
    // Samples are plain numbers in storage allocated up front, so taking one allocates nothing.
    let mut samples: Vec<(usize, [i64; 5], usize)> = Vec::with_capacity(2);
    let mut memory_pages: Vec<f64> = Vec::with_capacity(2);
    for cycle in 1..=200usize {
        dev("drop", json!({"endpointId": endpoint})).await;
        wait_until("reconnect", 10_000, || connects.get() > cycle).await;
        if cycle == 20 || cycle == 200 {
            // Let the dropped socket's last callbacks settle before measuring.
            sleep(100).await;
            let live = counters();
            let gauges = ["sockets", "drivers", "requests", "timers", "domListeners"]
                .map(|key| live[key].as_i64().unwrap_or(-1));
            drop(live);
            let bytes = LIVE_BYTES.load(Ordering::Relaxed);
            samples.push((bytes, gauges, listener_count(&client)));
            memory_pages.push(wasm_memory_bytes());
        }
    }
    let (bytes_20, counters_20, listeners_20) = &samples[0];
    let (bytes_200, counters_200, listeners_200) = &samples[1];
    web_sys::console::log_1(
        &format!("live heap bytes: cycle 20 {bytes_20}, cycle 200 {bytes_200}").into(),
    );
    assert_eq!(
        counters_20, counters_200,
        "live sockets/timers/requests grew"
    );
    assert_eq!(counters_200[0], 1, "one live socket");
    assert_eq!(listeners_20, listeners_200);
    assert_eq!(memory_pages[0], memory_pages[1], "wasm linear memory grew");
    assert!(
        *bytes_200 <= bytes_20 + 1_024,
        "wasm heap grew from {bytes_20} to {bytes_200} bytes over 180 cycles"
    );
    let server = stats(&endpoint).await;
    assert_eq!(grew(&server, &base, "exchangesRejectedUsed"), 0);
    assert_eq!(grew(&server, &base, "exchangesAccepted"), 201);
    assert_eq!(n(&server, "maxLiveSockets"), 1);
    close(&client).await;
}

#[wasm_bindgen_test]
async fn abort_signal_disconnects_and_releases_its_listener() {
    let endpoint = login("test10@example.com").await;
    let baseline = counters();
    let controller = web_sys::AbortController::new().unwrap();
    let opts = options(&endpoint, json!({}));
    js_sys::Reflect::set(&opts, &"signal".into(), &controller.signal()).unwrap();
    let client = connect(opts).expect("connect");
    let recorder = Recorder::attach(&client);
    ready(&client).await.expect("ready");
    // Seven page-lifecycle listeners per client, plus the one on the signal.
    assert_eq!(
        counters()["domListeners"],
        baseline["domListeners"].as_i64().unwrap() + 8
    );
    controller.abort();
    wait_until("closed", 2_000, || client.state() == "closed").await;
    assert_eq!(recorder.last("disconnect")["code"], "CLIENT_DISCONNECT");
    assert_eq!(counters(), baseline, "the abort listener was removed");
    // An already-aborted signal: the client closes before doing anything.
    let aborted = web_sys::AbortController::new().unwrap();
    aborted.abort();
    let opts = options(&endpoint, json!({}));
    js_sys::Reflect::set(&opts, &"signal".into(), &aborted.signal()).unwrap();
    let before = stats(&endpoint).await;
    let client = connect(opts).expect("connect");
    wait_until("closed", 2_000, || client.state() == "closed").await;
    sleep(300).await;
    assert_eq!(
        grew(&stats(&endpoint).await, &before, "exchangesAccepted"),
        0
    );
}

// ----- wakes: network, visibility, page lifecycle (issue 5) ------------------------------------

fn dispatch_window(event: &web_sys::Event) {
    web_sys::window().unwrap().dispatch_event(event).unwrap();
}

fn dispatch_document(event: &web_sys::Event) {
    web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .dispatch_event(event)
        .unwrap();
}

/// Makes `document.hidden` report `hidden` (headless pages are always visible) and announces it.
fn set_hidden(hidden: bool) {
    let document = web_sys::window().unwrap().document().unwrap();
    if hidden {
        js_sys::eval(
            "Object.defineProperty(document, 'hidden', {get: () => true, configurable: true})",
        )
        .unwrap();
    } else {
        js_sys::eval("delete document.hidden").unwrap();
    }
    assert_eq!(document.hidden(), hidden);
    dispatch_document(&web_sys::Event::new("visibilitychange").unwrap());
}

fn page_transition(name: &str, persisted: bool) -> web_sys::Event {
    let init = web_sys::PageTransitionEventInit::new();
    init.set_persisted(persisted);
    web_sys::PageTransitionEvent::new_with_event_init_dict(name, &init)
        .unwrap()
        .into()
}

fn waiting_for(recorder: &Recorder) -> Value {
    recorder.last("state")["waitingFor"].clone()
}

#[wasm_bindgen_test]
async fn offline_drops_the_socket_and_online_reconnects_with_a_new_token() {
    let endpoint = login("test11@example.com").await;
    let base = stats(&endpoint).await;
    let client = connect(options(&endpoint, json!({}))).expect("connect");
    let recorder = Recorder::attach(&client);
    ready(&client).await.expect("ready");
    dispatch_window(&web_sys::Event::new("offline").unwrap());
    recorder.wait("disconnect", 1, 2_000).await;
    assert_eq!(recorder.last("disconnect")["code"], "OFFLINE");
    assert_eq!(client.state(), "waiting");
    assert_eq!(waiting_for(&recorder), "online");
    sleep(1_500).await;
    let offline = stats(&endpoint).await;
    assert_eq!(n(&offline, "liveSockets"), 0);
    assert_eq!(
        grew(&offline, &base, "appTokenRequests"),
        1,
        "no attempts while offline"
    );
    dispatch_window(&web_sys::Event::new("online").unwrap());
    recorder.wait("connect", 2, 5_000).await;
    let reconnecting = recorder.last("reconnecting");
    assert_eq!(reconnecting["cause"], "ONLINE");
    assert!(
        reconnecting["delayMs"].as_u64().unwrap() <= 200,
        "soon, within the initial jitter window"
    );
    let server = stats(&endpoint).await;
    assert_eq!(grew(&server, &base, "exchangesAccepted"), 2);
    assert_eq!(grew(&server, &base, "exchangesRejectedUsed"), 0);
    close(&client).await;
}

#[wasm_bindgen_test]
async fn hidden_page_defers_reconnect_until_visible() {
    let endpoint = login("test12@example.com").await;
    let client = connect(options(&endpoint, json!({}))).expect("connect");
    let recorder = Recorder::attach(&client);
    ready(&client).await.expect("ready");
    set_hidden(true);
    assert_eq!(client.state(), "connected", "hiding alone keeps the socket");
    dev("drop", json!({"endpointId": endpoint})).await;
    recorder.wait("disconnect", 1, 2_000).await;
    sleep(1_500).await; // several backoff windows (200 ms)
    assert_eq!(client.state(), "waiting");
    assert_eq!(waiting_for(&recorder), "visible");
    assert_eq!(recorder.count("connect"), 1);
    set_hidden(false);
    recorder.wait("connect", 2, 5_000).await;
    assert_eq!(recorder.last("reconnecting")["cause"], "VISIBLE");
    close(&client).await;
}

#[wasm_bindgen_test]
async fn shown_page_verifies_the_socket_and_replaces_a_dead_one() {
    let endpoint = login("test13@example.com").await;
    // A socket opened during the stall never hears `1::`: a short attempt timeout ends it.
    let client = connect(options(
        &endpoint,
        json!({"verifyTimeoutMs": 500, "attemptTimeoutMs": 3_000}),
    ))
    .expect("connect");
    let recorder = Recorder::attach(&client);
    ready(&client).await.expect("ready");
    // A live socket answers the probe: nothing happens.
    set_hidden(true);
    set_hidden(false);
    sleep(1_000).await;
    assert_eq!(client.state(), "connected");
    assert_eq!(recorder.count("disconnect"), 0);
    // A socket that died silently (the server stalls it) is found at once, long before the
    // 3 s heartbeat timeout.
    dev("stall", json!({"seconds": 2, "endpointId": endpoint})).await;
    let shown_at = js_sys::Date::now();
    set_hidden(true);
    set_hidden(false);
    recorder.wait("disconnect", 1, 3_000).await;
    let (lost_at, disconnect) = recorder.all("disconnect").pop().unwrap();
    assert_eq!(disconnect["code"], "SOCKET_UNRESPONSIVE");
    assert!(
        lost_at - shown_at < 1_500.0,
        "verification took {} ms",
        lost_at - shown_at
    );
    recorder.wait("connect", 2, 15_000).await;
    close(&client).await;
}

#[wasm_bindgen_test]
async fn back_forward_cache_leaves_cleanly_and_comes_back() {
    let endpoint = login("test14@example.com").await;
    let base = stats(&endpoint).await;
    let client = connect(options(&endpoint, json!({}))).expect("connect");
    let recorder = Recorder::attach(&client);
    ready(&client).await.expect("ready");
    dispatch_window(&page_transition("pagehide", true));
    recorder.wait("disconnect", 1, 2_000).await;
    assert_eq!(recorder.last("disconnect")["code"], "PAGE_HIDDEN");
    assert_eq!(waiting_for(&recorder), "resume");
    sleep(500).await;
    let hidden = stats(&endpoint).await;
    assert_eq!(n(&hidden, "liveSockets"), 0);
    assert_eq!(
        grew(&hidden, &base, "sessionTokensDeleted"),
        1,
        "left cleanly: {hidden}"
    );
    dispatch_window(&page_transition("pageshow", true));
    recorder.wait("connect", 2, 5_000).await;
    assert_eq!(recorder.last("reconnecting")["cause"], "RESUME");
    let server = stats(&endpoint).await;
    assert_eq!(grew(&server, &base, "exchangesAccepted"), 2);
    close(&client).await;
}

#[wasm_bindgen_test]
async fn freeze_and_resume() {
    let endpoint = login("test15@example.com").await;
    let client = connect(options(&endpoint, json!({}))).expect("connect");
    let recorder = Recorder::attach(&client);
    ready(&client).await.expect("ready");
    dispatch_document(&web_sys::Event::new("freeze").unwrap());
    recorder.wait("disconnect", 1, 2_000).await;
    assert_eq!(recorder.last("disconnect")["code"], "PAGE_FROZEN");
    sleep(800).await;
    assert_eq!(client.state(), "waiting");
    dispatch_document(&web_sys::Event::new("resume").unwrap());
    recorder.wait("connect", 2, 5_000).await;
    close(&client).await;
}

// ----- using the session: requests, messages, groups, presence (issue 7) -----------------------

async fn call(promise: js_sys::Promise) -> Result<Value, (String, Option<u64>)> {
    match JsFuture::from(promise).await {
        Ok(value) => Ok(serde_wasm_bindgen::from_value(value).unwrap_or(Value::Null)),
        Err(error) => {
            let code = js_sys::Reflect::get(&error, &"code".into())
                .unwrap()
                .as_string()
                .unwrap_or_default();
            let name = js_sys::Reflect::get(&error, &"name".into())
                .unwrap()
                .as_string();
            assert_eq!(name.as_deref(), Some("RespokeError"));
            let status = js_sys::Reflect::get(&error, &"status".into())
                .unwrap()
                .as_f64()
                .map(|s| s as u64);
            Err((code, status))
        }
    }
}

fn js(value: Value) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap()
}

/// A second client in the same page that gets its tokens straight from Respoke's
/// development-mode `/v1/tokens`, without signing its user in on the app server.
async fn dev_mode_client(
    endpoint: &str,
    extra: Value,
) -> (Client, Closure<dyn FnMut(JsValue) -> js_sys::Promise>) {
    let config = Request::get(&format!("{}/api/config", app()))
        .send()
        .await
        .unwrap();
    let config: Value = serde_json::from_str(&config.text().await.unwrap()).unwrap();
    let app_id = config["appId"].as_str().unwrap().to_owned();
    let endpoint_id = endpoint.to_owned();
    let get_token = Closure::<dyn FnMut(JsValue) -> js_sys::Promise>::new(move |_: JsValue| {
        let body = json!({"appId": app_id, "endpointId": endpoint_id, "ttl": 600});
        wasm_bindgen_futures::future_to_promise(async move {
            let (status, reply) = post(&format!("{}/v1/tokens", api()), body).await;
            assert_eq!(status, 200, "{reply}");
            Ok(JsValue::from_str(reply["tokenId"].as_str().unwrap()))
        })
    });
    let opts = options(endpoint, extra);
    js_sys::Reflect::set(&opts, &"getToken".into(), get_token.as_ref()).unwrap();
    let client = connect(opts).expect("connect");
    (client, get_token)
}

#[wasm_bindgen_test]
async fn request_resolves_with_the_answer_or_rejects_typed() {
    let endpoint = login("test16@example.com").await;
    let client = connect(options(&endpoint, json!({}))).expect("connect");
    ready(&client).await.expect("ready");
    let ok = call(client.request(
        "post".into(),
        "/v1/presence".into(),
        js(json!({"presence": {"type": "away"}})),
    ))
    .await;
    assert_eq!(ok, Ok(json!({})));
    let missing =
        call(client.request("get".into(), "/v1/no-such-route".into(), JsValue::UNDEFINED)).await;
    assert_eq!(missing, Err(("REQUEST_FAILED".into(), Some(404))));
    let bad = call(client.send_message(js(json!({"to": "", "message": "x"})))).await;
    assert_eq!(bad, Err(("REQUEST_FAILED".into(), Some(400))));
    let invalid = call(client.request("patch".into(), "/v1/x".into(), JsValue::UNDEFINED)).await;
    assert_eq!(invalid, Err(("INVALID_ARGUMENT".into(), None)));
    close(&client).await;
    let closed = call(client.send_message(js(json!({"to": "kirk", "message": "x"})))).await;
    assert_eq!(closed, Err(("CLOSED".into(), None)));
}

#[wasm_bindgen_test]
async fn request_times_out_and_socket_loss_rejects_at_once() {
    let endpoint = login("test17@example.com").await;
    let client = connect(options(&endpoint, json!({"requestTimeoutMs": 500}))).expect("connect");
    ready(&client).await.expect("ready");
    dev("ack-delay", json!({"seconds": 5, "endpointId": endpoint})).await;
    let started = js_sys::Date::now();
    let slow = call(client.request(
        "post".into(),
        "/v1/presence".into(),
        js(json!({"presence": {"type": "away"}})),
    ))
    .await;
    assert_eq!(slow, Err(("REQUEST_TIMEOUT".into(), None)));
    assert!(js_sys::Date::now() - started < 2_000.0);
    // In flight when the socket goes: rejected with DISCONNECTED, not left hanging.
    let client2 =
        connect(options(&endpoint, json!({"requestTimeoutMs": 30_000}))).expect("connect");
    close(&client).await;
    ready(&client2).await.expect("ready");
    let pending =
        client2.send_message(js(json!({"to": "kirk@enterprise.com", "message": "lost?"})));
    sleep(200).await;
    dev("drop", json!({"endpointId": endpoint})).await;
    assert_eq!(call(pending).await, Err(("DISCONNECTED".into(), None)));
    dev("reset", json!({})).await;
    close(&client2).await;
}

#[wasm_bindgen_test]
async fn queue_limits_while_disconnected() {
    let endpoint = login("test18@example.com").await;
    let client = connect(options(
        &endpoint,
        json!({"queueSize": 2, "queueMaxAgeMs": 1_000, "backoff": {"initialDelayMs": 100, "maxDelayMs": 200}}),
    ))
    .expect("connect");
    let recorder = Recorder::attach(&client);
    ready(&client).await.expect("ready");
    dev("outage", json!({"seconds": 3})).await;
    recorder.wait("disconnect", 1, 3_000).await;
    let message = || {
        client.send_message(js(
            json!({"to": "kirk@enterprise.com", "message": "queued"}),
        ))
    };
    let (first, second, third) = (message(), message(), message());
    assert_eq!(call(third).await, Err(("QUEUE_FULL".into(), None)));
    assert_eq!(call(first).await, Err(("QUEUE_TIMEOUT".into(), None)));
    assert_eq!(call(second).await, Err(("QUEUE_TIMEOUT".into(), None)));
    recorder.wait("connect", 2, 10_000).await;
    close(&client).await;

    // queueSize 0: rejected at once while not connected.
    let strict = connect(options(&endpoint, json!({"queueSize": 0}))).expect("connect");
    let at_once =
        call(strict.send_message(js(json!({"to": "kirk@enterprise.com", "message": "now"})))).await;
    assert_eq!(at_once, Err(("DISCONNECTED".into(), None)));
    close(&strict).await;
}

#[wasm_bindgen_test]
async fn message_round_trip_through_a_forced_drop() {
    let alice = login("test19@example.com").await;
    let bob = "test20@example.com";
    let sender = connect(options(
        &alice,
        json!({"backoff": {"initialDelayMs": 300, "maxDelayMs": 600}}),
    ))
    .expect("connect");
    let sender_events = Recorder::attach(&sender);
    let (receiver, _get_token) = dev_mode_client(bob, json!({})).await;
    let inbox = Recorder::attach(&receiver);
    ready(&sender).await.expect("ready");
    ready(&receiver).await.expect("ready");
    call(sender.send_message(js(json!({"to": bob, "message": "before"}))))
        .await
        .expect("sent");
    inbox.wait("message", 1, 3_000).await;
    let first = inbox.last("message");
    assert_eq!(first["from"], alice.as_str());
    assert_eq!(first["message"], "before");
    assert!(first["timestamp"].as_u64().unwrap() > 1_600_000_000_000);
    // The sender's socket is dropped; a message sent while it reconnects waits in the queue
    // and arrives after the reconnect.
    dev("drop", json!({"endpointId": alice})).await;
    sender_events.wait("disconnect", 1, 2_000).await;
    assert_ne!(sender.state(), "connected");
    let during = sender.send_message(js(json!({"to": bob, "message": "during the drop"})));
    assert_eq!(call(during).await, Ok(Value::Null));
    inbox.wait("message", 2, 5_000).await;
    assert_eq!(inbox.last("message")["message"], "during the drop");
    assert_eq!(sender_events.count("connect"), 2);
    close(&sender).await;
    close(&receiver).await;
}

#[wasm_bindgen_test]
async fn groups_and_presence_are_restored_after_reconnect() {
    let alice = login("test21@example.com").await;
    let bob = "test22@example.com";
    let group = format!("bridge-{}", js_sys::Date::now() as u64);
    let (observer, _get_token) = dev_mode_client(bob, json!({})).await;
    let seen = Recorder::attach(&observer);
    ready(&observer).await.expect("ready");
    let client = connect(options(&alice, json!({}))).expect("connect");
    let events = Recorder::attach(&client);
    ready(&client).await.expect("ready");
    call(client.set_presence(js(json!("available"))))
        .await
        .expect("presence");
    call(client.join(JsValue::from_str(&group)))
        .await
        .expect("join");
    call(observer.join(JsValue::from_str(&group)))
        .await
        .expect("join");
    call(observer.observe_presence(js(json!([alice]))))
        .await
        .expect("observe");
    seen.wait("presence", 1, 3_000).await;
    assert_eq!(seen.last("presence")["presence"], "available");
    events.wait("join", 1, 3_000).await;
    assert_eq!(events.last("join")["endpointId"], bob);

    dev("drop", json!({"endpointId": alice})).await;
    events.wait("connect", 2, 5_000).await;
    // The observer saw alice go unavailable and come back with the presence she had set.
    wait_until("presence restored", 5_000, || {
        seen.all("presence")
            .iter()
            .any(|(_, p)| p["presence"] == "unavailable")
            && seen.last("presence")["presence"] == "available"
    })
    .await;
    // Alice is a member again: she hears what is published to the group.
    sleep(300).await;
    call(observer.publish(js(json!({"group": group, "message": "all hands"}))))
        .await
        .expect("publish");
    events.wait("pubsub", 1, 3_000).await;
    let pubsub = events.last("pubsub");
    assert_eq!(pubsub["group"], group.as_str());
    assert_eq!(pubsub["message"], "all hands");
    assert_eq!(pubsub["from"], bob);
    call(client.leave(JsValue::from_str(&group)))
        .await
        .expect("leave");
    seen.wait("leave", 1, 3_000).await;
    assert_eq!(seen.last("leave")["endpointId"], alice.as_str());
    close(&client).await;
    close(&observer).await;
}

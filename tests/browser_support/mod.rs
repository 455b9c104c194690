//! What the browser tests share (`tests/browser.rs` in a page, `tests/worker.rs` in a dedicated
//! Worker, `tests/shared_worker.rs` in a SharedWorker): the dev server's URLs and controls, and
//! a recorder of a client's events.
#![allow(dead_code)] // each test binary uses its own part

use std::cell::RefCell;
use std::rc::Rc;

use gloo_net::http::Request;
use respoke_client::connection::EventName;
use respoke_client::{connect, debug_counters, Client};
use serde::Serialize;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::RequestCredentials;

// ----- the dev server --------------------------------------------------------------------------

pub fn api() -> &'static str {
    option_env!("RESPOKE_TEST_API").unwrap_or("http://127.0.0.1:3101")
}

pub fn app() -> &'static str {
    option_env!("RESPOKE_TEST_APP").unwrap_or("http://127.0.0.1:8180")
}

pub async fn post(url: &str, body: Value) -> (u16, Value) {
    let response = Request::post(url)
        .credentials(RequestCredentials::Include)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .expect("request")
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn login(user: &str) -> String {
    let (status, body) = post(
        &format!("{}/api/login", app()),
        json!({"username": user, "password": "test"}),
    )
    .await;
    assert_eq!(status, 200, "login {user}: {body}");
    user.to_owned()
}

pub async fn dev(path: &str, body: Value) {
    let (status, reply) = post(&format!("{}/dev/{path}", api()), body).await;
    assert_eq!(status, 200, "/dev/{path}: {reply}");
}

pub async fn stats(endpoint: &str) -> Value {
    let url = format!(
        "{}/dev/stats?endpointId={}",
        api(),
        js_sys::encode_uri_component(endpoint)
    );
    let response = Request::get(&url).send().await.expect("stats");
    serde_json::from_str(&response.text().await.expect("stats body")).expect("stats JSON")
}

pub fn n(value: &Value, key: &str) -> u64 {
    value[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no {key} in {value}"))
}

/// How much counter `key` grew between two `/dev/stats` snapshots. Tests compare deltas, so
/// they pass against a dev server that already served earlier runs.
pub fn grew(after: &Value, before: &Value, key: &str) -> u64 {
    n(after, key) - before[key].as_u64().unwrap_or(0)
}

pub async fn sleep(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

pub async fn wait_until(what: &str, timeout_ms: u32, mut condition: impl FnMut() -> bool) {
    let start = js_sys::Date::now();
    while !condition() {
        if js_sys::Date::now() - start > f64::from(timeout_ms) {
            panic!("timed out after {timeout_ms} ms waiting for {what}");
        }
        sleep(20).await;
    }
}

// ----- the client under test -------------------------------------------------------------------

/// Records every event a client emits, with the time it arrived.
pub struct Recorder {
    events: Rc<RefCell<Vec<(String, f64, JsValue)>>>,
    _listeners: Vec<Closure<dyn FnMut(JsValue)>>,
}

impl Recorder {
    pub fn attach(client: &Client) -> Recorder {
        let events: Rc<RefCell<Vec<(String, f64, JsValue)>>> = Rc::default();
        let listeners = EventName::ALL
            .iter()
            .map(|name| {
                let name = name.as_str();
                let events = events.clone();
                let listener = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                    events
                        .borrow_mut()
                        .push((name.to_owned(), js_sys::Date::now(), event));
                });
                client
                    .listen(name, listener.as_ref().clone())
                    .expect("listen");
                listener
            })
            .collect();
        Recorder {
            events,
            _listeners: listeners,
        }
    }

    pub fn count(&self, name: &str) -> usize {
        self.events
            .borrow()
            .iter()
            .filter(|(n, _, _)| n == name)
            .count()
    }

    pub fn all(&self, name: &str) -> Vec<(f64, Value)> {
        self.events
            .borrow()
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|(_, at, event)| {
                (
                    *at,
                    serde_wasm_bindgen::from_value(event.clone()).unwrap_or(Value::Null),
                )
            })
            .collect()
    }

    pub fn last(&self, name: &str) -> Value {
        self.all(name).pop().map(|(_, v)| v).unwrap_or(Value::Null)
    }

    pub async fn wait(&self, name: &str, count: usize, timeout_ms: u32) {
        wait_until(&format!("{count} {name} event(s)"), timeout_ms, || {
            self.count(name) >= count
        })
        .await;
    }
}

pub fn options(endpoint: &str, extra: Value) -> JsValue {
    let mut options = json!({
        "baseUrl": api(),
        "tokenUrl": format!("{}/api/tokens", app()),
        "endpointId": endpoint,
        "backoff": {"initialDelayMs": 200, "maxDelayMs": 2000},
    });
    if let (Some(target), Some(more)) = (options.as_object_mut(), extra.as_object()) {
        for (key, value) in more {
            target.insert(key.clone(), value.clone());
        }
    }
    options
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .expect("options")
}

/// Size of the wasm instance's linear memory (it only ever grows, by 64 KiB pages).
pub fn wasm_memory_bytes() -> f64 {
    let buffer = js_sys::Reflect::get(&wasm_bindgen::memory(), &"buffer".into()).unwrap();
    js_sys::Reflect::get(&buffer, &"byteLength".into())
        .unwrap()
        .as_f64()
        .unwrap()
}

pub fn counters() -> Value {
    serde_wasm_bindgen::from_value(debug_counters()).expect("counters")
}

/// Disconnects and waits until the client is closed, so no event reaches a dropped listener.
pub async fn close(client: &Client) {
    client.disconnect();
    wait_until("closed", 2_000, || client.state() == "closed").await;
}

pub async fn ready(client: &Client) -> Result<Value, JsValue> {
    JsFuture::from(client.ready())
        .await
        .map(|v| serde_wasm_bindgen::from_value(v).unwrap_or(Value::Null))
}

/// The whole life of a client in any global scope (a page, a dedicated Worker, a
/// SharedWorker): connect; `/dev/drop` -> a reconnect with a new tokenId; `disconnect()` ->
/// no live socket, on the server and in the client's counters.
pub async fn connect_drop_reconnect_disconnect(user: &str) {
    let endpoint = login(user).await;
    let base = stats(&endpoint).await;
    let client = connect(options(&endpoint, json!({}))).expect("connect");
    let recorder = Recorder::attach(&client);
    ready(&client).await.expect("ready");
    assert_eq!(client.state(), "connected");
    assert_eq!(client.endpoint_id().as_deref(), Some(endpoint.as_str()));

    dev("drop", json!({"endpointId": endpoint})).await;
    recorder.wait("connect", 2, 10_000).await;
    assert_eq!(recorder.last("disconnect")["code"], "SERVER_DISCONNECT");
    assert_eq!(recorder.last("disconnect")["willReconnect"], true);
    let server = stats(&endpoint).await;
    assert_eq!(grew(&server, &base, "tokensIssued"), 2, "{server}");
    assert_eq!(grew(&server, &base, "exchangesAccepted"), 2, "{server}");
    assert_eq!(
        grew(&server, &base, "exchangesRejectedUsed"),
        0,
        "a tokenId was sent twice: {server}"
    );
    assert_eq!(n(&server, "liveSockets"), 1, "{server}");
    assert_eq!(counters()["sockets"], 1);

    close(&client).await;
    let mut server = stats(&endpoint).await;
    for _ in 0..50 {
        if n(&server, "liveSockets") == 0 {
            break;
        }
        sleep(50).await;
        server = stats(&endpoint).await;
    }
    assert_eq!(n(&server, "liveSockets"), 0, "{server}");
    let counters = counters();
    assert_eq!(counters["sockets"], 0, "{counters}");
    assert_eq!(counters["drivers"], 0, "{counters}");
    assert_eq!(counters["timers"], 0, "{counters}");
    assert_eq!(counters["domListeners"], 0, "{counters}");
}

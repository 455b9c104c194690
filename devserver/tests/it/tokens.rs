//! Token rules: single use under concurrency, the activation window, App-Secret, TTL.

use std::time::Duration;

use respoke_devserver::config::{Config, DEMO_APP_ID, DEMO_APP_SECRET, DEMO_ROLE_ID};
use respoke_devserver::Settings;
use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn one_token_id_exchanged_by_50_concurrent_requests_succeeds_once() {
    let h = start_with(fast_settings()).await;
    let token_id = h.mint("kirk@enterprise.com", 600).await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let http = h.http.clone();
        let url = format!("{}/v1/session-tokens", h.api);
        let token_id = token_id.clone();
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .json(&json!({"tokenId": token_id}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        49,
        "{statuses:?}"
    );
    let stats = h.stats().await;
    assert_eq!(stats["exchangesAccepted"], 1);
    assert_eq!(stats["exchangesRejectedUsed"], 49);
    assert_eq!(
        stats["endpoints"]["kirk@enterprise.com"]["exchangesRejectedUsed"],
        49
    );
}

#[tokio::test]
async fn activation_window() {
    let settings = Settings {
        activation: Duration::from_millis(400),
        ..fast_settings()
    };
    let h = start_with(settings).await;
    let quick = h.mint("a@x", 60).await;
    let slow = h.mint("b@x", 60).await;
    h.exchange(&quick).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let reply = h.exchange_raw(&slow).await;
    assert_eq!(reply.status(), 401);
    let body: Value = reply.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("expired"));
    assert_eq!(h.stats().await["exchangesRejectedOther"], 1);
}

#[tokio::test]
async fn app_secret_is_checked() {
    let config = Config::from_toml(
        r#"
[[apps]]
id = "11111111-2222-4333-8444-555555555555"
secret = "right"
development_mode = false
[[apps.roles]]
id = "R1"
name = "r"
"#,
    )
    .unwrap();
    let h = start_with_config(config, fast_settings()).await;
    let url = format!("{}/v1/tokens", h.api);
    let body = json!({"appId": "11111111-2222-4333-8444-555555555555", "endpointId": "e", "roleId": "R1", "ttl": "60"});
    for (secret, status) in [
        (Some("wrong"), 401),
        (Some("righ"), 401),
        (Some("right!"), 401),
        (None, 401),
        (Some("right"), 200),
    ] {
        let mut request = h.http.post(&url).json(&body);
        if let Some(secret) = secret {
            request = request.header("App-Secret", secret);
        }
        let reply = request.send().await.unwrap();
        assert_eq!(reply.status(), status, "secret {secret:?}");
        let reply: Value = reply.json().await.unwrap();
        if status != 200 {
            assert!(reply["error"].is_string());
        }
    }
    // Unknown role, unknown app, missing fields.
    let reply = h
        .http
        .post(&url)
        .header("App-Secret", "right")
        .json(&json!({"appId": "11111111-2222-4333-8444-555555555555", "endpointId": "e", "roleId": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 404);
    assert_eq!(
        reply.json::<Value>().await.unwrap()["error"],
        "Object 'Roles' not found."
    );
    let reply = h
        .http
        .post(&url)
        .header("App-Secret", DEMO_APP_SECRET)
        .json(&json!({"appId": DEMO_APP_ID, "endpointId": "e", "roleId": DEMO_ROLE_ID}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
    let reply = h
        .http
        .post(&url)
        .json(&json!({"ttl": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);
    let body: Value = reply.json().await.unwrap();
    assert_eq!(body["error"], "Validation Error.");
    assert!(body["validationErrors"]["appId"].is_string());
}

#[tokio::test]
async fn app_token_ttl_expiry_closes_sockets() {
    let h = start_with(fast_settings()).await;
    let token_id = h.mint("ttl@x", 1).await;
    let app_token = h.exchange(&token_id).await;
    let mut ws = h.open_socket(&app_token).await;
    ws.expect_dropped(Duration::from_secs(3)).await;
    let query = respoke_protocol::HandshakeQuery::new(&app_token, SDK, 1);
    assert_eq!(h.handshake_raw(&query).await.status(), 403);
}

#[tokio::test]
async fn form_encoded_exchange_and_stale_app_token_ignored() {
    let h = start_with(fast_settings()).await;
    let token_id = h.mint("form@x", 60).await;
    let reply = h
        .http
        .post(format!("{}/v1/session-tokens", h.api))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("App-Token", "STALE-TOKEN-FROM-LAST-SESSION")
        .body(format!("appId={DEMO_APP_ID}&tokenId={token_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let unknown = h.exchange_raw("00000000-0000-4000-8000-000000000000").await;
    assert_eq!(unknown.status(), 401);
}

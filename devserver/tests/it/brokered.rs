//! The brokered flow end to end, as a browser would run it.

use std::time::Duration;

use respoke_protocol::sails::Method;
use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn brokered_flow_end_to_end() {
    let h = start_with(fast_settings()).await;
    let user = "spock@enterprise.com";

    // 1. Browser -> app server.
    let cookie = h.login(user, "spock").await;
    let reply = h
        .app_tokens(Some(&cookie), json!({"endpointId": user}))
        .await;
    assert_eq!(reply.status(), 200);
    let token_id = reply.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(token_id.len(), 36);
    assert_eq!(token_id, token_id.to_ascii_uppercase());

    // 3. Browser -> Respoke: exchange.
    let app_token = h.exchange(&token_id).await;

    // 4. Socket.
    let mut ws = h.open_socket(&app_token).await;
    let connection = ws
        .request(
            Method::Post,
            "/v1/connections",
            json!({"capabilities": {"iceFinalCandidates": true}}),
        )
        .await;
    assert_eq!(connection.status_code, 200);
    assert!(!connection.is_error());
    assert_eq!(connection.body["endpointId"], user);
    assert_eq!(connection.body["id"].as_str().unwrap().len(), 36);

    let presence = ws
        .request(
            Method::Post,
            "/v1/presence",
            json!({"presence": {"type": "unavailable"}}),
        )
        .await;
    assert_eq!(presence.status_code, 200);
    assert_eq!(presence.body, json!({}));

    // 5. Clean disconnect as respoke.js does it.
    let deleted = ws
        .request(
            Method::Delete,
            &format!("/v1/connections/{user}/"),
            json!({}),
        )
        .await;
    assert_eq!(deleted.status_code, 200);
    let reply = h
        .http
        .delete(format!("{}/v1/session-tokens", h.api))
        .header("App-Token", &app_token)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    // Ending the session closes its socket.
    ws.expect_dropped(Duration::from_secs(3)).await;

    let stats = h.endpoint_stats(user).await;
    assert_eq!(stats["tokensIssued"], 1);
    assert_eq!(stats["exchangesAccepted"], 1);
    assert_eq!(stats["socketsOpened"], 1);
    assert_eq!(stats["appTokenRequests"], 1);
    assert_eq!(stats["sessionTokensDeleted"], 1);
    assert_eq!(stats["connectionsDeleted"], 1);
    assert_eq!(stats["lastTokenIds"], json!([token_id]));

    // The session is over: the App-Token no longer handshakes, the tokenId no longer exchanges.
    let query = respoke_protocol::HandshakeQuery::new(&app_token, SDK, 2);
    assert_eq!(h.handshake_raw(&query).await.status(), 403);
    assert_eq!(h.exchange_raw(&token_id).await.status(), 401);

    // A fresh token from the app server works again.
    let reply = h.app_tokens(Some(&cookie), json!({})).await;
    let token_id2 = reply.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(token_id2, token_id);
    let app_token2 = h.exchange(&token_id2).await;
    let _ws = h.open_socket(&app_token2).await;
    let global = h.stats().await;
    assert_eq!(global["liveSockets"], 1);
    assert_eq!(global["handshakes"], 2);
    assert_eq!(global["handshakesRejected"], 1);
    h.running.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn development_mode_mints_without_secret() {
    let h = start_with(fast_settings()).await;
    let reply = h
        .http
        .post(format!("{}/v1/tokens", h.api))
        .json(&json!({"appId": respoke_devserver::config::DEMO_APP_ID, "endpointId": "dev@x", "ttl": 21600}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let body: Value = reply.json().await.unwrap();
    assert_eq!(
        body["expiryTime"].as_u64().unwrap() - body["createTime"].as_u64().unwrap(),
        21600
    );
    assert_eq!(body["roleId"], Value::Null);
    let app_token = h.exchange(body["tokenId"].as_str().unwrap()).await;
    let mut ws = h.open_socket(&app_token).await;
    let r = ws.request(Method::Post, "/v1/connections", json!({})).await;
    assert_eq!(r.body["endpointId"], "dev@x");
}

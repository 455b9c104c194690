//! Row 6, no app isolation: with two apps configured, a user of development-mode app A (no
//! secret needed) reached app B's endpoints: messages delivered, presence observed, B's groups
//! joined and published to; the exchange ignored `appId`.

use std::time::Duration;

use respoke_devserver::config::Config;
use respoke_protocol::sails::Method;
use respoke_protocol::Packet;
use serde_json::{json, Value};

use crate::common::*;

const APP_A: &str = "AAAAAAAA-0000-4000-8000-00000000000A";
const APP_B: &str = "BBBBBBBB-0000-4000-8000-00000000000B";
const SECRET_B: &str = "secret-b";

fn two_apps() -> Config {
    Config::from_toml(&format!(
        r#"
[[apps]]
id = "{APP_A}"
secret = "secret-a"
development_mode = true

[[apps]]
id = "{APP_B}"
secret = "{SECRET_B}"
development_mode = false
"#
    ))
    .unwrap()
}

/// Mints for `app` (B with its secret, A in development mode) and exchanges.
async fn token(h: &Harness, app: &str, endpoint: &str) -> String {
    let mut request = h.http.post(format!("{}/v1/tokens", h.api));
    if app == APP_B {
        request = request.header("App-Secret", SECRET_B);
    }
    let minted: Value = request
        .json(&json!({"appId": app, "endpointId": endpoint, "ttl": 600}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token_id = minted["tokenId"].as_str().unwrap().to_owned();
    h.exchange(&token_id).await
}

#[tokio::test]
async fn row06_a_dev_mode_app_cannot_reach_another_apps_endpoints() {
    let _serial = crate::serial().await;
    let h = start_with_config(two_apps(), fast_settings()).await;
    let mut spock_b = h.open_socket(&token(&h, APP_B, "spock").await).await;
    let mut kirk_b = h.open_socket(&token(&h, APP_B, "kirk").await).await;
    let mut mallory_a = h.open_socket(&token(&h, APP_A, "mallory").await).await;
    // Same endpointId in app A: a different endpoint.
    let mut spock_a = h.open_socket(&token(&h, APP_A, "spock").await).await;

    // B's kirk joins B's bridge and sets a presence.
    kirk_b
        .request(Method::Post, "/v1/groups/", json!({"groups": ["bridge"]}))
        .await;
    kirk_b
        .request(
            Method::Post,
            "/v1/presence",
            json!({"presence": {"type": "available"}}),
        )
        .await;
    // Mallory (app A) messages spock, observes kirk, joins "bridge" and publishes.
    mallory_a
        .request(
            Method::Post,
            "/v1/messages",
            json!({"to": "spock", "message": "from A"}),
        )
        .await;
    let observed = mallory_a
        .request(
            Method::Post,
            "/v1/presenceobservers",
            json!({"endpointList": ["kirk"]}),
        )
        .await;
    let observed = serde_json::to_value(&observed.body).unwrap();
    assert_eq!(
        observed[0]["connectionStates"],
        json!({}),
        "B's kirk is not visible from A: {observed}"
    );
    let members = mallory_a
        .request(Method::Get, "/v1/channels/bridge/subscribers/", json!({}))
        .await;
    let members = serde_json::to_value(&members.body).unwrap();
    assert_eq!(members, json!([]), "B's members are not listed to A");
    mallory_a
        .request(Method::Post, "/v1/groups/", json!({"groups": ["bridge"]}))
        .await;
    mallory_a
        .request(
            Method::Post,
            "/v1/channels/bridge/publish/",
            json!({"message": "to B's bridge"}),
        )
        .await;

    // Nothing of that reaches app B; A's own spock got the message.
    for ws in [&mut spock_b, &mut kirk_b] {
        match ws.next_non_heartbeat(Duration::from_millis(800)).await {
            Received::TimedOut => {}
            Received::Packet(Packet::Event { data, .. }) => {
                assert!(
                    !data.contains("from A") && !data.contains("mallory"),
                    "{data}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
    match spock_a.next_non_heartbeat(Duration::from_secs(3)).await {
        Received::Packet(Packet::Event { data, .. }) => assert!(data.contains("from A"), "{data}"),
        other => panic!("A's spock gets A's message: {other:?}"),
    }
}

#[tokio::test]
async fn row06_a_token_is_exchanged_only_for_its_own_app() {
    let _serial = crate::serial().await;
    let h = start_with_config(two_apps(), fast_settings()).await;
    let minted: Value = h
        .http
        .post(format!("{}/v1/tokens", h.api))
        .json(&json!({"appId": APP_A, "endpointId": "mallory", "ttl": 600}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token_id = minted["tokenId"].as_str().unwrap();
    let reply = h
        .http
        .post(format!("{}/v1/session-tokens", h.api))
        .json(&json!({"tokenId": token_id, "appId": APP_B}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        reply.status(),
        401,
        "A's tokenId is not exchanged for app B"
    );
    // Not spent by the refusal: its own app gets it.
    let reply = h
        .http
        .post(format!("{}/v1/session-tokens", h.api))
        .json(&json!({"tokenId": token_id, "appId": APP_A}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}

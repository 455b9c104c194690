//! The example app server: login, logout, the token broker and its refusals.

use std::path::PathBuf;
use std::sync::Arc;

use respoke_devserver::config::Config;
use respoke_devserver::{app_router, AppServerState, Settings, Stats};
use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn login_logout_and_refusals() {
    let h = start_with(fast_settings()).await;
    // Wrong password, unknown user.
    for (user, password) in [("spock@enterprise.com", "kirk"), ("nobody@x", "x")] {
        let reply = h
            .http
            .post(format!("{}/api/login", h.app))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 401);
        assert!(reply.headers().get("set-cookie").is_none());
    }
    // No session.
    let reply = h
        .app_tokens(None, json!({"endpointId": "test1@example.com"}))
        .await;
    assert_eq!(reply.status(), 401);
    assert!(reply.json::<Value>().await.unwrap()["error"].is_string());
    let reply = h
        .app_tokens(Some("respoke_demo_session=forged"), json!({}))
        .await;
    assert_eq!(reply.status(), 401);

    let cookie = h.login("test1@example.com", "test").await;
    let me: Value = h
        .http
        .get(format!("{}/api/me", h.app))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["endpointId"], "test1@example.com");

    // Someone else's token: 403.
    let reply = h
        .app_tokens(Some(&cookie), json!({"endpointId": "kirk@enterprise.com"}))
        .await;
    assert_eq!(reply.status(), 403);
    // Own token: 200, no body needed.
    let reply = h
        .http
        .post(format!("{}/api/tokens", h.app))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["cache-control"], "no-store");

    // Logout ends the session server-side: the old cookie no longer works.
    let reply = h
        .http
        .post(format!("{}/api/logout", h.app))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert!(reply.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let reply = h.app_tokens(Some(&cookie), json!({})).await;
    assert_eq!(reply.status(), 401);
    let reply = h
        .http
        .get(format!("{}/api/me", h.app))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);

    let stats = h.endpoint_stats("test1@example.com").await;
    // Attributed to test1: the sessionless request naming it, the 403 and the 200 (the
    // forged-cookie and after-logout requests named nobody).
    assert_eq!(stats["appTokenRequests"], 3);
    assert_eq!(stats["appTokenRequestsUnauthorized"], 2);
    assert_eq!(stats["tokensIssued"], 1);
    let global = h.stats().await;
    assert_eq!(global["appTokenRequests"], 5);
    assert_eq!(global["appTokenRequestsUnauthorized"], 4);

    let config: Value = h.get_json(&format!("{}/api/config", h.app)).await;
    assert!(config.to_string().contains("respokeBaseUrl"));
    assert!(!config
        .to_string()
        .contains(respoke_devserver::config::DEMO_APP_SECRET));
}

#[tokio::test]
async fn respoke_failure_is_a_502() {
    // An app server whose Respoke side is not there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut config = Config::demo();
    config.users.truncate(1);
    let state = AppServerState::new(
        &config,
        &Settings::default(),
        dead_url,
        Arc::new(Stats::default()),
    )
    .unwrap();
    let router = app_router(
        Arc::new(state),
        PathBuf::from("nope"),
        PathBuf::from("nope"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    let http = reqwest::Client::new();
    let reply = http
        .post(format!("http://{addr}/api/login"))
        .json(&json!({"username": "spock@enterprise.com", "password": "spock"}))
        .send()
        .await
        .unwrap();
    let cookie = reply.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let reply = http
        .post(format!("http://{addr}/api/tokens"))
        .header("Cookie", cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 502);
    assert!(reply.json::<Value>().await.unwrap()["error"].is_string());
}

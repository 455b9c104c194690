//! Row 11, cookies: the example app server's session cookies never expired server-side
//! (3,000 logins were all kept) and carried no Max-Age.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::*;
use crate::server::Server;

#[tokio::test]
async fn row11_session_cookies_carry_max_age() {
    let _serial = crate::serial().await;
    let h = start_with(fast_settings()).await;
    let reply = h
        .http
        .post(format!("{}/api/login", h.app))
        .json(&json!({"username": "kirk@enterprise.com", "password": "kirk"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let cookie = reply.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("Max-Age=86400"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
}

async fn login(server: &Server, user: &str, password: &str) -> String {
    let reply = server
        .http
        .post(format!("{}/api/login", server.app))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let cookie = reply.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

async fn me(server: &Server, cookie: &str) -> u16 {
    server
        .http
        .get(format!("{}/api/me", server.app))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn row11_sessions_expire_server_side_and_the_table_is_bounded() {
    let _serial = crate::serial().await;
    let server = Server::start(&["--session-max-age-secs", "1", "--max-app-sessions", "20"]);
    let cookie = login(&server, "kirk@enterprise.com", "kirk").await;
    assert_eq!(me(&server, &cookie).await, 200);
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert_eq!(me(&server, &cookie).await, 401, "expired server-side");
    // 60 logins (3 users x 20, each a fresh browser): at most 20 sessions are kept, the
    // oldest ended first.
    let mut cookies = Vec::new();
    for n in 0..60 {
        let (user, password) = respoke_devserver::config::DEMO_USERS[n % 3];
        cookies.push(login(&server, user, password).await);
    }
    let stats: Value = server.stats(None).await;
    assert!(stats["appSessions"].as_u64().unwrap() <= 20, "{stats}");
    assert_eq!(
        me(&server, &cookies[0]).await,
        401,
        "the oldest session ended"
    );
    assert_eq!(me(&server, &cookies[59]).await, 200, "the newest is kept");
}

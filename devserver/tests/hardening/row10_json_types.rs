//! Row 10, JSON types: `POST /v1/tokens` with `Content-Type: text/plain` or a form type was
//! answered 200: the content type was ignored, so a page on any site could send it without
//! a CORS preflight.

use respoke_devserver::config::DEMO_APP_ID;
use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn row10_json_routes_answer_415_to_other_content_types() {
    let _serial = crate::serial().await;
    let h = start_with(fast_settings()).await;
    let body = json!({"appId": DEMO_APP_ID, "endpointId": "ct@x", "ttl": 60}).to_string();
    let login = json!({"username": "kirk@enterprise.com", "password": "kirk"}).to_string();
    let cases = [
        (
            format!("{}/v1/tokens", h.api),
            Some("text/plain"),
            body.clone(),
        ),
        (
            format!("{}/v1/tokens", h.api),
            Some("text/plain;charset=UTF-8"),
            body.clone(),
        ),
        (
            format!("{}/v1/tokens", h.api),
            Some("application/x-www-form-urlencoded"),
            body.clone(),
        ),
        (
            format!("{}/v1/tokens", h.api),
            Some("multipart/form-data; boundary=x"),
            body.clone(),
        ),
        (format!("{}/v1/tokens", h.api), None, body.clone()),
        (
            format!("{}/api/login", h.app),
            Some("text/plain"),
            login.clone(),
        ),
        (
            format!("{}/api/tokens", h.app),
            Some("text/plain"),
            "{}".to_owned(),
        ),
        (
            format!("{}/dev/drop", h.api),
            Some("text/plain"),
            "{}".to_owned(),
        ),
        (
            format!("{}/v1/session-tokens", h.api),
            Some("text/plain"),
            r#"{"tokenId":"x"}"#.to_owned(),
        ),
    ];
    for (url, content_type, body) in cases {
        let mut request = h.http.post(&url).body(body);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let reply = request.send().await.unwrap();
        assert_eq!(reply.status(), 415, "{url} {content_type:?}");
        assert!(reply.json::<Value>().await.unwrap()["error"].is_string());
    }
    // JSON still works, with parameters and +json types; the Android form exchange too.
    let reply = h
        .http
        .post(format!("{}/v1/tokens", h.api))
        .header("Content-Type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let token_id = reply.json::<Value>().await.unwrap()["tokenId"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = h
        .http
        .post(format!("{}/v1/session-tokens", h.api))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("tokenId={token_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    // A body-less POST needs no content type.
    let reply = h
        .http
        .post(format!("{}/dev/reset", h.api))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}

//! Row 9, logs: endpointIds were logged with `%`, so ESC, newline and NUL reached the log raw
//! and a client could forge log lines.

use respoke_devserver::config::DEMO_APP_ID;
use serde_json::json;

use crate::server::Server;

#[tokio::test]
async fn row09_untrusted_values_are_escaped_and_cut_in_logs() {
    let _serial = crate::serial().await;
    let server = Server::start(&[]);
    let forged = "x\u{1b}[2J\nFORGED 2026-01-01T00:00:00Z  INFO respoke: admin logged in\0";
    let reply = server
        .http
        .post(format!("{}/v1/tokens", server.api))
        .json(&json!({"appId": DEMO_APP_ID, "endpointId": forged, "ttl": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let long = format!("long{}", "L".repeat(240));
    let reply = server
        .http
        .post(format!("{}/v1/tokens", server.api))
        .json(&json!({"appId": DEMO_APP_ID, "endpointId": long, "ttl": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    // The app server logs a logout's endpointId too.
    let reply = server
        .http
        .post(format!("{}/api/logout", server.app))
        .json(&json!({"endpointId": forged}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    // The log is written asynchronously by nobody: it is on stderr already. Wait a moment.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = server.log_bytes();
    let text = String::from_utf8_lossy(&log);
    assert!(text.contains("token minted"), "{text}");
    assert!(!log.contains(&0x1b), "ESC in the log");
    assert!(!log.contains(&0), "NUL in the log");
    assert!(
        !text.lines().any(|line| line.starts_with("FORGED")),
        "a forged log line: {text}"
    );
    assert!(
        text.contains(r"x\u{1b}[2J\nFORGED"),
        "escaped as Debug: {text}"
    );
    assert!(!text.contains(&long), "a 244-char id is cut in the log");
    assert!(text.contains("…(244 chars)"), "{text}");
}

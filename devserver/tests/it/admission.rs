//! Load shedding of session-token exchanges (`--admission-per-second`, `/dev/admission`).

use std::num::NonZeroU32;
use std::time::Duration;

use respoke_devserver::Settings;
use serde_json::{json, Value};

use crate::common::*;

fn retry_after(reply: &reqwest::Response) -> u64 {
    reply.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in whole seconds")
}

async fn admission_state(h: &Harness) -> Value {
    h.get_json(&format!("{}/dev/state", h.api)).await["admissionPerSecond"].clone()
}

#[tokio::test]
async fn off_by_default() {
    let h = start_with(fast_settings()).await;
    assert_eq!(admission_state(&h).await, Value::Null);
    let mut token_ids = Vec::new();
    for _ in 0..30 {
        token_ids.push(h.mint("free@x", 60).await);
    }
    // A burst far above any small limit, all at once: every exchange goes through.
    let replies =
        futures_util::future::join_all(token_ids.iter().map(|id| h.exchange_raw(id))).await;
    assert!(replies.iter().all(|r| r.status() == 200));
    assert_eq!(h.stats().await["exchangesShed"], 0);
}

#[tokio::test]
async fn over_the_limit_503_with_retry_after_and_the_token_is_not_spent() {
    let h = start_with(fast_settings()).await;
    let app_token = h.app_token("busy@x").await;
    assert_eq!(
        h.dev("admission", json!({"perSecond": 2})).await,
        json!({"perSecond": 2})
    );
    assert_eq!(admission_state(&h).await, 2);
    let mut token_ids = Vec::new();
    for _ in 0..6 {
        token_ids.push(h.mint("busy@x", 60).await);
    }
    // A second's worth (2) goes through at once.
    h.exchange(&token_ids[0]).await;
    h.exchange(&token_ids[1]).await;
    // The rest are shed: 503, the usual JSON error, Retry-After from the next free slot.
    // Slots are 1/2 s apart from one second ahead: 1 s, 1.5 s, 2 s, 2.5 s -> 1, 2, 2, 3.
    let mut waits = Vec::new();
    for token_id in &token_ids[2..] {
        let reply = h.exchange_raw(token_id).await;
        assert_eq!(reply.status(), 503);
        let secs = retry_after(&reply);
        assert!(secs >= 1);
        waits.push(secs);
        let body: Value = reply.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("busy"), "{body}");
    }
    assert_eq!(waits, [1, 2, 2, 3]);
    let stats = h.stats().await;
    assert_eq!(stats["exchangesShed"], 4);
    assert_eq!(stats["exchangesRejectedOther"], 4);
    // The two, plus the App-Token taken before the limit was set.
    assert_eq!(stats["exchangesAccepted"], 3);

    // Minting (above) and handshakes are not limited.
    let _ws = h.open_socket(&app_token).await;

    // After the slot time the refused tokenIds are admitted: none was spent by the refusal.
    tokio::time::sleep(Duration::from_millis(1_050)).await;
    h.exchange(&token_ids[2]).await;
    h.exchange(&token_ids[3]).await;
    // ... and the limit still holds.
    assert_eq!(h.exchange_raw(&token_ids[4]).await.status(), 503);
}

#[tokio::test]
async fn configured_limit_dev_control_and_reset() {
    let settings = Settings {
        admission_per_second: NonZeroU32::new(1),
        ..fast_settings()
    };
    let h = start_with(settings).await;
    assert_eq!(admission_state(&h).await, 1);
    let a = h.mint("cfg@x", 60).await;
    let b = h.mint("cfg@x", 60).await;
    h.exchange(&a).await;
    let reply = h.exchange_raw(&b).await;
    assert_eq!(reply.status(), 503);
    assert_eq!(retry_after(&reply), 1);

    // 0 (or null) lifts the limit at run time.
    assert_eq!(
        h.dev("admission", json!({"perSecond": 0})).await,
        json!({"perSecond": null})
    );
    assert_eq!(admission_state(&h).await, Value::Null);
    h.exchange(&b).await;
    for _ in 0..5 {
        let t = h.mint("cfg@x", 60).await;
        h.exchange(&t).await;
    }

    // Reset puts back the configured limit, with a full bucket.
    h.dev("reset", json!({})).await;
    assert_eq!(admission_state(&h).await, 1);
    let c = h.mint("cfg@x", 60).await;
    let d = h.mint("cfg@x", 60).await;
    h.exchange(&c).await;
    assert_eq!(h.exchange_raw(&d).await.status(), 503);

    // null lifts it too; on a server started without a limit, reset means unlimited.
    h.dev("admission", json!({"perSecond": null})).await;
    h.exchange(&d).await;
    let h = start_with(fast_settings()).await;
    h.dev("admission", json!({"perSecond": 1})).await;
    h.dev("reset", json!({})).await;
    assert_eq!(admission_state(&h).await, Value::Null);
}

#[tokio::test]
async fn outage_and_injected_failures_come_first() {
    let h = start_with(fast_settings()).await;
    h.dev("admission", json!({"perSecond": 1})).await;
    h.dev("fail-session-tokens", json!({"count": 1, "status": 500}))
        .await;
    let t = h.mint("order@x", 60).await;
    // The injected failure answers first and takes no admission token.
    assert_eq!(h.exchange_raw(&t).await.status(), 500);
    h.exchange(&t).await;
    assert_eq!(h.stats().await["exchangesShed"], 0);
}

#[tokio::test]
async fn bad_admission_bodies_are_400() {
    let h = start_with(fast_settings()).await;
    for body in [
        "{}",
        "[]",
        r#"{"perSecond":-1}"#,
        r#"{"perSecond":1.5}"#,
        r#"{"perSecond":"10"}"#,
        r#"{"perSecond":4294967296}"#,
        "{",
    ] {
        let reply = h
            .http
            .post(format!("{}/dev/admission", h.api))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 400, "{body}");
        assert!(reply.json::<Value>().await.unwrap()["error"].is_string());
    }
    assert_eq!(admission_state(&h).await, Value::Null);
    let max = h.dev("admission", json!({"perSecond": u32::MAX})).await;
    assert_eq!(max["perSecond"], u32::MAX);
}

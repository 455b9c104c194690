//! Row 12, stats leak: `/dev/stats` (readable cross-origin) showed other users' spent
//! tokenIds.

use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn row12_stats_do_not_list_spent_token_ids_nor_answer_foreign_pages() {
    let _serial = crate::serial().await;
    let h = start_with(fast_settings()).await;
    let token_id = h.mint("victim12@x", 600).await;
    h.exchange(&token_id).await;
    // The whole document does not carry anyone's tokenIds.
    let all = h.stats().await;
    assert_eq!(all["endpoints"]["victim12@x"]["exchangesAccepted"], 1);
    assert!(!all.to_string().contains(&token_id), "{all}");
    // A page on another site cannot read /dev/stats at all (not even one endpoint's).
    for path in ["/dev/stats", "/dev/stats?endpointId=victim12@x"] {
        let reply = h
            .http
            .get(format!("{}{path}", h.api))
            .header("Origin", "http://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 403, "{path}");
        assert!(reply.headers().get("access-control-allow-origin").is_none());
        let body: Value = reply.json().await.unwrap();
        assert!(!body.to_string().contains(&token_id));
    }
    // The developer naming the endpoint, on loopback, still sees them.
    let one = h.endpoint_stats("victim12@x").await;
    assert_eq!(one["lastTokenIds"][0], token_id.as_str());
}

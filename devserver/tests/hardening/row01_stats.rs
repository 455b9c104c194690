//! Row 1, unbounded stats: 1,500 `POST /v1/tokens` (dev-mode app, no secret), each with a
//! unique 60 KB endpointId, grew the server by 170 MB for good (the per-endpoint stats map
//! never evicted, the token table kept the ids, the log printed them in full).

use std::sync::Arc;

use futures_util::StreamExt;
use respoke_devserver::config::DEMO_APP_ID;
use serde_json::json;

use crate::server::Server;

#[tokio::test]
async fn row01_huge_endpoint_ids_are_refused_and_stats_stay_bounded() {
    let _serial = crate::serial().await;
    let server = Arc::new(Server::start(&[]));
    // Warm up (allocator, connection pool), then measure.
    server.app_token("warm@x").await;
    let before = server.rss_kb();
    let statuses: Vec<u16> = futures_util::stream::iter(0..1_500)
        .map(|n| {
            let server = server.clone();
            async move {
                let endpoint_id = format!("{n:06}{}", "x".repeat(60 * 1024));
                server
                    .http
                    .post(format!("{}/v1/tokens", server.api))
                    .json(&json!({"appId": DEMO_APP_ID, "endpointId": endpoint_id, "ttl": 60}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let after = server.rss_kb();
    assert!(
        statuses.iter().all(|s| *s == 400),
        "every 60 KB endpointId is a 400 (first statuses: {:?})",
        &statuses[..5]
    );
    let stats = server.stats(None).await;
    assert!(
        stats["endpoints"].as_object().unwrap().len() <= 1,
        "no counters for refused endpoints"
    );
    let grown_mb = after.saturating_sub(before) / 1024;
    assert!(
        grown_mb < 40,
        "server RSS grew {grown_mb} MB ({before} -> {after} kB)"
    );
}

#[tokio::test]
async fn row01_the_per_endpoint_counters_are_capped_and_evict() {
    let _serial = crate::serial().await;
    let server = Server::start(&["--stats-max-endpoints", "100"]);
    for n in 0..300 {
        let endpoint_id = format!("{n:04}{}", "e".repeat(200));
        let reply = server
            .http
            .post(format!("{}/v1/tokens", server.api))
            .json(&json!({"appId": DEMO_APP_ID, "endpointId": endpoint_id, "ttl": 60}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "ids up to 256 bytes are fine");
    }
    let stats = server.stats(None).await;
    assert_eq!(stats["endpoints"].as_object().unwrap().len(), 100);
    assert_eq!(stats["endpointsTracked"], 100);
    assert_eq!(stats["endpointsEvicted"], 200);
    assert_eq!(stats["tokensIssued"], 300, "totals are never evicted");
    // The most recent ones are the ones kept.
    let newest = format!("0299{}", "e".repeat(200));
    assert_eq!(server.stats(Some(&newest)).await["tokensIssued"], 1);
}

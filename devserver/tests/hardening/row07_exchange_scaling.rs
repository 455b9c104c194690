//! Row 7, O(n) exchange: `RespokeState::exchange` scanned every live session on each call:
//! 12.7k exchanges/s at start, 1.25k/s with 77k live sessions.
//!
//! Driven in process through the router (no sockets, so the server's own work is what is
//! timed), and judged on a ratio of rates measured in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request as HttpRequest;
use respoke_devserver::config::{Config, DEMO_APP_ID};
use respoke_devserver::{api_router, RespokeState, Settings};
use tower::ServiceExt;

/// One exchange through the router; panics unless it is a 200.
async fn exchange(router: &axum::Router, state: &RespokeState, n: u64) {
    let minted = state.mint_token(DEMO_APP_ID, &format!("scale{}", n % 500), None, 3_600);
    let response = router
        .clone()
        .oneshot(
            HttpRequest::post("/v1/session-tokens")
                .header("Content-Type", "application/json")
                .body(Body::from(format!(
                    r#"{{"tokenId":"{}"}}"#,
                    minted.token_id
                )))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// Exchanges per second over `count` exchanges.
async fn rate(router: &axum::Router, state: &RespokeState, count: u64, from: u64) -> f64 {
    let started = Instant::now();
    for n in from..from + count {
        exchange(router, state, n).await;
    }
    count as f64 / started.elapsed().as_secs_f64()
}

#[tokio::test]
async fn row07_exchanges_do_not_slow_down_with_live_sessions() {
    let _serial = crate::serial().await;
    let state = Arc::new(RespokeState::new(
        Arc::new(Config::demo()),
        Settings::default(),
        Arc::default(),
    ));
    let router = api_router(state.clone());
    // Warm up, then the rate with (almost) no live sessions: the best of three runs, so a
    // moment of contention from other processes on the machine does not decide the ratio.
    rate(&router, &state, 500, 0).await;
    let mut at_start: f64 = 0.0;
    for run in 0..3 {
        at_start = at_start.max(rate(&router, &state, 1_000, 1_000 + run * 1_000).await);
    }
    // Fill up to 30,000 live sessions, bounded in time: an O(n) exchange cannot do it.
    let fill_deadline = Instant::now() + Duration::from_secs(90);
    let mut n = 10_000;
    while n < 10_000 + 26_500 {
        assert!(
            Instant::now() < fill_deadline,
            "filling up to 30k live sessions took over 90 s ({} done): exchange is O(sessions)",
            n - 10_000
        );
        exchange(&router, &state, n).await;
        n += 1;
    }
    let mut at_30k: f64 = 0.0;
    for run in 0..3 {
        at_30k = at_30k.max(rate(&router, &state, 1_000, 100_000 + run * 1_000).await);
    }
    let ratio = at_30k / at_start;
    println!(
        "exchanges/s: {at_start:.0} at start, {at_30k:.0} with 30k live sessions ({ratio:.2})"
    );
    assert!(
        ratio >= 0.5,
        "{at_start:.0}/s at start, {at_30k:.0}/s at 30k live sessions"
    );
}

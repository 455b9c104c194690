//! Row 2, unbounded hashing: 64 parallel wrong-password logins for 10 s ran 177 argon2
//! verifications a second, all answered 401, never 429, and the server grew from 220 MB to
//! 8.0 GB without giving it back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::server::Server;

#[tokio::test]
async fn row02_a_login_flood_is_throttled_and_memory_stays_flat() {
    let _serial = crate::serial().await;
    let server = Arc::new(Server::start(&[]));
    let login = |server: Arc<Server>, user: &'static str, password: &'static str| async move {
        server
            .http
            .post(format!("{}/api/login", server.app))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
    };
    // One good login first: the allocator's arenas and the blocking pool are warm.
    let reply = login(server.clone(), "kirk@enterprise.com", "kirk")
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let before = server.rss_kb();

    let (unauthorized, throttled, other) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let flood_for = Duration::from_secs(6);
    let started = Instant::now();
    let workers: Vec<_> = (0..64)
        .map(|_| {
            let (server, unauthorized, throttled, other) = (
                server.clone(),
                unauthorized.clone(),
                throttled.clone(),
                other.clone(),
            );
            tokio::spawn(async move {
                // Bounded in time and count.
                for _ in 0..10_000 {
                    if started.elapsed() >= flood_for {
                        break;
                    }
                    match login(server.clone(), "spock@enterprise.com", "wrong").await {
                        Ok(reply) if reply.status() == 401 => {
                            unauthorized.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(reply) if reply.status() == 429 => {
                            let retry_after = reply
                                .headers()
                                .get("retry-after")
                                .and_then(|v| v.to_str().ok())
                                .and_then(|v| v.parse::<u64>().ok());
                            assert!(retry_after.is_some_and(|s| s >= 1), "429 has Retry-After");
                            throttled.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            other.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let after = server.rss_kb();
    let (unauthorized, throttled, other) = (
        unauthorized.load(Ordering::Relaxed),
        throttled.load(Ordering::Relaxed),
        other.load(Ordering::Relaxed),
    );
    println!("401: {unauthorized}, 429: {throttled}, other: {other}; RSS {before} -> {after} kB");
    assert_eq!(other, 0, "every attempt is answered 401 or 429");
    assert!(throttled > 0, "a flood is answered 429");
    // 5 failures in a burst, then one per 2 s (6 s): the rest never reach argon2.
    assert!(unauthorized <= 12, "{unauthorized} passwords were verified");
    let grown_mb = after.saturating_sub(before) / 1024;
    assert!(grown_mb < 64, "server RSS grew {grown_mb} MB");

    // The stats count what ran.
    let stats = server.stats(None).await;
    assert!(stats["loginsThrottled"].as_u64().unwrap() >= throttled);
    assert_eq!(
        stats["passwordVerifies"].as_u64().unwrap(),
        unauthorized + 1
    );

    // Another user from the same (throttled) peer gets in once the peer's allowance is back.
    let mut kirk = login(server.clone(), "kirk@enterprise.com", "kirk")
        .await
        .unwrap();
    for _ in 0..10 {
        if kirk.status() != 429 {
            break;
        }
        let wait: u64 = kirk.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        tokio::time::sleep(Duration::from_secs(wait.min(5))).await;
        kirk = login(server.clone(), "kirk@enterprise.com", "kirk")
            .await
            .unwrap();
    }
    assert_eq!(kirk.status(), 200);
}

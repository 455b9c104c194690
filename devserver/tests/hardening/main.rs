//! Issue 12: the dev server under bad input and load. One module per reproduced row of the
//! issue's table (`rowNN_*`); each test names the row it reproduces.
//!
//! Memory is judged on the server's own RSS: the tests that measure it run the dev server
//! binary as a child process ([`server::Server`]) and read `/proc/<pid>/status`, so the test
//! client's own allocations do not count. Every loop is bounded in count and time; every
//! server listens on 127.0.0.1 only. The tests run one at a time ([`serial`]), so that one
//! test's load does not distort another's measurements.

#[allow(dead_code)]
#[path = "../it/common.rs"]
mod common;
mod server;

mod row01_stats;
mod row02_login_flood;
mod row03_slow_reader;
mod row04_idle_connections;
mod row05_cross_site;
mod row06_app_isolation;
mod row07_exchange_scaling;
mod row08_large_frames;
mod row09_logs;
mod row10_json_types;
mod row11_cookies;
mod row12_stats_leak;

/// Held by every test in this binary: they run one at a time.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

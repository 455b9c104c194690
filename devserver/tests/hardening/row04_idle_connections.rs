//! Row 4, idle connections: 1,100 TCP connections that send nothing (no header-read timeout;
//! the usual 1,024 open files) made `accept` fail with "Too many open files" and legitimate
//! requests time out.

use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::server::{nofile_hard, nofile_soft, Server};

/// Opens `count` connections to `url`'s host that send nothing.
async fn idle_connections(api: &str, count: usize) -> Vec<TcpStream> {
    let addr = api.trim_start_matches("http://").to_owned();
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        match tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(&addr)).await {
            Ok(Ok(stream)) => held.push(stream),
            _ => break,
        }
    }
    held
}

/// Whether the peer closed `stream` (EOF or reset) within `within`, and what it sent first.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> (bool, String) {
    let mut buf = vec![0u8; 512];
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (false, seen),
            Ok(Ok(0)) | Ok(Err(_)) => return (true, seen),
            Ok(Ok(n)) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
}

#[tokio::test]
async fn row04_idle_connections_neither_exhaust_descriptors_nor_block_requests() {
    let _serial = crate::serial().await;
    // The test process holds the client ends: lift its own soft limit as the server does.
    // (`prlimit`, not a crate: this file must build against any version of the server.)
    let hard = nofile_hard();
    let _ = std::process::Command::new("prlimit")
        .arg(format!("--pid={}", std::process::id()))
        .arg(format!("--nofile={hard}:{hard}"))
        .status();
    assert!(
        nofile_soft() >= 2_500,
        "this test needs 2,500 open files in the test process (hard limit too low)"
    );
    // The server starts with the common soft limit of 1,024 open files.
    let server = Server::start_with_nofile(1_024, &[]);
    let idle = idle_connections(&server.api, 1_100).await;
    assert_eq!(idle.len(), 1_100, "the server accepted every connection");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let reply = server
        .http
        .get(format!("{}/dev/state", server.api))
        .timeout(Duration::from_secs(3))
        .send()
        .await
        .expect("a normal request is answered while 1,100 connections idle");
    assert_eq!(reply.status(), 200);
    println!(
        "answered in {:?} beside 1,100 idle connections",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(idle);
}

#[tokio::test]
async fn row04_silent_connections_are_closed_and_excess_ones_shed() {
    let _serial = crate::serial().await;
    let server = Server::start(&["--header-read-timeout-secs", "1", "--max-connections", "50"]);
    let mut idle = idle_connections(&server.api, 50).await;
    assert_eq!(idle.len(), 50);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The 51st is answered 503 and closed at once.
    let mut extra = idle_connections(&server.api, 1).await;
    let (closed, answer) = closed_within(&mut extra[0], Duration::from_secs(1)).await;
    assert!(
        closed,
        "a connection over --max-connections is closed at once"
    );
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert!(answer.to_ascii_lowercase().contains("retry-after: 1"));
    // The idle ones are closed after the header-read timeout (1 s)...
    let (closed, _) = closed_within(&mut idle[0], Duration::from_secs(3)).await;
    assert!(
        closed,
        "a silent connection is closed after --header-read-timeout-secs"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    // ...so normal requests get in again, and the shedding was counted.
    let stats = server.stats(None).await;
    assert!(stats["connectionsShed"].as_u64().unwrap() >= 1);
    // A keep-alive connection that goes quiet after a request is closed too.
    let mut stream = TcpStream::connect(server.api.trim_start_matches("http://"))
        .await
        .unwrap();
    use tokio::io::AsyncWriteExt;
    stream
        .write_all(b"GET /dev/state HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let (closed, answer) = closed_within(&mut stream, Duration::from_secs(4)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(closed, "an idle keep-alive connection is closed");
    // A body that stops arriving is a 408, not a connection held forever.
    let mut stream = TcpStream::connect(server.api.trim_start_matches("http://"))
        .await
        .unwrap();
    stream
        .write_all(
            b"POST /v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"appId\":",
        )
        .await
        .unwrap();
    let (_, answer) = closed_within(&mut stream, Duration::from_secs(4)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
}

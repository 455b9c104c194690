//! The accept loop: one hyper HTTP/1.1 connection per accepted socket, with a header-read
//! timeout, a bound on open connections, and the process's open-file limit raised at start.
//!
//! `axum::serve` offers neither a header-read timeout nor a connection bound, so a client
//! that opens connections and sends nothing used to hold them (and their file descriptors)
//! forever, until `accept` failed with "Too many open files" for everyone.
//!
//! * Every connection must send a complete request head within
//!   [`crate::config::Limits::header_read_timeout`] of being accepted, and an idle keep-alive
//!   connection is closed after the same time (hyper's `header_read_timeout`, on a timer). A
//!   request body whose next bytes take longer than that fails with 408 (tower-http's
//!   `TimeoutBody`).
//! * At most [`crate::config::Limits::max_connections`] connections are open per listener,
//!   WebSockets included (the count lives in the socket, so it follows the upgrade). A new
//!   connection beyond is answered `503` with `Retry-After` and closed at once; the process
//!   and the connections already open are not affected.
//! * [`raise_nofile_limit`] lifts the soft RLIMIT_NOFILE to the hard limit.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

use crate::stats::Stats;

/// File descriptors kept free for everything that is not a client connection (listeners,
/// the app server's outgoing HTTP client, logs, config files).
pub const FD_RESERVE: u64 = 128;

/// Raises the soft open-file limit to the hard limit; returns the soft limit now (`None`
/// where the platform has no such limit or it cannot be read).
pub fn raise_nofile_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(error) => {
            tracing::warn!(%error, "cannot raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

/// The connection bound actually applied: `configured`, lowered so that two listeners' worth
/// of connections fit under the open-file limit with [`FD_RESERVE`] to spare.
pub fn effective_max_connections(configured: usize, nofile: Option<u64>) -> usize {
    let by_fds = nofile.map_or(usize::MAX, |limit| {
        usize::try_from(limit.saturating_sub(FD_RESERVE) / 2).unwrap_or(usize::MAX)
    });
    configured.min(by_fds).max(1)
}

/// The bounds of the two listeners (Respoke API, app server): the app server's is
/// `app_configured` (default: the same as the API's), lowered to half of what the open-file
/// limit leaves after [`FD_RESERVE`]; the API listener gets `configured`, lowered to the rest.
/// With both at their default this is [`effective_max_connections`] for each; a small app
/// bound leaves the API listener (every WebSocket) nearly all the descriptors.
pub fn listener_max_connections(
    configured: usize,
    app_configured: Option<usize>,
    nofile: Option<u64>,
) -> (usize, usize) {
    let app = effective_max_connections(app_configured.unwrap_or(configured), nofile);
    let api = nofile.map_or(configured, |limit| {
        let usable = usize::try_from(limit.saturating_sub(FD_RESERVE)).unwrap_or(usize::MAX);
        configured.min(usable.saturating_sub(app))
    });
    (api.max(1), app)
}

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// Open connections at most (see the module docs).
    pub max_connections: usize,
    /// Time to send a request head, and the longest idle keep-alive wait.
    pub header_read_timeout: Duration,
}

/// Counts one open connection for as long as it lives.
#[derive(Debug)]
struct OpenGuard(Arc<AtomicUsize>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An accepted socket that holds its [`OpenGuard`]: hyper hands the IO to the WebSocket on an
/// upgrade, so the connection stays counted until the socket itself is closed.
#[derive(Debug)]
struct CountedStream {
    inner: TcpStream,
    _open: OpenGuard,
}

impl AsyncRead for CountedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The answer to a connection over the bound, written without reading its request.
const SHED_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 54\r\n\
\r\n\
{\"error\":\"Too many open connections; retry shortly.\"}\n";

/// Resolves once `shutdown` is true (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Serves `router` on `listener` until `shutdown` turns true, then lets open connections
/// finish their requests.
pub fn serve(
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
    limits: ServeLimits,
    stats: Arc<Stats>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let open = Arc::new(AtomicUsize::new(0));
        let mut last_accept_error: Option<Instant> = None;
        let mut accept_errors = 0u64;
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = stopped(&mut shutdown) => break,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors (or another transient failure): log at most once a
                    // second and back off briefly instead of spinning.
                    accept_errors += 1;
                    if !last_accept_error.is_some_and(|at| at.elapsed() < Duration::from_secs(1)) {
                        tracing::warn!(%error, accept_errors, "accept failed");
                        last_accept_error = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            if open.load(Ordering::Acquire) >= limits.max_connections {
                stats.count(|s| &mut s.connections_shed);
                // A fresh socket's send buffer is empty: this never blocks.
                let _ = stream.try_write(SHED_RESPONSE);
                drop(stream);
                continue;
            }
            open.fetch_add(1, Ordering::AcqRel);
            let stream = CountedStream {
                inner: stream,
                _open: OpenGuard(open.clone()),
            };
            let router = router.clone();
            let mut shutdown = shutdown.clone();
            tokio::spawn(async move {
                let _ = stream.inner.set_nodelay(true);
                let body_timeout = limits.header_read_timeout;
                let service =
                    hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                        request
                            .extensions_mut()
                            .insert(ConnectInfo::<SocketAddr>(peer));
                        // A body that stops arriving for as long as a head may take fails the
                        // request (408) instead of holding the connection.
                        let request =
                            request.map(|body| Body::new(TimeoutBody::new(body_timeout, body)));
                        router.clone().oneshot(request)
                    });
                let mut builder = http1::Builder::new();
                builder
                    .timer(TokioTimer::new())
                    .header_read_timeout(limits.header_read_timeout);
                let connection = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades();
                tokio::pin!(connection);
                tokio::select! {
                    _ = connection.as_mut() => {}
                    _ = stopped(&mut shutdown) => {
                        connection.as_mut().graceful_shutdown();
                        let _ = connection.await;
                    }
                }
            });
        }
        // Wait for the open connections (the caller bounds the wait).
        while open.load(Ordering::Acquire) > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_fits_the_descriptors() {
        assert_eq!(effective_max_connections(10_000, None), 10_000);
        assert_eq!(effective_max_connections(10_000, Some(1_024)), 448);
        assert_eq!(effective_max_connections(100, Some(1_048_576)), 100);
        assert_eq!(effective_max_connections(10, Some(0)), 1);
        // Defaults: each listener half of the descriptors, as before.
        assert_eq!(
            listener_max_connections(10_000, None, Some(20_000)),
            (9_936, 9_936)
        );
        // A small app bound leaves the rest to the API listener.
        assert_eq!(
            listener_max_connections(50_000, Some(256), Some(20_000)),
            (19_616, 256)
        );
        assert_eq!(
            listener_max_connections(10_000, Some(256), Some(20_000)),
            (10_000, 256)
        );
        assert_eq!(
            listener_max_connections(10_000, Some(100), None),
            (10_000, 100)
        );
        assert_eq!(listener_max_connections(10, Some(10), Some(0)), (1, 1));
        let text = std::str::from_utf8(SHED_RESPONSE).unwrap();
        let body = text.split("\r\n\r\n").nth(1).unwrap();
        assert_eq!(body.len(), 54);
        assert!(serde_json::from_str::<serde_json::Value>(body).unwrap()["error"].is_string());
    }
}

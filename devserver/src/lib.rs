//! A Respoke-compatible development server and an example brokered-auth app server.
//!
//! * [`api_router`]: the Respoke side (`/v1/*`, the socket.io 0.9 handshake and WebSocket,
//!   Sails over it) plus the development controls under `/dev/` (see [`dev`]).
//! * [`app_router`]: the example app server (`/api/login`, `/api/tokens`, static files).
//! * [`start`]: binds both and serves them until [`Running::shutdown`].
//! * [`admission`]: the load shedding of session-token exchanges (pure; also run by the
//!   reconnect-herd benchmark).
//!
//! Routers need `ConnectInfo<SocketAddr>` (for the `/dev/` loopback check and the login
//! throttle): [`start`] serves them with [`serve::serve`], which adds it (and bounds
//! connections); `into_make_service_with_connect_info::<SocketAddr>()` works too.

#![forbid(unsafe_code)]

pub mod admission;
pub mod app;
pub mod config;
pub mod dev;
pub mod error;
pub mod http;
pub mod ids;
pub mod login_gate;
pub mod passwords;
pub mod respoke;
pub mod serve;
pub mod stats;
mod sync;
pub mod untrusted;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::{middleware, Router};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::trace::TraceLayer;

pub use app::AppServerState;
pub use config::{Config, Settings};
pub use respoke::RespokeState;
pub use stats::Stats;

/// The Respoke listener's router: Respoke routes, `/dev/` (if enabled), CORS, `Request-Id`.
///
/// CORS is per area: `/dev/` answers loopback origins only ([`http::dev_cors`]); the Respoke
/// routes echo any web origin, with credentials on [`http::CREDENTIALED_PATHS`] only.
pub fn api_router(state: Arc<RespokeState>) -> Router {
    let mut router = respoke::router(state.clone());
    if state.settings.dev_controls {
        router = router.merge(dev::router(state));
    }
    router
        .layer(middleware::from_fn(http::request_id))
        .layer(trace_layer())
}

/// The app listener's router: `/api/*`, `/pkg/`, `www/`, loopback CORS, `Request-Id`.
pub fn app_router(state: Arc<AppServerState>, www: PathBuf, pkg: PathBuf) -> Router {
    app::router(state, www, pkg)
        .layer(middleware::from_fn(http::request_id))
        .layer(http::app_cors())
        .layer(trace_layer())
}

/// A span per request, built from the request alone.
type MakeSpan = fn(&axum::http::Request<axum::body::Body>) -> tracing::Span;
/// tower-http's default classification of HTTP responses.
type Classifier =
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>;

/// Request tracing that records the method and the path only: the socket.io handshake and
/// WebSocket URLs carry the App-Token in their query, and no token may reach a log.
fn trace_layer() -> TraceLayer<Classifier, MakeSpan> {
    fn span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
        tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
    }
    TraceLayer::new_for_http().make_span_with(span as MakeSpan)
}

/// What [`start`] needs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Where the Respoke side listens (port 0 picks one).
    pub api_addr: SocketAddr,
    /// Where the app server listens; `None` runs the Respoke side alone.
    pub app_addr: Option<SocketAddr>,
    /// Apps and users.
    pub config: Config,
    /// Tunables.
    pub settings: Settings,
    /// The static site.
    pub www: PathBuf,
    /// The wasm package, served at `/pkg/`.
    pub pkg: PathBuf,
}

/// Failures to start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
}

/// The running servers.
#[derive(Debug)]
pub struct Running {
    /// The Respoke side's bound address.
    pub api_addr: SocketAddr,
    /// The app server's bound address.
    pub app_addr: Option<SocketAddr>,
    /// The Respoke side's state (for tests and the shutdown).
    pub respoke: Arc<RespokeState>,
    /// The shared counters.
    pub stats: Arc<Stats>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Closes every socket (`0::`), stops accepting, and waits (at most `grace`) for
    /// connections to finish.
    pub async fn shutdown(self, grace: Duration) {
        self.respoke.drop_sockets(None);
        let _ = self.shutdown.send(true);
        let all = futures_util::future::join_all(self.tasks);
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!("shutdown grace period over; exiting anyway");
        }
    }
}

/// Binds both listeners and serves them in background tasks.
pub async fn start(options: ServerOptions) -> Result<Running, StartError> {
    options.config.validate()?;
    let stats = Arc::new(Stats::with_capacity(
        options.settings.limits.stats_max_endpoints,
    ));
    let nofile = serve::raise_nofile_limit();
    let limits = &options.settings.limits;
    let (api_max, app_max) =
        serve::listener_max_connections(limits.max_connections, limits.max_app_connections, nofile);
    let serve_limits = serve::ServeLimits {
        max_connections: api_max,
        header_read_timeout: limits.header_read_timeout,
    };
    let app_serve_limits = serve::ServeLimits {
        max_connections: app_max,
        ..serve_limits
    };
    let config = Arc::new(options.config);

    let api_listener = TcpListener::bind(options.api_addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: options.api_addr,
            source,
        })?;
    let api_addr = api_listener
        .local_addr()
        .map_err(|source| StartError::Bind {
            addr: options.api_addr,
            source,
        })?;
    let respoke = Arc::new(RespokeState::new(
        config.clone(),
        options.settings.clone(),
        stats.clone(),
    ));
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = vec![serve::serve(
        api_listener,
        api_router(respoke.clone()),
        shutdown_rx.clone(),
        serve_limits,
        stats.clone(),
    )];

    let mut app_addr = None;
    if let Some(addr) = options.app_addr {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let base_url = format!("http://{api_addr}");
        let settings = options.settings.clone();
        let config_for_app = config.clone();
        let stats_for_app = stats.clone();
        // Hashing demo passwords is CPU work.
        let state = tokio::task::spawn_blocking(move || {
            AppServerState::new(&config_for_app, &settings, base_url, stats_for_app)
        })
        .await
        .map_err(|e| config::ConfigError::Invalid(format!("start-up task failed: {e}")))??;
        tasks.push(serve::serve(
            listener,
            app_router(Arc::new(state), options.www, options.pkg),
            shutdown_rx,
            app_serve_limits,
            stats.clone(),
        ));
        app_addr = Some(bound);
    }
    Ok(Running {
        api_addr,
        app_addr,
        respoke,
        stats,
        shutdown,
        tasks,
    })
}

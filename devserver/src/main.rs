//! `respoke-devserver`: the Respoke-compatible dev server and the example app server.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use respoke_devserver::config::{
    Config, Limits, Settings, DEMO_ADMIN, DEMO_APP_ID, DEMO_APP_SECRET, DEMO_ROLE_ID, DEMO_USERS,
    TEST_PASSWORD, TEST_USER_COUNT,
};
use respoke_devserver::passwords::hash_demo_password;
use respoke_devserver::{start, ServerOptions};
use tracing_subscriber::EnvFilter;

/// A Respoke-compatible development server plus an example brokered-auth app server.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address of the Respoke side (REST, socket.io, /dev/).
    #[arg(long, default_value = "127.0.0.1:3001")]
    api_addr: SocketAddr,
    /// Address of the example app server (login, token broker, static files).
    #[arg(long, default_value = "127.0.0.1:8080")]
    app_addr: SocketAddr,
    /// TOML configuration (apps, roles, users); the built-in demo config when absent.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Seconds within which a minted tokenId must be exchanged.
    #[arg(long, default_value_t = 30)]
    activation_secs: u64,
    /// Seconds between the server's heartbeats.
    #[arg(long, default_value_t = 25.0)]
    heartbeat_interval_secs: f64,
    /// The heartbeat timeout advertised in the handshake (seconds, >= 1).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    heartbeat_timeout_secs: u32,
    /// The close timeout advertised in the handshake (seconds, >= 1).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    close_timeout_secs: u32,
    /// The `ttl` the app server asks for its users' sessions (seconds).
    #[arg(long, default_value_t = 3600)]
    app_token_ttl_secs: u64,
    /// The static site served by the app server.
    #[arg(long, default_value = "www")]
    www: PathBuf,
    /// The wasm package served at /pkg/ by the app server.
    #[arg(long, default_value = "pkg")]
    pkg: PathBuf,
    /// Turn off the /dev/ routes.
    #[arg(long)]
    no_dev_controls: bool,
    /// Load shedding: admit at most N session-token exchanges per second and answer the rest
    /// 503 with a Retry-After derived from the load; 0 = unlimited. POST /dev/admission
    /// changes it at run time.
    #[arg(long, value_name = "N", default_value_t = 0)]
    admission_per_second: u32,
    /// Longest endpointId, appId, roleId, tokenId, group name or connection id (bytes).
    #[arg(long, value_name = "BYTES", default_value_t = 256)]
    max_id_bytes: usize,
    /// Largest WebSocket message or frame (bytes); a bigger one closes the socket.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    max_socket_message_bytes: usize,
    /// Read buffer of one WebSocket (bytes); a bigger frame grows it, up to
    /// --max-socket-message-bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024)]
    socket_read_buffer_bytes: usize,
    /// Most groups one connection may be in (and endpoints it may observe).
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    max_groups_per_connection: usize,
    /// Packets queued for one socket before it is disconnected as a slow consumer.
    #[arg(long, value_name = "N", default_value_t = 1_024)]
    socket_queue_packets: usize,
    /// Bytes queued for one socket before it is disconnected as a slow consumer.
    #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024)]
    socket_queue_bytes: usize,
    /// Endpoints /dev/stats keeps counters for (least recently active evicted beyond).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    stats_max_endpoints: usize,
    /// Minted, unexchanged tokenIds remembered (oldest forgotten beyond).
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    max_pending_tokens: usize,
    /// Handshakes waiting for their WebSocket (handshakes beyond answer 503).
    #[arg(long, value_name = "N", default_value_t = 50_000)]
    max_pending_sockets: usize,
    /// Live App-Token sessions (exchanges beyond answer 503).
    #[arg(long, value_name = "N", default_value_t = 200_000)]
    max_sessions: usize,
    /// Open TCP connections per listener, WebSockets included (new ones beyond get 503 and
    /// are closed; lowered to fit the open-file limit).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    max_connections: usize,
    /// Open TCP connections on the app server's listener (default: --max-connections). The
    /// API listener gets the descriptors the app server's bound leaves.
    #[arg(long, value_name = "N")]
    max_app_connections: Option<usize>,
    /// Seconds a connection has to send a request head, and the longest idle keep-alive.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    header_read_timeout_secs: f64,
    /// Password verifications (argon2) at once; default: the number of cores.
    #[arg(long, value_name = "N")]
    login_concurrency: Option<usize>,
    /// Failed logins per user name in a burst (then one per --login-refill-secs).
    #[arg(long, value_name = "N", default_value_t = 5)]
    login_burst_per_user: u32,
    /// Failed logins per peer address in a burst (then one per --login-refill-secs).
    #[arg(long, value_name = "N", default_value_t = 20)]
    login_burst_per_peer: u32,
    /// Seconds for one failed-login allowance to come back.
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    login_refill_secs: f64,
    /// Lifetime of an app-server session and its cookie (Max-Age), seconds.
    #[arg(long, value_name = "SECS", default_value_t = 86_400)]
    session_max_age_secs: u64,
    /// Signed-in app-server sessions kept (the oldest end beyond).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    max_app_sessions: usize,
    /// Print the argon2id PHC hash of this password (for `password_hash` in a config) and exit.
    #[arg(long, value_name = "PASSWORD")]
    hash_password: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if let Some(password) = &args.hash_password {
        return match hash_demo_password(password) {
            Ok(hash) => {
                println!("{hash}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("{error}");
                ExitCode::FAILURE
            }
        };
    }
    if !(args.heartbeat_interval_secs.is_finite() && args.heartbeat_interval_secs >= 0.05) {
        eprintln!("--heartbeat-interval-secs must be at least 0.05");
        return ExitCode::FAILURE;
    }

    if args.heartbeat_timeout_secs < 10 || args.close_timeout_secs < 10 {
        eprintln!(
            "warning: advertising a timeout under 10 s: fine for tests of this project's client, \
             but respoke.js 1.56 expects two-digit timeouts"
        );
    }
    for (flag, secs) in [
        ("--header-read-timeout-secs", args.header_read_timeout_secs),
        ("--login-refill-secs", args.login_refill_secs),
    ] {
        if !(secs.is_finite() && (0.01..=86_400.0).contains(&secs)) {
            eprintln!("{flag} must be between 0.01 and 86400");
            return ExitCode::FAILURE;
        }
    }
    let (config, builtin) = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(config) => (config, false),
            Err(error) => {
                eprintln!("{error}");
                return ExitCode::FAILURE;
            }
        },
        None => (Config::demo(), true),
    };
    let settings = Settings {
        activation: Duration::from_secs(args.activation_secs),
        heartbeat_interval: Duration::from_secs_f64(args.heartbeat_interval_secs),
        heartbeat_timeout_secs: args.heartbeat_timeout_secs,
        close_timeout_secs: args.close_timeout_secs,
        app_server_ttl_secs: args.app_token_ttl_secs,
        dev_controls: !args.no_dev_controls,
        admission_per_second: NonZeroU32::new(args.admission_per_second),
        limits: limits(&args),
        ..Settings::default()
    };
    let first_app = config.apps.first().cloned();
    let users: Vec<String> = config.users.iter().map(|u| u.name.clone()).collect();
    let admins: Vec<String> = config.admins.iter().map(|u| u.name.clone()).collect();
    let turn = config.turn.clone();
    let running = match start(ServerOptions {
        api_addr: args.api_addr,
        app_addr: Some(args.app_addr),
        config,
        settings: settings.clone(),
        www: args.www.clone(),
        pkg: args.pkg.clone(),
    })
    .await
    {
        Ok(running) => running,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };

    let api = running.api_addr;
    let app_url = running
        .app_addr
        .map(|a| format!("http://{a}/"))
        .unwrap_or_default();
    println!("respoke-devserver");
    println!("  Respoke API (baseURL): http://{api}");
    println!("  socket.io handshake:   http://{api}/socket.io/1/");
    if settings.dev_controls {
        println!("  dev controls:          http://{api}/dev/stats (loopback only)");
    }
    println!(
        "  example app:           {app_url}  (www: {}, /pkg/: {})",
        args.www.display(),
        args.pkg.display()
    );
    if let Some(app) = first_app {
        println!("  app id:                {}", app.id);
        println!(
            "  app secret:            {}  (stays on the server)",
            app.secret
        );
        if let Some(role) = app.roles.first() {
            println!("  role id:               {} ({})", role.id, role.name);
        }
        println!("  development mode:      {}", app.development_mode);
    }
    if builtin {
        println!("  (built-in demo config: app {DEMO_APP_ID}, secret {DEMO_APP_SECRET}, role {DEMO_ROLE_ID})");
        for (name, password) in DEMO_USERS {
            println!("  demo user:             {name} / {password}");
        }
        println!("  test users:            test1@example.com .. test{TEST_USER_COUNT}@example.com / {TEST_PASSWORD}");
        println!(
            "  demo admin:            {} / {}  (POST /v1/adminsessions -> Admin-Token)",
            DEMO_ADMIN.0, DEMO_ADMIN.1
        );
    } else {
        println!("  users:                 {}", users.join(", "));
        if !admins.is_empty() {
            println!("  admins:                {}", admins.join(", "));
        }
    }
    match &turn {
        Some(turn) => println!(
            "  TURN (GET /v1/turn):   {} (credentials valid {} s)",
            turn.uris.join(" "),
            turn.ttl
        ),
        None => println!("  TURN (GET /v1/turn):   none configured"),
    }
    println!(
        "  heartbeats every {:?}, timeout {} s; tokenIds must be exchanged within {} s",
        settings.heartbeat_interval, settings.heartbeat_timeout_secs, args.activation_secs
    );
    if let Some(rate) = settings.admission_per_second {
        println!(
            "  load shedding:         at most {rate} session-token exchanges/s; 503 + Retry-After by load beyond"
        );
    }

    let limits = &settings.limits;
    println!(
        "  limits:                ids {} B, socket messages {} B, socket queue {} packets / {} B, \
         {} connections, header timeout {:?}, {} verifies at once (see README \"Limits\")",
        limits.max_id_bytes,
        limits.max_socket_message_bytes,
        limits.socket_queue_packets,
        limits.socket_queue_bytes,
        limits.max_connections,
        limits.header_read_timeout,
        limits.login_concurrency
    );

    shutdown_signal().await;
    println!("shutting down");
    running.shutdown(Duration::from_secs(3)).await;
    ExitCode::SUCCESS
}

/// The bounds, from the flags.
fn limits(args: &Args) -> Limits {
    let defaults = Limits::default();
    Limits {
        max_id_bytes: args.max_id_bytes.max(1),
        max_socket_message_bytes: args.max_socket_message_bytes.max(1024),
        socket_read_buffer_bytes: args.socket_read_buffer_bytes.clamp(256, 1024 * 1024),
        max_groups_per_connection: args.max_groups_per_connection,
        socket_queue_packets: args.socket_queue_packets.max(1),
        socket_queue_bytes: args.socket_queue_bytes.max(1),
        stats_max_endpoints: args.stats_max_endpoints.max(1),
        max_pending_tokens: args.max_pending_tokens.max(1),
        max_pending_sockets: args.max_pending_sockets.max(1),
        max_sessions: args.max_sessions.max(1),
        max_connections: args.max_connections.max(1),
        max_app_connections: args.max_app_connections.map(|n| n.max(1)),
        header_read_timeout: Duration::from_secs_f64(args.header_read_timeout_secs),
        login_concurrency: args
            .login_concurrency
            .unwrap_or(defaults.login_concurrency)
            .max(1),
        login_burst_per_user: args.login_burst_per_user.max(1),
        login_burst_per_peer: args.login_burst_per_peer.max(1),
        login_refill: Duration::from_secs_f64(args.login_refill_secs),
        session_max_age: Duration::from_secs(args.session_max_age_secs.max(1)),
        max_app_sessions: args.max_app_sessions.max(1),
        ..defaults
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

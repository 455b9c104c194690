//! `respoke-devserver`: the Respoke-compatible dev server and the example app server.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use respoke_devserver::config::{
    hash_demo_password, Config, Settings, DEMO_ADMIN, DEMO_APP_ID, DEMO_APP_SECRET, DEMO_ROLE_ID,
    DEMO_USERS, TEST_PASSWORD, TEST_USER_COUNT,
};
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

    shutdown_signal().await;
    println!("shutting down");
    running.shutdown(Duration::from_secs(3)).await;
    ExitCode::SUCCESS
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

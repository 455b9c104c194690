//! Load generator for the dev server (issue 6, item 5). Loopback only, bounded in count and
//! time, stops by itself.
//!
//! 1. Brokered exchanges per second: `--workers` tasks loop `POST /v1/tokens` (App-Secret) then
//!    `POST /v1/session-tokens` for `--exchange-secs`; the baseline, measured the same way in
//!    the same run, is a trivial `GET /dev/state` round trip. Then minting alone. Completions
//!    are also counted per second, which shows the server slowing down as tokens pile up.
//! 2. Concurrent sockets: `--sockets` clients each mint, exchange, handshake, open the
//!    WebSocket, wait for `1::` and register (`post /v1/connections`, ack); all are held for
//!    `--hold-secs` while the server's `/dev/stats` is read, then closed with `0::`.
//!
//! 3. With `--bad-input --app URL`, only the bad-input-and-load measurements instead (see
//!    [`bad`]; run them against a fresh server): login flood, 1,100 idle connections,
//!    exchanges per second at 0 / 10k / 50k live sessions, a consumer that stops reading.
//!
//! 4. With `--compare`, only the dev server beside socket.io 0.9.19 instead (see [`servers`]):
//!    sockets held and RSS per socket, then handshakes per second, for both in the same run.
//!
//! ```text
//! load --api http://127.0.0.1:3231 [--sockets 5000] [--exchange-secs 5] [--workers 32]
//!      [--open-concurrency 64] [--hold-secs 5] [--max-secs 240] [--server-pid PID]
//!      [--json PATH]
//! load --bad-input --api http://127.0.0.1:3231 --app http://127.0.0.1:8331
//!      [--flood-secs 10] [--server-pid PID] [--max-secs 240] [--json PATH]
//! load --compare --devserver http://127.0.0.1:3331 --devserver-pid PID
//!      --socketio http://127.0.0.1:3332 --socketio-pid PID [--sources 8]
//!      [--hold-sockets 9000] [--hold-secs 30] [--open-concurrency 64] [--open-secs 120]
//!      [--max-server-rss-mb 8192] [--handshake-secs 5] [--handshake-concurrency 64]
//!      [--rounds 2] [--max-secs 600] [--json PATH]
//! ```

mod api;
mod bad;
mod procfs;
mod rate;
mod servers;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use respoke_protocol::handshake::{Handshake, HandshakeQuery};
use respoke_protocol::packet::Packet;
use respoke_protocol::sails::{Method, Request};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Semaphore};
use tokio_tungstenite::tungstenite::Message;

use crate::api::{exchange, mint, Failure, SDK};
use crate::procfs::{nofile_limit, rss_bytes_per, rss_kb};
use crate::rate::{measure_rate, Rate};

struct Args {
    api: String,
    sockets: usize,
    exchange_secs: u64,
    workers: usize,
    open_concurrency: usize,
    hold_secs: u64,
    max_secs: u64,
    server_pid: Option<u32>,
    json: Option<String>,
    bad_input: bool,
    app: Option<String>,
    flood_secs: u64,
    compare: Option<servers::CompareArgs>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        api: "http://127.0.0.1:3231".into(),
        sockets: 5_000,
        exchange_secs: 5,
        workers: 32,
        open_concurrency: 64,
        hold_secs: 5,
        max_secs: 240,
        server_pid: None,
        json: None,
        bad_input: false,
        app: None,
        flood_secs: 10,
        compare: None,
    };
    let mut compare = servers::CompareArgs {
        targets: Vec::new(),
        sources: 8,
        handshake_secs: 5,
        handshake_concurrency: 64,
        rounds: 2,
        hold_sockets: 9_000,
        hold_secs: 30,
        open_concurrency: 64,
        open_secs: 120,
        max_server_rss_mb: 8_192,
    };
    let mut compare_mode = false;
    let mut pids: [Option<u32>; 2] = [None, None];
    let mut bases: [Option<String>; 2] = [None, None];
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |text: String| -> Result<u64, String> {
            text.parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {text}"))
        };
        match flag.as_str() {
            "--api" => args.api = value()?,
            "--sockets" => args.sockets = number(value()?)?.min(20_000) as usize,
            "--exchange-secs" => args.exchange_secs = number(value()?)?.min(60),
            "--workers" => args.workers = number(value()?)?.clamp(1, 256) as usize,
            "--open-concurrency" => {
                args.open_concurrency = number(value()?)?.clamp(1, 1_024) as usize
            }
            "--hold-secs" => args.hold_secs = number(value()?)?.min(300),
            "--max-secs" => args.max_secs = number(value()?)?.clamp(10, 1_800),
            "--server-pid" => args.server_pid = Some(number(value()?)? as u32),
            "--json" => args.json = Some(value()?),
            "--bad-input" => args.bad_input = true,
            "--app" => args.app = Some(value()?),
            "--flood-secs" => args.flood_secs = number(value()?)?.clamp(1, 60),
            "--compare" => compare_mode = true,
            "--devserver" => bases[0] = Some(value()?),
            "--socketio" => bases[1] = Some(value()?),
            "--devserver-pid" => pids[0] = Some(number(value()?)? as u32),
            "--socketio-pid" => pids[1] = Some(number(value()?)? as u32),
            "--sources" => compare.sources = number(value()?)?.clamp(1, 200) as u8,
            "--handshake-secs" => compare.handshake_secs = number(value()?)?.clamp(1, 60),
            "--handshake-concurrency" => {
                compare.handshake_concurrency = number(value()?)?.clamp(1, 1_024) as usize
            }
            "--rounds" => compare.rounds = number(value()?)?.clamp(1, 10) as u32,
            "--hold-sockets" => compare.hold_sockets = number(value()?)?.min(100_000) as usize,
            "--open-secs" => compare.open_secs = number(value()?)?.clamp(1, 600),
            "--max-server-rss-mb" => compare.max_server_rss_mb = number(value()?)?.max(1),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let host = args
        .api
        .strip_prefix("http://")
        .ok_or("--api must be http://<loopback>:<port>")?
        .trim_end_matches('/');
    let loopback =
        host.starts_with("127.") || host.starts_with("localhost:") || host.starts_with("[::1]:");
    if !loopback {
        return Err(format!(
            "refusing {host}: this load generator targets loopback only"
        ));
    }
    args.api = format!("http://{host}");
    if let Some(app) = &args.app {
        let app_host = app
            .strip_prefix("http://")
            .ok_or("--app must be http://<loopback>:<port>")?
            .trim_end_matches('/');
        if !(app_host.starts_with("127.") || app_host.starts_with("localhost:")) {
            return Err(format!("refusing {app_host}: loopback only"));
        }
        args.app = Some(format!("http://{app_host}"));
    }
    if compare_mode {
        compare.open_concurrency = args.open_concurrency;
        compare.hold_secs = args.hold_secs;
        let names = ["dev server", "socket.io 0.9.19"];
        let kinds = [servers::Kind::Devserver, servers::Kind::Socketio];
        for i in 0..2 {
            let Some(base) = bases[i].take() else {
                return Err("--compare needs --devserver URL and --socketio URL".into());
            };
            let host = base
                .strip_prefix("http://")
                .ok_or("--devserver / --socketio must be http://127.x.x.x:<port>")?
                .trim_end_matches('/');
            let addr: std::net::SocketAddr = host
                .parse()
                .map_err(|_| format!("{host}: not an address:port"))?;
            if !addr.ip().is_loopback() {
                return Err(format!("refusing {host}: loopback only"));
            }
            compare.targets.push(servers::Target {
                name: names[i].into(),
                kind: kinds[i],
                base: format!("http://{host}"),
                addr,
                pid: pids[i],
            });
        }
        args.compare = Some(compare);
    }
    if args.bad_input && args.app.is_none() {
        return Err("--bad-input needs --app (the login flood goes to the app server)".into());
    }
    Ok(args)
}

/// One held socket: its writer, to close it.
type Closer = mpsc::UnboundedSender<()>;

/// Opens one registered socket and spawns the task that holds it (echoing heartbeats) until
/// told to close.
async fn open_socket(
    http: &reqwest::Client,
    api: &str,
    index: usize,
    held: Arc<AtomicU64>,
) -> Result<Closer, Failure> {
    let endpoint_id = format!("load{index}@example.com");
    let token_id = mint(http, api, &endpoint_id).await?;
    let app_token = exchange(http, api, &token_id).await?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let query = HandshakeQuery::new(app_token.clone(), SDK, now_ms);
    let reply = http
        .get(format!("{api}{}", query.handshake_path()))
        .send()
        .await?;
    if !reply.status().is_success() {
        return Err(Failure(format!("handshake -> {}", reply.status())));
    }
    let handshake = Handshake::parse(&reply.text().await?)?;
    let ws_url = format!(
        "{}{}",
        api.replacen("http://", "ws://", 1),
        query.websocket_path(&handshake.sid)
    );
    let (socket, _) = tokio_tungstenite::connect_async(ws_url).await?;
    let (mut sink, mut stream) = socket.split();
    // Wait for `1::`, register, wait for the ack.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut registered = false;
    while !registered {
        let frame = tokio::time::timeout_at(deadline, stream.next())
            .await
            .map_err(|_| Failure("no 1:: / ack within 20 s".into()))?
            .ok_or_else(|| Failure("socket closed while registering".into()))??;
        let Message::Text(text) = frame else { continue };
        match Packet::decode(text.as_str())? {
            Packet::Connect { .. } => {
                let request = Request::new(Method::Post, "/v1/connections")
                    .with_data(json!({ "capabilities": { "iceFinalCandidates": true } }))
                    .with_header("App-Token", app_token.as_str())
                    .with_header("Respoke-SDK", SDK);
                sink.send(Message::text(request.to_packet(1).encode()))
                    .await?;
            }
            Packet::Heartbeat => sink.send(Message::text("2::")).await?,
            Packet::Ack { ack_id: 1, .. } => registered = true,
            Packet::Disconnect { .. } | Packet::Error { .. } => {
                return Err(Failure("refused while registering".into()))
            }
            _ => {}
        }
    }
    held.fetch_add(1, Ordering::Relaxed);
    let (close_tx, mut close_rx) = mpsc::unbounded_channel::<()>();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = close_rx.recv() => {
                    let _ = sink.send(Message::text("0::")).await;
                    let _ = sink.close().await;
                    break;
                }
                frame = stream.next() => match frame {
                    Some(Ok(Message::Text(text))) if text.as_str() == "2::" => {
                        if sink.send(Message::text("2::")).await.is_err() { break; }
                    }
                    Some(Ok(_)) => {}
                    _ => break,
                }
            }
        }
        held.fetch_sub(1, Ordering::Relaxed);
    });
    Ok(close_tx)
}

async fn dev_stats(http: &reqwest::Client, api: &str) -> Value {
    match http.get(format!("{api}/dev/stats")).send().await {
        Ok(reply) => reply.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct SocketReport {
    target: usize,
    opened: u64,
    failed: u64,
    first_error: Option<String>,
    open_seconds: f64,
    opens_per_second: f64,
    server_live_sockets: Option<u64>,
    server_live_sockets_after_hold: Option<u64>,
    server_live_sockets_after_close: Option<u64>,
    server_rss_kb_before: Option<u64>,
    server_rss_kb_held: Option<u64>,
    server_rss_bytes_per_socket: Option<f64>,
    nofile_limit: Option<u64>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    api: String,
    baseline_requests: Rate,
    mint_only: Rate,
    brokered_exchanges: Rate,
    exchange_vs_baseline: f64,
    sockets: SocketReport,
}

async fn run(args: Args) -> Result<Report, Failure> {
    let api = args.api.clone();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(20))
        .build()?;
    // The server must be there, and must be ours (dev controls on).
    let state = http.get(format!("{api}/dev/state")).send().await?;
    if !state.status().is_success() {
        return Err(Failure(format!("GET /dev/state -> {}", state.status())));
    }
    let mut report = Report {
        api: api.clone(),
        ..Report::default()
    };

    let (h, a) = (http.clone(), api.clone());
    report.baseline_requests = measure_rate(args.workers, args.exchange_secs, move |_| {
        let (h, a) = (h.clone(), a.clone());
        async move {
            let reply = h.get(format!("{a}/dev/state")).send().await?;
            reply.bytes().await?;
            Ok(())
        }
    })
    .await;
    let (h, a) = (http.clone(), api.clone());
    report.brokered_exchanges = measure_rate(args.workers, args.exchange_secs, move |n| {
        let (h, a) = (h.clone(), a.clone());
        async move {
            let token_id = mint(&h, &a, &format!("rate{}@example.com", n % 1_000)).await?;
            exchange(&h, &a, &token_id).await?;
            Ok(())
        }
    })
    .await;
    let (h, a) = (http.clone(), api.clone());
    report.mint_only = measure_rate(args.workers, args.exchange_secs, move |n| {
        let (h, a) = (h.clone(), a.clone());
        async move {
            mint(&h, &a, &format!("rate{}@example.com", n % 1_000)).await?;
            Ok(())
        }
    })
    .await;
    report.exchange_vs_baseline =
        report.brokered_exchanges.per_second / report.baseline_requests.per_second.max(1e-9);
    println!(
        "baseline GET /dev/state: {:.0}/s; brokered mint+exchange: {:.0}/s ({:.2} x baseline, per second {:?}); then mint only: {:.0}/s (per second {:?})",
        report.baseline_requests.per_second,
        report.brokered_exchanges.per_second,
        report.exchange_vs_baseline,
        report.brokered_exchanges.each_second,
        report.mint_only.per_second,
        report.mint_only.each_second,
    );

    // Sockets.
    let sockets = &mut report.sockets;
    sockets.target = args.sockets;
    sockets.nofile_limit = nofile_limit();
    sockets.server_rss_kb_before = rss_kb(args.server_pid);
    let held = Arc::new(AtomicU64::new(0));
    let permits = Arc::new(Semaphore::new(args.open_concurrency));
    let started = Instant::now();
    let mut opening = Vec::with_capacity(args.sockets);
    for index in 0..args.sockets {
        let permit = permits.clone().acquire_owned().await.expect("open");
        let (h, a, held) = (http.clone(), api.clone(), held.clone());
        opening.push(tokio::spawn(async move {
            let result = open_socket(&h, &a, index, held).await;
            drop(permit);
            result
        }));
    }
    let mut closers = Vec::with_capacity(args.sockets);
    for task in opening {
        match task.await {
            Ok(Ok(closer)) => closers.push(closer),
            Ok(Err(Failure(message))) => {
                sockets.failed += 1;
                sockets.first_error.get_or_insert(message);
            }
            Err(error) => {
                sockets.failed += 1;
                sockets.first_error.get_or_insert(error.to_string());
            }
        }
    }
    sockets.open_seconds = started.elapsed().as_secs_f64();
    sockets.opened = closers.len() as u64;
    sockets.opens_per_second = sockets.opened as f64 / sockets.open_seconds;
    let live = |stats: &Value| stats["liveSockets"].as_u64();
    sockets.server_live_sockets = live(&dev_stats(&http, &api).await);
    println!(
        "sockets: {} of {} registered in {:.1} s ({:.0}/s), {} failed{}; server says {:?} live",
        sockets.opened,
        args.sockets,
        sockets.open_seconds,
        sockets.opens_per_second,
        sockets.failed,
        sockets
            .first_error
            .as_deref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default(),
        sockets.server_live_sockets
    );
    tokio::time::sleep(Duration::from_secs(args.hold_secs)).await;
    sockets.server_live_sockets_after_hold = live(&dev_stats(&http, &api).await);
    sockets.server_rss_kb_held = rss_kb(args.server_pid);
    sockets.server_rss_bytes_per_socket = rss_bytes_per(
        sockets.server_rss_kb_before,
        sockets.server_rss_kb_held,
        sockets.opened,
    );
    println!(
        "held {} s: server says {:?} live; client holds {}",
        args.hold_secs,
        sockets.server_live_sockets_after_hold,
        held.load(Ordering::Relaxed)
    );
    for closer in &closers {
        let _ = closer.send(());
    }
    let close_deadline = Instant::now() + Duration::from_secs(20);
    while held.load(Ordering::Relaxed) > 0 && Instant::now() < close_deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The server notices closes asynchronously.
    for _ in 0..50 {
        sockets.server_live_sockets_after_close = live(&dev_stats(&http, &api).await);
        if sockets.server_live_sockets_after_close == Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "closed: server says {:?} live",
        sockets.server_live_sockets_after_close
    );
    Ok(report)
}

fn main() -> std::process::ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("load: {message}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let max = Duration::from_secs(args.max_secs);
    let json_path = args.json.clone();
    // Each held socket is a descriptor here too.
    if let Err(error) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("load: cannot raise the open-file limit: {error}");
    }
    if let Some(compare) = args.compare.clone() {
        let result = runtime.block_on(async {
            tokio::time::timeout(max, servers::run(compare))
                .await
                .map_err(|_| Failure("stopped after the --max-secs limit".into()))?
        });
        return finish(runtime, json_path.as_deref(), result);
    }
    if args.bad_input {
        let result = runtime.block_on(async {
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .timeout(Duration::from_secs(20))
                .build()?;
            let app = args.app.clone().unwrap_or_default();
            tokio::time::timeout(
                max,
                bad::run(&http, &args.api, &app, args.server_pid, args.flood_secs),
            )
            .await
            .map_err(|_| Failure("stopped after the --max-secs limit".into()))?
        });
        return finish(runtime, json_path.as_deref(), result);
    }
    let result = runtime.block_on(async {
        tokio::time::timeout(max, run(args))
            .await
            .map_err(|_| Failure("stopped after the --max-secs limit".into()))?
    });
    finish(runtime, json_path.as_deref(), result)
}

/// Writes `report` as JSON to `path` (if any).
fn write_json(path: Option<&str>, report: &impl Serialize) -> std::process::ExitCode {
    if let Some(path) = path {
        let text = serde_json::to_string_pretty(report).expect("the report serializes");
        if let Err(error) = std::fs::write(path, text) {
            eprintln!("load: cannot write {path}: {error}");
            return std::process::ExitCode::from(2);
        }
    }
    std::process::ExitCode::SUCCESS
}

/// The report written (or why there is none), and the runtime stopped: held sockets' tasks are
/// abandoned with it, so everything stops here.
fn finish(
    runtime: tokio::runtime::Runtime,
    json_path: Option<&str>,
    result: Result<impl Serialize, Failure>,
) -> std::process::ExitCode {
    let code = match result {
        Ok(report) => write_json(json_path, &report),
        Err(Failure(message)) => {
            eprintln!("load: {message}");
            std::process::ExitCode::from(1)
        }
    };
    runtime.shutdown_timeout(Duration::from_secs(1));
    code
}

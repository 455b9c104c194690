//! The dev server beside the real socket.io 0.9.19 server (issue 16, item 2): the same load,
//! from this one process, against both, in the same run. Loopback only; bounded in count and
//! time; stops by itself.
//!
//! 1. Sockets held (first, on fresh servers): open `--hold-sockets` sockets (handshake,
//!    WebSocket, `1::`), keep them `--hold-secs` answering heartbeats, read the server's
//!    VmRSS before and after; RSS per socket = (held - idle) / sockets open. Opening stops early
//!    at the target, when the server's RSS passes `--max-server-rss-mb`, or after
//!    `--open-secs`. For the dev server, the App-Tokens (one session per socket, as Respoke
//!    clients have) are minted before the idle RSS is read: their memory is reported apart.
//! 2. Handshakes per second: `--handshake-concurrency` loops of handshake (`GET
//!    /socket.io/1/?t=...` -> `sid:hb:close:transports`), WebSocket upgrade to
//!    `/socket.io/1/websocket/<sid>`, the first `1::`, then close; `--handshake-secs` per server
//!    per round, `--rounds` rounds alternating between the servers (the machine is shared: the
//!    ratio of the sums cancels most of what others ran meanwhile). The dev server's App-Tokens
//!    are minted before the timed part (one per loop): only handshake + upgrade + `1::` is
//!    timed, as for socket.io. The servers' and this process's CPU time over each window is read
//!    from `/proc/<pid>/stat`.
//!
//! Held client sockets are bound to `--sources` loopback addresses (127.0.0.2 ...) so that many
//! sockets do not run out of ephemeral ports from one source address; the handshake loops'
//! short-lived WebSockets connect from 127.0.0.1 with a kernel-chosen port (their `GET`s go
//! over keep-alive connections from the source addresses).

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use respoke_protocol::handshake::{Handshake, HandshakeQuery};
use serde::Serialize;
use serde_json::Value;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::api::{exchange, mint, Failure, SDK};
use crate::procfs::{nofile_limit, rss_bytes_per, rss_kb};
use crate::rate::{measure_rate, Rate};

/// Locks a mutex, recovering from poisoning.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Which server a target is: the handshake query differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// The dev server: `app-token` and `Respoke-SDK` in the query.
    Devserver,
    /// socket.io 0.9.19: `?t=` only.
    Socketio,
}

/// One server under test.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub kind: Kind,
    pub base: String,
    pub addr: SocketAddr,
    pub pid: Option<u32>,
}

/// What the comparison is told.
#[derive(Debug, Clone)]
pub struct CompareArgs {
    pub targets: Vec<Target>,
    pub sources: u8,
    pub handshake_secs: u64,
    pub handshake_concurrency: usize,
    pub rounds: u32,
    pub hold_sockets: usize,
    pub hold_secs: u64,
    pub open_concurrency: usize,
    pub open_secs: u64,
    pub max_server_rss_mb: u64,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hold {
    pub target: usize,
    pub opened: u64,
    pub failed: u64,
    pub first_error: Option<String>,
    /// Why opening stopped: "target", "server RSS bound", "time bound".
    pub stopped_by: String,
    pub open_seconds: f64,
    pub opens_per_second: f64,
    /// Dev server only: RSS before the sessions were minted.
    pub rss_kb_before_sessions: Option<u64>,
    /// RSS with no socket open (after the dev server's sessions were minted).
    pub rss_kb_idle: Option<u64>,
    /// RSS after holding the sockets for `hold_secs`.
    pub rss_kb_held: Option<u64>,
    pub rss_bytes_per_socket: Option<f64>,
    /// Dev server only: session memory per session (minted before the idle reading).
    pub rss_bytes_per_session: Option<f64>,
    /// Sockets still open on our side at the end of the hold (heartbeats answered).
    pub alive_after_hold: u64,
    /// Dev server only: `/dev/stats` liveSockets at the end of the hold.
    pub server_live_sockets: Option<u64>,
    pub heartbeats_answered: u64,
    pub hold_seconds: f64,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Handshakes {
    /// Summed over the rounds.
    pub completed: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub seconds: f64,
    pub per_second: f64,
    pub each_round: Vec<f64>,
    /// CPU seconds the server used during its windows (utime + stime, all threads).
    pub server_cpu_seconds: Option<f64>,
    /// CPU seconds this load generator used during the same windows.
    pub client_cpu_seconds: Option<f64>,
    /// Handshakes per second of server CPU.
    pub per_server_cpu_second: Option<f64>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerReport {
    pub name: String,
    pub kind: Option<Kind>,
    pub base: String,
    pub hold: Hold,
    pub handshakes: Handshakes,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompareReport {
    pub sources: Vec<String>,
    pub nofile_limit: Option<u64>,
    pub handshake_secs: u64,
    pub handshake_concurrency: usize,
    pub rounds: u32,
    pub hold_secs: u64,
    pub open_concurrency: usize,
    pub max_server_rss_mb: u64,
    pub servers: Vec<ServerReport>,
    /// First server's handshakes/s over the second's (same run).
    pub handshake_ratio: Option<f64>,
    /// The same, per server CPU second.
    pub handshake_ratio_per_cpu: Option<f64>,
    pub cpus: usize,
    /// `/proc/loadavg` when the run began and when it ended (the machine is shared).
    pub load_average_start: Option<String>,
    pub load_average_end: Option<String>,
}

fn load_average() -> Option<String> {
    std::fs::read_to_string("/proc/loadavg").ok().map(|text| {
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// Utime + stime of a process (seconds), from `/proc/<pid>/stat` (USER_HZ = 100 on Linux).
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ")" come: state(3) ... utime(14) stime(15): indexes 11 and 12 here.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// The source addresses client sockets are bound to.
fn source_addresses(count: u8) -> Vec<Ipv4Addr> {
    (0..count.max(1))
        .map(|i| Ipv4Addr::new(127, 0, 0, 2 + i))
        .collect()
}

/// Small client buffers: the generator holds as many sockets as the servers do.
fn client_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
}

type Ws = WebSocketStream<TcpStream>;

/// What one connecting client needs.
#[derive(Clone)]
struct Client {
    target: Target,
    /// One HTTP client (keep-alive pool) per source address.
    http: Vec<reqwest::Client>,
    sources: Vec<Ipv4Addr>,
}

impl Client {
    fn new(target: Target, sources: &[Ipv4Addr]) -> Result<Client, Failure> {
        let http = sources
            .iter()
            .map(|source| {
                reqwest::Client::builder()
                    .local_address(std::net::IpAddr::V4(*source))
                    .pool_max_idle_per_host(1_024)
                    .timeout(Duration::from_secs(20))
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Client {
            target,
            http,
            sources: sources.to_vec(),
        })
    }

    /// Handshake, WebSocket, `1::` (heartbeats answered meanwhile): the open socket. `bind`:
    /// from one of the source addresses (held sockets); otherwise the kernel picks the source
    /// port at connect time (short-lived sockets: a `bind` to port 0 cannot reuse the ports
    /// that thousands of closed connections leave in TIME_WAIT, and searches for a free one).
    async fn open(&self, n: usize, app_token: Option<&str>, bind: bool) -> Result<Ws, Failure> {
        let which = n % self.sources.len();
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let query = app_token.map(|token| HandshakeQuery::new(token, SDK, now_ms));
        let path = match &query {
            Some(query) => query.handshake_path(),
            None => format!("/socket.io/1/?t={now_ms}"),
        };
        let reply = self.http[which]
            .get(format!("{}{path}", self.target.base))
            .send()
            .await?;
        if !reply.status().is_success() {
            return Err(Failure(format!("handshake -> {}", reply.status())));
        }
        let handshake = Handshake::parse(&reply.text().await?)?;
        let ws_path = match &query {
            Some(query) => query.websocket_path(&handshake.sid),
            None => format!("/socket.io/1/websocket/{}", handshake.sid),
        };
        let socket = TcpSocket::new_v4()?;
        if bind {
            socket.bind(SocketAddr::V4(SocketAddrV4::new(self.sources[which], 0)))?;
        }
        let stream = socket.connect(self.target.addr).await?;
        stream.set_nodelay(true)?;
        let url = format!("ws://{}{ws_path}", self.target.addr);
        let (mut ws, _) =
            tokio_tungstenite::client_async_with_config(url, stream, Some(client_config())).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let frame = tokio::time::timeout_at(deadline, ws.next())
                .await
                .map_err(|_| Failure("no 1:: within 20 s".into()))?
                .ok_or_else(|| Failure("socket closed before 1::".into()))??;
            let Message::Text(text) = frame else { continue };
            match text.as_str() {
                "1::" => return Ok(ws),
                "2::" => ws.send(Message::text("2::")).await?,
                other if other.starts_with("0:") || other.starts_with("7:") => {
                    return Err(Failure(format!("refused: {}", excerpt(other))))
                }
                _ => {}
            }
        }
    }
}

fn excerpt(text: &str) -> String {
    text.chars().take(60).collect()
}

/// Mints and exchanges `count` App-Tokens (one endpoint each) on the dev server.
async fn app_tokens(base: &str, count: usize, prefix: &str) -> Result<Vec<String>, Failure> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(20))
        .build()?;
    let permits = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let permit = permits.clone().acquire_owned().await?;
        let (http, base, endpoint) = (
            http.clone(),
            base.to_owned(),
            format!("{prefix}{i}@example.com"),
        );
        tasks.push(tokio::spawn(async move {
            let token_id = mint(&http, &base, &endpoint).await?;
            let token = exchange(&http, &base, &token_id).await;
            drop(permit);
            token
        }));
    }
    let mut tokens = Vec::with_capacity(count);
    for task in tasks {
        tokens.push(task.await.map_err(|e| Failure(e.to_string()))??);
    }
    Ok(tokens)
}

async fn live_sockets(base: &str) -> Option<u64> {
    let reply = reqwest::get(format!("{base}/dev/stats")).await.ok()?;
    let stats: Value = reply.json().await.ok()?;
    stats["liveSockets"].as_u64()
}

/// Phase 1 for one server.
async fn hold(args: &CompareArgs, target: &Target, sources: &[Ipv4Addr]) -> Result<Hold, Failure> {
    let mut report = Hold {
        target: args.hold_sockets,
        ..Hold::default()
    };
    let tokens = if target.kind == Kind::Devserver {
        report.rss_kb_before_sessions = rss_kb(target.pid);
        let tokens = app_tokens(&target.base, args.hold_sockets, "hold").await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        Some(Arc::new(tokens))
    } else {
        None
    };
    report.rss_kb_idle = rss_kb(target.pid);
    if let (Some(before), Some(idle)) = (report.rss_kb_before_sessions, report.rss_kb_idle) {
        report.rss_bytes_per_session =
            Some(idle.saturating_sub(before) as f64 * 1024.0 / args.hold_sockets.max(1) as f64);
    }
    let client = Client::new(target.clone(), sources)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let alive = Arc::new(AtomicU64::new(0));
    let heartbeats = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let permits = Arc::new(Semaphore::new(args.open_concurrency));
    let started = Instant::now();
    let open_deadline = started + Duration::from_secs(args.open_secs);
    let rss_bound_kb = args.max_server_rss_mb * 1024;
    report.stopped_by = "target".into();
    let mut launched = 0usize;
    while launched < args.hold_sockets {
        if Instant::now() > open_deadline {
            report.stopped_by = "time bound".into();
            break;
        }
        if launched % 256 == 0 && rss_kb(target.pid).is_some_and(|rss| rss > rss_bound_kb) {
            report.stopped_by = "server RSS bound".into();
            break;
        }
        let permit = permits.clone().acquire_owned().await?;
        let (client, tokens, mut stop, alive, heartbeats, failed, first_error) = (
            client.clone(),
            tokens.clone(),
            stop_rx.clone(),
            alive.clone(),
            heartbeats.clone(),
            failed.clone(),
            first_error.clone(),
        );
        let n = launched;
        tokio::spawn(async move {
            let token = tokens.as_ref().map(|t| t[n % t.len()].as_str());
            let opened = client.open(n, token, true).await;
            drop(permit);
            let mut ws = match opened {
                Ok(ws) => ws,
                Err(Failure(message)) => {
                    failed.fetch_add(1, Ordering::Relaxed);
                    let mut first = lock(&first_error);
                    first.get_or_insert(message);
                    return;
                }
            };
            alive.fetch_add(1, Ordering::Relaxed);
            loop {
                tokio::select! {
                    _ = async { let _ = stop.wait_for(|stop| *stop).await; } => {
                        let _ = ws.send(Message::text("0::")).await;
                        let _ = ws.close(None).await;
                        break;
                    }
                    frame = ws.next() => match frame {
                        Some(Ok(Message::Text(text))) if text.as_str() == "2::" => {
                            heartbeats.fetch_add(1, Ordering::Relaxed);
                            if ws.send(Message::text("2::")).await.is_err() { break; }
                        }
                        Some(Ok(_)) => {}
                        _ => break,
                    }
                }
            }
            alive.fetch_sub(1, Ordering::Relaxed);
        });
        launched += 1;
    }
    // Wait for the opens in flight.
    let _ = permits
        .acquire_many(args.open_concurrency as u32)
        .await
        .map(drop);
    report.open_seconds = started.elapsed().as_secs_f64();
    report.failed = failed.load(Ordering::Relaxed);
    report.first_error = lock(&first_error).clone();
    report.opened = launched as u64 - report.failed;
    report.opens_per_second = report.opened as f64 / report.open_seconds.max(1e-9);
    println!(
        "  {}: {} of {} sockets open in {:.1} s ({:.0}/s), {} failed{}; stopped by {}",
        target.name,
        report.opened,
        args.hold_sockets,
        report.open_seconds,
        report.opens_per_second,
        report.failed,
        report
            .first_error
            .as_deref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default(),
        report.stopped_by
    );
    let held_from = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.hold_secs)).await;
    report.hold_seconds = held_from.elapsed().as_secs_f64();
    report.rss_kb_held = rss_kb(target.pid);
    report.alive_after_hold = alive.load(Ordering::Relaxed);
    report.heartbeats_answered = heartbeats.load(Ordering::Relaxed);
    if target.kind == Kind::Devserver {
        report.server_live_sockets = live_sockets(&target.base).await;
    }
    report.rss_bytes_per_socket =
        rss_bytes_per(report.rss_kb_idle, report.rss_kb_held, report.opened);
    println!(
        "  {}: held {:.0} s, {} alive, {} heartbeats answered; RSS idle {:?} kB, held {:?} kB: {:.1} KB per socket",
        target.name,
        report.hold_seconds,
        report.alive_after_hold,
        report.heartbeats_answered,
        report.rss_kb_idle,
        report.rss_kb_held,
        report.rss_bytes_per_socket.unwrap_or(0.0) / 1024.0
    );
    let _ = stop_tx.send(true);
    let close_deadline = Instant::now() + Duration::from_secs(20);
    while alive.load(Ordering::Relaxed) > 0 && Instant::now() < close_deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let the server notice the closes before the next measurement.
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(report)
}

/// One handshake window for one server.
async fn handshake_window(
    args: &CompareArgs,
    client: &Client,
    tokens: Option<Arc<Vec<String>>>,
    first_error: Arc<std::sync::Mutex<Option<String>>>,
) -> (Rate, Option<f64>, Option<f64>) {
    let pid = client.target.pid;
    let (server_before, client_before) = (cpu_seconds(pid), cpu_seconds(None));
    let client = client.clone();
    let rate = measure_rate(args.handshake_concurrency, args.handshake_secs, move |n| {
        let (client, tokens, first_error) = (client.clone(), tokens.clone(), first_error.clone());
        async move {
            let worker = (n / 1_000_000) as usize;
            let token = tokens.as_ref().map(|t| t[worker % t.len()].as_str());
            let result = async {
                let mut ws = client.open(n as usize, token, false).await?;
                ws.close(None).await?;
                Ok::<(), Failure>(())
            }
            .await;
            if let Err(Failure(message)) = &result {
                lock(&first_error).get_or_insert_with(|| message.clone());
            }
            result
        }
    })
    .await;
    let server = cpu_seconds(pid)
        .zip(server_before)
        .map(|(after, before)| after - before);
    let own = cpu_seconds(None)
        .zip(client_before)
        .map(|(after, before)| after - before);
    (rate, server, own)
}

pub async fn run(args: CompareArgs) -> Result<CompareReport, Failure> {
    let sources = source_addresses(args.sources);
    let mut report = CompareReport {
        sources: sources.iter().map(ToString::to_string).collect(),
        nofile_limit: nofile_limit(),
        handshake_secs: args.handshake_secs,
        handshake_concurrency: args.handshake_concurrency,
        rounds: args.rounds,
        hold_secs: args.hold_secs,
        open_concurrency: args.open_concurrency,
        max_server_rss_mb: args.max_server_rss_mb,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        load_average_start: load_average(),
        ..CompareReport::default()
    };
    // Both must answer a handshake before anything is measured.
    for target in &args.targets {
        let client = Client::new(target.clone(), &sources)?;
        let token = match target.kind {
            Kind::Devserver => Some(app_tokens(&target.base, 1, "probe").await?.remove(0)),
            Kind::Socketio => None,
        };
        let mut ws = client
            .open(0, token.as_deref(), true)
            .await
            .map_err(|Failure(e)| {
                Failure(format!("{}: first handshake failed: {e}", target.name))
            })?;
        let _ = ws.close(None).await;
        report.servers.push(ServerReport {
            name: target.name.clone(),
            kind: Some(target.kind),
            base: target.base.clone(),
            ..ServerReport::default()
        });
    }

    println!(
        "sockets held: up to {} per server, {} s each (open concurrency {}, server RSS bound {} MB)",
        args.hold_sockets, args.hold_secs, args.open_concurrency, args.max_server_rss_mb
    );
    for (i, target) in args.targets.iter().enumerate() {
        report.servers[i].hold = hold(&args, target, &sources).await?;
    }

    println!(
        "handshakes: {} loops, {} s per server per round, {} rounds",
        args.handshake_concurrency, args.handshake_secs, args.rounds
    );
    let mut clients = Vec::new();
    for target in &args.targets {
        let tokens = match target.kind {
            Kind::Devserver => Some(Arc::new(
                app_tokens(&target.base, args.handshake_concurrency, "hs").await?,
            )),
            Kind::Socketio => None,
        };
        clients.push((Client::new(target.clone(), &sources)?, tokens));
    }
    let errors: Vec<_> = args
        .targets
        .iter()
        .map(|_| Arc::new(std::sync::Mutex::new(None::<String>)))
        .collect();
    for round in 0..args.rounds {
        for (i, (client, tokens)) in clients.iter().enumerate() {
            let (rate, server_cpu, own_cpu) =
                handshake_window(&args, client, tokens.clone(), errors[i].clone()).await;
            println!(
                "  round {}: {}: {:.0} handshakes/s ({} errors; server CPU {:.1} s, generator CPU {:.1} s)",
                round + 1,
                client.target.name,
                rate.per_second,
                rate.errors,
                server_cpu.unwrap_or(f64::NAN),
                own_cpu.unwrap_or(f64::NAN)
            );
            let h = &mut report.servers[i].handshakes;
            h.completed += rate.completed;
            h.errors += rate.errors;
            h.seconds += rate.seconds;
            h.each_round.push(rate.per_second);
            if let Some(cpu) = server_cpu {
                *h.server_cpu_seconds.get_or_insert(0.0) += cpu;
            }
            if let Some(cpu) = own_cpu {
                *h.client_cpu_seconds.get_or_insert(0.0) += cpu;
            }
            // Closed sockets settle before the other server's window.
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    for (i, server) in report.servers.iter_mut().enumerate() {
        let h = &mut server.handshakes;
        h.per_second = h.completed as f64 / h.seconds.max(1e-9);
        h.per_server_cpu_second = h
            .server_cpu_seconds
            .filter(|cpu| *cpu > 0.0)
            .map(|cpu| h.completed as f64 / cpu);
        h.first_error = lock(&errors[i]).clone();
    }
    report.load_average_end = load_average();
    if let [first, second, ..] = report.servers.as_slice() {
        report.handshake_ratio =
            Some(first.handshakes.per_second / second.handshakes.per_second.max(1e-9));
        report.handshake_ratio_per_cpu = first
            .handshakes
            .per_server_cpu_second
            .zip(second.handshakes.per_server_cpu_second)
            .map(|(a, b)| a / b.max(1e-9));
    }
    Ok(report)
}

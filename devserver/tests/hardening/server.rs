//! The dev server binary as a child process on loopback ports, with its stderr in a file and
//! its RSS readable.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{json, Value};

/// A running `respoke-devserver` child process (killed on drop).
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>` of the Respoke side.
    pub api: String,
    /// `http://127.0.0.1:<port>` of the app server.
    pub app: String,
    /// Where its stderr (the log) goes.
    pub log: PathBuf,
    /// An HTTP client with a timeout.
    pub http: reqwest::Client,
}

/// The hard open-file limit of this process.
pub fn nofile_hard() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(4))
                .and_then(|hard| hard.parse().ok())
        })
        .unwrap_or(4096)
}

/// The soft open-file limit of this process.
pub fn nofile_soft() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|soft| soft.parse().ok())
        })
        .unwrap_or(1024)
}

impl Server {
    /// Starts the server with the built-in demo config and `args`.
    pub fn start(args: &[&str]) -> Server {
        Server::spawn(None, args)
    }

    /// Starts the server with its soft open-file limit set to `soft` (through `prlimit`).
    pub fn start_with_nofile(soft: u64, args: &[&str]) -> Server {
        Server::spawn(Some(soft), args)
    }

    fn spawn(nofile_soft: Option<u64>, args: &[&str]) -> Server {
        static N: AtomicU64 = AtomicU64::new(0);
        let bin = env!("CARGO_BIN_EXE_respoke-devserver");
        let log = std::env::temp_dir().join(format!(
            "respoke-hardening-{}-{}.log",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let mut command = match nofile_soft {
            Some(soft) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={soft}:{}", nofile_hard()))
                    .arg("--")
                    .arg(bin);
                c
            }
            None => Command::new(bin),
        };
        command
            .args([
                "--api-addr",
                "127.0.0.1:0",
                "--app-addr",
                "127.0.0.1:0",
                "--www",
                "does-not-exist-www",
                "--pkg",
                "does-not-exist-pkg",
            ])
            .args(args)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"));
        let mut child = command.spawn().expect("the dev server starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let (mut api, mut app) = (None, None);
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while api.is_none() || app.is_none() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let Ok(line) = rx.recv_timeout(left) else {
                let _ = child.kill();
                let log_text = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("the dev server did not start ({args:?}): {log_text}");
            };
            if let Some(url) = line.split("Respoke API (baseURL): ").nth(1) {
                api = Some(url.trim().to_owned());
            }
            if let Some(rest) = line.split("example app:").nth(1) {
                app = rest
                    .split_whitespace()
                    .next()
                    .map(|u| u.trim_end_matches('/').to_owned());
            }
        }
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || while rx.recv().is_ok() {});
        Server {
            child,
            api: api.unwrap_or_default(),
            app: app.unwrap_or_default(),
            log,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .pool_max_idle_per_host(64)
                .build()
                .expect("client"),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's resident memory in kB, from `/proc/<pid>/status`.
    pub fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("/proc/<pid>/status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// Everything logged so far.
    pub fn log_bytes(&self) -> Vec<u8> {
        std::fs::read(&self.log).unwrap_or_default()
    }

    /// `GET /dev/stats` (or one endpoint's).
    pub async fn stats(&self, endpoint: Option<&str>) -> Value {
        let mut request = self.http.get(format!("{}/dev/stats", self.api));
        if let Some(endpoint) = endpoint {
            request = request.query(&[("endpointId", endpoint)]);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    /// Mints (development mode, no secret) and exchanges; returns the App-Token.
    pub async fn app_token(&self, endpoint: &str) -> String {
        let minted: Value = self
            .http
            .post(format!("{}/v1/tokens", self.api))
            .json(&json!({"appId": respoke_devserver::config::DEMO_APP_ID, "endpointId": endpoint, "ttl": 3600}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token_id = minted["tokenId"].as_str().expect("tokenId").to_owned();
        let reply: Value = self
            .http
            .post(format!("{}/v1/session-tokens", self.api))
            .json(&json!({"tokenId": token_id}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        reply["token"].as_str().expect("App-Token").to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Server {
    /// Handshake + WebSocket for `app_token`; the `1::` is read.
    pub async fn open_socket(&self, app_token: &str) -> crate::common::Ws {
        use respoke_protocol::{Handshake, HandshakeQuery};
        let query = HandshakeQuery::new(app_token, crate::common::SDK, 1);
        let reply = self
            .http
            .get(format!("{}{}", self.api, query.handshake_path()))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        let handshake = Handshake::parse(&reply.text().await.unwrap()).unwrap();
        let url = format!(
            "{}{}",
            self.api.replacen("http://", "ws://", 1),
            query.websocket_path(&handshake.sid)
        );
        let (stream, _) = tokio_tungstenite::connect_async(url).await.expect("ws");
        let mut ws = crate::common::Ws::from_stream(stream);
        assert_eq!(
            ws.next_packet(Duration::from_secs(5)).await,
            Some(respoke_protocol::Packet::connect())
        );
        ws
    }

    /// Live sockets of `endpoint`, as `/dev/stats` says.
    pub async fn live(&self, endpoint: &str) -> u64 {
        self.stats(Some(endpoint)).await["liveSockets"]
            .as_u64()
            .unwrap_or(0)
    }
}

//! The harness: a real server on loopback port 0, a real HTTP client and a real WebSocket
//! client.

use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use respoke_devserver::config::{Config, DEMO_APP_ID, DEMO_APP_SECRET, DEMO_ROLE_ID};
use respoke_devserver::{start, Running, ServerOptions, Settings};
use respoke_protocol::handshake::HandshakeQuery;
use respoke_protocol::sails::{Method, Request, Response};
use respoke_protocol::{Handshake, Packet};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

pub const SDK: &str = "Respoke-Test/1.0 (integration)";

pub struct Harness {
    pub running: Running,
    pub api: String,
    pub app: String,
    pub http: reqwest::Client,
}

pub fn fast_settings() -> Settings {
    Settings {
        heartbeat_interval: Duration::from_millis(300),
        heartbeat_timeout_secs: 2,
        close_timeout_secs: 10,
        ..Settings::default()
    }
}

pub async fn start_with(settings: Settings) -> Harness {
    start_with_config(Config::demo(), settings).await
}

pub async fn start_with_config(config: Config, settings: Settings) -> Harness {
    let running = start(ServerOptions {
        api_addr: "127.0.0.1:0".parse().unwrap(),
        app_addr: Some("127.0.0.1:0".parse().unwrap()),
        config,
        settings,
        www: PathBuf::from("does-not-exist-www"),
        pkg: PathBuf::from("does-not-exist-pkg"),
    })
    .await
    .expect("server starts");
    let api = format!("http://{}", running.api_addr);
    let app = format!("http://{}", running.app_addr.unwrap());
    Harness {
        running,
        api,
        app,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
    }
}

impl Harness {
    /// `POST /v1/tokens` with the App-Secret; returns the tokenId.
    pub async fn mint(&self, endpoint: &str, ttl: u64) -> String {
        let reply = self
            .http
            .post(format!("{}/v1/tokens", self.api))
            .header("App-Secret", DEMO_APP_SECRET)
            .json(&json!({"appId": DEMO_APP_ID, "endpointId": endpoint, "roleId": DEMO_ROLE_ID, "ttl": ttl}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["tokenId"], body["id"]);
        body["tokenId"].as_str().unwrap().to_owned()
    }

    /// `POST /v1/session-tokens`; returns the raw reply.
    pub async fn exchange_raw(&self, token_id: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/session-tokens", self.api))
            .json(&json!({"tokenId": token_id}))
            .send()
            .await
            .unwrap()
    }

    /// Exchanges a tokenId that must succeed; returns the App-Token.
    pub async fn exchange(&self, token_id: &str) -> String {
        let reply = self.exchange_raw(token_id).await;
        assert_eq!(reply.status(), 200);
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["message"], "Authorization successful");
        body["token"].as_str().unwrap().to_owned()
    }

    /// A fresh App-Token for `endpoint`.
    pub async fn app_token(&self, endpoint: &str) -> String {
        let token_id = self.mint(endpoint, 3600).await;
        self.exchange(&token_id).await
    }

    pub async fn handshake_raw(&self, query: &HandshakeQuery) -> reqwest::Response {
        self.http
            .get(format!("{}{}", self.api, query.handshake_path()))
            .send()
            .await
            .unwrap()
    }

    /// Handshake + WebSocket; asserts the first packet is `1::`.
    pub async fn open_socket(&self, app_token: &str) -> Ws {
        self.open_socket_with(HandshakeQuery::new(app_token, SDK, 1))
            .await
    }

    pub async fn open_socket_with(&self, query: HandshakeQuery) -> Ws {
        let reply = self.handshake_raw(&query).await;
        assert_eq!(reply.status(), 200);
        let handshake = Handshake::parse(&reply.text().await.unwrap()).unwrap();
        assert_eq!(handshake.transports, vec!["websocket"]);
        let mut ws = self.connect_ws(&query.websocket_path(&handshake.sid)).await;
        assert_eq!(
            ws.next_packet(Duration::from_secs(5)).await,
            Some(Packet::connect())
        );
        ws
    }

    pub async fn connect_ws(&self, path_and_query: &str) -> Ws {
        let url = format!("ws://{}{}", self.running.api_addr, path_and_query);
        let (stream, _) = connect_async(url).await.expect("websocket connects");
        Ws {
            stream,
            next_ack_id: 1,
            held: std::collections::VecDeque::new(),
        }
    }

    pub async fn dev(&self, path: &str, body: Value) -> Value {
        let reply = self
            .http
            .post(format!("{}/dev/{path}", self.api))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "/dev/{path}");
        reply.json().await.unwrap()
    }

    /// GET `url` and parse the JSON answer (panics if there is none: this is a test).
    pub async fn get_json(&self, url: &str) -> Value {
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn stats(&self) -> Value {
        self.get_json(&format!("{}/dev/stats", self.api)).await
    }

    pub async fn endpoint_stats(&self, endpoint: &str) -> Value {
        self.http
            .get(format!("{}/dev/stats", self.api))
            .query(&[("endpointId", endpoint)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Logs in on the app server; returns the `Cookie` header value.
    pub async fn login(&self, user: &str, password: &str) -> String {
        let reply = self
            .http
            .post(format!("{}/api/login", self.app))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        let set_cookie = reply
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(set_cookie.contains("HttpOnly"));
        assert!(set_cookie.contains("SameSite=Strict"));
        assert!(set_cookie.contains("Path=/"));
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["endpointId"], user);
        set_cookie.split(';').next().unwrap().to_owned()
    }

    /// `POST /api/tokens` with a cookie (or none) and a body.
    pub async fn app_tokens(&self, cookie: Option<&str>, body: Value) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}/api/tokens", self.app))
            .json(&body);
        if let Some(cookie) = cookie {
            request = request.header("Cookie", cookie);
        }
        request.send().await.unwrap()
    }
}

pub struct Ws {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_ack_id: u64,
    /// Events that arrived while a request waited for its ack, handed out first.
    held: std::collections::VecDeque<Packet>,
}

/// What came off the socket.
#[derive(Debug, PartialEq)]
pub enum Received {
    Packet(Packet),
    Closed,
    TimedOut,
}

impl Ws {
    /// Wraps a connected WebSocket (used by tests/hardening, which shares this file).
    #[allow(dead_code)]
    pub fn from_stream(stream: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Ws {
        Ws {
            stream,
            next_ack_id: 1,
            held: std::collections::VecDeque::new(),
        }
    }

    pub async fn send(&mut self, packet: &Packet) {
        self.stream
            .send(Message::Text(packet.encode().into()))
            .await
            .unwrap();
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream.send(Message::Text(text.into())).await.unwrap();
    }

    /// The next packet, the close, or a timeout.
    pub async fn receive(&mut self, within: Duration) -> Received {
        if let Some(packet) = self.held.pop_front() {
            return Received::Packet(packet);
        }
        loop {
            match tokio::time::timeout(within, self.stream.next()).await {
                Err(_) => return Received::TimedOut,
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => {
                    return Received::Closed
                }
                Ok(Some(Ok(Message::Text(text)))) => {
                    return Received::Packet(Packet::decode(text.as_str()).expect("valid packet"))
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    pub async fn next_packet(&mut self, within: Duration) -> Option<Packet> {
        match self.receive(within).await {
            Received::Packet(p) => Some(p),
            _ => None,
        }
    }

    /// The next packet that is not a heartbeat.
    pub async fn next_non_heartbeat(&mut self, within: Duration) -> Received {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.receive(left).await {
                Received::Packet(Packet::Heartbeat) => continue,
                other => return other,
            }
        }
    }

    /// Waits for `0::` then the close (heartbeats skipped).
    pub async fn expect_dropped(&mut self, within: Duration) {
        assert_eq!(
            self.next_non_heartbeat(within).await,
            Received::Packet(Packet::disconnect())
        );
        assert_eq!(self.next_non_heartbeat(within).await, Received::Closed);
    }

    /// Sends a Sails request and waits for its ack; returns the raw ack args. Events that
    /// arrive meanwhile are kept for [`Ws::receive`]; other packets are dropped.
    pub async fn request_raw(&mut self, request: &Request) -> String {
        let id = self.send_request(request).await;
        self.ack(id, Duration::from_secs(5)).await
    }

    /// Sends a Sails request with the next ack id; returns the id.
    pub async fn send_request(&mut self, request: &Request) -> u64 {
        let id = self.next_ack_id;
        self.next_ack_id += 1;
        self.send(&request.to_packet(id)).await;
        id
    }

    /// Waits for the ack of request `id`; returns its raw args. Events that arrive meanwhile
    /// are kept for [`Ws::receive`].
    pub async fn ack(&mut self, id: u64, within: Duration) -> String {
        let deadline = tokio::time::Instant::now() + within;
        let mut events = Vec::new();
        let result = loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let received = match self.stream_receive(left).await {
                Some(received) => received,
                None => break None,
            };
            match received {
                Packet::Ack { ack_id, args, .. } if ack_id == id => break Some(args),
                event @ Packet::Event { .. } => events.push(event),
                _ => continue,
            }
        };
        self.held.extend(events);
        result.unwrap_or_else(|| panic!("no ack for request {id}"))
    }

    /// The next packet straight off the stream (held events not consulted).
    async fn stream_receive(&mut self, within: Duration) -> Option<Packet> {
        loop {
            match tokio::time::timeout(within, self.stream.next()).await {
                Err(_) | Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => {
                    return None
                }
                Ok(Some(Ok(Message::Text(text)))) => {
                    return Some(Packet::decode(text.as_str()).expect("valid packet"))
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    pub async fn request(&mut self, method: Method, url: &str, data: Value) -> Response {
        let request = Request::new(method, url)
            .with_data(data)
            .with_header("Respoke-SDK", SDK);
        let args = self.request_raw(&request).await;
        Response::parse_ack_args(&args).unwrap()
    }
}

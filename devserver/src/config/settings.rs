//! The server's tunables ([`Settings`]) and the bounds on what clients can make it hold
//! ([`Limits`]), with their documented defaults: set from the command line (`main.rs`) and by
//! tests, never from the config file.

use std::num::NonZeroU32;
use std::time::Duration;

/// The server's tunables, with documented defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long after minting a tokenId may be exchanged. Default 30 s.
    pub activation: Duration,
    /// How often the server sends `2::`. Default 25 s.
    pub heartbeat_interval: Duration,
    /// The heartbeat timeout advertised in the handshake (seconds). Default 60.
    pub heartbeat_timeout_secs: u32,
    /// The close timeout advertised in the handshake (seconds). Default 60.
    pub close_timeout_secs: u32,
    /// Request body cap in bytes (413 beyond). Default 64 KiB.
    pub body_limit: usize,
    /// Session lifetime when `/v1/tokens` gives no `ttl` (seconds). Default 21600.
    pub default_ttl_secs: u64,
    /// The `ttl` the example app server asks for (seconds). Default 3600.
    pub app_server_ttl_secs: u64,
    /// Whether `/dev/` routes exist. Default true.
    pub dev_controls: bool,
    /// Load shedding: admit at most this many `POST /v1/session-tokens` a second and answer
    /// the rest `503` with a `Retry-After` derived from the load (see [`crate::admission`]).
    /// Default `None`: unlimited. `POST /dev/admission` changes it at run time; `/dev/reset`
    /// restores this value.
    pub admission_per_second: Option<NonZeroU32>,
    /// The bounds on input, memory and work (see [`Limits`]).
    pub limits: Limits,
}

/// Every bound the server enforces, each checked before the work it guards is done. The
/// README's "Limits" table lists them with their flags.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest endpointId, appId, roleId, tokenId, group name or connection id (bytes): 400
    /// beyond. Default 256. `--max-id-bytes`.
    pub max_id_bytes: usize,
    /// Largest socket.io text frame / WebSocket message (bytes); a bigger one closes the
    /// socket (1009). Default 1 MiB, as engine.io's `maxHttpBufferSize`.
    /// `--max-socket-message-bytes`.
    pub max_socket_message_bytes: usize,
    /// Most entries in one list of a socket request (`groups`, `endpointList`): 400 beyond.
    /// Default 1,000.
    pub max_list_entries: usize,
    /// Most groups one connection may be in, and most endpoints it may observe: 400 beyond.
    /// Default 1,000.
    pub max_groups_per_connection: usize,
    /// Read buffer of one WebSocket (bytes): what one read from the socket takes at most. A
    /// frame larger than this grows it to the frame's size (up to
    /// `max_socket_message_bytes`). Default 4 KiB: tungstenite's own default, 128 KiB, is
    /// zero-filled on the first read and made 137 KB of the dev server's ~140 KB per idle
    /// socket. `--socket-read-buffer-bytes`.
    pub socket_read_buffer_bytes: usize,
    /// Packets waiting to be written to one socket; a consumer that falls further behind is
    /// disconnected (`0::`, logged). Default 1,024. `--socket-queue-packets`.
    pub socket_queue_packets: usize,
    /// Bytes waiting to be written to one socket (same rule). Default 4 MiB.
    /// `--socket-queue-bytes`.
    pub socket_queue_bytes: usize,
    /// Endpoints `/dev/stats` keeps counters for; the least recently active are evicted
    /// beyond (counted in `endpointsEvicted`). Default 10,000. `--stats-max-endpoints`.
    pub stats_max_endpoints: usize,
    /// Minted but unexchanged tokenIds remembered; the oldest are forgotten beyond (counted in
    /// `tokensEvicted`). Default 100,000. `--max-pending-tokens`.
    pub max_pending_tokens: usize,
    /// Handshakes waiting for their WebSocket (each kept up to the close timeout); handshakes
    /// beyond answer 503. Default 50,000. `--max-pending-sockets`.
    pub max_pending_sockets: usize,
    /// Live App-Token sessions; exchanges beyond answer 503. Default 200,000.
    /// `--max-sessions`.
    pub max_sessions: usize,
    /// Open TCP connections per listener; new ones beyond are answered 503 and closed at
    /// once. Default 10,000 (lowered to the open-file limit minus a reserve).
    /// `--max-connections`.
    pub max_connections: usize,
    /// Open TCP connections on the app server's listener; `None`: `max_connections`. The
    /// open-file limit is split between the listeners: the app server's bound first (at most
    /// half), the API listener the rest. `--max-app-connections`.
    pub max_app_connections: Option<usize>,
    /// Time a connection has to send a complete request head, the longest a keep-alive
    /// connection may sit idle between requests, and the longest pause inside a request body
    /// (408). Default 10 s. `--header-read-timeout-secs`.
    pub header_read_timeout: Duration,
    /// Password verifications (argon2) running at once; default: one per core.
    /// `--login-concurrency`.
    pub login_concurrency: usize,
    /// Logins waiting for a verification slot (they hold no argon2 memory); 429 beyond.
    /// Default 64: a test harness signing in many users at once is not refused.
    pub login_queue: usize,
    /// Failed logins allowed per user name in a burst, then one per `login_refill`; 429 with
    /// `Retry-After` beyond. Default 5.
    pub login_burst_per_user: u32,
    /// Failed logins allowed per peer address in a burst (same refill). Default 20.
    pub login_burst_per_peer: u32,
    /// One failed-login allowance comes back every this long. Default 2 s.
    pub login_refill: Duration,
    /// Lifetime of an app-server session cookie (its `Max-Age`, and the server forgets the
    /// session then). Default 24 h. `--session-max-age-secs`.
    pub session_max_age: Duration,
    /// Signed-in app-server sessions kept; the oldest are ended beyond. Default 10,000.
    /// `--max-app-sessions`.
    pub max_app_sessions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_id_bytes: 256,
            max_socket_message_bytes: 1024 * 1024,
            socket_read_buffer_bytes: 4 * 1024,
            max_list_entries: 1_000,
            max_groups_per_connection: 1_000,
            socket_queue_packets: 1_024,
            socket_queue_bytes: 4 * 1024 * 1024,
            stats_max_endpoints: 10_000,
            max_pending_tokens: 100_000,
            max_pending_sockets: 50_000,
            max_sessions: 200_000,
            max_connections: 10_000,
            max_app_connections: None,
            header_read_timeout: Duration::from_secs(10),
            login_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            login_queue: 64,
            login_burst_per_user: 5,
            login_burst_per_peer: 20,
            login_refill: Duration::from_secs(2),
            session_max_age: Duration::from_secs(24 * 3600),
            max_app_sessions: 10_000,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            activation: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(25),
            heartbeat_timeout_secs: 60,
            close_timeout_secs: 60,
            body_limit: 64 * 1024,
            default_ttl_secs: 21_600,
            app_server_ttl_secs: 3_600,
            dev_controls: true,
            admission_per_second: None,
            limits: Limits::default(),
        }
    }
}

//! The Respoke side's state: tokens, sessions, pending socket.io sessions, live sockets, and
//! the development controls' switches (kept in [`crate::respoke::controls`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::admission::Refused;
use crate::config::{Config, Settings};
use crate::ids::{guid, opaque};
use crate::login_gate::LoginGate;
use crate::respoke::admin_sessions::AdminSessions;
use crate::respoke::controls::{Controls, FailPlan};
use crate::respoke::hub::{Delivery, Hub, SocketId};
use crate::respoke::outbox::{socket_queue, CloseReason, SocketReceiver};
use crate::respoke::role_store::RoleStore;
use crate::stats::Stats;
use crate::sync::lock;

/// Minted tokens by id, and their ids in minting order (for expiry from the front, and for
/// forgetting the oldest beyond `--max-pending-tokens`).
#[derive(Debug, Default)]
struct TokenTable {
    records: HashMap<String, TokenRecord>,
    order: VecDeque<(Instant, String)>,
}

/// Live sessions by App-Token, and the same ordered by expiry (O(log n) to add, end or
/// expire one: no scan of all sessions on any path).
#[derive(Debug, Default)]
struct SessionTable {
    by_token: HashMap<String, (Session, ExpiryKey)>,
    by_expiry: BTreeMap<ExpiryKey, String>,
    next_seq: u64,
}

/// When a session expires, and a sequence number that makes the key unique.
type ExpiryKey = (Instant, u64);

impl SessionTable {
    /// Forgets the sessions expired at `now`, soonest first.
    fn expire(&mut self, now: Instant) {
        while let Some(entry) = self.by_expiry.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let app_token = entry.remove();
            self.by_token.remove(&app_token);
        }
    }

    fn insert(&mut self, app_token: String, session: Session) {
        let key = (session.expires_at, self.next_seq);
        self.next_seq += 1;
        self.by_expiry.insert(key, app_token.clone());
        self.by_token.insert(app_token, (session, key));
    }

    fn remove(&mut self, app_token: &str) -> Option<Session> {
        let (session, key) = self.by_token.remove(app_token)?;
        self.by_expiry.remove(&key);
        Some(session)
    }
}

/// Handshaken socket.io sessions waiting for their WebSocket, and their sids in handshake
/// order (each is kept the same time, so they expire from the front).
#[derive(Debug, Default)]
struct PendingTable {
    by_sid: HashMap<String, PendingSocket>,
    order: VecDeque<(Instant, String)>,
}

/// How long spent and expired tokenIds are remembered (to answer "already used").
const TOKEN_MEMORY: Duration = Duration::from_secs(600);

/// A minted tokenId.
#[derive(Debug, Clone)]
struct TokenRecord {
    app_id: String,
    endpoint_id: String,
    role_id: Option<String>,
    ttl_secs: u64,
    minted: Instant,
    used: bool,
}

/// What an App-Token stands for.
#[derive(Debug, Clone)]
pub struct Session {
    /// The app.
    pub app_id: String,
    /// The endpoint (user).
    pub endpoint_id: String,
    /// The role, if any.
    pub role_id: Option<String>,
    /// When the App-Token's `ttl` runs out; its sockets are closed then.
    pub expires_at: Instant,
}

/// A socket.io session between the handshake and the WebSocket.
#[derive(Debug, Clone)]
pub struct PendingSocket {
    /// The App-Token of the handshake.
    pub app_token: String,
    /// Its session.
    pub session: Session,
    /// Whether the handshake lacked `__sails_io_sdk_version=0.10.0` (legacy ack shape).
    pub legacy: bool,
    created: Instant,
}

/// A live socket, as [`RespokeState::register_socket`] hands it to its task.
#[derive(Debug)]
pub struct RegisteredSocket {
    /// The socket's id in the hub.
    pub id: SocketId,
    /// Its connection id (what `post /v1/connections` answers).
    pub connection_id: String,
    /// What others queue for it (bounded), and close requests.
    pub inbox: SocketReceiver,
}

/// Why an exchange of a tokenId failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeError {
    /// Never minted (or forgotten).
    Unknown,
    /// Already exchanged once.
    Used,
    /// Not exchanged within the activation window.
    Expired,
    /// The request named another app than the tokenId's (the tokenId stays unspent).
    WrongApp,
    /// `--max-sessions` sessions are live (the tokenId stays unspent).
    Full,
}

/// A freshly minted tokenId.
#[derive(Debug, Clone)]
pub struct Minted {
    /// The tokenId.
    pub token_id: String,
    /// Unix seconds.
    pub create_time: u64,
    /// `create_time + ttl`.
    pub expiry_time: u64,
}

/// Everything the Respoke side knows.
#[derive(Debug)]
pub struct RespokeState {
    /// Apps and users.
    pub config: Arc<Config>,
    /// Tunables.
    pub settings: Settings,
    /// Counters for `/dev/stats`.
    pub stats: Arc<Stats>,
    /// Every app's roles (`/v1/roles`), seeded from the config.
    pub roles: RoleStore,
    /// Admin-Tokens (`POST /v1/adminsessions`).
    pub admin_sessions: AdminSessions,
    /// The login throttle and verification bound of `POST /v1/adminsessions` (as the app
    /// server's `/api/login` has its own).
    pub admin_gate: LoginGate,
    tokens: Mutex<TokenTable>,
    sessions: Mutex<SessionTable>,
    pending: Mutex<PendingTable>,
    hub: Mutex<Hub>,
    next_socket_id: AtomicU64,
    controls: Mutex<Controls>,
    /// The origin of the time handed to [`crate::admission::Admission`].
    epoch: Instant,
}

impl RespokeState {
    /// A fresh state.
    pub fn new(config: Arc<Config>, settings: Settings, stats: Arc<Stats>) -> RespokeState {
        let state = RespokeState {
            roles: RoleStore::from_config(&config),
            admin_sessions: AdminSessions::default(),
            admin_gate: LoginGate::new(&settings.limits),
            config,
            settings,
            stats,
            tokens: Mutex::default(),
            sessions: Mutex::default(),
            pending: Mutex::default(),
            hub: Mutex::default(),
            next_socket_id: AtomicU64::new(1),
            controls: Mutex::default(),
            epoch: Instant::now(),
        };
        state.reset_controls();
        state
    }

    /// Mints a single-use tokenId.
    pub fn mint_token(
        &self,
        app_id: &str,
        endpoint_id: &str,
        role_id: Option<String>,
        ttl_secs: u64,
    ) -> Minted {
        let token_id = guid();
        let now = Instant::now();
        {
            let mut table = lock(&self.tokens);
            // Forget tokens minted more than TOKEN_MEMORY ago, oldest first: amortized O(1)
            // per mint (a full scan per mint made a busy server slow down as tokens piled up).
            while let Some((minted, _)) = table.order.front() {
                if now.duration_since(*minted) < TOKEN_MEMORY {
                    break;
                }
                if let Some((_, old)) = table.order.pop_front() {
                    table.records.remove(&old);
                }
            }
            // Bounded: beyond the limit the oldest tokenIds are forgotten (they would be the
            // first to expire anyway).
            let max = self.settings.limits.max_pending_tokens.max(1);
            let mut evicted = 0;
            while table.records.len() >= max {
                let Some((_, old)) = table.order.pop_front() else {
                    break;
                };
                table.records.remove(&old);
                evicted += 1;
            }
            self.stats.add(|s| &mut s.tokens_evicted, evicted);
            table.order.push_back((now, token_id.clone()));
            table.records.insert(
                token_id.clone(),
                TokenRecord {
                    app_id: app_id.to_owned(),
                    endpoint_id: endpoint_id.to_owned(),
                    role_id,
                    ttl_secs,
                    minted: now,
                    used: false,
                },
            );
        }
        self.stats.token_issued(endpoint_id);
        let create_time = unix_now();
        Minted {
            token_id,
            create_time,
            expiry_time: create_time.saturating_add(ttl_secs),
        }
    }

    /// Exchanges a tokenId for a new App-Token. Atomic: of concurrent exchanges of one
    /// tokenId exactly one succeeds. With `app_id` (the request named one), a tokenId of
    /// another app is refused and stays unspent. O(log n) in the live sessions.
    pub fn exchange(
        &self,
        token_id: &str,
        app_id: Option<&str>,
    ) -> Result<(String, Session), ExchangeError> {
        let now = Instant::now();
        {
            let mut sessions = lock(&self.sessions);
            sessions.expire(now);
            if sessions.by_token.len() >= self.settings.limits.max_sessions {
                drop(sessions);
                self.stats.count(|s| &mut s.sessions_refused);
                self.stats.exchange_rejected_other();
                return Err(ExchangeError::Full);
            }
        }
        let record = {
            let mut table = lock(&self.tokens);
            let tokens = &mut table.records;
            let Some(record) = tokens.get_mut(token_id) else {
                drop(table);
                self.stats.exchange_rejected_other();
                return Err(ExchangeError::Unknown);
            };
            if record.used {
                let endpoint = record.endpoint_id.clone();
                drop(table);
                self.stats.exchange_rejected_used(&endpoint);
                return Err(ExchangeError::Used);
            }
            if now.duration_since(record.minted) > self.settings.activation {
                drop(table);
                self.stats.exchange_rejected_other();
                return Err(ExchangeError::Expired);
            }
            if app_id.is_some_and(|app_id| !app_id.eq_ignore_ascii_case(&record.app_id)) {
                drop(table);
                self.stats.exchange_rejected_other();
                return Err(ExchangeError::WrongApp);
            }
            record.used = true;
            record.clone()
        };
        let app_token = guid();
        let session = Session {
            app_id: record.app_id,
            endpoint_id: record.endpoint_id,
            role_id: record.role_id,
            expires_at: now + Duration::from_secs(record.ttl_secs.min(10 * 365 * 86_400)),
        };
        lock(&self.sessions).insert(app_token.clone(), session.clone());
        self.stats.exchange_accepted(&session.endpoint_id, token_id);
        Ok((app_token, session))
    }

    /// The live session of an App-Token.
    pub fn session(&self, app_token: &str) -> Option<Session> {
        let sessions = lock(&self.sessions);
        sessions
            .by_token
            .get(app_token)
            .map(|(session, _)| session)
            .filter(|s| s.expires_at > Instant::now())
            .cloned()
    }

    /// Live sessions now (expired ones not yet forgotten included).
    pub fn live_sessions(&self) -> usize {
        lock(&self.sessions).by_token.len()
    }

    /// Ends a session and closes its sockets; returns it if it existed.
    pub fn end_session(&self, app_token: &str) -> Option<Session> {
        let session = lock(&self.sessions).remove(app_token)?;
        lock(&self.hub).close_app_token(app_token, CloseReason::SessionEnded);
        Some(session)
    }

    /// Records a handshake; returns the socket.io session id, or `None` when
    /// `--max-pending-sockets` handshakes already wait for their socket (counted).
    pub fn begin_socket(&self, app_token: &str, session: Session, legacy: bool) -> Option<String> {
        let sid = opaque::<16>();
        let now = Instant::now();
        let keep = Duration::from_secs(u64::from(self.settings.close_timeout_secs.max(10)));
        let mut pending = lock(&self.pending);
        // Expired entries go, and so do taken ones (they left `by_sid` when their socket
        // opened) that reached the front.
        while let Some((created, front)) = pending.order.front() {
            let taken = !pending.by_sid.contains_key(front);
            if !taken && now.duration_since(*created) < keep {
                break;
            }
            if let Some((_, old)) = pending.order.pop_front() {
                pending.by_sid.remove(&old);
            }
        }
        // The bound is on what still waits; `order` may also hold taken sids behind a waiting
        // one, at most three times as many.
        let max = self.settings.limits.max_pending_sockets;
        if pending.by_sid.len() >= max || pending.order.len() >= max.saturating_mul(4) {
            drop(pending);
            self.stats.count(|s| &mut s.handshakes_refused);
            return None;
        }
        pending.order.push_back((now, sid.clone()));
        pending.by_sid.insert(
            sid.clone(),
            PendingSocket {
                app_token: app_token.to_owned(),
                session,
                legacy,
                created: now,
            },
        );
        Some(sid)
    }

    /// Takes the pending session `sid` (each sid opens one socket).
    pub fn take_pending(&self, sid: &str) -> Option<PendingSocket> {
        let keep = Duration::from_secs(u64::from(self.settings.close_timeout_secs.max(10)));
        // Its entry in `order` goes when it reaches the front.
        lock(&self.pending)
            .by_sid
            .remove(sid)
            .filter(|p| p.created.elapsed() < keep)
    }

    /// Registers a live socket of `session` with a fresh connection id and a bounded inbox.
    pub fn register_socket(&self, session: &Session, app_token: &str) -> RegisteredSocket {
        let id = self.next_socket_id.fetch_add(1, Ordering::Relaxed);
        let connection_id = guid();
        let limits = &self.settings.limits;
        let (sender, inbox) = socket_queue(limits.socket_queue_packets, limits.socket_queue_bytes);
        lock(&self.hub).register(
            id,
            &session.app_id,
            &session.endpoint_id,
            app_token,
            &connection_id,
            sender,
        );
        self.stats.socket_opened(&session.endpoint_id);
        RegisteredSocket {
            id,
            connection_id,
            inbox,
        }
    }

    /// Forgets a socket that closed: its groups, its observations, its presence (observers
    /// learn it is `unavailable`).
    pub fn unregister_socket(&self, id: SocketId) {
        let mut hub = lock(&self.hub);
        if let Some((endpoint_id, deliveries)) = hub.unregister(id) {
            hub.dispatch(&deliveries);
            drop(hub);
            self.stats.socket_closed(&endpoint_id);
        }
    }

    /// Runs `operation` on the routing table and dispatches the deliveries it returns, under
    /// one lock (so every socket sees concurrent operations' events in one order). Returns the
    /// operation's result and how many deliveries were queued.
    pub fn route<R>(&self, operation: impl FnOnce(&mut Hub) -> (R, Vec<Delivery>)) -> (R, usize) {
        let mut hub = lock(&self.hub);
        let (result, deliveries) = operation(&mut hub);
        let queued = hub.dispatch(&deliveries);
        (result, queued)
    }

    /// Closes (`0::` then close) every socket, or those of one endpoint; returns how many.
    pub fn drop_sockets(&self, endpoint_id: Option<&str>) -> usize {
        lock(&self.hub).close_endpoint(endpoint_id, CloseReason::Dropped)
    }

    /// Live sockets now.
    pub fn live_sockets(&self) -> usize {
        lock(&self.hub).len()
    }

    /// Starts an outage of `secs`: closes every socket; handshakes and exchanges get 503.
    pub fn start_outage(&self, secs: u64) -> usize {
        lock(&self.controls).start_outage(Instant::now(), secs);
        self.drop_sockets(None)
    }

    /// Seconds left of the outage (rounded up), if one is on.
    pub fn outage_remaining_secs(&self) -> Option<u64> {
        lock(&self.controls).outage_remaining_secs(Instant::now())
    }

    /// Stalls every socket, or one endpoint's, for `secs`.
    pub fn stall(&self, endpoint_id: Option<&str>, secs: u64) {
        lock(&self.controls).stall(Instant::now(), endpoint_id, secs);
    }

    /// Whether sockets of `endpoint_id` are stalled now.
    pub fn is_stalled(&self, endpoint_id: &str) -> bool {
        lock(&self.controls).is_stalled(Instant::now(), endpoint_id)
    }

    /// See [`Controls::set_ack_delay`].
    pub fn set_ack_delay(&self, endpoint_id: Option<&str>, delay: Duration) -> bool {
        lock(&self.controls).set_ack_delay(endpoint_id, delay)
    }

    /// How long acks to `endpoint_id`'s sockets are held back now.
    pub fn ack_delay(&self, endpoint_id: &str) -> Option<Duration> {
        lock(&self.controls).ack_delay(endpoint_id)
    }

    /// Makes the next exchanges fail.
    pub fn fail_session_tokens(&self, plan: FailPlan) {
        lock(&self.controls).fail_session_tokens(plan);
    }

    /// Consumes one injected exchange failure, if any is planned.
    pub fn take_injected_failure(&self) -> Option<FailPlan> {
        lock(&self.controls).take_injected_failure()
    }

    /// Clears outage, stalls, injected failures and ack delays, and puts load shedding back
    /// to the configured [`Settings::admission_per_second`] with a full bucket (not the
    /// counters).
    pub fn reset_controls(&self) {
        let mut controls = lock(&self.controls);
        *controls = Controls::default();
        controls.set_admission(self.settings.admission_per_second, self.epoch.elapsed());
    }

    /// Limits exchanges to `per_second` (a fresh bucket, full), or lifts the limit (`None`).
    pub fn set_admission(&self, per_second: Option<NonZeroU32>) {
        lock(&self.controls).set_admission(per_second, self.epoch.elapsed());
    }

    /// An exchange arrived now: admitted (always, without a limit), or refused with the
    /// load-derived `Retry-After`.
    pub fn admit_exchange(&self) -> Result<(), Refused> {
        // The time is read under the lock, so calls see it in order.
        let mut controls = lock(&self.controls);
        controls.admit_exchange(self.epoch.elapsed())
    }

    /// The controls now, for `/dev/` replies.
    pub fn controls_snapshot(&self) -> serde_json::Value {
        lock(&self.controls).snapshot(Instant::now())
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch.
pub fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;

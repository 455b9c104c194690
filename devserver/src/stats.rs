//! Counters for `GET /dev/stats`, global and per endpoint.
//!
//! Bounded: counters are kept for at most [`Stats::capacity`] endpoints. Beyond, the endpoint
//! touched least recently is evicted (O(log n): a recency index beside the map) and counted in
//! `endpointsEvicted`; the totals are never evicted.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use serde::Serialize;

use crate::sync::lock;

/// How many of an endpoint's last exchanged tokenIds are kept.
pub const LAST_TOKEN_IDS: usize = 5;

/// One endpoint's counters.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointStats {
    /// tokenIds minted by `/v1/tokens`.
    pub tokens_issued: u64,
    /// tokenIds exchanged for an App-Token.
    pub exchanges_accepted: u64,
    /// Exchanges refused because the tokenId was already used.
    pub exchanges_rejected_used: u64,
    /// Sockets open now.
    pub live_sockets: u64,
    /// The most sockets open at the same time.
    pub max_live_sockets: u64,
    /// Sockets ever opened.
    pub sockets_opened: u64,
    /// `POST /api/tokens` calls for this endpoint (the body's `endpointId`, else the browser's
    /// most recently signed-in user), rejected ones included. A 403 (the endpoint asked for is
    /// not signed in in that browser) also counts for the browser's most recently signed-in user.
    pub app_token_requests: u64,
    /// Of those, the ones answered 401 or 403.
    pub app_token_requests_unauthorized: u64,
    /// `DELETE /v1/session-tokens` calls that ended a session.
    pub session_tokens_deleted: u64,
    /// `delete /v1/connections/<id>` requests over the socket.
    pub connections_deleted: u64,
    /// Text messages this endpoint sent: accepted `post /v1/messages` and
    /// `post /v1/channels/<group>/publish/` requests.
    pub messages_sent: u64,
    /// `message` and `pubsub` events written to this endpoint's sockets (one per socket).
    pub messages_delivered: u64,
    /// Requests (events) this endpoint's sockets sent and the server handled, failed ones
    /// included; a stalled socket's ignored requests are not counted.
    pub requests: u64,
    /// The last few tokenIds exchanged, oldest first.
    pub last_token_ids: VecDeque<String>,
}

/// The whole `/dev/stats` document.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StatsSnapshot {
    /// tokenIds minted.
    pub tokens_issued: u64,
    /// Exchanges accepted.
    pub exchanges_accepted: u64,
    /// Exchanges refused because the tokenId was already used.
    pub exchanges_rejected_used: u64,
    /// Exchanges refused for any other reason (unknown, expired, injected failure, outage,
    /// load shedding).
    pub exchanges_rejected_other: u64,
    /// Of those, refused by load shedding (`--admission-per-second`, `/dev/admission`).
    pub exchanges_shed: u64,
    /// Handshakes answered 200.
    pub handshakes: u64,
    /// Handshakes refused (bad App-Token, outage).
    pub handshakes_rejected: u64,
    /// Sockets open now.
    pub live_sockets: u64,
    /// The highest `maxLiveSockets` of any endpoint.
    pub max_live_sockets_per_endpoint: u64,
    /// `POST /api/tokens` calls.
    pub app_token_requests: u64,
    /// Of those, the ones answered 401 or 403.
    pub app_token_requests_unauthorized: u64,
    /// Text messages sent, all endpoints (see [`EndpointStats::messages_sent`]).
    pub messages_sent: u64,
    /// `message` and `pubsub` events written to sockets, all endpoints.
    pub messages_delivered: u64,
    /// Socket requests handled, all endpoints.
    pub requests: u64,
    /// Endpoints with counters now (at most the `--stats-max-endpoints` bound).
    pub endpoints_tracked: u64,
    /// Endpoints whose counters were evicted (least recently active first) to stay in bound.
    pub endpoints_evicted: u64,
    /// Minted tokenIds forgotten before their time to stay in `--max-pending-tokens`.
    pub tokens_evicted: u64,
    /// Exchanges refused because `--max-sessions` sessions were live.
    pub sessions_refused: u64,
    /// Handshakes refused because `--max-pending-sockets` handshakes waited for their socket.
    pub handshakes_refused: u64,
    /// Sockets disconnected because they fell behind (their outgoing queue was full).
    pub slow_consumers_dropped: u64,
    /// Sockets closed for sending a message over `--max-socket-message-bytes`.
    pub oversized_messages: u64,
    /// TCP connections answered 503 and closed because `--max-connections` were open.
    pub connections_shed: u64,
    /// Password verifications (argon2) run by the app server.
    pub password_verifies: u64,
    /// Logins answered 429 (throttled per user or per peer, or the verify queue full).
    pub logins_throttled: u64,
    /// App-server sessions signed in now.
    pub app_sessions: u64,
    /// App-server sessions forgotten because they expired or the table was full.
    pub app_sessions_expired: u64,
    /// Per endpoint, at most `--stats-max-endpoints`. The full document leaves out each
    /// endpoint's `lastTokenIds`: only `?endpointId=` (one endpoint, named) shows them.
    pub endpoints: BTreeMap<String, EndpointStats>,
}

/// An endpoint's counters and when they were last touched.
#[derive(Debug)]
struct Tracked {
    counters: EndpointStats,
    touched: u64,
}

/// The counters behind the lock.
#[derive(Debug, Default)]
struct Inner {
    totals: StatsSnapshot,
    endpoints: HashMap<String, Tracked>,
    /// Touch number -> endpoint: the least recently touched first.
    recency: BTreeMap<u64, String>,
    next_touch: u64,
}

/// The default of [`Stats::capacity`].
pub const DEFAULT_STATS_ENDPOINTS: usize = 10_000;

/// The shared counters.
#[derive(Debug)]
pub struct Stats {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl Default for Stats {
    fn default() -> Self {
        Stats::with_capacity(DEFAULT_STATS_ENDPOINTS)
    }
}

impl Stats {
    /// Counters for at most `capacity` endpoints (at least 1).
    pub fn with_capacity(capacity: usize) -> Stats {
        Stats {
            inner: Mutex::default(),
            capacity: capacity.max(1),
        }
    }

    /// How many endpoints' counters are kept at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn update(
        &self,
        endpoint: Option<&str>,
        f: impl FnOnce(&mut StatsSnapshot, Option<&mut EndpointStats>),
    ) {
        let mut guard = lock(&self.inner);
        let inner = &mut *guard;
        let Some(endpoint) = endpoint else {
            return f(&mut inner.totals, None);
        };
        let touch = inner.next_touch;
        inner.next_touch += 1;
        if let Some(tracked) = inner.endpoints.get(endpoint) {
            inner.recency.remove(&tracked.touched);
        } else {
            while inner.endpoints.len() >= self.capacity {
                let Some((_, oldest)) = inner.recency.pop_first() else {
                    break;
                };
                inner.endpoints.remove(&oldest);
                inner.totals.endpoints_evicted += 1;
            }
        }
        let tracked = inner
            .endpoints
            .entry(endpoint.to_owned())
            .or_insert(Tracked {
                counters: EndpointStats::default(),
                touched: touch,
            });
        tracked.touched = touch;
        inner.recency.insert(touch, endpoint.to_owned());
        f(&mut inner.totals, Some(&mut tracked.counters));
        inner.totals.max_live_sockets_per_endpoint = inner
            .totals
            .max_live_sockets_per_endpoint
            .max(tracked.counters.max_live_sockets);
    }

    /// Adds one to a total counter.
    pub fn count(&self, counter: impl FnOnce(&mut StatsSnapshot) -> &mut u64) {
        self.add(counter, 1);
    }

    /// Adds `n` to a total counter.
    pub fn add(&self, counter: impl FnOnce(&mut StatsSnapshot) -> &mut u64, n: u64) {
        if n > 0 {
            let mut inner = lock(&self.inner);
            *counter(&mut inner.totals) += n;
        }
    }

    /// Sets a gauge.
    pub fn set(&self, gauge: impl FnOnce(&mut StatsSnapshot) -> &mut u64, value: u64) {
        let mut inner = lock(&self.inner);
        *gauge(&mut inner.totals) = value;
    }

    /// A tokenId was minted.
    pub fn token_issued(&self, endpoint: &str) {
        self.update(Some(endpoint), |s, e| {
            s.tokens_issued += 1;
            if let Some(e) = e {
                e.tokens_issued += 1;
            }
        });
    }

    /// A tokenId was exchanged.
    pub fn exchange_accepted(&self, endpoint: &str, token_id: &str) {
        self.update(Some(endpoint), |s, e| {
            s.exchanges_accepted += 1;
            if let Some(e) = e {
                e.exchanges_accepted += 1;
                e.last_token_ids.push_back(token_id.to_owned());
                while e.last_token_ids.len() > LAST_TOKEN_IDS {
                    e.last_token_ids.pop_front();
                }
            }
        });
    }

    /// A spent tokenId was offered again.
    pub fn exchange_rejected_used(&self, endpoint: &str) {
        self.update(Some(endpoint), |s, e| {
            s.exchanges_rejected_used += 1;
            if let Some(e) = e {
                e.exchanges_rejected_used += 1;
            }
        });
    }

    /// An exchange failed for another reason.
    pub fn exchange_rejected_other(&self) {
        self.update(None, |s, _| s.exchanges_rejected_other += 1);
    }

    /// An exchange was refused by load shedding (counted in `exchangesRejectedOther` too).
    pub fn exchange_shed(&self) {
        self.update(None, |s, _| {
            s.exchanges_rejected_other += 1;
            s.exchanges_shed += 1;
        });
    }

    /// A handshake was answered.
    pub fn handshake(&self, accepted: bool) {
        self.update(None, |s, _| {
            if accepted {
                s.handshakes += 1;
            } else {
                s.handshakes_rejected += 1;
            }
        });
    }

    /// A socket opened.
    pub fn socket_opened(&self, endpoint: &str) {
        self.update(Some(endpoint), |s, e| {
            s.live_sockets += 1;
            if let Some(e) = e {
                e.sockets_opened += 1;
                e.live_sockets += 1;
                e.max_live_sockets = e.max_live_sockets.max(e.live_sockets);
            }
        });
    }

    /// A socket closed.
    pub fn socket_closed(&self, endpoint: &str) {
        self.update(Some(endpoint), |s, e| {
            s.live_sockets = s.live_sockets.saturating_sub(1);
            if let Some(e) = e {
                e.live_sockets = e.live_sockets.saturating_sub(1);
            }
        });
    }

    /// `POST /api/tokens` was called (for `endpoint`, when known).
    pub fn app_token_request(&self, endpoint: Option<&str>, unauthorized: bool) {
        self.update(endpoint, |s, e| {
            s.app_token_requests += 1;
            s.app_token_requests_unauthorized += u64::from(unauthorized);
            if let Some(e) = e {
                e.app_token_requests += 1;
                e.app_token_requests_unauthorized += u64::from(unauthorized);
            }
        });
    }

    /// `POST /api/tokens` asked for `asked`, who is not signed in in that browser (a 403).
    /// Counted once in the totals, for `asked`, and also for `current` (the browser's most
    /// recently signed-in user, who asked for someone else's token) when that is another user.
    pub fn app_token_request_forbidden(&self, asked: &str, current: &str) {
        self.app_token_request(Some(asked), true);
        if current != asked {
            self.update(Some(current), |_, e| {
                if let Some(e) = e {
                    e.app_token_requests += 1;
                    e.app_token_requests_unauthorized += 1;
                }
            });
        }
    }

    /// A session was ended by `DELETE /v1/session-tokens`.
    pub fn session_token_deleted(&self, endpoint: &str) {
        self.update(Some(endpoint), |_, e| {
            if let Some(e) = e {
                e.session_tokens_deleted += 1;
            }
        });
    }

    /// A `delete /v1/connections/..` request arrived.
    pub fn connection_deleted(&self, endpoint: &str) {
        self.update(Some(endpoint), |_, e| {
            if let Some(e) = e {
                e.connections_deleted += 1;
            }
        });
    }

    /// `endpoint` sent a text message (1:1 or to a group).
    pub fn message_sent(&self, endpoint: &str) {
        self.update(Some(endpoint), |s, e| {
            s.messages_sent += 1;
            if let Some(e) = e {
                e.messages_sent += 1;
            }
        });
    }

    /// A `message` or `pubsub` event was written to a socket of `endpoint`.
    pub fn message_delivered(&self, endpoint: &str) {
        self.update(Some(endpoint), |s, e| {
            s.messages_delivered += 1;
            if let Some(e) = e {
                e.messages_delivered += 1;
            }
        });
    }

    /// A socket of `endpoint` sent a request that was handled.
    pub fn request_handled(&self, endpoint: &str) {
        self.update(Some(endpoint), |s, e| {
            s.requests += 1;
            if let Some(e) = e {
                e.requests += 1;
            }
        });
    }

    /// A copy of everything (O(n) in the tracked endpoints: for `/dev/stats` only).
    pub fn snapshot(&self) -> StatsSnapshot {
        let inner = lock(&self.inner);
        let mut snapshot = inner.totals.clone();
        snapshot.endpoints_tracked = inner.endpoints.len() as u64;
        snapshot.endpoints = inner
            .endpoints
            .iter()
            .map(|(id, tracked)| (id.clone(), tracked.counters.clone()))
            .collect();
        snapshot
    }

    /// A copy of one endpoint's counters (zeros when unknown or evicted).
    pub fn endpoint(&self, endpoint: &str) -> EndpointStats {
        lock(&self.inner)
            .endpoints
            .get(endpoint)
            .map(|tracked| tracked.counters.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_endpoint_and_max() {
        let stats = Stats::default();
        stats.socket_opened("a");
        stats.socket_opened("a");
        stats.socket_closed("a");
        stats.socket_opened("b");
        for n in 0..7 {
            stats.exchange_accepted("a", &format!("T{n}"));
        }
        let s = stats.snapshot();
        assert_eq!(s.live_sockets, 2);
        assert_eq!(s.max_live_sockets_per_endpoint, 2);
        assert_eq!(s.endpoints["a"].max_live_sockets, 2);
        assert_eq!(s.endpoints["a"].live_sockets, 1);
        assert_eq!(
            s.endpoints["a"].last_token_ids,
            ["T2", "T3", "T4", "T5", "T6"]
        );
        assert_eq!(stats.endpoint("nobody"), EndpointStats::default());
        stats.app_token_request(None, true);
        assert_eq!(stats.snapshot().app_token_requests_unauthorized, 1);
    }

    #[test]
    fn evicts_the_least_recently_active_endpoint() {
        let stats = Stats::with_capacity(3);
        for endpoint in ["a", "b", "c"] {
            stats.token_issued(endpoint);
        }
        stats.token_issued("a"); // a is now the most recent; b the least.
        stats.token_issued("d");
        let s = stats.snapshot();
        assert_eq!(s.endpoints.keys().collect::<Vec<_>>(), ["a", "c", "d"]);
        assert_eq!(s.endpoints_tracked, 3);
        assert_eq!(s.endpoints_evicted, 1);
        assert_eq!(s.tokens_issued, 5, "totals are never evicted");
        assert_eq!(s.endpoints["a"].tokens_issued, 2);
        for n in 0..1_000 {
            stats.token_issued(&format!("e{n}"));
        }
        let s = stats.snapshot();
        assert_eq!(s.endpoints.len(), 3);
        assert_eq!(s.endpoints_evicted, 1_001);
        assert_eq!(lock(&stats.inner).recency.len(), 3);
    }
}

//! What stands before a password verification: a throttle of failed logins per user name and
//! per peer address, and a bound on verifications running and waiting.
//!
//! argon2 is built to cost memory and CPU: one demo-hash verification holds 8 MiB for tens of
//! milliseconds (a hash from a config file may name more). Unbounded, a login flood ran one
//! verification per request on the blocking pool at once, and the process grew by gigabytes.
//! Here:
//!
//! * at most [`Limits::login_concurrency`] verifications run at once (a semaphore taken before
//!   the blocking task is spawned), so argon2's memory is bounded by that many times one
//!   hash's `m`; at most [`Limits::login_queue`] more wait, and the rest are answered 429;
//! * each attempt takes one allowance from its user name's bucket and its peer's bucket
//!   (token buckets, [`Limits::login_burst_per_user`] / [`Limits::login_burst_per_peer`]
//!   deep, one back every [`Limits::login_refill`]) *before* verifying, and a successful login
//!   gives it back: only failures are throttled. An empty bucket is a 429 with `Retry-After`.
//!   Unknown user names share one bucket, so spraying names cannot grow the table; both
//!   tables are bounded.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Limits;
use crate::sync::lock;

/// Most buckets kept per table (user names, peers).
pub const MAX_BUCKETS: usize = 10_000;

/// The peer's address, when the request came over a socket (the per-peer bucket's key).
pub struct Peer(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_canonical()),
        ))
    }
}

/// The bucket key of every user name that is not configured.
const UNKNOWN_USER: &str = "\0unknown";

/// A token bucket of failed-login allowances.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    allowances: f64,
    updated: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant, burst: f64, refill: Duration) {
        let gained = now.duration_since(self.updated).as_secs_f64() / refill.as_secs_f64();
        self.allowances = (self.allowances + gained).min(burst);
        self.updated = now;
    }
}

#[derive(Debug, Default)]
struct Buckets {
    users: HashMap<String, Bucket>,
    peers: HashMap<IpAddr, Bucket>,
}

/// Why a login was not let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Whole seconds until an attempt would be let through (at least 1).
    pub retry_after_secs: u64,
}

/// An attempt let through: verify with [`Attempt::permit`] held, then [`LoginGate::succeeded`]
/// if the password matched.
#[derive(Debug)]
pub struct Attempt {
    /// Held while the verification runs.
    pub permit: OwnedSemaphorePermit,
    user_key: String,
    peer: Option<IpAddr>,
}

/// The throttle and the verification bound (see the module docs).
#[derive(Debug)]
pub struct LoginGate {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    burst_user: f64,
    burst_peer: f64,
    refill: Duration,
    buckets: Mutex<Buckets>,
}

impl LoginGate {
    /// A gate with `limits`' bounds.
    pub fn new(limits: &Limits) -> LoginGate {
        LoginGate {
            slots: Arc::new(Semaphore::new(limits.login_concurrency.max(1))),
            waiting: AtomicUsize::new(0),
            queue: limits.login_queue,
            burst_user: f64::from(limits.login_burst_per_user.max(1)),
            burst_peer: f64::from(limits.login_burst_per_peer.max(1)),
            refill: limits.login_refill.max(Duration::from_millis(1)),
            buckets: Mutex::default(),
        }
    }

    /// Takes an allowance for `user` (`known`: configured) from `peer`, then waits for a
    /// verification slot. Refused with the wait when a bucket is empty or the queue is full.
    pub async fn enter(
        &self,
        user: &str,
        known: bool,
        peer: Option<IpAddr>,
    ) -> Result<Attempt, Throttled> {
        let user_key = if known { user } else { UNKNOWN_USER }.to_owned();
        self.take(&user_key, peer, Instant::now())?;
        let refund = |gate: &LoginGate| gate.give_back(&user_key, peer, Instant::now());
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    refund(self);
                    return Err(Throttled {
                        retry_after_secs: 1,
                    });
                }
                let permit = self.slots.clone().acquire_owned().await;
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                match permit {
                    Ok(permit) => permit,
                    Err(_) => {
                        refund(self);
                        return Err(Throttled {
                            retry_after_secs: 1,
                        });
                    }
                }
            }
        };
        Ok(Attempt {
            permit,
            user_key,
            peer,
        })
    }

    /// The password matched: the attempt's allowances come back.
    pub fn succeeded(&self, attempt: Attempt) {
        self.give_back(&attempt.user_key, attempt.peer, Instant::now());
    }

    fn take(&self, user_key: &str, peer: Option<IpAddr>, now: Instant) -> Result<(), Throttled> {
        let tables_full = Throttled {
            retry_after_secs: self.refill.as_secs().max(1),
        };
        let mut buckets = lock(&self.buckets);
        let Buckets { users, peers } = &mut *buckets;
        let Some(user) = bucket(
            users,
            user_key.to_owned(),
            self.burst_user,
            self.refill,
            now,
        ) else {
            return Err(tables_full);
        };
        let mut unlimited = fake(now);
        let peer = match peer {
            Some(ip) => match bucket(peers, ip, self.burst_peer, self.refill, now) {
                Some(bucket) => bucket,
                None => return Err(tables_full),
            },
            None => &mut unlimited,
        };
        if user.allowances < 1.0 || peer.allowances < 1.0 {
            let missing = (1.0 - user.allowances.min(peer.allowances)).max(0.0);
            let wait = missing * self.refill.as_secs_f64();
            return Err(Throttled {
                retry_after_secs: (wait.ceil() as u64).max(1),
            });
        }
        user.allowances -= 1.0;
        peer.allowances -= 1.0;
        Ok(())
    }

    fn give_back(&self, user_key: &str, peer: Option<IpAddr>, now: Instant) {
        let mut buckets = lock(&self.buckets);
        if let Some(user) = buckets.users.get_mut(user_key) {
            user.refill(now, self.burst_user, self.refill);
            user.allowances = (user.allowances + 1.0).min(self.burst_user);
        }
        if let Some(peer) = peer.and_then(|ip| buckets.peers.get_mut(&ip)) {
            peer.refill(now, self.burst_peer, self.refill);
            peer.allowances = (peer.allowances + 1.0).min(self.burst_peer);
        }
    }
}

/// A bucket that never runs out (no peer address known, e.g. a test without a socket).
fn fake(now: Instant) -> Bucket {
    Bucket {
        allowances: f64::INFINITY,
        updated: now,
    }
}

/// The refilled bucket of `key`, created full; `None` when the table is full of buckets that
/// are still refilling (then everyone new waits).
fn bucket<K: std::hash::Hash + Eq>(
    table: &mut HashMap<K, Bucket>,
    key: K,
    burst: f64,
    refill: Duration,
    now: Instant,
) -> Option<&mut Bucket> {
    if !table.contains_key(&key) && table.len() >= MAX_BUCKETS {
        // Full buckets carry no information: forget them.
        table.retain(|_, b| {
            b.refill(now, burst, refill);
            b.allowances < burst
        });
        if table.len() >= MAX_BUCKETS {
            return None;
        }
    }
    let entry = table.entry(key).or_insert(Bucket {
        allowances: burst,
        updated: now,
    });
    entry.refill(now, burst, refill);
    Some(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            login_concurrency: 1,
            login_queue: 1,
            login_burst_per_user: 3,
            login_burst_per_peer: 5,
            login_refill: Duration::from_secs(60),
            ..Limits::default()
        }
    }

    #[tokio::test]
    async fn failures_are_throttled_per_user_and_per_peer_and_successes_refunded() {
        let gate = LoginGate::new(&limits());
        let peer = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..3 {
            drop(gate.enter("kirk", true, peer).await.unwrap());
        }
        let refused = gate.enter("kirk", true, peer).await.unwrap_err();
        assert!(refused.retry_after_secs >= 1 && refused.retry_after_secs <= 60);
        // Another user from the same peer: two more, then the peer's bucket is empty.
        drop(gate.enter("spock", true, peer).await.unwrap());
        drop(gate.enter("spock", true, peer).await.unwrap());
        assert!(gate.enter("spock", true, peer).await.is_err());
        // Another peer is not affected; successes give their allowance back.
        let other = Some(IpAddr::from([10, 0, 0, 2]));
        for _ in 0..10 {
            let attempt = gate.enter("uhura", true, other).await.unwrap();
            gate.succeeded(attempt);
        }
        // Unknown names share one bucket.
        for n in 0..3 {
            drop(gate.enter(&format!("x{n}"), false, None).await.unwrap());
        }
        assert!(gate.enter("x9", false, None).await.is_err());
        assert_eq!(lock(&gate.buckets).users.len(), 4);
    }

    #[tokio::test]
    async fn the_verify_queue_is_bounded() {
        let gate = Arc::new(LoginGate::new(&Limits {
            login_burst_per_user: 100,
            login_burst_per_peer: 100,
            ..limits()
        }));
        let running = gate.enter("a", true, None).await.unwrap();
        let waiting = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter("a", true, None).await.map(|_| ()) })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            gate.enter("a", true, None).await.unwrap_err(),
            Throttled {
                retry_after_secs: 1
            }
        );
        drop(running);
        assert!(waiting.await.unwrap().is_ok());
    }
}

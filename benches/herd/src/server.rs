//! The server side of the herd: a Respoke front door that admits at most `capacity` session
//! exchanges per second, and the counters that every model's run is judged by.
//!
//! Admission is the dev server's own load shedding, [`respoke_devserver::admission::Admission`]
//! (a token bucket holding one second's worth, and the load-derived `Retry-After`), driven
//! here in virtual time. The three server variants differ only in what the `503` carries.

use std::num::NonZeroU32;
use std::time::Duration;

use respoke_devserver::admission::Admission;
use serde::Serialize;

/// One-way network delay in virtual ms; an HTTP round trip is twice this.
pub const ONE_WAY_MS: u64 = 5;
/// An HTTP round trip (token request, handshake) or the WebSocket upgrade.
pub const RTT_MS: u64 = 2 * ONE_WAY_MS;

/// How a rejected exchange is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Rejection {
    /// `503` without `Retry-After`.
    Plain503,
    /// `503` with `Retry-After: <secs>`.
    RetryAfter {
        /// The header's value.
        secs: u32,
    },
    /// `503` with a `Retry-After` derived from the load: the server hands out future slots
    /// at its capacity rate, and each refused client is told (in whole seconds) when its slot
    /// comes, at least one second ahead. What `respoke-devserver --admission-per-second`
    /// answers.
    LoadDerived,
}

impl Rejection {
    /// Short label for tables.
    pub fn label(self) -> String {
        match self {
            Rejection::Plain503 => "503, no Retry-After".into(),
            Rejection::RetryAfter { secs } => format!("503 + Retry-After: {secs}"),
            Rejection::LoadDerived => "503 + Retry-After by load (dev server)".into(),
        }
    }
}

/// The admission model plus what it saw since the herd was released.
pub struct Server {
    capacity: NonZeroU32,
    rejection: Rejection,
    /// Unlimited (`None`) while the clients first connect; limited from the drop on, with a
    /// full bucket at the drop.
    admission: Option<Admission>,
    /// When the herd was released (the drop).
    origin_ms: u64,
    /// Exchange requests per second since the drop (index = whole seconds since it).
    per_second: Vec<u32>,
    token_requests: u64,
    exchanges: u64,
    rejected: u64,
    /// Virtual ms from the drop to each client's reconnect.
    recovered_after_ms: Vec<u64>,
}

impl Server {
    /// A server that lets everything through until [`Server::release`].
    pub fn new(capacity: NonZeroU32, rejection: Rejection) -> Self {
        Server {
            capacity,
            rejection,
            admission: None,
            origin_ms: 0,
            per_second: Vec::new(),
            token_requests: 0,
            exchanges: 0,
            rejected: 0,
            recovered_after_ms: Vec::new(),
        }
    }

    /// The drop: from `now` on, exchanges are rate-limited and counted.
    pub fn release(&mut self, now: u64) {
        self.origin_ms = now;
        self.admission = Some(Admission::new(self.capacity, Duration::from_millis(now)));
    }

    /// Whether the herd phase has started (counters run).
    pub fn counting(&self) -> bool {
        self.admission.is_some()
    }

    /// The app server was asked for a token.
    pub fn token_request(&mut self) {
        if self.counting() {
            self.token_requests += 1;
        }
    }

    /// An exchange (`POST /v1/session-tokens`) reached the server at `now`. `Ok` if admitted,
    /// else the `Retry-After` to answer with.
    pub fn exchange(&mut self, now: u64) -> Result<(), Option<String>> {
        let Some(admission) = self.admission.as_mut() else {
            return Ok(());
        };
        self.exchanges += 1;
        let second = ((now - self.origin_ms) / 1_000) as usize;
        if self.per_second.len() <= second {
            self.per_second.resize(second + 1, 0);
        }
        self.per_second[second] += 1;
        // Every variant admits by the same bucket; a refusal always hands out a slot, and only
        // the load-derived variant tells the client about it.
        admission
            .admit(Duration::from_millis(now))
            .map_err(|refused| {
                self.rejected += 1;
                match self.rejection {
                    Rejection::Plain503 => None,
                    Rejection::RetryAfter { secs } => Some(secs.to_string()),
                    Rejection::LoadDerived => Some(refused.retry_after_secs.to_string()),
                }
            })
    }

    /// A client finished reconnecting at `now`.
    pub fn recovered(&mut self, now: u64) {
        if self.counting() {
            self.recovered_after_ms.push(now - self.origin_ms);
        }
    }

    /// How many clients reconnected since the drop.
    pub fn recovered_count(&self) -> usize {
        self.recovered_after_ms.len()
    }

    /// The run's figures.
    pub fn outcome(&self, model: &str, clients: u32, wall_ms: u128) -> Outcome {
        let mut times = self.recovered_after_ms.clone();
        times.sort_unstable();
        let quantile = |q: f64| -> Option<f64> {
            if times.is_empty() {
                return None;
            }
            let index = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
            Some(times[index] as f64 / 1_000.0)
        };
        let all_connected = times.len() == clients as usize;
        Outcome {
            model: model.to_owned(),
            rejection: self.rejection,
            clients,
            capacity_per_s: self.capacity.get(),
            connected: times.len() as u32,
            token_requests: self.token_requests,
            attempts: self.exchanges,
            rejected: self.rejected,
            peak_attempts_per_s: self.per_second.iter().copied().max().unwrap_or(0),
            p50_s: quantile(0.5),
            p99_s: quantile(0.99),
            all_connected_s: if all_connected { quantile(1.0) } else { None },
            sim_wall_ms: wall_ms,
        }
    }
}

/// What one model did against one server variant.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// Which client.
    pub model: String,
    /// How excess exchanges were refused.
    pub rejection: Rejection,
    /// Clients dropped at once.
    pub clients: u32,
    /// Exchanges the server admits per second.
    pub capacity_per_s: u32,
    /// Clients connected again by the end of the run.
    pub connected: u32,
    /// Requests to the app server's token endpoint after the drop.
    pub token_requests: u64,
    /// Exchange requests (attempts) that reached Respoke after the drop.
    pub attempts: u64,
    /// Of those, refused with 503.
    pub rejected: u64,
    /// The busiest second.
    pub peak_attempts_per_s: u32,
    /// Half the clients were back after this many seconds.
    pub p50_s: Option<f64>,
    /// 99 % were back after this many seconds.
    pub p99_s: Option<f64>,
    /// Everyone was back after this many seconds (`None`: not within the horizon).
    pub all_connected_s: Option<f64>,
    /// Real time the simulation took.
    pub sim_wall_ms: u128,
}

//! The retry policy's bookkeeping: which attempt this is, how many failures in a row set the
//! backoff exponent, the server's `Retry-After` as a floor, and the jittered delays drawn from
//! them (the delay math itself is `backoff.rs`). The counter resets only after a stable
//! connection, on `reconnect()`, or when a wake (back online, page shown) makes trying worth it.

use super::backoff::Rng;
use super::config::Config;
use super::time::Instant;

#[derive(Debug)]
pub(crate) struct Retry {
    rng: Rng,
    /// Consecutive failures since the last stable connection: the backoff exponent.
    failures: u32,
    /// The current (or next) attempt's number since the last connect, 1-based.
    attempt: u32,
    /// A server's Retry-After: no attempt before this, whatever wakes us.
    not_before: Option<Instant>,
}

impl Retry {
    /// `seed` drives the jitter.
    pub fn new(seed: u64) -> Self {
        Retry {
            rng: Rng::new(seed),
            failures: 0,
            attempt: 1,
            not_before: None,
        }
    }

    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// An attempt starts: an earlier Retry-After has been honoured.
    pub fn began(&mut self) {
        self.not_before = None;
    }

    /// The attempt failed: the next one has the next number.
    pub fn attempt_failed(&mut self) {
        self.attempt = self.attempt.saturating_add(1);
    }

    /// A live connection ended: the next attempt is the first of a new series.
    pub fn connection_lost(&mut self) {
        self.attempt = 1;
    }

    /// The connection stayed up `stableAfterMs`, or the app asked for a fresh start.
    pub fn stable(&mut self) {
        self.failures = 0;
    }

    /// `reconnect()`: a fresh backoff and attempt count.
    pub fn restart(&mut self) {
        self.failures = 0;
        self.attempt = 1;
    }

    /// Records a server's `Retry-After` (clamped to `maxRetryAfterMs`) as the earliest next
    /// attempt.
    pub fn honour(&mut self, now: Instant, retry_after_ms: Option<u64>, config: &Config) {
        if let Some(ms) = retry_after_ms {
            self.not_before = Some(now + ms.min(config.max_retry_after_ms));
        }
    }

    /// The delay before the next attempt: the backoff's draw, or a `Retry-After` (clamped)
    /// as a floor with the backoff's jitter on top (so clients told the same Retry-After do
    /// not come back in the same instant); see [`BackoffConfig::retry_delay_ms`]. Counts one
    /// more failure.
    ///
    /// [`BackoffConfig::retry_delay_ms`]: super::backoff::BackoffConfig::retry_delay_ms
    pub fn next_delay(&mut self, retry_after_ms: Option<u64>, config: &Config) -> u64 {
        let delay = config.backoff.retry_delay_ms(
            self.failures,
            retry_after_ms.map(|ms| ms.min(config.max_retry_after_ms)),
            &mut self.rng,
        );
        self.failures = self.failures.saturating_add(1);
        delay
    }

    /// Conditions changed for the better: when to attempt, with a short full jitter (so
    /// clients woken by the same event spread out), never before a server's Retry-After.
    /// `None` when the attempt already scheduled (`pending`) comes sooner; otherwise the
    /// backoff starts afresh.
    pub fn soon(
        &mut self,
        now: Instant,
        pending: Option<Instant>,
        config: &Config,
    ) -> Option<Instant> {
        let mut until = now + self.rng.below_inclusive(config.backoff.initial_delay_ms);
        if let Some(not_before) = self.not_before.filter(|&t| t > now) {
            until = until.max(not_before);
        }
        if pending.is_some_and(|pending| pending <= until) {
            return None;
        }
        self.failures = 0;
        Some(until)
    }
}

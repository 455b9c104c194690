//! Exponential backoff with jitter, and the seedable random source behind it.
//!
//! The shape was chosen with the reconnect-herd benchmark (`benches/herd`, README "Backoff"):
//! full jitter while the window grows, so a herd spreads out fast; equal jitter once the
//! window is at its cap, so a long wait has a floor and the clients left at the end of a herd
//! are not idling the server for a whole cap; and a `Retry-After` is a floor with a jitter on
//! top no wider than the `Retry-After` itself.

/// Backoff settings. After `n` consecutive failures the window is
/// `w = min(max_delay_ms, initial_delay_ms * multiplier^n)`, and the next delay is drawn
/// uniformly from `[0, w]` while the window grows (full jitter), or from `[w/2, w]` once it
/// has reached the cap (equal jitter; never for the first retry). See
/// [`retry_delay_ms`](Self::retry_delay_ms) for `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffConfig {
    /// Window of the first retry. Default 1000 ms.
    pub initial_delay_ms: u64,
    /// Largest window. Default 10000 ms.
    pub max_delay_ms: u64,
    /// Growth of the window per consecutive failure. Default 3.
    pub multiplier: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            initial_delay_ms: 1_000,
            max_delay_ms: 10_000,
            multiplier: 3.0,
        }
    }
}

impl BackoffConfig {
    /// The upper bound of the jitter window after `failures` consecutive failures.
    pub fn window_ms(&self, failures: u32) -> u64 {
        self.grown_window(failures).0
    }

    /// The window and whether the cap cut it (the growth reached `max_delay_ms`).
    fn grown_window(&self, failures: u32) -> (u64, bool) {
        let cap = self.max_delay_ms as f64;
        // powi saturates to infinity for large exponents; the cap then applies.
        let grown = self.initial_delay_ms as f64 * self.multiplier.powi(failures.min(1_000) as i32);
        if grown.is_finite() && grown < cap {
            (grown.max(0.0) as u64, false)
        } else {
            (self.max_delay_ms, true)
        }
    }

    /// The lower bound of the delay after `failures` consecutive failures: 0 while the window
    /// grows (and for the first retry), half the window once it is at the cap.
    pub fn floor_ms(&self, failures: u32) -> u64 {
        match self.grown_window(failures) {
            (window, true) if failures > 0 => window / 2,
            _ => 0,
        }
    }

    /// A delay drawn uniformly from `[floor_ms(failures), window_ms(failures)]`.
    pub fn delay_ms(&self, failures: u32, rng: &mut Rng) -> u64 {
        let floor = self.floor_ms(failures);
        floor + rng.below_inclusive(self.window_ms(failures) - floor)
    }

    /// The delay before the next attempt after `failures` consecutive failures, the last one
    /// answered with `retry_after_ms` (already clamped by `maxRetryAfterMs`), if any.
    ///
    /// Without `Retry-After`: [`delay_ms`](Self::delay_ms). With it: the `Retry-After` is a
    /// floor, and a full jitter on top, uniform in `[0, min(window, Retry-After)]` (at least
    /// `[0, min(window, initial)]`, so `Retry-After: 0` still spreads): clients told the same
    /// value do not come back in the same instant, a load-derived value (a slot, in whole
    /// seconds) is not smeared far past its slot, and a fixed one (a proxy's `Retry-After: 5`
    /// to everyone) spreads a herd over up to twice the period it asks for, not over a
    /// whole backoff window on top of it.
    pub fn retry_delay_ms(&self, failures: u32, retry_after_ms: Option<u64>, rng: &mut Rng) -> u64 {
        match retry_after_ms {
            None => self.delay_ms(failures, rng),
            Some(floor) => {
                let spread = floor.max(self.initial_delay_ms);
                let jitter = rng.below_inclusive(self.window_ms(failures).min(spread));
                floor.saturating_add(jitter)
            }
        }
    }
}

/// A small deterministic random source (SplitMix64). Seeded by the shell from
/// `crypto.getRandomValues`, and by tests with fixed seeds. Not for secrets.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator with the given seed.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value uniform in `[0, bound]` (Lemire's widening multiply; the bias is below 2^-64
    /// per draw for the bounds used here).
    pub fn below_inclusive(&mut self, bound: u64) -> u64 {
        if bound == u64::MAX {
            return self.next_u64();
        }
        ((u128::from(self.next_u64()) * u128::from(bound + 1)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_grows_then_caps() {
        let config = BackoffConfig::default();
        assert_eq!(config.window_ms(0), 1_000);
        assert_eq!(config.window_ms(1), 3_000);
        assert_eq!(config.window_ms(2), 9_000);
        assert_eq!(config.window_ms(3), 10_000);
        assert_eq!(config.window_ms(u32::MAX), 10_000);
    }

    #[test]
    fn full_jitter_while_growing_equal_jitter_at_the_cap() {
        let config = BackoffConfig::default();
        for failures in 0..3 {
            assert_eq!(config.floor_ms(failures), 0, "failures {failures}");
        }
        assert_eq!(config.floor_ms(3), 5_000);
        assert_eq!(config.floor_ms(u32::MAX), 5_000);
        // The first retry is always a full jitter, even when it starts at the cap.
        let flat = BackoffConfig {
            initial_delay_ms: 4_000,
            max_delay_ms: 4_000,
            multiplier: 2.0,
        };
        assert_eq!(flat.floor_ms(0), 0);
        assert_eq!(flat.floor_ms(1), 2_000);
        // A multiplier of 1 never reaches a higher cap: full jitter throughout.
        let constant = BackoffConfig {
            initial_delay_ms: 1_000,
            max_delay_ms: 10_000,
            multiplier: 1.0,
        };
        assert_eq!(constant.floor_ms(50), 0);
        assert_eq!(constant.window_ms(50), 1_000);
    }

    #[test]
    fn first_retry_is_soon() {
        let config = BackoffConfig::default();
        let mut rng = Rng::new(3);
        let first: Vec<u64> = (0..1_000).map(|_| config.delay_ms(0, &mut rng)).collect();
        assert!(first.iter().all(|&d| d <= 1_000));
        assert!(first.iter().any(|&d| d < 100) && first.iter().any(|&d| d > 900));
    }

    #[test]
    fn jitter_stays_at_the_cap_too() {
        // socket.io-client loses its jitter at the cap; ours must still spread.
        let config = BackoffConfig::default();
        let mut rng = Rng::new(7);
        let delays: Vec<u64> = (0..200).map(|_| config.delay_ms(50, &mut rng)).collect();
        assert!(delays.iter().all(|&d| (5_000..=10_000).contains(&d)));
        let distinct: std::collections::BTreeSet<u64> = delays.iter().copied().collect();
        assert!(
            distinct.len() > 150,
            "delays at the cap must still be spread"
        );
        assert!(delays.iter().any(|&d| d < 6_000) && delays.iter().any(|&d| d > 9_000));
    }

    #[test]
    fn retry_after_is_a_floor_with_a_bounded_jitter_on_top() {
        let config = BackoffConfig::default();
        let mut rng = Rng::new(11);
        for failures in [0, 1, 2, 3, 40] {
            let window = config.window_ms(failures);
            for retry_after in [0, 1_000, 5_000, 60_000, 300_000] {
                let spread = window.min(retry_after.max(1_000));
                let delays: Vec<u64> = (0..300)
                    .map(|_| config.retry_delay_ms(failures, Some(retry_after), &mut rng))
                    .collect();
                assert!(
                    delays
                        .iter()
                        .all(|&d| (retry_after..=retry_after + spread).contains(&d)),
                    "failures {failures}, Retry-After {retry_after}"
                );
                let distinct: std::collections::BTreeSet<u64> = delays.iter().copied().collect();
                assert!(
                    distinct.len() > 100,
                    "clients told the same Retry-After spread"
                );
            }
        }
        // Without Retry-After: the plain backoff draw.
        let mut a = Rng::new(5);
        let mut b = Rng::new(5);
        assert_eq!(
            config.retry_delay_ms(4, None, &mut a),
            config.delay_ms(4, &mut b)
        );
    }

    #[test]
    fn below_inclusive_covers_both_ends() {
        let mut rng = Rng::new(1);
        let draws: Vec<u64> = (0..1_000).map(|_| rng.below_inclusive(3)).collect();
        for value in 0..=3 {
            assert!(draws.contains(&value));
        }
        assert!(draws.iter().all(|&d| d <= 3));
        assert_eq!(rng.below_inclusive(0), 0);
    }
}

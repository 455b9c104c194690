//! Full-jitter exponential backoff and the seedable random source behind it.

/// Backoff settings: attempt `n` (0-based count of consecutive failures) waits
/// `uniform(0, min(max_delay_ms, initial_delay_ms * multiplier^n))`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffConfig {
    /// Ceiling of the first retry's window. Default 1000 ms.
    pub initial_delay_ms: u64,
    /// Largest window. Default 30000 ms.
    pub max_delay_ms: u64,
    /// Growth of the window per consecutive failure. Default 2.
    pub multiplier: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            initial_delay_ms: 1_000,
            max_delay_ms: 30_000,
            multiplier: 2.0,
        }
    }
}

impl BackoffConfig {
    /// The upper bound of the jitter window after `failures` consecutive failures.
    pub fn window_ms(&self, failures: u32) -> u64 {
        let cap = self.max_delay_ms as f64;
        // powi saturates to infinity for large exponents; min() then gives the cap.
        let grown = self.initial_delay_ms as f64 * self.multiplier.powi(failures.min(1_000) as i32);
        let window = if grown.is_finite() {
            grown.min(cap)
        } else {
            cap
        };
        window.max(0.0) as u64
    }

    /// A delay drawn uniformly from `[0, window_ms(failures)]`.
    pub fn delay_ms(&self, failures: u32, rng: &mut Rng) -> u64 {
        rng.below_inclusive(self.window_ms(failures))
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
        assert_eq!(config.window_ms(1), 2_000);
        assert_eq!(config.window_ms(4), 16_000);
        assert_eq!(config.window_ms(5), 30_000);
        assert_eq!(config.window_ms(u32::MAX), 30_000);
    }

    #[test]
    fn jitter_stays_at_the_cap_too() {
        // socket.io-client loses its jitter at the cap; ours must still spread.
        let config = BackoffConfig::default();
        let mut rng = Rng::new(7);
        let delays: Vec<u64> = (0..200).map(|_| config.delay_ms(50, &mut rng)).collect();
        assert!(delays.iter().all(|&d| d <= 30_000));
        let distinct: std::collections::BTreeSet<u64> = delays.iter().copied().collect();
        assert!(
            distinct.len() > 150,
            "delays at the cap must still be spread"
        );
        assert!(delays.iter().any(|&d| d < 10_000) && delays.iter().any(|&d| d > 20_000));
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

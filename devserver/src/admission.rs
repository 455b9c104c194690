//! Load shedding for session-token exchanges: admit at most `N` per second, and tell everyone
//! refused when to come back, from the load.
//!
//! Pure: no clock, no lock, no async. The caller passes the time in (a [`Duration`] since any
//! origin it likes, the same origin for every call), so the dev server drives it with
//! [`std::time::Instant`] and the reconnect-herd benchmark (`benches/herd`) with its virtual
//! milliseconds. Both run this very code.
//!
//! Two mechanisms:
//!
//! * **Admission**: a token bucket holding one second's worth (`N` tokens), refilled
//!   continuously at `N` per second. An exchange that finds a whole token takes it and is
//!   admitted; the others are refused (the dev server answers them `503`).
//! * **Retry-After from the load**: each refused caller is handed the next free slot of a
//!   schedule that runs at the capacity rate, `1/N` s apart and never sooner than one second
//!   ahead, and is told how many whole seconds away it is (rounded up, so at least 1).
//!   A burst of `k` refused callers is thus spread over `k/N` seconds instead of all of them
//!   coming back in the same instant. The slots are advice, not reservations: whoever arrives
//!   when the bucket holds a token is admitted, and a caller that comes back early is refused
//!   again and handed a later slot.
//!
//! All arithmetic is exact integer arithmetic in `u128` (nanoseconds times `N`), saturating, so
//! no rate and no time (up to [`Duration::MAX`], backwards jumps included) can overflow or
//! panic.

use std::num::NonZeroU32;
use std::time::Duration;

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// An exchange refused by [`Admission::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// Whole seconds until [`Refused::slot`], rounded up: the `Retry-After` to answer. Never 0.
    pub retry_after_secs: u64,
    /// The slot handed out (same origin as the `now` passed in, rounded down to the
    /// nanosecond). Each refusal gets a later slot than the previous one.
    pub slot: Duration,
}

/// The admission controller: at most `per_second` exchanges a second, load-derived
/// `Retry-After` for the rest. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Admission {
    per_second: NonZeroU32,
    /// Tokens in the bucket, in units of `1 / NANOS_PER_SEC` token: one nanosecond refills
    /// `per_second` units, one admission takes `NANOS_PER_SEC`.
    bucket: u128,
    /// The latest time seen, in nanoseconds (time that goes backwards refills nothing).
    last_ns: u128,
    /// The next free slot, in nanoseconds times `per_second` (so that `1/N` s apart is exactly
    /// `NANOS_PER_SEC` apart).
    next_slot: u128,
}

impl Admission {
    /// A controller admitting `per_second` exchanges a second, its bucket full at `now`.
    pub fn new(per_second: NonZeroU32, now: Duration) -> Admission {
        Admission {
            per_second,
            bucket: Self::capacity(per_second),
            last_ns: now.as_nanos(),
            next_slot: 0,
        }
    }

    /// The configured rate.
    pub fn per_second(&self) -> NonZeroU32 {
        self.per_second
    }

    fn capacity(per_second: NonZeroU32) -> u128 {
        u128::from(per_second.get()) * NANOS_PER_SEC
    }

    /// An exchange arrives at `now`: `Ok` if admitted, else when to come back.
    pub fn admit(&mut self, now: Duration) -> Result<(), Refused> {
        let rate = u128::from(self.per_second.get());
        let now_ns = now.as_nanos();
        let elapsed = now_ns.saturating_sub(self.last_ns);
        self.last_ns = self.last_ns.max(now_ns);
        self.bucket = self
            .bucket
            .saturating_add(elapsed.saturating_mul(rate))
            .min(Self::capacity(self.per_second));
        if self.bucket >= NANOS_PER_SEC {
            self.bucket -= NANOS_PER_SEC;
            return Ok(());
        }
        // Refused: the next free slot, at least one second from now.
        let now_scaled = now_ns.saturating_mul(rate);
        let earliest = now_ns.saturating_add(NANOS_PER_SEC).saturating_mul(rate);
        let slot = self.next_slot.max(earliest);
        self.next_slot = slot.saturating_add(NANOS_PER_SEC);
        let wait = slot - now_scaled; // >= NANOS_PER_SEC * rate: slot >= earliest > now_scaled
        let secs = wait.div_ceil(NANOS_PER_SEC * rate).max(1);
        let slot_ns = slot / rate;
        Err(Refused {
            retry_after_secs: u64::try_from(secs).unwrap_or(u64::MAX),
            // Past Duration::MAX only when the caller's clock is there already.
            slot: u64::try_from(slot_ns / NANOS_PER_SEC).map_or(Duration::MAX, |secs| {
                Duration::new(secs, (slot_ns % NANOS_PER_SEC) as u32)
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn admits_a_second_worth_at_once_then_at_the_rate() {
        let mut a = Admission::new(rate(3), ms(0));
        for _ in 0..3 {
            assert!(a.admit(ms(0)).is_ok());
        }
        assert!(a.admit(ms(0)).is_err());
        // One token every 333.3 ms.
        assert!(a.admit(ms(333)).is_err());
        assert!(a.admit(ms(334)).is_ok());
        assert!(a.admit(ms(334)).is_err());
        // A long idle refills one second's worth, no more.
        for _ in 0..3 {
            assert!(a.admit(ms(60_000)).is_ok());
        }
        assert!(a.admit(ms(60_000)).is_err());
    }

    #[test]
    fn refused_callers_get_slots_one_nth_of_a_second_apart() {
        let mut a = Admission::new(rate(2), ms(1_000));
        assert!(a.admit(ms(1_000)).is_ok());
        assert!(a.admit(ms(1_000)).is_ok());
        let refused: Vec<Refused> = (0..5).map(|_| a.admit(ms(1_000)).unwrap_err()).collect();
        let slots: Vec<Duration> = refused.iter().map(|r| r.slot).collect();
        assert_eq!(
            slots,
            [ms(2_000), ms(2_500), ms(3_000), ms(3_500), ms(4_000)]
        );
        let secs: Vec<u64> = refused.iter().map(|r| r.retry_after_secs).collect();
        assert_eq!(secs, [1, 2, 2, 3, 3]);
        // Later arrivals queue behind them: the next slot, rounded up to whole seconds.
        let r = a.admit(ms(1_400)).unwrap_err();
        assert_eq!((r.slot, r.retry_after_secs), (ms(4_500), 4));
        // The schedule has caught up with a quiet period: back to "one second from now".
        assert!(a.admit(ms(20_000)).is_ok());
        assert!(a.admit(ms(20_000)).is_ok());
        let r = a.admit(ms(20_000)).unwrap_err();
        assert_eq!((r.slot, r.retry_after_secs), (ms(21_000), 1));
    }

    #[test]
    fn backwards_time_refills_nothing_and_keeps_slots_moving_forward() {
        let mut a = Admission::new(rate(1), ms(10_000));
        assert!(a.admit(ms(10_000)).is_ok());
        let first = a.admit(ms(10_000)).unwrap_err();
        // The clock jumps back 9 s: no refill from it, and the next slot is still later.
        let second = a.admit(ms(1_000)).unwrap_err();
        assert!(second.slot > first.slot);
        assert_eq!(second.retry_after_secs, 11);
        // Back to where it was plus one second: one token again.
        assert!(a.admit(ms(11_000)).is_ok());
    }

    #[test]
    fn extremes_do_not_panic() {
        for n in [1, 2, 7, 500, 1_000_000, u32::MAX] {
            let mut a = Admission::new(rate(n), Duration::ZERO);
            let mut last_slot = None;
            for now in [
                Duration::ZERO,
                Duration::MAX,
                Duration::MAX,
                Duration::ZERO,
                Duration::from_nanos(1),
                Duration::MAX,
            ] {
                // A burst larger than the bucket at each time.
                for _ in 0..3 {
                    if let Err(r) = a.admit(now) {
                        assert!(r.retry_after_secs >= 1);
                        if let Some(last) = last_slot {
                            assert!(r.slot >= last);
                        }
                        last_slot = Some(r.slot);
                    }
                }
            }
        }
        // u32::MAX a second: a huge burst is admitted, nothing overflows.
        let mut a = Admission::new(rate(u32::MAX), Duration::MAX);
        for _ in 0..10_000 {
            assert!(a.admit(Duration::MAX).is_ok());
        }
    }

    /// The same input always gives the same answers, and across random runs (rates from 1 to
    /// `u32::MAX`, time steps forwards, backwards and huge) the invariants hold: Retry-After
    /// at least 1 s and exactly the rounded-up distance to the slot, slots strictly increasing,
    /// and no more admissions than the bucket allows (`N` plus `N` per second elapsed).
    #[test]
    fn random_runs_keep_the_invariants() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            // xorshift64*
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        for _ in 0..300 {
            let n = match next() % 4 {
                0 => 1 + (next() % 5) as u32,
                1 => 1 + (next() % 1_000) as u32,
                2 => u32::MAX - (next() % 3) as u32,
                _ => 1 + (next() % u64::from(u32::MAX)) as u32,
            };
            let start = Duration::from_nanos(next() % 1_000_000_000_000);
            let mut a = Admission::new(rate(n), start);
            let mut now = start;
            let mut latest = start;
            let mut admitted: u128 = 0;
            let mut last_slot: Option<Duration> = None;
            for _ in 0..400 {
                now = match next() % 10 {
                    0 => now.saturating_sub(Duration::from_nanos(next() % 5_000_000_000)),
                    1 => now.saturating_add(Duration::from_secs(next() % 1_000_000)),
                    2..=5 => now,
                    _ => now.saturating_add(Duration::from_nanos(next() % 50_000_000)),
                };
                latest = latest.max(now);
                match a.admit(now) {
                    Ok(()) => admitted += 1,
                    Err(r) => {
                        assert!(r.retry_after_secs >= 1, "n={n}");
                        if let Some(earliest) = now.checked_add(Duration::from_secs(1)) {
                            assert!(r.slot >= earliest, "n={n}");
                        }
                        let wait = r.slot - now;
                        // Rounded up, to within the nanosecond the slot was rounded down by.
                        assert!(
                            Duration::from_secs(r.retry_after_secs) >= wait
                                && Duration::from_secs(r.retry_after_secs - 1)
                                    < wait + Duration::from_nanos(1),
                            "n={n} wait={wait:?} secs={}",
                            r.retry_after_secs
                        );
                        if let Some(last) = last_slot {
                            assert!(r.slot > last || n > 1_000_000_000, "n={n}");
                            assert!(r.slot >= last, "n={n}");
                        }
                        last_slot = Some(r.slot);
                    }
                }
                let elapsed = (latest - start).as_nanos();
                let allowed = u128::from(n) + elapsed * u128::from(n) / NANOS_PER_SEC;
                assert!(admitted <= allowed, "n={n}: {admitted} > {allowed}");
            }
        }
    }

    /// The floating-point model the herd benchmark used before it called this type, kept as
    /// the reference: for the benchmark's rate the decisions and Retry-After values are the
    /// same, millisecond for millisecond.
    #[test]
    fn matches_the_herd_benchmark_reference_model() {
        struct Reference {
            capacity: f64,
            bucket: f64,
            last_refill_ms: u64,
            next_slot_ms: f64,
        }
        impl Reference {
            fn exchange(&mut self, now: u64) -> Result<(), u64> {
                let elapsed = now.saturating_sub(self.last_refill_ms) as f64;
                self.last_refill_ms = now;
                self.bucket = (self.bucket + elapsed * self.capacity / 1_000.0).min(self.capacity);
                if self.bucket >= 1.0 {
                    self.bucket -= 1.0;
                    return Ok(());
                }
                let slot = self.next_slot_ms.max(now as f64 + 1_000.0);
                self.next_slot_ms = slot + 1_000.0 / self.capacity;
                Err(((slot - now as f64) / 1_000.0).ceil() as u64)
            }
        }
        // Rates whose per-millisecond refill and slot spacing are exact in f64 (500: the
        // benchmark's), so that the reference itself is not off by a rounding.
        for capacity in [500u32, 125, 250, 1_000, 2_000] {
            let mut reference = Reference {
                capacity: f64::from(capacity),
                bucket: f64::from(capacity),
                last_refill_ms: 30_000,
                next_slot_ms: 0.0,
            };
            let mut ours = Admission::new(rate(capacity), ms(30_000));
            let mut now = 30_000u64;
            let mut seed = 7u64;
            for _ in 0..50_000 {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                // Mostly bursts at one instant, sometimes a step of up to 40 ms.
                if (seed >> 33) % 4 == 0 {
                    now += (seed >> 40) % 40;
                }
                let expected = reference.exchange(now);
                let got = ours.admit(ms(now)).map_err(|r| r.retry_after_secs);
                assert_eq!(got, expected, "capacity {capacity} at {now} ms");
            }
        }
    }
}

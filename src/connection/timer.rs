//! The core's named timers in one table (quinn-proto's `timer.rs`).

use super::time::Instant;

/// Every deadline the core keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// The token fetch of the current attempt.
    Token = 0,
    /// The whole current attempt.
    Attempt = 1,
    /// The backoff wait before the next attempt.
    Backoff = 2,
    /// Liveness: no packet at all within the handshake's heartbeat timeout.
    Heartbeat = 3,
    /// The connection stayed up long enough to reset the backoff counter.
    Stable = 4,
    /// A verification probe (after a wake) must be answered by then.
    Verify = 5,
    /// The earliest request deadline: an ack overdue, or a queued request too old.
    Calls = 6,
}

const COUNT: usize = 7;
const ALL: [Timer; COUNT] = [
    Timer::Token,
    Timer::Attempt,
    Timer::Backoff,
    Timer::Heartbeat,
    Timer::Stable,
    Timer::Verify,
    Timer::Calls,
];

/// A fixed table of optional deadlines.
#[derive(Debug, Default, Clone)]
pub struct Timers {
    deadlines: [Option<Instant>; COUNT],
}

impl Timers {
    /// Sets (or moves) a deadline.
    pub fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[timer as usize] = Some(at);
    }

    /// Cancels a deadline.
    pub fn clear(&mut self, timer: Timer) {
        self.deadlines[timer as usize] = None;
    }

    /// Cancels every deadline.
    pub fn clear_all(&mut self) {
        self.deadlines = [None; COUNT];
    }

    /// The deadline of `timer`, if set.
    pub fn get(&self, timer: Timer) -> Option<Instant> {
        self.deadlines[timer as usize]
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Removes and returns the earliest timer due at `now`, if any.
    pub fn take_expired(&mut self, now: Instant) -> Option<Timer> {
        let timer = ALL
            .iter()
            .copied()
            .filter(|&t| self.get(t).is_some_and(|at| at <= now))
            .min_by_key(|&t| self.get(t))?;
        self.clear(timer);
        Some(timer)
    }
}

//! The published reconnect schedules of other clients, run through the same attempt pipeline
//! (token, exchange, handshake, socket, register) and the same server model as ours.
//!
//! Both are modelled as if the app fetched a fresh token before each attempt, which
//! respoke.js 1.56 itself does not do in brokered mode (it re-sends the spent tokenId, so it
//! would never reconnect at all): the comparison is about timing only.

use std::num::NonZeroU32;
use std::time::Instant as WallClock;

use respoke_client::connection::Rng;

use crate::queue::Queue;
use crate::server::{Outcome, Rejection, Server, ONE_WAY_MS, RTT_MS};

/// A reconnect delay schedule.
#[derive(Debug, Clone, Copy)]
pub enum Schedule {
    /// respoke.js 1.56: 2.5 s, doubling, capped at 5 min, no jitter; `Retry-After` ignored.
    RespokeJs,
    /// socket.io-client 4.8 (`Backoff` with `reconnectionDelay` 1000, `reconnectionDelayMax`
    /// 5000, `randomizationFactor` 0.5): `ms * 2^n`, then +/- up to 50 %, then the cap, so
    /// delays above the cap lose their jitter; `Retry-After` ignored.
    SocketIo,
}

impl Schedule {
    /// Name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Schedule::RespokeJs => "respoke.js 1.56 schedule",
            Schedule::SocketIo => "socket.io-client 4.8 schedule",
        }
    }

    /// Delay before attempt `n` (0-based count of attempts since the drop).
    pub fn delay_ms(self, n: u32, rng: &mut Rng) -> u64 {
        match self {
            Schedule::RespokeJs => (2_500f64 * 2f64.powi(n.min(30) as i32)).min(300_000.0) as u64,
            Schedule::SocketIo => {
                // engine.io's backo2, as socket.io-client's Manager uses it.
                let ms = 1_000f64 * 2f64.powi(n.min(30) as i32);
                let rand = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                let deviation = (rand * 0.5 * ms).floor();
                let jittered = if ((rand * 10.0).floor() as u64) & 1 == 0 {
                    ms - deviation
                } else {
                    ms + deviation
                };
                jittered.min(5_000.0) as u64
            }
        }
    }
}

enum Input {
    /// The backoff delay ended: ask the app server for a token.
    Attempt,
    /// The exchange reaches Respoke.
    ExchangeArrives,
    /// The exchange was refused; the answer arrives.
    Refused,
    /// Handshake, socket and register went through.
    Connected,
}

/// Runs `clients` clients following `schedule`, all dropped at the same instant.
pub fn run(
    schedule: Schedule,
    clients: u32,
    capacity: NonZeroU32,
    rejection: Rejection,
    seed: u64,
    horizon_ms: u64,
) -> Outcome {
    let started = WallClock::now();
    let mut server = Server::new(capacity, rejection);
    let mut queue = Queue::new();
    let mut attempts = vec![0u32; clients as usize];
    let mut rng = Rng::new(seed);
    let drop_at = 30_000;
    server.release(drop_at);
    for index in 0..clients {
        queue.push(
            drop_at + schedule.delay_ms(0, &mut rng),
            index,
            Input::Attempt,
        );
    }
    while server.recovered_count() < clients as usize {
        let Some((now, index, input)) = queue.pop_until(drop_at + horizon_ms) else {
            break;
        };
        match input {
            Input::Attempt => {
                server.token_request();
                queue.push(now + RTT_MS + ONE_WAY_MS, index, Input::ExchangeArrives);
            }
            Input::ExchangeArrives => match server.exchange(now) {
                // The same path as ours: answer, handshake, socket + `1::`, register.
                Ok(()) => queue.push(
                    now + ONE_WAY_MS + RTT_MS + RTT_MS + 1 + RTT_MS,
                    index,
                    Input::Connected,
                ),
                Err(_) => queue.push(now + ONE_WAY_MS, index, Input::Refused),
            },
            Input::Refused => {
                let n = &mut attempts[index as usize];
                *n += 1;
                let delay = schedule.delay_ms(*n, &mut rng);
                queue.push(now + delay, index, Input::Attempt);
            }
            Input::Connected => server.recovered(now),
        }
    }
    server.outcome(schedule.name(), clients, started.elapsed().as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn respoke_js_doubles_to_five_minutes() {
        let mut rng = Rng::new(1);
        let delays: Vec<u64> = (0..9)
            .map(|n| Schedule::RespokeJs.delay_ms(n, &mut rng))
            .collect();
        assert_eq!(
            delays,
            [2_500, 5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]
        );
    }

    #[test]
    fn socket_io_jitters_before_the_cap() {
        let mut rng = Rng::new(1);
        let first: Vec<u64> = (0..1_000)
            .map(|_| Schedule::SocketIo.delay_ms(0, &mut rng))
            .collect();
        assert!(first.iter().all(|&d| (500..=1_500).contains(&d)));
        let late: Vec<u64> = (0..1_000)
            .map(|_| Schedule::SocketIo.delay_ms(10, &mut rng))
            .collect();
        // 1024 s +/- 50 % is always above the 5 s cap: no jitter left at all.
        assert!(late.iter().all(|&d| d == 5_000));
    }
}

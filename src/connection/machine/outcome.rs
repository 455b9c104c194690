//! The attempt's life and what each outcome leads to: starting an attempt, applying its
//! transitions (`attempt.rs`), the connect, and after a failure or a lost connection the next
//! attempt (`retry.rs`) or the terminal `failed` state (`error.rs` says which).

use super::{Live, Machine, Status};
use crate::connection::attempt::{Attempt, Ctx, Progress};
use crate::connection::code::Code;
use crate::connection::command::{Command, ConnId, RequestId};
use crate::connection::error::Failure;
use crate::connection::event::Event;
use crate::connection::link::Link;
use crate::connection::time::Instant;
use crate::connection::timer::Timer;
use crate::connection::token::Token;

impl Machine {
    pub(super) fn begin_attempt(&mut self, now: Instant) {
        self.retry.began();
        let attempt = Attempt::begin(&mut ctx!(self), now, self.retry.attempt());
        self.status = Status::Connecting(attempt);
        self.report_state(now, None);
    }

    /// Runs one transition of the attempt under way and applies what it leads to. The one place
    /// the state is taken out: the transition consumes the attempt and returns the next state
    /// ([`Progress`]), which every arm below stores.
    pub(super) fn progress(
        &mut self,
        now: Instant,
        step: impl FnOnce(Attempt, &mut Ctx) -> Progress,
    ) {
        let attempt = match std::mem::replace(&mut self.status, Status::Idle) {
            Status::Connecting(attempt) => attempt,
            other => return self.status = other,
        };
        match step(attempt, &mut ctx!(self)) {
            Progress::Next(attempt) => {
                self.status = Status::Connecting(attempt);
                self.report_state(now, None);
            }
            Progress::Registered {
                link,
                endpoint_id,
                connection_id,
            } => self.connected(now, link, endpoint_id, connection_id),
            Progress::Failed {
                attempt,
                failure,
                retry_after_ms,
            } => {
                self.status = Status::Connecting(attempt);
                if failure.is_terminal() {
                    self.fail(now, failure);
                } else {
                    self.retry(now, failure, retry_after_ms);
                }
            }
        }
    }

    pub(super) fn connected(
        &mut self,
        now: Instant,
        link: Link,
        endpoint_id: String,
        connection_id: String,
    ) {
        self.timers.clear(Timer::Attempt);
        self.timers.clear(Timer::Token);
        if self.config.stable_after_ms == 0 {
            self.retry.stable();
        } else {
            self.timers
                .set(Timer::Stable, now + self.config.stable_after_ms);
        }
        self.stats.connects += 1;
        self.out.event(Event::Connect {
            endpoint_id: endpoint_id.clone(),
            connection_id: connection_id.clone(),
            attempt: self.retry.attempt(),
        });
        self.status = Status::Connected(Live {
            link,
            endpoint_id,
            connection_id,
        });
        self.report_state(now, None);
        if let Status::Connected(live) = &mut self.status {
            // What the app set up first, then the requests that waited, in order.
            for call in self.restore.calls() {
                self.calls
                    .send(&mut self.out, &mut live.link, call, now, &self.config);
            }
            self.calls
                .flush(&mut self.out, &mut live.link, now, &self.config);
        }
    }

    /// The socket or the attempt is gone: a disconnect when connected, a failed attempt
    /// otherwise. Either way a new attempt with a new token follows.
    pub(super) fn lose(&mut self, now: Instant, failure: Failure) {
        if matches!(self.status, Status::Connected(_)) {
            self.connection_lost(now, failure);
        } else {
            self.retry(now, failure, None);
        }
    }

    /// The live connection ended: close the socket, tell the app, and schedule the first
    /// attempt of a new series.
    pub(super) fn connection_lost(&mut self, now: Instant, failure: Failure) {
        self.release();
        self.clear_attempt_timers();
        self.stats.disconnects += 1;
        self.out.event(Event::Disconnect {
            reason: failure.to_string(),
            code: failure.code(),
            will_reconnect: true,
        });
        self.retry.connection_lost();
        self.schedule(now, failure.code(), None);
    }

    /// The current attempt failed; schedule the next one.
    pub(super) fn retry(&mut self, now: Instant, failure: Failure, retry_after_ms: Option<u64>) {
        self.release_current();
        self.out.error(&failure, true);
        self.retry.attempt_failed();
        self.schedule(now, failure.code(), retry_after_ms);
    }

    pub(super) fn schedule(&mut self, now: Instant, cause: Code, retry_after_ms: Option<u64>) {
        self.retry.honour(now, retry_after_ms, &self.config);
        self.status = Status::Waiting;
        if self.blocked().is_some() {
            // Offline, hidden or suspended: no timer; the matching wake schedules the attempt.
            self.timers.clear(Timer::Backoff);
            return self.report_state(now, None);
        }
        let delay_ms = self.retry.next_delay(retry_after_ms, &self.config);
        self.timers.set(Timer::Backoff, now + delay_ms);
        self.out.event(Event::Reconnecting {
            attempt: self.retry.attempt(),
            delay_ms,
            cause,
        });
        self.report_state(now, Some(delay_ms));
    }

    /// Terminal: nothing more is sent until the app calls `reconnect()`.
    pub(super) fn fail(&mut self, now: Instant, failure: Failure) {
        self.release_current();
        self.calls
            .reject_all(&mut self.out, Code::Failed, &failure.to_string());
        self.timers.clear_all();
        self.status = Status::Failed;
        self.out.error(&failure, false);
        self.out.event(Event::Failed {
            reason: failure.to_string(),
            status: failure.status(),
            code: failure.code(),
            reauthenticate: failure.needs_reauthentication(),
        });
        self.report_state(now, None);
    }

    /// Aborts the in-flight request and closes the socket of whatever is current, and clears
    /// the attempt's timers. The caller then moves to the next state.
    pub(super) fn release_current(&mut self) {
        self.release();
        self.clear_attempt_timers();
    }

    /// Aborts the current attempt's request, or closes the current socket (rejecting what was
    /// in flight on it); returns the App-Token of its session, if it had one. The state itself
    /// is left for the caller to replace with the next one.
    pub(super) fn release(&mut self) -> Option<Token> {
        let (request, socket, app_token) = match &self.status {
            Status::Connecting(Attempt::Token { req } | Attempt::Session { req }) => {
                (Some(*req), None, None)
            }
            Status::Connecting(Attempt::Handshake { req, app_token }) => {
                (Some(*req), None, Some(app_token.clone()))
            }
            Status::Connecting(Attempt::Socket { link } | Attempt::Register { link, .. })
            | Status::Connected(Live { link, .. }) => {
                (None, Some(link.conn), Some(link.app_token.clone()))
            }
            Status::Idle | Status::Waiting | Status::Failed | Status::Closed => (None, None, None),
        };
        if let Some(id) = request {
            self.abort(id);
        }
        if let Some(id) = socket {
            self.close_socket(id);
        }
        app_token
    }

    pub(super) fn abort(&mut self, id: RequestId) {
        self.out.command(Command::Abort { id });
    }

    /// Closes socket `id`; what was in flight on it is rejected (it may or may not have been
    /// acted on, so it is not sent again).
    pub(super) fn close_socket(&mut self, id: ConnId) {
        self.out.command(Command::CloseSocket { id });
        self.calls.lose_in_flight(&mut self.out);
    }

    pub(super) fn clear_attempt_timers(&mut self) {
        for timer in [
            Timer::Token,
            Timer::Attempt,
            Timer::Heartbeat,
            Timer::Stable,
            Timer::Backoff,
            Timer::Verify,
        ] {
            self.timers.clear(timer);
        }
    }
}

//! What the machine does about a wake: the [`Reaction`]s of the wake policy (`environment.rs`)
//! and a wake from sleep, applied to the current state.

use respoke_protocol::packet::Packet;
use respoke_protocol::sails::{Method, Request};

use super::{Machine, Status, PROBE_PATH};
use crate::connection::attempt::{end_session, Ctx};
use crate::connection::code::Code;
use crate::connection::environment::{HoldCause, Reaction};
use crate::connection::error::Failure;
use crate::connection::event::Event;
use crate::connection::time::Instant;
use crate::connection::timer::Timer;

impl Machine {
    /// The device slept: the socket is verified, an attempt under way is restarted, a wait is
    /// cut short.
    pub(super) fn woke_from_sleep(&mut self, now: Instant) {
        match self.status {
            Status::Connected(_) => self.verify(now),
            Status::Connecting(_) => {
                self.release_current();
                self.out.error(&Failure::Wake, true);
                self.status = Status::Waiting;
                self.try_soon(now, Code::Wake);
            }
            Status::Waiting => self.try_soon(now, Code::Wake),
            Status::Idle | Status::Failed | Status::Closed => {}
        }
    }

    pub(super) fn react(&mut self, now: Instant, reaction: Reaction) {
        match reaction {
            Reaction::Hold(cause) => self.hold(now, cause),
            Reaction::TrySoon(cause) => self.try_soon(now, cause),
            Reaction::Verify => self.verify(now),
            Reaction::VerifyThenTrySoon(cause) => {
                self.verify(now);
                self.try_soon(now, cause);
            }
            Reaction::Report => self.report_state(now, None),
            Reaction::Nothing => {}
        }
    }

    /// Stops using the network for now (offline, hidden into the back/forward cache, frozen).
    pub(super) fn hold(&mut self, now: Instant, cause: HoldCause) {
        let (failure, clean) = (cause.failure(), cause.leaves_cleanly());
        match &self.status {
            Status::Connected(live) => {
                if clean {
                    self.out.send(live.link.conn, Packet::disconnect().encode());
                    end_session(&mut ctx!(self), &live.link.app_token);
                }
                self.connection_lost(now, failure);
            }
            Status::Connecting(_) => {
                if let (Some(app_token), true) = (self.release(), clean) {
                    end_session(&mut ctx!(self), &app_token);
                }
                self.clear_attempt_timers();
                self.out.error(&failure, true);
                self.schedule(now, failure.code(), None);
            }
            Status::Waiting => {
                self.timers.clear(Timer::Backoff);
                self.report_state(now, None);
            }
            Status::Idle | Status::Failed | Status::Closed => {}
        }
    }

    /// Conditions changed for the better: a waiting client attempts soon (`retry.rs`).
    pub(super) fn try_soon(&mut self, now: Instant, cause: Code) {
        if !matches!(self.status, Status::Waiting) {
            return;
        }
        if self.blocked().is_some() {
            // Still held back by something else (say, online again but hidden): say what.
            return self.report_state(now, None);
        }
        let pending = self.timers.get(Timer::Backoff);
        let Some(until) = self.retry.soon(now, pending, &self.config) else {
            return;
        };
        self.timers.set(Timer::Backoff, until);
        let delay_ms = until.millis_since(now);
        self.out.event(Event::Reconnecting {
            attempt: self.retry.attempt(),
            delay_ms,
            cause,
        });
        self.report_state(now, Some(delay_ms));
    }

    /// Checks that a live socket still works: sends a probe; any packet before the deadline
    /// proves it alive, silence replaces it.
    pub(super) fn verify(&mut self, now: Instant) {
        if self.timers.get(Timer::Verify).is_some() {
            return;
        }
        let Status::Connected(live) = &mut self.status else {
            return;
        };
        let timeout_ms = self.config.verify_timeout_ms.min(live.link.heartbeat_ms);
        let probe = Request::new(Method::Get, PROBE_PATH);
        live.link
            .send_request(&mut self.out, probe, &self.config.sdk);
        self.timers.set(Timer::Verify, now + timeout_ms);
    }
}

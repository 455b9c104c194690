//! The development controls' switches (`/dev/outage`, `/dev/stall`, `/dev/ack-delay`,
//! `/dev/fail-session-tokens`, `/dev/admission`) and the exchanges' admission controller.
//!
//! Plain data, the time passed in: [`crate::respoke::RespokeState`] keeps one [`Controls`]
//! under a lock and hands it the clock; [`crate::respoke::gate`] and the socket sessions read
//! it through the state.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use crate::admission::{Admission, Refused};

/// Most endpoints with an ack delay of their own (`/dev/ack-delay`).
pub const MAX_CONTROLLED_ENDPOINTS: usize = 10_000;

/// `/dev/fail-session-tokens`: the next `remaining` exchanges fail with `status`.
#[derive(Debug, Clone)]
pub struct FailPlan {
    /// How many exchanges are still to fail.
    pub remaining: u32,
    /// Their HTTP status.
    pub status: u16,
    /// An optional `Retry-After` in seconds.
    pub retry_after_secs: Option<u64>,
}

/// The switches, all off by default (and no admission limit).
#[derive(Debug, Default)]
pub struct Controls {
    outage_until: Option<Instant>,
    stall_all_until: Option<Instant>,
    stall_endpoints: HashMap<String, Instant>,
    fail_session_tokens: Option<FailPlan>,
    ack_delay_all: Option<Duration>,
    ack_delay_endpoints: HashMap<String, Duration>,
    /// Load shedding of exchanges; `None`: unlimited.
    admission: Option<Admission>,
}

impl Controls {
    /// Starts an outage of `secs` from `now`.
    pub fn start_outage(&mut self, now: Instant, secs: u64) {
        self.outage_until = Some(now + Duration::from_secs(secs));
    }

    /// Seconds left of the outage at `now` (rounded up), if one is on.
    pub fn outage_remaining_secs(&self, now: Instant) -> Option<u64> {
        remaining_secs(self.outage_until?, now)
    }

    /// Stalls every socket, or one endpoint's, for `secs` from `now`.
    pub fn stall(&mut self, now: Instant, endpoint_id: Option<&str>, secs: u64) {
        let until = now + Duration::from_secs(secs);
        match endpoint_id {
            Some(id) => {
                // Ended stalls are forgotten here, so the table holds live ones only.
                self.stall_endpoints.retain(|_, t| *t > now);
                self.stall_endpoints.insert(id.to_owned(), until);
            }
            None => self.stall_all_until = Some(until),
        }
    }

    /// Whether sockets of `endpoint_id` are stalled at `now`.
    pub fn is_stalled(&self, now: Instant, endpoint_id: &str) -> bool {
        self.stall_all_until.is_some_and(|t| t > now)
            || self
                .stall_endpoints
                .get(endpoint_id)
                .is_some_and(|t| *t > now)
    }

    /// Delays the acks of every socket, or one endpoint's, by `delay` (zero removes the delay).
    /// At most [`MAX_CONTROLLED_ENDPOINTS`] endpoints have a delay of their own; beyond,
    /// `false` and nothing changes.
    pub fn set_ack_delay(&mut self, endpoint_id: Option<&str>, delay: Duration) -> bool {
        let delay = (!delay.is_zero()).then_some(delay);
        match (endpoint_id, delay) {
            (Some(id), Some(_))
                if self.ack_delay_endpoints.len() >= MAX_CONTROLLED_ENDPOINTS
                    && !self.ack_delay_endpoints.contains_key(id) =>
            {
                return false;
            }
            (Some(id), Some(delay)) => {
                self.ack_delay_endpoints.insert(id.to_owned(), delay);
            }
            (Some(id), None) => {
                self.ack_delay_endpoints.remove(id);
            }
            (None, delay) => self.ack_delay_all = delay,
        }
        true
    }

    /// How long acks to `endpoint_id`'s sockets are held back: its own delay if one was set,
    /// else the global one.
    pub fn ack_delay(&self, endpoint_id: &str) -> Option<Duration> {
        self.ack_delay_endpoints
            .get(endpoint_id)
            .copied()
            .or(self.ack_delay_all)
    }

    /// Makes the next exchanges fail.
    pub fn fail_session_tokens(&mut self, plan: FailPlan) {
        self.fail_session_tokens = (plan.remaining > 0).then_some(plan);
    }

    /// Consumes one injected exchange failure, if any is planned.
    pub fn take_injected_failure(&mut self) -> Option<FailPlan> {
        let plan = self.fail_session_tokens.as_mut()?;
        plan.remaining = plan.remaining.saturating_sub(1);
        let taken = plan.clone();
        if plan.remaining == 0 {
            self.fail_session_tokens = None;
        }
        Some(taken)
    }

    /// Limits exchanges to `per_second` (a fresh bucket, full at `now`), or lifts the limit
    /// (`None`). `now` is on the admission controller's clock (a [`Duration`] since any
    /// origin, the same for every call).
    pub fn set_admission(&mut self, per_second: Option<NonZeroU32>, now: Duration) {
        self.admission = per_second.map(|rate| Admission::new(rate, now));
    }

    /// An exchange arrived at `now` (the admission clock): admitted (always, without a
    /// limit), or refused with the load-derived `Retry-After`.
    pub fn admit_exchange(&mut self, now: Duration) -> Result<(), Refused> {
        match self.admission.as_mut() {
            Some(admission) => admission.admit(now),
            None => Ok(()),
        }
    }

    /// The switches at `now`, for `/dev/` replies.
    pub fn snapshot(&self, now: Instant) -> serde_json::Value {
        let stalled: Vec<&String> = self
            .stall_endpoints
            .iter()
            .filter(|(_, t)| **t > now)
            .map(|(id, _)| id)
            .collect();
        let remaining = |until: Instant| remaining_secs(until, now);
        serde_json::json!({
            "outageRemainingSecs": self.outage_until.and_then(remaining),
            "stallAllRemainingSecs": self.stall_all_until.and_then(remaining),
            "stalledEndpoints": stalled,
            "failSessionTokensRemaining": self.fail_session_tokens.as_ref().map(|p| p.remaining),
            "ackDelaySecs": self.ack_delay_all.map(|d| d.as_secs_f64()),
            "ackDelayEndpoints": self
                .ack_delay_endpoints
                .iter()
                .map(|(id, d)| (id.clone(), d.as_secs_f64()))
                .collect::<BTreeMap<_, _>>(),
            "admissionPerSecond": self.admission.as_ref().map(Admission::per_second),
        })
    }
}

/// Whole seconds from `now` to `until`, rounded up; `None` once it passed.
fn remaining_secs(until: Instant, now: Instant) -> Option<u64> {
    let left = until.checked_duration_since(now)?;
    if left.is_zero() {
        return None;
    }
    Some(left.as_millis().div_ceil(1000).max(1) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_and_stalls_end_by_themselves() {
        let t0 = Instant::now();
        let mut c = Controls::default();
        c.start_outage(t0, 2);
        assert_eq!(c.outage_remaining_secs(t0), Some(2));
        assert_eq!(
            c.outage_remaining_secs(t0 + Duration::from_millis(1_001)),
            Some(1)
        );
        assert_eq!(c.outage_remaining_secs(t0 + Duration::from_secs(2)), None);
        c.stall(t0, Some("a"), 1);
        assert!(c.is_stalled(t0, "a"));
        assert!(!c.is_stalled(t0, "b"));
        assert!(!c.is_stalled(t0 + Duration::from_secs(1), "a"));
        // A later stall forgets the ended ones.
        c.stall(t0 + Duration::from_secs(5), Some("b"), 1);
        assert_eq!(c.stall_endpoints.len(), 1);
        c.stall(t0, None, 3);
        assert!(c.is_stalled(t0 + Duration::from_secs(2), "anyone"));
        let snapshot = c.snapshot(t0);
        assert_eq!(snapshot["stallAllRemainingSecs"], 3);
        assert_eq!(snapshot["outageRemainingSecs"], 2);
    }

    #[test]
    fn per_endpoint_ack_delays_are_bounded() {
        let mut c = Controls::default();
        for n in 0..MAX_CONTROLLED_ENDPOINTS {
            assert!(c.set_ack_delay(Some(&format!("e{n}")), Duration::from_secs(1)));
        }
        assert!(!c.set_ack_delay(Some("one-more"), Duration::from_secs(1)));
        assert_eq!(c.ack_delay("one-more"), None);
        assert!(
            c.set_ack_delay(Some("e1"), Duration::from_secs(2)),
            "updates still work"
        );
        assert!(c.set_ack_delay(Some("e1"), Duration::ZERO), "and removals");
        assert!(c.set_ack_delay(Some("one-more"), Duration::from_secs(1)));
        // Its own delay, else the global one.
        assert!(c.set_ack_delay(None, Duration::from_secs(7)));
        assert_eq!(c.ack_delay("one-more"), Some(Duration::from_secs(1)));
        assert_eq!(c.ack_delay("e1"), Some(Duration::from_secs(7)));
    }

    #[test]
    fn injected_failures_count_down() {
        let mut c = Controls::default();
        c.fail_session_tokens(FailPlan {
            remaining: 2,
            status: 500,
            retry_after_secs: None,
        });
        assert!(c.take_injected_failure().is_some());
        assert!(c.take_injected_failure().is_some());
        assert!(c.take_injected_failure().is_none());
    }
}

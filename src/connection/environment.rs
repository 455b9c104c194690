//! The wake policy: what the network, the page lifecycle and the device's sleep mean for the
//! connection. Being offline, frozen or in the back/forward cache holds the client; a hidden
//! page defers attempts when `pauseWhenHidden`; coming back tries soon, and a live socket is
//! verified after any wake. Sleep is a wall clock running ahead of the monotonic one.

use super::code::Code;
use super::error::Failure;
use super::event::WaitingFor;
use super::time::Instant;

/// Wall-clock time running ahead of the monotonic clock by more than this between two inputs
/// means the device slept (monotonic clocks stop during suspend on several platforms).
pub const CLOCK_JUMP_MS: u64 = 10_000;

/// A change of the network, the page or the device that may have killed the socket or made it
/// worth trying again now. The shell reports these from `online`/`offline`, `visibilitychange`,
/// `pagehide`/`pageshow` and `freeze`/`resume`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// `navigator.onLine` became true.
    Online,
    /// `navigator.onLine` became false.
    Offline,
    /// The page became visible.
    Visible,
    /// The page became hidden.
    Hidden,
    /// `pageshow`; `persisted` when it came back from the back/forward cache.
    PageShow {
        /// Restored from the back/forward cache.
        persisted: bool,
    },
    /// `pagehide`; `persisted` when it goes into the back/forward cache.
    PageHide {
        /// Going into the back/forward cache.
        persisted: bool,
    },
    /// The browser froze the page.
    Freeze,
    /// The browser resumed a frozen page.
    Resume,
}

/// What the connection does about an [`Environment`] change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reaction {
    /// Stop using the network for now (leaving cleanly unless offline).
    Hold(HoldCause),
    /// A waiting client attempts soon.
    TrySoon(Code),
    /// Check that a live socket still works.
    Verify,
    /// Both: check the socket, then a waiting client attempts soon.
    VerifyThenTrySoon(Code),
    /// Nothing changes but what a waiting client waits for.
    Report,
    /// Nothing to do.
    Nothing,
}

/// Why the client holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HoldCause {
    Offline,
    PageHidden,
    PageFrozen,
}

impl HoldCause {
    pub fn failure(self) -> Failure {
        match self {
            HoldCause::Offline => Failure::Offline,
            HoldCause::PageHidden => Failure::PageHidden,
            HoldCause::PageFrozen => Failure::PageFrozen,
        }
    }

    /// A live socket is left with `0::` and its session ended, unless nothing can be sent.
    pub fn leaves_cleanly(self) -> bool {
        !matches!(self, HoldCause::Offline)
    }
}

/// The network, the page and the clocks as the client last heard of them.
#[derive(Debug, Default)]
pub(crate) struct Conditions {
    /// The browser says it is offline.
    offline: bool,
    /// The page is hidden.
    hidden: bool,
    /// The page is in the back/forward cache or frozen.
    suspended: bool,
    /// The last (monotonic, wall-clock) pair seen, for sleep detection.
    last_clock: Option<(Instant, u64)>,
}

impl Conditions {
    /// Records a change and says what it means.
    pub fn apply(&mut self, change: Environment) -> Reaction {
        match change {
            Environment::Offline if self.offline => Reaction::Nothing,
            Environment::Offline => {
                self.offline = true;
                Reaction::Hold(HoldCause::Offline)
            }
            Environment::Online if std::mem::replace(&mut self.offline, false) => {
                Reaction::TrySoon(Code::Online)
            }
            Environment::Online => Reaction::Verify,
            Environment::Hidden => {
                self.hidden = true;
                Reaction::Report
            }
            Environment::Visible if std::mem::replace(&mut self.hidden, false) => {
                Reaction::VerifyThenTrySoon(Code::Visible)
            }
            Environment::Visible => Reaction::Verify,
            Environment::PageHide { .. } => {
                self.suspended = true;
                Reaction::Hold(HoldCause::PageHidden)
            }
            Environment::Freeze => {
                self.suspended = true;
                Reaction::Hold(HoldCause::PageFrozen)
            }
            Environment::PageShow { persisted: false } => Reaction::Nothing,
            Environment::PageShow { persisted: true } | Environment::Resume
                if std::mem::replace(&mut self.suspended, false) =>
            {
                Reaction::TrySoon(Code::Resume)
            }
            Environment::PageShow { persisted: true } | Environment::Resume => Reaction::Verify,
        }
    }

    /// Records the clocks of an input; true when the wall clock ran ahead of the monotonic one
    /// by more than [`CLOCK_JUMP_MS`] since the previous input (the device slept).
    pub fn slept(&mut self, now: Instant, wall_ms: u64) -> bool {
        let Some((then, then_wall)) = self.last_clock.replace((now, wall_ms)) else {
            return false;
        };
        let wall_elapsed = wall_ms.saturating_sub(then_wall);
        wall_elapsed.saturating_sub(now.millis_since(then)) > CLOCK_JUMP_MS
    }

    /// What keeps a waiting client from attempting, if anything.
    pub fn blocked(&self, pause_when_hidden: bool) -> Option<WaitingFor> {
        if self.suspended {
            Some(WaitingFor::Resume)
        } else if self.offline {
            Some(WaitingFor::Online)
        } else if self.hidden && pause_when_hidden {
            Some(WaitingFor::Visible)
        } else {
            None
        }
    }
}

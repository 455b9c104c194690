//! Locking shared state.
//!
//! Its own module so that every module holding a mutex can use it without depending on the
//! crate root (which depends on them all).

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, recovering from poisoning (a panicked holder cannot leave these maps in a
/// state worse than stale).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

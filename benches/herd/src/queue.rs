//! A priority queue of deadlines in virtual milliseconds: the whole simulation is "pop the
//! earliest event, handle it, push what it causes".

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

struct Entry<E> {
    at: u64,
    /// Insertion order: events due at the same millisecond run first-in first-out, which keeps
    /// a run deterministic.
    seq: u64,
    client: u32,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Events of type `E` for numbered clients, earliest first.
pub struct Queue<E> {
    heap: BinaryHeap<Reverse<Entry<E>>>,
    seq: u64,
}

impl<E> Queue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Queue {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }

    /// Schedules `event` for `client` at virtual time `at` (ms).
    pub fn push(&mut self, at: u64, client: u32, event: E) {
        self.seq += 1;
        self.heap.push(Reverse(Entry {
            at,
            seq: self.seq,
            client,
            event,
        }));
    }

    /// The earliest event, if its time is at or before `until`.
    pub fn pop_until(&mut self, until: u64) -> Option<(u64, u32, E)> {
        if self.heap.peek()?.0.at > until {
            return None;
        }
        let Reverse(entry) = self.heap.pop()?;
        Some((entry.at, entry.client, entry.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_insertion_order() {
        let mut queue = Queue::new();
        queue.push(20, 1, "late");
        queue.push(10, 2, "first");
        queue.push(10, 3, "second");
        assert_eq!(queue.pop_until(5), None);
        assert_eq!(queue.pop_until(100), Some((10, 2, "first")));
        assert_eq!(queue.pop_until(100), Some((10, 3, "second")));
        assert_eq!(queue.pop_until(100), Some((20, 1, "late")));
        assert_eq!(queue.pop_until(100), None);
    }
}

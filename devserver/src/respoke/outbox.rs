//! A live socket's outgoing queue, bounded in packets and bytes, and its close signal.
//!
//! Producers (the routing hub, other sockets' requests, the dev controls, the socket's own
//! loop) never wait: [`SocketSender::push`] either queues a packet or, when the socket already
//! has [`crate::config::Limits::socket_queue_packets`] packets or
//! [`crate::config::Limits::socket_queue_bytes`] bytes waiting, refuses it and asks the socket
//! to close as a slow consumer. Closing is a separate signal ([`SocketSender::close`]), so a
//! full queue never keeps a `/dev/drop`, a session end or a heartbeat timeout from reaching
//! the socket.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, watch, Notify};

/// Why the server closes a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// `/dev/drop`, `/dev/outage` or the server shutting down.
    Dropped,
    /// `DELETE /v1/session-tokens` ended its session.
    SessionEnded,
    /// Its outgoing queue was full: it does not read fast enough.
    SlowConsumer,
}

impl CloseReason {
    /// For logs.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Dropped => "dropped by the server",
            CloseReason::SessionEnded => "session ended",
            CloseReason::SlowConsumer => "slow consumer: outgoing queue full",
        }
    }
}

/// One packet waiting to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// Packet text.
    Send(String),
    /// A `message` or `pubsub` event: counted in `messagesDelivered` once written.
    Deliver(String),
}

impl Outgoing {
    /// The packet text.
    pub fn text(&self) -> &str {
        match self {
            Outgoing::Send(text) | Outgoing::Deliver(text) => text,
        }
    }
}

/// Why [`SocketSender::push`] did not queue a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError {
    /// The queue is full; the socket was told to close as a slow consumer.
    Full,
    /// The socket is gone.
    Closed,
}

/// What one socket has waiting to be written, wherever it waits (the socket's inbox or its
/// writer's queue), against its bounds. Reserved when queued, released when written or
/// discarded.
#[derive(Debug)]
pub struct Budget {
    bytes: AtomicUsize,
    packets: AtomicUsize,
    byte_limit: usize,
    packet_limit: usize,
    /// Signalled whenever room is given back (see [`Budget::half_full`]).
    released: Notify,
}

impl Budget {
    /// A budget of `packets` packets and `bytes` bytes (a single packet bigger than `bytes`
    /// passes when nothing else waits).
    pub fn new(packets: usize, bytes: usize) -> Budget {
        Budget {
            bytes: AtomicUsize::new(0),
            packets: AtomicUsize::new(0),
            byte_limit: bytes.max(1),
            packet_limit: packets.max(1),
            released: Notify::new(),
        }
    }

    /// Whether half the budget or more is in use. The socket stops reading its client's
    /// requests then (their acks would add to the backlog) until [`Budget::released`]: a
    /// client that sends faster than it reads is slowed down by TCP, not disconnected.
    pub fn half_full(&self) -> bool {
        self.packets.load(Ordering::Acquire) >= self.packet_limit / 2
            || self.bytes.load(Ordering::Acquire) >= self.byte_limit / 2
    }

    /// Resolves after room was given back (at once if some was since the last call).
    pub async fn released(&self) {
        self.released.notified().await;
    }

    /// Reserves room for a packet of `size` bytes; false when that would exceed a bound.
    pub fn try_reserve(&self, size: usize) -> bool {
        let packets = self.packets.fetch_add(1, Ordering::AcqRel);
        let bytes = self.bytes.fetch_add(size, Ordering::AcqRel);
        let fits = packets < self.packet_limit
            && (bytes == 0 || bytes.saturating_add(size) <= self.byte_limit);
        if !fits {
            self.release(size);
        }
        fits
    }

    /// Gives back the room of a packet of `size` bytes.
    pub fn release(&self, size: usize) {
        self.packets.fetch_sub(1, Ordering::AcqRel);
        self.bytes.fetch_sub(size, Ordering::AcqRel);
        self.released.notify_one();
    }

    /// Bytes waiting now.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Acquire)
    }
}

/// The producing side of a socket's inbox (cheap to clone).
#[derive(Debug, Clone)]
pub struct SocketSender {
    queue: mpsc::UnboundedSender<Outgoing>,
    budget: Arc<Budget>,
    close: Arc<watch::Sender<Option<CloseReason>>>,
}

/// The consuming side, owned by the socket's task.
#[derive(Debug)]
pub struct SocketReceiver {
    /// Queued packets (bounded by [`SocketReceiver::budget`], not by the channel).
    pub queue: mpsc::UnboundedReceiver<Outgoing>,
    /// Close requests.
    pub close: watch::Receiver<Option<CloseReason>>,
    /// The bounds shared with the senders.
    pub budget: Arc<Budget>,
}

/// An inbox of at most `packets` packets and `bytes` bytes waiting.
pub fn socket_queue(packets: usize, bytes: usize) -> (SocketSender, SocketReceiver) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (close_tx, close_rx) = watch::channel(None);
    let budget = Arc::new(Budget::new(packets, bytes));
    (
        SocketSender {
            queue: tx,
            budget: budget.clone(),
            close: Arc::new(close_tx),
        },
        SocketReceiver {
            queue: rx,
            close: close_rx,
            budget,
        },
    )
}

impl SocketSender {
    /// Queues `packet`, or refuses it (and closes the socket as a slow consumer) when the
    /// socket already has its bound waiting. Never waits.
    pub fn push(&self, packet: Outgoing) -> Result<(), PushError> {
        if self.queue.is_closed() {
            return Err(PushError::Closed);
        }
        let size = packet.text().len();
        if !self.budget.try_reserve(size) {
            self.close(CloseReason::SlowConsumer);
            return Err(PushError::Full);
        }
        self.queue.send(packet).map_err(|_| {
            self.budget.release(size);
            PushError::Closed
        })
    }

    /// Asks the socket to close (the first reason wins).
    pub fn close(&self, reason: CloseReason) {
        self.close.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason);
                true
            } else {
                false
            }
        });
    }

    /// Bytes waiting now.
    pub fn queued_bytes(&self) -> usize {
        self.budget.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_in_packets_and_bytes_and_full_closes() {
        let (tx, mut rx) = socket_queue(3, 10);
        assert_eq!(tx.push(Outgoing::Send("12345".into())), Ok(()));
        assert_eq!(tx.push(Outgoing::Send("1234".into())), Ok(()));
        assert_eq!(tx.queued_bytes(), 9);
        assert_eq!(tx.push(Outgoing::Send("12".into())), Err(PushError::Full));
        assert_eq!(tx.queued_bytes(), 9, "a refused packet is not counted");
        assert_eq!(*rx.close.borrow(), Some(CloseReason::SlowConsumer));
        tx.close(CloseReason::Dropped);
        assert_eq!(
            *rx.close.borrow(),
            Some(CloseReason::SlowConsumer),
            "first wins"
        );
        let first = rx.queue.try_recv().unwrap();
        rx.budget.release(first.text().len());
        assert_eq!(tx.queued_bytes(), 4);
        assert_eq!(tx.push(Outgoing::Send("1".into())), Ok(()));
        assert_eq!(tx.push(Outgoing::Send("1".into())), Ok(()));
        assert_eq!(
            tx.push(Outgoing::Send("1".into())),
            Err(PushError::Full),
            "3 packets"
        );
        // A single packet larger than the budget passes when the queue is empty.
        let (tx, rx) = socket_queue(3, 10);
        assert_eq!(tx.push(Outgoing::Send("x".repeat(50))), Ok(()));
        drop(rx);
        assert_eq!(tx.push(Outgoing::Send("x".into())), Err(PushError::Closed));
    }
}

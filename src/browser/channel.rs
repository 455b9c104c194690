//! The driver's mailbox: an unbounded single-threaded channel (futures' `mpsc` needs std).
//!
//! Senders live in JS callbacks and the `Client` handle; the one receiver is the driver task.
//! Sending never runs the driver synchronously: it only wakes the task, which wasm-bindgen-futures
//! polls on a later microtask, so a listener that calls `client.disconnect()` from inside an
//! event borrows nothing twice. Once the receiver is gone, sends fail and queued inputs (which
//! may hold JS functions) are dropped.

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use core::cell::RefCell;
use core::future::poll_fn;
use core::task::{Poll, Waker};

struct Mailbox<T> {
    queue: VecDeque<T>,
    waker: Option<Waker>,
    closed: bool,
}

/// The sending side; cheap to clone.
pub struct Sender<T>(Rc<RefCell<Mailbox<T>>>);

/// The receiving side (one per channel).
pub struct Receiver<T>(Rc<RefCell<Mailbox<T>>>);

/// A new channel.
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    let mailbox = Rc::new(RefCell::new(Mailbox {
        queue: VecDeque::new(),
        waker: None,
        closed: false,
    }));
    (Sender(mailbox.clone()), Receiver(mailbox))
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender(self.0.clone())
    }
}

impl<T> Sender<T> {
    /// Queues `value`; gives it back if the receiver is gone.
    pub fn unbounded_send(&self, value: T) -> Result<(), T> {
        let waker = {
            let mut mailbox = self.0.borrow_mut();
            if mailbox.closed {
                return Err(value);
            }
            mailbox.queue.push_back(value);
            mailbox.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }
}

impl<T> Receiver<T> {
    /// The next value, waiting for one. Never ends: the driver holds a sender itself.
    pub async fn next(&mut self) -> T {
        poll_fn(|cx| {
            let mut mailbox = self.0.borrow_mut();
            match mailbox.queue.pop_front() {
                Some(value) => Poll::Ready(value),
                None => {
                    mailbox.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut mailbox = self.0.borrow_mut();
        mailbox.closed = true;
        mailbox.waker = None;
        // Taken out before dropping, so a value's Drop that sends again finds no borrow.
        let queued = core::mem::take(&mut mailbox.queue);
        drop(mailbox);
        drop(queued);
    }
}

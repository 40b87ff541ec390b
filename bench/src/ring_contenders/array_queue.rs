//! `crossbeam_queue::ArrayQueue`, plus a flag so the consumer can tell "empty" from "done".

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;

use super::{Idle, Poll, Receiver, Sender};

struct Shared {
    queue: ArrayQueue<u64>,
    /// Set when the sender is dropped; on its own line so the consumer's checks while the
    /// queue is empty share nothing the producer writes.
    closed: CachePadded<AtomicBool>,
}

pub(super) struct Tx(Arc<Shared>);
pub(super) struct Rx(Arc<Shared>);

pub(super) fn pair(capacity: usize) -> (Tx, Rx) {
    let shared = Arc::new(Shared {
        queue: ArrayQueue::new(capacity),
        closed: CachePadded::new(AtomicBool::new(false)),
    });
    (Tx(Arc::clone(&shared)), Rx(shared))
}

impl Sender for Tx {
    #[inline(always)]
    fn send(&mut self, v: u64, idle: &mut Idle) {
        while self.0.queue.push(v).is_err() {
            idle.idle();
        }
        idle.reset();
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        // Release: a consumer that sees `closed` sees every value pushed before it.
        self.0.closed.store(true, Ordering::Release);
    }
}

impl Receiver for Rx {
    #[inline(always)]
    fn try_drain(&mut self, max: usize, mut f: impl FnMut(u64)) -> Poll {
        let mut n = 0;
        while n < max {
            let Some(v) = self.0.queue.pop() else { break };
            f(v);
            n += 1;
        }
        if n > 0 {
            return Poll::Ready(n);
        }
        if !self.0.closed.load(Ordering::Acquire) {
            return Poll::Empty;
        }
        // Closed: whatever was pushed before closing is visible now.
        match self.0.queue.pop() {
            Some(v) => {
                f(v);
                Poll::Ready(1)
            }
            None => Poll::Closed,
        }
    }
}

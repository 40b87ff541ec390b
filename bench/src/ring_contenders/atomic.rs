//! The floor: one `CachePadded<AtomicU64>` per direction, a value stored and spun on.
//!
//! It holds one value, so it is only correct when sends strictly alternate with receives, as
//! in ping-pong. Values are never 0 (the initial state) or [`CLOSED`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_utils::CachePadded;

use super::{Idle, Poll, Receiver, Sender};

/// Stored by a dropped sender.
const CLOSED: u64 = u64::MAX;

pub(super) struct Tx(Arc<CachePadded<AtomicU64>>);
pub(super) struct Rx {
    flag: Arc<CachePadded<AtomicU64>>,
    last: u64,
}

pub(super) fn pair() -> (Tx, Rx) {
    let flag = Arc::new(CachePadded::new(AtomicU64::new(0)));
    (Tx(Arc::clone(&flag)), Rx { flag, last: 0 })
}

impl Sender for Tx {
    /// Release: pairs with the receiver's Acquire (there is no payload besides the value, but
    /// a real hand-off would have one).
    #[inline(always)]
    fn send(&mut self, v: u64, _idle: &mut Idle) {
        debug_assert!(v != 0 && v != CLOSED);
        self.0.store(v, Ordering::Release);
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        self.0.store(CLOSED, Ordering::Release);
    }
}

impl Receiver for Rx {
    #[inline(always)]
    fn try_drain(&mut self, _max: usize, mut f: impl FnMut(u64)) -> Poll {
        let v = self.flag.load(Ordering::Acquire);
        if v == self.last {
            Poll::Empty
        } else if v == CLOSED {
            Poll::Closed
        } else {
            self.last = v;
            f(v);
            Poll::Ready(1)
        }
    }
}
